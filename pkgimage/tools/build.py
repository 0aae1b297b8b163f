"""``pkgimage build MODULE...``: build images in dependency order, in parallel, each in a fresh
process, with live progress and a summary table.

The plan (``deps.plan``) adds the modules' pkgimage dependencies and orders them.  A module
starts when every module it waits for is done; up to ``-j`` builds run at once (default: the
number of cores), each as ``python -m pkgimage build --in-process MODULE`` in a fresh process
(whose build runs under the image's build lock, so concurrent ``pkgimage build``s and
auto-builds of the same image build it once).  An image is *up to date*, and skipped unless
``--force``, when its header's runtime versions, CPU, source hashes and dependency build ids
all match (``image.lock.stale_reason``).  A failed module blocks the modules that depend on it.

Progress: a ``rich`` live table when stdout is a terminal, plain lines otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

from ..image import format as F
from ..image.lock import image_of, stale_reason
from ..build.child import command as child_command
from ..build.child import read_result
from . import ToolError, child_env, human_size
from .deps import plan

WAITING, BUILDING, BUILT, FRESH, FAILED, BLOCKED = (
    "waiting", "building", "built", "up to date", "failed", "blocked")
DONE_OK = (BUILT, FRESH)


class Job:
    def __init__(self, name, deps):
        self.name = name
        self.deps = deps
        self.src, self.path = image_of(name)
        self.status = WAITING
        self.reason = None        # why it was (re)built, or why it failed / was blocked
        self.start = self.end = None
        self.proc = None
        self.out = self.err = None
        self.stderr = ""
        self.result = None           # the file the build child writes its result to
        self.returncode = None
        self.error = None            # the failure the child reported (its result)
        self.size = self.instances = None
        self.warnings = False

    @property
    def elapsed(self):
        if self.start is None:
            return None
        return (self.end or time.monotonic()) - self.start

    def read_image_info(self):
        try:
            h = F.read_header(self.path)
            self.instances = h.get("counts", {}).get("instances")
            self.size = os.path.getsize(self.path)
        except Exception:
            pass

    def as_dict(self):
        return {"module": self.name, "status": self.status, "reason": self.reason,
                "time": None if self.elapsed is None else round(self.elapsed, 3),
                "image": self.path, "size": self.size, "instances": self.instances}


def _result_of(job):
    """The structured result the build child wrote (``build/child.py``)."""
    return read_result(job.result)


class Display:
    """Plain lines (``rich=False``) or a rich live table of the jobs."""

    def __init__(self, jobs, use_rich, quiet):
        self.jobs = jobs
        self.quiet = quiet
        self.use_rich = use_rich and not quiet
        self.live = None
        self.n = len(jobs)
        self.done = 0

    def __enter__(self):
        if self.use_rich:
            from rich.live import Live
            self.live = Live(self._table(), refresh_per_second=8, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)

    def _table(self):
        from rich.spinner import Spinner
        from rich.table import Table
        t = Table(title=f"pkgimage build: {self.done}/{self.n} done", title_justify="left",
                  box=None, pad_edge=False)
        t.add_column("module")
        t.add_column("state")
        t.add_column("time", justify="right")
        styles = {BUILT: "green", FRESH: "dim", FAILED: "bold red", BLOCKED: "red",
                  WAITING: "dim", BUILDING: "yellow"}
        for j in self.jobs:
            el = j.elapsed
            state = Spinner("dots", text=BUILDING, style="yellow") if j.status == BUILDING \
                else f"[{styles[j.status]}]{j.status}[/]"
            t.add_row(j.name, state, "" if el is None else f"{el:.1f}s")
        return t

    def refresh(self):
        if self.live is not None:
            self.live.update(self._table())

    def event(self, job):
        if job.status not in (WAITING, BUILDING):
            self.done += 1
        if self.quiet or self.use_rich:
            self.refresh()
            return
        prefix = f"[{self.done}/{self.n}]"
        if job.status == BUILDING:
            print(f"{prefix} building {job.name}" + (f" ({job.reason})" if job.reason else ""),
                  flush=True)
        elif job.status == BUILT:
            print(f"{prefix} built {job.name} in {job.elapsed:.2f}s "
                  f"({job.instances} instances, {human_size(job.size)})", flush=True)
        elif job.status == FRESH:
            print(f"{prefix} up to date: {job.name}", flush=True)
        elif job.status == FAILED:
            print(f"{prefix} FAILED {job.name} after {job.elapsed:.2f}s", flush=True)
        elif job.status == BLOCKED:
            print(f"{prefix} skipped {job.name}: {job.reason}", flush=True)


def condense(text):
    """A build child's stderr without Python tracebacks (each becomes its innermost frame and
    its exception line); ``--debug`` shows them whole."""
    out, lines, i = [], text.rstrip().splitlines(), 0
    while i < len(lines):
        ln = lines[i]
        if ln.strip() == "Traceback (most recent call last):":
            indent = len(ln) - len(ln.lstrip())
            frame = None
            i += 1
            while i < len(lines) and (len(lines[i]) - len(lines[i].lstrip()) > indent
                                      or not lines[i].strip()):
                if lines[i].strip().startswith('File "'):
                    frame = lines[i].strip()
                i += 1
            if frame:
                out.append(" " * indent + "  (at " + frame + ")")
            continue
        out.append(ln)
        i += 1
    return "\n".join(out)


def summary(jobs, use_rich, file=None):
    file = file or sys.stdout
    rows = []
    for j in jobs:
        status = j.status + (" (workload errors)" if j.warnings else "")
        rows.append((j.name, status, "-" if j.elapsed is None else f"{j.elapsed:.2f}s",
                     human_size(j.size), "-" if j.instances is None else str(j.instances)))
    head = ("module", "status", "time", "image", "instances")
    if use_rich:
        from rich.console import Console
        from rich.table import Table
        t = Table(title="pkgimage build", title_justify="left")
        for i, h in enumerate(head):
            t.add_column(h, justify="right" if i >= 2 else "left")
        for r in rows:
            t.add_row(*r)
        Console(file=file).print(t)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for r in [head] + rows:
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in
                 enumerate(zip(r, widths))]
        print("  ".join(cells).rstrip(), file=file)


def build(modules, jobs=None, force=False, quiet=False, allow_workload_errors=False,
          workload_timeout=None, workload_file=None, use_rich=None, debug=False,
          executor=None):
    """Build ``modules`` and their dependencies; returns (exit status, [Job]).

    ``force``: True rebuilds every module of the plan, a set of names only those;
    ``workload_file``: a list of workload files every build child executes;
    ``executor``: a ``distributed.Client`` to build on its cluster (``cluster.py``)."""
    if executor is not None:
        from .cluster import build_on_cluster
        return build_on_cluster(modules, executor, force=force, quiet=quiet,
                                use_rich=use_rich, debug=debug)
    order, graph = plan(modules)
    if jobs is None or jobs < 1:
        jobs = os.cpu_count() or 1
    if use_rich is None:
        use_rich = sys.stdout.isatty()
    if isinstance(workload_file, str):
        workload_file = [workload_file]
    for wf in workload_file or ():
        if not os.path.isfile(wf):
            raise ToolError(f"workload file {wf} not found")
    forced_why = "--force"
    if workload_file and not force:
        # The workload file adds code to the images of the modules named: an up-to-date
        # image does not hold it yet, so those are built again.
        from .deps import unit_of
        force, forced_why = {unit_of(m) or m for m in modules}, "--workload-file"
    all_jobs = [Job(m, graph[m]) for m in order]
    by_name = {j.name: j for j in all_jobs}
    env = child_env()
    tmp = tempfile.mkdtemp(prefix="pkgimage-build-")
    running = []
    try:
        with Display(all_jobs, use_rich, quiet) as disp:
            while True:
                changed = True
                while changed:
                    changed = False
                    for j in all_jobs:
                        if j.status != WAITING:
                            continue
                        deps = [by_name[d] for d in sorted(j.deps)]
                        bad = [d.name for d in deps if d.status in (FAILED, BLOCKED)]
                        if bad:
                            j.status, j.reason = BLOCKED, f"dependency {bad[0]} failed"
                            disp.event(j)
                            changed = True
                            continue
                        if not all(d.status in DONE_OK for d in deps):
                            continue
                        forced = force is True or (force and j.name in force)
                        why = forced_why if forced else stale_reason(j.name, j.path)
                        if why is None:
                            j.status = FRESH
                            j.read_image_info()
                            disp.event(j)
                            changed = True
                            continue
                        if len(running) >= jobs:
                            continue
                        j.reason = why
                        j.out = open(os.path.join(tmp, f"{j.name}.out"), "w+")
                        j.err = open(os.path.join(tmp, f"{j.name}.err"), "w+")
                        j.start = time.monotonic()
                        j.result = os.path.join(tmp, f"{j.name}.result.json")
                        j.proc = subprocess.Popen(
                            child_command(j.name, allow_workload_errors, workload_timeout,
                                          workload_file),
                            env=dict(env, PKGIMAGE_BUILD_RESULT=j.result), stdout=j.out,
                            stderr=j.err, stdin=subprocess.DEVNULL, start_new_session=True)
                        j.status = BUILDING
                        running.append(j)
                        disp.event(j)
                        changed = True
                if not running:
                    break
                time.sleep(0.05)
                for j in list(running):
                    rc = j.proc.poll()
                    if rc is None:
                        continue
                    j.end = time.monotonic()
                    j.returncode = rc
                    running.remove(j)
                    j.err.seek(0)
                    j.stderr = j.err.read()
                    j.out.seek(0)
                    printed = j.out.read()
                    if printed:
                        # What the module printed while it was built (its top level, its
                        # workloads) is the user's output: pass it on, as one block.
                        sys.stdout.write(printed if printed.endswith("\n") else printed + "\n")
                        sys.stdout.flush()
                    j.out.close()
                    j.err.close()
                    outcome = _result_of(j)
                    if rc == 0 and not outcome:
                        # Exit status 0 without the child's result: something ended the
                        # process early (a workload's os._exit, in the in-process sandbox).
                        rc = j.returncode = 1
                        j.stderr += (f"pkgimage: building {j.name} failed: the build process "
                                     f"exited before writing the image (did a workload call "
                                     f"os._exit or sys.exit in the in-process sandbox?)\n")
                    if rc == 0:
                        j.status = BUILT
                        j.warnings = outcome.get("workload_failures", 0) > 0
                        j.read_image_info()
                    else:
                        j.status = FAILED
                        j.error = outcome.get("error")
                        lines = [ln for ln in j.stderr.strip().splitlines() if ln.strip()]
                        j.reason = j.error or (lines[-1] if lines else f"exit status {rc}")
                    disp.event(j)
                disp.refresh()
    except KeyboardInterrupt:
        for j in running:
            try:
                os.killpg(j.proc.pid, signal.SIGTERM)
            except OSError:
                pass
        for j in running:              # let each builder clean up (its sandbox, its files)
            try:
                j.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(j.proc.pid, signal.SIGKILL)
        raise
    finally:
        for j in all_jobs:
            for f in (j.out, j.err):
                if f is not None and not f.closed:
                    f.close()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [j for j in all_jobs if j.status in (FAILED, BLOCKED)]
    if not quiet:
        summary(all_jobs, use_rich)
    for j in all_jobs:
        if j.status == FAILED:
            # The child's own output first (what the module printed), then its error, once.
            text = j.stderr.rstrip() if debug else condense(j.stderr)
            lines = text.splitlines()
            if len(lines) > 60:
                text = "\n".join(["  ..."] + lines[-60:])
            if text.strip():
                print(text, file=sys.stderr)
            print(f"pkgimage: building {j.name} failed: "
                  f"{j.error or f'exit status {j.returncode}'}", file=sys.stderr)
        elif j.stderr.strip():
            # A built module's stderr: its own output, the workloads' code left out or not
            # kept (and why).  It is the user's to see, quiet or not.
            print(j.stderr.rstrip(), file=sys.stderr)
    return (1 if failed else 0), all_jobs

"""``pkgimage build --executor dask://SCHEDULER`` and ``pkgimage build --shard I/N``: builds
spread over machines that share only the store tiers.

**Dask.**  The plan (``deps.plan``) becomes a graph of tasks, one per module, each depending
on its dependencies' tasks, all submitted at once, so Dask runs them in dependency order on
any free worker with no round trip to the client between a module and the next.  A task runs
what a local ``-j`` build runs in a child process -- one module's build in a process of its
own -- in the worker's own cache folder (its ``PKGIMAGE_CACHE``, else a folder in the
worker's local directory), with the client's store tiers: the build's import hook fetches
the dependencies' images from the store, and the task publishes the new image (blobs, then
the signed index entry).  That process is forked from the worker's build server
(:class:`BuildServer`), which has pkgimage and the compiler imported: a fresh interpreter
per task spent more on starting, importing and exiting than many modules take to build.  A
module whose image is already in the store is fetched, not built ("up to date").  The client
shows the same progress as ``-j`` and fetches each image into its own cache folder as soon
as its task is done.  Before anything runs, every worker's runtime key (Python, llvmlite,
pkgimage, image format, machine, CPU and features) is compared with the client's; a worker
that differs is refused (one line saying what differs) and gets no task -- its images would
never load here.

**Shards.**  ``--shard I/N`` builds the modules of the plan whose position is I modulo N
and publishes them; every other module is fetched from the store, waiting (up to
``--shard-timeout``) for the shard that builds it, and built here when it does not come.
The N jobs coordinate only through the store: create-if-absent keeps the first of two
publishers of one image.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from ..settings import settings
from . import ToolError, child_env
from .build import (BLOCKED, BUILDING, BUILT, FAILED, FRESH, WAITING, Display, Job,
                    condense, summary)

FETCHED = FRESH                  # shown as "up to date": the store had it


class ClusterJob(Job):
    """A module of a cluster build: a local build's job, with how long the task spent
    fetching, building, publishing and in its process (seconds, from the worker)."""

    def __init__(self, name, deps):
        super().__init__(name, deps)
        self.phases = {}
        self.stamps = {}             # wall-clock times: submitted, task start .. received
        self.process = None          # "fork" (from the worker's build server) or "spawn"


# -- the worker side --------------------------------------------------------------------------

def worker_key():
    """What must match between client and worker (runs on each worker)."""
    from ..image import format as F
    from ..image.cache import host_cpu
    cpu, features = host_cpu()
    return dict(F.runtime_key(), cpu=cpu, features=features)


def _worker_cache():
    if settings.cache:
        return settings.cache
    try:
        from distributed import get_worker
        return os.path.join(get_worker().local_directory, "pkgimage-cache")
    except (ImportError, ValueError):
        from ..image.cache import cache_dir
        return cache_dir()


def build_task(name, env, force, image_name, *dep_results):
    """Build (or fetch) one module's image on a worker and publish it, in a process of its
    own (as a local ``-j`` build runs each module); a result dict.

    The process is forked from the worker's build server (:class:`BuildServer`), which has
    pkgimage, llvmlite and the compiler imported already; without a server (no ``fork``,
    or it cannot start), a fresh ``python -m pkgimage.tools.cluster`` as before."""
    import json
    import tempfile
    t0 = time.monotonic()
    stamps = {"task": time.time()}
    bad = [r["module"] for r in dep_results if r["status"] not in (BUILT, FRESH)]
    if bad:
        return {"module": name, "status": BLOCKED, "reason": f"dependency {bad[0]} failed",
                "time": 0.0, "stderr": "", "stdout": "", "stamps": stamps}
    cache = _worker_cache()
    _record_host_cpu(cache)
    env = dict(env, PKGIMAGE_CACHE=cache)
    argv = [name] + (["--force"] if force else [])
    tmp = tempfile.mkdtemp(prefix="pkgimage-task-")
    result = os.path.join(tmp, "result.json")
    how = "fork"
    try:
        t_proc = time.monotonic()
        stamps["spawn"] = time.time()
        server = BuildServer.of(env)
        rc = None if server is None else server.run(argv, dict(env, PKGIMAGE_BUILD_RESULT=result),
                                                    os.path.join(tmp, "out"),
                                                    os.path.join(tmp, "err"))
        if rc is None:                  # no server (or it died before the fork): a process
            how = "spawn"
            with open(os.path.join(tmp, "out"), "w") as o, \
                    open(os.path.join(tmp, "err"), "w") as e:
                rc = subprocess.run([sys.executable, "-m", "pkgimage.tools.cluster"] + argv,
                                    env=dict(env, PKGIMAGE_BUILD_RESULT=result), stdout=o,
                                    stderr=e, stdin=subprocess.DEVNULL).returncode
        stamps["exited"] = time.time()
        stdout, stderr = (_read_text(os.path.join(tmp, f)) for f in ("out", "err"))
        try:
            with open(result) as f:
                r = json.load(f)
        except (OSError, ValueError):
            r = {}
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"module": name, "status": r.get("cluster_status", FAILED), "reason": r.get("reason"),
           "stderr": stderr, "stdout": stdout, "time": time.monotonic() - t0, "process": how,
           "phases": dict(r.get("phases", {}), process=time.monotonic() - t_proc),
           "stamps": dict(stamps, **r.get("stamps", {}))}
    if rc != 0 or out["status"] == FAILED:
        lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        out["status"] = FAILED
        if rc is not None and rc < 0:
            import signal
            try:
                sig = signal.Signals(-rc).name
            except ValueError:
                sig = str(-rc)
            out["reason"] = (f"the build process of {name} died from signal {sig} on worker "
                             f"{_worker_address()}")
        else:
            out["reason"] = out["reason"] or (lines[-1] if lines else f"exit status {rc}")
    else:
        from ..image import format as F
        try:
            path = os.path.join(cache, image_name)
            out["instances"] = F.read_header(path).get("counts", {}).get("instances")
            out["size"] = os.path.getsize(path)
        except Exception:
            pass
    out["stamps"]["end"] = time.time()
    return out


def _record_host_cpu(cache):
    """Make sure the task's cache folder knows this machine's CPU before the build process
    looks its image up in the store (the key names the CPU).  Otherwise that lookup learns
    it through llvmlite's binding, imported then in the build process before the module
    closes -- and an image records the installed packages loaded at its close, so the
    first module built in an empty worker cache differed from a local build's image.  Here
    it is learnt in the worker's own process (``worker_key`` did already, in the worker's
    default cache folder) and the record copied."""
    from ..image.cache import cache_dir, host_cpu, host_record_name
    name = host_record_name()
    if os.path.exists(os.path.join(cache, name)):
        return
    host_cpu()
    try:
        with open(os.path.join(cache_dir(), name), "rb") as f:
            data = f.read()
        from ..image.format import atomic_write
        os.makedirs(cache, exist_ok=True)
        atomic_write(os.path.join(cache, name), data)
    except OSError:
        pass


def _read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _worker_address():
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "(not a Dask worker)"


# -- the worker's build server ----------------------------------------------------------------

# What the server imports once, so that a forked build starts with it: pkgimage's own modules
# that a build uses, and the standard library modules they import -- nothing else.  An image
# records the source files of the installed packages loaded when its module closes
# (``image.writer.image_sources``), so preloading, say, llvmlite's binding or NumPy, which a
# fresh build imports only when it first compiles, would record them in the images of
# modules that compile nothing before their close and make those images differ from a local
# build's (a test compares them byte for byte).  The compiler's code generator and NumPy are
# therefore imported by the child when it needs them, as in a fresh process.
_PRELOAD = ("pkgimage", "pkgimage.build", "pkgimage.build.sandbox", "pkgimage.image.lock",
            "pkgimage.image.loader", "pkgimage.image.writer", "pkgimage.compiler.inference",
            "pkgimage.compiler.frontend", "pkgimage.store.tiers", "pkgimage.store.signing",
            "pkgimage.tools.cluster")


class BuildServer:
    """A process per worker (and per build environment) that forks one child per task.

    Why: a task used to start ``python -m pkgimage.tools.cluster``, paying the interpreter's
    start, about a second of imports and the interpreter's exit for every module -- on the
    critical path of each task.  The server imports all of that once and forks a child per
    task, the way multiprocessing's forkserver does, so each module is still built in a
    process of its own, isolated as in a local ``-j`` build: the server never imports or
    runs a user's module, and a child's changes (module state, ``os.environ``, a crash) die
    with the child.  Why a separate process and not a fork of the worker: the Dask worker
    runs threads (its event loop, the task thread), which a fork would leave in an undefined
    state; the server is single-threaded.

    The server is started with the task's environment (the client's, with the worker's cache
    folder) and only serves tasks with exactly that environment (``of``): what ``import
    pkgimage`` sets up from the environment is then what a fresh process would have.  The
    protocol is JSON lines: requests on the server's stdin, ``{"id", "pid", "status"}`` on
    its stdout when a child ends.  The server exits when its stdin closes (the worker
    ended)."""

    _servers = {}                    # environment's hash -> server, least recently used first
    _lock = threading.Lock()
    KEEP = 3                         # servers a worker keeps (builds from several clients)

    @classmethod
    def of(cls, env):
        """The running server for ``env`` (started now if needed), or None without fork."""
        import hashlib
        if not hasattr(os, "fork") or sys.platform == "win32":
            return None
        key = hashlib.sha256(repr(sorted(env.items())).encode()).hexdigest()
        with cls._lock:
            s = cls._servers.pop(key, None)
            if s is None or not s.alive():
                try:
                    s = cls(env)
                except OSError:
                    return None
            cls._servers[key] = s
            while len(cls._servers) > cls.KEEP:
                # (closing only ends its input: it exits once its running builds end)
                cls._servers.pop(next(iter(cls._servers))).close()
            return s

    def __init__(self, env):
        import itertools
        import threading
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pkgimage.tools.cluster", "--serve"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.ids = itertools.count()
        self.waiting = {}                    # id -> [threading.Event, exit status]
        self.wlock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True,
                                       name="pkgimage-build-server")
        self.reader.start()

    def alive(self):
        return self.proc.poll() is None

    def _read(self):
        import json
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            w = self.waiting.pop(msg.get("id"), None)
            if w is not None:
                w[1] = msg.get("status")
                w[0].set()
        for w in list(self.waiting.values()):    # the server ended: nobody will answer
            w[0].set()
        self.waiting.clear()

    def run(self, argv, env, stdout, stderr):
        """Run ``worker_main(argv)`` in a child forked from the server, with ``env`` as its
        environment and its output in the files ``stdout`` and ``stderr``; its exit status
        (negative: killed by that signal), or None when the server could not run it."""
        import json
        import threading
        i = next(self.ids)
        w = self.waiting[i] = [threading.Event(), None]
        req = json.dumps({"id": i, "argv": argv, "env": env, "cwd": os.getcwd(),
                          "stdout": stdout, "stderr": stderr}) + "\n"
        try:
            with self.wlock:
                self.proc.stdin.write(req.encode())
                self.proc.stdin.flush()
        except (OSError, ValueError):
            self.waiting.pop(i, None)
            return None
        w[0].wait()
        return w[1]

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass


def serve():
    """The build server's loop (``python -m pkgimage.tools.cluster --serve``)."""
    import importlib
    import json
    import select
    for m in _PRELOAD:
        importlib.import_module(m)
    inp, out = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout.flush()
    children = {}                            # pid -> request id
    buf = b""
    eof = False
    while not eof or children:
        if not eof:
            ready, _, _ = select.select([inp], [], [], 0.02 if children else 1.0)
            if ready:
                chunk = os.read(inp, 65536)
                eof = not chunk
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    req = json.loads(line)
                    pid = os.fork()
                    if pid == 0:
                        _child(req)                  # never returns
                    children[pid] = req["id"]
        else:
            time.sleep(0.02)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            rid = children.pop(pid, None)
            if rid is not None:
                msg = json.dumps({"id": rid, "pid": pid,
                                  "status": os.waitstatus_to_exitcode(status)}) + "\n"
                try:
                    os.write(out, msg.encode())
                except OSError:
                    pass
    return 0


def _child(req):
    """In the forked child: the task's environment, folder and output files, then the task;
    ``os._exit`` (the server's state is not this child's to tear down)."""
    rc = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        os.setsid()
        os.environ.clear()
        os.environ.update(req["env"])
        os.chdir(req["cwd"])
        rc = worker_main(req["argv"])
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
        rc = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(rc if isinstance(rc, int) else 1)


def worker_main(argv):
    """``python -m pkgimage.tools.cluster MODULE [--force]`` (what a task runs): fetch the
    image from the store, else build it here (dependencies come from the store through the
    import hook) and publish it.  The outcome goes to ``PKGIMAGE_BUILD_RESULT``."""
    import json
    from ..build import main_build_one
    from ..image.format import atomic_write
    from ..store.tiers import Tiers
    stamps = {"main": time.time()}
    name, force = argv[0], "--force" in argv[1:]
    result = settings.build_result
    t0 = time.monotonic()
    tiers = Tiers()
    stamps["tiers"] = time.time()

    phases = {}

    def done(status, reason=None, rc=0):
        stamps["done"] = time.time()
        atomic_write(result, json.dumps({"cluster_status": status, "reason": reason,
                                         "phases": phases, "stamps": stamps}).encode())
        return rc
    if not force:
        got = tiers.fetch(name)
        phases["fetch"] = time.monotonic() - t0
        stamps["fetched"] = time.time()
        if got is not None:
            return done(FRESH)
    t1 = time.monotonic()
    settings.set(build_result=result + ".build")
    try:
        rc = main_build_one(name, quiet=True)
    finally:
        settings.set(build_result=result)
        try:
            os.unlink(result + ".build")
        except OSError:
            pass
    phases["build"] = time.monotonic() - t1
    stamps["built"] = time.time()
    if rc != 0:
        return done(FAILED, rc=rc)
    t2 = time.monotonic()
    try:
        # (its dependencies were published by their own tasks, which this one waited for)
        tiers.publish(name, build_seconds=t2 - t0, with_deps=False, just_built=True)
    except Exception as e:
        return done(FAILED, f"built, but publishing failed: {e}", rc=1)
    phases["publish"] = time.monotonic() - t2
    return done(BUILT)


# -- the client side --------------------------------------------------------------------------

def _check_store(tiers):
    if not tiers.writable():
        raise ToolError("a distributed build needs a store the workers publish to and "
                        "fetch from: mark one tier writable (PKGIMAGE_REMOTE=URL#rw)")


def _compatible_workers(client, say):
    """Addresses of the workers whose key matches this process's; refuses the others."""
    mine = worker_key()
    keys = client.run(worker_key)
    ok = []
    for addr, key in sorted(keys.items()):
        diff = [k for k in sorted(set(key) | set(mine)) if key.get(k) != mine.get(k)]
        if diff:
            parts = "; ".join(
                f"{k} {str(key.get(k))[:40]} (here {str(mine.get(k))[:40]})" for k in diff)
            say(f"pkgimage: refusing worker {addr}: its images would not load here: {parts}")
        else:
            ok.append(addr)
    if not ok:
        raise ToolError("no worker of the cluster matches this machine's Python, llvmlite, "
                        "pkgimage and CPU (see the lines above)")
    return ok


def build_on_cluster(modules, client, force=False, quiet=False, use_rich=None, debug=False,
                     say=None):
    """Build ``modules`` (and dependencies) on the Dask cluster of ``client`` (a
    ``distributed.Client``); returns (exit status, [Job]) as ``tools.build.build``."""
    from distributed import as_completed
    from ..store.tiers import Tiers
    from .deps import plan
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    tiers = Tiers()
    _check_store(tiers)
    order, graph = plan(modules)
    workers = _compatible_workers(client, say)
    if use_rich is None:
        use_rich = sys.stdout.isatty()
    env = child_env()
    env.pop("PKGIMAGE_CACHE", None)
    # Each worker's build server imports pkgimage and the compiler while the tasks are being
    # submitted, not on the first task's critical path (started, not waited for).
    client.run(start_build_server, env, workers=workers, on_error="ignore")
    jobs = [ClusterJob(m, graph[m]) for m in order]
    by_name = {j.name: j for j in jobs}
    futures = {}
    submitted = time.time()
    for j in jobs:
        deps = [futures[d] for d in sorted(j.deps)]
        forced = force is True or (force and j.name in force)
        futures[j.name] = client.submit(build_task, j.name, env, bool(forced),
                                        os.path.basename(j.path), *deps,
                                        workers=workers, pure=False,
                                        key=f"pkgimage-build-{j.name}-{os.getpid()}-"
                                            f"{time.monotonic_ns()}")
    names = {f.key: n for n, f in futures.items()}
    with Display(jobs, use_rich, quiet) as disp:
        def started():
            for j in jobs:
                if j.status == WAITING and all(by_name[d].status not in (WAITING, BUILDING)
                                               for d in j.deps):
                    j.status, j.start = BUILDING, time.monotonic()
                    disp.event(j)
        started()
        for fut in as_completed(list(futures.values())):
            j = by_name[names[fut.key]]
            try:
                r = fut.result()
            except Exception as e:
                r = {"status": FAILED, "reason": f"{type(e).__name__}: {e}", "stderr":
                     f"{type(e).__name__}: {e}\n", "stdout": "", "time": 0.0}
            j.status, j.reason, j.stderr = r["status"], r["reason"], r.get("stderr", "")
            j.size, j.instances = r.get("size"), r.get("instances")
            j.phases = r.get("phases", {})
            j.stamps = dict(r.get("stamps", {}), submitted=submitted, received=time.time())
            j.process = r.get("process")
            j.start = j.start or time.monotonic()
            j.end = j.start + r.get("time", 0.0)
            if r.get("stdout"):
                sys.stdout.write(r["stdout"])
            # The image into this machine's cache folder too, as after a local build: now,
            # while the workers build the rest, not all at the end (its dependencies came
            # first: a task ends after theirs).
            if j.status in (BUILT, FRESH):
                _fetch_here(tiers, j)
            j.stamps["fetched_here"] = time.time()
            disp.event(j)
            started()
            disp.refresh()
    t_done = time.time()
    if settings.build_trace:
        # Where the time went (``workloads/bench_store.py``): wall-clock stamps of the
        # client and of each task, from the worker and from inside its build process.
        import json
        with open(settings.build_trace, "w") as f:
            json.dump({"client": {"submitted": submitted, "done": t_done},
                       "jobs": {j.name: dict(j.stamps, process=j.process) for j in jobs}}, f)
    return _finish(jobs, quiet, use_rich, debug)


def _fetch_here(tiers, job):
    from ..image.lock import stale_reason
    if tiers.fetch(job.name) is None and stale_reason(job.name, job.path) is not None:
        job.status, job.reason = FAILED, "built on the cluster, but not fetched here"
    job.read_image_info()


def start_build_server(env):
    """On a worker (``client.run``): start its build server for ``env`` if none runs."""
    BuildServer.of(dict(env, PKGIMAGE_CACHE=_worker_cache()))


def _finish(jobs, quiet, use_rich, debug):
    if not quiet:
        summary(jobs, use_rich)
    for j in jobs:
        if j.status == FAILED:
            print(f"pkgimage: building {j.name} failed: {j.reason}", file=sys.stderr)
            if j.stderr.strip():
                print(j.stderr.rstrip() if debug else condense(j.stderr), file=sys.stderr)
    return (1 if any(j.status in (FAILED, BLOCKED) for j in jobs) else 0), jobs


def parse_shard(text):
    try:
        i, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ToolError(f"--shard {text!r}: expected I/N, e.g. 1/4") from None
    if not 1 <= i <= n:
        raise ToolError(f"--shard {text!r}: I must be between 1 and N")
    return i, n


def build_shard(modules, shard, timeout=600.0, force=False, quiet=False, jobs=None,
                poll=0.5, say=None):
    """Build this shard's share of the plan of ``modules``; (exit status, [Job])."""
    from ..image.lock import stale_reason
    from ..store.tiers import Tiers
    from .build import build
    from .deps import plan
    say = say or (lambda m: print(m, flush=True))
    i, n = parse_shard(shard) if isinstance(shard, str) else shard
    tiers = Tiers()
    _check_store(tiers)
    order, graph = plan(modules)
    done = []
    status = 0
    for pos, m in enumerate(order):
        job = Job(m, graph[m])
        job.start = time.monotonic()
        mine = pos % n == i - 1
        if not force and stale_reason(m, job.path) is None:
            job.status = FRESH
        elif not force and tiers.fetch(m) is not None:
            job.status = FETCHED
            say(f"[shard {i}/{n}] fetched {m}")
        elif not mine:
            say(f"[shard {i}/{n}] waiting for {m} (shard {pos % n + 1}/{n} builds it)")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                time.sleep(poll)
                if tiers.fetch(m) is not None:
                    job.status = FETCHED
                    say(f"[shard {i}/{n}] fetched {m}")
                    break
            else:
                say(f"[shard {i}/{n}] {m} did not come within {timeout:g}s: building it here")
                mine = True
        if job.status == WAITING:
            rc, built = build([m], jobs=jobs, force={m} if force else False, quiet=True,
                              use_rich=False)
            job.status = BUILT if rc == 0 else FAILED
            job.reason = None if rc == 0 else next(
                (b.reason for b in built if b.status == FAILED), "failed")
            if rc == 0:
                took = time.monotonic() - job.start
                for mod, url, created in tiers.publish(m, build_seconds=took):
                    if mod == m:
                        say(f"[shard {i}/{n}] built {m} in {took:.2f}s, "
                            f"{'published to' if created else 'already in'} {url}")
            else:
                status = 1
                say(f"[shard {i}/{n}] FAILED {m}: {job.reason}")
        job.end = time.monotonic()
        job.read_image_info()
        done.append(job)
        if job.status == FAILED:
            break
    if not quiet:
        summary(done, False)
    return status, done


def _client(address):
    try:
        from distributed import Client
    except ImportError:
        raise ToolError("--executor dask:// needs dask.distributed (pip install "
                        "'pkgimage[cluster]')") from None
    addr = address[len("dask://"):] if address.startswith("dask://") else address
    if "://" not in addr:
        addr = "tcp://" + addr
    try:
        return Client(addr, timeout="10s")
    except (OSError, TimeoutError) as e:
        raise ToolError(f"cannot reach the Dask scheduler at {addr}: {e}") from None


def cmd_build_distributed(args):
    from ..store.interface import StoreError
    try:
        if args.shard:
            if args.executor:
                raise ToolError("--shard and --executor do not combine: give one")
            status, _ = build_shard(args.modules, args.shard, timeout=args.shard_timeout,
                                    force=args.force, quiet=args.quiet, jobs=args.jobs)
            return status
        if not args.executor.startswith(("dask://", "tcp://", "tls://")):
            raise ToolError(f"--executor {args.executor!r}: expected dask://HOST:PORT")
        from ..store.tiers import Tiers
        _check_store(Tiers())               # (before connecting: the cheaper mistake first)
        client = _client(args.executor)
        try:
            status, _ = build_on_cluster(args.modules, client, force=args.force,
                                         quiet=args.quiet,
                                         debug=getattr(args, "debug", False))
        finally:
            client.close()
        return status
    except StoreError as e:
        raise ToolError(str(e), status=1) from None


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else worker_main(sys.argv[1:]))

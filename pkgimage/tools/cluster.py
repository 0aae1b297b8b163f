"""``pkgimage build --executor dask://SCHEDULER`` and ``pkgimage build --shard I/N``: builds
spread over machines that share only the store tiers.

**Dask.**  The plan (``deps.plan``) becomes a graph of tasks, one per module, each depending
on its dependencies' tasks, so Dask runs them in dependency order on any free worker.  A task
runs on the worker what a local ``-j`` build runs in a child process -- ``python -m pkgimage
build --in-process MODULE`` -- in the worker's own cache folder (its ``PKGIMAGE_CACHE``, else a
folder in the worker's local directory), with the client's store tiers: the build's import
hook fetches the dependencies' images from the store, and the task publishes the new image
(blobs, then the signed index entry).  A module whose image is already in the store is
fetched, not built ("up to date").  The client shows the same progress as ``-j`` and at the
end fetches the images into its own cache folder.  Before anything runs, every worker's
runtime key (Python, llvmlite, pkgimage, image format, machine, CPU and features) is compared
with the client's; a worker that differs is refused (one line saying what differs) and gets
no task -- its images would never load here.

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
    """Build (or fetch) one module's image on a worker and publish it, in one fresh process
    (as a local ``-j`` build runs each module); a result dict."""
    import json
    import tempfile
    t0 = time.monotonic()
    bad = [r["module"] for r in dep_results if r["status"] not in (BUILT, FRESH)]
    if bad:
        return {"module": name, "status": BLOCKED, "reason": f"dependency {bad[0]} failed",
                "time": 0.0, "stderr": "", "stdout": ""}
    cache = _worker_cache()
    fd, result = tempfile.mkstemp(prefix="pkgimage-task-", suffix=".json")
    os.close(fd)
    try:
        env = dict(env, PKGIMAGE_CACHE=cache, PKGIMAGE_BUILD_RESULT=result)
        t_proc = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "pkgimage.tools.cluster", name] +
                           (["--force"] if force else []), env=env, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        try:
            with open(result) as f:
                r = json.load(f)
        except (OSError, ValueError):
            r = {}
    finally:
        os.unlink(result)
    out = {"module": name, "status": r.get("cluster_status", FAILED), "reason": r.get("reason"),
           "stderr": p.stderr, "stdout": p.stdout, "time": time.monotonic() - t0,
           "phases": dict(r.get("phases", {}), process=time.monotonic() - t_proc)}
    if p.returncode != 0 or out["status"] == FAILED:
        lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        out["status"] = FAILED
        out["reason"] = out["reason"] or (lines[-1] if lines else f"exit status {p.returncode}")
    else:
        from ..image import format as F
        try:
            path = os.path.join(cache, image_name)
            out["instances"] = F.read_header(path).get("counts", {}).get("instances")
            out["size"] = os.path.getsize(path)
        except Exception:
            pass
    return out


def worker_main(argv):
    """``python -m pkgimage.tools.cluster MODULE [--force]`` (what a task runs): fetch the
    image from the store, else build it here (dependencies come from the store through the
    import hook) and publish it.  The outcome goes to ``PKGIMAGE_BUILD_RESULT``."""
    import json
    from ..build import main_build_one
    from ..image.format import atomic_write
    from ..store.tiers import Tiers
    name, force = argv[0], "--force" in argv[1:]
    result = settings.build_result
    t0 = time.monotonic()
    tiers = Tiers()

    phases = {}

    def done(status, reason=None, rc=0):
        atomic_write(result, json.dumps({"cluster_status": status, "reason": reason,
                                         "phases": phases}).encode())
        return rc
    if not force:
        got = tiers.fetch(name)
        phases["fetch"] = time.monotonic() - t0
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
    if rc != 0:
        return done(FAILED, rc=rc)
    t2 = time.monotonic()
    try:
        # (its dependencies were published by their own tasks, which this one waited for)
        tiers.publish(name, build_seconds=t2 - t0, with_deps=False)
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
    jobs = [ClusterJob(m, graph[m]) for m in order]
    by_name = {j.name: j for j in jobs}
    futures = {}
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
            j.start = j.start or time.monotonic()
            j.end = j.start + r.get("time", 0.0)
            if r.get("stdout"):
                sys.stdout.write(r["stdout"])
            disp.event(j)
            started()
            disp.refresh()
    # The images in this machine's cache folder too, as after a local build.
    for j in jobs:
        if j.status in (BUILT, FRESH) and tiers.fetch(j.name) is None:
            from ..image.lock import stale_reason
            if stale_reason(j.name, j.path) is not None:
                j.status, j.reason = FAILED, "built on the cluster, but not fetched here"
        j.read_image_info()
    return _finish(jobs, quiet, use_rich, debug)


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
    sys.exit(worker_main(sys.argv[1:]))

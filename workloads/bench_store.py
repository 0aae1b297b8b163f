"""The shared image store and the cluster build: a first import that pulls its image from a
store versus compiling locally, and ``pkgimage build`` on a Dask cluster versus ``-j 2``.

* **first import, empty local cache** (DemoPkg, seed 004, N = 1000; ``--quick``: N = 100):
  the wall time of a fresh ``python -c "import DemoPkg; DemoPkg.f(5)"`` whose cache folder is
  empty, side by side, repeat by repeat:

  - *pull from the store*: ``PKGIMAGE_REMOTE`` names a folder store holding the image (signed,
    the signature checked), so the import fetches it -- image and shared library, SHA-256
    checked -- writes it into the cache folder and loads it;
  - *compile locally*: no store; the module runs from source and ``f(5)`` compiles on its
    first call (what the import does before an image exists);
  - *build the image locally*: ``pkgimage build DemoPkg``, then the same import from it;
  - *floor*: the same import with the image already in the cache folder (what a pull can
    approach), and ``python -c "import pkgimage"``.

  The cache folder is emptied of everything, the CPU fingerprint included, as on a new
  machine (so each variant pays llvmlite's import once to learn the CPU).
* **20-module environment** (``genenv.py``; ``--quick``: 8 modules with 1 pair of kernels):
  ``pkgimage build -j 2`` into an empty cache folder versus ``pkgimage build --executor
  dask://...`` on a ``LocalCluster`` of 2 single-threaded worker processes on the same
  machine, with an empty store, empty worker cache and empty client cache each time.  The
  cluster is long-lived, as a team's or a CI's is: it is started once, before the timing,
  and its start is a row of its own.  Inside the timing: the whole ``pkgimage build``
  command, its client's start (``import distributed`` alone is about a second) and
  connection included; every task's build, its publishing (signed) and the client fetching
  every image into its own cache folder.  A worker's build server (a process with
  pkgimage's modules imported, which forks one child per module) is started by the first
  build, inside that build's timing, and kept by the worker for later builds: the first
  repeat is also shown on its own row.  3 repeats, interleaved (``--quick``: 1); the
  overhead is the median of the repeats' paired ratios.
* **where a task's time goes**: from the wall-clock stamps each task reports
  (``PKGIMAGE_BUILD_TRACE``): the client's start until all tasks are submitted, and per
  task (median over every module of every repeat): from its start on
  the worker to the fork, the build process's start (fork to first line), the store
  lookup, the build, publishing, the process's exit, and the result reaching the client.

The machine has 2 cores shared with other jobs: the numbers are wall times of a loaded
machine, the ratios taken within each repeat.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib
import genenv
import imagebench as ib

NAME = "store"
PLOT_COLS = 2
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = "< 10% executor overhead"


def _row(figure, impl, s, unit, ratio=None, vs="", note="", n=None, **extra):
    return {"figure": figure, "N": n, "impl": impl,
            "median": None if s is None else s["median"],
            "min": None if s is None else s["min"],
            "max": None if s is None else s["max"], "unit": unit,
            "ratio": ratio, "vs": vs, "note": note, **extra}


def _empty(folder: Path):
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _keys(folder: Path):
    sys.path.insert(0, str(ROOT))
    from pkgimage.store import signing
    secret, public = signing.generate("bench")
    path = folder / "bench.key"
    signing.write_secret(str(path), secret)
    return str(path), public


def first_import(quick: bool) -> list:
    n = 100 if quick else 1000
    reps = 3 if quick else 7
    w = ib.Workdir()
    try:
        src = w.write("demo", "DemoPkg", ib.demopkg_source(n))
        secret, public = _keys(w.path)
        builder = w.cache("builder")
        ib.build(w, src, "DemoPkg", builder)
        store = w.path / "store"
        env = w.env(src, builder)
        p = subprocess.run([sys.executable, "-m", "pkgimage", "push", "DemoPkg", "--store",
                            f"file://{store}"], env=dict(env, PKGIMAGE_SIGNING_KEY=secret),
                           cwd=w.path, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"pkgimage push failed:\n{p.stderr}")
        code = "import DemoPkg; r = DemoPkg.f(5); print(type(r).__name__, r.x)"
        expect = f"DemoType{n} 5"
        fresh = w.cache("fresh")
        warm = w.cache("warm")
        shutil.copytree(builder, warm, dirs_exist_ok=True)
        times = {k: [] for k in ("pull", "compile", "build", "floor", "pkgimage")}
        for _ in range(reps):
            _empty(fresh)
            env_pull = dict(PKGIMAGE_REMOTE=f"file://{store}", PKGIMAGE_TRUSTED_KEYS=public)
            t = _wall(w, src, fresh, code, expect, env_pull)
            if not list(fresh.glob("DemoPkg-*.pkgi")):
                raise RuntimeError("the pull run did not fetch the image")
            times["pull"].append(t)
            _empty(fresh)
            times["compile"].append(_wall(w, src, fresh, code, expect))
            _empty(fresh)
            t0 = time.perf_counter()
            ib.build(w, src, "DemoPkg", fresh)
            times["build"].append(time.perf_counter() - t0 +
                                  _wall(w, src, fresh, code, expect))
            times["floor"].append(_wall(w, src, warm, code, expect))
            times["pkgimage"].append(_wall(w, src, warm, "import pkgimage", None))
        ref = times["pull"]
        names = {"pull": "pull from the store", "compile": "compile locally (from source)",
                 "build": "build the image locally, then import",
                 "floor": "floor: image already in the cache",
                 "pkgimage": "floor: python -c 'import pkgimage'"}
        return [_row("first import, empty local cache", names[k],
                     benchlib.summary_of(v, 1e3), "ms", benchlib.paired(v, ref),
                     "pull from the store", n=n) for k, v in times.items()]
    finally:
        w.cleanup()


def _wall(w, src, cache, code, expect, extra=None):
    argv = [sys.executable, "-c", code]
    env = dict(w.env(src, cache), **(extra or {}))
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=w.path, capture_output=True, text=True,
                       timeout=ib.TIMEOUT)
    dt = time.perf_counter() - t0
    if p.returncode != 0 or (expect is not None and
                             p.stdout.strip().splitlines()[-1:] != [expect]):
        raise RuntimeError(f"python -c {code!r} failed:\n{p.stdout[-1000:]}\n{p.stderr[-3000:]}")
    return dt


def cluster_build(quick: bool) -> list:
    from distributed import LocalCluster
    n_modules, work, reps = (8, 1, 1) if quick else (20, 3, 3)
    tmp = Path(tempfile.mkdtemp(prefix="pkgimage-storebench-"))
    try:
        src = tmp / "src"
        names = genenv.generate(src, n_modules, 4, work)
        secret, public = _keys(tmp)
        local, client_cache, workers_cache = tmp / "local", tmp / "client", tmp / "workers"
        store = tmp / "store"
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("PKGIMAGE_") and k != "PYTHONPATH"}
        base_env.update(PYTHONPATH=os.pathsep.join([str(src), str(ROOT)]), PKGIMAGE_AUTO="0")
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None,
                               env=dict(base_env, PKGIMAGE_CACHE=str(workers_cache)))
        startup = time.perf_counter() - t0
        addr = cluster.scheduler_address
        times = {"-j 2": [], "dask": []}
        traces = []
        try:
            for _ in range(reps):
                _empty(local)
                times["-j 2"].append(_build(names, dict(base_env, PKGIMAGE_CACHE=str(local)),
                                            ["-j", "2"], tmp))
                for d in (client_cache, workers_cache, store):
                    _empty(d)
                trace = tmp / "trace.json"
                env = dict(base_env, PKGIMAGE_CACHE=str(client_cache),
                           PKGIMAGE_REMOTE=f"file://{store}#rw", PKGIMAGE_SIGNING_KEY=secret,
                           PKGIMAGE_TRUSTED_KEYS=public, PKGIMAGE_BUILD_TRACE=str(trace))
                launched = time.time()
                times["dask"].append(_build(names, env, ["--executor", f"dask://{addr}"],
                                            tmp))
                traces.append(dict(json.loads(trace.read_text()), launched=launched,
                                   exited=time.time()))
        finally:
            cluster.close()
        overhead = benchlib.paired(times["dask"], times["-j 2"]) - 1
        return [
            _row("20-module build", "-j 2 (local)", benchlib.summary_of(times["-j 2"]), "s",
                 1.0, "-j 2", n=n_modules),
            _row("20-module build", "Dask LocalCluster, 2 workers",
                 benchlib.summary_of(times["dask"]), "s",
                 benchlib.paired(times["dask"], times["-j 2"]), "-j 2", n=n_modules,
                 note="the whole pkgimage build command on a running cluster: client start, "
                      "builds, publishing, fetching every image into the client's cache"),
            _row("20-module build", "Dask, first build (build servers start inside it)",
                 benchlib.summary_of(times["dask"][:1]), "s",
                 times["dask"][0] / times["-j 2"][0], "-j 2", n=n_modules),
            _row("20-module build", "executor overhead", benchlib.summary_of(
                [100 * (a / b - 1) for a, b in zip(times["dask"], times["-j 2"])]), "%",
                 n=n_modules, target=TARGET, met=overhead < 0.10),
            _row("20-module build", "cluster start (not in the times above)",
                 benchlib.summary_of([startup]), "s", n=2),
        ] + _phases(traces, n_modules)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# (label, from stamp, to stamp) of a task; the stamps come from build_task (worker) and
# worker_main (the build process), "submitted"/"received" from the client.
_TASK_PHASES = (
    ("submitted -> task starts on a worker (waits for its dependencies)", "submitted", "task"),
    ("task start -> build process asked for", "task", "spawn"),
    ("build process start (fork or spawn, imports)", "spawn", "main"),
    ("store lookup of the module's own image", "tiers", "fetched"),
    ("build (the module, its workloads, the image)", "fetched", "built"),
    ("publish (blobs, signed index entry)", "built", "done"),
    ("build process exit", "done", "exited"),
    ("result -> client", "end", "received"),
    ("client fetches the image into its cache", "received", "fetched_here"),
)


def _phases(traces, n_modules):
    """Rows: where the time of the cluster builds went, from their traces."""
    rows = []
    fig = "20-module build: where the time goes (Dask)"
    client = [t["client"]["submitted"] - t["launched"] for t in traces]
    rows.append(_row(fig, "client: command start -> all tasks submitted",
                     benchlib.summary_of(client), "s", n=n_modules,
                     note="import distributed, connect, check the workers' keys"))
    tail = [t["exited"] - t["client"]["done"] for t in traces]
    rows.append(_row(fig, "client: last result -> command exits", benchlib.summary_of(tail),
                     "s", n=n_modules))
    for label, a, b in _TASK_PHASES:
        vals = [j[b] - j[a] for t in traces for j in t["jobs"].values() if a in j and b in j]
        if vals:
            rows.append(_row(fig, f"per task: {label}", benchlib.summary_of(vals), "s",
                             n=n_modules, note=f"sum over a build: "
                             f"{sum(vals) / len(traces):.2f} s"))
    forks = [j.get("process") for t in traces for j in t["jobs"].values()]
    rows[-1]["note"] += f"; build processes forked: {forks.count('fork')}/{len(forks)}"
    return rows


def _build(names, env, extra, cwd):
    argv = [sys.executable, "-m", "pkgimage", "build", "--quiet", *extra, *names]
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"pkgimage build {' '.join(extra)} failed:\n{p.stdout[-2000:]}\n"
                           f"{p.stderr[-3000:]}")
    return dt


def run(quick: bool):
    return first_import(quick) + cluster_build(quick)


def summary(rows):
    get = {(r["figure"], r["impl"]): r for r in rows}
    pull = get.get(("first import, empty local cache", "pull from the store"))
    comp = get.get(("first import, empty local cache", "compile locally (from source)"))
    over = get.get(("20-module build", "executor overhead"))
    parts = []
    if pull and comp:
        parts.append(f"First import with an empty cache: {pull['median']:.0f} ms pulling the "
                     f"image, {comp['median']:.0f} ms compiling it locally.")
    if over:
        parts.append(f"Dask executor overhead over -j 2: {over['median']:.1f}% "
                     f"(target {TARGET}: {'met' if over.get('met') else 'not met'}).")
    return " ".join(parts)


def plot(rows, axes):
    a, b = axes
    first = [r for r in rows if r["figure"] == "first import, empty local cache"]
    a.barh([r["impl"] for r in first], [r["median"] for r in first],
           xerr=[[r["median"] - r["min"] for r in first], [r["max"] - r["median"] for r in first]],
           color=["tab:green", "tab:red", "tab:orange", "tab:gray", "tab:gray"][:len(first)])
    a.invert_yaxis()
    a.set_xlabel("ms, wall time of the whole process")
    a.set_title(f"DemoPkg N={first[0]['N'] if first else '?'}: first import", fontsize=10)
    a.tick_params(axis="y", labelsize=7)
    builds = [r for r in rows if r["figure"] == "20-module build" and r["unit"] == "s"
              and "start" not in r["impl"] and "first" not in r["impl"]]
    b.bar([r["impl"] for r in builds], [r["median"] for r in builds],
          yerr=[[r["median"] - r["min"] for r in builds], [r["max"] - r["median"] for r in builds]],
          color=["tab:blue", "tab:purple"])
    b.set_ylabel("s, whole pkgimage build")
    b.set_title(f"{builds[0]['N'] if builds else '?'} modules: -j 2 vs Dask (2 workers)",
                fontsize=10)
    b.tick_params(axis="x", labelsize=7)

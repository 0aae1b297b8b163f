"""pkgimage build of 20 interdependent modules: -j 2 versus -j 1, and the per-module overhead of a fresh process.

The environment is written by ``genenv.py``: 20 pkgimage modules in 5 layers of 4, each
module of a layer importing two of the layer before (so 5 modules on the critical path and up
to 4 buildable at once); each has a struct, 3 pairs of small kernels (Int64 and Float64
methods), and an entry calling its kernels and its dependencies' entries, precompiled while
its image is built.  ``pkgimage build -j K envmod_00 ... envmod_19`` builds them in
dependency order, each in a fresh process (``python -m pkgimage build --in-process MOD``),
``K`` at a time.

* **environment build**: the whole ``pkgimage build`` process, wall clock, into an emptied
  cache folder, ``-j 1`` and ``-j 2`` interleaved repeat by repeat (5 repeats; ``--quick``:
  1 repeat of the first 8 modules, with 1 pair of kernels each instead of 3).  ``speedup`` is the median
  over repeats of ``-j 1 / -j 2``.  Each module's own time is read from the command's summary
  table; ``lower bound for -j 2`` is ``max(sum / 2, critical path)`` of the ``-j 1`` module
  times (what a perfect 2-way schedule of those times would take), and ``scheduler overhead``
  the ``-j 1`` wall time minus the sum of its module times (the parent's start, its
  dependency scan and polling).
* **fresh-process overhead per module**: a trivial module (``__pkgimage__ = True`` and
  nothing else) built by the per-module child alone (``python -m pkgimage build --in-process
  trivial``, what ``pkgimage build`` starts for every module) and by the whole command,
  beside ``python -c pass`` and ``python -c "import pkgimage"`` (5 repeats; 3 with
  ``--quick``); ``ratio`` is to ``import pkgimage``.  The trivial build is the fixed cost
  every module of the environment pays; ``share`` is 20 times it over the ``-j 1`` build.
  ``N`` is the number of modules.

After the builds, ``envmod_19.total19(3)`` is run from the images (checked against
``genenv.expected_total``, nothing compiled).  The machine has 2 cores shared with other jobs,
so ``-j 2`` competes with them for the second core: the speedup is a lower bound of what two
free cores give.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib
import genenv

NAME = "build"
PLOT_COLS = 2
N_MODULES = 20
QUICK_MODULES = 8       # --quick: two layers
WIDTH = 4
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_BUILT = re.compile(r"^(envmod_\d+)\s+built\s+([\d.]+)s\b")
_EVENT = re.compile(r"^\[\d+/\d+\] (building|built) (\S+)")


def _row(figure, impl, s, unit, ratio=None, vs="", note="", n=None):
    return {"figure": figure, "N": n, "impl": impl,
            "median": None if s is None else s["median"],
            "min": None if s is None else s["min"],
            "max": None if s is None else s["max"], "unit": unit,
            "ratio": ratio, "vs": vs, "note": note}


class Env:
    def __init__(self, work: int, n_modules: int):
        self._tmp = tempfile.TemporaryDirectory(prefix="pkgimage-buildbench-")
        self.path = Path(self._tmp.name)
        self.src = self.path / "src"
        self.cache = self.path / "cache"
        self.trivial_cache = self.path / "trivial-cache"     # the trivial module's own
        self.names = genenv.generate(self.src, n_modules, WIDTH, work)
        (self.src / "trivial.py").write_text(genenv.trivial_source())
        self.cache.mkdir()
        self.trivial_cache.mkdir()

    def env(self, auto="0", cache=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PKGIMAGE_") and k != "PYTHONPATH"}
        env.update(PYTHONPATH=os.pathsep.join([str(self.src), str(ROOT)]),
                   PKGIMAGE_CACHE=str(cache or self.cache), PKGIMAGE_AUTO=auto)
        return env

    def empty_cache(self, cache=None):
        cache = cache or self.cache
        for name in os.listdir(cache):
            if not name.startswith("host-"):            # keep the CPU fingerprint only
                p = cache / name
                (shutil.rmtree if p.is_dir() else os.unlink)(p)

    def cleanup(self):
        self._tmp.cleanup()


def build_env(e: Env, jobs: int) -> dict:
    """``pkgimage build -j jobs`` of the whole environment into an emptied cache: wall
    seconds, each module's time from the summary, and when each module started and ended
    (seconds from the start, from the progress lines as they are printed)."""
    e.empty_cache()
    argv = [sys.executable, "-m", "pkgimage", "build", "-j", str(jobs), *e.names]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=e.env(), cwd=e.path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    events, times, out = {}, {}, []
    for line in p.stdout:
        t = time.perf_counter() - t0
        out.append(line)
        m = _EVENT.match(line)
        if m:
            events.setdefault(m.group(2), {})[m.group(1)] = t
        m = _BUILT.match(line)
        if m:
            times[m.group(1)] = float(m.group(2))
    err = p.stderr.read()
    rc = p.wait()
    wall = time.perf_counter() - t0
    if rc != 0 or len(times) != len(e.names):
        raise RuntimeError(f"pkgimage build -j {jobs} failed ({rc}):\n{''.join(out)[-3000:]}\n"
                           f"{err[-3000:]}")
    return {"wall": wall, "times": times, "events": events}


def check_env(e: Env, work: int):
    last = len(e.names) - 1
    code = (f"import sys, envmod_{last:02d} as m\n"
            f"r = m.total{last}(3)\n"
            "P = sys.modules.get('pkgimage.compiler.pipeline')\n"
            "L = sys.modules['pkgimage.image.loader']\n"
            "print(r, P.STATS['compiled'] if P else 0, L.STATS['loaded_instances'])")
    p = subprocess.run([sys.executable, "-c", code], env=e.env(), cwd=e.path,
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"running the built environment failed:\n{p.stderr[-3000:]}")
    r, compiled, loaded = map(int, p.stdout.split()[-3:])
    want = genenv.expected_total(last, 3, WIDTH, work)
    if r != want or compiled:
        raise RuntimeError(f"total{last}(3) = {r} (expected {want}), {compiled} compiled")
    return loaded


def lower_bound(times: dict, k: int = 2) -> tuple:
    """(max(sum / k, critical path), critical path) of the module times."""
    finish = {}
    for i in range(len(times)):
        name = genenv.MOD.format(i)
        finish[name] = times[name] + max(
            (finish[genenv.MOD.format(d)] for d in genenv.deps_of(i, WIDTH)), default=0.0)
    crit = max(finish.values())
    return max(sum(times.values()) / k, crit), crit


def time_cmd(e: Env, argv, before=None) -> float:
    """Wall seconds of ``argv`` (the trivial module's cache, emptied by ``before``)."""
    if before:
        before()
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=e.env(cache=e.trivial_cache), cwd=e.path, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{argv} failed:\n{p.stderr[-3000:]}")
    return dt


def run(quick: bool):
    work = 1 if quick else 3
    e = Env(work, QUICK_MODULES if quick else N_MODULES)
    try:
        return _run(e, quick, work)
    finally:
        e.cleanup()


def _run(e, quick, work):
    reps = 1 if quick else 5
    nm = len(e.names)
    env_fig = "environment build"
    proc_reps = 3 if quick else 5
    py = sys.executable

    def empty_trivial():
        e.empty_cache(e.trivial_cache)

    cmds = {
        "python -c pass": ([py, "-c", "pass"], None),
        "python -c 'import pkgimage'": ([py, "-c", "import pkgimage"], None),
        "trivial module, build child (--in-process)":
            ([py, "-m", "pkgimage", "build", "--in-process", "--quiet", "trivial"],
             empty_trivial),
        "trivial module, pkgimage build (whole command)":
            ([py, "-m", "pkgimage", "build", "--quiet", "trivial"], empty_trivial),
    }
    for argv, before in cmds.values():                 # warm-up: OS caches, host fingerprint
        time_cmd(e, argv, before)
    if not quick:
        build_env(e, 2)
    # Interleaved: each repeat times the fresh-process commands and then the environment
    # builds, so that the per-module overhead and the builds see the same machine load.
    proc = {k: [] for k in cmds}
    runs = {1: [], 2: []}
    for r in range(max(reps, proc_reps)):
        if r < proc_reps:
            for k, (argv, before) in cmds.items():
                proc[k].append(time_cmd(e, argv, before))
        if r < reps:
            for j in (1, 2):
                runs[j].append(build_env(e, j))
    loaded = check_env(e, work)

    rows = []
    j1 = [r["wall"] for r in runs[1]]
    j2 = [r["wall"] for r in runs[2]]
    sums = [sum(r["times"].values()) for r in runs[1]]
    bounds = [lower_bound(r["times"]) for r in runs[1]]
    rows.append(_row(env_fig, "-j 1", benchlib.summary_of(j1), "s", 1.0, "-j 1",
                     f"{reps} repeat(s); afterwards total{nm - 1}(3) loaded {loaded} "
                     "instances from the images, compiled 0", nm))
    rows.append(_row(env_fig, "-j 2", benchlib.summary_of(j2), "s",
                     benchlib.paired(j2, j1), "-j 1", n=nm))
    rows.append(_row(env_fig, "speedup -j 1 / -j 2",
                     benchlib.summary_of([a / b for a, b in zip(j1, j2)]), "x",
                     note="2 cores shared with other jobs", n=nm))
    rows.append(_row(env_fig, "lower bound for -j 2",
                     benchlib.summary_of([b for b, _ in bounds]), "s", benchlib.paired([b for b, _ in bounds], j2),
                     "-j 2", f"max(sum / 2, critical path {benchlib.median_of([c for _, c in bounds]):.2f} s) "
                             "of the -j 1 module times", nm))
    per_mod = [t for r in runs[1] for t in r["times"].values()]
    per_mod2 = [t for r in runs[2] for t in r["times"].values()]
    rows.append(_row("module build time (from the summary)", "-j 1", benchlib.summary_of(per_mod), "s",
                     note=f"over {len(per_mod)} module builds"))
    rows.append(_row("module build time (from the summary)", "-j 2", benchlib.summary_of(per_mod2), "s",
                     benchlib.median_of(per_mod2) / benchlib.median_of(per_mod), "-j 1",
                     "two builds at once share the cores (ratio of medians)"))
    rows.append(_row(env_fig, "sum of module times (-j 1)",
                     benchlib.summary_of(sums), "s", benchlib.paired(sums, j1), "-j 1", n=nm))
    rows.append(_row(env_fig, "scheduler overhead (-j 1)",
                     benchlib.summary_of([a - b for a, b in zip(j1, sums)]), "s",
                     note="wall - sum of module times: the parent process", n=nm))
    ref = proc["python -c 'import pkgimage'"]
    for k, s in proc.items():
        rows.append(_row("fresh process", k, benchlib.summary_of(s, 1e3), "ms", benchlib.paired(s, ref),
                         "import pkgimage"))
    triv = proc["trivial module, build child (--in-process)"]
    rows.append(_row("fresh-process overhead per module", "trivial build - import pkgimage",
                     benchlib.summary_of([a - b for a, b in zip(triv, ref)], 1e3), "ms",
                     note="the build machinery beyond importing pkgimage"))
    share = [nm * benchlib.median_of(triv) / x for x in j1]
    rows.append(_row("fresh-process overhead per module", "share of the -j 1 build",
                     benchlib.summary_of([100 * x for x in share]), "%",
                     note=f"{nm} x {benchlib.median_of(triv) * 1e3:.0f} ms (trivial build) / "
                          "-j 1 wall"))
    rows.append(_row("schedule of the last runs", "module@start-end (s)", None, "",
                     note="; ".join(f"-j {j}: " + " ".join(
                         f"{m}@{ev.get('building', 0):.2f}-{ev.get('built', 0):.2f}"
                         for m, ev in sorted(runs[j][-1]["events"].items()))
                         for j in (1, 2))))
    return rows


# --------------------------------------------------------------------------------------------


def _events(rows):
    out = {}
    for r in rows:
        if r["figure"] == "schedule of the last runs":
            for part in r["note"].split("; "):
                head, _, rest = part.partition(": ")
                ev = {}
                for item in rest.split():
                    m, _, span = item.partition("@")
                    a, _, b = span.partition("-")
                    ev[m] = (float(a), float(b))
                out[head] = ev
    return out


def plot(rows, axes):
    gantt, bars = axes
    ev = _events(rows)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    y = 0
    ticks, labels = [], []
    for head in ("-j 1", "-j 2"):
        spans = ev.get(head, {})
        for m, (a, b) in sorted(spans.items(), key=lambda kv: kv[1][0]):
            layer = int(m.rsplit("_", 1)[1]) // WIDTH
            gantt.barh(y, b - a, left=a, color=colors[layer % len(colors)], height=0.8)
            y += 1
        if spans:
            ticks.append(y - len(spans) / 2 - 0.5)
            labels.append(f"{head}\n({len(spans)} modules)")
            gantt.axhline(y - 0.5 + 0.75, color="0.5", lw=0.8)
            y += 1.5
    gantt.set_yticks(ticks, labels, fontsize=8)
    gantt.invert_yaxis()
    gantt.set_xlim(left=0)
    gantt.set_xlabel("seconds since pkgimage build started")
    gantt.set_title("Last run: each module's build process (colour = layer)", fontsize=10)
    gantt.grid(True, axis="x", alpha=0.3)

    get = {(r["figure"], r["impl"]): r for r in rows}
    nm = get[("environment build", "-j 1")]["N"]
    items = [("environment build", "-j 1", "pkgimage build -j 1", "tab:blue"),
             ("environment build", "-j 2", "pkgimage build -j 2", "tab:orange"),
             ("environment build", "lower bound for -j 2",
              "lower bound -j 2 (from -j 1 times)", "0.6"),
             ("environment build", "sum of module times (-j 1)",
              "sum of module times (-j 1)", "0.8")]
    names, med, lo, hi, cols = [], [], [], [], []
    for fig, impl, label, c in items:
        r = get.get((fig, impl))
        if r:
            names.append(label)
            med.append(r["median"])
            lo.append(r["median"] - r["min"])
            hi.append(r["max"] - r["median"])
            cols.append(c)
    triv = get.get(("fresh process", "trivial module, build child (--in-process)"))
    imp = get.get(("fresh process", "python -c 'import pkgimage'"))
    for r, label, c in ((triv, f"{nm} x trivial module build", "tab:red"),
                        (imp, f"{nm} x python -c 'import pkgimage'", "tab:pink")):
        if r:
            names.append(label)
            med.append(nm * r["median"] / 1e3)
            lo.append(nm * (r["median"] - r["min"]) / 1e3)
            hi.append(nm * (r["max"] - r["median"]) / 1e3)
            cols.append(c)
    bars.barh(names, med, xerr=[lo, hi], color=cols, capsize=3)
    for i, v in enumerate(med):
        bars.annotate(f" {v:.1f} s", (v + hi[i], i), va="center", fontsize=8)
    sp = get.get(("environment build", "speedup -j 1 / -j 2"))
    bars.set_title(f"{nm} modules: -j 2 speedup {sp['median']:.2f}x" if sp else
                   f"{nm} modules", fontsize=10)
    bars.invert_yaxis()
    bars.tick_params(axis="y", labelsize=8)
    bars.set_xlabel("seconds (median; whiskers: min-max)")
    bars.set_xlim(0, max(m + h for m, h in zip(med, hi)) * 1.25 if med else 1)


if __name__ == "__main__":          # python workloads/bench_build.py [--quick]
    rs = run("--quick" in sys.argv)
    print(benchlib.markdown_table(rs))

"""Sandbox cost: build time of one package with its workload post-close (forked sandbox) versus in-module.

The same generated package (4 generic functions, 8 instances compiled by its workload --
each function for Int64 and Float64 -- plus what they call) is built with its workload in
four places:
**in-module** -- at top level under ``if pk.generating_output():``, compiled before the close,
no sandbox; **post-close, forked** -- ``@pk.precompilation(__name__)``, run after the close
in a forked child that compiles the new instances and sends back their records and object
code; the parent keeps those that hold in the closed module's world (validated as the image
loader validates cached code) and compiles the close's own code meanwhile (the default);
**post-close, spawned** -- the same in a fresh interpreter that loads the checkpoint as an
image (``PKGIMAGE_SANDBOX=spawn``; what the build uses when the build process has other
threads alive, since a forked child would inherit the locks they hold);
**post-close, in-process** -- the same with ``PKGIMAGE_SANDBOX=inprocess`` (deepcopy
checkpoint; the parent compiles every signature again). A fifth row builds the package with
no workload at all (the floor).  Each build is a fresh process running the per-module build
(``python -m pkgimage build --in-process MOD``, what ``pkgimage build`` starts for every
module) into an emptied cache, wall clock, the candidates interleaved repeat by repeat.

"sandbox cost ms" is the median over repeats of (this build - the in-module build of the
same repeat), wall clock; "sandbox cpu cost ms" the same for the CPU time of the build and
its sandbox (user + system, which a loaded machine inflates less than the wall clock).
Target: the forked sandbox adds at most 50 ms.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


NAME = "sandbox"
TARGET_KEY = "sandbox cost ms"       # what the target row's target is about (runner's table)
KERNELS = 4

# (the marker line is assembled so that this file itself does not look like a pkgimage
# module to the import hook, which looks for it at the start of a line)
HEAD = "import pkgimage as pk\nfrom pkgimage import Int64, Float64\n" + "__pkgimage__" + " = True\n"

KERNEL = """
@pk.generic
def k{i}(x: Int64, n: Int64):
    s = x
    for j in range(n):
        s = (s * {a} + j) % 1000003
    return s

@pk.generic
def k{i}(x: Float64, n: Int64):
    s = x
    for j in range(n):
        s = s * 0.5 + {a}.0 / (j + 1)
    return s
"""

CALLS = "".join(f"    k{i}(1, 10)\n    k{i}(1.0, 10)\n" for i in range(KERNELS))

PLACES = {
    "in-module (top level)": ("bsb_inmodule", "\nif pk.generating_output():\n" + CALLS, {}),
    "post-close, forked": ("bsb_postclose",
                           "\n@pk.precompilation(__name__)\ndef _workload():\n" + CALLS, {}),
    "post-close, spawned": ("bsb_spawned",
                            "\n@pk.precompilation(__name__)\ndef _workload():\n" + CALLS,
                            {"PKGIMAGE_SANDBOX": "spawn"}),
    "post-close, in-process": ("bsb_inprocess",
                               "\n@pk.precompilation(__name__)\ndef _workload():\n" + CALLS,
                               {"PKGIMAGE_SANDBOX": "inprocess"}),
    "no workload (floor)": ("bsb_none", "", {}),
}
BASE = "in-module (top level)"
FORKED = "post-close, forked"


def _source(tail):
    return HEAD + "".join(KERNEL.format(i=i, a=i + 3) for i in range(KERNELS)) + tail


def _env(src, cache, extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKGIMAGE_")}
    env.update(PYTHONPATH=src, PKGIMAGE_CACHE=cache, PKGIMAGE_AUTO="0",
               PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def _empty(cache):
    for name in os.listdir(cache):
        if not name.startswith("host-"):            # keep the CPU fingerprint only
            p = os.path.join(cache, name)
            (shutil.rmtree if os.path.isdir(p) else os.unlink)(p)


def _build_seconds(mod, src, cache, extra):
    """(wall seconds, CPU seconds of the build and the processes it waited for)."""
    _empty(cache)
    argv = [sys.executable, "-m", "pkgimage", "build", "--in-process", "--quiet", mod]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=_env(src, cache, extra), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0 or not any(n.endswith(".pkgi") for n in os.listdir(cache)):
        raise RuntimeError(f"build of {mod} failed:\n{r.stderr}")
    return dt, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def run(quick: bool) -> list[dict]:
    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as d:
        src = os.path.join(d, "src")
        os.makedirs(src)
        caches = {}
        for label, (mod, tail, _) in PLACES.items():
            with open(os.path.join(src, mod + ".py"), "w") as f:
                f.write(_source(tail))
            caches[label] = os.path.join(d, "cache-" + mod)
            os.makedirs(caches[label])
        for label, (mod, _, extra) in PLACES.items():         # warm-up: OS caches, host json
            _build_seconds(mod, src, caches[label], extra)
        samples = {label: [] for label in PLACES}
        for _ in range(repeat):
            for label, (mod, _, extra) in PLACES.items():
                samples[label].append(_build_seconds(mod, src, caches[label], extra))
    rows = []
    for label, both in samples.items():
        s = [w for w, _ in both]
        cost = statistics.median(a - b for (a, _), (b, _) in zip(both, samples[BASE]))
        cpu = statistics.median(a - b for (_, a), (_, b) in zip(both, samples[BASE]))
        rows.append({"workload": label, "build s median": round(statistics.median(s), 4),
                     "min": round(min(s), 4), "max": round(max(s), 4),
                     "sandbox cost ms": round(1000 * cost, 1),
                     "cpu s median": round(statistics.median(c for _, c in both), 4),
                     "sandbox cpu cost ms": round(1000 * cpu, 1),
                     "target": "<= 50 ms" if label == FORKED else "",
                     "met": ("yes" if cost <= 0.050 else "NO") if label == FORKED else None,
                     "repeats": repeat})
    return rows


def plot(rows, ax):
    labels = [r["workload"] for r in rows]
    med = [r["build s median"] for r in rows]
    lo = [r["build s median"] - r["min"] for r in rows]
    hi = [r["max"] - r["build s median"] for r in rows]
    ax.barh(labels, med, xerr=[lo, hi], color=["#888", "#2a7", "#27a", "#7a2", "#ccc"][:len(rows)])
    for y, r in enumerate(rows):
        ax.text(r["max"], y, f"  {r['sandbox cost ms']:+.0f} ms", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("build wall time, s (fresh process; bars: median, whiskers: min-max)")
    ax.set_title("Build time by workload placement (cost relative to in-module)")

"""Whole programs written as Python programmers write them (``tests/programs``: the Benchmarks
Game's n-body, spectral-norm, binary-trees, fannkuch-redux, fasta and k-nucleotide, a ray
tracer with classes, Julia's mandelperf on complex numbers and its parse_integers, printfd and
randmatstat, Monte Carlo pi and option pricing with Black-Scholes, k-means on NumPy arrays,
the Richards task scheduler with classes and a mutable work area, numerical integration
with functions, lambdas and closures passed as values, records sorted and summarised with
key functions, ``functools.reduce``, ``map`` and ``filter``; the random ones seed their
generators in their entry), compiled by pkgimage, against plain CPython running the same
source with the
decorators made plain Python's (functions as they are, structs as frozen dataclasses, mutable
structs as dataclasses: ``tests/test_language_programs._plain_source``), and numba where it can
run the program (``@numba.njit`` on the same functions: mandelperf, fannkuch-redux and
k-means as written; spectral-norm and Monte Carlo with their entry, which only formats the
output with ``%`` or f-string specs numba does not type, left as Python; Monte Carlo's numba
draws from numba's own generator, so its output is not compared).  A pkgimage row says its
time over numba's when numba ran.

Each implementation runs in a fresh process: the program's entry is called once at a small
size (pkgimage compiles then; the figure ``first call`` is that call), then timed at the
benchmark size (the best of at least 3 repeats, 1 with ``--quick``, repeated further while
they take less than 1 s in all, 0.2 s with ``--quick``: a run of a few milliseconds, as
numba's and pkgimage's are on the small programs, is timed many times; output to a buffer).
Bytecode caching is on.  ``ratio to CPython`` is pkgimage's (or numba's) time over
CPython's; target for the programs with classes (raytrace, binary_trees, richards,
float_points): at most 0.5x CPython ("far ahead").  The machine has 2 shared cores: absolute times are noisy, ratios less so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import benchlib

NAME = "programs"
HERE = Path(__file__).parent
PROGRAMS = HERE.parent / "tests" / "programs"
TARGET = "<= 0.5x CPython"
# program, entry, (warm-up args), (benchmark args), (quick args), target applies
CASES = [("nbody_game", "main", (100,), (200000,), (20000,), False),
         ("spectral_norm", "spectral", (10,), (250,), (80,), False),
         ("binary_trees", "run", (4,), (14,), (10,), True),
         ("raytrace", "render", (6, 3), (80, 40), (30, 15), True),
         ("mandelbrot", "repeat", (1,), (40,), (5,), False),
         ("monte_carlo", "run", (100,), (400000,), (40000,), False),
         ("kmeans", "main", (40,), (40000,), (4000,), False),
         ("fannkuch_redux", "main", (5,), (10,), (9,), False),
         ("fasta", "main", (100,), (250000,), (25000,), False),
         ("k_nucleotide", "main", (1000,), (250000,), (25000,), False),
         ("parse_integers", "run", (10,), (1000000,), (100000,), False),
         ("printfd", "run", (10,), (1000000,), (100000,), False),
         ("randmatstat", "run", (10,), (10000,), (1000,), False),
         ("richards", "main", (1,), (100,), (10,), True),
         ("integrate", "run", (10,), (20000,), (2000,), False),
         ("sort_records", "run", (20,), (20000,), (2000,), False),
         ("float_points", "main", (10,), (100000,), (10000,), True)]
# programs numba runs (``@numba.njit`` in place of ``@pk.generic``), each with the functions
# left as Python for numba (the entries formatting output).  Not here: n-body (numba 0.68
# crashes with a segmentation fault updating its lists of lists in place), the programs with
# classes (numba types no Python class), fasta, k-nucleotide, parse_integers and printfd
# (generators, ``hex``, files, ``%`` formatting), integrate (a builtin passed as a value),
# sort_records (a generator in a closure), randmatstat (numba's linalg needs SciPy).
NUMBA = {"mandelbrot": (), "fannkuch_redux": (), "kmeans": (), "spectral_norm": ("spectral",),
         "monte_carlo": ("run",)}
# programs whose numba output differs by design (numba's own random stream)
OWN_STREAM = ("monte_carlo",)

CHILD = r'''
import contextlib, io, json, runpy, sys, time
path, entry, warm, args, repeats, how = sys.argv[1:7]
warm, args, repeats = json.loads(warm), json.loads(args), int(repeats)
min_time = float(sys.argv[9])
sys.path.insert(0, sys.argv[7])
if how == "pkgimage":
    g = runpy.run_path(path, run_name="bench_program")
elif how == "cpython":
    from test_language_programs import _plain_source
    from pathlib import Path
    g = {"__name__": "bench_program"}
    exec(compile(_plain_source(Path(path)), path, "exec"), g)
else:                                    # numba: the same functions under njit
    import numba
    from test_language_programs import _plain_source
    from pathlib import Path
    src = _plain_source(Path(path))
    for plain in json.loads(sys.argv[8]):           # (left as Python for numba)
        src = src.replace("@pk.generic\ndef %s(" % plain, "def %s(" % plain)
    src = src.replace("@pk.generic", "@numba.njit")
    g = {"__name__": "bench_program", "numba": numba}
    exec(compile(src, path, "exec"), g)
f = g[entry]
with contextlib.redirect_stdout(io.StringIO()):
    t0 = time.perf_counter(); f(*warm); first = time.perf_counter() - t0
best, n, spent = None, 0, 0.0
while n < repeats or (spent < min_time and n < 200):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        t0 = time.perf_counter(); r = f(*args); dt = time.perf_counter() - t0
    if n == 0:
        # (the output and result compared: the first timed run's -- a program whose state
        # carries over between runs, fasta's generator, prints another text each time)
        out, res = buf.getvalue(), repr(r)
    best = dt if best is None else min(best, dt)
    n += 1; spent += dt
print(json.dumps({"first": first, "best": best, "result": res[:200], "out": out[-2000:]}))
'''


def _child(path, entry, warm, args, repeats, how, cache, plain=()):
    env = dict(os.environ, PKGIMAGE_AUTO="0", PKGIMAGE_CACHE=str(cache),
               PYTHONPATH=str(HERE.parent))
    env.pop("PYTHONDONTWRITEBYTECODE", None)       # (bytecode caching on, as users run)
    p = subprocess.run([sys.executable, "-c", CHILD, str(path), entry, json.dumps(warm),
                        json.dumps(args), str(repeats), how, str(HERE.parent / "tests"),
                        json.dumps(list(plain)), str(0.2 if repeats == 1 else 1.0)],
                       capture_output=True, text=True, env=env, timeout=3600)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def run(quick: bool):
    import tempfile
    rows = []
    repeats = 1 if quick else 3
    cache = Path(tempfile.mkdtemp(prefix="pkgimage-programs-"))
    only = [n for n in os.environ.get("PKGIMAGE_BENCH_PROGRAMS", "").split(",") if n]
    for name, entry, warm, args, qargs, oo in CASES:
        if only and name not in only:
            continue                      # (``PKGIMAGE_BENCH_PROGRAMS=fasta,printfd``)
        size = qargs if quick else args
        path = PROGRAMS / f"{name}.py"
        got = {}
        impls = ["cpython", "pkgimage"] + (["numba"] if name in NUMBA else [])
        for how in impls:
            got[how] = _child(path, entry, warm, size, repeats, how, cache,
                              NUMBA.get(name, ()))
        ref = got["cpython"][0]
        n = "x".join(map(str, size))
        for how in impls:
            res, err = got[how]
            if res is None:
                rows.append(benchlib.figure_row(name, n, how, None, "s", note=f"failed: {err}"))
                continue
            same = ref is not None and res["result"] == ref["result"] and \
                res["out"] == ref["out"]
            own = how == "numba" and name in OWN_STREAM
            nb = got.get("numba", (None,))[0] if how == "pkgimage" else None
            vs_numba = f"{res['best'] / nb['best']:.2f}x numba; " if nb else ""
            ratio = res["best"] / ref["best"] if ref and how != "cpython" else None
            s = {"median": res["best"], "min": res["best"], "max": res["best"]}
            target = TARGET if oo and how == "pkgimage" else ""
            met = (ratio <= 0.5) if target and ratio is not None else None
            rows.append(benchlib.figure_row(
                name, n, how, s, "s", ratio=None if ratio is None else round(ratio, 3),
                vs="CPython" if ratio is not None else "", target=target, met=met,
                note=vs_numba +
                     (f"first call {res['first']:.2f} s; " if how != "cpython" else "") +
                     ("own random stream, output not compared" if own else
                      "same output" if same else "OUTPUT DIFFERS")))
    return rows


def summary(rows):
    parts = []
    for r in rows:
        if r["impl"] != "cpython" and r["ratio"] is not None:
            parts.append(f"{r['figure']} {r['impl']} {r['ratio']:.2f}x CPython")
    return "; ".join(parts) + "."


def plot(rows, ax):
    names = sorted({r["figure"] for r in rows}, key=[c[0] for c in CASES].index)
    impls = ["pkgimage", "numba"]
    width = 0.4
    for k, impl in enumerate(impls):
        xs, ys = [], []
        for i, nme in enumerate(names):
            r = next((r for r in rows if r["figure"] == nme and r["impl"] == impl), None)
            if r is not None and r["ratio"] is not None:
                xs.append(i + k * width)
                ys.append(r["ratio"])
        ax.bar(xs, ys, width, label=impl)
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set_xticks([i + width / 2 for i in range(len(names))])
    ax.set_xticklabels(names, fontsize=7)
    ax.set_ylabel("time / CPython's (lower is faster)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.set_title("whole programs, steady state, vs CPython", fontsize=10)

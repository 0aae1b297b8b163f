"""The language: five textbook Python programs compiled by pkgimage, next to numba and CPython, and loaded from their images.

The programs live in ``workloads/programs/``, each written the way a Python programmer writes
it, with only pkgimage's decorators and annotations added (``@pk.generic``,
``pk.Vector[pk.Float64]``, ``pk.Matrix[pk.Float64]``, ``int``, a ``@pk.struct`` with
``pk.Generic[T]``), plus ``__pkgimage__ = True`` and a ``@pk.precompilation`` workload so that
an image can be built.  Beside each, ``<name>_plain.py`` is the same code without decorators
or annotations (the reference answer, and the CPython timing) and ``<name>_numba.py`` the same
bodies under ``@numba.njit``.  The benchmark checks that the function bodies are identical
(the ASTs with decorators and annotations removed: ``same body``).

* **quicksort**: Hoare partition (``while True`` loop), ``a[i], a[j] = a[j], a[i]`` swaps,
  recursion, on ``rng.random(N)``; each timed call sorts a fresh copy (``sort(a.copy())``,
  the copy is in every implementation's time).
* **jacobi**: ``iters`` Jacobi sweeps over an N x N ``rng.random`` grid, each into a fresh
  ``np.zeros_like(u)`` whose boundary rows and columns are copied with slice assignments
  (``v[0, :] = u[0, :]``), then ``v[i, j] = 0.25 * (u[i-1, j] + u[i+1, j] + u[i, j-1] +
  u[i, j+1])`` over the interior.
* **matmul**: the naive triple loop ``C[i, j] = sum_p A[i, p] * B[p, j]`` into
  ``np.zeros((n, m))``, N x N by N x N, ``rng.random``.
* **point T** (T = Float64, Int64, Rational[Int64]): a parametric ``Point[T]`` (``T <:
  Real``) with methods ``norm2(p) = p.x*p.x + p.y*p.y`` and ``dot(p, q)``, and ``total(points)
  = norm2(points[0]) + sum_i norm2(points[i]) - dot(points[i], points[i-1])`` over a
  ``Vector[Point[T]]`` of N points (integer coordinates in [-100, 100); rationals with
  denominators 1..4).  numba cannot take pkgimage structs and has no parametric classes or
  rationals: its ``Point`` is a ``@jitclass`` made once per coordinate type, its rational a
  ``@jitclass`` with ``__add__``/``__sub__``/``__mul__`` that divides out the gcd as
  pkgimage's ``Rational[Int64]`` does, and the vector a ``numba.typed.List``.  CPython: a
  frozen dataclass, with ``fractions.Fraction`` for the rationals.
* **monte carlo**: seeded (``random.seed`` in the entry), pi from N random points and a
  European call priced from N ``random.gauss`` draws, next to Black-Scholes' closed form
  (``math.log``/``exp``/``sqrt``/``erf``).  pkgimage and CPython draw Python's own stream
  (equal answers); numba's ``random`` is its own generator, seeded its own way, so its
  answers are checked as estimates (within 5% relative).

Per program: the kernel time, pkgimage and numba side by side in this process (timed after
warm-up: median, min and max of 21 repeats of at least 0.2 s each, 5 of 0.05 s with
``--quick``, interleaved; ``ratio to numba`` is the median over repeats of the per-repeat
ratio; target pkgimage <= 1.2x numba), at a size where numba takes about 1-20 ms (smaller with
``--quick``); then at a smaller size pkgimage, numba and plain CPython side by side (7 repeats
of at least 0.05 s, 5 with ``--quick``; ``ratio to CPython``).  Every result is compared with
plain Python's on the same input (``check``: ``equal``, or ``allclose`` with the largest
relative difference; anything else is a failed row, as is a program that does not compile:
its row carries the error's first line).  ``first call`` in the notes is the first call in
this process (compilation included; pkgimage runs these programs from source here, with an
empty cache).

**From the image**: each program module is built with ``python -m pkgimage build MODULE``
(``PKGIMAGE_CACHE`` a temporary folder, ``PYTHONPATH`` = ``workloads/programs`` and the
repository), then a fresh interpreter (bytecode caching on, ``PKGIMAGE_AUTO=0``) imports it,
builds small inputs, calls the program and compares with plain Python, 5 times (3 with
``--quick``).  As ``tests/test_images_roundtrip.py`` does, a profiler hook counts Python calls
into the compiler's ``inference``/``codegen``/``jit``/``pipeline`` files and the modules of
``pkgimage.compiler``/``llvmlite`` imported, separately while the inputs are built and during
the call; the row also gives the pipeline's ``compiled`` counter and whether llvmlite or the
inference machinery is in ``sys.modules`` at exit.  Target: nothing compiled in the whole
process (met only if, besides, the answer equals plain Python's and no cached instance was
discarded).  The row's time is import + first call, the median over the runs.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

import benchlib

NAME = "language"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAMS = HERE / "programs"
TARGET = 1.2
TIMEOUT = 300

COLS = ("figure", "N", "impl", "median", "min", "max", "unit", "ratio to numba",
        "ratio to CPython", "target", "met", "check", "same body", "note")


def _row(**kw):
    row = {c: None for c in COLS}
    row.update(kw)
    return row


def _first_line(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0] if msg else ''}"


# --------------------------------------------------------------------------------------------
# Comparing answers


def _cmp_arrays(got, ref) -> str:
    got, ref = np.asarray(got), np.asarray(ref)
    if got.shape != ref.shape:
        return f"MISMATCH: shape {got.shape} vs {ref.shape}"
    if np.array_equal(got, ref):
        return "equal"
    if np.allclose(got, ref, rtol=1e-12, atol=0.0):
        rel = float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)))
        return f"allclose (max rel diff {rel:.1e})"
    return f"MISMATCH: max abs diff {float(np.max(np.abs(got - ref))):.3g}"


def _as_number(r):
    """A scalar answer as a Python number (rationals of either kind as a Fraction)."""
    if hasattr(r, "num") and hasattr(r, "den"):
        return Fraction(int(r.num), int(r.den))
    if isinstance(r, (np.floating, float)):
        return float(r)
    if isinstance(r, (np.integer, int)):
        return int(r)
    return r


def _cmp_scalars(got, ref) -> str:
    got, ref = _as_number(got), _as_number(ref)
    if type(got) is not type(ref) and not (isinstance(ref, int) and isinstance(got, int)):
        return f"MISMATCH: {got!r} ({type(got).__name__}) vs {ref!r} ({type(ref).__name__})"
    if got == ref:
        return "equal"
    if isinstance(ref, float) and abs(got - ref) <= 1e-12 * abs(ref):
        return f"allclose (rel diff {abs(got - ref) / abs(ref):.1e})"
    return f"MISMATCH: {got!r} vs {ref!r}"


def _ok(check: str) -> bool:
    return check.startswith(("equal", "allclose", "same estimates"))


# --------------------------------------------------------------------------------------------
# Same code: the function bodies of the three variants, decorators and annotations removed


class _Strip(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        node.decorator_list = []
        node.returns = None
        for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
            a.annotation = None
        for a in (node.args.vararg, node.args.kwarg):
            if a is not None:
                a.annotation = None
        return node


def _functions(path: Path) -> dict:
    tree = _Strip().visit(ast.parse(path.read_text()))
    return {n.name: ast.dump(n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def _same_body(module: str, other: str, names) -> str:
    a, b = _functions(PROGRAMS / f"{module}.py"), _functions(PROGRAMS / f"{other}.py")
    diff = [n for n in names if n not in a or n not in b or a[n] != b[n]]
    return "yes" if not diff else "NO: " + ", ".join(diff)


# --------------------------------------------------------------------------------------------
# The programs: inputs, calls and the probe of the fresh process


class Case:
    """One figure: ``make(size)`` -> (pk_call, numba_call, plain_call, compare) where each call
    takes no argument (its inputs bound) and ``compare(got, ref)`` gives the check."""

    def __init__(self, figure, module, funcs, sizes, make, numba_compare=None):
        self.figure, self.module, self.funcs, self.sizes, self.make = (figure, module, funcs,
                                                                         sizes, make)
        # (numba's answers checked otherwise: its own random numbers, say)
        self.numba_compare = numba_compare


def _quicksort(mods, n):
    rng = np.random.default_rng(1)
    a = rng.random(n)
    pk, nb, py = mods
    return (lambda: pk.sort(a.copy()), lambda: nb.sort(a.copy()), lambda: py.sort(a.copy()),
            _cmp_arrays)


def _jacobi(mods, size):
    n, iters = size
    u = np.random.default_rng(2).random((n, n))
    pk, nb, py = mods
    return (lambda: pk.jacobi(u, iters), lambda: nb.jacobi(u, iters),
            lambda: py.jacobi(u, iters), _cmp_arrays)


def _matmul(mods, n):
    rng = np.random.default_rng(3)
    A, B = rng.random((n, n)), rng.random((n, n))
    pk, nb, py = mods
    return (lambda: pk.matmul(A, B), lambda: nb.matmul(A, B), lambda: py.matmul(A, B),
            _cmp_arrays)


def _montecarlo(mods, n):
    pk, nb, py = mods
    return (lambda: pk.price(12345, n), lambda: nb.price(12345, n), lambda: py.price(12345, n),
            _cmp_tuples)


def _cmp_tuples(got, ref) -> str:
    checks = [_cmp_scalars(g, r) for g, r in zip(got, ref)]
    if len(got) != len(ref) or not all(_ok(c) for c in checks):
        return f"MISMATCH: {got!r} vs {ref!r}"
    return "equal" if all(c == "equal" for c in checks) else checks[0]


def _same_estimate(got, ref) -> str:
    """numba's Monte Carlo answers: its generator is not Python's (numba's ``random.seed``
    seeds its own Mersenne Twister another way), so they can only agree as estimates."""
    rel = max(abs(g - r) / abs(r) for g, r in zip(got, ref))
    if rel < 0.05:
        return f"same estimates (numba's own random stream; max rel diff {rel:.1e})"
    return f"MISMATCH: {got!r} vs {ref!r}"


def _point(kind):
    def make(mods, n):
        import pkgimage
        pk, nb, py = mods
        rng = np.random.default_rng(4)
        xs, ys = rng.integers(-100, 100, n), rng.integers(-100, 100, n)
        if kind == "Float64":
            xs, ys = xs + rng.random(n), ys + rng.random(n)
            vpk = pk.points(xs.tolist(), ys.tolist())
            vnb = nb.points(kind, xs, ys)
            vpy = py.points(xs.tolist(), ys.tolist())
        elif kind == "Int64":
            vpk = pk.points(xs.tolist(), ys.tolist())
            vnb = nb.points(kind, xs, ys)
            vpy = py.points(xs.tolist(), ys.tolist())
        else:
            xd, yd = rng.integers(1, 5, n), rng.integers(1, 5, n)
            R = pkgimage.Rational[pkgimage.Int64]
            vpk = pk.points([R(int(a), int(b)) for a, b in zip(xs, xd)],
                            [R(int(a), int(b)) for a, b in zip(ys, yd)])
            vnb = nb.points(kind, xs, xd, ys, yd)
            vpy = py.points([Fraction(int(a), int(b)) for a, b in zip(xs, xd)],
                            [Fraction(int(a), int(b)) for a, b in zip(ys, yd)])
        return (lambda: pk.total(vpk), lambda: nb.total(vnb), lambda: py.total(vpy),
                _cmp_scalars)
    return make


def cases(quick):
    # sizes: (timed against numba, timed against CPython as well)
    return [
        Case("quicksort (Hoare, tuple swaps, recursion)", "quicksort",
             ("partition", "quicksort", "sort"),
             (5000, 1000) if quick else (10000, 2000), _quicksort),
        Case("jacobi 2-D (N x N, iters)", "jacobi", ("sweep", "jacobi"),
             ((200, 10), (24, 2)) if quick else ((300, 20), (40, 3)), _jacobi),
        Case("matmul (triple loop, N x N)", "matmul", ("matmul",),
             (64, 16) if quick else (128, 24), _matmul),
    ] + [Case(f"point[{kind}] total(norm2, dot)", "point", ("norm2", "dot", "total"),
              (5000, 1000) if quick else (10000, 2000), _point(kind))
         for kind in ("Float64", "Int64", "Rational")] + [
        Case("monte carlo (pi, gauss-simulated call, Black-Scholes)", "montecarlo",
             ("estimate_pi", "norm_cdf", "black_scholes", "simulate_call", "price"),
             (50000, 10000) if quick else (200000, 20000), _montecarlo,
             numba_compare=_same_estimate)]


def _size_label(size):
    return f"{size[0]} ({size[1]} iters)" if isinstance(size, tuple) else size


NUMBA_NOTES = {
    "montecarlo": "@numba.njit, same bodies, numba's own random generator",
    "point": "numba @jitclass Point per T (Rational: a @jitclass with gcd), numba.typed.List",
}


# --------------------------------------------------------------------------------------------
# In-process kernels


def _timed_first(fn):
    t0 = time.perf_counter()
    r = fn()
    return r, (time.perf_counter() - t0) * 1e3


def kernel_rows(case, mods, quick):
    rows = []
    big, small = case.sizes
    fpk, fnb, fpy, cmp = case.make(mods, big)
    ref = fpy()
    same_pk = _same_body(case.module, case.module + "_plain", case.funcs)
    same_nb = _same_body(case.module + "_numba", case.module + "_plain", case.funcs)
    nb_note = NUMBA_NOTES.get(case.module, "@numba.njit, same bodies")

    # pkgimage: first call (compiles), answer
    pk_err, pk_check, pk_first = None, None, None
    try:
        got, pk_first = _timed_first(fpk)
        pk_check = cmp(got, ref)
    except Exception as e:               # a compile error is the row's result, not a crash
        pk_err = _first_line(e)
    got, nb_first = _timed_first(fnb)
    nb_cmp = case.numba_compare or cmp
    nb_check = nb_cmp(got, ref)

    fns = {"numba": fnb}
    if pk_err is None:
        fns = {"pkgimage": fpk, "numba": fnb}
    res = benchlib.ns_per_call_side_by_side(fns, (), benchlib.repeats(quick),
                                            benchlib.min_time(quick))
    snb = benchlib.summary_of(res["numba"]["samples"], 1e-6)
    n = _size_label(big)
    if pk_err is None:
        spk = benchlib.summary_of(res["pkgimage"]["samples"], 1e-6)
        ratio = benchlib.paired_ratio(res["pkgimage"], res["numba"])
        met = ratio <= TARGET and _ok(pk_check)
        rows.append(_row(figure=case.figure, N=n, impl="pkgimage", median=spk["median"],
                         min=spk["min"], max=spk["max"], unit="ms", **{"ratio to numba": ratio},
                         target=f"<= {TARGET}x numba", met="yes" if met else "NO",
                         check=pk_check, **{"same body": same_pk},
                         note=f"first call {pk_first:.0f} ms (compiles)"))
    else:
        rows.append(_row(figure=case.figure, N=n, impl="pkgimage", unit="ms",
                         target=f"<= {TARGET}x numba", met="NO", check="FAIL (error)",
                         **{"same body": same_pk}, note=pk_err))
    rows.append(_row(figure=case.figure, N=n, impl="numba", median=snb["median"],
                     min=snb["min"], max=snb["max"], unit="ms", **{"ratio to numba": 1.0},
                     check=nb_check, **{"same body": same_nb},
                     note=f"{nb_note}; first call {nb_first:.0f} ms (compiles)"))

    # the smaller size, with plain CPython beside them
    fpk, fnb, fpy, cmp = case.make(mods, small)
    ref = fpy()
    fns, checks = {}, {}
    if pk_err is None:
        try:
            checks["pkgimage"] = cmp(fpk(), ref)
            fns["pkgimage"] = fpk
        except Exception as e:
            checks["pkgimage"] = "FAIL (error)"
            pk_err = _first_line(e)
    checks["numba"] = nb_cmp(fnb(), ref)
    checks["CPython"] = "reference"
    fns["numba"], fns["CPython"] = fnb, fpy
    res = benchlib.ns_per_call_side_by_side(fns, (), 5 if quick else 7, benchlib.min_time(True))
    n = _size_label(small)
    for impl in ("pkgimage", "numba", "CPython"):
        if impl not in res:
            rows.append(_row(figure=case.figure, N=n, impl=impl, unit="ms",
                             check=checks.get(impl, "FAIL (error)"), note=pk_err))
            continue
        s = benchlib.summary_of(res[impl]["samples"], 1e-6)
        rows.append(_row(figure=case.figure, N=n, impl=impl, median=s["median"], min=s["min"],
                         max=s["max"], unit="ms",
                         **{"ratio to numba": benchlib.paired_ratio(res[impl], res["numba"]),
                            "ratio to CPython": benchlib.paired_ratio(res[impl],
                                                                      res["CPython"])},
                         check=checks[impl]))
    return rows


def _import_programs(cache: Path):
    """Import the three variants of each program, the pkgimage ones from source (an empty
    cache, no auto-build: this process compiles them)."""
    import importlib
    saved = {k: os.environ.get(k) for k in ("PKGIMAGE_AUTO", "PKGIMAGE_CACHE")}
    os.environ.update(PKGIMAGE_AUTO="0", PKGIMAGE_CACHE=str(cache))
    if str(PROGRAMS) not in sys.path:
        sys.path.insert(0, str(PROGRAMS))
    try:
        out = {}
        for name in ("quicksort", "jacobi", "matmul", "point", "montecarlo"):
            out[name] = tuple(importlib.import_module(name + suffix)
                              for suffix in ("", "_numba", "_plain"))
        return out
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --------------------------------------------------------------------------------------------
# Fresh processes: the images


PRELUDE = textwrap.dedent(r'''
    import json, sys, time
    def heavy():
        return sorted(m for m in ("pkgimage.compiler.inference", "pkgimage.compiler.pipeline",
                                  "pkgimage.compiler.codegen", "pkgimage.compiler.jit",
                                  "llvmlite.binding", "llvmlite") if m in sys.modules)
    def stats():
        L = sys.modules.get("pkgimage.image.loader")
        P = sys.modules.get("pkgimage.compiler.pipeline")
        return {"loaded_instances": L.STATS["loaded_instances"] if L else 0,
                "discarded_instances": L.STATS["discarded_instances"] if L else 0,
                "compiled": P.STATS["compiled"] if P else 0}
    class Tripwire:
        """As tests/imagetools.py: Python calls into the compiler's inference, codegen, jit and
        pipeline files, and pkgimage.compiler/llvmlite modules imported, inside the block."""
        FILES = ("inference.py", "codegen.py", "jit.py", "pipeline.py")
        def __enter__(self):
            self.calls = {}
            self._before = set(sys.modules)
            def prof(frame, event, arg):
                if event == "call":
                    fn = frame.f_code.co_filename.replace("\\", "/")
                    base = fn.rsplit("/", 1)[-1]
                    if "/pkgimage/compiler/" in fn and base in self.FILES:
                        self.calls[base] = self.calls.get(base, 0) + 1
            sys.setprofile(prof)
            return self
        def __exit__(self, *exc):
            sys.setprofile(None)
            self.imported = sorted(m for m in set(sys.modules) - self._before
                                   if m.startswith(("pkgimage.compiler", "llvmlite")))
    ''')

PROBE = '''
t0 = time.perf_counter()
import {module} as M
t1 = time.perf_counter()
out = {{"import_s": t1 - t0}}
try:
    with Tripwire() as tw_setup:
{setup}
    with Tripwire() as tw:
        t2 = time.perf_counter()
{call}
        t3 = time.perf_counter()
    out.update(first_call_s=t3 - t2, calls=tw.calls, imported=tw.imported,
               setup_calls=tw_setup.calls, setup_imported=tw_setup.imported)
    import {module}_plain as P
{compare}
except Exception as e:
    msg = str(e).strip().splitlines()
    out["error"] = type(e).__name__ + ": " + (msg[0] if msg else "")
out["heavy"] = heavy()
out["stats"] = stats()
print(json.dumps(out, default=repr))
'''

PROBES = {
    "quicksort": ("import numpy as np\na = np.random.default_rng(5).random(1000)",
                  "res = M.sort(a.copy())",
                  "out['equal'] = bool(np.array_equal(res, P.sort(a.copy())))"),
    "jacobi": ("import numpy as np\nu = np.random.default_rng(5).random((30, 30))",
               "res = M.jacobi(u, 3)",
               "out['equal'] = bool(np.array_equal(res, P.jacobi(u, 3)))"),
    "matmul": ("import numpy as np\nrng = np.random.default_rng(5)\n"
               "A, B = rng.random((30, 20)), rng.random((20, 25))",
               "res = M.matmul(A, B)",
               "out['equal'] = bool(np.array_equal(res, P.matmul(A, B)))"),
    "point": ("import pkgimage as pk\nfrom fractions import Fraction\n"
              "R = pk.Rational[pk.Int64]\n"
              "xs, ys = [float(i % 7) - 3.5 for i in range(100)], [i * 0.25 for i in range(100)]\n"
              "ix, iy = [i % 7 - 3 for i in range(100)], [i % 11 for i in range(100)]\n"
              "rx = [R(i % 7 - 3, i % 4 + 1) for i in range(100)]\n"
              "ry = [R(i % 11, i % 3 + 1) for i in range(100)]\n"
              "vf, vi, vr = M.points(xs, ys), M.points(ix, iy), M.points(rx, ry)",
              "res = [M.total(vf), M.total(vi), M.total(vr)]",
              "ref = [P.total(P.points(xs, ys)), P.total(P.points(ix, iy)),\n"
              "       P.total(P.points([Fraction(i % 7 - 3, i % 4 + 1) for i in range(100)],\n"
              "                        [Fraction(i % 11, i % 3 + 1) for i in range(100)]))]\n"
              "got = [res[0], res[1], Fraction(res[2].num, res[2].den)]\n"
              "out['equal'] = got == ref and type(res[0]) is float and type(res[1]) is int"),
    "montecarlo": ("pass", "res = M.price(7, 2000)", "out['equal'] = res == P.price(7, 2000)"),
}


def _env(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PKGIMAGE_", "NUMBA_")) and k not in ("PYTHONPATH",
                                                                      "PYTHONDONTWRITEBYTECODE")}
    env.update(PYTHONPATH=os.pathsep.join([str(PROGRAMS), str(ROOT)]),
               PKGIMAGE_CACHE=str(cache), PKGIMAGE_AUTO="0")
    return env


def _build(module, cache, cwd):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pkgimage", "build", module], env=_env(cache),
                       cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        lines = [ln.strip() for ln in (p.stderr + p.stdout).splitlines() if ln.strip()]
        err = next((ln for ln in lines if "Error:" in ln), lines[-1] if lines else "")
        return dt, None, f"build failed (exit status {p.returncode}): {err}"
    summary = next((ln for ln in p.stdout.splitlines() if ln.startswith("[1/1] built")), "")
    detail = summary.split(" in ", 1)[-1] if summary else ""
    return dt, detail, None


def _probe(module, cache, cwd):
    setup, call, compare = PROBES[module]
    ind = lambda s, k: textwrap.indent(s, " " * k)          # noqa: E731
    code = PRELUDE + PROBE.format(module=module, setup=ind(setup, 8), call=ind(call, 8),
                                  compare=ind(compare, 4))
    p = subprocess.run([sys.executable, "-c", code], env=_env(cache), cwd=cwd,
                       capture_output=True, text=True, timeout=TIMEOUT)
    if p.returncode != 0 or not p.stdout.strip():
        tail = (p.stderr.strip().splitlines() or [""])[-1]
        return {"error": f"probe exited {p.returncode}: {tail}"}
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["stderr"] = p.stderr.strip()
    return out


def image_rows(quick):
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="pkgimage-language-"))
    try:
        cache = tmp / "cache"
        cache.mkdir(mode=0o700)
        for module in ("quicksort", "jacobi", "matmul", "point", "montecarlo"):
            figure = f"{module}: fresh process, image"
            bt, detail, berr = _build(module, cache, tmp)
            runs = [_probe(module, cache, tmp) for _ in range(3 if quick else 5)]
            bad = [r for r in runs if "error" in r]
            ok = [r for r in runs if "error" not in r]
            err = "; ".join(x for x in (berr, f"run ({'without an image' if berr else 'image'}): "
                                        + bad[0]["error"] if bad else None) if x) or None
            base = dict(figure=figure, impl="pkgimage image", unit="ms",
                        target="nothing compiled")
            if not ok:
                rows.append(_row(**base, met="NO", check="FAIL (error)",
                                 note=f"{err} (build {bt:.1f} s)"))
                continue
            s = benchlib.summary([(r["import_s"] + r["first_call_s"]) * 1e3 for r in ok])
            r0 = ok[-1]
            call_compiled = sum(r0["calls"].values()) + len(r0["imported"])
            setup_compiled = sum(r0["setup_calls"].values()) + len(r0["setup_imported"])
            nothing = all(not r["calls"] and not r["imported"] and not r["setup_calls"]
                          and not r["setup_imported"] and r["stats"]["compiled"] == 0
                          and not r["heavy"] for r in ok)
            equal = all(r.get("equal") for r in ok)
            no_discard = all(r["stats"]["discarded_instances"] == 0 for r in ok)
            met = nothing and equal and no_discard and not bad
            imp = benchlib.median_of([r["import_s"] * 1e3 for r in ok])
            first = benchlib.median_of([r["first_call_s"] * 1e3 for r in ok])
            note = (f"import {imp:.0f} ms + first call {first:.2f} ms; compiler during the call: "
                    f"{call_compiled} (calls {r0['calls'] or 0}, imports {r0['imported'] or 0}), "
                    f"while building inputs: {setup_compiled}; pipeline compiled "
                    f"{r0['stats']['compiled']}; heavy modules at exit: "
                    f"{', '.join(r0['heavy']) or 'none'}; {r0['stats']['loaded_instances']} "
                    f"instances loaded, {r0['stats']['discarded_instances']} discarded; "
                    f"build {bt:.1f} s ({detail})")
            if r0.get("stderr"):
                note += f"; stderr: {r0['stderr'].splitlines()[-1]}"
            if err:
                note = f"{err}; " + note
            rows.append(_row(**base, median=s["median"], min=s["min"], max=s["max"],
                             met="yes" if met else "NO",
                             check="equal" if equal else "MISMATCH", note=note))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


# --------------------------------------------------------------------------------------------


def run(quick: bool):
    tmp = Path(tempfile.mkdtemp(prefix="pkgimage-language-src-"))
    try:
        empty = tmp / "cache"
        empty.mkdir(mode=0o700)
        progs = _import_programs(empty)
        rows = []
        for case in cases(quick):
            rows += kernel_rows(case, progs[case.module], quick)
        rows += image_rows(quick)
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary(rows) -> str:
    kern = [r for r in rows if r["impl"] == "pkgimage" and r["target"]]
    img = [r for r in rows if r["impl"] == "pkgimage image"]
    met = [r for r in kern if r["met"] == "yes"]
    failed = [r for r in rows if r["check"] and not (_ok(r["check"]) or r["check"]
                                                       == "reference")]
    ratios = ", ".join(f"{r['figure'].split(' ')[0]} "
                       + ("FAIL" if r["ratio to numba"] is None else f"{r['ratio to numba']:.1f}x")
                       for r in kern)
    lines = [f"pkgimage within {TARGET}x numba: {len(met)} of {len(kern)} programs ({ratios})."]
    lines.append(f"Loaded from the image with nothing compiled: "
                 f"{sum(r['met'] == 'yes' for r in img)} of {len(img)}.")
    if failed:
        lines.append("Failures: " + "; ".join(f"{r['figure']} {r['impl']} N={r['N']}: "
                                              f"{r['check']}" + (f" ({r['note']})"
                                                                 if "FAIL" in r['check']
                                                                 else "")
                                              for r in failed))
    return "\n\n".join(lines) + "\n"


def plot(rows, ax):
    kern = [r for r in rows if r["target"] and r["impl"] == "pkgimage"]
    labels = [r["figure"].split(" (")[0].replace(" total(norm2, dot)", "") for r in kern]
    y = np.arange(len(kern))
    vals = [r["ratio to numba"] or 0 for r in kern]
    colors = ["tab:green" if r["met"] == "yes" else "tab:red" for r in kern]
    ax.barh(y, vals, color=colors)
    for yi, r, v in zip(y, kern, vals):
        label = ("FAIL: does not compile" if r["ratio to numba"] is None
                 else f"{v:.2f}x" if v < 10 else f"{v:.0f}x")
        ax.annotate(label, (max(v, TARGET), yi), textcoords="offset points", xytext=(4, -3),
                    fontsize=8, color="tab:red" if r["ratio to numba"] is None else "k")
    ax.axvline(TARGET, color="k", ls="--", lw=1, label=f"target {TARGET}x numba")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("pkgimage kernel time / numba's (same run, median of paired ratios)")
    ax.set_title("Textbook programs: pkgimage vs numba")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", which="both", alpha=0.3)


if __name__ == "__main__":          # python workloads/bench_language.py [--quick]
    print(benchlib.markdown_table(run("--quick" in sys.argv)))

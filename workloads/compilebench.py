"""Helpers for ``bench_compile.py``: workload generators and the child processes that time them.

pkgimage reads method bodies from their source file, so every workload is written as a real
module into a temporary folder and timed in a fresh interpreter started with
``python -m compilebench <mode> ...`` (``workloads/``, the repo root and the temporary folder
on ``PYTHONPATH``).  The child prints one JSON object on its last line of stdout.

This module imports only the standard library at top level, so that importing it in a child
does not pre-import numba, NumPy or pkgimage and distort the import and first-call times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# --------------------------------------------------------------------------------------------
# Generated sources


DEMOPKG_ORIGIN = None   # which generator demopkg_source used last


def demopkg_source(n: int) -> str:
    """Seed 004's DemoPkg: DemoType0..DemoTypeN, an outer constructor for each from any
    AbstractDemoType, and ``f(x)`` chaining all N+1 constructors.  Uses the example package's
    generator (``examples/demopkg/generate.py``, plain module: no image, no precompile) when it
    is importable, else the equivalent text below."""
    global DEMOPKG_ORIGIN
    sys.path.insert(0, str(ROOT))
    try:
        from examples.demopkg.generate import source as _source  # type: ignore
        text = _source(n)
        DEMOPKG_ORIGIN = "examples/demopkg/generate.py"
        return text
    except Exception:
        pass
    finally:
        if sys.path and sys.path[0] == str(ROOT):
            sys.path.pop(0)
    DEMOPKG_ORIGIN = "workloads/compilebench.py"
    lines = ["import pkgimage as pk", "from pkgimage import Int64", "",
             "@pk.abstract", "class AbstractDemoType: ...", ""]
    for i in range(n + 1):
        lines += ["@pk.struct", f"class DemoType{i}(AbstractDemoType):", "    x: Int64", ""]
    for i in range(n + 1):
        lines += ["@pk.generic", f"def DemoType{i}(d: AbstractDemoType):",
                  f"    return DemoType{i}(d.x)", ""]
    lines += ["@pk.generic", "def f(x):", "    d = DemoType0(x)"]
    lines += [f"    d = DemoType{i}(d)" for i in range(1, n + 1)]
    lines += ["    return d", ""]
    return "\n".join(lines)


def chain_pk_source(n: int) -> str:
    lines = ["import pkgimage as pk", "from pkgimage import Int64", "",
             "@pk.generic", "def f_0(x: Int64):", "    return x + 1", ""]
    for i in range(1, n):
        lines += ["@pk.generic", f"def f_{i}(x: Int64):", f"    return f_{i - 1}(x) + 1", ""]
    lines.append(f"entry = f_{n - 1}")
    return "\n".join(lines) + "\n"


def chain_numba_source(n: int) -> str:
    lines = ["import numba", "", "@numba.njit(cache=False)", "def f_0(x):", "    return x + 1", ""]
    for i in range(1, n):
        lines += ["@numba.njit(cache=False)", f"def f_{i}(x):", f"    return f_{i - 1}(x) + 1", ""]
    lines.append(f"entry = f_{n - 1}")
    return "\n".join(lines) + "\n"


KERNELS_PK = '''\
import pkgimage as pk
from pkgimage import Int64, Float64, Vector
from pkgimage.compiler.intrinsics import intr


@pk.generic
def sumsq(v: Vector[Float64]):
    s = 0.0
    for x in v:
        s += x * x
    return s


@pk.generic
def pairdist(x: Vector[Float64], y: Vector[Float64]):
    n = len(x)
    s = 0.0
    for i in range(n):
        for j in range(n):
            dx = x[i] - x[j]
            dy = y[i] - y[j]
            s += intr.sqrt(dx * dx + dy * dy)
    return s


@pk.generic
def add2(x: Int64, y: Int64):
    return x + y
'''

KERNELS_NUMBA = '''\
import math

import numba


@numba.njit(cache=False)
def sumsq(v):
    s = 0.0
    for x in v:
        s += x * x
    return s


@numba.njit(cache=False)
def pairdist(x, y):
    n = len(x)
    s = 0.0
    for i in range(n):
        for j in range(n):
            dx = x[i] - x[j]
            dy = y[i] - y[j]
            s += math.sqrt(dx * dx + dy * dy)
    return s


@numba.njit(cache=False)
def add2(x, y):
    return x + y


@numba.cfunc("int64(int64, int64)", cache=False)
def add2_c(x, y):
    return x + y
'''


# --------------------------------------------------------------------------------------------
# Parent side


class Workdir:
    """A temporary folder holding generated modules (and an empty pkgimage cache)."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pkgimage-compilebench-")
        self.path = Path(self._tmp.name)
        (self.path / "cache").mkdir()

    def write(self, modname: str, text: str) -> str:
        (self.path / f"{modname}.py").write_text(text)
        return modname

    def env(self) -> dict:
        pp = [str(self.path), str(HERE), str(ROOT)]
        if os.environ.get("PYTHONPATH"):
            pp.append(os.environ["PYTHONPATH"])
        return dict(os.environ, PYTHONPATH=os.pathsep.join(pp),
                    PKGIMAGE_CACHE=str(self.path / "cache"), PYTHONDONTWRITEBYTECODE="1")

    def run(self, *args, timeout=None) -> dict:
        """Run ``python -m compilebench *args`` in a fresh interpreter; its JSON result, or
        ``{"timeout": seconds}`` when it ran longer than ``timeout``."""
        argv = [sys.executable, "-m", "compilebench", *map(str, args)]
        try:
            p = subprocess.run(argv, env=self.env(), cwd=self.path, capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"timeout": timeout}
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[2:])} failed ({p.returncode}):\n"
                               f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def cleanup(self):
        self._tmp.cleanup()


# --------------------------------------------------------------------------------------------
# Child side: each mode prints one JSON line


def _now():
    return time.perf_counter()


def child_demopkg(modname):
    t0 = _now()
    mod = __import__(modname)
    t1 = _now()
    r = mod.f(5)
    t2 = _now()
    r2 = mod.f(5)
    t3 = _now()
    n = int(modname.rsplit("_", 1)[1])
    assert type(r).__name__ == f"DemoType{n}" and r.x == 5 and r2.x == 5, (r, r2)
    return {"import_s": t1 - t0, "first_s": t2 - t1, "second_us": (t3 - t2) * 1e6}


def child_chain(modname, n):
    # numba compiles a chain of N njit functions by recursing through its compiler for every
    # level (~12 Python frames each), which exceeds the default recursion limit from N of about
    # 80: raise the limit and run on a thread with a large C stack (for both implementations).
    import threading
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 30)
    out = {}

    def work():
        t0 = _now()
        mod = __import__(modname)
        t1 = _now()
        r = mod.entry(1)
        t2 = _now()
        assert r == int(n) + 1, r
        out.update(import_s=t1 - t0, first_s=t2 - t1)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if not out:
        raise SystemExit("chain: the worker thread failed")
    return out


def child_kernels(pkmod, nbmod, quick):
    import numpy as np

    import benchlib
    pk = __import__(pkmod)
    nb = __import__(nbmod)
    quick = quick == "1"
    reps = benchlib.repeats(quick)
    rng = np.random.default_rng(0)
    out = {}

    v = rng.random(10**7)
    x, y = rng.random(2000), rng.random(2000)
    cases = {"sumsq": ((v,), 10**7), "pairdist": ((x, y), 2000)}
    for name, (args, size) in cases.items():
        fp, fn = getattr(pk, name), getattr(nb, name)
        a, b = fp(*args), fn(*args)          # warm-up: compile both
        assert abs(a - b) <= 1e-9 * abs(b), (name, a, b)
        res = benchlib.ns_per_call_side_by_side({"pkgimage": fp, "numba": fn}, args, reps,
                                                  benchlib.min_time(quick))
        out[name] = {"size": size, **res}
    return out


def child_calls(pkmod, nbmod, quick):
    import ctypes

    import benchlib
    pk = __import__(pkmod)
    nb = __import__(nbmod)
    quick = quick == "1"

    c_add2 = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(nb.add2_c.address)
    libc = ctypes.CDLL(None)
    labs = libc.labs
    labs.argtypes, labs.restype = [ctypes.c_long], ctypes.c_long

    def plain(x, y):
        return x + y

    fns = {"pkgimage": pk.add2, "numba": nb.add2, "ctypes C add2": c_add2, "python": plain}
    for name, f in fns.items():
        assert f(1, 2) == 3, name
    reps, mt = benchlib.repeats(quick), benchlib.min_time(quick)
    res = benchlib.ns_per_call_side_by_side(fns, (1, 2), reps, mt)
    res["ctypes libc labs (1 arg)"] = benchlib.ns_per_call(labs, (-1,), reps, mt)
    return res


MODES = {"demopkg": child_demopkg, "chain": child_chain, "kernels": child_kernels,
         "calls": child_calls}


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    print(json.dumps(MODES[mode](*args)), flush=True)

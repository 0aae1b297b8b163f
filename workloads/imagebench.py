"""Helpers for ``bench_images.py``: generated pkgimage modules, builds, and the fresh processes
that time them.

Every module is written into a temporary folder (one source folder per module, each with its
own pkgimage cache folder, so that a module has an image in exactly the cache folders where
it was built).  Children are started with ``python -m imagebench <mode> ...`` (``workloads/``
on ``PYTHONPATH``) and print one JSON object on their last stdout line; whole-process
commands (``python -c "..."``) are timed from the parent, start to exit, with their output
checked.

This module imports only the standard library at top level, so that a child does not
pre-import pkgimage, numba or NumPy before it times them.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT = 900.0          # seconds for any child (the 10,000-instance build is the longest)


# --------------------------------------------------------------------------------------------
# Generated sources


def demopkg_source(n: int) -> str:
    """Seed 004's DemoPkg as a pkgimage module whose image holds ``f(::Int64)``.

    The precompile directive runs only while the image is built (``pk.generating_output()``),
    so that the *same file* imported from source without an image compiles nothing at import
    and its first call ``f(5)`` is the cold one."""
    sys.path.insert(0, str(ROOT))
    try:
        from examples.demopkg.generate import source
    finally:
        sys.path.remove(str(ROOT))
    return (source(n, precompile=False, image=True)
            + "\nif pk.generating_output():\n    pk.precompile(f, (Int64,))\n")


def many_source(n: int) -> str:
    """``n`` small functions ``f_i(x: Int64) = x + i``, each precompiled: an image holding
    ``n`` instances, each with native code and a Python entry."""
    lines = ['"""Load-time workload: n functions, each precompiled for Int64."""', "",
             "import pkgimage as pk", "from pkgimage import Int64", "",
             "__pkgimage__ = True", ""]
    for i in range(n):
        lines += ["@pk.generic", f"def f_{i}(x: Int64):", f"    return x + {i}", ""]
    lines += ["FUNCS = [" + ", ".join(f"f_{i}" for i in range(n)) + "]", "",
              "if pk.generating_output():", "    for _f in FUNCS:",
              "        pk.precompile(_f, (Int64,))", ""]
    return "\n".join(lines)


def chain_pk_source(n: int) -> str:
    lines = ['"""Chain: f_0(x) = x + 1; f_i(x) = f_{i-1}(x) + 1."""', "",
             "import pkgimage as pk", "from pkgimage import Int64", "",
             "__pkgimage__ = True", "",
             "@pk.generic", "def f_0(x: Int64):", "    return x + 1", ""]
    for i in range(1, n):
        lines += ["@pk.generic", f"def f_{i}(x: Int64):", f"    return f_{i - 1}(x) + 1", ""]
    # Precompiled only while the image is built, as DemoPkg: the same file imported without
    # an image compiles nothing at import, and its first call is the cold one.
    lines += ["", "if pk.generating_output():", f"    pk.precompile(f_{n - 1}, (Int64,))", ""]
    return "\n".join(lines)


def chain_numba_source(n: int) -> str:
    lines = ['"""Chain for numba, cached on disk."""', "", "import numba", "",
             "@numba.njit(cache=True)", "def f_0(x):", "    return x + 1", ""]
    for i in range(1, n):
        lines += ["@numba.njit(cache=True)", f"def f_{i}(x):", f"    return f_{i - 1}(x) + 1", ""]
    return "\n".join(lines) + "\n"


def demopkg_numba_source(n: int) -> str:
    """DemoPkg's equivalent for numba, cached on disk: ``DemoType{i}`` is a named tuple with
    field ``x`` (numba constructs and returns named tuples in nopython code; no ``jitclass``,
    which numba cannot cache), ``to_DemoType{i}(d)`` the ``@njit(cache=True)`` conversion from
    any of them, and ``f(x)`` chains the N conversions.  ``print(f(5))`` shows
    ``DemoType{N}(x=5)``, as the pkgimage module's does."""
    lines = [f'"""DemoPkg (seed 004) for numba, N={n}: named tuples and cached njit '
             'functions."""', "", "from collections import namedtuple", "", "import numba", ""]
    lines += [f"DemoType{i} = namedtuple('DemoType{i}', ['x'])" for i in range(n + 1)]
    for i in range(n + 1):
        lines += ["", "", "@numba.njit(cache=True)", f"def to_DemoType{i}(d):",
                  f"    return DemoType{i}(d.x)"]
    lines += ["", "", "@numba.njit(cache=True)", "def f(x):", "    d = DemoType0(x)"]
    lines += [f"    d = to_DemoType{i}(d)" for i in range(1, n + 1)]
    lines += ["    return d", ""]
    return "\n".join(lines)


def deep_stack_code(body: str) -> str:
    """``python -c`` code running ``body`` (which sets ``out``) on a thread with a 1 GiB C
    stack and no recursion limit, then printing ``out``: numba recurses through its compiler
    once per level of a call chain, past the default limits from a depth of about 80."""
    inner = "\n".join("    " + ln for ln in body.splitlines())
    return ("import sys, threading\n"
            "sys.setrecursionlimit(1_000_000)\n"
            "threading.stack_size(1 << 30)\n"
            "res = []\n"
            f"def work():\n{inner}\n    res.append(out)\n"
            "t = threading.Thread(target=work); t.start(); t.join()\n"
            "print(res[0] if res else 'failed')\n")


# --------------------------------------------------------------------------------------------
# Parent side


class Workdir:
    """A temporary folder: ``src/<key>/<module>.py`` and ``cache/<name>/``."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pkgimage-imagebench-")
        self.path = Path(self._tmp.name)
        self.numba_cache = self.path / "numba-cache"

    def write(self, key: str, modname: str, text: str) -> Path:
        d = self.path / "src" / key
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{modname}.py").write_text(text)
        return d

    def cache(self, name: str, fresh: bool = False) -> Path:
        d = self.path / "cache" / name
        if fresh and d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def env(self, src: Path, cache: Path, child: bool = False, numba_cache=None) -> dict:
        """The environment of a timed process: the module's folder first on ``PYTHONPATH``
        (``workloads/`` too for ``-m imagebench`` children; the repo root last, for an
        interpreter without the editable install), its own cache folder, no auto-build.
        Bytecode caching is on whatever the parent's environment says: a user's process
        reads pkgimage's and the standard library's ``.pyc`` files, and without them the
        timed processes compiled pkgimage's own modules from source every time."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PKGIMAGE_", "NUMBA_"))
               and k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
        pp = [str(src)] + ([str(HERE)] if child else []) + [str(ROOT)]
        env.update(PYTHONPATH=os.pathsep.join(pp), PKGIMAGE_CACHE=str(cache),
                   PKGIMAGE_AUTO="0", NUMBA_CACHE_DIR=str(numba_cache or self.numba_cache))
        return env

    def cleanup(self):
        self._tmp.cleanup()


def _fail(what, p):
    out = p.stdout if isinstance(p.stdout, str) else (p.stdout or b"").decode(errors="replace")
    err = p.stderr if isinstance(p.stderr, str) else (p.stderr or b"").decode(errors="replace")
    raise RuntimeError(f"{what} failed (exit status {p.returncode}):\n{out[-2000:]}\n"
                       f"{err[-4000:]}")


def build(w: Workdir, src: Path, modname: str, cache: Path, deep: bool = False) -> float:
    """Wall seconds of the whole ``python -m pkgimage build MOD`` process.

    ``deep``: instead, the per-module build (``build --in-process MOD``, what the command
    starts for each module) on a thread with a 1 GiB stack and no recursion limit
    (``deep_stack_code``): pkgimage's compiler recurses once per level of a call chain and
    hit Python's default limit from a depth of about 200 ("expression nested too deeply")
    until 80e28f5; kept so that every chain process runs the same way."""
    argv = [sys.executable, "-m", "pkgimage", "build", "--quiet", modname]
    if deep:
        argv = [sys.executable, "-c", deep_stack_code(
            "import runpy, sys\n"
            f"sys.argv = ['pkgimage', 'build', '--in-process', '--quiet', {modname!r}]\n"
            "try:\n"
            "    runpy.run_module('pkgimage', run_name='__main__', alter_sys=True)\n"
            "    out = 0\n"
            "except SystemExit as e:\n"
            "    out = e.code or 0\n")
            + "sys.exit(res[0] if res else 1)\n"]
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=w.env(src, cache), cwd=w.path, capture_output=True,
                       timeout=TIMEOUT)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        _fail(f"pkgimage build {modname}", p)
    if not glob.glob(str(cache / f"{modname}-*.pkgi")):
        raise RuntimeError(f"pkgimage build {modname}: no image written to {cache}")
    return dt


def image_files(cache: Path, modname: str) -> dict:
    """Bytes of the image (``.pkgi``), its shared library (``.so``) and the code sidecar
    (``.pkgi.code``, written at the first load), and the shared library's path."""
    out = {"pkgi": 0, "so": 0, "code": 0, "so_path": None}
    for p in glob.glob(str(cache / f"{modname}-*")):
        if p.endswith(".pkgi"):
            out["pkgi"] += os.path.getsize(p)
        elif p.endswith(".so"):
            out["so"] += os.path.getsize(p)
            out["so_path"] = p
        elif p.endswith(".pkgi.code"):
            out["code"] += os.path.getsize(p)
    return out


def child(w: Workdir, src: Path, cache: Path, *args) -> dict:
    """Run ``python -m imagebench *args`` in a fresh interpreter; its JSON result."""
    argv = [sys.executable, "-m", "imagebench", *map(str, args)]
    p = subprocess.run(argv, env=w.env(src, cache, child=True), cwd=w.path,
                       capture_output=True, text=True, timeout=TIMEOUT)
    if p.returncode != 0:
        _fail(" ".join(argv[2:]), p)
    return json.loads(p.stdout.strip().splitlines()[-1])


def wall(w: Workdir, src: Path, cache: Path, code: str, expect: str | None = None,
         numba_cache=None) -> float:
    """Wall seconds of ``python -c code`` in a fresh process, start to exit; its stdout's
    last line must be ``expect`` (when given) and its exit status 0.  ``numba_cache``: the
    ``NUMBA_CACHE_DIR`` of this process (default: the work folder's shared one)."""
    argv = [sys.executable, "-c", code]
    env = w.env(src, cache, numba_cache=numba_cache)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=w.path, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        _fail(f"python -c {code!r}", p)
    if expect is not None:
        last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        if last != expect:
            raise RuntimeError(f"python -c {code!r} printed {last!r}, expected {expect!r}\n"
                               f"{p.stderr[-2000:]}")
    return dt


def fill_numba_cache(w: Workdir, src: Path, modname: str, entry: str, expect: str) -> float:
    """Run the numba chain once (compiling it, writing numba's cache); wall seconds.

    numba recurses through its compiler once per level of the chain, past the default
    recursion limit from a depth of about 80: the filling run raises the limit and runs on a
    thread with a large C stack.  Loading from the cache later needs neither."""
    code = deep_stack_code(f"import {modname}\nout = {modname}.{entry}(1)")
    return wall(w, src, w.path, code, expect)


# --------------------------------------------------------------------------------------------
# Child side: each mode prints one JSON line


def _now():
    return time.perf_counter()


def _stats():
    L = sys.modules.get("pkgimage.image.loader")
    P = sys.modules.get("pkgimage.compiler.pipeline")
    E = sys.modules.get("pkgimage.compiler.entry")
    return {"loaded_instances": L.STATS["loaded_instances"] if L else 0,
            "discarded_instances": L.STATS["discarded_instances"] if L else 0,
            "native_entries": len(E.PRELINKED) if E else 0,
            "compiled": P.STATS["compiled"] if P else 0,
            "llvmlite": "llvmlite" in sys.modules}


def child_first(modname, n):
    """DemoPkg: ``import pkgimage``, then the module, then ``f(5)`` twice, each timed."""
    t0 = _now()
    import pkgimage  # noqa: F401
    t1 = _now()
    mod = __import__(modname)
    t2 = _now()
    r = mod.f(5)
    t3 = _now()
    r2 = mod.f(5)
    t4 = _now()
    assert type(r).__name__ == f"DemoType{n}" and r.x == 5 and r2.x == 5, (r, r2)
    return {"pkgimage_s": t1 - t0, "import_s": t2 - t1, "first_s": t3 - t2,
            "second_s": t4 - t3, **_stats()}


def child_load(modname, n):
    """Load-time module: ``import pkgimage`` and its image loader (untimed: fixed costs
    that every image load pays once per process), then ``import MOD`` timed, with the part
    spent in ``loader.install_code`` (edge validation, linking, installing the instances)."""
    import pkgimage  # noqa: F401
    from pkgimage.image import loader
    spent = []
    inner = loader.install_code

    def timed(*a, **k):
        t = _now()
        try:
            return inner(*a, **k)
        finally:
            spent.append(_now() - t)

    loader.install_code = timed
    t0 = _now()
    mod = __import__(modname)
    t1 = _now()
    n = int(n)
    assert mod.f_0(1) == 1 and getattr(mod, f"f_{n - 1}")(1) == n, "wrong result"
    return {"import_s": t1 - t0, "install_s": sum(spent), **_stats()}


MODES = {"first": child_first, "load": child_load}


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    print(json.dumps(MODES[mode](*args)), flush=True)
    sys.stderr.flush()
    # Skip interpreter finalisation, as compilebench does: the figures are taken, and a
    # shutdown problem belongs to the whole-process figures, which exit normally.
    os._exit(0)

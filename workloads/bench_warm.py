"""The warm path against its floor: ``import pkgimage``, image loads, and their cost per object.

Whole processes (``python -c ...``, start to exit, output checked), the candidates
interleaved repeat by repeat (5 repeats; 3 with ``--quick``), each run once untimed first:

* ``python -c pass`` and ``python -c "import pkgimage"`` (the floor); target: ``import
  pkgimage`` at most 25 ms over ``pass`` (the median of the per-repeat differences);
* **DemoPkg N=1000 with its image**, ``import DemoPkg; print(DemoPkg.f(5))``; targets: at
  most 2x ``import pkgimage``, below ``import DemoPkg`` *from source* (the same file, no
  image, import only: the top level defining 1,001 types and their methods), and at most 0.2x
  numba ``cache=True`` warm on the same functions (``imagebench.demopkg_numba_source``);
* the same image process, checked for the modules it imported: no frontend, IR, inference,
  codegen, JIT or llvmlite;
* **an image whose compiled code calls the base library** (``many_source(1000)``: 1,000
  functions ``f_i(x) = x + i``), ``import libcalls; print(libcalls.f_999(1))``, which imports
  no base library (the process asserts it), beside the same process importing
  ``pkgimage.base`` first -- what every such load paid before -- and beside a driver that
  names pkgimage's types first (``from pkgimage import Int64``: the core, not the library);
* **an image extending the base library** (``OPS_SOURCE``: a struct whose ``__add__``,
  ``__sub__``, ``__mul__`` are methods of the library's functions, and a loop using them),
  ``import vecops; print(vecops.walk(10))``, which imports no base library either (its
  methods wait for the library's import), beside the same process importing it first;
* **floor: CPU by phase**: where the CPU time of that process goes (``process_time`` in the
  child, so that other jobs do not inflate it; 5 runs, 3 with ``--quick``): the
  interpreter's own start, ``import pkgimage``, the loader's modules, reading and verifying
  the image, the module's code, its state (types, functions, default constructors), methods,
  validating, linking and installing the instances, the rest of the import, the first call;
  beside what CPython alone takes to create one bare class with ``__slots__`` and one with
  the metaclass, parent and namespace of the image's structs (the least a struct type can
  cost), and the floor of any load that makes the classes eagerly -- the interpreter,
  ``import pkgimage``, the loader's modules and those classes -- against the CPU that "2x
  ``import pkgimage``" leaves.  Where a target is not met, this is the profile of what is
  left.

In-process figures (fresh child processes, ``import pkgimage`` and the loader imported first,
untimed; then ``import MOD`` timed in CPU time, ``process_time``: what the load costs, which
other jobs on the two shared cores inflated by up to 1.5x in wall time from one run to the
next; the whole-process figures above are wall time):

* **instances**: a module of N functions ``f_i(x: Int64) = x + i``, each precompiled (N
  methods, N + 1 cached instances with the base library's ``add``); the instance cost is the
  time in ``loader.install_code`` (validation, linking, installing) per instance; target
  <= 5 us, and a 10,000-instance image imported in under 100 ms (whole ``import MOD``);
  ``pkgimage.base`` and the native-code modules (``compiler.entry``, ``compiler.native``
  with ctypes) are imported before the timing, as ``import pkgimage`` and the loader are:
  fixed costs of the first image that uses the base library or has code (the whole
  ``import MOD`` row and the whole-process rows include them);
* **types + methods**: DemoPkg N without its precompile directive (N+1 struct types, N+1
  constructor methods, ``f``, no instance); the cost is the whole ``import MOD`` per type or
  method restored (the default constructors each struct gets are made on the side and not
  counted); target <= 10 us; beside what CPython alone takes to make the module's struct
  classes (their metaclass, parent and namespace), the part of it no Python code can save;
  both at N = 100, 1,000, 10,000 (100 and 1,000 with ``--quick``): linear when the per-object
  cost stays flat;
* **gc**: a full collection (``gc.collect()``, best of 5) after loading DemoPkg N=1000, with
  the loader's ``gc.freeze`` undone and with it.

The machine has 2 cores shared with other jobs: absolute times are noisy, the paired ratios
less so.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import statistics
import subprocess
import sys

import benchlib
import imagebench as ib

NAME = "warm"
PLOT_COLS = 3

N_DEMO = 1000
COMPILER = ("pkgimage.compiler.frontend", "pkgimage.compiler.ir",
            "pkgimage.compiler.inference", "pkgimage.compiler.codegen",
            "pkgimage.compiler.jit", "pkgimage.compiler.pipeline", "llvmlite")

# The floor of a struct type, for the children below: the CPU seconds CPython alone takes to
# make ``count`` classes like ``proto`` -- its metaclass, parent and namespace (the struct's
# methods, fields, slots, ``__pk_*`` attributes) -- with no code of pkgimage's.
STRUCT_CLASSES_CPU = r"""
def struct_classes_cpu(proto, count):
    import gc, time, types
    from pkgimage import types as PT
    ns = {k: v for k, v in vars(proto).items() if k not in ("__dict__", "__weakref__")
          and not isinstance(v, types.MemberDescriptorType)}
    parent = proto.__mro__[1]
    gc.disable()
    c0 = time.process_time()
    made = [type.__new__(PT.PkType, f"S{i}", (parent,), dict(ns)) for i in range(count)]
    return time.process_time() - c0
"""

# Child: import pkgimage and the loader (untimed), then the module (timed, in CPU time: the
# cost of the load, which other jobs on the shared cores inflated by up to 1.5x in wall time
# between runs), then what it cost; and what CPython alone takes to make the module's struct
# classes (the same metaclass, parent and namespace) after it.
CHILD_LOAD = r"""
import json, sys, time
import pkgimage
import pkgimage.base            # (fixed costs, once per process: the base library's methods,
import pkgimage.compiler.entry  #  and the native-code modules every load with code imports:
import pkgimage.compiler.native #  the entry hook, ctypes and the shared-library loader)
from pkgimage.image import loader
T = time.process_time
spent = []
inner = loader.install_code
def timed(*a, **k):
    t = T()
    try:
        return inner(*a, **k)
    finally:
        spent.append(T() - t)
loader.install_code = timed
t0 = T()
import {mod} as M
t1 = T()
{check}
from pkgimage import types as PT
mine = [v for v in vars(M).values()
        if isinstance(v, PT.PkType) and getattr(v, "__pk_module__", None) == "{mod}"]
structs = [v for v in mine if v.__pk_kind__ == "struct"]
{floor}
classes_s = struct_classes_cpu(structs[-1], len(structs)) if structs else 0.0
h = loader.LOADED["{mod}"]
print(json.dumps({{"import_s": t1 - t0, "install_s": sum(spent), "types": len(mine),
                  "structs": len(structs), "classes_s": classes_s,
                  "methods": h["counts"]["methods"], "instances": loader.STATS["loaded_instances"],
                  "discarded": loader.STATS["discarded_instances"]}}))
"""

CHILD_GC = r"""
import gc, json, sys, time
import DemoPkg
assert DemoPkg.f(5).x == 5
def full():
    best = None
    for _ in range(5):
        t = time.perf_counter(); gc.collect(); dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best
frozen = gc.get_freeze_count()
gc.unfreeze()
without = full()
gc.freeze()
with_ = full()
print(json.dumps({"without_s": without, "with_s": with_, "frozen": frozen,
                  "compiler": sorted(m for m in sys.modules if m.startswith(%r))}))
""" % (COMPILER,)


# Child: where the CPU time of the DemoPkg image process goes, phase by phase (the floor of
# the process: what each part of a load costs once nothing is left to defer).  CPU time
# (``process_time``), so that other jobs on the machine do not inflate it; the first line
# reads what the interpreter's own start cost before any of this code ran.
CHILD_PHASES = r"""
import time
T = time.process_time
start = T()
import gc, json, sys
t0 = T()
import pkgimage
t1 = T()
from pkgimage.image import loader
t2 = T()
spent = {}
def wrap(name):
    inner = getattr(loader, name)
    def timed(*a, **k):
        t = T()
        try:
            return inner(*a, **k)
        finally:
            spent[name] = spent.get(name, 0.0) + T() - t
    setattr(loader, name, timed)
for name in ("read_image", "module_code", "loads_state", "restore_methods", "install_code",
             "_validate_records", "_link", "load_into"):
    wrap(name)
t3 = T()
import DemoPkg
t4 = T()
r = DemoPkg.f(5)
t5 = T()
assert r.x == 5
n = %d
gc.disable()
c0 = T()
classes = [type(f"C{i}", (object,), {"__slots__": ("x",)}) for i in range(n + 1)]
c1 = T()
%s
print(json.dumps({"startup": start, "import pkgimage": t1 - t0, "loader modules": t2 - t1,
                  "import DemoPkg": t4 - t3, "first call": t5 - t4, "classes": c1 - c0,
                  "struct classes": struct_classes_cpu(DemoPkg.DemoType1, n + 1),
                  "types": n + 1, "instances": loader.STATS["loaded_instances"], **spent}))
""" % (N_DEMO, STRUCT_CLASSES_CPU)

# (phase, what it does, the key in the child's output or how to compute it)
PHASES = (
    ("interpreter start (site, .pth files)", "startup"),
    ("import pkgimage", "import pkgimage"),
    ("the loader's modules (types, dispatch, instances, serialize, ...)", "loader modules"),
    ("read + verify the image (trust, checksums, staleness)", "read_image"),
    ("module code (marshalled sidecar)", "module_code"),
    ("module state: types, functions, globals, default constructors", "loads_state"),
    ("methods inserted", "restore_methods"),
    ("instances validated (fingerprints, edges, bindings, callees)", "_validate_records"),
    ("native code linked (dlopen, symbols, constant slots)", "_link"),
    ("instances installed (CodeInstances, edges, backedges, entries)", "install"),
    ("rest of the import (finder, image path, __init__, gc.freeze)", "rest"),
    ("first call f(5) (entry, bindings check)", "first call"),
)


def _phase_rows(runs):
    """Rows of the DemoPkg image process's CPU time by phase (median over runs)."""
    def value(run, key):
        if key == "install":
            return run["install_code"] - run["_validate_records"] - run.get("_link", 0.0)
        if key == "rest":
            return run["import DemoPkg"] - sum(run.get(k, 0.0) for k in (
                "read_image", "module_code", "loads_state", "restore_methods", "install_code"))
        return run.get(key, 0.0)
    rows = []
    total = [sum(value(r, k) for _, k in PHASES) for r in runs]
    for what, key in PHASES:
        xs = [value(r, key) * 1e3 for r in runs]
        note = ""
        if key == "loads_state":
            per = statistics.median(r["classes"] / r["types"] for r in runs) * 1e6
            sper = statistics.median(r["struct classes"] / r["types"] for r in runs) * 1e6
            note = (f"{runs[0]['types']} struct types; CPython alone takes {per:.1f} us to "
                    f"create one bare class with __slots__ here, {sper:.1f} us one with a "
                    f"struct's metaclass, parent and namespace")
        elif key == "_validate_records":
            note = f"{runs[0]['instances']} cached instances"
        rows.append(benchlib.figure_row("floor: CPU by phase", N_DEMO, what,
                                        benchlib.summary(xs), "ms", note=note))
    rows.append(benchlib.figure_row("floor: CPU by phase", N_DEMO, "total (process CPU)",
                                    benchlib.summary([t * 1e3 for t in total]), "ms"))
    # The least any load that makes the image's classes can cost (the interpreter, pkgimage,
    # the loader's modules, and the struct classes as CPython alone makes them), against
    # what "2x import pkgimage" leaves for the whole process (both in CPU).
    floor = [(r["startup"] + r["import pkgimage"] + r["loader modules"] + r["struct classes"])
             * 1e3 for r in runs]
    budget = statistics.median(2 * (r["startup"] + r["import pkgimage"]) for r in runs) * 1e3
    rows.append(benchlib.figure_row(
        "floor: CPU by phase", N_DEMO, "floor of an eager load (start, import pkgimage, "
        "loader modules, struct classes by CPython alone)", benchlib.summary(floor), "ms",
        note=f"2x import pkgimage leaves {budget:.1f} ms of CPU for the whole process; "
             f"{statistics.median(floor) - budget:+.1f} ms against it before one method, "
             f"instance or function is made"))
    return rows


def _child(w, src, cache, code):
    p = subprocess.run([sys.executable, "-c", code], env=w.env(src, cache), cwd=w.path,
                       capture_output=True, text=True, timeout=ib.TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"child failed:\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# A module whose struct has operators: its ``__add__``/``__sub__``/``__mul__`` are methods of
# the base library's ``add``/``sub``/``mul`` (what most packages with a vector type do).
OPS_SOURCE = '''"""A 2-D vector with operators, and a loop using them."""

import pkgimage as pk
from pkgimage import Float64, Int64

__pkgimage__ = True


@pk.struct
class Vec:
    x: Float64
    y: Float64

    def __add__(self, o: "Vec"):
        return Vec(self.x + o.x, self.y + o.y)

    def __sub__(self, o: "Vec"):
        return Vec(self.x - o.x, self.y - o.y)

    def __mul__(self, k: Float64):
        return Vec(self.x * k, self.y * k)

    def norm2(self):
        return self.x * self.x + self.y * self.y


@pk.generic
def walk(n: Int64):
    v = Vec(0.0, 0.0)
    step = Vec(1.0, 0.5)
    for i in range(n):
        v = v + step * 2.0 - step
    return v.norm2()


if pk.generating_output():
    pk.precompile(walk, (Int64,))
'''


def _types_source(n):
    """DemoPkg N with no instance in its image (no precompile directive)."""
    sys.path.insert(0, str(ib.ROOT))
    try:
        from examples.demopkg.generate import source
    finally:
        sys.path.remove(str(ib.ROOT))
    return source(n, precompile=False, image=True)


def _stable_numba_source(n):
    """The numba DemoPkg's folder, kept between runs under the user's cache folder
    (``pkgimage-bench/numba-demo<n>``): numba's cache is keyed by the source file's path and
    time, and compiling DemoPkg N=1000 cold takes numba from 40 s to many minutes on a busy
    machine.  The file is rewritten only when its text changes; "warm" is numba's cache
    filled, however it was filled (the untimed first run fills it when it is not)."""
    import platformdirs
    from pathlib import Path
    d = Path(platformdirs.user_cache_dir("pkgimage-bench")) / f"numba-demo{n}"
    d.mkdir(parents=True, exist_ok=True)
    text = ib.demopkg_numba_source(n)
    f = d / "DemoPkg_nb.py"
    if not f.exists() or f.read_text() != text:
        f.write_text(text)
    return d


def run(quick: bool):
    w = ib.Workdir()
    try:
        return _run(w, quick)
    finally:
        w.cleanup()


def _run(w, quick):
    reps = 3 if quick else 5
    sizes = (100, 1000) if quick else (100, 1000, 10000)
    numba = importlib.util.find_spec("numba") is not None
    empty = w.cache("empty")
    floor = w.write("floor", "nothing", "")
    demo_src = w.write("demo", "DemoPkg", ib.demopkg_source(N_DEMO))
    demo_cache = w.cache("demo")
    built = ib.build(w, demo_src, "DemoPkg", demo_cache)
    # (a module whose compiled code calls the base library: ``f_i(x) = x + i``)
    lib_src = w.write("libcalls", "libcalls", ib.many_source(N_DEMO))
    lib_cache = w.cache("libcalls")
    ib.build(w, lib_src, "libcalls", lib_cache)
    lib_expect = str(N_DEMO)
    ops_src = w.write("ops", "vecops", OPS_SOURCE)
    ops_cache = w.cache("ops")
    ib.build(w, ops_src, "vecops", ops_cache)
    cmds = {
        "pass": (floor, empty, "pass", None),
        "import pkgimage": (floor, empty, "import pkgimage", None),
        "image": (demo_src, demo_cache, "import DemoPkg; print(DemoPkg.f(5))",
                  f"DemoType{N_DEMO}(x=5)"),
        "source": (demo_src, empty, "import DemoPkg", None),
        "lib": (lib_src, lib_cache,
                f"import sys, libcalls; print(libcalls.f_{N_DEMO - 1}(1)); "
                f"assert 'pkgimage.base' not in sys.modules", lib_expect),
        "lib+names": (lib_src, lib_cache,
                      f"import sys, pkgimage as pk; from pkgimage import Int64; "
                      f"import libcalls; print(libcalls.f_{N_DEMO - 1}(Int64(1))); "
                      f"assert 'pkgimage.base' not in sys.modules", lib_expect),
        "ops": (ops_src, ops_cache,
                "import sys, vecops; print(vecops.walk(10)); "
                "assert 'pkgimage.base' not in sys.modules", "125.0"),
        "ops+base": (ops_src, ops_cache,
                     "import pkgimage.base, vecops; print(vecops.walk(10))", "125.0"),
        "lib+base": (lib_src, lib_cache,
                     f"import pkgimage.base, libcalls; print(libcalls.f_{N_DEMO - 1}(1))",
                     lib_expect),
    }
    if numba:
        nb_src = _stable_numba_source(N_DEMO)
        cmds["numba warm"] = (nb_src, empty, "import DemoPkg_nb; print(DemoPkg_nb.f(5))",
                              f"DemoType{N_DEMO}(x=5)", nb_src / "numba-cache")
    for c in cmds.values():            # untimed: OS caches, the code sidecar, numba's cache
        ib.wall(w, *c)
    timed = {k: [] for k in cmds}
    for _ in range(reps):
        for k, c in cmds.items():
            timed[k].append(ib.wall(w, *c))

    rows = []
    fig = "whole process"
    ref = timed["import pkgimage"]
    over = [(a - b) * 1e3 for a, b in zip(ref, timed["pass"])]
    rows.append(benchlib.figure_row(fig, None, "python -c pass",
                                    benchlib.summary_of(timed["pass"], 1e3), "ms"))
    d = statistics.median(over)
    rows.append(benchlib.figure_row(
        fig, None, "python -c 'import pkgimage'", benchlib.summary_of(ref, 1e3), "ms",
        target="<= python -c pass + 25 ms", met=d <= 25.0,
        note=f"{d:.1f} ms over python -c pass (median of per-repeat differences)"))
    r = benchlib.paired(timed["image"], ref)
    rows.append(benchlib.figure_row(
        fig, N_DEMO, "DemoPkg image: import + f(5)", benchlib.summary_of(timed["image"], 1e3),
        "ms", r, "import pkgimage", "<= 2x import pkgimage", r <= 2.0,
        f"image built in {built:.1f} s"))
    r = benchlib.paired(timed["image"], timed["source"])
    rows.append(benchlib.figure_row(
        fig, N_DEMO, "DemoPkg from source: import only", benchlib.summary_of(timed["source"], 1e3),
        "ms", r, "image / source", "image faster than source in every repeat",
        all(a < b for a, b in zip(timed["image"], timed["source"])),
        "ratio: image process (import + first call) over source import"))
    if numba:
        r = benchlib.paired(timed["image"], timed["numba warm"])
        rows.append(benchlib.figure_row(
            fig, N_DEMO, "numba cache=True warm: import + f(5)",
            benchlib.summary_of(timed["numba warm"], 1e3), "ms", r, "image / numba warm",
            "image <= 0.2x numba warm", r <= 0.2))

    r = benchlib.paired(timed["lib"], ref)
    rows.append(benchlib.figure_row(
        fig, N_DEMO, "image calling the base library: import + f(1)",
        benchlib.summary_of(timed["lib"], 1e3), "ms", r, "import pkgimage",
        note=f"{N_DEMO} functions f_i(x) = x + i and their instances; the base library "
             f"is not imported (its tables taken as recorded, checked if it ever is)"))
    r = benchlib.paired(timed["lib+names"], ref)
    rows.append(benchlib.figure_row(
        fig, N_DEMO, "... a driver naming pkgimage's types first",
        benchlib.summary_of(timed["lib+names"], 1e3), "ms", r, "import pkgimage",
        note="from pkgimage import Int64; f(Int64(1)): the core without the base library"))
    r = benchlib.paired(timed["lib"], timed["lib+base"])
    rows.append(benchlib.figure_row(
        fig, N_DEMO, "... the base library imported first",
        benchlib.summary_of(timed["lib+base"], 1e3), "ms", r, "image / with the library",
        note="what every such load cost before the tables were taken on trust"))

    r = benchlib.paired(timed["ops"], ref)
    rows.append(benchlib.figure_row(
        fig, None, "image extending the base library: import + walk(10)",
        benchlib.summary_of(timed["ops"], 1e3), "ms", r, "import pkgimage",
        note="a struct whose __add__, __sub__, __mul__ are methods of the library's add, "
             "sub, mul: held until the library is imported, which this process never does"))
    r = benchlib.paired(timed["ops"], timed["ops+base"])
    rows.append(benchlib.figure_row(
        fig, None, "... the base library imported first",
        benchlib.summary_of(timed["ops+base"], 1e3), "ms", r, "image / with the library",
        note="what every such load paid before its methods were held"))

    runs = [_child(w, demo_src, demo_cache, CHILD_PHASES) for _ in range(reps)]
    rows += _phase_rows(runs)

    gcr = _child(w, demo_src, demo_cache, CHILD_GC)
    rows.append(benchlib.figure_row(
        "warm load", N_DEMO, "compiler modules imported by an image load",
        {"median": len(gcr["compiler"]), "min": len(gcr["compiler"]),
         "max": len(gcr["compiler"])}, "modules", target="none", met=not gcr["compiler"],
        note=", ".join(gcr["compiler"]) or "no frontend, IR, inference, codegen, JIT, llvmlite"))
    rows.append(benchlib.figure_row(
        "gc", N_DEMO, "full collection after the load, not frozen",
        benchlib.summary_of([gcr["without_s"]], 1e3), "ms"))
    rows.append(benchlib.figure_row(
        "gc", N_DEMO, "full collection after the load, frozen (the loader's gc.freeze)",
        benchlib.summary_of([gcr["with_s"]], 1e3), "ms",
        note=f"{gcr['frozen']} objects frozen"))

    # -- per-object costs -------------------------------------------------------------------
    marginal = {"instances": [], "types + methods": []}    # (N, objects, median seconds)
    for n in sizes:
        src = w.write(f"many{n}", "many", ib.many_source(n))
        cache = w.cache(f"many{n}")
        ib.build(w, src, "many", cache)
        code = CHILD_LOAD.format(mod="many", check=f"assert M.f_{n - 1}(1) == {n}",
                                 floor=STRUCT_CLASSES_CPU)
        _child(w, src, cache, code)                      # untimed: sidecar, OS caches
        res = [_child(w, src, cache, code) for _ in range(reps)]
        # (n instances of the f_i, and the base library's add(Int64, Int64) they call)
        assert all(x["instances"] >= n and x["discarded"] == 0 for x in res), res
        per = [x["install_s"] / x["instances"] * 1e6 for x in res]
        rows.append(benchlib.figure_row(
            "instances", n, "install per cached instance", benchlib.summary(per), "us",
            target="<= 5 us", met=statistics.median(per) <= 5.0,
            note=f"{n} methods and {n} instances"))
        marginal["instances"].append((n, res[0]["instances"],
                                      statistics.median(x["install_s"] for x in res)))
        whole = [x["import_s"] * 1e3 for x in res]
        rows.append(benchlib.figure_row(
            "instances", n, "import MOD (whole load)", benchlib.summary(whole), "ms",
            target="< 100 ms" if n == 10000 else "",
            met=(statistics.median(whole) < 100.0) if n == 10000 else None))

        src = w.write(f"types{n}", "DemoPkg", _types_source(n))
        cache = w.cache(f"types{n}")
        ib.build(w, src, "DemoPkg", cache)
        code = CHILD_LOAD.format(mod="DemoPkg", check="", floor=STRUCT_CLASSES_CPU)
        _child(w, src, cache, code)
        res = [_child(w, src, cache, code) for _ in range(reps)]
        objs = res[0]["types"] + res[0]["methods"]
        marginal["types + methods"].append((n, objs,
                                            statistics.median(x["import_s"] for x in res)))
        per = [x["import_s"] / objs * 1e6 for x in res]
        cls = statistics.median(x["classes_s"] for x in res) / objs * 1e6
        rows.append(benchlib.figure_row(
            "types + methods", n, "import per type or method restored", benchlib.summary(per),
            "us", target="<= 10 us", met=statistics.median(per) <= 10.0,
            note=f"{res[0]['types']} types, {res[0]['methods']} methods; CPython alone "
                 f"making the {res[0]['structs']} struct classes: {cls:.1f} us of it"))
        shutil.rmtree(cache, ignore_errors=True)
    # The cost of one more object: the slope between consecutive sizes (fixed costs of a
    # load -- opening the shared library, the loader's own imports -- cancel out).  Linear
    # means these stay flat.
    for fig, pts in marginal.items():
        tgt = 5.0 if fig == "instances" else 10.0
        for (n0, o0, t0), (n1, o1, t1) in zip(pts, pts[1:]):
            us = (t1 - t0) / (o1 - o0) * 1e6
            rows.append(benchlib.figure_row(
                fig, n1, f"marginal cost per {'instance' if fig == 'instances' else 'type or method'}"
                f" ({n0} to {n1})", {"median": us, "min": us, "max": us}, "us",
                target=f"<= {tgt:g} us", met=us <= tgt))
    return rows


def plot(rows, axes):
    ax = axes[0]
    for fig, color in (("instances", "tab:orange"), ("types + methods", "tab:blue")):
        pts = sorted((r for r in rows if r["figure"] == fig and r["unit"] == "us"
                      and not r["impl"].startswith("marginal")), key=lambda r: r["N"])
        if not pts:
            continue
        x = [r["N"] for r in pts]
        y = [r["median"] for r in pts]
        err = [[r["median"] - r["min"] for r in pts], [r["max"] - r["median"] for r in pts]]
        ax.errorbar(x, y, yerr=err, color=color, marker="o", capsize=3,
                    label=pts[0]["impl"])
        tgt = 5.0 if fig == "instances" else 10.0
        ax.axhline(tgt, color=color, ls=":", lw=1)
        ax.annotate(f"target {tgt:g} us", (x[0], tgt), textcoords="offset points",
                    xytext=(0, 3), fontsize=6, color=color)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (objects in the image)")
    ax.set_ylabel("us per object (median; bars: min-max)")
    ax.set_title("image import cost per object (flat = linear)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1]
    whole = [r for r in rows if r["figure"] == "whole process"]
    names = [r["impl"].replace(": ", "\n") for r in whole]
    ax.barh(range(len(whole)), [r["median"] for r in whole],
            xerr=[[r["median"] - r["min"] for r in whole], [r["max"] - r["median"] for r in whole]],
            color="tab:gray")
    ax.set_yticks(range(len(whole)), names, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("wall ms, whole process (median; bars: min-max)")
    ax.set_title(f"fresh process (N={N_DEMO})", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    ax = axes[2]
    phases = [r for r in rows if r["figure"] == "floor: CPU by phase"
              and not r["impl"].startswith("total")]
    if phases:
        ax.barh(range(len(phases)), [r["median"] for r in phases], color="tab:purple")
        ax.set_yticks(range(len(phases)), [r["impl"].split(" (")[0] for r in phases],
                      fontsize=6)
        ax.invert_yaxis()
        ax.set_xlabel("CPU ms (median)")
        ax.set_title(f"where the image process's CPU goes (N={N_DEMO})", fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)


def summary(rows):
    out = ["| figure | N | what | median | target | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        med = "-" if r["median"] is None else f"{r['median']:.3g} {r['unit']}"
        if r.get("ratio") is not None:
            med += f" ({r['ratio']:.2f}x {r['vs']})"
        out.append(f"| {r['figure']} | {r['N'] or ''} | {r['impl']} | {med} | "
                   f"{r['target']} | {r['met'] or ''} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":          # python workloads/bench_warm.py [--quick]
    rs = run("--quick" in sys.argv)
    print(benchlib.markdown_table(rs))
    print(summary(rs))

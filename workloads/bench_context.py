"""Context dispatch versus global dispatch (issue 7).

Rows: ns per call from Python and inside native code (global function vs context function
with the same body); invalidated instances when an unrelated package extends ``+``/``*`` for
its own type and ``add(::Float64, ::Float64)`` (global mode vs context mode); and the image
hit rate of seed 003's Ring modules across three sessions that fuse different module sets
(instances compiled in each session after the images were built: 0 means every call was
served by an image).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

import benchlib

NAME = "context"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = os.path.join(ROOT, "examples")

KERNELS = '''
import pkgimage as pk
from pkgimage import Float64, Int64

@pk.generic
def g_axpy(a: Float64, x: Float64, y: Float64):
    return a * x + y

@pk.mf
def c_axpy(a: Float64, x: Float64, y: Float64):
    return a * x + y

@pk.generic
def g_loop(n: Int64):
    s = 0.0
    for i in range(n):
        s = g_axpy(1.0000001, s, 1.0)
    return s

@pk.mf
def c_loop(n: Int64):
    s = 0.0
    for i in range(n):
        s = c_axpy(1.0000001, s, 1.0)
    return s

pk.fexport(c_axpy)
pk.fexport(c_loop)
'''

UNRELATED = '''
import pkgimage as pk
from pkgimage import Float64

@pk.struct
class Meters:
    v: Float64

@pk.base.add.method
def _(a: Meters, b: Meters):
    return Meters(a.v + b.v)

@pk.base.mul.method
def _(a: Meters, b: Float64):
    return Meters(a.v * b)

@pk.base.add.method
def _(x: Float64, y: Float64):
    return 0.0
'''

COUNT = '''
import json, pkgimage as pk, kernels as K
from pkgimage.compiler import instances as INS
pk.fusing(K)
vals = [K.g_axpy(2.0, 3.0, 1.0), K.g_loop(10), c_axpy(2.0, 3.0, 1.0), c_loop(10)]
def count(ctx):
    n = 0
    for trig, roots in INS.INVALIDATION_LOG:
        for ci in roots:
            for mi in [ci.mi] + INS.all_backedges(ci.mi):
                if (mi.method.function.module == "pkgimage.contexts.views") == ctx:
                    n += 1
    return n
import unrelated
after = [K.g_axpy(2.0, 3.0, 1.0), K.g_loop(10), c_axpy(2.0, 3.0, 1.0), c_loop(10)]
print(json.dumps({"global": count(False), "context": count(True), "before": vals,
                  "after": after}))
'''

SESSION = '''
import json, sys, pkgimage as pk
from ring_context import Ring_int, Ring_Q, Ring_fma
R = pk.Rational[pk.Int64]
mods = sys.argv[1].split(",")
for m in mods:
    pk.fusing({"int": Ring_int, "Q": Ring_Q, "fma": Ring_fma}[m])
calls = 0
if "int" in mods:
    ring_fma(Ring_int.foo_int(3), Ring_int.foo_int(2), Ring_int.foo_int(5)); calls += 1
if "Q" in mods:
    ring_fma(Ring_Q.foo_Q(R(3, 1)), Ring_Q.foo_Q(R(2, 1)), Ring_Q.foo_Q(R(5, 1))); calls += 1
compiled = 0
if "pkgimage.compiler.pipeline" in sys.modules:
    compiled = sys.modules["pkgimage.compiler.pipeline"].STATS["compiled"]
import pkgimage.image.loader as L
print(json.dumps({"calls": calls, "compiled": compiled,
                  "loaded": L.STATS["loaded_instances"]}))
'''


def _env(work, cache):
    return dict(os.environ, PKGIMAGE_AUTO="0", PKGIMAGE_CACHE=cache,
                PYTHONPATH=os.pathsep.join([work, EXAMPLES, ROOT]))


def _py(code, env, *args):
    r = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(r.stdout + r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(quick):
    rows = []
    work = tempfile.mkdtemp(prefix="pkgimage-bench-context-")
    with open(os.path.join(work, "kernels.py"), "w") as f:
        f.write(textwrap.dedent(KERNELS))
    with open(os.path.join(work, "unrelated.py"), "w") as f:
        f.write(textwrap.dedent(UNRELATED))
    sys.path[:0] = [work]
    import pkgimage as pk
    import kernels as K
    pk.fusing(K)
    from pkgimage.contexts import ContextFunction
    c_axpy = ContextFunction("c_axpy", __name__)
    c_loop = ContextFunction("c_loop", __name__)
    reps = benchlib.repeats(quick)
    r = benchlib.ns_per_call_side_by_side({"global": K.g_axpy, "context": c_axpy},
                                          (2.0, 3.0, 1.0), reps,
                                          benchlib.min_time(quick))
    for impl in ("global", "context"):
        rows.append({"figure": "call from Python", "impl": impl, "median": r[impl]["median"],
                     "min": r[impl]["min"], "max": r[impl]["max"], "unit": "ns/call",
                     "ratio to global": benchlib.paired_ratio(r[impl], r["global"])})
    n = 1_000_000
    r = benchlib.ns_per_call_side_by_side({"global": K.g_loop, "context": c_loop}, (n,), reps,
                                            benchlib.min_time(quick))
    for impl in ("global", "context"):
        rows.append({"figure": "call inside native code", "impl": impl,
                     "median": r[impl]["median"] / n, "min": r[impl]["min"] / n,
                     "max": r[impl]["max"] / n, "unit": "ns/call",
                     "ratio to global": benchlib.paired_ratio(r[impl], r["global"])})
    env = _env(work, os.path.join(work, "cache"))
    d = _py(COUNT, env)
    for impl in ("global", "context"):
        rows.append({"figure": "invalidated by an unrelated package", "impl": impl,
                     "median": d[impl], "min": d[impl], "max": d[impl], "unit": "instances",
                     "note": f"results before {d['before'][:2] if impl == 'global' else d['before'][2:]}"
                             f" after {d['after'][:2] if impl == 'global' else d['after'][2:]}"})
    cache = os.path.join(work, "ring-cache")
    env = _env(work, cache)
    subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet", "ring_context.Ring_int",
                    "ring_context.Ring_Q", "ring_context.Ring_fma"], env=env, check=True,
                   capture_output=True)
    for mods in ("int,fma", "int,Q,fma", "Q,fma"):
        d = _py(SESSION, env, mods)
        rows.append({"figure": "image hit rate (Ring, 3 sessions)", "impl": mods,
                     "median": d["compiled"], "min": d["compiled"], "max": d["compiled"],
                     "unit": "instances compiled",
                     "note": f"{d['calls']} calls, {d['loaded']} instances loaded, "
                             f"hit rate {'100%' if d['compiled'] == 0 else 'partial'}"})
    return rows


def plot(rows, ax):
    sel = [r for r in rows if r["unit"] == "ns/call"]
    labels = [f"{r['figure'].replace('call ', '')}\n{r['impl']}" for r in sel]
    ax.bar(range(len(sel)), [r["median"] for r in sel],
           yerr=[[r["median"] - r["min"] for r in sel], [r["max"] - r["median"] for r in sel]],
           color=["tab:blue" if r["impl"] == "global" else "tab:orange" for r in sel])
    ax.set_xticks(range(len(sel)), labels, fontsize=7)
    ax.set_ylabel("ns per call")
    ax.set_yscale("log")
    ax.set_title("context vs global dispatch")

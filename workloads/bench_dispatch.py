"""Dispatch overhead: ns per call from Python of a 2-argument function with 5 methods over Int64/Float64.

The same five methods -- (Int64, Int64), (Float64, Float64), (Int64, Float64), (Float64, Int64)
and (Real, Real), each returning a constant -- as a pkgimage generic function, as a hand-written
dispatcher over a dict keyed by the tuple of argument classes, and with plum-dispatch, plus a
plain Python function as the floor.  The call is ``f(1, 2)`` with its argument types already
cached, so the figure is the cost of the warm call path.  Whatever ``f(1, 2)`` runs is measured:
the Python method body today, a native entry once the compiler installs one.

"ratio to X" is this implementation's time over X's, taken in the same repeat (the candidates
are interleaved), median over repeats: below 1 is faster than X.  Targets: pkgimage's ratio
to dict at most 1.2, its ratio to plum at most 0.4 (2.5x faster).
"""

import numbers

import benchlib
import numpy as np

import pkgimage as pk
from pkgimage import Float64, Int64, Real

NAME = "dispatch"
ARGS = (1, 2)
DICT = "dict dispatcher"
PLUM = "plum-dispatch"
REALS = (int, float, np.float32)   # classes the dict dispatcher knows


def _pkgimage():
    f = pk.function("bench_dispatch_f")

    @f.method
    def _(a: Int64, b: Int64):
        return 1

    @f.method
    def _(a: Float64, b: Float64):
        return 2

    @f.method
    def _(a: Int64, b: Float64):
        return 3

    @f.method
    def _(a: Float64, b: Int64):
        return 4

    @f.method
    def _(a: Real, b: Real):
        return 5

    return f


def _dict_dispatcher():
    def ii(a, b): return 1
    def ff(a, b): return 2
    def if_(a, b): return 3
    def fi(a, b): return 4
    def rr(a, b): return 5
    table = {(a, b): rr for a in REALS for b in REALS}     # the (Real, Real) fallback
    table.update({(int, int): ii, (float, float): ff, (int, float): if_, (float, int): fi})

    def f(a, b):
        return table[(type(a), type(b))](a, b)

    return f


def _plum():
    try:
        from plum import Dispatcher
    except ImportError:
        return None
    dispatch = Dispatcher()

    @dispatch
    def f(a: int, b: int):
        return 1

    @dispatch
    def f(a: float, b: float):
        return 2

    @dispatch
    def f(a: int, b: float):
        return 3

    @dispatch
    def f(a: float, b: int):
        return 4

    @dispatch
    def f(a: numbers.Real, b: numbers.Real):
        return 5

    return f


def _plain(a, b):
    return 1


def candidates():
    cands = {"plain Python function": _plain, DICT: _dict_dispatcher(),
             "pkgimage": _pkgimage(), PLUM: _plum()}
    cands = {k: v for k, v in cands.items() if v is not None}
    expected = [((1, 2), 1), ((1.0, 2.0), 2), ((1, 2.0), 3), ((1.0, 2), 4), ((np.float32(1), 2.0), 5)]
    for name, f in cands.items():           # every candidate computes the same thing
        for args, want in expected:
            if name != "plain Python function":
                assert f(*args) == want, (name, args, f(*args), want)
    return cands


def run(quick: bool):
    cands = candidates()
    f = cands["pkgimage"]
    entry = f.invoke_entry((Int64, Int64))
    runs = ("Python method body" if entry is pk.which(f, (Int64, Int64)).pyfunc
            else f"compiled entry ({type(entry).__name__})")
    res = benchlib.ns_per_call_side_by_side(cands, ARGS, benchlib.repeats(quick),
                                            benchlib.min_time(quick))
    rows = []
    for name, s in res.items():
        rows.append({
            "implementation": name,
            "ns/call median": s["median"], "min": s["min"], "max": s["max"],
            "ratio to dict": benchlib.paired_ratio(s, res[DICT]),
            "ratio to plum": benchlib.paired_ratio(s, res[PLUM]) if PLUM in res else None,
            "target": "", "met": None,
            "note": runs if name == "pkgimage" else "",
        })
    pk_row = next(r for r in rows if r["implementation"] == "pkgimage")
    pk_row["target"] = "<= 1.2x dict" + (", <= 0.4x plum" if PLUM in res else "")
    pk_row["met"] = "yes" if (pk_row["ratio to dict"] <= 1.2 and (
        pk_row["ratio to plum"] is None or pk_row["ratio to plum"] <= 0.4)) else "NO"
    return rows


def plot(rows, ax):
    names = [r["implementation"] for r in rows]
    med = [r["ns/call median"] for r in rows]
    err = [[r["ns/call median"] - r["min"] for r in rows], [r["max"] - r["ns/call median"] for r in rows]]
    colors = ["tab:orange" if n == "pkgimage" else "tab:gray" for n in names]
    ax.barh(names, med, xerr=err, color=colors, capsize=3)
    ax.invert_yaxis()
    for i, r in enumerate(rows):
        ax.annotate(f" {r['ns/call median']:.0f} ns ({r['ratio to dict']:.2f}x dict)",
                    (r["max"], i), va="center", fontsize=8)
    ax.set_xlabel("ns per call f(1, 2) from Python (median, bars: min-max)")
    ax.set_xlim(0, max(r["max"] for r in rows) * 1.45)
    ax.set_title("Dispatch overhead, 2-argument function with 5 methods")

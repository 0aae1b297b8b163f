"""An instance an image holds, made because it was called, without its edges and callees.

A call from Python needs an instance's code, not its edges (a method and argument types
resolved for each call its code makes) nor its callees' backedges: those are what
invalidation reads.  So an instance made on demand keeps them as its record
(``CodeInstance.pending``) until something reads them or changes what they depend on.  These
tests pin that the change is then seen exactly as if they had been made at load: a method
added to a function it calls, a method added under a callee still held, a rebound global it
took as a constant, and a read of its edges or of a callee's backedges."""

from __future__ import annotations

from imagetools import Project

LIB = '''
import pkgimage as pk
from pkgimage import Int64, Real

__pkgimage__ = True

K = 100


@pk.generic
def g(x: Real):
    return 1


@pk.generic
def h(x: Int64):
    t = 0
    for _ in range(2):
        t += g(x)
    return t


@pk.generic
def f(x: Int64):
    t = 0
    for _ in range(3):
        t += h(x)
    return t + 10


@pk.generic
def k(x: Int64):
    return x + K


if pk.generating_output():
    pk.precompile(f, (Int64,))
    pk.precompile(k, (Int64,))
'''

CHANGE = '''
import lazylib
from pkgimage import Int64


@lazylib.g.method
def _(x: Int64):
    return 5
'''

PROBE = '''
import pkgimage as pk
from pkgimage import Int64
import lazylib

from pkgimage.compiler import instances as INS

def ci_of(fn):
    # (looked up without the listing's ``methodinstance``, which completes what it lists)
    for m in fn.methods:
        for mi in INS.SPECIALIZATIONS.get(m, {}).values():
            if mi.cache is not None:
                return mi.cache
    return None

def state(fn):
    ci = ci_of(fn)
    return None if ci is None else ("pending" if ci.pending is not None else "complete")
'''


def _project(tmp_path):
    p = Project(tmp_path)
    p.write("lazylib", LIB)
    p.write("lazychange", CHANGE)
    p.build("lazylib")
    return p


def test_a_method_added_under_a_held_callee_reaches_a_caller_made_without_its_edges(tmp_path):
    p = _project(tmp_path)
    out = p.run_json(PROBE + '''
with Tripwire() as tw:
    before = lazylib.f(3)
made = state(lazylib.f)
import lazychange
after = lazylib.f(3)
done({"before": before, "made": made, "after": after, "compiled": tw.total,
      "stats": stats()})
''')
    assert out["before"] == 3 * 2 * 1 + 10 and out["compiled"] == 0, out
    assert out["made"] == "pending", out        # (made for the call, its edges left)
    assert out["after"] == 3 * 2 * 5 + 10, out  # (plain Python's answer after the change)
    assert out["stats"]["discarded_instances"] == 0, out


def test_a_rebound_global_invalidates_an_instance_made_without_its_edges(tmp_path):
    p = _project(tmp_path)
    out = p.run_json(PROBE + '''
before = lazylib.k(1)
made = state(lazylib.k)
lazylib.K = 7
after = lazylib.k(1)
done({"before": before, "made": made, "after": after})
''')
    assert (out["before"], out["made"], out["after"]) == (101, "pending", 8), out


def test_reading_the_edges_or_a_callees_backedges_completes_the_instance(tmp_path):
    p = _project(tmp_path)
    out = p.run_json(PROBE + '''
lazylib.f(3)
first = state(lazylib.f)
ci = ci_of(lazylib.f)
edges = sorted({e.function.name for e in ci.edges})
after_edges = state(lazylib.f)
callees = sorted({c.method.function.name for c in ci.callees})
hmi = pk.methodinstance(lazylib.h, (Int64,))
callers = sorted(c.method.function.name for c in hmi.backedges)
done({"first": first, "edges": edges, "state": after_edges, "callees": callees,
      "callers": callers})
''')
    assert out["first"] == "pending" and out["state"] == "complete", out
    # (its calls: h, and the base library's loop and arithmetic)
    assert "h" in out["edges"] and "h" in out["callees"] and out["callers"] == ["f"], out


def test_a_callees_backedges_read_first_complete_its_caller(tmp_path):
    """The callee made after its caller (the caller made without callees): reading the
    callee's backedges names the caller, so invalidating the callee reaches it."""
    p = _project(tmp_path)
    out = p.run_json(PROBE + '''
lazylib.f(3)
first = state(lazylib.f)
hmi = pk.methodinstance(lazylib.h, (Int64,))
callers = sorted(c.method.function.name for c in hmi.backedges)
done({"first": first, "callers": callers, "then": state(lazylib.f)})
''')
    assert out["first"] == "pending" and out["callers"] == ["f"], out
    assert out["then"] == "complete", out

"""Two images holding the same instance of a base method, and code of one image making
calls another package's methods could reach.

- ``sub(::Float64, ::Float64)`` is in both images below: ``inl``'s code only inlines it (its
  image keeps a record without code), ``ent``'s workload calls it from Python (its image
  keeps its code and Python entry).  Loaded in that order, the instance is ``inl``'s, and a
  call from Python used to compile it afresh; it runs ``ent``'s code now.
- ``dyn``'s code calls ``sub`` on values of unknown types (dispatched when it runs, result
  ``Any``); ``vec`` adds ``sub(::Vec, ::Vec)``.  Loading ``vec`` first discarded ``dyn``'s
  code ("call sub(::Any, ::Any) now resolves to MethodError") although nothing in it depended
  on ``sub``'s methods: the run-time dispatch finds the new method by itself."""

from __future__ import annotations

import pytest

from imagetools import Project

INL = '''
import pkgimage as pk

__pkgimage__ = True


@pk.generic
def gap(a: float, b: float):
    return a - b


@pk.precompilation(__name__)
def _w():
    gap(2.0, 0.5)
'''

ENT = '''
import pkgimage as pk

__pkgimage__ = True


@pk.generic
def twice(a: float):
    return a + a


@pk.precompilation(__name__)
def _w():
    twice(1.0)
    pk.base.sub(2.5, 1.0)             # (a call from Python: the image keeps its entry)
'''

DYN = '''
import operator
import pkgimage as pk

__pkgimage__ = True


@pk.generic
def spread(items: list):
    # (values of unknown type: what a Python function returns)
    lo, hi = operator.getitem(items, 0), operator.getitem(items, -1)
    return hi - lo


@pk.precompilation(__name__)
def _w():
    spread([1.0, 2.0, 4.0])
'''

VEC = '''
import pkgimage as pk

__pkgimage__ = True


@pk.struct
class Vec:
    x: float
    y: float

    def __sub__(self, o: "Vec"):
        return Vec(self.x - o.x, self.y - o.y)


@pk.generic
def back(a: Vec, b: Vec):
    return a - b


@pk.precompilation(__name__)
def _w():
    back(Vec(1.0, 2.0), Vec(0.5, 0.5))
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    proj = Project(tmp_path_factory.mktemp("shared"))
    for name, text in (("inl", INL), ("ent", ENT), ("dyn", DYN), ("vec", VEC)):
        proj.write(name, text)
    proj.build("inl", "ent", "dyn", "vec")
    return proj


def test_an_instance_held_without_code_takes_another_images_code(built):
    out = built.run_json("""
import pkgimage as pk
import inl, ent
import pkgimage.base          # (not imported by the loads: ``tables.deferrable``)
with Tripwire() as tw:
    r = [inl.gap(3.0, 1.0), ent.twice(2.0), pk.base.sub(7.5, 0.5)]
done({"r": r, "compiled": tw.total, "calls": tw.calls, "stats": stats()})
""")
    assert out["r"] == [2.0, 4.0, 7.0]
    assert out["compiled"] == 0, out["calls"]
    assert out["stats"]["discarded"] == []


def test_a_new_method_does_not_discard_calls_dispatched_at_run_time(built):
    out = built.run_json("""
import vec, dyn
with Tripwire() as tw:
    r = [dyn.spread([1.0, 2.0, 5.5])]
done({"r": r, "compiled": tw.total, "calls": tw.calls, "stats": stats()})
""")
    assert out["r"] == [4.5]
    assert out["stats"]["discarded"] == [], out["stats"]
    assert out["compiled"] == 0, out["calls"]


def test_code_dispatching_at_run_time_reaches_a_method_added_later(built):
    """(The run-time dispatch is what makes keeping that code right: the new method is
    called by it, in the same process, from the image's code.)"""
    out = built.run_json("""
import operator
import dyn, vec
v = [vec.Vec(1.0, 1.0), vec.Vec(3.0, 5.0)]
done({"r": repr(dyn.spread.methods[0].pyfunc(v)), "c": repr(dyn.spread(v))})
""")
    assert out["r"] == out["c"] == "Vec(x=2.0, y=4.0)"


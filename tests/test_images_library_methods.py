"""An image whose module adds methods to the base library's functions loads without it.

A struct with ``__add__`` gives the library's ``add`` a method (``structmethods``), so its
image names the library's function -- as the function of a restored method, and as the
class attribute standing for it.  Both are kept by reference (``dispatch.FunctionRef``):
the methods wait for the library's import (``pending.LIBRARY_METHODS``), which inserts them
before it checks the tables loads took on trust, and a record whose code calls ``add``
takes its table as recorded when it is the library's plus exactly the methods held for it
(``tables.deferrable``).  These tests pin the answers, that nothing compiles, that a
Python-level ``a + b`` finds the module's method once the library is imported, that a
method replacing it later invalidates the code that called it (the answer a fresh compile
gives), and that two images extending one function both keep their code."""

from __future__ import annotations

from imagetools import Project

VEC = '''
import pkgimage as pk
from pkgimage import Float64, Int64

__pkgimage__ = True


@pk.struct
class Vec:
    x: Float64
    y: Float64

    def __add__(self, o: "Vec"):
        return Vec(self.x + o.x, self.y + o.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y


@pk.generic
def walk(n: Int64):
    v = Vec(0.0, 0.0)
    for i in range(n):
        v = v + Vec(1.0, 0.5)
    return v.norm2()


if pk.generating_output():
    pk.precompile(walk, (Int64,))
'''

# (another image extending the same function, built without the first)
CELL = '''
import pkgimage as pk
from pkgimage import Int64

__pkgimage__ = True


@pk.struct
class Cell:
    n: Int64

    def __add__(self, o: "Cell"):
        return Cell(self.n + o.n + 1)


@pk.generic
def grow(k: Int64):
    c = Cell(0)
    for i in range(k):
        c = c + Cell(i)
    return c.n


if pk.generating_output():
    pk.precompile(grow, (Int64,))
'''

# (its code calls the library's add(Int64, Int64): a load takes add's table as the
# library's alone)
SUMMER = '''
import pkgimage as pk
from pkgimage import Int64

__pkgimage__ = True


@pk.generic
def total(n: Int64):
    t = 0
    for i in range(n):
        t = t + i
    return t


if pk.generating_output():
    pk.precompile(total, (Int64,))
'''

# (replaces vecmod's add(Vec, Vec): the library's function, another module's method)
PATCH = '''
import pkgimage as pk
from vecmod import Vec


@pk.base.add.method
def _(a: Vec, b: Vec):
    return Vec(a.x, b.y)
'''


def _project(tmp_path):
    p = Project(tmp_path)
    p.write("vecmod", VEC)
    p.write("cellmod", CELL)
    p.write("patch", PATCH)
    p.write("summer", SUMMER)
    p.build("vecmod")
    p.build("cellmod")
    p.build("summer")
    return p


def test_a_struct_with_an_operator_loads_and_runs_without_the_library(tmp_path):
    p = _project(tmp_path)
    out = p.run_json('''
import vecmod
with Tripwire() as tw:
    r = vecmod.walk(10)
attr = type(vecmod.Vec.__dict__["__add__"]).__name__
base = "pkgimage.base" in sys.modules
warm = heavy()
# (from Python: the library imported, the held method found; the call compiles its entry,
# with the library imported first as without)
s = vecmod.Vec(1.0, 2.0) + vecmod.Vec(3.0, 4.0)
with Tripwire() as tw2:
    again = vecmod.walk(4)
import pkgimage.base as B
mods = sorted(m.module for m in B.add.methods if not m.module.startswith("pkgimage."))
done({"r": r, "base": base, "s": [s.x, s.y], "again": again, "attr": attr, "mods": mods,
      "compiled": tw.total + tw2.total, "heavy": warm, "stats": stats()})
''')
    assert out["r"] == 125.0 and out["again"] == 20.0, out
    assert out["base"] is False and out["attr"] == "MethodOf", out
    assert out["s"] == [4.0, 6.0] and out["mods"] == ["vecmod"], out
    assert out["compiled"] == 0 and out["heavy"] == [], out
    assert out["stats"]["discarded_instances"] == 0, out


def test_a_method_replacing_the_held_one_invalidates_the_code_that_called_it(tmp_path):
    p = _project(tmp_path)
    out = p.run_json('''
import vecmod
before = vecmod.walk(3)
import patch                      # (imports the library: held methods in, tables checked)
after = vecmod.walk(3)
done({"before": before, "after": after, "stats": stats()})
''')
    # a fresh compile with the patch: v = Vec(v.x, 0.5) every step, so (0, 0.5) -> 0.25
    fresh = p.run_json('''
import patch, vecmod
done({"after": vecmod.walk(3)})
''', PKGIMAGE_CACHE=str(tmp_path / "empty"))
    assert out["before"] == 11.25 and fresh["after"] == 0.25, (out, fresh)
    assert out["after"] == fresh["after"], (out, fresh)
    assert out["stats"]["discarded_instances"] == 0, out


def test_two_images_extending_one_library_function_both_keep_their_code(tmp_path):
    """The second load finds the first one's methods held for ``add``: it imports the
    library (which inserts them and checks the first load's trusted table: it holds), then
    inserts its own and checks its records against the table as it is."""
    p = _project(tmp_path)
    out = p.run_json('''
import vecmod
base_after_first = "pkgimage.base" in sys.modules
import cellmod
base_after_second = "pkgimage.base" in sys.modules
with Tripwire() as tw:
    r = vecmod.walk(10), cellmod.grow(5)
done({"r": r, "first": base_after_first, "second": base_after_second,
      "compiled": tw.total, "heavy": heavy(), "stats": stats()})
''')
    assert out["r"] == [125.0, 15], out
    assert out["first"] is False and out["second"] is True, out
    assert out["compiled"] == 0 and out["heavy"] == [], out
    assert out["stats"]["discarded_instances"] == 0, out


def test_with_the_library_imported_first_the_methods_go_in_at_the_load(tmp_path):
    p = _project(tmp_path)
    out = p.run_json('''
import pkgimage.base as B
n0 = len(B.add.methods)
import vecmod
with Tripwire() as tw:
    r = vecmod.walk(10)
done({"r": r, "added": len(B.add.methods) - n0, "compiled": tw.total, "stats": stats()})
''')
    assert out["r"] == 125.0 and out["added"] == 1, out
    assert out["compiled"] == 0 and out["stats"]["discarded_instances"] == 0, out


def test_an_image_extending_a_function_another_load_took_on_trust_inserts_at_once(tmp_path):
    """The first load took ``add``'s table as the library's alone (its code adds Int64s);
    the second adds a method to ``add``: held, the library's import would find a table the
    first load did not trust and throw its code away -- so the library is imported then
    (the first load's table checked as it trusted it), and the method inserted after."""
    p = _project(tmp_path)
    out = p.run_json('''
import summer
first = "pkgimage.base" in sys.modules
import vecmod
second = "pkgimage.base" in sys.modules
with Tripwire() as tw:
    r = summer.total(10), vecmod.walk(10)
done({"r": r, "first": first, "second": second, "compiled": tw.total, "stats": stats()})
''')
    assert out["r"] == [45, 125.0], out
    assert out["first"] is False and out["second"] is True, out
    assert out["compiled"] == 0 and out["stats"]["discarded_instances"] == 0, out


def test_python_calls_of_struct_methods_the_image_inlined_run_its_code(tmp_path):
    """``a + b`` and ``v.norm2()`` from Python land on instances every compiled caller
    inlined; the image gives a struct's methods code and an entry of their own, so these
    calls compile nothing -- the entry of ``add(Vec, Vec)`` names the library's ``add`` in
    a constant slot the load leaves empty (the library is not imported by the load) and
    fills at its first call.  With the library imported first, the slot is filled at the
    load."""
    p = _project(tmp_path)
    code = '''
import vecmod
base_at_load = "pkgimage.base" in sys.modules
with Tripwire() as tw:
    s = vecmod.Vec(1.0, 2.0) + vecmod.Vec(3.0, 4.5)
    n = vecmod.Vec(3.0, 4.0).norm2()
    r = vecmod.walk(10)
done({"s": [s.x, s.y], "n": n, "r": r, "base_at_load": base_at_load,
      "compiled": tw.total, "heavy": heavy(), "stats": stats()})
'''
    out = p.run_json(code)
    first = p.run_json("import pkgimage.base\n" + code)
    for o in (out, first):
        assert o["s"] == [4.0, 6.5] and o["n"] == 25.0 and o["r"] == 125.0, o
        assert o["compiled"] == 0 and o["heavy"] == [], o
        assert o["stats"]["discarded_instances"] == 0, o
    assert out["base_at_load"] is False and first["base_at_load"] is True

"""A warm load whose code calls the base library does not import it.

The base library (``pkgimage.base``) defines its hundreds of methods when imported, which
costs a process tens of milliseconds; an image whose compiled code calls ``add`` only
natively needs none of them.  Its records name base functions whose recorded tables were
pkgimage's own methods only: with the library not imported, nothing in the process can
have added a method to them, so the load takes those tables as recorded
(``tables.deferrable``) and checks them when the library is imported
(``loader.verify_deferred``).  These tests pin the three outcomes: nothing imported and
the image's answers; the library imported later (tables as recorded: nothing discarded,
its held records found through their functions; a method added then invalidates as usual);
and a recorded table that differs from the library's, which throws the image's code away
at that import, so that the next call compiles afresh."""

from __future__ import annotations

import pickle

from imagetools import Project
from pkgimage.image import format as F

LIB = '''
import pkgimage as pk
from pkgimage import Int64

__pkgimage__ = True


@pk.generic
def step(x: Int64):
    t = 0
    for i in range(x):
        t += i * 2 + 1
    return t


if pk.generating_output():
    pk.precompile(step, (Int64,))
'''

REDEFINE = '''
import pkgimage as pk
from pkgimage import Int64


@pk.base.mul.method
def _(x: Int64, y: Int64):
    return 0
'''


# (a method added without importing the library: no public name of pkgimage is used)
CTORDEF = '''
import pkgimage.types as T
import pkgimage.constructors as C


def _same(x: T.Int64):
    return x


C.constructor(T.Int64).method(_same)
'''


# (compiled at its first call, in a process that has not imported the library)
TWICE = '''
import pkgimage as pk
from pkgimage import Int64


@pk.generic
def twice(x: Int64):
    return x * 2 + 1
'''


def _project(tmp_path):
    p = Project(tmp_path)
    p.write("deflib", LIB)
    p.write("redef", REDEFINE)
    p.build("deflib")
    return p


def test_a_warm_call_of_code_calling_the_base_library_does_not_import_it(tmp_path):
    p = _project(tmp_path)
    out = p.run_json('''
import deflib
with Tripwire() as tw:
    r = deflib.step(10)
base = "pkgimage.base" in sys.modules
import pkgimage.base
with Tripwire() as tw2:
    again = deflib.step(7)
done({"r": r, "base": base, "again": again, "compiled": tw.total + tw2.total,
      "heavy": heavy(), "stats": stats()})
''')
    assert out["r"] == 100 and out["again"] == 49, out
    assert out["base"] is False and out["compiled"] == 0 and out["heavy"] == [], out
    assert out["stats"]["discarded_instances"] == 0, out


def test_a_method_added_to_a_trusted_base_function_invalidates_the_code_calling_it(tmp_path):
    p = _project(tmp_path)
    out = p.run_json('''
import deflib
before = deflib.step(4)
import redef                      # (imports the library: tables checked; then the method)
after = deflib.step(4)
done({"before": before, "after": after, "stats": stats()})
''')
    # ``i * 2`` is the new ``mul(Int64, Int64)``, 0: the sum of 1s, as a fresh compile gives
    assert out["before"] == 16 and out["after"] == 4, out
    assert out["stats"]["discarded_instances"] == 0, out


def test_a_recorded_base_table_that_differs_throws_the_code_away_at_the_import(tmp_path):
    p = _project(tmp_path)
    img = p.image("deflib")
    header, sections = F.decode(img.read_bytes(), str(img))
    code = pickle.loads(sections["code"])
    forged = 0
    for r in code["records"]:
        for fref, want in list(r["tables"].items()):
            if fref[0] == "func" and fref[1] == "pkgimage.base" and fref[2] == "mul":
                r["tables"][fref] = ("0" * 32,) + tuple(want[1:])
                forged += 1
    assert forged, "no record calls pkgimage.base.mul"
    sections = dict(sections, code=pickle.dumps(code, 4))
    order = ["module", "code"] + sorted(n for n in sections if n.startswith("object"))
    img.write_bytes(F.encode(header, [(n, sections[n]) for n in order]))
    out = p.run_json('''
import deflib
with Tripwire() as warm:
    r = deflib.step(10)
import pkgimage.base
with Tripwire() as cold:
    again = deflib.step(10)
done({"r": r, "again": again, "warm": warm.total, "cold": cold.total, "stats": stats()})
''')
    assert out["r"] == 100 and out["again"] == 100, out
    assert out["warm"] == 0 and out["cold"] > 0, out          # (compiled afresh)
    # (the six held records thrown away, each saying why; ``step``, made by the first call,
    # invalidated -- the second compiled it afresh)
    why = {d[2] for d in out["stats"]["discarded"]}
    assert out["stats"]["discarded_instances"] == 6, out
    assert why == {"the methods of pkgimage.base.mul are not those the image was built "
                   "with"}, out


def test_a_method_inserted_into_a_trusted_table_before_the_library_imports_it_first(tmp_path):
    """Code other than the library's adds a method to a table taken on trust (here the
    primitive ``Int64``'s constructor, which exists without the library): the library is
    imported first, so its tables are checked with the method not in yet, and then the
    insertion invalidates the image's code that depended on the table, as it would have
    had the library been imported at the load."""
    p = _project(tmp_path)
    p.write("ctordef", CTORDEF)
    out = p.run_json('''
import deflib
before = deflib.step(4)
trusted = "pkgimage.base" not in sys.modules
import ctordef                    # (replaces the library's Int64(::Int64))
imported = "pkgimage.base" in sys.modules
with Tripwire() as tw:
    after = deflib.step(4)
done({"before": before, "trusted": trusted, "imported": imported, "after": after,
      "compiled": tw.total, "stats": stats()})
''')
    assert out["before"] == 16 and out["after"] == 16, out
    assert out["trusted"] and out["imported"], out
    assert out["compiled"] > 0, out          # (its code depended on the replaced method)
    assert out["stats"]["discarded_instances"] == 0, out


def test_every_held_record_is_made_when_all_are_asked_for_before_the_library(tmp_path):
    """``materialise_all`` with the library not imported: the held records of its methods
    (their function not resolved yet) are made too -- they were dropped, so a later change
    under them reached none of their callers."""
    p = _project(tmp_path)
    out = p.run_json('''
import deflib
from pkgimage.compiler import instances as INS
from pkgimage.image import loader
INS.materialise_all()
made = sorted(mi.method.function.name for t in INS.SPECIALIZATIONS.values()
              for mi in t.values() if mi.cache is not None and mi.cache.image == "deflib")
done({"made": made, "loaded": loader.STATS["loaded_instances"], "r": deflib.step(10)})
''')
    assert len(out["made"]) == out["loaded"] == 7 and out["r"] == 100, out


def test_a_driver_naming_pkgimage_types_before_a_load_does_not_import_the_library(tmp_path):
    """``import pkgimage`` brings the core with any public name (``pk.Int64``, ``from
    pkgimage import generic``), but not the base library: a script that names the types it
    passes and calls an image's code pays for none of the library's thousand methods.  What
    needs the library imports it: a primitive type's constructor function (its methods are
    the library's), and any compile (here a new function's first call)."""
    p = _project(tmp_path)
    p.write("twicemod", TWICE)
    out = p.run_json('''
import pkgimage as pk
from pkgimage import Int64, Float64, generic, typeof
n = pk.Int64(10)
kinds = [str(typeof(n)), str(Float64)]
import deflib
r = deflib.step(n)
base = "pkgimage.base" in sys.modules
ctor = pk.constructor(Int64)
after_ctor = "pkgimage.base" in sys.modules
methods = [m.module for m in ctor.methods]
from twicemod import twice
done({"r": r, "kinds": kinds, "base": base, "after_ctor": after_ctor,
      "methods": methods, "twice": twice(20), "stats": stats()})
''')
    assert out["r"] == 100 and out["kinds"] == ["Int64", "Float64"], out
    assert out["base"] is False and out["after_ctor"] is True, out
    assert out["methods"] and set(out["methods"]) == {"pkgimage.base"}, out
    assert out["twice"] == 41 and out["stats"]["discarded_instances"] == 0, out

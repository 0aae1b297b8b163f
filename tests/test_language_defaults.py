"""Default parameter values follow Julia's rule: ``def f(x, y=2)`` defines the methods
``f(x, y)`` and ``f(x)``; the shorter ones call the full one with the defaults, compile,
dispatch and load from images like any method.  Defaults that are mutable objects are
refused at definition with file:line."""

import textwrap

import pytest

import pkgimage as pk
from imagetools import Project

SOURCE = """
import pkgimage as pk

@pk.struct
class Pt:
    x: pk.Float64
    y: pk.Float64

@pk.generic
def f(x: int, y: int = 2, z: float = 0.5):
    return x * y + z

@pk.generic
def shift(p: Pt, by: Pt = Pt(1.0, -1.0), scale: tuple[float, float] = (2.0, 3.0)):
    return Pt(p.x * scale[0] + by.x, p.y * scale[1] + by.y)

@pk.generic
def g(a: float):
    return f(3) + f(3, 4) + f(3, 4, a)

@pk.generic
def label(n: int, missing=None):
    return n
"""


def test_each_default_defines_a_shorter_method_that_compiles_and_gives_pythons_answer(load_module):
    mod = load_module(SOURCE)
    sigs = [repr(m).split(" in ")[0] for m in pk.methods(mod.f)]
    assert sigs == ["f(x::Int64)", "f(x::Int64, y::Int64)", "f(x::Int64, y::Int64, z::Float64)"]
    assert (mod.f(3), mod.f(3, 4), mod.f(3, 4, 1.0)) == (6.5, 12.5, 13.0)
    assert mod.g(0.25) == 6.5 + 12.5 + 12.25                     # called from compiled code
    p = mod.Pt(1.0, 2.0)
    assert mod.shift(p) == mod.Pt(3.0, 5.0)                      # struct and tuple defaults
    assert mod.shift(p, mod.Pt(0.0, 0.0)) == mod.Pt(2.0, 6.0)
    assert mod.label(4) == 4


def test_a_default_that_is_a_mutable_object_is_refused_with_its_location(load_module):
    with pytest.raises(pk.CompileError, match=r"dm_bad\.py:3:.*default value of 'acc' is a list"):
        load_module("""
import pkgimage as pk
@pk.generic
def collect(x: int, acc=[]):
    return x
""", filename="/virtual/dm_bad.py")


def test_defaults_with_star_args_are_refused_clearly(load_module):
    with pytest.raises(pk.CompileError, match=r"default parameter values together with \*rest"):
        load_module("""
import pkgimage as pk
@pk.generic
def h(x: int, y: int = 1, *rest: int):
    return x
""")


def test_methods_with_defaults_load_from_an_image_without_compiling(tmp_path):
    proj = Project(tmp_path)
    proj.write("defs1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        pk.precompile(g, (pk.Float64,))
        pk.precompile(f, (pk.Int64,))
        pk.precompile(shift, (Pt,))
        """))
    assert proj.build("defs1").returncode == 0
    out = proj.run_json("""
import defs1
with Tripwire() as tw:
    res = [defs1.f(3), defs1.g(0.25), repr(defs1.shift(defs1.Pt(1.0, 2.0)))]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [6.5, 31.25, "Pt(x=3.0, y=5.0)"], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out


def test_a_generic_function_is_a_default_value(load_module):
    """``def integrate(f, a, b, n, rule=simpson)``: a function is an immutable value (a
    singleton of its own type), so the shorter method passes it as a constant."""
    m = load_module("""
import pkgimage as pk
@pk.generic
def left(f, a: float, b: float):
    return f(a) * (b - a)
@pk.generic
def mid(f, a: float, b: float):
    return f((a + b) / 2) * (b - a)
@pk.generic
def integrate(f, a: float, b: float, rule=mid):
    return rule(f, a, b)
@pk.generic
def use(k: float):
    return integrate(lambda x: x * k, 0.0, 2.0), integrate(lambda x: x * k, 0.0, 2.0, left)
""")
    assert m.use(3.0) == (6.0, 0.0)
    assert m.integrate(abs, -1.0, 3.0) == 4.0

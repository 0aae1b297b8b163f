"""A struct's ``__init__`` is Julia's inner constructor: it runs (validating and normalising)
wherever the struct is built -- compiled code, Python, keyword arguments, defaults -- and is
the only way to build it; an ``__init__`` the compiler cannot take is refused at the class
definition with its line; images restore it without compiling."""

import textwrap

import pytest

import pkgimage as pk

SOURCE = '''
import math
import pkgimage as pk


@pk.struct
class Unit:
    x: float
    y: float

    def __init__(self, x: float, y: float):
        n = math.sqrt(x * x + y * y)
        if n == 0.0:
            raise ValueError("zero vector")
        self.x = x / n
        self.y = y / n

    def dot(self, o: "Unit"):
        return self.x * o.x + self.y * o.y


@pk.struct
class Interval:
    lo: int
    hi: int

    def __init__(self, a, b=10):
        if a > b:
            a, b = b, a
        self.lo = a
        self.hi = b
        if self.hi - self.lo > 100:
            self.hi = self.lo + 100
            return
        self.hi += 0


@pk.struct
class Half:
    h: float
    n: int

    def __init__(self, v: float):
        self.n = 2
        if v > 0.0:
            self.h = v / self.n


@pk.generic
def angle_cos(ax: float, ay: float, bx: float, by: float):
    return Unit(ax, ay).dot(Unit(bx, by))


@pk.generic
def width(a: int, b: int):
    iv = Interval(a, b)
    return iv.hi - iv.lo


@pk.generic
def default_width(a: int):
    return Interval(a).hi


@pk.generic
def half(v: float):
    return Half(v).h
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("inits"), "init_programs", SOURCE)


def test_init_runs_in_compiled_code_and_from_python(mod):
    u = mod.Unit(3.0, 4.0)
    assert (u.x, u.y) == (0.6, 0.8)
    assert mod.angle_cos(1.0, 0.0, 1.0, 1.0) == pytest.approx(2 ** -0.5)
    assert mod.width(9, 3) == 6 and mod.width(0, 500) == 100
    assert mod.Interval(50, 1) == mod.Interval(1, 50)
    assert (mod.Interval(1, 500).lo, mod.Interval(1, 500).hi) == (1, 101)


def test_init_defaults_and_keywords_follow_python(mod):
    assert mod.Interval(3) == mod.Interval(3, 10) and mod.default_width(4) == 10
    assert mod.Interval(a=2, b=1) == mod.Interval(1, 2)
    assert mod.Interval(5, b=7).hi == 7


def test_init_raises_as_python_does(mod):
    with pytest.raises(ValueError, match="zero vector"):
        mod.Unit(0.0, 0.0)
    with pytest.raises(ValueError, match="zero vector"):
        mod.angle_cos(0.0, 0.0, 1.0, 1.0)


def test_a_field_init_leaves_unset_is_an_attribute_error_naming_it(mod):
    assert mod.half(3.0) == 1.5
    with pytest.raises(AttributeError, match="Half.__init__ did not set field 'h'"):
        mod.half(-1.0)
    with pytest.raises(AttributeError, match="Half.__init__ did not set field 'h'"):
        mod.Half(-1.0)


def test_init_is_the_only_constructor(mod):
    """No default constructor skips the checks (Julia: an inner constructor replaces them)."""
    ctors = pk.methods(pk.constructors.constructor(mod.Unit))
    assert len(ctors) == 1 and ctors[0].argnames == ("x", "y")
    with pytest.raises(TypeError):
        mod.Unit(1.0)


@pytest.mark.parametrize("body, msg, line", [
    ("self.z = x", r"self\.z is not a field \(fields: x\)", 8),
    ("self.x = x\n        helper(self)", "self is used other than to set or read a field", 9),
    ("self.x = x\n        return 5", r"returns a value \(__init__ returns None\)", 9),
    ("super().__init__()\n        self.x = x", r"super\(\) is not available", 8),
])
def test_an_init_the_compiler_cannot_take_is_refused_at_the_definition(load_module, body,
                                                                         msg, line):
    with pytest.raises(pk.CompileError, match=rf"bad_init\.py:{line}:\d+: struct P\.__init__: "
                                              rf"{msg}"):
        load_module(f"""
import pkgimage as pk

@pk.struct
class P:
    x: float
    def __init__(self, x):
        {body}
""", filename="/virtual/bad_init.py")


def test_python_mode_runs_init_as_python(tmp_path):
    """``PKGIMAGE_JIT=0`` (method bodies as Python): the same answers and errors."""
    import subprocess
    import sys
    (tmp_path / "init_py.py").write_text(textwrap.dedent(SOURCE))
    code = ("import init_py as m\n"
            "print(m.Unit(3.0, 4.0), m.width(9, 3), m.Interval(a=2, b=1), m.default_width(4))\n"
            "try:\n    m.Half(-1.0)\nexcept AttributeError as e:\n    print(e)\n")
    import os
    env = dict(os.environ, PKGIMAGE_JIT="0", PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["Unit(x=0.6, y=0.8) 6 Interval(lo=1, hi=2) 10",
                                       "Half.__init__ did not set field 'h'"]


def test_inner_constructors_load_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("init1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            angle_cos(1.0, 0.0, 0.0, 1.0)
            width(1, 2)
            Unit(1.0, 1.0)
        """))
    assert proj.build("init1").returncode == 0
    out = proj.run_json("""
import init1
with Tripwire() as tw:
    res = [init1.angle_cos(1.0, 0.0, 1.0, 0.0), init1.width(7, 2), init1.Unit(0.0, 2.0).y]
    try:
        init1.Unit(0.0, 0.0)
        res.append("no error")
    except ValueError as e:
        res.append(str(e))
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [1.0, 5, 1.0, "zero vector"], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]

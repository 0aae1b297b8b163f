"""Methods written in a ``@pk.struct``/``@pk.abstract`` class body are methods of generic
functions with ``self`` typed as the class (Julia's ``norm(p::Point)``): ``p.norm()`` calls
it in compiled code and from Python, a method of an abstract parent is inherited by
dispatch, operator dunders are methods of the base functions (``a + b`` works from Python and
compiled code alike), and the whole lot goes into package images."""

import textwrap

import pytest

import pkgimage as pk

SOURCE = '''
import pkgimage as pk


@pk.abstract
class Shape:
    def describe(self):
        return self.area() * 2.0


@pk.struct
class Circle(Shape):
    r: float

    def area(self):
        return 3.0 * self.r * self.r

    def scaled(self, k: float):
        return Circle(self.r * k)

    def __add__(self, other: "Circle"):
        return Circle(self.r + other.r)

    def __lt__(self, other: "Circle"):
        return self.r < other.r

    def __len__(self):
        return 1

    def count(self, x: float):
        return 7


@pk.struct
class Sq(Shape):
    s: float

    def area(self):
        return self.s * self.s


@pk.generic
def total(c: Circle, q: Sq, flag: bool):
    x = c if flag else q
    big = c.scaled(2.0) + c
    return (c.area() + q.area() + c.describe() + q.describe() + x.area() + big.r, c < big,
            len(c), c.count(1.0))


@pk.generic
def missing(c: Circle):
    return c.perimeter()
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("methods"), "method_programs", SOURCE)


@pytest.mark.parametrize("flag", [True, False])
def test_struct_methods_compile_and_give_plain_pythons_answer(mod, flag):
    c, q = mod.Circle(1.0), mod.Sq(2.0)
    assert mod.total(c, q, flag) == mod.total.methods[0].pyfunc(c, q, flag)
    assert mod.total(c, q, flag) == (27.0 if flag else 28.0, True, 1, 7)


def test_methods_and_operators_work_from_python_by_dispatch(mod):
    c = mod.Circle(1.0)
    assert (c + c).r == 2.0 and c < mod.Circle(2.0) and not mod.Circle(3.0) < c
    assert c.area() == 3.0 and mod.Circle.area(c) == 3.0 and c.describe() == 6.0
    assert len(c) == 1 and mod.Sq(3.0).describe() == 18.0
    # ``area`` is one generic function with a method per class, as Julia's
    assert len(pk.methods(mod.Circle.area)) == 2
    assert pk.base.add.dispatch((mod.Circle, mod.Circle)).pyfunc.__name__ == "__add__"


def test_a_method_no_class_defines_is_a_located_compile_error(mod):
    with pytest.raises(pk.CompileError, match="has no method 'perimeter'"):
        mod.missing(mod.Circle(1.0))


def test_struct_methods_load_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("meth1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            total(Circle(1.0), Sq(2.0), True)
            total(Circle(1.0), Sq(2.0), False)
            Circle(1.0) + Circle(2.0)
            Circle(1.0).area()
        """))
    assert proj.build("meth1").returncode == 0
    out = proj.run_json("""
import meth1
with Tripwire() as tw:
    res = [meth1.total(meth1.Circle(2.0), meth1.Sq(1.0), True),
           (meth1.Circle(1.0) + meth1.Circle(0.5)).r, meth1.Circle(2.0).area()]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [[12.0 + 1.0 + 24.0 + 2.0 + 12.0 + 6.0, True, 1, 7], 1.5, 12.0], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_calls_on_an_abstract_type_split_on_its_subtypes_and_stay_correct(load_module):
    """``s.area()`` on a ``Shape``: a static call for each subtype with a method of its own
    (world splitting), run-time dispatch for anything else; a subtype added later with a
    method of another result type invalidates the caller, one without a method reaches the
    abstract method (its NotImplementedError), as Python would."""
    m = load_module("""
import pkgimage as pk
@pk.abstract
class Shape:
    def area(self) -> float:
        raise NotImplementedError("area")
@pk.struct
class Sq(Shape):
    s: float
    def area(self):
        return self.s * self.s
@pk.struct
class Ci(Shape):
    r: float
    def area(self):
        return 3.0 * self.r * self.r
@pk.generic
def total(xs: list[Shape]):
    t = 0
    for x in xs:
        t = t + x.area()
    return t
""")
    assert m.total([m.Sq(2.0), m.Ci(1.0)]) == 7.0
    m2 = load_module(f"""
import pkgimage as pk
from {m.__name__} import Shape
@pk.struct
class Tri(Shape):
    n: int
    def area(self):
        return self.n * 10
@pk.struct
class Blob(Shape):
    y: float
""")
    got = m.total([m.Sq(2.0), m2.Tri(3)])
    assert got == 34.0 and type(got) is float
    assert m.total([m2.Tri(3), m2.Tri(1)]) == 40 and type(m.total([m2.Tri(1)])) is int
    with pytest.raises(NotImplementedError, match="area"):
        m.total([m.Sq(1.0), m2.Blob(1.0)])


def test_properties_of_structs_are_methods_read_as_attributes(load_module):
    m = load_module("""
import math
import pkgimage as pk
@pk.abstract
class Shape:
    @property
    def double_area(self):
        return 2.0 * self.area
@pk.struct
class Sq(Shape):
    s: float
    @property
    def area(self):
        return self.s * self.s
@pk.mutable
class Acc:
    n: int
    @property
    def half(self):
        return self.n / 2
@pk.generic
def f(q: Sq, a: Acc):
    a.n += 3
    return q.area + q.double_area + a.half
""")
    q, a = m.Sq(3.0), m.Acc(1)
    assert m.f(q, a) == 9.0 + 18.0 + 2.0 and a.n == 4
    assert q.area == 9.0 and q.double_area == 18.0 and a.half == 2.0
    with pytest.raises(AttributeError):
        q.area = 1.0


PRINTING = '''
import pkgimage as pk
__pkgimage__ = True


@pk.struct
class Money:
    cents: int

    def __repr__(self):
        return "<Money %d.%02d>" % (self.cents // 100, self.cents % 100)

    def __hash__(self):
        return self.cents % 7


@pk.mutable
class Point:
    x: float
    y: float

    def __repr__(self):
        return "<Point: x=%s, y=%s>" % (self.x, self.y)


@pk.struct
class Plain:
    v: int


@pk.generic
def shifted(p: Point, d: float):
    p.x += d
    return p


@pk.precompilation(__name__)
def _w():
    shifted(Point(1.0, 2.0), 0.5)
'''

PRINTING_WANT = ["<Money 12.34>", 1234 % 7, "<Point: x=1.5, y=2.0>", "Plain(v=3)"]


def test_a_class_bodys_repr_and_hash_are_pythons_as_written(load_module):
    """``__repr__`` and ``__hash__`` in a struct's class body are the ones Python uses
    (``print(p)`` printed the struct's default ``Point(x=..., y=...)``, not the program's own
    text: pyperformance's bm_float); a class without them keeps the default."""
    m = load_module(PRINTING)
    got = [repr(m.Money(1234)), hash(m.Money(1234)), str(m.shifted(m.Point(1.0, 2.0), 0.5)),
           repr(m.Plain(3))]
    assert got == PRINTING_WANT


def test_a_class_bodys_repr_is_kept_in_its_image(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("printing", PRINTING)
    assert proj.build("printing").returncode == 0
    out = proj.run_json("""
import printing as m
with Tripwire() as tw:
    got = [repr(m.Money(1234)), hash(m.Money(1234)), str(m.shifted(m.Point(1.0, 2.0), 0.5)),
           repr(m.Plain(3))]
done({"got": got, "compiles": tw.total})
""")
    assert out["got"] == PRINTING_WANT and out["compiles"] == 0, out


CALLABLE = '''
import pkgimage as pk


@pk.struct
class Poly:
    """A struct whose values are called (Julia's functor): ``__call__`` is a method of the
    base function ``call``."""
    a: float
    b: float

    def __call__(self, x: float):
        return self.a * x + self.b


@pk.mutable
class Tally:
    n: int

    def __call__(self, k: int = 1):
        self.n += k
        return self.n


@pk.generic
def integrate(p, lo: float, hi: float, n: int):
    h = (hi - lo) / n
    return sum(p(lo + (i + 0.5) * h) for i in range(n)) * h


@pk.generic
def tally(t: Tally, m: int):
    for _ in range(m):
        t()
    return t(10)
'''


def test_a_struct_with_call_is_called_like_a_function(load_module):
    """``p(x)`` on a struct whose class defines ``__call__``: a static call in compiled code
    (a struct passed where a function goes: ``integrate(Poly(...), ...)``), a call from
    Python, and a mutable struct's ``__call__`` with a default argument, as Python runs
    them.  It was "struct method __call__ of Poly has no meaning in compiled code"."""
    m = load_module(CALLABLE)
    p = m.Poly(2.0, 1.0)
    assert p(3.0) == 7.0
    assert m.integrate(p, 0.0, 1.0, 10) == m.integrate.methods[0].pyfunc(p, 0.0, 1.0, 10)
    typed = str(pk.code_typed(m.integrate, (m.Poly, pk.Float64, pk.Float64, pk.Int64)))
    assert "dynamic" not in typed, typed
    t1, t2 = m.Tally(0), m.Tally(0)
    assert m.tally(t1, 5) == m.tally.methods[0].pyfunc(t2, 5) == 15 and t1.n == 15
    with pytest.raises(pk.CompileError, match="a value of type Int64 is not callable"):
        m.integrate(3, 0.0, 1.0, 2)


def test_a_struct_called_with_an_argument_of_a_union_type_dispatches_on_it(load_module):
    """``CA(1, 0)(i)`` with ``i`` an int or a float: the call is split on the argument's
    type (it was "a value of type CA is not callable" at compile time: found by the
    fuzzer); a float reaches no method: Python's own answer is a number, pkgimage's a
    MethodError, as any call of a method whose annotation the value does not meet."""
    m = load_module('''
import pkgimage as pk
from pkgimage import Int64


@pk.struct
class CA:
    a: Int64
    b: Int64

    def __call__(self, x: Int64):
        return self.a * x + self.b


@pk.generic
def f(v: float, k: int):
    i = k if v > 0 else v
    return CA(2, 1)(i)
''')
    assert m.f(1.0, 4) == 9
    with pytest.raises(pk.MethodError):
        m.f(-1.0, 4)

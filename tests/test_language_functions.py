"""Functions as values (Julia: each generic function has a type of its own): a generic
function passed as an argument, stored in a local, returned, and called -- the method taking
it is specialised per function passed, so the call is direct -- plus plain Python callables
(called through Python), ``map``/``filter`` (lists), generator expressions, ``sorted``/
``min``/``max`` with ``key=``, ``functools.reduce``, ``any``/``all``.  Each program runs
compiled and as plain Python and must give the same answer and errors."""

import textwrap

import pytest

import pkgimage as pk

SOURCE = '''
import functools
import pkgimage as pk
from pkgimage import Float64, Int64, List


@pk.generic
def double(x):
    return 2 * x


@pk.generic
def square(x):
    return x * x


@pk.generic
def is_even(x):
    return x % 2 == 0


@pk.generic
def neg(x):
    return -x


@pk.generic
def add2(a, b):
    return a + b


@pk.generic
def apply(f, x):
    return f(x)


@pk.generic
def twice(f, x):
    return f(f(x))


@pk.generic
def pick(n: int):
    return square if n > 2 else double


@pk.generic
def composed(n: int):
    g = square if n > 2 else double
    h = pick(n)
    return apply(double, n), twice(square, n), apply(g, n), h(n), apply(h, 2.5)


@pk.generic
def hof(v: List[Int64]):
    return (list(map(double, v)), list(filter(is_even, v)), sum(x * x for x in v),
            functools.reduce(add2, v, 0), sorted(v, key=neg), sorted(v, reverse=True),
            max(v, key=neg), min(v, key=square), any(x > 3 for x in v),
            all(x > 0 for x in v), [y for y in map(add2, v, v)], list(filter(None, v)))


@pk.generic
def fold(v: List[Int64]):
    return functools.reduce(add2, v)


K = 10


@pk.generic
def lambdas(v: List[Int64]):
    a = sorted(v, key=lambda x: -x)
    b = list(map(lambda x: x * K, v))
    c = functools.reduce(lambda p, q: p + q, v, 0)
    sq = lambda x: x * x
    d = apply(sq, 3), apply(lambda y: y + 0.5, 2), twice(lambda y: y * 2, 5)
    e = [(lambda t: t[1])((1, 2)), max(v, key=lambda x: (x % 3, x))]
    return a, b, c, d, e
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("funcs"), "function_programs", SOURCE)


CASES = [("lambdas", ([3, 1, 2, 8],)),
         ("composed", (3,)), ("composed", (1,)), ("hof", ([3, 1, 4, 1, 5, 0],)),
         ("hof", ([2],)), ("fold", ([1, 2, 3],))]


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_function_values_give_plain_pythons_answer(mod, name, args):
    fn = getattr(mod, name)
    got, want = fn(*args), fn.methods[0].pyfunc(*args)
    assert got == want
    assert [type(x) for x in got] == [type(x) for x in want] if isinstance(got, tuple) \
        else type(got) is type(want)


def test_a_method_taking_a_function_is_specialised_per_function(mod):
    assert mod.apply(mod.double, 3) == 6 and mod.apply(mod.square, 3) == 9
    assert pk.typeof(mod.double) is not pk.typeof(mod.square)
    assert pk.issubtype(pk.typeof(mod.double), pk.Function)
    from pkgimage.compiler.instances import method_instance
    m = mod.apply.methods[0]
    for f in (mod.double, mod.square):
        mi = method_instance(m, (pk.typeof(f), pk.Int64))
        assert mi.cache is not None and mi.cache.rettype is pk.Int64


def test_plain_python_callables_are_called_through_python(mod):
    assert mod.apply(lambda x: x + 1, 4) == 5
    assert mod.twice(str.upper, "ab") == "AB"


def test_reduce_of_nothing_is_pythons_type_error(mod):
    with pytest.raises(TypeError, match="reduce\\(\\) of empty iterable"):
        mod.fold([])


def test_a_lambda_reading_a_local_is_a_closure(load_module):
    """(closures: tests/test_language_closures.py)"""
    m = load_module("""
import pkgimage as pk
@pk.generic
def f(x: int):
    k = 2
    g = lambda y: y * k
    return g(x)
""")
    assert m.f(3) == 6


def test_calling_a_number_is_a_located_compile_error(load_module):
    m = load_module("""
import pkgimage as pk
@pk.generic
def f(x: int):
    return x(1)
""")
    with pytest.raises(pk.CompileError, match="a value of type Int64 is not callable"):
        m.f(3)


def test_function_values_load_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("funcs1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            composed(3)
            hof([3, 1, 4])
            lambdas([3, 1, 4])
        """))
    assert proj.build("funcs1").returncode == 0
    out = proj.run_json("""
import funcs1
with Tripwire() as tw:
    res = [funcs1.composed(3), funcs1.hof([5, 2, 7]), funcs1.lambdas([5, 2, 7])]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"][0] == [6, 81, 9, 9, 6.25], out
    assert out["res"][2] == [[7, 5, 2], [50, 20, 70], 14, [9, 2.5, 20], [2, 5]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_a_return_annotation_types_what_inference_cannot_tell(load_module):
    """``-> float``: a value of a type inference cannot tell (a field of an abstract type's
    value) is checked when returned, so callers get a Float64; a value of another known type
    is returned as it is (``-> float`` returning an int, as Python allows)."""
    from pkgimage.compiler import introspect
    m = load_module("""
import pkgimage as pk
@pk.abstract
class A:
    pass
@pk.struct
class B(A):
    v: float
@pk.struct
class C(A):
    v: int
@pk.generic
def first_v(xs: list[A]) -> float:
    return xs[0].v
@pk.generic
def plain_int(x: int) -> float:
    return x
@pk.generic
def total(xs: list[A]):
    return first_v(xs) + 1.0
""")
    assert m.total([m.B(1.5), m.C(2)]) == 2.5 and m.plain_int(3) == 3
    typed = str(introspect.code_typed(m.first_v, (pk.List[m.A],)))
    assert typed.splitlines()[0].endswith(":: Float64"), typed
    with pytest.raises(TypeError, match="returned a value of type Int64 where the function "
                                        "declares Float64"):
        m.first_v([m.C(2)])


def test_a_guess_for_a_value_of_unknown_type_that_does_not_compile_is_left_to_dispatch(
        load_module):
    """``" ".join(names[:2])`` where inference lost the type of ``names`` (a list rebuilt in a
    loop and passed through ``filter``/``map``/``sorted``): compiled code guesses the likely
    types (Float64, Int64) of such a value for a fast path.  A method that does not compile
    for a guess (joining a float) is no error -- such a value is left to run-time dispatch;
    it was a compile error naming the base library's ``str_join``."""
    src = """
import pkgimage as pk
@pk.mutable
class R:
    name: str
    dept: str
    age: int
@pk.generic
def f(rs: list[R]):
    out = []
    for d in ("x", "y"):
        members = [r for r in rs if r.dept == d]
        names = sorted(map(lambda r: r.name, filter(lambda r: r.age < 30, members)))
        out.append(" ".join(names[:2]))
    return out
"""
    m = load_module(src)
    assert m.f([m.R("b", "x", 3), m.R("a", "y", 40), m.R("c", "x", 1)]) == ["b c", ""]


KEYED = """
import pkgimage as pk


@pk.mutable
class R:
    a: int
    b: str


@pk.generic
def keyed(n: int, k: int):
    v = [R(i % k, str(i)) for i in range(n)]
    by_a = [r.b for r in sorted(v, key=lambda r: r.a)]
    by_both = [r.b for r in sorted(v, key=lambda r: (r.a, r.b), reverse=True)]
    first_lo = min(v, key=lambda r: r.a).b
    first_hi = max(v, key=lambda r: -r.a).b
    w = [3, 1, 2, 1]
    return by_a, by_both, first_lo, first_hi, sorted(w, key=lambda x: -x, reverse=True)
"""


def test_sorted_min_max_with_a_key_keep_pythons_order_ties_and_errors(load_module):
    """The keys are computed by compiled code and Python orders their positions: stable
    ties, ``reverse=True`` keeping equal keys in their order, the first of several minima,
    and Python's ValueError for an empty sequence."""
    m = load_module(KEYED)
    plain = m.keyed.methods[0].pyfunc
    for n, k in ((7, 3), (10, 1), (1, 2)):
        assert m.keyed(n, k) == plain(n, k)
    with pytest.raises(ValueError) as got:
        m.keyed(0, 2)
    with pytest.raises(ValueError) as want:
        plain(0, 2)
    assert str(got.value) == str(want.value)


FIELDS = '''
import pkgimage as pk

F = pk.TypeVar("F")


@pk.struct
class Scaled(pk.Generic[F]):
    f: F
    k: float


@pk.generic
def sq(x):
    return x * x


@pk.generic
def scaled(h: Scaled, x: float):
    return h.f(x) * h.k


@pk.generic
def made_here(k: float, x: float):
    off = 0.5
    h = Scaled(lambda z: z + off, k)
    return h.f(x) * h.k, scaled(Scaled(sq, k), x)
'''


def test_a_function_kept_in_a_struct_field_is_called_by_its_name(load_module):
    """``h.f(x)`` with ``f`` a field holding a function calls the field's value, as Python
    does (it finds the instance's attribute first): a generic function (a static call for
    its type), a closure made in compiled code, a plain Python function (called through
    Python).  It was "type Scaled[typeof(sq)] has no method 'f'"."""
    m = load_module(FIELDS)
    plain = m.scaled.methods[0].pyfunc
    for f in (m.sq, abs, lambda z: z - 1.0):
        assert m.scaled(m.Scaled(f, 2.0), 3.0) == plain(m.Scaled(f, 2.0), 3.0)
    assert m.made_here(2.0, 3.0) == m.made_here.methods[0].pyfunc(2.0, 3.0) == (7.0, 18.0)
    typed = str(pk.code_typed(m.scaled, (m.Scaled[pk.typeof(m.sq)], pk.Float64)))
    assert "call_field_f(" in typed and "invoke" in typed and "dynamic" not in typed, typed


def test_a_field_call_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("fieldcall1", "__pkgimage__ = True\n" + textwrap.dedent(FIELDS) +
               textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            scaled(Scaled(sq, 1.0), 2.0)
            made_here(1.0, 2.0)
        """))
    assert proj.build("fieldcall1").returncode == 0
    out = proj.run_json("""
import fieldcall1 as m
with Tripwire() as tw:
    res = [m.scaled(m.Scaled(m.sq, 2.0), 3.0), list(m.made_here(2.0, 3.0))]
done({"res": res, "compiles": tw.total, "calls": tw.calls, "stats": stats()})
""")
    assert out["res"] == [18.0, [7.0, 18.0]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, \
        out["stats"]["discarded"]

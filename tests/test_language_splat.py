"""``f(*t)`` in compiled code: a call on the elements of a tuple of known length (with other
arguments before, between and after, of a generic function, a struct's constructor or a
function passed as a value), ``*args`` forwarded by a varargs method, and the compile-time
error, with its file:line, when the splatted value is not a tuple of known length."""

import pytest

import pkgimage as pk

SOURCE = '''
import pkgimage as pk


@pk.generic
def add3(a, b, c):
    return a * 100 + b * 10 + c


@pk.struct
class P:
    x: int
    y: float


@pk.generic
def whole(t: tuple):
    return add3(*t)


@pk.generic
def after_one(t):
    return add3(1, *t)


@pk.generic
def between(t, u):
    return add3(*t, 7, *u)


@pk.generic
def apply(g, t):
    return g(*t)


@pk.generic
def make(t):
    return P(*t)


@pk.generic
def forward(*args):
    return add3(*args)


@pk.generic
def forwards():
    return forward(1, 2, 3) + forward(1.5, 2, 3)


@pk.generic
def closure(k: int, t):
    return apply(lambda a, b: a * k - b, t)


@pk.generic
def nested(t):
    return add3(*t[0], t[1])


@pk.generic
def mixed(t):
    return [add3(*t), add3(*t) + 0.5][1]
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("splat"), "splat_programs", SOURCE)


def _py(f, *args):
    return f.methods[0].pyfunc(*args)


@pytest.mark.parametrize("name,args", [
    ("whole", ((1, 2, 3),)), ("whole", ((1.5, 2, True),)), ("after_one", ((2, 3.5),)),
    ("between", ((1,), (2,))), ("between", ((), (1, 2))), ("make", ((1, 2.5),)),
    ("make", ((True, 2),)), ("forwards", ()), ("closure", (3, (4, 5))),
    ("nested", (((1, 2), 3),)), ("mixed", ((1, 2.0, 3),))])
def test_splat_calls_give_pythons_answer(mod, name, args):
    f = getattr(mod, name)
    got = f(*args)
    want = _py(f, *args)
    assert got == want and type(got) is type(want)


def test_splat_of_a_function_value(mod):
    assert mod.apply(mod.add3, (4, 5, 6)) == 456
    assert mod.apply(lambda a, b: a - b, (4, 9)) == -5


def test_splat_of_a_non_tuple_is_a_compile_error_with_its_line(load_module):
    m = load_module("""
import pkgimage as pk
@pk.generic
def add3(a, b, c):
    return a + b + c
@pk.generic
def f(xs: list[int]):
    return add3(*xs)
""")
    with pytest.raises(pk.CompileError, match=r":8:\d+: f\(\*x\) needs x to be a tuple of "
                                              r"known length; here it has type List\[Int64\]"):
        m.f([1, 2, 3])


def test_splat_with_the_wrong_number_of_elements_is_pythons_type_error(load_module):
    m = load_module("""
import pkgimage as pk
@pk.generic
def add2(a, b):
    return a + b
@pk.generic
def f(t):
    return add2(*t)
""")
    assert m.f((1, 2)) == 3
    with pytest.raises(pk.MethodError):
        m.f((1, 2, 3))


def test_splat_with_keywords_or_on_a_method_is_refused_clearly(load_module):
    m = load_module("""
import pkgimage as pk
@pk.generic
def add2(a, b=1):
    return a + b
@pk.generic
def f(t):
    return add2(*t, b=2)
""")
    with pytest.raises(pk.CompileError, match=r":8:\d+: .*keyword arguments in a call with \*args"):
        m.f((1,))


def test_splat_into_another_modules_function_or_a_math_function(load_module):
    """``m0.f(*t)`` (a function named through its module, found by the program fuzzer:
    refused as if it were a method call) and ``math.hypot(*p)`` (a base function)."""
    other = load_module("""
import pkgimage as pk
@pk.generic
def add3(a, b, c):
    return a * 100 + b * 10 + c
""")
    m = load_module(f"""
import math
import pkgimage as pk
import {other.__name__} as m0
@pk.generic
def f(t: tuple[int, int], p: tuple[float, float]):
    return m0.add3(1, *t), math.hypot(*p), max(*t)
""")
    assert m.f((2, 3), (3.0, 4.0)) == (123, 5.0, 3)

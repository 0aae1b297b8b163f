"""Semantics of compiled code: wrapping integers, Python's floored division, the errors
(DivideError, BoundsError, InexactError, ErrorException, MethodError and AmbiguityError at run
time), Julia's promotion (result types checked with pk.typeof), exact mixed comparisons,
conversions, rationals, structs by value and vectors mutated in place."""

import math

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import (AbstractFloat, Any, Bool, Float32, Float64, Int8, Int16, Int32, Int64,
                      Rational, Real, UInt8, UInt16, UInt32, UInt64, Vector)


@pk.generic
def add(x, y):
    return x + y


@pk.generic
def sub(x, y):
    return x - y


@pk.generic
def mul(x, y):
    return x * y


@pk.generic
def div(x, y):
    return x / y


@pk.generic
def fld(x, y):
    return x // y


@pk.generic
def md(x, y):
    return x % y


@pk.generic
def power(x, y):
    return x ** y


@pk.generic
def neg(x):
    return -x


@pk.generic
def compare_all(x, y):
    return (x < y) + 2 * (x == y) + 4 * (x > y) + 8 * (x <= y) + 16 * (x >= y) + 32 * (x != y)


def py_compare_all(x, y):
    return (x < y) + 2 * (x == y) + 4 * (x > y) + 8 * (x <= y) + 16 * (x >= y) + 32 * (x != y)


def same_float(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


# -- integer overflow wraps ------------------------------------------------------------------

def test_int64_overflow_wraps():
    big = 2**63 - 1
    assert add(big, 1) == -2**63
    assert sub(-2**63, 1) == big
    assert mul(2**62, 2) == -2**63
    assert mul(3037000500, 3037000500) == 3037000500**2 - 2**64
    assert neg(-2**63) == -2**63
    assert power(2, 63) == -2**63
    assert power(3, 40) == 3**40 % 2**64 - 2**64 * (3**40 % 2**64 >= 2**63)


@pytest.mark.parametrize("np_t,pk_t", [(np.int8, Int8), (np.int16, Int16), (np.int32, Int32),
                                       (np.uint8, UInt8), (np.uint16, UInt16),
                                       (np.uint32, UInt32), (np.uint64, UInt64)])
def test_small_integer_overflow_wraps_and_keeps_the_type(np_t, pk_t):
    info = np.iinfo(np_t)
    r = add(np_t(info.max), np_t(1))
    assert r == info.min and pk.typeof(r) is pk_t
    r = sub(np_t(info.min), np_t(1))
    assert r == info.max and pk.typeof(r) is pk_t
    r = mul(np_t(info.max), np_t(2))
    assert r == np_t(info.max - 1 if info.min == 0 else -2) and pk.typeof(r) is pk_t


def test_int8_arithmetic_wraps_like_two_complement():
    assert add(np.int8(100), np.int8(100)) == -56
    assert neg(np.int8(-128)) == -128
    assert pk.typeof(neg(np.uint8(1))) is UInt8 and neg(np.uint8(1)) == 255


# -- floored division and modulo ------------------------------------------------------------

@pytest.mark.parametrize("a,b", [(7, 2), (-7, 2), (7, -2), (-7, -2), (6, 3), (-6, 3), (0, -5),
                                 (1, 7), (-1, 7), (2**63 - 1, -2), (-2**63, 3)])
def test_int_floordiv_and_mod_are_floored_like_python(a, b):
    assert fld(a, b) == a // b
    assert md(a, b) == a % b


def test_small_int_floordiv_and_mod_are_floored():
    assert fld(np.int8(-7), np.int8(2)) == -4 and md(np.int8(-7), np.int8(2)) == 1
    assert pk.typeof(md(np.int8(-7), np.int8(2))) is Int8
    assert fld(np.int32(7), np.int32(-2)) == -4 and md(np.int32(7), np.int32(-2)) == -1


def test_typemin_divided_by_minus_one_wraps():
    assert fld(-2**63, -1) == -2**63
    assert md(-2**63, -1) == 0


@pytest.mark.parametrize("a,b", [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0),
                                 (1.0, 0.1), (-1.0, 0.1), (0.5, -0.1), (-4.0, 2.0), (4.0, -2.0),
                                 (1e308, 1e-308), (5.0, math.inf), (-5.0, math.inf),
                                 (5.0, -math.inf), (math.inf, 2.0), (math.nan, 2.0),
                                 (2.0, math.nan), (-0.0, 1.0), (0.0, -1.0), (3.0, 3.0)])
def test_float_floordiv_and_mod_match_python_bit_for_bit(a, b):
    assert same_float(fld(a, b), a // b), (a, b, fld(a, b), a // b)
    assert same_float(md(a, b), a % b), (a, b, md(a, b), a % b)


def test_float32_floordiv_and_mod_match_numpy():
    a, b = np.float32(1.0), np.float32(0.1)
    assert fld(a, b) == a // b and pk.typeof(fld(a, b)) is Float32
    assert md(np.float32(-7.5), np.float32(2)) == np.float32(0.5)


@pytest.mark.parametrize("x, y", [(1.0, 0.0), (-1.0, -0.0), (0.0, 0.0), (math.nan, 0.0),
                                  (1, 0.0), (np.float32(2), np.float32(0))])
def test_float_division_by_zero_raises_pythons_zero_division_error(x, y):
    """As Python (and numba's default error model): ``1.0 / 0.0`` is not ``inf``."""
    for f, op in ((div, lambda a, b: a / b), (fld, lambda a, b: a // b),
                  (md, lambda a, b: a % b)):
        with pytest.raises(ZeroDivisionError) as want:
            op(float(x), float(y))
        with pytest.raises(ZeroDivisionError, match=str(want.value)):
            f(x, y)


def test_integer_division_by_zero_raises_divide_error_with_pythons_message():
    """``pk.DivideError`` (a ZeroDivisionError) whose text is Python's, so a program that
    prints the error it caught prints what plain Python prints."""
    for f, op in ((fld, lambda a, b: a // b), (md, lambda a, b: a % b)):
        with pytest.raises(ZeroDivisionError) as want:
            op(1, 0)
        with pytest.raises(pk.DivideError) as got:
            f(1, 0)
        assert str(got.value) == str(want.value)
        with pytest.raises(pk.DivideError):
            f(np.int8(1), np.int8(0))
        with pytest.raises(pk.DivideError):
            f(np.uint32(1), np.uint32(0))
    with pytest.raises(ZeroDivisionError):      # DivideError is a ZeroDivisionError too
        fld(5, 0)


def test_true_division_of_integers_gives_float64():
    r = div(7, 2)
    assert r == 3.5 and pk.typeof(r) is Float64
    r = div(np.int8(1), np.int8(4))
    assert r == 0.25 and pk.typeof(r) is Float64
    r = div(np.float32(1), np.int64(4))
    assert r == 0.25 and pk.typeof(r) is Float32


def test_power():
    assert power(2, 10) == 1024 and pk.typeof(power(2, 10)) is Int64
    assert power(2.0, 0.5) == 2.0 ** 0.5
    assert power(2, 0.5) == 2 ** 0.5
    assert power(np.int8(2), np.int8(7)) == -128


# -- promotion -------------------------------------------------------------------------------

PROMOTIONS = [
    (np.int8(1), 2, Int64),
    (2, np.int8(1), Int64),
    (np.int8(1), np.int16(2), Int16),
    (np.int32(1), np.uint32(2), UInt32),
    (np.uint32(1), np.int32(2), UInt32),
    (np.int64(1), np.uint64(2), UInt64),
    (np.uint8(1), np.int8(2), UInt8),
    (np.uint8(1), 2, Int64),
    (np.uint64(1), np.int8(2), UInt64),
    (np.float32(1), 2, Float32),
    (2, np.float32(1), Float32),
    (np.float32(1), 2.0, Float64),
    (np.float32(1), np.uint64(2), Float32),
    (1.5, np.int8(2), Float64),
    (True, True, Int64),
    (True, np.int8(3), Int8),
    (np.uint8(3), True, UInt8),
    (True, 2.5, Float64),
    (True, np.float32(2.5), Float32),
    (1, 2, Int64),
    (1.0, 2.0, Float64),
]


@pytest.mark.parametrize("a,b,t", PROMOTIONS)
def test_julia_promotion_of_mixed_arithmetic(a, b, t):
    for f, op in ((add, "+"), (sub, "-"), (mul, "*")):
        r = f(a, b)
        assert pk.typeof(r) is t, (op, a, b, r)
    assert add(a, b) == int(a) + int(b) if t not in (Float32, Float64) else \
        add(a, b) == pytest.approx(float(a) + float(b))


def test_promotion_wraps_small_signed_into_unsigned_like_julia():
    r = add(np.int32(-1), np.uint32(0))
    assert r == 2**32 - 1 and pk.typeof(r) is UInt32


# -- comparisons -----------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    (1, 2), (2, 2), (3, 2), (1, 2.5), (2.5, 2), (2, 2.0), (-1, -0.0), (0, -0.0),
    (2**53 + 1, 2.0**53), (2.0**53, 2**53 + 1), (2**63 - 1, 2.0**63), (-2**63, -2.0**63),
    (2**62 + 1, 2.0**62), (5, math.inf), (5, -math.inf), (5, math.nan), (math.nan, 5),
    (math.nan, math.nan), (1.0, 1.0), (True, 1), (True, 1.0), (False, -0.5),
])
def test_comparisons_are_exact_like_python(a, b):
    assert compare_all(a, b) == py_compare_all(a, b), (a, b)


@pytest.mark.parametrize("a,b", [
    (np.int8(-1), np.uint8(1)), (np.uint8(1), np.int8(-1)), (-1, np.uint64(2**64 - 1)),
    (np.uint64(2**64 - 1), -1), (np.int64(-5), np.uint32(3)), (np.int32(7), np.uint64(7)),
    (np.uint16(65535), np.int16(-1)), (np.int8(0), np.uint8(0)),
    (np.uint64(2**63), np.int64(2**63 - 1)), (np.int64(2**63 - 1), np.uint64(2**63)),
])
def test_signed_against_unsigned_compares_values_not_bits(a, b):
    assert compare_all(a, b) == py_compare_all(int(a), int(b)), (a, b)


def test_comparisons_against_float32_are_exact():
    x = np.float32(16777216.0)          # 2**24: 2**24 + 1 rounds to it in Float32
    assert compare_all(2**24 + 1, x) == py_compare_all(2**24 + 1, float(x))
    assert compare_all(x, 2**24 + 1) == py_compare_all(float(x), 2**24 + 1)


def test_nan_comparisons_and_truthiness():
    assert compare_all(math.nan, 1.0) == 32
    assert compare_all(math.nan, math.nan) == 32

    @pk.generic
    def truthy(x: Float64):
        return 1 if x else 0

    assert truthy(math.nan) == 1 and truthy(0.0) == 0 and truthy(-0.0) == 0


# -- abs, min, max, conversions --------------------------------------------------------------

@pk.generic
def absolute(x):
    return abs(x)


@pk.generic
def smaller(x, y):
    return min(x, y)


@pk.generic
def larger(x, y):
    return max(x, y)


def test_abs_min_max():
    assert absolute(-3) == 3 and absolute(-2.5) == 2.5 and absolute(-0.0) == 0.0
    assert absolute(-2**63) == -2**63                     # wraps, like Julia's abs
    assert pk.typeof(absolute(np.int8(-3))) is Int8 and absolute(np.uint8(200)) == 200
    assert absolute(True) == 1 and pk.typeof(absolute(True)) is Int64
    assert smaller(3, 2.5) == 2.5 and pk.typeof(smaller(3, 2.5)) is Float64
    assert larger(3, 2.5) == 3.0 and pk.typeof(larger(3, 2.5)) is Float64
    assert smaller(-1, np.int8(5)) == -1 and pk.typeof(smaller(-1, np.int8(5))) is Int64
    assert larger(np.float32(1), np.float32(2)) == 2 and \
        pk.typeof(larger(np.float32(1), np.float32(2))) is Float32


@pk.generic
def conversions(x):
    return Int64(x)


@pk.generic
def to_float64(x):
    return Float64(x)


@pk.generic
def py_int(x):
    return int(x)


@pk.generic
def py_float(x):
    return float(x)


@pk.generic
def to_int8(x):
    return Int8(x)


@pk.generic
def to_uint8(x):
    return UInt8(x)


def test_conversions_between_primitives():
    assert conversions(3.0) == 3 and pk.typeof(conversions(3.0)) is Int64
    assert conversions(np.int8(-3)) == -3
    assert to_float64(3) == 3.0 and pk.typeof(to_float64(3)) is Float64
    assert to_float64(np.float32(0.1)) == float(np.float32(0.1))
    assert py_int(2.9) == 2 and py_int(-2.9) == -2 and pk.typeof(py_int(2.9)) is Int64
    assert py_int(np.int8(5)) == 5 and pk.typeof(py_int(np.int8(5))) is Int64
    assert py_float(7) == 7.0 and pk.typeof(py_float(7)) is Float64
    assert to_int8(-128) == -128 and pk.typeof(to_int8(5)) is Int8
    assert to_uint8(255.0) == 255 and pk.typeof(to_uint8(255.0)) is UInt8


@pytest.mark.parametrize("f,arg", [(to_int8, 300), (to_int8, -129), (to_int8, 1.5),
                                   (to_uint8, -1), (to_uint8, 256), (conversions, 2.5),
                                   (conversions, math.nan), (conversions, 1e19),
                                   (py_int, math.inf), (py_int, math.nan)])
def test_inexact_conversion_raises_inexact_error(f, arg):
    with pytest.raises(pk.InexactError):
        f(arg)


def test_inexact_error_names_the_target_and_value():
    with pytest.raises(pk.InexactError, match=r"Int8\(300\)"):
        to_int8(300)


# -- rationals -------------------------------------------------------------------------------

R = Rational[Int64]


@pk.generic
def rational_sum(n: Int64):
    s = R(0, 1)
    for k in range(1, n + 1):
        s = s + R(1, k * (k + 1))
    return s


@pk.generic
def rational_ops(a: Rational[Int64], b: Rational[Int64]):
    return (a + b).num * 1000000 + (a - b).den * 1000 + (a * b).num * 10 + (a == b)


def test_rational_constructor_normalises():
    r = R(3, 6)
    assert (r.num, r.den) == (1, 2)
    r = R(4, -6)
    assert (r.num, r.den) == (-2, 3)
    r = R(0, -5)
    assert (r.num, r.den) == (0, 1)
    assert R(3, 6) == R(1, 2)
    with pytest.raises(pk.ErrorException, match="invalid rational"):
        R(0, 0)


def test_rational_arithmetic_in_compiled_code():
    # sum of 1/(k(k+1)) for k = 1..n telescopes to n/(n+1)
    r = rational_sum(9)
    assert type(r) is R and (r.num, r.den) == (9, 10)
    a, b = R(1, 2), R(1, 3)
    # a+b = 5/6, a-b = 1/6, a*b = 1/6, a == b is False
    assert rational_ops(a, b) == 5 * 1000000 + 6 * 1000 + 1 * 10 + 0
    assert rational_ops(R(2, 4), R(1, 2)) == 1 * 1000000 + 1 * 1000 + 1 * 10 + 1


def test_rational_mixed_with_integers():
    assert add(R(1, 2), 1) == R(3, 2)
    assert mul(2, R(1, 4)) == R(1, 2)
    assert sub(R(1, 2), R(1, 2)) == R(0, 1)
    assert neg(R(1, 2)) == R(-1, 2)


# -- structs and vectors ---------------------------------------------------------------------

@pk.struct
class SVec:
    x: Float64
    y: Float64


@pk.struct
class SParticle:
    pos: SVec
    mass: Int64
    alive: Bool


@pk.generic
def step(p: SParticle, dt: Float64):
    return SParticle(SVec(p.pos.x + dt, p.pos.y - dt), p.mass + 1, not p.alive)


@pk.generic
def scale_in_place(v: Vector[Float64], k: Float64):
    for i in range(len(v)):
        v[i] = v[i] * k
    return None


@pk.generic
def fill_ints(v: Vector[Int8], x: Int64):
    for i in range(len(v)):
        v[i] = x + i
    return v


@pk.generic
def index(v, i):
    return v[i]


@pk.generic
def set_index(v, i, x):
    v[i] = x
    return None


def test_structs_travel_by_value_and_come_back_as_their_class():
    p = SParticle(SVec(1.0, 2.0), 3, True)
    q = step(p, 0.5)
    assert type(q) is SParticle and type(q.pos) is SVec
    assert q == SParticle(SVec(1.5, 1.5), 4, False)
    assert p == SParticle(SVec(1.0, 2.0), 3, True)        # the argument is untouched
    assert pk.typeof(q.alive) is Bool and pk.typeof(q.mass) is Int64


def test_vector_arguments_are_mutated_in_place():
    v = np.array([1.0, 2.0, 3.0])
    same = v
    assert scale_in_place(v, 2.0) is None
    assert same is v and list(v) == [2.0, 4.0, 6.0]
    w = np.zeros(3, dtype=np.int8)
    assert fill_ints(w, 5) is w
    assert list(w) == [5, 6, 7]


def test_storing_into_a_small_int_vector_checks_the_value():
    w = np.zeros(2, dtype=np.int8)
    with pytest.raises(pk.InexactError):
        fill_ints(w, 127)           # 127 fits, 128 does not
    assert list(w) == [127, 0]


def test_negative_indices_count_from_the_end():
    v = np.array([1.0, 2.0, 3.0])
    assert index(v, -1) == 3.0 and index(v, -3) == 1.0 and index(v, 0) == 1.0
    set_index(v, -2, 9.0)
    assert list(v) == [1.0, 9.0, 3.0]
    assert index(v, np.int8(-1)) == 3.0


@pytest.mark.parametrize("i", [3, 100, -4, -100])
def test_index_out_of_range_raises_bounds_error(i):
    v = np.array([1.0, 2.0, 3.0])
    with pytest.raises(pk.BoundsError, match=f"3-element.*\\[{i}\\]"):
        index(v, i)
    with pytest.raises(pk.BoundsError):
        set_index(v, i, 0.0)
    with pytest.raises(IndexError):                  # BoundsError is an IndexError too
        index(v, i)
    assert list(v) == [1.0, 2.0, 3.0]


def test_boxed_vector_of_abstract_element_type():
    v = Vector[AbstractFloat]([1.0, np.float32(2.0)])
    assert index(v, 1) == 2.0 and pk.typeof(index(v, 1)) is Float32
    set_index(v, 0, np.float32(5.0))
    assert pk.typeof(index(v, 0)) is Float32
    with pytest.raises(pk.BoundsError):
        index(v, 2)


# -- run-time errors -------------------------------------------------------------------------

@pk.generic
def only_floats(x: Float64):
    return x * 2.0


@pk.generic
def amb(x: Int64, y: Real):
    return 1


@pk.generic
def amb(x: Real, y: Int64):     # noqa: F811  (a second method)
    return 2


@pk.generic
def calls_missing_method(x: Int64):
    if x > 0:
        return only_floats(x)
    return 0.0


@pk.generic
def calls_ambiguous_method(x: Int64):
    if x > 0:
        return amb(x, x)
    return 0


@pk.generic
def raises_error(x: Int64, y: Float64):
    if x > y:
        pk.error(f"x={x} is larger than y={y}")
    return y - x


def test_missing_method_inside_compiled_code_is_a_method_error_at_run_time():
    assert pk.precompile(calls_missing_method, (Int64,)) is True
    assert calls_missing_method(-1) == 0.0
    with pytest.raises(pk.MethodError, match="only_floats"):
        calls_missing_method(1)


def test_ambiguous_call_inside_compiled_code_is_an_ambiguity_error_at_run_time():
    assert pk.precompile(calls_ambiguous_method, (Int64,)) is True
    assert calls_ambiguous_method(0) == 0
    with pytest.raises(pk.AmbiguityError):
        calls_ambiguous_method(1)
    assert amb(1, 2.0) == 1 and amb(2.0, 1) == 2


def test_pk_error_raises_error_exception_with_formatted_message():
    assert raises_error(1, 2.5) == 1.5
    with pytest.raises(pk.ErrorException) as info:
        raises_error(3, 2.5)
    assert str(info.value) == "x=3 is larger than y=2.5"


def test_no_method_for_the_argument_types_from_python_is_a_method_error():
    with pytest.raises(pk.MethodError):
        only_floats(1)
    assert pk.precompile(only_floats, (Int64,)) is False


@pk.struct
class HasX:
    x: Int64


@pk.generic
def field_of_element(v):
    return v[0].x


def test_field_read_on_an_abstract_value_works_when_the_field_exists():
    assert field_of_element(Vector[Any]([HasX(5)])) == 5


def test_missing_field_on_an_abstract_value_is_a_pkgimage_error():
    with pytest.raises(pk.ErrorException, match="type Int64 has no field x"):
        field_of_element(Vector[Any]([1]))
    with pytest.raises(pk.ErrorException, match="has no field __class__"):
        class_of_element(Vector[Any]([HasX(5)]))


@pk.generic
def class_of_element(v):
    return v[0].__class__


UNION_SPLIT = """
import pkgimage as pk
from pkgimage import Real


@pk.struct
class P:
    x: float


@pk.generic
def describe(p: P):
    return p.x * 2.0


@pk.generic
def describe(s: str):
    return float(len(s))


@pk.generic
def split_calls(a: Real, c: int):
    s = 0
    for i in range(c):
        s += a * i
    t = None if c > 5 else 2.5
    u = P(1.5) if c > 3 else "four"
    v = (1 if c % 2 else 2.0) + 1
    return s, t is None, s * 2, describe(u), v
"""


@pytest.mark.parametrize("args", [(2, 3), (2.5, 0), (1, 7), (True, 4), (0.5, 6)])
def test_calls_on_small_unions_are_split_and_give_pythons_answer(load_module, args):
    """A call whose arguments are unions of types told apart by their Python class (an int
    or a float sum, a struct or a string) is one static call per combination, chosen at run
    time (Julia's union splitting); the answers are plain Python's."""
    m = load_module(UNION_SPLIT)
    assert m.split_calls(*args) == m.split_calls.methods[0].pyfunc(*args)
    typed = pk.code_typed(m.split_calls, tuple(pk.typeof(a) for a in args))
    assert "split " in str(typed)

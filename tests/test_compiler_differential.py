"""Differential check: compiled code gives the same answers as the same bodies run as plain
Python (``method.pyfunc``, and ``PKGIMAGE_JIT=0`` in a subprocess for code whose calls must
not be compiled either).  Hypothesis draws integer and float inputs; integer ranges keep every
intermediate value inside Int64, since Python integers do not wrap.
"""

import importlib.util
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pkgimage as pk
from pkgimage import Bool, Float64, Int64, Vector

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

small = st.integers(min_value=-2**31, max_value=2**31)
nonzero_small = small.filter(lambda b: b != 0)
floats = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


def py(f):
    (m,) = f.methods
    return m.pyfunc


def same(a, b):
    """Equal values of the same pkgimage type (floats: bit for bit, NaN equal to NaN)."""
    if pk.typeof(a) is not pk.typeof(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def check(f, *args):
    expected = py(f)(*args)
    got = f(*args)
    assert same(got, expected), (f.name, args, got, expected)


# -- functions under test ------------------------------------------------------------------------

@pk.generic
def int_ops(a: Int64, b: Int64):
    q = a // b if b != 0 else 0
    r = a % b if b != 0 else -1
    c = (a < b) + 2 * (a <= b <= 0) + 4 * (a == b) + 8 * (a != -b)
    return q * 7 + r * 3 + c + abs(a) - min(a, b) + max(a, b) + (a and b) - (a or b)


@pk.generic
def float_ops(x: Float64, y: Float64):
    return x // y + x % y


@pk.generic
def float_floordiv(x: Float64, y: Float64):
    return x // y


@pk.generic
def float_mod(x: Float64, y: Float64):
    return x % y


@pk.generic
def mixed_compare(i: Int64, f: Float64):
    return (i < f) + 2 * (i == f) + 4 * (i > f) + 8 * (f <= i) + 16 * (f >= i) + 32 * (f != i)


@pk.generic
def mixed_arith(i: Int64, f: Float64):
    s = i
    if f > 0:
        s = s + f
    elif f < -1:
        s = s * 2
    else:
        s = s - 1
    return s / 4 + i / 3


@pk.generic
def collatz(n: Int64):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


@pk.generic
def gcd(a: Int64, b: Int64):
    while b != 0:
        t = a % b
        a = b
        b = t
    return a


@pk.generic
def digit_sum(n: Int64):
    s = 0
    while n:
        s += n % 10
        n //= 10
        if n == -1:
            break
    return s


@pk.generic
def primes_below(n: Int64):
    count = 0
    for k in range(2, n):
        d = 2
        prime = True
        while d * d <= k:
            if k % d == 0:
                prime = False
                break
            d += 1
        if not prime:
            continue
        count += 1
    return count


@pk.generic
def stepped(a: Int64, b: Int64, c: Int64):
    s = 0
    for i in range(a, b, c):
        s = s * 31 % 1000003 + i
    return s


@pk.generic
def horner(v: Vector[Float64], x: Float64):
    acc = 0.0
    for c in v:
        acc = acc * x + c
    return acc


@pk.generic
def clamp_count(v: Vector[Float64], lo: Float64, hi: Float64):
    n = 0
    for i in range(len(v)):
        e = v[i]
        if e < lo:
            v[i] = lo
        elif e > hi:
            v[i] = hi
        else:
            n += 1
    return n


@pk.generic
def bool_logic(a: Bool, b: Bool, n: Int64):
    r = 0
    if a and not b:
        r += 1
    if a or b:
        r += 2
    if not (a or n > 3):
        r += 4
    return r + (a + b) * 10


@pk.generic
def powers(b: Int64, e: Int64):
    return b ** e + (b * 1.0) ** (e / 2)


@pk.struct
class DPt:
    x: Float64
    y: Float64


@pk.struct
class DBox:
    lo: DPt
    hi: DPt
    n: Int64


@pk.generic
def grow(b: DBox, p: DPt):
    lo = DPt(min(b.lo.x, p.x), min(b.lo.y, p.y))
    hi = DPt(max(b.hi.x, p.x), max(b.hi.y, p.y))
    return DBox(lo, hi, b.n + 1)


@pk.generic
def box_area(b: DBox):
    return (b.hi.x - b.lo.x) * (b.hi.y - b.lo.y)


# -- hypothesis-driven comparisons ---------------------------------------------------------------

@FAST
@given(small, small)
def test_integer_operations(a, b):
    check(int_ops, a, b)


@FAST
@given(floats, floats.filter(lambda y: y != 0))
def test_float_floordiv_and_mod(x, y):
    check(float_floordiv, x, y)
    check(float_mod, x, y)


@FAST
@given(finite, finite.filter(lambda y: abs(y) > 1e-3))
def test_float_floordiv_plus_mod_on_moderate_values(x, y):
    check(float_ops, x, y)


@FAST
@given(st.one_of(st.integers(min_value=-2**63, max_value=2**63 - 1),
                 st.integers(min_value=2**52, max_value=2**54)),
       st.one_of(floats, st.integers(min_value=2**52, max_value=2**54).map(float)))
def test_integer_float_comparisons(i, f):
    check(mixed_compare, i, f)


@FAST
@given(small, finite)
def test_mixed_arithmetic(i, f):
    check(mixed_arith, i, f)


@FAST
@given(st.integers(min_value=1, max_value=10**6))
def test_collatz(n):
    check(collatz, n)


@FAST
@given(small, small)
def test_gcd(a, b):
    check(gcd, a, b)


@FAST
@given(st.integers(min_value=-10**15, max_value=10**15))
def test_digit_sum(n):
    check(digit_sum, n)


@FAST
@given(st.integers(min_value=-100, max_value=100), st.integers(min_value=-100, max_value=100),
       st.integers(min_value=-7, max_value=7).filter(lambda c: c != 0))
def test_stepped_ranges(a, b, c):
    check(stepped, a, b, c)


@FAST
@given(st.lists(finite, max_size=8), finite)
def test_horner(coeffs, x):
    v = np.array(coeffs, dtype=np.float64)
    got = horner(v, x)
    expected = py(horner)(list(coeffs), x)
    assert same(got, expected)


@FAST
@given(st.lists(finite, max_size=10), finite, finite)
def test_clamp_mutates_like_python(values, lo, hi):
    v = np.array(values, dtype=np.float64)
    w = list(values)
    assert clamp_count(v, lo, hi) == py(clamp_count)(w, lo, hi)
    assert list(v) == w


@FAST
@given(st.booleans(), st.booleans(), st.integers(min_value=-10, max_value=10))
def test_bool_logic(a, b, n):
    check(bool_logic, a, b, n)


@FAST
@given(st.integers(min_value=-40, max_value=40), st.integers(min_value=0, max_value=10))
def test_powers(b, e):
    got, expected = powers(b, e), py(powers)(b, e)
    if isinstance(expected, complex):       # negative base, fractional exponent: Julia's NaN
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-12) and pk.typeof(got) is Float64


@FAST
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=6))
def test_struct_accumulation(points):
    b = DBox(DPt(points[0][0], points[0][1]), DPt(points[0][0], points[0][1]), 1)
    bp = b
    for x, y in points[1:]:
        b = grow(b, DPt(x, y))
        bp = py(grow)(bp, DPt(x, y))
    assert b == bp and type(b) is DBox
    assert same(box_area(b), py(box_area)(bp))


def test_primes_below():
    for n in (0, 2, 3, 10, 100, 1000):
        check(primes_below, n)


# -- the same module run compiled and with PKGIMAGE_JIT=0 ----------------------------------------

WORKLOAD = textwrap.dedent('''
    import pkgimage as pk
    from pkgimage import Float64, Int64, Vector

    @pk.generic
    def fib(n: Int64):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    @pk.generic
    def is_even(n: Int64):
        return True if n == 0 else is_odd(n - 1)

    @pk.generic
    def is_odd(n: Int64):
        return False if n == 0 else is_even(n - 1)

    @pk.generic
    def mean_and_spread(v: Vector[Float64]):
        s = 0.0
        for e in v:
            s += e
        m = s / len(v)
        d = 0.0
        for e in v:
            d = max(d, abs(e - m))
        return m * 1000.0 + d

    @pk.generic
    def poly_steps(n: Int64):
        x = 0
        for i in range(n, -n, -3):
            x = x * 3 - i // 2 + i % 5 if x < 10**12 else x // 7
        return x

    def results():
        import numpy as np
        v = np.array([1.5, -2.0, 3.25, 8.0])
        return [fib(18), is_even(31), is_odd(31), mean_and_spread(v), poly_steps(40),
                poly_steps(-5), [fib(k) for k in range(10)]]
''')


def test_compiled_results_match_a_session_without_the_jit(tmp_path):
    path = tmp_path / "diffmod.py"
    path.write_text(WORKLOAD)
    env = dict(os.environ, PKGIMAGE_JIT="0", PYTHONPATH=ROOT)
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import diffmod; "
            f"from pkgimage.compiler import pipeline; r = diffmod.results(); "
            f"assert pipeline.STATS['compiled'] == 0; print(repr(r))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    interpreted = eval(out.stdout)

    spec = importlib.util.spec_from_file_location("_pk_diffmod_compiled", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
        compiled = mod.results()
        assert pk.methodinstances(mod.fib)[0].cache.native is not None     # really compiled
    finally:
        sys.modules.pop(spec.name, None)
    assert compiled == interpreted
    assert [pk.typeof(x) for x in compiled] == [pk.typeof(x) for x in interpreted]

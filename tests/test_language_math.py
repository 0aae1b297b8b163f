"""Python's ``math`` in compiled code: ``math.sqrt(x)`` and ``from math import sqrt`` call the
base library's generic functions, which give CPython's results bit for bit (the same C
library functions) and raise CPython's errors (``ValueError: math domain error``,
``OverflowError: math range error``); other real numbers are converted to Float64 first, as
Python does; packages extend the functions for their own types."""

import math
import struct
import textwrap

import pytest

import pkgimage as pk
from pkgimage.base import mathlib
from pkgimage.compiler.intrinsics import LIBM1, LIBM2

VALUES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1e-300, 2.0, 3.75, -7.25, 100.0, 710.0, -745.5,
          1e300, math.inf, -math.inf, math.nan, math.pi, 0.9999999999999999]


def _bits(v):
    return struct.pack("<d", v) if isinstance(v, float) else v


def _python(fn, *args):
    try:
        return ("ok", _bits(fn(*args)))
    except (ValueError, OverflowError) as e:
        return (type(e).__name__, str(e))


def _module(load_module, name, nargs):
    params = ", ".join(f"x{i}: float" for i in range(nargs))
    args = ", ".join(f"x{i}" for i in range(nargs))
    return load_module(f"""
import math
import pkgimage as pk

@pk.generic
def call({params}):
    return math.{name}({args})
""")


@pytest.mark.parametrize("name", sorted(set(LIBM1) | {"fabs"}))
def test_unary_functions_equal_cpython_bit_for_bit_with_its_errors(load_module, name):
    mod = _module(load_module, name, 1)
    for x in VALUES:
        assert _python(mod.call, x) == _python(getattr(math, name), x), (name, x)


@pytest.mark.parametrize("name", LIBM2)
def test_binary_functions_equal_cpython_bit_for_bit_with_its_errors(load_module, name):
    mod = _module(load_module, name, 2)
    for x in VALUES[::2]:
        for y in VALUES[1::3] + [0.0, 2.0, -3.0, 0.5]:
            assert _python(mod.call, x, y) == _python(getattr(math, name), x, y), (name, x, y)


def test_predicates_rounding_to_int_and_integer_arguments(load_module):
    mod = load_module("""
import math
from math import floor, isnan
import pkgimage as pk

@pk.generic
def rounding(x: float):
    return floor(x), math.ceil(x), math.trunc(x)

@pk.generic
def tests(x: float):
    return isnan(x), math.isinf(x), math.isfinite(x)

@pk.generic
def on_ints(n: int, b: bool):
    return math.sqrt(n), math.exp(b), math.atan2(n, 2), math.floor(n)
""")
    for x in (2.5, -2.5, 0.0, 1e15 + 0.5):
        assert mod.rounding(x) == (math.floor(x), math.ceil(x), math.trunc(x))
        assert all(type(v) is int for v in mod.rounding(x))
    for x in (1.0, math.nan, math.inf, -math.inf):
        assert mod.tests(x) == (math.isnan(x), math.isinf(x), math.isfinite(x))
    assert mod.on_ints(9, True) == (3.0, math.e, math.atan2(9, 2), 9)
    with pytest.raises(ValueError, match="math domain error"):
        mod.on_ints(-1, False)


def test_packages_extend_math_functions_for_their_own_types(load_module):
    mod = load_module("""
import math
import pkgimage as pk

@pk.struct
class Dual:
    v: pk.Float64
    d: pk.Float64

@pk.base.sqrt.method
def _(x: Dual):
    r = math.sqrt(x.v)
    return Dual(r, x.d / (2.0 * r))

@pk.generic
def norm(x: Dual):
    return math.sqrt(x)
""")
    assert mod.norm(mod.Dual(4.0, 1.0)) == mod.Dual(2.0, 0.25)


def test_every_math_name_mapped_is_a_base_generic_function():
    assert set(mathlib.FUNCTIONS) == {mathlib.BASE_NAME.get(n, n) for n in mathlib.NAMES}
    for name, f in mathlib.FUNCTIONS.items():
        assert getattr(pk.base, name) is f and isinstance(f, pk.dispatch.GenericFunction)
    # math.pow has its own function: ``**`` keeps Python's operator semantics
    assert pk.base.math_pow is not pk.base.pow


def test_math_calls_load_from_an_image_without_compiling(tmp_path):
    import textwrap
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("math1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import math
        from math import sqrt
        import pkgimage as pk

        @pk.generic
        def black_scholes_d1(s: float, k: float, t: float, r: float, v: float):
            return (math.log(s / k) + (r + 0.5 * v * v) * t) / (v * sqrt(t))

        @pk.generic
        def cdf(x: float):
            return 0.5 * math.erfc(-x / sqrt(2.0))

        pk.precompile(black_scholes_d1, (pk.Float64,) * 5)
        pk.precompile(cdf, (pk.Float64,))
        """))
    assert proj.build("math1").returncode == 0
    out = proj.run_json("""
import math1
with Tripwire() as tw:
    res = [math1.black_scholes_d1(100.0, 95.0, 0.5, 0.01, 0.2), math1.cdf(0.3)]
try:
    math1.cdf(float("nan")); err = None
except Exception as e:
    err = type(e).__name__
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    import math
    d1 = (math.log(100.0 / 95.0) + (0.01 + 0.5 * 0.2 * 0.2) * 0.5) / (0.2 * math.sqrt(0.5))
    assert out["res"] == [d1, 0.5 * math.erfc(-0.3 / math.sqrt(2.0))], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


PY_MATH_AND_RANDOM = """
import math, random
from math import gamma, hypot
import pkgimage as pk


@pk.generic
def monte_carlo(n: int, seed: int):
    random.seed(seed)
    inside = 0
    for i in range(n):
        x = random.random()
        y = random.uniform(0, 1)
        if x * x + y * y <= 1.0:
            inside += 1
    v = [1, 2, 3, 4]
    random.shuffle(v)
    return (4.0 * inside / n, random.randint(1, 6), random.choice(v), v,
            random.gauss(0, 1), random.randrange(10), random.choice("ACGT"))


@pk.generic
def cpython_math(x: float, k: int):
    return (gamma(x), math.lgamma(x), hypot(x, 3), math.degrees(x), math.radians(x),
            math.log(x, 2), math.frexp(x), math.modf(x), math.ldexp(x, 3), math.gcd(k, 12),
            math.comb(k, 2), math.factorial(k), math.isqrt(k))
"""


@pytest.mark.parametrize("args", [(2.5, 10), (0.1, 1), (30.0, 20)])
def test_math_functions_cpython_computes_itself_are_its_own(load_module, args):
    """``math.gamma``, ``hypot``, ``gcd``... are CPython's own code, not the C library's:
    compiled code calls it, so the results are CPython's bit for bit, errors too."""
    m = load_module(PY_MATH_AND_RANDOM)
    assert m.cpython_math(*args) == m.cpython_math.methods[0].pyfunc(*args)
    with pytest.raises(ValueError, match="math domain error"):
        m.cpython_math(-1.0, 3)


def test_random_numbers_are_plain_pythons_stream(load_module):
    """Compiled code draws from Python's own ``random`` generator: a seeded run gives
    exactly the numbers plain Python gives, and seeding from either side seeds both."""
    m = load_module(PY_MATH_AND_RANDOM)
    assert m.monte_carlo(2000, 7) == m.monte_carlo.methods[0].pyfunc(2000, 7)
    import random
    random.seed(3)
    a = m.monte_carlo.methods[0].pyfunc(10, 11)
    assert m.monte_carlo(10, 11) == a


def test_random_calls_load_from_an_image_and_draw_pythons_stream(tmp_path):
    """Compiled code calls ``random.random`` & co. themselves (constant slots naming them,
    filled when an image's code is installed): a seeded draw after a load is Python's."""
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("rnd1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import random
        import pkgimage as pk

        @pk.generic
        def draws(n: int):
            random.seed(n)
            return [random.random() + random.randint(1, 6) for _ in range(n)]

        @pk.precompilation(__name__)
        def _workload():
            draws(3)
        """))
    assert proj.build("rnd1").returncode == 0
    out = proj.run_json("""
import random
import rnd1
with Tripwire() as tw:
    got = rnd1.draws(5)
random.seed(5)
want = [random.random() + random.randint(1, 6) for _ in range(5)]
done({"same": got == want, "compiles": tw.total, "stats": stats()})
""")
    assert out["same"] and out["compiles"] == 0, out
    assert out["stats"]["discarded_instances"] == 0, out["stats"]


ROUNDING = """
import pkgimage as pk


@pk.generic
def round_float(x: float, n: int):
    return round(x), round(x, n), round(x, -n)


@pk.generic
def round_int(k: int, n: int):
    return round(k), round(k, -n), round(k, n), round(k > 0)
"""

ROUND_FLOATS = [0.5, 1.5, 2.5, -0.5, -2.5, 2.675, 1e-7, 123456.789, -0.0, 1e18, 0.125,
                4.5e15 + 0.5]


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_round_is_pythons_ties_to_even_and_decimal_digits(load_module, n):
    """``round(x)`` is the nearest int with ties to even, ``round(x, n)`` CPython's correctly
    rounded decimal digits (``round(2.675, 2) == 2.67``), for floats and ints, with the types
    Python gives; an infinity or NaN has no Int64, as for ``int(x)``."""
    m = load_module(ROUNDING)
    for x in ROUND_FLOATS:
        got, want = m.round_float(x, n), m.round_float.methods[0].pyfunc(x, n)
        assert [(type(v), _bits(v)) for v in got] == [(type(v), _bits(v)) for v in want], x
    for k in (0, 7, -15, 1250, 1350, -2**62):
        got, want = m.round_int(k, n), m.round_int.methods[0].pyfunc(k, n)
        assert [(type(v), v) for v in got] == [(type(v), v) for v in want], k
    for bad in (math.inf, math.nan):       # (no Int64: the documented InexactError)
        with pytest.raises(pk.InexactError):
            m.round_float(bad, n)


def test_gcd_of_int64_stays_the_native_method_rational_arithmetic_normalises_with(
        load_module):
    """``math.gcd`` is a method per signature calling CPython's own code -- except where the
    base library already has a native one: ``gcd(Int64, Int64)`` is Euclid's loop, which
    every ``Rational[Int64]`` made runs (a call into CPython there made Rational arithmetic
    8x slower, 3.5x numba's time instead of 0.4x).  The answers are math.gcd's."""
    import pkgimage as pk
    from pkgimage import Int64
    ms = [m for m in pk.base.gcd.methods if tuple(m.sig.__pk_params__) == (Int64, Int64)]
    assert len(ms) == 1 and ms[0].module == "pkgimage.base.rational", ms
    m = load_module("""
import math
import pkgimage as pk

@pk.generic
def g(a: int, b: int):
    return math.gcd(a, b), math.lcm(a, b)
""")
    for a, b in [(12, -18), (0, 0), (-7, 0), (0, -5), (2 ** 62, 2 ** 40), (-(2 ** 62) + 1, 1)]:
        assert m.g(a, b) == (math.gcd(a, b), math.lcm(a, b)), (a, b)

"""``complex`` in compiled code (``Complex[Float64]``, Python's complex at the boundary):
literals, ``complex(a, b)``, arithmetic with complex and real operands, integral and other
powers, ``abs``, ``.real``/``.imag``/``.conjugate()``, comparisons and ``cmath``, bit for bit
equal to plain Python (CPython's own algorithms), ``ZeroDivisionError`` as Python raises it;
Julia's ``mandelperf`` micro-benchmark; images."""

import cmath
import itertools
import math
import textwrap

import pytest

import pkgimage as pk

SOURCE = '''
import cmath
import pkgimage as pk


@pk.generic
def arith(a: complex, b: complex, x: float, n: int):
    return (a + b, a - b, a * b, -a, a + x, x * a, a - x, x - a, a * n, a ** n, abs(a),
            a.conjugate(), a.real, a.imag, a == b, a != b, a == x, complex(x), complex(x, n),
            1j * a + 2, a * 1.5j)


@pk.generic
def modulus(a: complex):
    return abs(a)


@pk.generic
def quotient(a: complex, b: complex):
    return a / b


@pk.generic
def power(a: complex, e: float):
    return a ** e


@pk.generic
def cpower(a: complex, e: complex):
    return a ** e


@pk.generic
def cm(a: complex):
    return (cmath.sqrt(a), cmath.exp(a), cmath.log(a), cmath.sin(a), cmath.cos(a),
            cmath.tanh(a), cmath.phase(a), cmath.sqrt(a.real))


@pk.generic
def mandel(z: complex) -> int:
    c = z
    maxiter = 80
    for n in range(maxiter):
        if abs(z) > 2.0:
            return n
        z = z * z + c
    return maxiter


@pk.generic
def mandelperf():
    r1 = [-2.0 + 0.1 * i for i in range(26)]
    r2 = [-1.0 + 0.1 * i for i in range(21)]
    return [mandel(complex(r, i)) for r in r1 for i in r2]
'''

VALUES = [1.5 - 2.25j, -0.5 + 3j, 0j, -0.0 + 0j, complex(0.0, -0.0), 1e300 + 1e-300j,
          complex(math.inf, 1.0), complex(math.nan, 2.0), 3 + 4j, -1j]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("complex"), "complex_programs", SOURCE)


def plain(mod, name):
    return getattr(mod, name).methods[0].pyfunc


def same(a, b):
    """Equal bit for bit (NaNs and the signs of zeros too)."""
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, complex) and isinstance(b, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, float) and isinstance(b, float):
        return math.copysign(1, a) == math.copysign(1, b) and (a == b or a != a and b != b)
    return type(a) is type(b) and a == b


def outcome(f, *args):
    try:
        return f(*args)
    except Exception as e:
        return (type(e).__name__, str(e))


@pytest.mark.parametrize("a, b", list(itertools.product(VALUES[:6], VALUES[4:])))
def test_complex_arithmetic_is_pythons_bit_for_bit(mod, a, b):
    for x, n in [(0.75, 3), (-0.0, -2), (2.0, 0)]:
        assert same(outcome(mod.arith, a, b, x, n), outcome(plain(mod, "arith"), a, b, x, n))
    assert same(outcome(mod.quotient, a, b), outcome(plain(mod, "quotient"), a, b))


@pytest.mark.parametrize("e", [2.0, -3.0, 0.5, 101.0, 100.0, -0.0])
def test_complex_powers_are_pythons(mod, e):
    for a in VALUES:
        assert same(outcome(mod.power, a, e), outcome(plain(mod, "power"), a, e)), (a, e)
        assert same(outcome(mod.cpower, a, complex(e, 0.0)),
                    outcome(plain(mod, "cpower"), a, complex(e, 0.0)))
    assert same(outcome(mod.cpower, 1 + 1j, 0.5j), (1 + 1j) ** 0.5j)


def test_division_by_zero_raises_as_python(mod):
    with pytest.raises(ZeroDivisionError):
        mod.quotient(1 + 1j, 0j)
    with pytest.raises(ZeroDivisionError):
        mod.power(0j, -1.0)


@pytest.mark.parametrize("a", [v for v in VALUES if not cmath.isinf(v)])
def test_cmath_is_cpythons(mod, a):
    assert same(outcome(mod.cm, a), outcome(plain(mod, "cm"), a))


@pytest.mark.parametrize("a", [complex(math.inf, math.nan), complex(math.nan, -math.inf),
                               complex(math.nan, 1.0), complex(2.0, math.nan),
                               complex(-0.0, 0.0), complex(1e308, 1e308),
                               complex(-1e308, 5e307), complex(3e-320, 4e-320),
                               complex(1.7e308, 1.7e308), complex(-1.5e308, 1.5e308), 3 + 4j])
def test_abs_is_pythons_at_infinities_nans_and_overflow(mod, a):
    """The finite ``hypot`` is taken at once; the rest (an infinite part wins over a NaN,
    a NaN part, a finite value whose modulus overflows: OverflowError) as CPython's
    ``_Py_c_abs`` decides."""
    try:
        want = abs(a)
    except OverflowError as e:
        with pytest.raises(OverflowError, match=str(e)):
            mod.modulus(a)
        return
    got = mod.modulus(a)
    assert got == want or (math.isnan(got) and math.isnan(want))


def test_mandelperf_gives_julias_checksum(mod):
    assert sum(mod.mandelperf()) == sum(plain(mod, "mandelperf")()) == 14791
    assert pk.typeof(1j).__pk_name__ == "Complex[Float64]" and pk.isa(2j, pk.base.Complex)


def test_complex_code_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("cplx1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            mandelperf()
            quotient(1j, 2.0 + 1j)
        """))
    assert proj.build("cplx1").returncode == 0
    out = proj.run_json("""
import cplx1
with Tripwire() as tw:
    res = [sum(cplx1.mandelperf()), repr(cplx1.quotient(3j, 1.0 - 2j))]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [14791, repr(3j / (1.0 - 2j))], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_a_union_of_complex_and_float_is_split_by_class(load_module):
    """Union splitting tests a value's class: Python's complex for Complex[Float64] (the
    check once read the struct's own class, and a slip there broke every split call)."""
    m = load_module("""
import pkgimage as pk
@pk.generic
def f(flag: bool, x: float):
    z = (1j * x) if flag else x
    return abs(z * z + 1)
""")
    assert m.f(True, 2.0) == abs((2j) * (2j) + 1) and m.f(False, 2.0) == 5.0

"""Bitwise ``&``, ``|``, ``^`` and their augmented forms on ints and bools in compiled code
(``pkgimage/base/bits.py``): Python's values and Python's result types -- ``True & False``
is a bool, ``True & 1`` an int, negative ints act as two's complement -- for every pair of
a table of operands, compared with plain Python running the same source."""

import itertools

import pytest
from plaintools import compiled_and_plain, typed

import pkgimage as pk

SOURCE = '''
import pkgimage as pk


@pk.generic
def ops_ii(a: int, b: int):
    return (a & b, a | b, a ^ b)


@pk.generic
def ops_bb(a: bool, b: bool):
    return (a & b, a | b, a ^ b)


@pk.generic
def ops_bi(a: bool, b: int):
    return (a & b, a | b, a ^ b, b & a, b | a, b ^ a)


@pk.generic
def aug(a: int, b: int):
    x = a
    x &= b
    y = a
    y |= b
    z = a
    z ^= b
    return (x, y, z)


@pk.generic
def aug_bool(a: bool, b: bool):
    x = a
    x &= b
    x |= a
    x ^= b
    return x


@pk.generic
def flags(xs: list[int]):
    """Richards' use: a word of flag bits set, tested and cleared in a loop."""
    state = 0
    seen = []
    for x in xs:
        bit = 1
        for _ in range(x % 5):
            bit = bit + bit
        if state & bit:
            state ^= bit
        else:
            state |= bit
        seen.append(state & 0xFF)
    return (state, seen, state & -state, state | 0)


@pk.generic
def mixed(a: int):
    return (a & 0xF0, 0xF0 | a, a ^ -1, (a > 0) & (a < 10), (a > 0) | (a & 1 == 1))
'''

INTS = [0, 1, 2, 7, -1, -8, 255, 2 ** 62, -(2 ** 62), 2 ** 63 - 1, -(2 ** 63)]


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return compiled_and_plain(tmp_path_factory.mktemp("bits"), "bits_programs", SOURCE)


def _check(m, p, name, *args):
    got, want = getattr(m, name)(*args), getattr(p, name)(*args)
    assert typed(got) == typed(want), (name, args, got, want)


def test_int_operands_give_pythons_values(mods):
    m, p = mods
    for a, b in itertools.product(INTS, INTS):
        _check(m, p, "ops_ii", a, b)
        _check(m, p, "aug", a, b)


def test_bool_operands_stay_bools(mods):
    m, p = mods
    for a, b in itertools.product([False, True], repeat=2):
        _check(m, p, "ops_bb", a, b)
        _check(m, p, "aug_bool", a, b)
    assert m.ops_bb(True, False) == (False, True, True)
    assert all(type(x) is bool for x in m.ops_bb(True, False))


def test_a_bool_with_an_int_is_an_int(mods):
    m, p = mods
    for a, b in itertools.product([False, True], INTS):
        _check(m, p, "ops_bi", a, b)
    r = m.ops_bi(True, 1)
    assert r[0] == 1 and type(r[0]) is int


@pytest.mark.parametrize("xs", [[3], [1, 2, 3, 1], [0, 4, 4, 9, 13, 2, 2]])
def test_flag_words_in_a_loop(mods, xs):
    m, p = mods
    _check(m, p, "flags", list(xs))


@pytest.mark.parametrize("a", [-3, 0, 1, 5, 9, 12, 200])
def test_literals_and_comparisons(mods, a):
    m, p = mods
    _check(m, p, "mixed", a)


@pytest.mark.parametrize("expr, err", [("x & 1.5", "MethodError"), ("x | 'a'", "MethodError"),
                                       ("1.5 ^ x", "MethodError")])
def test_bitwise_on_a_float_or_string_is_an_error_as_in_python(load_module, expr, err):
    """Python raises TypeError; compiled code has no method for those types."""
    m = load_module(f"""
import pkgimage as pk

@pk.generic
def f(x: int):
    return {expr}
""")
    with pytest.raises(TypeError):
        eval(expr, {"x": 3})
    with pytest.raises((getattr(pk, err), pk.CompileError)):
        m.f(3)


def test_invert_is_a_located_compile_error(load_module):
    """``~x`` is not compiled (yet): an error naming the line, never a wrong value."""
    m = load_module("""
import pkgimage as pk

@pk.generic
def f(x: int):
    return ~x & 3
""", filename="/virtual/invert.py")
    with pytest.raises(pk.CompileError, match=r"invert\.py:6:\d+: .*operator Invert"):
        m.f(3)

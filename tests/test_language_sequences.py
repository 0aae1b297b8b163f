"""Sequences as the published programs use them (fannkuch-redux, fasta, k-nucleotide,
Julia's parse_integers, printfd and randmatstat): ``range`` as a value, slices with steps
and slice assignment, ``bisect``, a string constant's bound method (``jn = ''.join``),
builtins as values, an empty dict or list filled by a callee, ``hex``/``int(s, 16)``/
``str.format``, a file object, and NumPy's ``randn``/``hstack``/``vstack``/``@``/``trace``/
``matrix_power``/``std``.  Every program runs compiled and as plain Python (the same
bodies) and must give the same answer, errors included."""

import os

import numpy as np
import pytest

import pkgimage as pk

PROGRAMS = '''
import bisect
import os
import random

import numpy as np

import pkgimage as pk
from pkgimage import Float64, Int64, List


@pk.generic
def range_values(n: int):
    r = range(2, n, 3)
    out = [x for x in r]
    return out, len(r), r[0] if r else -1, r[-1] if r else -1, 5 in r, list(range(n)), \\
        range(n)


@pk.generic
def range_index(n: int, i: int):
    return range(n)[i]


@pk.generic
def slices(v: List[Int64], lo: int, hi: int, st: int):
    return v[lo:hi:st], v[::-1], v[lo:], v[:hi], v[::st]


@pk.generic
def str_slices(s: str, lo: int, hi: int, st: int):
    return s[lo:hi:st], s[::-1], s[-3:]


@pk.generic
def flip(v: List[Int64], k: int):
    w = v[:]
    w[:k + 1] = w[k::-1]
    return w


@pk.generic
def resize(v: List[Int64], lo: int, hi: int):
    w = v[:]
    w[lo:hi] = [0, 0, 0]
    return w


@pk.generic
def extended(v: List[Int64], st: int):
    w = v[:]
    w[::st] = [9, 9]
    return w


@pk.generic
def array_slice_store(n: int):
    a = np.zeros(n)
    a[1:-1] = 2.0
    a[::3] = 5.0
    b = np.arange(n) * 1.0
    a[n // 2:] = b[:n - n // 2]
    return float(a.sum())


@pk.generic
def bisects(p: List[Float64], x: float):
    bb = bisect.bisect
    v = [1, 3, 3, 5]
    bisect.insort(v, 4)
    return bb(p, x), bisect.bisect_left(p, x), bisect.bisect_right(p, x, 1), \\
        bisect.bisect(p, x, 0, 2), v


@pk.generic
def bisect_bad_lo(p: List[Float64]):
    return bisect.bisect(p, 0.5, -1)


@pk.generic
def bound_join(words: List[str]):
    jn = ''.join
    sp = ', '.join
    return jn(words), sp(words)


@pk.generic
def fill(d, k):
    d[k] = d.get(k, 0) + 1
    return None


@pk.generic
def filled_by_callee(words: List[str]):
    d = {}
    for w in words:
        fill(d, w)
    return sorted(d.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)


def _draws():
    while True:
        yield 0.2
        yield 0.7


DRAWS = _draws()


@pk.generic
def call_value_of_any(p: List[Float64]):
    bb = bisect.bisect
    g = DRAWS.__next__
    return bb(p, g()) * 10 + bb(p, g())


@pk.generic
def conversions(n: int):
    s = hex(n)
    return s, oct(n), bin(n), int(s, 16), int("777", 8), "{:d} {:d}".format(n, n + 1), \\
        "{} and {!r}".format("a", "b"), "{:.3f}".format(n / 7)


@pk.generic
def bad_int(s: str):
    return int(s, 16)


@pk.generic
def write_lines(path: str, n: int):
    f = open(path, "w")
    for i in range(1, n):
        f.write("{:d} {:d}\\n".format(i, i + 1))
    f.close()


@pk.generic
def randmat(t: int):
    v = np.zeros(t)
    for i in range(t):
        a = np.random.randn(3, 3)
        b = np.random.randn(3, 3)
        P = np.hstack((a, b))
        Q = np.vstack((a, b))
        v[i] = np.trace(np.linalg.matrix_power(P.T @ P, 2)) + np.trace(Q.T @ Q)
    return np.std(v) / np.mean(v), P.shape, Q.shape


@pk.generic
def parse_ints(t: int):
    n = 0
    for i in range(t):
        n = random.randint(0, 2**32 - 1)
        m = int(hex(n), 16)
        assert m == n
    return n
'''


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("sequences"), "sequence_programs", PROGRAMS)


def _plain(fn):
    return fn.methods[0].pyfunc


def _same(a, b):
    if isinstance(a, (np.floating, float)) and isinstance(b, (np.floating, float)):
        return float(a) == float(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


V = [3, 1, 4, 1, 5, 9, 2, 6]
CASES = [("range_values", (11,)), ("range_values", (2,)), ("range_values", (0,)),
         ("range_index", (5, -2)), ("slices", (V, 1, 7, 2)), ("slices", (V, 6, 1, -2)),
         ("slices", (V, -3, 100, 3)), ("str_slices", ("fannkuch", 1, 7, 2)),
         ("flip", (V, 3)), ("flip", (V, 0)), ("resize", (V, 2, 5)), ("resize", (V, 5, 2)),
         ("extended", (V, 4)), ("array_slice_store", (9,)),
         ("bisects", ([0.1, 0.3, 0.3, 0.8], 0.3)), ("bisects", ([0.1, 0.3, 0.8], 0.9)),
         ("bound_join", (["a", "b", "c"],)), ("bound_join", ([],)),
         ("filled_by_callee", (["x", "y", "x", "z", "y", "x"],)),
         ("call_value_of_any", ([0.1, 0.5, 0.9],)),
         ("conversions", (3735928559,)), ("conversions", (0,))]


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(CASES)])
def test_sequence_programs_give_plain_pythons_answer(progs, name, args):
    fn = getattr(progs, name)
    got = fn(*args)
    want = _plain(fn)(*args)
    assert _same(got, want), (got, want)


def test_a_range_crosses_as_pythons_range(progs):
    got = progs.range_values(7)[-1]
    assert type(got) is range and got == range(7)


def test_seeded_random_streams_are_pythons_and_numpys(progs):
    import random
    random.seed(3)
    got = progs.parse_ints(50)
    random.seed(3)
    assert got == _plain(progs.parse_ints)(50)
    np.random.seed(5)
    got = progs.randmat(20)
    np.random.seed(5)
    assert _same(got, _plain(progs.randmat)(20))


def test_a_file_written_through_python(progs, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    progs.write_lines(str(a), 30)
    _plain(progs.write_lines)(str(b), 30)
    assert a.read_text() == b.read_text() and a.read_text().startswith("1 2\n")


@pytest.mark.parametrize("call,exc,msg", [
    (lambda p: p.range_index(5, 5), IndexError, "range object index out of range"),
    (lambda p: p.extended([1, 2, 3, 4, 5], 2), ValueError, "attempt to assign sequence of size 2"),
    (lambda p: p.slices([1, 2], 0, 1, 0), ValueError, "slice step cannot be zero"),
    (lambda p: p.bisect_bad_lo([0.1, 0.2]), ValueError, "lo must be non-negative"),
    (lambda p: p.bad_int("xyz"), ValueError, "invalid literal for int() with base 16"),
])
def test_sequence_errors_are_pythons(progs, call, exc, msg):
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(")", r"\)")):
        call(progs)


def test_storing_another_type_into_a_list_slice_is_a_clear_error(tmp_path):
    from conftest import import_source
    mod = import_source(tmp_path, "bad_slice_store", '''
import pkgimage as pk
from pkgimage import Int64, List


@pk.generic
def store_floats(v: List[Int64]):
    v[1:2] = [0.5]
    return v
''')
    with pytest.raises(pk.CompileError, match=r"list_setslice does not accept argument "
                                              r"types \(List\[Int64\].*List\[Float64\]\)"):
        mod.store_floats([1, 2, 3])


SLICES = '''
import pkgimage as pk


@pk.generic
def slices(v: list[int], s: str, lo: int, hi: int, st: int):
    return (v[lo:hi], v[lo:], v[:hi], v[:], v[lo:hi:st], v[::st], v[lo::st], v[:hi:st],
            s[lo:hi], s[lo:], s[:hi], s[lo:hi:st], v[None:hi], s[lo:None], v[lo:hi:None])


@pk.generic
def assign_slices(v: list[int], w: list[int], lo: int, hi: int):
    v[lo:hi] = w
    v[:hi] = w[::-1]
    v[lo:] = v[lo::-1]
    v[None:lo] = v[:]
    return v
'''


def test_slices_by_index_are_pythons_for_every_bound_and_step(load_module):
    """Integer bounds are adjusted in native code as ``PySlice_AdjustIndices`` does
    (negative, past either end, absent or a literal None, a step of either sign, the int64
    extremes) and the list or string is sliced by index -- the whole grid against Python,
    on lists and strings of length 0, 1 and 5, reading and assigning."""
    import itertools
    m = load_module(SLICES)
    plain_get = m.slices.methods[0].pyfunc
    plain_set = m.assign_slices.methods[0].pyfunc
    for n in (0, 1, 5):
        v, s = list(range(n)), "abcde"[:n]
        for lo, hi, st in itertools.product(range(-7, 8), range(-7, 8),
                                            (-3, -1, 1, 2, 5, -2 ** 63, 2 ** 63 - 1)):
            assert m.slices(v, s, lo, hi, st) == plain_get(v, s, lo, hi, st), (n, lo, hi, st)
            for w in ([], [9], [7, 8, 9]):
                assert m.assign_slices(list(v), w, lo, hi) == plain_set(list(v), w, lo, hi)


WITHIN = '''
import numpy as np
import pkgimage as pk


@pk.generic
def flip(v: list, k: int):
    v[:k+1] = v[k::-1]
    return v


@pk.generic
def moved(v: list, a: int, b: int, c: int, d: int, e: int):
    v[a:b] = v[c:d:e]
    return v


@pk.generic
def shifted(v: list, a: int, b: int):
    v[a:b] = v[a+1:b+1]
    return v


@pk.generic
def strided(v: list, a: int, st: int):
    v[a::st] = v[::st]
    return v


@pk.generic
def on_array(A: pk.Array[pk.Float64, 1], k: int):
    A[:k+1] = A[k::-1]
    return A
'''


def test_a_slice_of_a_list_assigned_within_it_is_pythons(load_module):
    """``v[a:b] = v[c:d:e]`` moves the elements within the list (no list made for the
    right side when both ranges have one length, up to 32 elements): every bound and step
    against Python, lengths that differ (the list grows or shrinks), stepped targets (their
    ValueError for a length that differs too), an array (NumPy's assignment), and a list
    longer than the buffer."""
    import itertools
    import numpy as np
    m = load_module(WITHIN)

    def same(f, *args):
        def run(g):
            try:
                return g(*args)
            except Exception as e:              # noqa: BLE001 (Python's error is the answer)
                return type(e).__name__
        want = run(lambda *a: f.methods[0].pyfunc(list(a[0]), *a[1:]))
        got = run(lambda *a: f(list(a[0]), *a[1:]))
        assert got == want, (f.__name__, args, got, want)

    for n in (0, 1, 2, 5, 40):
        v = [f"s{i}" for i in range(n)]
        for k in range(-n - 2, n + 2):
            same(m.flip, v, k)
            same(m.shifted, v, k, k + 3)
        for a, b, c, d, e in itertools.product((-2, 0, 1, 3), (-1, 2, 4, 45), (-3, 0, 2),
                                               (-1, 1, 4), (-2, -1, 1, 3)):
            same(m.moved, v, a, b, c, d, e)
        for a, st in itertools.product((-2, 0, 1), (-2, -1, 0, 1, 2)):
            same(m.strided, v, a, st)
    assert list(m.on_array(np.arange(5.0), 2)) == [2.0, 1.0, 0.0, 3.0, 4.0]


def test_moving_elements_within_a_list_keeps_every_reference_count(load_module):
    """Each element is held by the list as often after the move as Python's own assignment
    leaves it: no reference leaked or lost, in place or through a new list."""
    import sys
    m = load_module(WITHIN)
    objs = [object() for _ in range(40)]
    for f, args in ((m.flip, (5,)), (m.flip, (35,)), (m.shifted, (2, 6)),
                    (m.moved, (0, 3, 9, 1, -2))):
        base = [sys.getrefcount(o) for o in objs]
        v, w = list(objs), list(objs)
        for _ in range(50):
            f(w, *args)
            f.methods[0].pyfunc(v, *args)
        assert [id(x) for x in v] == [id(x) for x in w]
        held = [sum(x is o for x in v) + sum(x is o for x in w) for o in objs]
        assert [sys.getrefcount(o) for o in objs] == [b + h for b, h in zip(base, held)]
        del v, w


def test_a_zero_slice_step_is_pythons_value_error(load_module):
    m = load_module(SLICES)
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        m.slices([1, 2], "ab", 0, 1, 0)


SORTS = '''
import pkgimage as pk


@pk.mutable
class Box:
    items: list[int]


@pk.generic
def sort_in_place(v: list[int], w: list[str], b: Box):
    u = v
    v.sort(reverse=True)
    w.sort(key=len)
    w.sort(key=lambda s: (len(s), s), reverse=True)
    b.items.sort(key=lambda x: -x)
    return u is v, v, w, b.items
'''


def test_list_sort_with_key_and_reverse_sorts_in_place_as_python(load_module):
    """``v.sort(key=f, reverse=True)`` (it was "keyword arguments of .sort()"): the same
    list object, stably ordered by the keys compiled code computes, as Python orders it; the
    caller's lists change."""
    m = load_module(SORTS)
    v, w, b = [3, 1, 2, 3], ["ccc", "a", "bb", "dd", "a"], m.Box([1, 3, 2])
    got = m.sort_in_place(v, w, b)
    assert got == (True, [3, 3, 2, 1], ["ccc", "dd", "bb", "a", "a"], [3, 2, 1])
    assert v == [3, 3, 2, 1] and w == ["ccc", "dd", "bb", "a", "a"] and b.items == [3, 2, 1]
    pv, pw = [3, 1, 2, 3], ["ccc", "a", "bb", "dd", "a"]
    pv.sort(reverse=True)
    pw.sort(key=len)
    pw.sort(key=lambda s: (len(s), s), reverse=True)
    assert (pv, pw) == (v, w)


TUPLE_METHODS = '''
import pkgimage as pk


@pk.generic
def tuple_methods(a: int, b: float, x):
    t = (a, b, a, "s")
    u = (1, 2, 3, 2)
    return t.index(a), t.count(a), t.index("s"), u.index(x), u.count(2), t.count(2.5)
'''


@pytest.mark.parametrize("args", [(4, 2.5, 3), (2, 4.0, 1), (0, 0.0, 2.0)])
def test_tuple_index_and_count_are_pythons(load_module, args):
    m = load_module(TUPLE_METHODS)
    assert m.tuple_methods(*args) == m.tuple_methods.methods[0].pyfunc(*args)


def test_tuple_index_of_a_missing_value_is_pythons_value_error(load_module):
    m = load_module(TUPLE_METHODS)
    with pytest.raises(ValueError) as got:
        m.tuple_methods(4, 2.5, 9)
    with pytest.raises(ValueError) as want:
        m.tuple_methods.methods[0].pyfunc(4, 2.5, 9)
    assert str(got.value) == str(want.value)

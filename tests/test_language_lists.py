"""Python lists in compiled code (``List[T]``): every program here runs compiled and as
plain Python (the same function bodies) and must give the same answer -- the same values of
the same Python types, the same mutations of lists passed in, the same exceptions.

Lists made in compiled code get the element type of everything stored into them
(allocation sites, ``compiler/listintr.py``): ``v = []`` followed by ``v.append(x * 0.5)``
is a ``List[Float64]``; storing an int and a float makes a ``List[Union[Float64, Int64]]``
whose elements keep their own types, as in Python."""

import textwrap

import pytest

import pkgimage as pk

PROGRAMS = '''
import pkgimage as pk
from pkgimage import Float64, Int64, List


@pk.generic
def halves(n: int):
    v = []
    for i in range(n):
        v.append(i * 0.5)
    return v


@pk.generic
def squares_of_evens(n: int):
    return [i * i for i in range(n) if i % 2 == 0]


@pk.generic
def pairs(n: int):
    return [i * 10 + j for i in range(n) for j in range(i) if (i + j) % 2 == 1]


@pk.generic
def comp_over_list(v: List[Float64]):
    return [x * 2.0 for x in v if x > 0.0]


@pk.generic
def total(v: List[Float64]):
    s = 0.0
    for x in v:
        s += x
    return s


@pk.generic
def scale_in_place(v: List[Float64], a: float):
    for i in range(len(v)):
        v[i] = v[i] * a
    return None


@pk.generic
def methods(n: int):
    v = [3, 1, 2]
    v.append(n)
    v.insert(0, 7)
    v.insert(-1, 5)
    v.insert(100, 9)
    x = v.pop()
    y = v.pop(0)
    v.extend([4, 4])
    k = v.index(4)
    c = v.count(4)
    v.remove(4)
    w = v.copy()
    w.sort()
    w.reverse()
    return v, w, x, y, k, c, len(v)


@pk.generic
def queries(n: int):
    v = [5, 3, 8, 1]
    return (n in v, n not in v, sum(v), min(v), max(v), sorted(v), v[-1], v[1:3], v[::-1],
            v[1:], v[:-2], v[::2], v + [n], [0] * n, v == [5, 3, 8, 1], v != v[1:], bool(v),
            bool([x for x in v if x > 100]))


@pk.generic
def mixed(n: int):
    v = [1]
    v.append(2.5)
    if n > 2:
        v.append(n)
    return v


@pk.generic
def grow_while_iterating(n: int):
    v = [1, 2]
    for x in v:
        if len(v) < n:
            v.append(x + len(v))
    return v


@pk.generic
def nested(n: int):
    rows = []
    for i in range(n):
        rows.append([float(i * j) for j in range(n)])
    t = 0.0
    for r in rows:
        t += sum(r)
    return rows, t


@pk.generic
def typed_empty(n: int):
    v: list[float] = []
    for i in range(n):
        v.append(float(i))
    return v


@pk.generic
def sieve(n: int):
    flags = [True] * (n + 1)
    primes = []
    for i in range(2, n + 1):
        if flags[i]:
            primes.append(i)
            for j in range(i * i, n + 1, i):
                flags[j] = False
    return primes


@pk.generic
def get(v: List[Int64], i: int):
    return v[i]


@pk.generic
def put(v: List[Int64], i: int, x: int):
    v[i] = x
    return v


@pk.generic
def pop_from(v: List[Int64]):
    return v.pop()


@pk.generic
def smallest(v: List[Float64]):
    return min(v)


@pk.generic
def add_float(v: List[Int64]):
    v.append(1.5)
    return v


@pk.mutable
class Cell:
    v: float


@pk.generic
def filled_later(n: int):
    # (pyperformance's bm_float: the list's element type grows from None to Cell after the
    # first pass of inference read a field through it)
    cells = [None] * n
    for i in range(n):
        cells[i] = Cell(i * 0.5)
    s = 0.0
    for c in cells:
        s += c.v
    return s, cells[-1].v
'''


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("lists"), "list_programs", PROGRAMS)


def _plain(fn):
    return fn.methods[0].pyfunc


def _same(a, b):
    """Equal values of the same Python types, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


CASES = [("halves", (7,)), ("halves", (0,)), ("squares_of_evens", (9,)), ("pairs", (5,)),
         ("methods", (6,)), ("queries", (3,)), ("queries", (0,)), ("mixed", (1,)),
         ("mixed", (5,)), ("grow_while_iterating", (6,)), ("nested", (4,)),
         ("typed_empty", (3,)), ("sieve", (50,)), ("comp_over_list", ([1.5, -2.0, 3.0],)),
         ("filled_later", (5,))]


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_list_programs_give_plain_pythons_answer(progs, name, args):
    fn = getattr(progs, name)
    got = fn(*args)
    want = _plain(fn)(*args)
    assert _same(got, want), (got, want)


def test_a_list_passed_in_is_the_callers_list_changed_in_place(progs):
    v = [1.0, 2.0, 3.5]
    assert progs.scale_in_place(v, 2.0) is None
    assert v == [2.0, 4.0, 7.0] and all(type(x) is float for x in v)
    w = [1, 2, 3]
    assert progs.put(w, -1, 10) is w and w == [1, 2, 10]
    assert progs.total([0.5] * 10) == 5.0


def test_list_element_types_follow_what_is_stored(progs):
    assert pk.typeof(progs.halves(3)) is pk.List[pk.Float64]
    assert [type(x) for x in progs.mixed(5)] == [int, float, int]


@pytest.mark.parametrize("call,exc,msg", [
    (lambda p: p.get([1, 2], 2), IndexError, "list index out of range"),
    (lambda p: p.get([1, 2], -3), IndexError, "list index out of range"),
    (lambda p: p.put([1, 2], 5, 0), IndexError, "list assignment index out of range"),
    (lambda p: p.pop_from([]), IndexError, "pop from empty list"),
    (lambda p: p.smallest([]), ValueError, "empty"),
])
def test_list_errors_are_pythons(progs, call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(progs)
    plain = type("Plain", (), {n: staticmethod(_plain(getattr(progs, n)))
                               for n in ("get", "put", "pop_from", "smallest")})
    with pytest.raises(exc, match=msg):
        call(plain)


def test_storing_another_type_in_a_list_from_python_is_a_clear_error(progs):
    v = [1, 2]
    with pytest.raises(pk.ErrorException, match=r"cannot append a Float64 to a List\[Int64\]"):
        progs.add_float(v)
    assert v == [1, 2]


def test_list_code_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("lists1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import pkgimage as pk

        @pk.generic
        def primes(n: int):
            flags = [True] * (n + 1)
            out = []
            for i in range(2, n + 1):
                if flags[i]:
                    out.append(i)
                    for j in range(i * i, n + 1, i):
                        flags[j] = False
            return out

        @pk.generic
        def norms(rows: pk.List[pk.List[pk.Float64]]):
            return [sum([x * x for x in r]) for r in rows]

        @pk.precompilation(__name__)
        def _workload():
            primes(10)
            norms([[1.0, 2.0], [3.0]])
        """))
    assert proj.build("lists1").returncode == 0
    out = proj.run_json("""
import lists1
with Tripwire() as tw:
    res = [lists1.primes(30), lists1.norms([[1.0, 2.0], [3.0]])]
done({"res": res, "compiles": tw.total, "calls": tw.calls, "imported": tw.imported,
      "stats": stats()})
""")
    assert out["res"] == [[2, 3, 5, 7, 11, 13, 17, 19, 23, 29], [5.0, 9.0]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, \
        (out["calls"], out["imported"], out["stats"])


FILLED = '''
import pkgimage as pk


@pk.mutable
class Pt:
    x: float
    y: float

    def scale(self, k):
        self.x *= k
        self.y *= k

    def larger(self, other):
        return self if self.x + self.y >= other.x + other.y else other


@pk.generic
def best(n: int, holes: int):
    pts = [None] * n
    for i in range(holes, n):
        pts[i] = Pt(i * 0.5, 1.0 - i)
    for p in pts[holes:]:
        p.scale(2.0)
    b = pts[-1]
    for p in pts[holes:]:
        b = b.larger(p)
    return b.x, b.y


@pk.generic
def scale_all(n: int, holes: int):
    pts = [None] * n
    for i in range(holes, n):
        pts[i] = Pt(1.0, 2.0)
    for p in pts:
        p.scale(2.0)
    return len(pts)
'''


def test_methods_of_a_list_of_none_filled_with_points_are_direct_calls(load_module):
    """``[None] * n`` filled with points (pyperformance's bm_float): ``p.scale(2.0)`` on an
    element, a ``Union[Nothing, Pt]``, calls Pt's method natively (it went through Python's
    getattr on every call); the method compiled for the None member -- ``other.x`` on None
    -- is not a compile error of the whole function: a None that comes raises then."""
    from pkgimage.compiler import introspect
    m = load_module(FILLED)
    assert m.best(6, 0) == m.best.methods[0].pyfunc(6, 0)
    ir = introspect.code_typed(m.best, (pk.Int64, pk.Int64))
    assert not [ln for ln in ir.splitlines() if "(dynamic" in ln], ir
    assert m.best(6, 2) == m.best.methods[0].pyfunc(6, 2)
    assert m.scale_all(3, 0) == 3
    with pytest.raises(AttributeError):
        m.scale_all.methods[0].pyfunc(3, 1)
    with pytest.raises(TypeError, match="scale"):      # (pk.MethodError: a TypeError)
        m.scale_all(3, 1)

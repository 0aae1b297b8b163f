"""Python sets in compiled code (``Set[T]``, the ``set`` object itself): ``set()``, literals,
``set(xs)`` and comprehensions whose element type grows with what is stored, ``add``/
``discard``/``remove``/``pop``/``clear``/``copy``, ``in``, ``len``, iteration, the set
operators and methods (``| & - ^``, ``union``, ``issubset``, ``<=``, ``==``), and the builtins
that take a set (``sorted``, ``min``, ``max``, ``sum``, ``list``).  Each program runs compiled
and as plain Python (the same text) and must give the same answer, element types included,
and raise the same errors; a set passed in is the caller's, a set returned is a Python
``set``."""

import textwrap

import pytest
from plaintools import compiled_and_plain

import pkgimage as pk

SOURCE = '''
import pkgimage as pk
from pkgimage import Float64, Int64, List, Set, String


@pk.struct
class P:
    x: int
    y: int


@pk.generic
def basics(n: int):
    s = set()
    for i in range(n):
        s.add(i % 4)
    t = {1, 2, 3}
    u = set([3, 4, 5])
    c = {x * x for x in range(-n, n) if x > 0}
    return (s, t, u, c, len(s), 2 in s, 9 not in s, bool(s), bool(set()))


@pk.generic
def algebra(n: int):
    s = {i for i in range(n)}
    t = {1, 2, 3, 10}
    u = set(range(2, 6))
    return (s | t, s & u, s - t, s ^ u, s.union(u), s.intersection(t), s.difference(t),
            s.issubset(t), t <= s, {1, 2} <= t, s == t, s == set(range(n)), s != t,
            sorted(s | t), min(t), max(u), sum(s), sorted(list(u)))


@pk.generic
def mutate(n: int):
    s = {1.5, 2.5}
    s.add(3.5)
    s.discard(1.5)
    s.discard(99.0)
    s.remove(2.5)
    x = s.pop()
    t = s.copy()
    t.add(n * 0.5)
    s.add(7.0)
    s.clear()
    return s, t, x, len(t)


@pk.generic
def dups(words: List[String]):
    seen = set()
    twice = set()
    for w in words:
        if w in seen:
            twice.add(w)
        else:
            seen.add(w)
    return sorted(twice), len(seen), seen


@pk.generic
def widen(n: int):
    s = {1, 2}
    s.add(n * 0.5)
    t = set()
    t.add(n)
    t.add(2.5)
    return s, t, 1.0 in s


@pk.generic
def loops(n: int):
    s = set(range(n))
    total = 0
    for x in s:
        total += x * x
    w = set((1, 2, 2, 3))
    evens = {x for x in s if x % 2 == 0}
    pairs = set(zip([1, 2, 2], [3, n, n]))
    return total, w, evens, [x for x in sorted(evens)], pairs, sorted(set(enumerate("aba")))


@pk.generic
def tuples(n: int):
    s = {(1, 2), (3, 4)}
    s.add((1, 2))
    s.add((n, n))
    return s, len(s), (3, 4) in s, (9, 9) in s


@pk.generic
def structs(n: int):
    s = {P(1, 2), P(1, 2), P(2, n)}
    return len(s), P(2, n) in s, P(5, 5) in s


@pk.generic
def grow(s: Set[Int64], x: int):
    s.add(x)
    s.discard(-x)
    return len(s)


@pk.generic
def grow_any(s, x):
    s.add(x)
    return x in s


@pk.generic
def remove(s: Set[Int64], x: int):
    s.remove(x)
    return s


@pk.generic
def pop_all(n: int):
    s = set(range(n))
    out = []
    while s:
        out.append(s.pop())
    return sorted(out), s.pop()


@pk.generic
def unhashable(n: int):
    s = set()
    s.add([n, n])
    return s


@pk.generic
def inplace(n: int):
    s = {1, 2, 3}
    alias = s
    s |= {n, 10}
    s -= {2}
    a = s.copy()
    a &= {1, 3, n * 0.5}
    x = set(range(n))
    x ^= {0, 100}
    w = set()
    w.update([n, n + 1])
    w.update({n * 2})
    return s, alias, s is alias, a, x, w


@pk.generic
def more(n: int):
    s = set(range(n))
    t = {1, 2}
    return (s.issuperset(t), t.issuperset(s), s.isdisjoint({-1}), s.isdisjoint(t),
            s.symmetric_difference(t), s.union([7, 8]), s.intersection((1, 5)),
            s.difference(range(2)), t.issubset([1, 2, 3]), t < s, s > t, s >= s, t > s,
            {0.5 * i for i in s} == {0.5 * i for i in range(n)})


@pk.generic
def keyed(n: int):
    s = {-3, 1, 2, n}
    return (sorted(s, key=lambda x: x * x), max(s, key=lambda x: -x), sorted(s, reverse=True),
            any(x > 4 for x in s), all(s), s == [1, 2], s != (1, 2), str({n}), f"{ {n} }")


@pk.generic
def fill(s, n):
    for i in range(n):
        s.add(i * 1.5)
    return None


@pk.generic
def escapes(n: int):
    s = set()
    fill(s, n)
    return s, len(s)


LIMITS = {1, 2, 3}


@pk.generic
def in_global(x: int):
    LIMITS.add(x)
    return len(LIMITS), x in LIMITS


@pk.generic
def ops_of(a: Set, b: Set):
    return a | b, a & b, a - b, a ^ b, a <= b, a == b, a.issubset(b)
'''


def typed(v):
    """A value with the types of its parts (sets compared as sets of typed elements)."""
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, tuple(typed(x) for x in v))
    if isinstance(v, (set, frozenset)):
        return (type(v).__name__, frozenset(typed(x) for x in v))
    return (type(v).__name__, v)


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return compiled_and_plain(tmp_path_factory.mktemp("sets"), "set_programs", SOURCE)


def _check(mods, name, *args):
    m, p = mods
    got, want = getattr(m, name)(*args), getattr(p, name)(*args)
    assert typed(got) == typed(want), (name, args, got, want)
    return got


CASES = [("basics", (0,)), ("basics", (6,)), ("algebra", (0,)), ("algebra", (5,)),
         ("mutate", (4,)), ("dups", ("the cat and the dog and the bird".split(),)),
         ("dups", ([],)), ("widen", (3,)), ("widen", (2,)), ("loops", (0,)), ("loops", (7,)),
         ("tuples", (5,)), ("tuples", (3,)), ("structs", (3,)), ("structs", (2,)),
         ("pop_all", (0,)), ("pop_all", (5,)), ("inplace", (4,)), ("inplace", (2,)),
         ("more", (0,)), ("more", (4,)), ("keyed", (5,)), ("keyed", (0,)), ("escapes", (3,))]


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}"[:40] for n, a in CASES])
def test_set_programs_give_plain_pythons_answer(mods, name, args):
    m, p = mods
    try:
        want = getattr(p, name)(*args)
    except Exception as e:                                # (``pop`` of an empty set)
        with pytest.raises(type(e), match=str(e)):
            getattr(m, name)(*args)
        return
    got = getattr(m, name)(*args)
    assert typed(got) == typed(want), (got, want)


def test_a_set_made_in_compiled_code_is_a_python_set(mods):
    s = _check(mods, "basics", 5)[0]
    assert type(s) is set and s == {0, 1, 2, 3}


def test_a_set_passed_in_is_the_callers_set(mods):
    m, _ = mods
    s = {1, -2}
    assert m.grow(s, 2) == 2
    assert s == {1, 2}
    e = set()
    assert m.grow_any(e, "a") is True and e == {"a"}
    f = {1.5}
    assert m.grow_any(f, 2.5) is True and f == {1.5, 2.5}


def test_a_module_global_set_is_changed_in_place(mods):
    m, _ = mods
    assert m.in_global(9) == (4, True)
    assert m.LIMITS == {1, 2, 3, 9}


def test_set_operators_on_sets_from_python(mods):
    for a, b in [({1, 2, 3}, {2, 3, 4}), (set(), {1}), ({5}, {5}), ({1, 2}, {1, 2, 3})]:
        _check(mods, "ops_of", a, b)


def test_remove_of_a_missing_element_is_pythons_key_error(mods):
    m, _ = mods
    with pytest.raises(KeyError, match="7"):
        m.remove({1, 2}, 7)
    assert m.remove({1, 7}, 7) == {1}


def test_pop_of_an_empty_set_is_pythons_key_error(mods):
    m, _ = mods
    with pytest.raises(KeyError, match="pop from an empty set"):
        m.pop_all(3)


def test_an_unhashable_element_is_pythons_type_error(mods):
    m, p = mods
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        p.unhashable(1)
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        m.unhashable(1)


def test_set_types(mods):
    import pkgimage as pk
    from pkgimage import types as T
    assert pk.typeof({1, 2}) is pk.Set[pk.Int64]
    assert pk.typeof({1, "a"}) is pk.Set[pk.Union[pk.Int64, pk.String]]
    assert pk.typeof(set()) is pk.Set[pk.Any]
    assert T.from_annotation(set[float]) is pk.Set[pk.Float64]
    assert T.type_from_ref(T.type_ref(pk.Set[pk.String])) is pk.Set[pk.String]
    assert pk.isa({1.5}, pk.Set) and not pk.isa([1.5], pk.Set)
    assert str(pk.Set[pk.Int64]) == "Set[Int64]"


def test_set_reads_and_adds_are_cpythons_set_functions_in_native_code(mods):
    """``x in s``, ``len(s)`` and ``s.add(x)`` call CPython's set functions from native
    code (not the intrinsics' Python bodies)."""
    import pkgimage as pk
    from pkgimage import types as T
    m, _ = mods
    llvm = pk.code_llvm(m.dups, (T.list_of(T.String),))
    for fn in ("PySet_Contains", "PySet_Add", "PySet_New"):
        assert fn in llvm, fn


def test_set_code_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("sets1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import pkgimage as pk

        @pk.generic
        def letters(text: str):
            seen = set()
            for ch in text:
                if ch.isalpha():
                    seen.add(ch)
            vowels = {c for c in "aeiou"}
            return sorted(seen), sorted(seen & vowels), sorted(seen - vowels), seen

        @pk.precompilation(__name__)
        def _workload():
            letters("abba")
        """))
    assert proj.build("sets1").returncode == 0
    out = proj.run_json("""
import sets1
with Tripwire() as tw:
    res = sets1.letters("hello, world")
done({"res": [res[0], res[1], res[2], sorted(res[3]), type(res[3]).__name__],
      "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [["d", "e", "h", "l", "o", "r", "w"], ["e", "o"],
                          ["d", "h", "l", "r", "w"], ["d", "e", "h", "l", "o", "r", "w"],
                          "set"], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_empty_or_fitting_containers_from_python_are_taken_as_declared(load_module):
    # ``set()`` is a ``Set[Any]`` and ``{}`` a ``Dict[Any, Any]`` by their (absent)
    # elements: passed where a method declares ``Set[Int64]`` or ``Dict[Int64, Float64]``
    # they are taken as those, as an empty list is as a ``List[T]``; a container whose
    # elements do not fit still has no method
    mod = load_module('''
        import pkgimage as pk
        from pkgimage import Int64, Float64, Set, Dict, Real

        @pk.generic
        def total(s: Set[Int64]):
            s.add(5)
            return sum(s)

        @pk.generic
        def dsum(d: Dict[Int64, Float64]):
            d[1] = 2.5
            return sum(d.values())

        @pk.generic
        def widest(s: Set[Real]):
            return len(s)
    ''')
    s, d = set(), {}
    assert mod.total(s) == 5 and s == {5}
    assert mod.dsum(d) == 2.5 and d == {1: 2.5}
    assert mod.total({1, 2}) == 8
    assert mod.widest({1, 2.5}) == 2 and mod.widest(set()) == 0
    with pytest.raises(pk.MethodError):
        mod.total({1.5})
    with pytest.raises(pk.MethodError):
        mod.dsum({"a": 1.0})
    # (not cached by type: a non-empty Set[Any] must not reach the Set[Int64] code)
    with pytest.raises(pk.MethodError):
        mod.total({"x"})

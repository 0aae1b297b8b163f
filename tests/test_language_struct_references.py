"""Immutable structs whose fields hold references -- a ``str``, a list, a dict, a set, a
mutable struct -- as Julia's structs hold them (the struct is then not isbits): made, read,
compared and returned by compiled code with plain Python's answers (the reference is the
same module with frozen dataclasses), and every reference they hold counted, so nothing
leaks and nothing is freed early."""

import sys
import textwrap

import pytest

SOURCE = '''
import pkgimage as pk


@pk.struct
class Person:
    name: str
    age: int


@pk.struct
class Team:
    leader: Person
    tags: list[str]
    size: int


@pk.mutable
class Desk:
    owner: Person
    n: int


@pk.generic
def greet(p: Person):
    return p.name + " is " + str(p.age)


@pk.generic
def people(n: int):
    out = []
    for i in range(n):
        out.append(Person("p" + str(i), i))
    return out


@pk.generic
def older(p: Person, k: int):
    q = Person(p.name, p.age + k)
    return q


@pk.generic
def oldest(ps: list[Person]):
    best = ps[0]
    for p in ps:
        if p.age > best.age:
            best = p
    return best.name


@pk.generic
def compare(p: Person, q: Person):
    return (p == q, p != q)


@pk.generic
def tag(t: Team, s: str):
    t.tags.append(s)
    return (len(t.tags), t.leader.name)


@pk.generic
def move(d: Desk, name: str):
    d.owner = Person(name, d.owner.age + 1)
    return d.owner


@pk.generic
def index(ps: list[Person]):
    d = {}
    for p in ps:
        d[p.name] = p
    return d


@pk.generic
def by_name(ps: list[Person]):
    return sorted(ps, key=lambda p: p.name)


@pk.generic
def swap(t: tuple[Person, Person]):
    a, b = t
    return (b, a)


@pk.generic
def describe(p: Person):
    return f"{p.name}:{p.age}"
'''


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    from conftest import import_source
    from plaintools import import_plain
    d = tmp_path_factory.mktemp("structrefs")
    return (import_source(d, "structrefs_pk", SOURCE),
            import_plain(d, "structrefs_plain", SOURCE))


def _as_plain(x, p):
    """A value of the compiled module as the plain module's (structs by their fields)."""
    if isinstance(x, list):
        return [_as_plain(v, p) for v in x]
    if isinstance(x, tuple):
        return tuple(_as_plain(v, p) for v in x)
    if isinstance(x, dict):
        return {k: _as_plain(v, p) for k, v in x.items()}
    name = type(x).__name__
    if name == "Person":
        return p.Person(x.name, x.age)
    return x


def test_structs_holding_strings_are_made_read_and_returned(mods):
    m, p = mods
    assert m.greet(m.Person("ann", 3)) == p.greet(p.Person("ann", 3)) == "ann is 3"
    assert _as_plain(m.people(4), p) == p.people(4)
    assert _as_plain(m.older(m.Person("bob", 40), 2), p) == p.Person("bob", 42)
    ps = [m.Person("a", 1), m.Person("c", 7), m.Person("b", 2)]
    assert m.oldest(ps) == "c"
    assert _as_plain(m.index(ps), p) == p.index([p.Person("a", 1), p.Person("c", 7),
                                                 p.Person("b", 2)])
    assert _as_plain(m.by_name(ps), p) == [p.Person("a", 1), p.Person("b", 2),
                                           p.Person("c", 7)]
    assert _as_plain(m.swap((ps[0], ps[1])), p) == (p.Person("c", 7), p.Person("a", 1))
    assert m.describe(ps[1]) == "c:7"


def test_structs_holding_equal_strings_are_equal_as_in_python(mods):
    """Two equal strings are rarely one object: ``==`` compares the fields' contents."""
    m, p = mods
    s1, s2 = "ab" + str(1), "ab" + str(1)
    assert s1 is not s2
    assert m.compare(m.Person(s1, 1), m.Person(s2, 1)) == \
        p.compare(p.Person(s1, 1), p.Person(s2, 1)) == (True, False)
    assert m.compare(m.Person("x", 1), m.Person("y", 1)) == (False, True)
    assert m.compare(m.Person("x", 1), m.Person("x", 2)) == (False, True)


def test_a_list_field_is_the_callers_list_and_a_mutable_struct_holds_a_struct(mods):
    m, p = mods
    t = m.Team(m.Person("lead", 9), ["a"], 2)
    assert m.tag(t, "b") == (2, "lead")
    assert t.tags == ["a", "b"]
    d = m.Desk(m.Person("q", 1), 3)
    assert _as_plain(m.move(d, "r"), p) == p.Person("r", 2)
    assert (d.owner.name, d.owner.age) == ("r", 2)


def test_references_held_by_structs_are_counted_exactly(mods):
    """Made, copied, stored, returned and dropped a thousand times: the string's count is
    where it started (a missing increment frees it early, an extra one leaks it)."""
    m, _ = mods
    name = "zz" * 3 + str(len(sys.argv))
    x = m.Person(name, 5)
    t = m.Team(x, [], 1)
    before = sys.getrefcount(name)
    for _ in range(1000):
        m.greet(x)
        m.older(x, 1)
        m.swap((x, x))
        m.compare(x, x)
        m.oldest([x, x])
        m.describe(x)
    m.tag(t, "t")
    t.tags.clear()
    assert sys.getrefcount(name) == before


def test_fields_of_a_wrong_type_are_refused_from_python_and_from_compiled_code(load_module):
    import pkgimage as pk
    m = load_module(SOURCE + textwrap.dedent('''
        @pk.generic
        def bad(n: int):
            return Person(n, n)
        '''))
    with pytest.raises(TypeError, match="field name::String"):
        m.Person(3, 4)
    with pytest.raises(pk.MethodError, match=r"no method matching Person\(::Int64, ::Int64\)"):
        m.bad(3)


def test_a_field_of_an_unusable_type_is_a_located_error(load_module):
    with pytest.raises(TypeError, match=r":\d+: struct Bad field x has type <class 'list'>.*str"):
        load_module('''
import pkgimage as pk

@pk.struct
class Bad:
    x: list
''')


def test_structs_holding_strings_load_from_an_image_and_run_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("srefs_img", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _w():
            ps = people(3)
            greet(ps[0]); oldest(ps); compare(ps[0], ps[1]); describe(ps[0])
            tag(Team(ps[0], [], 1), "x")
        """))
    proj.build("srefs_img")
    out = proj.run_json("""
import srefs_img as m
with Tripwire() as tw:
    ps = m.people(3)
    res = [m.greet(ps[1]), m.oldest(ps), m.compare(ps[0], m.Person("p" + "0", 0)),
           m.describe(ps[2])]
    t = m.Team(ps[0], ["a"], 1)
    res.append(m.tag(t, "b"))
    res.append(t.tags)
done({"res": res, "compiled": tw.total, "heavy": heavy(), "stats": stats()})
""")
    assert out["res"] == ["p1 is 1", "p2", [True, False], "p2:2", [2, "p0"], ["a", "b"]], out
    assert out["compiled"] == 0, out
    assert out["heavy"] == [], out          # (neither llvmlite nor the compiler loaded)
    assert out["stats"]["discarded"] == [], out

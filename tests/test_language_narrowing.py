"""Narrowing by tests (Julia's conditional types, as Python programmers write them): after
``x is None`` / ``x is not None`` in ``if`` and ``while``, after ``if x is None: raise`` (or
``return``, ``continue``, ``break``), after ``assert isinstance(x, C)``, the variable has the
narrower type -- and every branch, the one where the value IS None included, gives what
plain Python gives for the same source."""

import pytest
from plaintools import compiled_and_plain

import pkgimage as pk

SOURCE = '''
import pkgimage as pk


@pk.mutable
class Node:
    val: int
    nxt: "Node | None"

    def label(self):
        return "n" + str(self.val)


@pk.mutable
class Special(Node):
    extra: int

    def label(self):
        return "s" + str(self.val + self.extra)


@pk.generic
def chain(n: int):
    head = None
    for i in range(n):
        if i % 2 == 0:
            head = Node(i, head)
        else:
            head = Special(i, head, 100)
    return head


@pk.generic
def walk(head: Node):
    """while x is not None: a method call and a field read on the narrowed value, whose
    results (int, then str) go into one list built in the loop."""
    out = []
    p = head
    while p is not None:
        out.append(p.val)
        out.append(p.label())
        p = p.nxt
    return out


@pk.generic
def second(head: Node):
    """if x is not None / else: both branches, the None one included."""
    p = head.nxt
    if p is not None:
        return p.label()
    else:
        return "none"


@pk.generic
def second_is_none(head: Node):
    p = head.nxt
    if p is None:
        return -1
    return p.val * 2


@pk.generic
def second_or_raise(head: Node):
    p = head.nxt
    if p is None:
        raise ValueError("no second node")
    return p.label()


@pk.generic
def sum_skipping(xs: list[int]):
    """``best = None`` until set, ``continue`` while it is None."""
    best = None
    total = 0
    for x in xs:
        if x > 2:
            best = x
        if best is None:
            continue
        total += best
    return total


@pk.generic
def first_big(xs: list[int], k: int):
    found = None
    for x in xs:
        if x > k:
            found = x
            break
    if found is None:
        return -1.5
    return found + 0.5


@pk.generic
def count_down(n: int):
    """while x is not None on an Optional int (held unboxed)."""
    x = None
    if n > 0:
        x = n
    k = 0
    while x is not None:
        k += x
        x = x - 1 if x > 1 else None
    return k


@pk.generic
def while_none(n: int):
    """while x is None: the loop that runs until the value is set."""
    x = None
    i = 0
    while x is None:
        i += 1
        if i * i > n:
            x = i
    return x


@pk.generic
def special_extra(head: Node):
    assert isinstance(head, Special)
    return head.extra + head.val


@pk.generic
def special_or_none(head: Node):
    assert isinstance(head, Node)
    p = head.nxt
    assert p is not None, "needs two nodes"
    return p.label()
'''


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return compiled_and_plain(tmp_path_factory.mktemp("narrowing"), "narrowing_programs",
                              SOURCE)


def _same(m, p, name, args):
    """The compiled call and the plain one: equal results of equal types, or the same
    exception type and message."""
    def run(mod):
        try:
            return ("ok", getattr(mod, name)(*args(mod)))
        except Exception as e:                      # noqa: BLE001 (compared below)
            return ("raised", type(e).__name__, str(e))
    got, want = run(m), run(p)
    assert got == want, (name, got, want)
    assert got[0] == "ok" or got[1] != "TypeError", got      # (not a mistake of the test)
    if got[0] == "ok":
        assert type(got[1]) is type(want[1]), (name, got, want)
    return got


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_while_is_not_none_walks_a_list_as_plain_python(mods, n):
    m, p = mods
    _same(m, p, "walk", lambda mod: (mod.chain(n),))


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("name", ["second", "second_is_none", "second_or_raise",
                                  "special_or_none"])
def test_if_is_none_branches_give_plain_pythons_answers_the_none_one_included(mods, n, name):
    m, p = mods
    r = _same(m, p, name, lambda mod: (mod.chain(n),))
    if n == 1 and name in ("second_or_raise", "special_or_none"):
        assert r[0] == "raised"          # (the value is None: Python's error, Python's text)


@pytest.mark.parametrize("xs", [[], [1, 2], [1, 3, 2, 5], [5, 1]])
def test_none_until_set_with_continue_and_break(mods, xs):
    m, p = mods
    _same(m, p, "sum_skipping", lambda mod: (list(xs),))
    for k in (0, 2, 9):
        _same(m, p, "first_big", lambda mod: (list(xs), k))


@pytest.mark.parametrize("n", [0, 1, 4, 30])
def test_while_on_an_optional_int(mods, n):
    m, p = mods
    _same(m, p, "count_down", lambda mod: (n,))
    _same(m, p, "while_none", lambda mod: (n,))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_assert_isinstance_narrows_and_fails_as_python(mods, n):
    """``chain(2)`` starts with a Special; ``chain(1)`` and ``chain(3)`` with a Node: the
    assertion fails with Python's AssertionError."""
    m, p = mods
    r = _same(m, p, "special_extra", lambda mod: (mod.chain(n),))
    assert r[0] == ("ok" if n == 2 else "raised"), r


def test_appending_an_unknown_value_to_a_list_built_in_compiled_code(load_module):
    # (a List[Any] reaching a run-time call is dispatched as the List[Any] the code holds,
    # not typed again by its elements -- List[Int64], which refused the string)
    m = load_module("""
import pkgimage as pk

def text():
    return "x"

@pk.generic
def f(h):
    out = []
    out.append(1)
    out.append(h())
    return out
""")
    assert m.f(m.text) == [1, "x"]

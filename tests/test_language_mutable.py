"""``@pk.mutable`` structs (Julia's ``mutable struct``): fields assigned in compiled code and
from Python (converted to the field's type, exactly), identity semantics, fields of any type
including the struct itself (trees, linked lists, parent pointers), reference cycles
collected, methods that mutate ``self``, and images -- differentially against plain Python."""

import gc
import textwrap

import pytest

import pkgimage as pk

SOURCE = '''
from typing import Optional
import pkgimage as pk


@pk.mutable
class Node:
    val: int
    left: Optional["Node"]
    right: Optional["Node"]
    parent: Optional["Node"]


@pk.mutable
class Acc:
    total: float
    count: int
    items: list[float]

    def add(self, x: float):
        self.total += x
        self.count += 1
        self.items.append(x)

    def mean(self):
        return self.total / self.count


@pk.generic
def make(d: int):
    if d == 0:
        return Node(1, None, None, None)
    n = Node(d, make(d - 1), make(d - 1), None)
    n.left.parent = n
    n.right.parent = n
    return n


@pk.generic
def check(n: Node):
    if n.left is None:
        return n.val
    return n.val + check(n.left) - check(n.right)


@pk.generic
def count_up(n: Node):
    """Nodes on the way to the root, through the parent pointers."""
    k = 0
    p = n.parent
    while p is not None:
        k += 1
        p = p.parent
    return k


@pk.generic
def leftmost(n: Node):
    while n.left is not None:
        n = n.left
    return n


@pk.generic
def accumulate(xs: list[float]):
    a = Acc(0.0, 0, [])
    for x in xs:
        a.add(x)
    a.count = a.count * 2      # (an Int64 field)
    a.total = 1                # (converted to the Float64 field's type)
    return a


@pk.generic
def same(a: Acc, b: Acc):
    return (a == b, a is b, a != b)


@pk.generic
def relabel(ns: list[Node], k: int):
    for n in ns:
        n.val = n.val * k
    return ns[0].val + ns[-1].val
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("mutable"), "mutable_programs", SOURCE)


def plain(mod, name):
    return getattr(mod, name).methods[0].pyfunc


@pytest.mark.parametrize("d", [0, 1, 5])
def test_trees_of_mutable_nodes_give_plain_pythons_answers(mod, d):
    t = mod.make(d)
    assert mod.check(t) == plain(mod, "check")(t) == d if d else 1
    leaf = mod.leftmost(t)
    assert leaf is plain(mod, "leftmost")(t) and leaf.left is None
    assert mod.count_up(leaf) == plain(mod, "count_up")(leaf) == d


def test_methods_mutate_self_and_fields_convert_as_constructors_do(mod):
    a = mod.accumulate([1.0, 2.0, 4.5])
    assert (a.total, a.count, a.items) == (1.0, 6, [1.0, 2.0, 4.5])
    assert type(a.total) is float and type(a.count) is int
    assert a.mean() == 1.0 / 6
    a.count = 4.0                          # from Python: converted exactly
    assert a.count == 4 and type(a.count) is int
    with pytest.raises(pk.InexactError):
        a.count = 4.5
    with pytest.raises(AttributeError):
        a.nothere = 1


def test_mutable_values_compare_by_identity(mod):
    a, b = mod.Acc(1.0, 1, []), mod.Acc(1.0, 1, [])
    assert mod.same(a, a) == (True, True, False)
    assert mod.same(a, b) == (False, False, True)
    assert {a: 1, b: 2}[a] == 1


def test_values_are_shared_by_reference(mod):
    ns = [mod.Node(i, None, None, None) for i in range(1, 4)]
    alias = [ns[0], ns[2]]
    assert mod.relabel(ns, 10) == 40
    assert [n.val for n in ns] == [10, 20, 30] and alias[1].val == 30


def test_reference_cycles_are_collected(mod):
    gc.collect()
    before = sum(type(o) is mod.Node for o in gc.get_objects())
    for _ in range(50):
        mod.make(4)                        # every child points to its parent
    gc.collect()
    assert sum(type(o) is mod.Node for o in gc.get_objects()) == before


def test_repr_of_a_cycle_terminates(mod):
    p = mod.Node(1, None, None, None)
    p.left = mod.Node(2, None, None, p)
    assert repr(p) == "Node(val=1, left=Node(val=2, left=None, right=None, parent=...), " \
                      "right=None, parent=None)"


@pytest.mark.parametrize("body, msg", [
    ("p = P(1.0)\n    p.x = 2.0\n    return p",
     r"P is an immutable struct: its fields cannot be assigned \(declare it @pk.mutable"),
    ("m = M(1, 2.0)\n    m.z = 1\n    return m", "type M has no field 'z'"),
    ("m = M(1, 2.0)\n    m.a = 'text'\n    return m",
     "field a of M has type Int64; a String cannot be stored in it"),
])
def test_bad_field_assignments_are_located_compile_errors(load_module, body, msg):
    m = load_module(f"""
import pkgimage as pk

@pk.struct
class P:
    x: float

@pk.mutable
class M:
    a: int
    b: float

@pk.generic
def f():
    {body}
""", filename="/virtual/fields.py")
    with pytest.raises(pk.CompileError, match=rf"fields\.py:\d+:\d+: {msg}"):
        m.f()


def test_mutable_structs_load_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("mut1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            t = make(3)
            check(t)
            count_up(leftmost(t))
            accumulate([1.0, 2.0])
        """))
    assert proj.build("mut1").returncode == 0
    out = proj.run_json("""
import mut1
with Tripwire() as tw:
    t = mut1.make(6)
    a = mut1.accumulate([3.0, 4.0])
    res = [mut1.check(t), mut1.count_up(mut1.leftmost(t)), a.total, a.count, a.items]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [6, 6, 1.0, 4, [3.0, 4.0]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_a_split_call_missing_a_method_raises_and_a_new_one_invalidates(load_module):
    """``val(n.nxt)`` with ``nxt: Optional[N]`` and ``val`` defined for ``N`` only: split
    on the union, the ``None`` case dispatched at run time (MethodError, as Python would
    fail); a method added for ``None`` later changes the call's result type, so the caller
    is compiled again (a result unboxed as the old type would be a wrong answer)."""
    m = load_module("""
from typing import Optional
import pkgimage as pk
@pk.mutable
class N:
    v: int
    nxt: Optional["N"]
@pk.generic
def val(n: N):
    return n.v
@pk.generic
def nxt_val(n: N):
    return val(n.nxt) * 2
""")
    assert m.nxt_val(m.N(1, m.N(21, None))) == 42
    with pytest.raises(pk.MethodError):
        m.nxt_val(m.N(1, None))

    @m.val.method
    def _(n: None):
        return 2.25
    assert m.nxt_val(m.N(1, None)) == 4.5
    assert m.nxt_val(m.N(1, m.N(21, None))) == 42

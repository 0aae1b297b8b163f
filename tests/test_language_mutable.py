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


# -- class hierarchies of mutable structs --------------------------------------------------------

HIERARCHY = '''
import pkgimage as pk

REGISTRY = []


@pk.mutable
class Task:
    ident: int
    count: int
    link: "Task | None"

    def __init__(self, ident: int, link):
        self.ident = ident
        self.count = 0
        self.link = link
        REGISTRY.append(self)          # (self escapes while __init__ runs)

    def step(self):
        self.count += 1
        return self.ident

    def kind(self):
        return "task"


@pk.mutable
class DeviceTask(Task):
    pending: int

    def __init__(self, ident: int, link, pending: int):
        Task.__init__(self, ident, link)
        self.pending = pending

    def step(self):
        self.count += 10
        self.pending -= 1
        return self.ident * 100 + self.pending


@pk.mutable
class IdleTask(Task):
    rounds: int

    def __init__(self, ident: int, link):
        Task.__init__(self, ident, link)
        self.rounds = 0

    def kind(self):
        return "idle"


@pk.mutable
class HalfTask(Task):
    extra: int

    def __init__(self, ident: int):
        Task.__init__(self, ident, None)      # (extra is never set)


@pk.generic
def build(n: int):
    t = None
    for i in range(n):
        if i % 3 == 0:
            t = Task(i, t)
        elif i % 3 == 1:
            t = DeviceTask(i, t, i * 2)
        else:
            t = IdleTask(i, t)
    return t


@pk.generic
def run(t: Task, rounds: int):
    out = []
    for _ in range(rounds):
        p = t
        while p is not None:
            out.append(p.step())       # (a call on the parent type: the override runs)
            out.append(p.kind())
            p = p.link
    return out


@pk.generic
def summary(t: Task):
    s = 0
    d = 0
    p = t
    while p is not None:
        s += p.count * 1000 + p.ident
        if isinstance(p, DeviceTask):
            d += p.pending
        if isinstance(p, IdleTask):
            p.rounds += 1
            d += p.rounds
        p = p.link
    return (s, d)


@pk.generic
def classify(t: Task):
    return (isinstance(t, Task), isinstance(t, DeviceTask), isinstance(t, IdleTask))


@pk.generic
def drain(d: DeviceTask):
    """Inherited fields read and written in place through the subclass's type."""
    while d.pending > 0:
        d.step()
    d.ident = d.ident + 1
    d.count -= 1
    return (d.ident, d.count, d.pending)


@pk.generic
def registered():
    return len(REGISTRY)


@pk.generic
def half_extra(i: int):
    h = HalfTask(i)
    return h.extra
'''


@pytest.fixture(scope="module")
def hier(tmp_path_factory):
    from plaintools import compiled_and_plain
    return compiled_and_plain(tmp_path_factory.mktemp("hier"), "mutable_hierarchy", HIERARCHY)


def _tasks(t):
    out = []
    while t is not None:
        out.append((type(t).__name__, t.ident, t.count, getattr(t, "pending", None),
                    getattr(t, "rounds", None)))
        t = t.link
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_a_hierarchy_built_and_run_in_compiled_code_matches_plain_python(hier, n):
    m, p = hier
    t, u = m.build(n), p.build(n)
    assert _tasks(t) == _tasks(u)
    assert m.run(t, 2) == p.run(u, 2)
    assert m.summary(t) == p.summary(u)
    assert _tasks(t) == _tasks(u)         # (the fields each wrote, in place)


def test_a_call_on_the_parent_type_runs_the_subclass_override(hier):
    m, p = hier
    for mk in (lambda mod: mod.Task(5, None), lambda mod: mod.DeviceTask(5, None, 3),
               lambda mod: mod.IdleTask(5, None)):
        a, b = mk(m), mk(p)
        assert m.run(a, 3) == p.run(b, 3)
        assert m.classify(a) == p.classify(b)
        assert isinstance(a, m.Task) and isinstance(b, p.Task)


def test_inherited_fields_are_read_and_written_in_place_from_compiled_code_and_python(hier):
    m, p = hier
    a, b = m.DeviceTask(2, None, 4), p.DeviceTask(2, None, 4)
    assert m.drain(a) == p.drain(b) == (3, 39, 0)
    a.count = 7                               # from Python, an inherited field
    a.link = m.Task(1, None)
    assert (a.count, a.link.ident, a.ident) == (7, 1, 3)
    assert m.summary(a) == (7000 + 3 + 1, 0)
    with pytest.raises(pk.InexactError):
        a.count = 1.5
    with pytest.raises(AttributeError):
        m.Task(1, None).pending = 3           # (a parent has no subclass field)


def test_init_runs_on_a_new_object_that_may_escape_and_calls_the_parents(hier):
    m, p = hier
    m.REGISTRY.clear()
    p.REGISTRY.clear()
    t, u = m.build(5), p.build(5)
    assert m.registered() == len(p.REGISTRY) == 5
    assert [type(x).__name__ for x in m.REGISTRY] == [type(x).__name__ for x in p.REGISTRY]
    assert m.REGISTRY[-1] is t and p.REGISTRY[-1] is u
    d = m.DeviceTask(9, None, 2)              # from Python: the same __init__ chain
    assert m.REGISTRY[-1] is d and (d.ident, d.count, d.pending, d.link) == (9, 0, 2, None)


def test_a_field_init_leaves_unset_reads_as_pythons_attribute_error(hier):
    m, p = hier
    with pytest.raises(AttributeError):
        p.half_extra(1)
    with pytest.raises(AttributeError):
        m.half_extra(1)


@pytest.mark.parametrize("src, err, msg", [
    ("@pk.mutable\nclass B(A):\n    x: int\n", TypeError,
     r"mutable struct B declares field x again; its parent A has it"),
    ("@pk.mutable\nclass B(A):\n    y: int\n    def __init__():\n        pass\n",
     pk.CompileError, r"B.__init__ takes no self parameter"),
    ("@pk.mutable\nclass B(A):\n    y: int\n    def __init__(self, y: int):\n"
     "        A.__init__(self, y)\n@pk.generic\ndef f():\n    return B(1).y\nf()\n",
     pk.CompileError, r"A has no __init__"),
])
def test_hierarchy_mistakes_are_clear_errors(load_module, src, err, msg):
    with pytest.raises(err, match=msg):
        load_module("import pkgimage as pk\n@pk.mutable\nclass A:\n    x: int\n" + src)


# -- subclassing after code took a class as concrete ----------------------------------------------

BEFORE = '''
import pkgimage as pk


@pk.mutable
class A:
    x: int

    def get(self):
        return self.x * 10


@pk.mutable
class Holder:
    a: A
    items: list[A]


@pk.generic
def call_get(a: A):
    return a.get()


@pk.generic
def use(h: Holder):
    """A field typed A (concrete when this is compiled), a method called on it, a callee
    compiled for A, the elements of a list[A]."""
    s = h.a.get() + call_get(h.a)
    for it in h.items:
        s += it.get()
    return (s, h.a.x, isinstance(h.a, A))
'''

AFTER = '''
@pk.mutable
class B(A):
    y: int

    def get(self):
        return self.x + self.y
'''


def _exec_into(mod, src, filename):
    pk.register_source(filename, src)
    exec(compile(src, filename, "exec"), mod.__dict__)


def test_subclassing_a_mutable_struct_invalidates_code_that_took_it_as_concrete(
        load_module, tmp_path):
    """``use`` is compiled while ``A`` has no subclass (``h.a.get()`` may call ``A.get``
    directly); ``class B(A)`` overriding ``get`` must not leave that code running: a B
    held where an A is gives the override's answer, as in Python."""
    from plaintools import import_plain
    m = load_module(BEFORE, filename="/virtual/before_sub.py")
    p = import_plain(tmp_path, "before_sub_plain", BEFORE + AFTER)
    assert m.use(m.Holder(m.A(2), [m.A(1)])) == p.use(p.Holder(p.A(2), [p.A(1)])) == (50, 2, True)
    _exec_into(m, AFTER, "/virtual/after_sub.py")
    for mk in (lambda mod: mod.Holder(mod.B(1, 5), [mod.A(1), mod.B(2, 3)]),
               lambda mod: mod.Holder(mod.A(2), [mod.B(1, 1)])):
        assert m.use(mk(m)) == p.use(mk(p))
    assert m.call_get(m.B(1, 5)) == 6


def test_a_subclass_of_a_subclass_invalidates_code_that_took_the_middle_as_concrete(
        load_module):
    m = load_module(BEFORE + AFTER + """
@pk.mutable
class HB:
    b: B

@pk.generic
def via_b(h: HB):
    return h.b.get()
""", filename="/virtual/middle_sub.py")
    assert m.via_b(m.HB(m.B(1, 2))) == 3
    _exec_into(m, "@pk.mutable\nclass C(B):\n    def get(self):\n        return -1\n",
               "/virtual/middle_sub_c.py")
    assert m.via_b(m.HB(m.C(1, 2))) == -1
    assert m.via_b(m.HB(m.B(1, 2))) == 3


SPLIT = '''
import pkgimage as pk


@pk.mutable
class P:
    v: int


@pk.mutable
class Q(P):
    w: int


@pk.mutable
class R(P):
    z: int


@pk.generic
def f(a: P, b: P):
    return 1


@pk.generic
def f(a: Q, b: P):
    return 2


@pk.generic
def f(a: Q, b: R):
    return 3


@pk.mutable
class Pair:
    a: P
    b: P


@pk.generic
def via(p: Pair):
    """A call on two values typed by the open parent: split on the first argument's
    class; the second must not be left unchecked (``f(::Q, ::R)`` is more specific)."""
    return f(p.a, p.b)
'''


@pytest.mark.parametrize("a, b, want", [("P", "P", 1), ("Q", "P", 2), ("Q", "Q", 2),
                                        ("Q", "R", 3), ("R", "R", 1), ("P", "R", 1)])
def test_a_split_call_on_a_hierarchy_checks_every_argument(load_module, a, b, want):
    m = load_module(SPLIT, filename="/virtual/split_family.py")
    mk = {"P": lambda: m.P(1), "Q": lambda: m.Q(1, 2), "R": lambda: m.R(1, 3)}
    for x, y in (("Q", "P"), ("Q", "Q"), ("P", "P")):        # (compiled for some first)
        m.via(m.Pair(mk[x](), mk[y]()))
    x, y = mk[a](), mk[b]()
    assert m.via(m.Pair(x, y)) == m.f(x, y) == want


@pytest.mark.parametrize("order", ["before", "after"])
def test_a_split_call_sees_a_method_added_for_a_subclass_argument(load_module, order):
    m = load_module(SPLIT, filename=f"/virtual/split_family_{order}.py")
    pair = m.Pair(m.Q(1, 2), m.Q(3, 4))
    if order == "after":
        assert m.via(pair) == 2

    @m.f.method
    def _(a: m.Q, b: m.Q):
        return 4
    assert m.via(pair) == 4
    assert m.via(m.Pair(m.Q(1, 2), m.R(1, 1))) == 3


def _json(v):
    import json
    return json.loads(json.dumps(v))


def test_a_mutable_hierarchy_with_init_loads_from_an_image_without_compiling(tmp_path, hier):
    from imagetools import Project
    _, p = hier
    proj = Project(tmp_path)
    proj.write("hier1", "__pkgimage__ = True\n" + textwrap.dedent(HIERARCHY) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            t = build(7)
            run(t, 2)
            summary(t)
            for x in (Task(1, None), DeviceTask(2, None, 3), IdleTask(3, None)):
                classify(x)
                run(x, 1)
            drain(DeviceTask(2, None, 4))
            registered()
        """))
    assert proj.build("hier1").returncode == 0
    out = proj.run_json("""
import hier1
with Tripwire() as tw:
    t = hier1.build(7)
    res = [hier1.run(t, 2), hier1.summary(t), hier1.drain(hier1.DeviceTask(2, None, 4)),
           [hier1.classify(x) for x in (hier1.Task(1, None), hier1.DeviceTask(2, None, 3),
                                        hier1.IdleTask(3, None))],
           hier1.registered()]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    p.REGISTRY.clear()
    u = p.build(7)
    want = [p.run(u, 2), p.summary(u), p.drain(p.DeviceTask(2, None, 4)),
            [p.classify(x) for x in (p.Task(1, None), p.DeviceTask(2, None, 3),
                                     p.IdleTask(3, None))], len(p.REGISTRY)]
    assert out["res"] == _json(want), out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_image_code_that_took_a_class_as_concrete_is_not_run_once_it_is_subclassed(tmp_path):
    """``base_a``'s image has ``use`` compiled with ``A`` concrete, ``user_c``'s (built in a
    process that never saw a subclass) a caller of it; a module subclassing ``A`` imported
    between them makes both stale: the answers are plain Python's."""
    from imagetools import Project
    from plaintools import import_plain
    proj = Project(tmp_path)
    proj.write("base_a", "__pkgimage__ = True\n" + textwrap.dedent(BEFORE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            use(Holder(A(2), [A(1)]))
        """))
    proj.write("sub_b", "import pkgimage as pk\nfrom base_a import A\n" + textwrap.dedent(AFTER))
    proj.write("user_c", textwrap.dedent("""
        __pkgimage__ = True
        import pkgimage as pk
        from base_a import A, Holder, use

        @pk.generic
        def twice(h: Holder):
            return use(h)[0] * 2

        @pk.generic
        def first_x(h: Holder):
            return h.a.x + 1

        @pk.precompilation(__name__)
        def _workload():
            twice(Holder(A(2), [A(1)]))
            first_x(Holder(A(2), [A(1)]))
        """))
    built = [proj.build("base_a"), proj.build("user_c")]
    out = proj.run_json("""
import base_a, sub_b, user_c
h = base_a.Holder(sub_b.B(1, 5), [base_a.A(1), sub_b.B(2, 3)])
done({"res": [base_a.use(h), user_c.twice(h), user_c.first_x(h)], "stats": stats()})
""")
    p = import_plain(tmp_path, "gap_plain", BEFORE + AFTER)
    h = p.Holder(p.B(1, 5), [p.A(1), p.B(2, 3)])
    assert out["res"] == _json([p.use(h), p.use(h)[0] * 2, 2]), out
    why = {d[1]: d[2] for d in out["stats"]["discarded"]}
    # (what the builds said and what the image holds, should this ever fail again)
    seen = (why, [b.stdout + b.stderr for b in built], proj.cli("show", "user_c").stdout)
    assert "callee" in why.get("MethodInstance for twice(::Holder)", ""), seen
    assert why.get("MethodInstance for first_x(::Holder)") == \
        "mutable struct A was subclassed after the code was compiled", seen


LIST_FIELDS = '''
from typing import Optional
import pkgimage as pk


@pk.mutable
class Slot:
    v: int


@pk.mutable
class Table:
    n: int
    tab: list[Optional[Slot]]
    vals: list[float]

    def __init__(self, n: int):
        self.n = n
        self.tab = [None] * n           # (a list of the field's element type)
        self.vals = []

    def put(self, i: int, v: int):
        self.tab[i] = Slot(v)
        self.vals.append(v * 0.5)

    def total(self):
        s = 0
        for x in self.tab:
            if x is not None:
                s += x.v
        return s


@pk.generic
def fill(n: int, every: int):
    t = Table(n)
    for i in range(0, n, every):
        t.put(i, i * 3)
    return (t.total(), len(t.tab), t.vals, [x is None for x in t.tab])


@pk.generic
def reset(t: Table, n: int):
    t.tab = n * [None]
    t.vals = [1.0] * n
    t.tab[0] = Slot(7)
    return t.total() + len(t.vals)
'''


@pytest.mark.parametrize("n, every", [(1, 1), (5, 2), (6, 4)])
def test_a_list_field_filled_with_none_takes_the_fields_element_type(tmp_path, n, every):
    """``self.tab = [None] * n`` with ``tab: list[Optional[Slot]]``: Slots stored later,
    as in Python (a list of Nothing could hold nothing else)."""
    from conftest import import_source
    from plaintools import import_plain
    m = import_source(tmp_path, f"listfields_{n}_{every}", LIST_FIELDS)
    p = import_plain(tmp_path, f"listfields_plain_{n}_{every}", LIST_FIELDS)
    assert m.fill(n, every) == p.fill(n, every)
    assert m.reset(m.Table(2), n) == p.reset(p.Table(2), n)


@pytest.mark.parametrize("n", [-2, 0, 1, 3])
def test_a_list_repeated_with_the_count_on_either_side(load_module, n):
    m = load_module("""
import pkgimage as pk

@pk.generic
def f(n: int):
    return ([1, 2] * n, n * [3], n * [True], 2 * ["a"] * n)
""")
    assert m.f(n) == m.f.methods[0].pyfunc(n)

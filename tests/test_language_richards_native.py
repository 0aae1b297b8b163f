"""Class hierarchies of mutable structs run as native code, pinned without timing: which
calls and field accesses stay in native code (the typed IR says how each statement is
resolved), that the second run of a program compiles nothing, and how many Python functions
of pkgimage a run calls -- plus the same programs' answers against plain Python.

The Richards benchmark (``tests/programs/richards.py``) was 19x slower than CPython when
``t.link`` of an ``Optional[Task]``, ``t.runTask()`` and the ``fn`` overrides went through
run-time dispatch and Python's getattr/setattr at every step."""

import contextlib
import io
import runpy
import sys
from pathlib import Path

import pytest

import pkgimage as pk
from pkgimage.compiler import introspect, pipeline

RICHARDS = Path(__file__).parent / "programs" / "richards.py"


@pytest.fixture(scope="module")
def richards():
    g = runpy.run_path(str(RICHARDS), run_name="richards_native")
    with contextlib.redirect_stdout(io.StringIO()):
        assert g["main"](1) is True                   # (compiles everything it runs)
    return g


def _pkgimage_python_calls(f, *args):
    """Python functions of the pkgimage package called while ``f(*args)`` runs (native
    code calls none of them unless it falls back to Python: dispatch, getattr, setattr)."""
    n = [0]
    root = str(Path(pk.__file__).parent)

    def prof(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(root):
            n[0] += 1
    sys.setprofile(prof)
    try:
        r = f(*args)
    finally:
        sys.setprofile(None)
    return r, n[0]


def test_a_second_richards_run_compiles_nothing_and_stays_native(richards):
    before = dict(pipeline.STATS)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok, calls = _pkgimage_python_calls(richards["main"], 2)
    assert ok is True
    assert pipeline.STATS == before
    assert "holdCount 9297, qpktCount 23246" in out.getvalue()
    # (the entry's dispatch, print, the [0] * n lists: a few dozen; it was 3.6 million
    # per iteration when calls and fields went through Python)
    assert calls < 200, calls


def _typed(f, types):
    return introspect.code_typed(f, types)


def _through_python(ir):
    """Statements of typed IR that run through Python: run-time dispatch, intrinsics on
    boxed values (``x is None`` and ``isinstance`` of a struct class excepted: codegen
    tests the class natively)."""
    return [ln for ln in ir.splitlines() if "(dynamic" in ln or
            ("(boxed)" in ln and "intr.isa{" not in ln)]


def test_the_scheduler_loop_calls_and_reads_fields_natively(richards):
    ir = _typed(richards["schedule"], ())
    assert not _through_python(ir), ir
    assert "= runTask(t.2) :: Union[Nothing, Task]   (split" in ir, ir
    Task = richards["Task"]
    ir = _typed(Task.runTask, (Task,))
    assert not _through_python(ir), ir                          # (fn: split by class)
    assert "fn(self, msg, %13) :: Union[Nothing, Task]   (split" in ir, ir


HIER = '''
from typing import Optional
import pkgimage as pk


@pk.mutable
class Item:
    link: Optional["Item"]
    val: int

    def __init__(self, link, val):
        self.link = link
        self.val = val


@pk.mutable
class Base:
    head: Optional[Item]
    n: int

    def __init__(self, head):
        self.head = head
        self.n = 0

    def step(self, x):
        raise NotImplementedError

    def pop(self):
        it = self.head
        self.head = it.link               # (an Optional[Item] into an Optional[Item] field)
        return it.val

    def run(self, x):
        return self.step(x)


@pk.mutable
class A(Base):
    def __init__(self, head):
        Base.__init__(self, head)

    def step(self, x):
        self.n += 1
        return x + 1


@pk.mutable
class B(Base):
    def __init__(self, head):
        Base.__init__(self, head)

    def step(self, x):
        self.n += 2
        return x * 2


@pk.mutable
class C(Base):
    def __init__(self, head):
        Base.__init__(self, head)

    def step(self, x):
        self.n += 3
        return x - 3


@pk.mutable
class D(Base):
    def __init__(self, head):
        Base.__init__(self, head)

    def step(self, x):
        self.n += 4
        return x // 2


@pk.mutable
class Holder:
    obj: Base
    item: Optional[Item]


@pk.generic
def chain(n: int):
    it = None
    for i in range(n):
        it = Item(it, i)
    return it


@pk.generic
def total(h: Holder):
    s = 0
    it = h.item
    while it is not None:
        s += it.val
        it = it.link
    return s


@pk.generic
def drive(h: Holder, k: int):
    x = k
    for i in range(k):
        x = h.obj.run(x)
    return (x, h.obj.n)


@pk.generic
def pops(h: Holder, k: int):
    s = 0
    for i in range(k):
        s += h.obj.pop()
    return s


@pk.generic
def next_val(h: Holder):
    return h.item.link.val
'''


@pytest.fixture(scope="module")
def hier(tmp_path_factory):
    from conftest import import_source
    from plaintools import import_plain
    d = tmp_path_factory.mktemp("richards_native")
    return (import_source(d, "richards_native_hier", HIER),
            import_plain(d, "richards_native_hier_plain", HIER))


@pytest.mark.parametrize("cls", ["A", "B", "C", "D"])
def test_a_virtual_call_with_four_overrides_matches_plain_python(hier, cls):
    m, p = hier
    hm = m.Holder(getattr(m, cls)(m.chain(5)), m.chain(3))
    hp = p.Holder(getattr(p, cls)(p.chain(5)), p.chain(3))
    assert m.drive(hm, 7) == p.drive(hp, 7)
    assert m.total(hm) == p.total(hp)
    assert m.pops(hm, 3) == p.pops(hp, 3)
    assert hm.obj.head.val == hp.obj.head.val            # (stored in place, seen by Python)
    for f, ts in ((m.drive, (m.Holder, pk.Int64)), (m.total, (m.Holder,)),
                  (m.pops, (m.Holder, pk.Int64))):
        ir = introspect.code_typed(f, ts)
        assert not _through_python(ir), ir


def test_the_parents_own_method_still_runs_for_a_value_of_the_parents_class(hier):
    m, p = hier
    with pytest.raises(NotImplementedError):
        m.drive(m.Holder(m.Base(None), None), 2)
    with pytest.raises(NotImplementedError):
        p.drive(p.Holder(p.Base(None), None), 2)


def test_a_field_of_none_through_an_optional_is_an_error(hier):
    m, p = hier
    assert m.next_val(m.Holder(m.A(None), m.chain(2))) == \
        p.next_val(p.Holder(p.A(None), p.chain(2))) == 0
    with pytest.raises(pk.ErrorException, match="type Nothing has no field link"):
        m.next_val(m.Holder(m.A(None), None))
    with pytest.raises(pk.ErrorException, match="type Nothing has no field val"):
        m.next_val(m.Holder(m.A(None), m.chain(1)))
    with pytest.raises(AttributeError):
        p.next_val(p.Holder(p.A(None), None))
    with pytest.raises(pk.ErrorException, match="type Nothing has no field link"):
        m.pops(m.Holder(m.A(m.chain(1)), None), 2)


COVER = '''
from typing import Optional
import pkgimage as pk


@pk.mutable
class P:
    x: int


@pk.mutable
class Q(P):
    y: int


@pk.mutable
class Box:
    p: P
    o: Optional[P]


@pk.generic
def g(a: P, b):
    return 1


@pk.generic
def via(bx: Box):
    return g(bx.p, bx.o)
'''


def test_a_call_one_method_covers_sees_a_method_added_for_a_subclass(load_module):
    m = load_module(COVER, filename="/virtual/richards_native_cover.py")
    q = m.Box(m.Q(1, 2), None)
    assert m.via(q) == 1
    assert m.via(m.Box(m.P(1), m.P(2))) == 1
    ir = introspect.code_typed(m.via, (m.Box,))
    assert not _through_python(ir), ir

    @m.g.method
    def _(a: m.Q, b: m.P):
        return 2
    assert m.via(q) == 1                            # (b is None: still the first method)
    assert m.via(m.Box(m.Q(1, 2), m.P(3))) == 2
    assert m.via(m.Box(m.P(1), m.P(3))) == 1

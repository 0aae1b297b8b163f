"""Module globals take part in world age (Julia 1.12's binding partitions): compiled code may
treat a global it reads as a constant, and rebinding that global -- from Python, from the
module's own code, by ``__init__`` after an image load -- invalidates exactly the code that
read it (and its callers), so the next call gives the answer plain Python gives."""

import textwrap

import pytest

import pkgimage as pk
from pkgimage.compiler import instances as INS
from imagetools import Project

pytestmark = pytest.mark.skipif(
    __import__("pkgimage.compiler.codegen", fromlist=["REFCOUNT"]).REFCOUNT is None,
    reason="the rebinding check reads CPython 3.11-3.13's dict version tag")

SOURCE = """
import pkgimage as pk

K = 2
SCALE = 1.5
OFFSET = (1, 2.5)

@pk.generic
def times_k(x: int):
    return x * K

@pk.generic
def scaled(x: float):
    return x * SCALE

@pk.generic
def outer(x: float):
    # calls scaled natively (or inlines it): rebinding SCALE must reach this code too
    return scaled(x) + 1.0

@pk.generic
def shifted(x: int):
    a, b = OFFSET
    return x + a + b

@pk.generic
def double(x: int):
    return 2 * x

@pk.generic
def triple(x: int):
    return 3 * x

helper = double

@pk.generic
def via_helper(x: int):
    return helper(x) + 1

def set_k_from_module(v):
    global K
    K = v
"""


def _log_since(n):
    return [(repr(trigger), [repr(ci) for ci in roots]) for trigger, roots in
            INS.INVALIDATION_LOG[n:] if isinstance(trigger, INS.BindingChange)]


def test_rebinding_a_global_from_python_invalidates_the_code_that_read_it(load_module):
    mod = load_module(SOURCE)
    assert mod.times_k(5) == 10 and mod.outer(2.0) == 4.0
    n = len(INS.INVALIDATION_LOG)
    mod.K = 7
    assert mod.times_k(5) == 35
    mod.SCALE = 10.0
    assert mod.outer(2.0) == 21.0 and mod.scaled(2.0) == 20.0
    log = _log_since(n)
    assert [t for t, _ in log] == [f"binding {mod.__name__}.K", f"binding {mod.__name__}.SCALE"]
    assert any("scaled(::Float64)" in ci for ci in log[1][1])


def test_rebinding_by_the_modules_own_code_and_to_another_type(load_module):
    mod = load_module(SOURCE)
    assert mod.times_k(3) == 6
    mod.set_k_from_module(4)
    assert mod.times_k(3) == 12
    mod.set_k_from_module(0.5)              # another type: inferred afresh
    assert mod.times_k(3) == 1.5
    mod.OFFSET = (10, 0.25)
    assert mod.shifted(1) == 11.25


def test_rebinding_a_function_name_redirects_compiled_calls(load_module):
    mod = load_module(SOURCE)
    assert mod.via_helper(5) == 11
    mod.helper = mod.triple
    assert mod.via_helper(5) == 16


def test_other_changes_to_the_module_and_equal_rebindings_invalidate_nothing(load_module):
    mod = load_module(SOURCE)
    assert mod.times_k(5) == 10 and mod.scaled(1.0) == 1.5
    n = len(INS.INVALIDATION_LOG)
    mod.UNRELATED = [1, 2, 3]
    mod.K = 2                                 # the same value again
    mod.SCALE = 1.5
    assert mod.times_k(5) == 10 and mod.scaled(1.0) == 1.5
    assert _log_since(n) == []
    mod.SCALE = -0.0 * 0 + 1.5000000000000002  # not the same float
    assert mod.scaled(1.0) == 1.5000000000000002


def test_a_global_changed_by_init_after_an_image_load_is_seen(tmp_path):
    proj = Project(tmp_path)
    proj.write("glob1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import os
        import pkgimage as pk

        LIMIT = 3

        @pk.generic
        def capped(x: int):
            return x if x < LIMIT else LIMIT

        @pk.generic
        def plain(x: int):
            return x + 1

        pk.precompile(capped, (pk.Int64,))
        pk.precompile(plain, (pk.Int64,))

        def __init__():
            global LIMIT
            if "GLOB1_LIMIT" in os.environ:
                LIMIT = int(os.environ["GLOB1_LIMIT"])
        """))
    assert proj.build("glob1").returncode == 0
    probe = """
import glob1
import pkgimage.compiler.instances as INS
with Tripwire() as tw:
    res = [glob1.capped(10), glob1.plain(1)]
glob1.LIMIT = 100
res.append(glob1.capped(10))
done({"res": res, "compiles": tw.total, "stats": stats(),
      "log": [repr(t) for t, _ in INS.INVALIDATION_LOG]})
"""
    out = proj.run_json(probe)
    assert out["res"] == [3, 2, 10] and out["compiles"] == 0, out
    assert out["stats"]["discarded_instances"] == 0
    assert out["log"] == ["binding glob1.LIMIT"]
    out = proj.run_json(probe, GLOB1_LIMIT="5")
    assert out["res"][:2] == [5, 2], out     # __init__ rebound LIMIT: recompiled, not stale


def test_another_modules_global_read_as_an_attribute_is_a_binding_too(load_module):
    first = load_module(SOURCE)
    second = load_module(f"""
import pkgimage as pk
import {first.__name__} as other

@pk.generic
def uses_other(x: int):
    return x + other.K
""")
    assert second.uses_other(1) == 3
    first.K = 40
    assert second.uses_other(1) == 41


def test_an_image_whose_code_read_a_struct_global_loads_without_discarding(tmp_path):
    """A struct value recorded on a binding edge names its class, which exists only once the
    module's globals are restored (found by the program fuzzer: "Can't get attribute")."""
    proj = Project(tmp_path)
    proj.write("glob2", "__pkgimage__ = True\n" + textwrap.dedent("""
        import pkgimage as pk

        @pk.struct
        class Pt:
            x: pk.Float64
            y: pk.Float64

        ORIGIN = Pt(1.0, 2.0)

        @pk.generic
        def moved(p: Pt):
            return Pt(p.x + ORIGIN.x, p.y + ORIGIN.y)

        pk.precompile(moved, (Pt,))
        """))
    assert proj.build("glob2").returncode == 0
    out = proj.run_json("""
import glob2
with Tripwire() as tw:
    res = repr(glob2.moved(glob2.Pt(1.0, 1.0)))
glob2.ORIGIN = glob2.Pt(0.0, 0.0)
res2 = repr(glob2.moved(glob2.Pt(1.0, 1.0)))
done({"res": [res, res2], "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == ["Pt(x=2.0, y=3.0)", "Pt(x=1.0, y=1.0)"], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out


def test_mutable_global_objects_are_read_and_written_in_place(load_module):
    """A module global holding a list, dict, array or mutable struct is that very object in
    compiled code: changes show in Python and the other way round; rebinding the global is
    seen at the next call (binding invalidation)."""
    src = """
import numpy as np
import pkgimage as pk
G = [1, 2]
A = np.zeros(3)
D = {"a": 1}
@pk.mutable
class Box:
    n: int
B = Box(0)
@pk.generic
def f(x: int):
    G.append(x)
    A[0] += x
    D["a"] += x
    B.n += x
    return len(G) + A[0] + D["a"] + B.n + A.shape[0]
"""
    m = load_module(src)
    assert m.f(5) == 3 + 5.0 + 6 + 5 + 3
    assert m.G == [1, 2, 5] and m.A[0] == 5.0 and m.D == {"a": 6} and m.B.n == 5
    m.G.append(7)                       # in place from Python: seen by compiled code
    assert m.f(1) == 5 + 6.0 + 7 + 6 + 3 and m.G == [1, 2, 5, 7, 1]
    m.G = [10]                          # rebound: the next call reads the new list
    assert m.f(2) == 2 + 8.0 + 9 + 8 + 3 and m.G == [10, 2]


def test_code_reading_a_mutable_global_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("mg1", """
__pkgimage__ = True
import pkgimage as pk
G = [1.5]
@pk.generic
def push(x: float):
    G.append(x)
    return sum(G)
@pk.precompilation(__name__)
def _workload():
    push(1.0)
""")
    assert proj.build("mg1").returncode == 0
    out = proj.run_json("""
import mg1
with Tripwire() as tw:
    res = [mg1.push(2.0), list(mg1.G)]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    # (the image holds the module as it closed: the workload's append is not in it)
    assert out["res"] == [3.5, [1.5, 2.0]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_a_global_tuple_of_strings_is_a_constant_of_compiled_code(load_module):
    """``DEPARTMENTS = ("sales", "legal")`` read in a method: built from its strings (it was
    refused as a tuple global), indexed, iterated and measured as Python does."""
    m = load_module("""
import pkgimage as pk
NAMES = ("sales", "research", "legal")
MIXED = ("a", 1, 2.5)
@pk.generic
def f(i: int):
    return NAMES[i % 3], [n.upper() for n in NAMES], len(NAMES), MIXED[0] + str(MIXED[1])
""")
    assert m.f(4) == ("research", ["SALES", "RESEARCH", "LEGAL"], 3, "a1")


# -- ``global x`` statements in compiled code --------------------------------------------------

GLOBAL_STATEMENTS = '''
import pkgimage as pk

COUNTER = 0
LAYOUT = 0
LABEL = "a"
LAST = -1
A = 0
B = 0
TOTAL = 0
BUF_RANGE = range(4)
STEP_RANGE = range(10, 0, -3)


@pk.generic
def bump(k: int):
    global COUNTER
    COUNTER += k
    return COUNTER


@pk.generic
def read_counter():
    return COUNTER * 2


@pk.generic
def relabel(s: str):
    global LABEL
    old = LABEL
    LABEL = s
    return old + LABEL


@pk.generic
def read_layout():
    return LAYOUT + 1


@pk.generic
def set_then_read(v: int):
    """Rebinds LAYOUT, then calls a compiled reader of it in the same native call."""
    global LAYOUT
    LAYOUT = v
    return read_layout()


@pk.generic
def loop_global(n: int):
    global LAST
    for LAST in range(n):
        pass
    return LAST


@pk.generic
def unpack(t: tuple[int, int]):
    global A, B
    A, B = t
    return A - B


@pk.mutable
class Acc:
    k: int

    def add(self, x: int):
        global TOTAL
        TOTAL += x * self.k
        return TOTAL


@pk.generic
def use_acc(n: int):
    a = Acc(2)
    s = 0
    for i in range(n):
        s += a.add(i)
    return (s, TOTAL)


@pk.generic
def over_ranges():
    s = []
    for i in BUF_RANGE:
        s.append(i)
    for j in STEP_RANGE:
        s.append(j)
    else:
        s.append(-1)
    for i in BUF_RANGE:
        if i == 2:
            break
        s.append(i * 10)
    return s


@pk.generic
def never_bound():
    global MISSING
    return MISSING + 1
'''


@pytest.fixture
def gmods(tmp_path):
    from plaintools import compiled_and_plain
    return compiled_and_plain(tmp_path, f"gstmt_{tmp_path.name}", GLOBAL_STATEMENTS)


def _steps(mod, steps):
    out = []
    for step in steps:
        try:
            out.append(("ok", step(mod)))
        except Exception as e:                    # noqa: BLE001 (compared)
            out.append(("raised", type(e).__name__, str(e)))
    return out


def test_global_statements_rebind_module_globals_as_python(gmods):
    """``global x`` then ``x = ...``, ``x += ...``, ``for x in``, ``a, x = t``, in a
    struct's method too: the module sees each new value, and compiled readers of it too."""
    m, p = gmods
    steps = [lambda d: d.read_counter(), lambda d: d.bump(3), lambda d: d.COUNTER,
             lambda d: d.read_counter(), lambda d: d.bump(4), lambda d: d.read_counter(),
             lambda d: d.relabel("b"), lambda d: d.relabel("c"), lambda d: d.LABEL,
             lambda d: d.loop_global(3), lambda d: d.loop_global(0), lambda d: d.LAST,
             lambda d: d.unpack((5, 2)), lambda d: (d.A, d.B),
             lambda d: d.use_acc(4), lambda d: d.use_acc(2), lambda d: d.TOTAL,
             lambda d: d.never_bound()]
    got, want = _steps(m, steps), _steps(p, steps)
    assert got == want
    assert want[-1][:2] == ("raised", "NameError")


def test_a_compiled_reader_called_right_after_a_compiled_rebinding_sees_it(gmods):
    m, p = gmods
    steps = [lambda d: d.read_layout(), lambda d: d.set_then_read(5), lambda d: d.read_layout(),
             lambda d: d.set_then_read(7), lambda d: d.LAYOUT]
    assert _steps(m, steps) == _steps(p, steps) == \
        [("ok", 1), ("ok", 6), ("ok", 6), ("ok", 8), ("ok", 7)]


def test_for_over_a_module_range_and_its_rebinding(gmods):
    m, p = gmods
    steps = [lambda d: d.over_ranges(), lambda d: setattr(d, "BUF_RANGE", range(2, 5)),
             lambda d: d.over_ranges(), lambda d: setattr(d, "STEP_RANGE", range(0)),
             lambda d: d.over_ranges()]
    assert _steps(m, steps) == _steps(p, steps)


def test_except_as_a_global_name_is_a_located_error(load_module):
    m = load_module("""
import pkgimage as pk
E = None

@pk.generic
def f(x: int):
    global E
    try:
        return 1 // x
    except ZeroDivisionError as E:
        return 0
""", filename="/virtual/except_global.py")
    with pytest.raises(pk.CompileError, match=r"except_global\.py:\d+:\d+: .*declared global"):
        m.f(0)

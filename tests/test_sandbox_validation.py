"""The sandbox's code is kept when it holds in the checkpoint's world, and only then (issue
16): the workloads' process compiles the new instances; the parent validates each one as the
image loader validates cached instances (same function, ``loader.validate_records``) after
the sandbox has checked what only it can see -- methods the workload defined and the
bindings (globals, closure cells) lowering compiled in as constants (``build/world.py``).
What does not hold is inferred again by the parent, so images still answer as the source
(``test_sandbox_world.py`` checks the answers; these tests check which path was taken)."""

import sys
import textwrap

import pytest

from test_sandbox import Proj
from test_sandbox_world import CASES, _project

BUILD_STATS = """
from pkgimage.build import build_module, sandbox
build_module({mod!r})
done(dict(sandbox.STATS))
"""

BENIGN = """
    import pkgimage as pk
    from pkgimage import Int64, Float64
    __pkgimage__ = True
    SCALE = 3
    @pk.generic
    def f(x: Int64):
        return x * SCALE
    @pk.generic
    def f(x: Float64):
        return x * 0.5
    @pk.generic
    def g(x: Int64):
        return f(x) + f(1.0 * x) > 2.0
    COUNTS = []
    @pk.precompilation(__name__)
    def _w():
        COUNTS.append(1)            # mutates a container: nothing compiled reads it
        g(3)
        f(2.0)
"""


def test_workload_code_that_holds_is_kept_from_the_sandbox_not_inferred_again(tmp_path):
    p = Proj(tmp_path)
    p.write("benign", BENIGN)
    st = p.run_json(BUILD_STATS.format(mod="benign"))
    assert st["accepted"] >= 3 and st["reinferred"] == 0, st
    src = p.run_json("import benign as m\ndone({'v': [m.g(3), m.f(2.0), m.f(5)]})",
                     PKGIMAGE_CACHE=str(tmp_path / "none"))
    img = p.run_json("import benign as m\nv = [m.g(3), m.f(2.0)]\nc = compiled()\n"
                     "done({'v': v + [m.f(5)], 'compiled': c})")
    assert img["v"] == src["v"] == [True, 1.0, 15]
    # what the workload called from Python came from the image: nothing was compiled (f for
    # Int64 was only inlined into g, as at a close: called from Python, it is compiled)
    assert img["compiled"] is False


# (in "global" and "global_type" a compiled function's file declares the name global, so
# compiled code reads it from the module each call: nothing depends on the workload's value)
@pytest.mark.parametrize("name", sorted(set(CASES) - {"late_global", "global", "global_type"}))
def test_code_compiled_against_the_workloads_state_is_inferred_again(tmp_path, name):
    p, expr, value = _project(tmp_path, name)
    st = p.run_json(BUILD_STATS.format(mod="worldmod"))
    assert st["reinferred"] >= 1, st
    img = p.run_json(f"import worldmod as m\ndone({{'v': {expr}}})")
    assert img["v"] == value and type(img["v"]) is type(value)


@pytest.mark.parametrize("name", ["global", "global_type"])
def test_code_reading_a_global_from_the_module_each_call_is_kept(tmp_path, name):
    """A name some compiled function of the file declares ``global`` is read from the module
    at each call, so the workload's rebinding is in no compiled code: the sandbox's code
    holds and the image still answers as the source."""
    p, expr, value = _project(tmp_path, name)
    st = p.run_json(BUILD_STATS.format(mod="worldmod"))
    assert st["accepted"] >= 1 and st["reinferred"] == 0, st
    img = p.run_json(f"import worldmod as m\ndone({{'v': {expr}}})")
    assert img["v"] == value and type(img["v"]) is type(value)


def test_sandbox_and_parent_compile_give_the_same_image(tmp_path):
    """The fast path is exact: the image holding the sandbox's code is byte-identical to the
    one the in-process sandbox writes, where the parent compiles everything itself."""
    images = {}
    p = Proj(tmp_path)
    p.write("benign", BENIGN)                     # one source (its path is in the image)
    for mode in ("fork", "inprocess"):
        p.cache = tmp_path / f"cache-{mode}"
        p.build("benign", PKGIMAGE_SANDBOX=mode)
        (img,) = p.images()
        images[mode] = (p.cache / img).read_bytes()
    assert images["fork"] == images["inprocess"]


# -- the sandbox's own checks, in this process ----------------------------------------------

def _module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    try:
        __import__(name)
    finally:
        sys.path.remove(str(tmp_path))
    return sys.modules[name]


def _instance(f, *types):
    from pkgimage.compiler.pipeline import infer_instance
    return infer_instance(f, types)


def test_close_world_sees_a_rebound_global_a_late_one_and_a_closure_cell(tmp_path):
    from pkgimage import Int64
    from pkgimage.build.world import CloseWorld
    m = _module(tmp_path, "cw_globals", """
        import pkgimage as pk
        from pkgimage import Int64
        SCALE = 7
        def make():
            k = 5
            @pk.generic
            def h(x: Int64):
                return x + k
            def bump():
                nonlocal k
                k = 6
            return h, bump
        h, bump = make()
        @pk.generic
        def f(x: Int64):
            return x * SCALE
        @pk.generic
        def late(x: Int64):
            return x + LATE
    """)
    world = CloseWorld()
    assert world.why_not(_instance(m.f, Int64)) is None
    assert world.why_not(_instance(m.h, Int64)) is None
    m.SCALE = 1000
    from pkgimage.compiler.inference import forget_ir
    forget_ir()
    m.f._pycache.clear()
    from pkgimage.compiler import instances as INS
    for mi in INS.methodinstances(m.f) + INS.methodinstances(m.h):
        mi.cache = None
    assert "global 'SCALE'" in world.why_not(_instance(m.f, Int64))
    m.SCALE = 7                        # back to the close's very object: holds again
    forget_ir()
    for mi in INS.methodinstances(m.f):
        mi.cache = None
    assert world.why_not(_instance(m.f, Int64)) is None
    m.bump()
    assert "closure variable" in world.why_not(_instance(m.h, Int64))
    m.LATE = 1
    assert "global 'LATE'" in world.why_not(_instance(m.late, Int64))


def test_close_world_sees_a_method_redefined_with_the_same_signature(tmp_path):
    from pkgimage import Int64
    from pkgimage.build.world import CloseWorld
    m = _module(tmp_path, "cw_methods", """
        import pkgimage as pk
        from pkgimage import Int64
        @pk.generic
        def inc(x: Int64):
            return x + 1
        @pk.generic
        def g(x: Int64):
            return inc(x) * 2
    """)
    world = CloseWorld()
    assert world.why_not(_instance(m.g, Int64)) is None
    @m.inc.method
    def _(x: Int64):                    # the same signature, another body
        return x + 100
    assert len(m.inc.methods) == 1
    why = world.why_not(_instance(m.g, Int64))
    assert "resolved to a method the workload defined" in why
    assert "defined by the workload" in world.why_not(_instance(m.inc, Int64))


def test_callers_of_code_that_does_not_hold_do_not_hold(tmp_path):
    from pkgimage import Int64
    from pkgimage.build.world import CloseWorld, split_holding
    from pkgimage.image.writer import _static_callees
    m = _module(tmp_path, "cw_callers", """
        import pkgimage as pk
        from pkgimage import Int64
        K = 2
        @pk.generic
        def leaf(x: Int64):
            return x + K
        @pk.generic
        def mid(x: Int64):
            return leaf(x) * 3
        @pk.generic
        def top(x: Int64):
            return mid(x) - 1
        @pk.generic
        def other(x: Int64):
            return x - 1
    """)
    world = CloseWorld()
    m.K = 3
    cis = [_instance(f, Int64) for f in (m.top, m.other)]
    from pkgimage.compiler import instances as INS
    cis = [mi.cache for f in (m.leaf, m.mid, m.top, m.other) for mi in INS.methodinstances(f)]
    # (leaf was lowered after the rebinding: its IR read K = 3)
    good, bad = split_holding(world, cis, _static_callees)
    assert [c.mi.method.function.name for c in good] == ["other"]
    assert len(bad) == 3



def test_the_checkpoint_keeps_the_instances_it_names_so_no_new_one_takes_their_address(
        load_module):
    """The checkpoint's instances are asked for by id (``id(ci) in existed``): it must hold
    them, or an instance replaced after it (a loaded one inferred again for its IR) is
    freed and the next one allocated at its address counts as old.  With bare ids, a
    workload's new ``first_x`` took the address of a replaced ``mul`` and was left out of
    the image (test_image_code_that_took_a_class_as_concrete_is_not_run_once_it_is_
    subclassed, now and then under load)."""
    import gc
    from pkgimage.build import sandbox as S
    from pkgimage.compiler import instances as INS
    m = load_module("""
import pkgimage as pk

@pk.generic
def old(x: int):
    return x + 1

@pk.generic
def new(x: int):
    return x * 2
""")
    assert m.old(1) == 2
    existed = S._instance_ids()
    (mi,) = INS.SPECIALIZATIONS[m.old.methods[0]].values()
    replaced, key = mi.cache, id(mi.cache)
    mi.cache = None                      # (dropped from the table, as a replaced one is)
    del replaced
    gc.collect()
    assert existed[key].mi is mi         # still alive: nothing new can be allocated there
    assert m.new(3) == 6
    made = [ci for ci in S._new_instances(existed, set())
            if ci.mi.method.function is m.new]
    assert len(made) == 1 and id(made[0]) not in existed

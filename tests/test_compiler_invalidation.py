"""Invalidation (compiler/instances.py): adding a method ends exactly the CodeInstances whose
edges it changes, transitively through backedges, and nothing else.  Unrelated instances keep
their CodeInstance and native code (no recompilation); dependents are recompiled on the next
call and give the new answer.

Every test builds fresh generic functions (``load_module``), so no state is shared; the test
that changes ``pk.base.add`` on Float64 (seed 003) runs in a subprocess, since that change
would reach every later test of this process.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import AbstractFloat, Float64, Int64, Real, Vector
from pkgimage.compiler import instances, pipeline
from pkgimage.compiler.instances import methodinstance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHAIN = """
import pkgimage as pk
from pkgimage import *

@pk.generic
def h(x: Real):
    return 1

@pk.generic
def g(x: Int64):
    return h(x) + 10

@pk.generic
def gg(x: Int64):
    return g(x) * 2

@pk.generic
def ggg(x: Int64):
    return gg(x) + 1

@pk.generic
def gf(x: Float64):
    return h(x) + 10.0

@pk.generic
def unrelated(x: Int64):
    return x * 3

@pk.generic
def h_on_reals(v: Vector[Real]):
    return h(v[0])

@pk.generic
def h_on_floats(v: Vector[AbstractFloat]):
    return h(v[0])
"""


def snapshot(mod):
    sigs = {"g": (Int64,), "gg": (Int64,), "ggg": (Int64,), "gf": (Float64,),
            "unrelated": (Int64,), "h_on_reals": (Vector[Real],),
            "h_on_floats": (Vector[AbstractFloat],)}
    out = {}
    for name, sig in sigs.items():
        mi = methodinstance(getattr(mod, name), sig)
        assert mi is not None and mi.cache is not None, name
        out[name] = (mi, mi.cache, mi.cache.native)
    return out


def run_all(mod):
    return (mod.ggg(1), mod.gf(1.0), mod.unrelated(2),
            mod.h_on_reals(Vector[Real]([1])), mod.h_on_floats(Vector[AbstractFloat]([1.0])))


def test_new_method_invalidates_exactly_the_dependents(load_module):
    mod = load_module(CHAIN)
    assert run_all(mod) == (23, 11.0, 6, 1, 1)
    before = snapshot(mod)
    mi_h_float = methodinstance(mod.h, (Float64,))
    ci_h_float = mi_h_float.cache

    @mod.h.method
    def _(x: Int64):
        return 2

    new = mod.h.dispatch((Int64,))
    # dependents of h(::Int64), direct and through backedges, and the dynamic call on Reals
    for name in ("g", "gg", "ggg", "h_on_reals"):
        mi, ci, _ = before[name]
        assert not ci.valid, name
        assert mi.cache is None, name
        assert ci.invalidated_by is new, name
        assert ci.max_world is not None and ci.max_world < pk.world_counter()
    # everything else keeps its CodeInstance and its native code
    for name in ("gf", "unrelated", "h_on_floats"):
        mi, ci, native = before[name]
        assert ci.valid and mi.cache is ci, name
        assert ci.native is native and native is not None, name
    assert mi_h_float.cache is ci_h_float and ci_h_float.valid

    # the roots of the invalidation are the CodeInstances with a changed edge, not their callers
    trigger, roots = instances.INVALIDATION_LOG[-1]
    assert trigger is new
    assert {ci.mi.function.name for ci in roots} == {"g", "h_on_reals"}

    # unrelated code runs without compiling anything
    compiled = pipeline.STATS["compiled"]
    assert mod.gf(2.0) == 11.0 and mod.unrelated(3) == 9
    assert mod.h_on_floats(Vector[AbstractFloat]([1.0])) == 1
    assert pipeline.STATS["compiled"] == compiled
    for name in ("gf", "unrelated", "h_on_floats"):
        mi, ci, native = before[name]
        assert mi.cache is ci and ci.native is native

    # dependents are recompiled on their next call and see the new method
    assert mod.ggg(1) == (2 + 10) * 2 + 1
    assert pipeline.STATS["compiled"] > compiled
    assert mod.h_on_reals(Vector[Real]([1])) == 2
    assert mod.h_on_reals(Vector[Real]([1.0])) == 1
    after = snapshot(mod)
    for name in ("g", "gg", "ggg", "h_on_reals"):
        assert after[name][1] is not before[name][1] and after[name][1].valid


def test_method_that_changes_no_dispatch_invalidates_nothing(load_module):
    mod = load_module(CHAIN)
    run_all(mod)
    before = snapshot(mod)
    log_len = len(instances.INVALIDATION_LOG)

    @mod.h.method
    def _(x: Vector[Int64]):         # no inferred call can reach it
        return 3

    assert len(instances.INVALIDATION_LOG) == log_len
    for name, (mi, ci, native) in before.items():
        assert ci.valid and mi.cache is ci and ci.native is native, name
    compiled = pipeline.STATS["compiled"]
    assert run_all(mod) == (23, 11.0, 6, 1, 1)
    assert pipeline.STATS["compiled"] == compiled


def test_method_on_another_function_invalidates_nothing_here(load_module):
    mod = load_module(CHAIN)
    other = load_module("""
        import pkgimage as pk
        @pk.generic
        def h(x: pk.Int64):
            return 99
    """)
    run_all(mod)
    before = snapshot(mod)

    @other.h.method
    def _(x: Float64):
        return 98

    for name, (mi, ci, native) in before.items():
        assert ci.valid and mi.cache is ci, name
    assert run_all(mod) == (23, 11.0, 6, 1, 1)


def test_replacing_a_method_invalidates_its_callers(load_module):
    mod = load_module(CHAIN)
    run_all(mod)
    before = snapshot(mod)

    @mod.h.method
    def _(x: Real):                 # same signature: replaces h(x::Real)
        return 5

    for name in ("g", "gg", "ggg", "gf", "h_on_reals", "h_on_floats"):
        assert not before[name][1].valid, name
    assert before["unrelated"][1].valid
    assert run_all(mod) == ((5 + 10) * 2 + 1, 15.0, 6, 5, 5)


def test_call_that_had_no_method_is_invalidated_by_the_method_that_fixes_it(load_module):
    mod = load_module("""
        import pkgimage as pk
        from pkgimage import *

        @pk.generic
        def target(x: Float64):
            return 1

        @pk.generic
        def caller(x: Int64):
            return target(x) + 1
    """)
    with pytest.raises(pk.MethodError):
        mod.caller(1)
    ci = methodinstance(mod.caller, (Int64,)).cache
    assert ci.valid

    @mod.target.method
    def _(x: Int64):
        return 41

    assert not ci.valid
    assert mod.caller(1) == 42


def test_a_method_for_an_element_type_reaches_code_that_dispatches_at_run_time(load_module):
    mod = load_module("""
        import pkgimage as pk
        from pkgimage import *

        @pk.generic
        def double(x: Real):
            return 2 * x

        @pk.generic
        def calldouble(v):
            return double(v[0])
    """)
    vf = Vector[AbstractFloat]([np.float32(1.5)])
    assert mod.calldouble(vf) == 3.0
    assert mod.calldouble(np.array([4], dtype=np.int64)) == 8
    ci_abs = methodinstance(mod.calldouble, (Vector[AbstractFloat],)).cache
    ci_int = methodinstance(mod.calldouble, (Vector[Int64],)).cache

    @mod.double.method
    def _(x: Int64):
        return 0

    assert ci_abs.valid and not ci_int.valid     # Int64 is not an AbstractFloat
    assert mod.calldouble(np.array([4], dtype=np.int64)) == 0

    @mod.double.method
    def _(x: pk.Float32):
        return pk.Float32(-1.0)

    # ``double(v[0])`` on an AbstractFloat is dispatched when it runs and its result is Any:
    # the code depends on no method of ``double``, keeps no edge, and reaches the new one
    assert ci_abs.valid
    assert mod.calldouble(vf) == -1.0


def test_recursive_instances_are_invalidated_together(load_module):
    mod = load_module("""
        import pkgimage as pk
        from pkgimage import *

        @pk.generic
        def base_case(n: Real):
            return 0

        @pk.generic
        def even(n: Int64):
            return base_case(n) == 0 if n == 0 else odd(n - 1)

        @pk.generic
        def odd(n: Int64):
            return False if n == 0 else even(n - 1)
    """)
    assert mod.even(4) is True
    ci_even = methodinstance(mod.even, (Int64,)).cache
    ci_odd = methodinstance(mod.odd, (Int64,)).cache

    @mod.base_case.method
    def _(n: Int64):
        return 1

    assert not ci_even.valid and not ci_odd.valid
    assert mod.even(4) is False and mod.odd(3) is False


SEED_003 = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import pkgimage as pk
    from pkgimage.compiler import pipeline
    from pkgimage.compiler.instances import methodinstance
    import M

    assert M.f(1.0, 2.0) == 3.0
    assert M.g(1, 2) == 3
    assert M.fv(np.array([1.0, 2.0])) == 3.0
    mi_g = methodinstance(M.g, (pk.Int64, pk.Int64))
    ci_g, native_g = mi_g.cache, mi_g.cache.native
    ci_f = methodinstance(M.f, (pk.Float64, pk.Float64)).cache

    import N                       # (+)(x::Float64, y::Float64) = 0

    assert not ci_f.valid
    r = M.f(1.0, 2.0)
    assert r == 0 and pk.typeof(r) is pk.Int64, r
    assert M.fv(np.array([1.0, 2.0])) == 0
    compiled = pipeline.STATS["compiled"]
    assert M.g(1, 2) == 3                       # Int64 code is untouched
    assert mi_g.cache is ci_g and ci_g.native is native_g
    assert pipeline.STATS["compiled"] == compiled
    assert M.f(1, 2) == 3                       # integer + is still integer +
    print("OK")
""")

M_SRC = """
import pkgimage as pk
from pkgimage import Float64, Int64, Vector

@pk.generic
def f(x: Float64, y: Float64):
    return x + y

@pk.generic
def f(x: Int64, y: Int64):
    return x + y

@pk.generic
def g(x: Int64, y: Int64):
    return x + y

@pk.generic
def fv(v: Vector[Float64]):
    s = 0.0
    for e in v:
        s = s + e
    return s
"""

N_SRC = """
import pkgimage as pk
from pkgimage import Float64

@pk.base.add.method
def _(x: Float64, y: Float64):
    return 0
"""


def test_seed_003_new_base_method_changes_compiled_code_in_another_module(tmp_path):
    (tmp_path / "M.py").write_text(M_SRC)
    (tmp_path / "N.py").write_text(N_SRC)
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-c", SEED_003, str(tmp_path)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK"

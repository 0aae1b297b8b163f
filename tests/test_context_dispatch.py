"""Context dispatch (issue 7, seed 003's MultiFunctions): @pk.mf, pk.fexport, pk.fusing,
context propagation, interop with global functions, isolation from unrelated packages, and
context-keyed caching in images."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def run(code, tmp_path, cache=None, extra_path=()):
    env = dict(os.environ, PKGIMAGE_AUTO="0",
               PKGIMAGE_CACHE=str(cache or (tmp_path / "cache")),
               PYTHONPATH=os.pathsep.join([str(tmp_path), EXAMPLES, ROOT, *extra_path]))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


FUSE_ALL = """
    import pkgimage as pk
    from ring_context import Ring_int, Ring_Q, Ring_fma
    pk.fusing(Ring_int); pk.fusing(Ring_Q); pk.fusing(Ring_fma)
    R = pk.Rational[pk.Int64]
    foo_int, foo_Q = Ring_int.foo_int, Ring_Q.foo_Q
"""


def test_ring_example_works_as_written_in_seed_003(tmp_path):
    out = run(FUSE_ALL + """
    print(ring_fma(foo_int(3), foo_int(2), foo_int(5)))
    print(ring_fma(foo_Q(R(3, 1)), foo_Q(R(2, 1)), foo_Q(R(5, 1))))
    try:
        ring_fma(2.2, 3.2, 2.3)
    except pk.ErrorException as e:
        print("error:", e)
    """, tmp_path)
    assert out.splitlines() == ["foo_int(x=13)", "foo_Q(x=13//1)",
                                "error: addxy unimplemented in context for args (Float64, Float64)"]


def test_context_methods_leave_global_tables_alone(tmp_path):
    out = run(FUSE_ALL + """
    from pkgimage.dispatch import FUNCTIONS
    # no global generic function named addxy/mulxy exists, and base.add is untouched
    print(sorted(q for (m, q) in FUNCTIONS if q in ("addxy", "mulxy")))
    print(all(m.module.startswith("pkgimage") for m in pk.base.add.methods))
    """, tmp_path)
    assert out.splitlines() == ["[]", "True"]


def test_a_module_sees_only_what_it_fused(tmp_path):
    out = run("""
    import pkgimage as pk
    from ring_context import Ring_int, Ring_Q, Ring_fma
    pk.fusing(Ring_int); pk.fusing(Ring_fma)          # not Ring_Q
    q = Ring_Q.foo_Q(pk.Rational[pk.Int64](1, 2))
    print(ring_fma(Ring_int.foo_int(1), Ring_int.foo_int(2), Ring_int.foo_int(3)))
    try:
        ring_fma(q, q, q)
    except pk.ErrorException as e:
        print("error:", e)
    """, tmp_path)
    assert out.splitlines() == ["foo_int(x=7)",
                                "error: mulxy unimplemented in context for args (foo_Q, foo_Q)"]


def test_context_and_global_functions_interoperate(tmp_path):
    (tmp_path / "interop.py").write_text(textwrap.dedent("""
        import pkgimage as pk
        from pkgimage import Float64, Int64

        @pk.generic                      # a global function ...
        def gscale(x: Float64):
            return 2.0 * x

        @pk.mf                           # ... called from a context method
        def twice_plus(x: Float64, y: Float64):
            return gscale(x) + y

        pk.fexport(twice_plus)

        @pk.generic                      # global code calling a context function
        def via_global(x: Float64):
            return twice_plus(x, 1.0)
    """))
    out = run("""
    import pkgimage as pk, interop
    pk.fusing(interop)
    print(twice_plus(3.0, 1.0), interop.via_global(5.0))
    """, tmp_path)
    assert out.split() == ["7.0", "11.0"]


UNRELATED = """
    import pkgimage as pk
    from pkgimage import Float64, Int64

    @pk.struct
    class Meters:
        v: Float64

    @pk.base.add.method
    def _(a: Meters, b: Meters):
        return Meters(a.v + b.v)

    @pk.base.mul.method
    def _(a: Meters, b: Float64):
        return Meters(a.v * b)

    @pk.base.add.method
    def _(x: Float64, y: Float64):
        return 0.0
"""

KERNELS = """
    import pkgimage as pk
    from pkgimage import Float64, Int64, Vector

    @pk.generic
    def g_axpy(a: Float64, x: Float64, y: Float64):
        return a * x + y

    @pk.generic
    def g_sum(v: Vector[Float64]):
        s = 0.0
        for x in v:
            s += x
        return s

    @pk.generic
    def g_count(n: Int64):
        k = 0
        for i in range(n):
            k += i * 2
        return k

    @pk.mf
    def c_axpy(a: Float64, x: Float64, y: Float64):
        return a * x + y

    @pk.mf
    def c_sum(v: Vector[Float64]):
        s = 0.0
        for x in v:
            s += x
        return s

    @pk.mf
    def c_count(n: Int64):
        k = 0
        for i in range(n):
            k += i * 2
        return k

    pk.fexport(c_axpy); pk.fexport(c_sum); pk.fexport(c_count)
"""


def test_unrelated_package_extending_base_invalidates_no_context_instance(tmp_path):
    """Issue 7's measurement: the same code in global and in context mode, then a package
    adds add/mul methods for its own type and add(::Float64, ::Float64)."""
    (tmp_path / "kernels.py").write_text(textwrap.dedent(KERNELS))
    (tmp_path / "unrelated.py").write_text(textwrap.dedent(UNRELATED))
    out = run("""
    import json, numpy as np, pkgimage as pk, kernels as K
    from pkgimage.compiler import instances as INS
    pk.fusing(K)
    v = np.arange(4.0)
    before = [K.g_axpy(2.0, 3.0, 1.0), K.g_sum(v), K.g_count(5),
              c_axpy(2.0, 3.0, 1.0), c_sum(v), c_count(5)]
    def invalidated(mode):
        n = 0
        for trig, roots in INS.INVALIDATION_LOG:
            for ci in roots:
                seen = [ci] + INS.all_backedges(ci.mi)
                for c in seen:
                    is_ctx = (c.method if hasattr(c, "method") else c.mi.method).function.module \\
                        == "pkgimage.contexts.views"
                    if is_ctx == (mode == "context"):
                        n += 1
        return n
    import unrelated
    after = [K.g_axpy(2.0, 3.0, 1.0), K.g_sum(v), K.g_count(5),
             c_axpy(2.0, 3.0, 1.0), c_sum(v), c_count(5)]
    print(json.dumps({"before": before, "after": after,
                      "global": invalidated("global"), "context": invalidated("context")}))
    """, tmp_path)
    d = json.loads(out.splitlines()[-1])
    assert d["before"] == [7.0, 6.0, 20, 7.0, 6.0, 20]
    # global mode follows the new global method (add(Float64, Float64) now returns 0.0) ...
    assert d["after"][:3] == [0.0, 0.0, 20]
    # ... context mode is untouched: the unrelated package is not in its context
    assert d["after"][3:] == [7.0, 6.0, 20]
    assert d["global"] > 0
    assert d["context"] == 0


def test_context_code_is_cached_in_context_images_and_reused(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, PKGIMAGE_AUTO="0", PKGIMAGE_CACHE=str(cache),
               PYTHONPATH=os.pathsep.join([EXAMPLES, ROOT]))
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet",
                        "ring_context.Ring_int", "ring_context.Ring_Q", "ring_context.Ring_fma"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    names = os.listdir(cache)
    # narrowed keys: ring_fma on foo_int touched Ring_fma and Ring_int only
    assert any(n.startswith("ctx-ring_context.Ring_fma+ring_context.Ring_int-") for n in names)
    out = run(FUSE_ALL + """
    import sys, pkgimage.image.loader as L
    a = ring_fma(foo_int(3), foo_int(2), foo_int(5))
    b = ring_fma(foo_Q(R(3, 1)), foo_Q(R(2, 1)), foo_Q(R(5, 1)))
    print(a, b, L.STATS["loaded_instances"] > 0, L.STATS["discarded_instances"],
          "pkgimage.compiler.inference" in sys.modules)
    """, tmp_path, cache=cache)
    assert out.split() == ["foo_int(x=13)", "foo_Q(x=13//1)", "True", "0", "False"]
    # Importing Ring_fma first loads Ring_int and Ring_Q during Ring_fma's own load; their
    # context images call code of Ring_fma's image and must wait until it is installed.
    out = run("""
    import sys, pkgimage.image.loader as L
    from ring_context import Ring_fma
    print(L.STATS["discarded_instances"], L.STATS["loaded_instances"] > 0)
    """, tmp_path, cache=cache)
    assert out.split() == ["0", "True"]


def test_cached_context_code_is_reused_across_contexts_only_when_edges_still_hold(tmp_path):
    """Instances cached under one context are adopted by a session fusing a subset of those
    modules (same edges) -- but not by a session whose context changes what they call."""
    cache = tmp_path / "cache"
    env = dict(os.environ, PKGIMAGE_AUTO="0", PKGIMAGE_CACHE=str(cache),
               PYTHONPATH=os.pathsep.join([str(tmp_path), EXAMPLES, ROOT]))
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet",
                        "ring_context.Ring_int", "ring_context.Ring_Q", "ring_context.Ring_fma"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (tmp_path / "twist.py").write_text(textwrap.dedent("""
        import pkgimage as pk
        from pkgimage import Int64

        @pk.base.add.method              # a global method, seen by contexts that fuse twist
        def _(x: Int64, y: Int64):
            return 1000

        @pk.mf
        def twisted(x: Int64):
            return x
        pk.fexport(twisted)
    """))
    probe = """
    import sys, pkgimage as pk
    from ring_context import Ring_int, Ring_fma
    {extra}
    pk.fusing(Ring_int); pk.fusing(Ring_fma)
    r = ring_fma(Ring_int.foo_int(3), Ring_int.foo_int(2), Ring_int.foo_int(5))
    import pkgimage.contexts as C
    compiled = sys.modules["pkgimage.compiler.pipeline"].STATS["compiled"] \\
        if "pkgimage.compiler.pipeline" in sys.modules else 0
    print(r, compiled, C.STATS["adopted"] > 0)
    """
    out = run(probe.format(extra=""), tmp_path, cache=cache).split()
    assert out == ["foo_int(x=13)", "0", "True"]        # subset of the build's context: reused
    out = run(probe.format(extra="import twist; pk.fusing(twist)"), tmp_path, cache=cache).split()
    assert out[0] == "foo_int(x=1000)"                  # twist's add is in this context ...
    assert int(out[1]) > 0                              # ... so the cached code was not adopted

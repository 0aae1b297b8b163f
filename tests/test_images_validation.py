"""Validation on load (issue 4): every cached CodeInstance's edges are checked against the
loading process's method tables; what would now resolve differently is discarded, with its
callers, also across images.  Seed 000's Reduce.jl failure must be impossible: an image of
A built alone, then a session where B extends a base function A's code calls.
"""

import textwrap

import pytest

from imagetools import Project

A = """
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.generic
    def f(x: Float64, y: Float64):
        return x + y

    pk.precompile(f, (Float64, Float64))
"""

# B redefines base `+` on Float64 (what Reduce.jl's dependency did to Base): as a plain
# module, and as a pkgimage module with its own image.
B = """
    import pkgimage as pk
    from pkgimage import Float64

    @pk.base.add.method
    def _(x: Float64, y: Float64):
        return 0.0
"""
BIMG = """
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.base.add.method
    def _(x: Float64, y: Float64):
        return 0.0
"""

# Cross-image: A2's cached code calls C's.
C = """
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.generic
    def g(x: Float64):
        return x * 2.0

    pk.precompile(g, (Float64,))
"""

A2 = """
    import pkgimage as pk
    from pkgimage import Float64, Int64
    import C
    __pkgimage__ = True

    @pk.generic
    def h(x: Float64):
        return C.g(x) + 1.0

    @pk.generic
    def inc(x: Int64):
        return x + 1

    pk.precompile(h, (Float64,))
    pk.precompile(inc, (Int64,))
"""

# A plain module that replaces C.g's method (C's method changes in the session).
CPATCH = """
    import pkgimage as pk
    from pkgimage import Float64
    import C

    @C.g.method
    def _(x: Float64):
        return x * 100.0
"""

# A plain module that replaces base `*` on Float64: every instance of C is then invalid,
# but A2's `inc` is not (nothing of C's native code can be used, A2's must still load).
MULPATCH = """
    import pkgimage as pk
    from pkgimage import Float64

    @pk.base.mul.method
    def _(x: Float64, y: Float64):
        return 0.0
"""

PROBE = """
    import pkgimage as pk
    from pkgimage import Float64
    {imports}
    out = {{"stats_after_import": stats()}}
    with Tripwire() as tw:
        out["value"] = {call}
    out["compiled"] = tw.total > 0
    out["stats"] = stats()
    {extra}
    done(out)
"""


def probe(p, imports, call, extra="", **env):
    return p.run_json(textwrap.dedent(PROBE).format(imports=imports, call=call, extra=extra),
                      **env)


@pytest.fixture(scope="module")
def reduce_case(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("reduce"))
    p.write("A", A)
    p.write("B", B)
    p.write("BIMG", BIMG)
    p.build("A")                 # A alone: B is nowhere in A's build
    p.build("BIMG")
    return p


def test_without_b_the_cached_instance_is_used(reduce_case):
    out = probe(reduce_case, "import A", "A.f(1.0, 2.0)")
    assert out["value"] == 3.0
    assert out["compiled"] is False
    assert out["stats"]["loaded_instances"] > 0
    assert out["stats"]["discarded_instances"] == 0, out["stats"]


@pytest.mark.parametrize("bmod", ["B", "BIMG"])
def test_b_loaded_before_a_discards_the_cached_instance(reduce_case, bmod):
    out = probe(reduce_case, f"import {bmod}\nimport A", "A.f(1.0, 2.0)")
    assert out["value"] == 0.0
    discarded = out["stats"]["discarded"]
    assert any(d[0] == "A" and "f(" in d[1] and "add" in d[2] for d in discarded), discarded
    assert out["compiled"] is True          # recompiled, never the stale native code


@pytest.mark.parametrize("bmod", ["B", "BIMG"])
def test_b_loaded_after_a_invalidates_the_loaded_instance(reduce_case, bmod):
    extra = ("mi = pk.methodinstance(A.f, (Float64, Float64))\n"
             "out['image_instance'] = getattr(mi.cache, 'image', None)\n"
             "out['again'] = A.f(5.0, 6.0)")
    out = probe(reduce_case, f"import A\nA.f(1.0, 2.0)\nimport {bmod}", "A.f(1.0, 2.0)", extra)
    assert out["value"] == 0.0 and out["again"] == 0.0
    assert out["stats_after_import"]["discarded_instances"] == 0
    assert out["image_instance"] is None     # the image's instance was invalidated
    assert out["compiled"] is True


def test_image_with_a_method_invalidates_session_code(reduce_case):
    """Loading an image adds its methods to other modules' functions and invalidates the
    session's code that called the old one, as Julia does."""
    p = reduce_case
    p.write("sess", """
        import pkgimage as pk
        from pkgimage import Float64

        @pk.generic
        def s(x: Float64, y: Float64):
            return x + y
    """)
    out = probe(p, "import sess\nbefore = sess.s(1.0, 2.0)\nimport BIMG", "sess.s(1.0, 2.0)",
                "out['before'] = before")
    assert out["before"] == 3.0 and out["value"] == 0.0


@pytest.fixture(scope="module")
def cross(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("cross"))
    for name, text in (("C", C), ("A2", A2), ("CPATCH", CPATCH), ("MULPATCH", MULPATCH)):
        p.write(name, text)
    p.build("C", "A2")
    p.orc = p.root / "cache_orc"
    p.build("C", "A2", PKGIMAGE_CACHE=p.orc, PKGIMAGE_NO_SHARED=1)
    return p


@pytest.mark.parametrize("native", ["shared", "orc"])
def test_cross_image_call_is_served_from_both_images(cross, native):
    env = {"PKGIMAGE_CACHE": cross.orc} if native == "orc" else {}
    out = probe(cross, "import A2", "[A2.h(2.0), A2.inc(1)]", **env)
    assert out["value"] == [5.0, 2]
    assert out["compiled"] is False
    assert out["stats"]["discarded_instances"] == 0


@pytest.mark.parametrize("native", ["shared", "orc"])
def test_dependency_method_changed_before_load_discards_callers_transitively(cross, native):
    env = {"PKGIMAGE_CACHE": cross.orc} if native == "orc" else {}
    out = probe(cross, "import CPATCH\nimport A2", "[A2.h(2.0), A2.inc(1)]", **env)
    assert out["value"] == [201.0, 2]
    discarded = {(d[0], d[1].split("(")[0].split()[-1]) for d in out["stats"]["discarded"]}
    assert ("A2", "h") in discarded, out["stats"]["discarded"]
    assert not any(d[0] == "A2" and "inc" in d[1] for d in out["stats"]["discarded"])


def test_dependency_method_changed_after_load_invalidates_callers(cross):
    out = probe(cross, "import A2\nfirst = A2.h(2.0)\nimport CPATCH", "A2.h(2.0)",
                "out['first'] = first\n"
                "mi = pk.methodinstance(A2.h, (Float64,))\n"
                "out['h_from_image'] = getattr(mi.cache, 'image', None)")
    assert out["first"] == 5.0
    assert out["value"] == 201.0
    assert out["h_from_image"] is None


@pytest.mark.parametrize("native", ["shared", "orc"])
def test_dependency_with_all_code_discarded_does_not_crash_the_dependent(cross, native):
    """Every instance of C is invalid here (base `*` replaced before C loads), so none of
    C's native code is linked; A2 still loads (regression: 'undefined symbol' at dlopen,
    'Failed to materialize symbols' in ORC), its `h` is discarded and `inc` is used."""
    env = {"PKGIMAGE_CACHE": cross.orc} if native == "orc" else {}
    out = probe(cross, "import MULPATCH\nimport A2", "[A2.h(2.0), A2.inc(1)]",
                "import C\nout['g'] = C.g(3.0)", **env)
    assert out["value"] == [1.0, 2]
    assert out["g"] == 0.0
    discarded = out["stats"]["discarded"]
    assert any(d[0] == "C" for d in discarded)
    assert any(d[0] == "A2" and "h(" in d[1] for d in discarded)
    assert not any(d[0] == "A2" and "inc" in d[1] for d in discarded)

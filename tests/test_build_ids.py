"""A build id names everything a dependent may have compiled against (issue 16, "never stale
across images"): a dependency's method edited and only the dependency rebuilt must make
the dependents' images stale, even when no instance of the dependency's own image changed."""

from imagetools import Project

DEP = """
    import pkgimage as pk
    from pkgimage import Int64
    __pkgimage__ = True

    @pk.generic
    def g(x: Int64):
        return x + {k}
"""

USER = """
    import pkgimage as pk
    from pkgimage import Int64
    import bid_dep
    __pkgimage__ = True

    @pk.generic
    def f(x: Int64):
        return bid_dep.g(x) * 10

    pk.precompile(f, (Int64,))
"""


def test_dependency_edited_and_rebuilt_alone_makes_the_dependent_stale(tmp_path):
    proj = Project(tmp_path)
    proj.write("bid_dep", DEP.format(k=1))
    proj.write("bid_user", USER)
    proj.build("bid_dep", "bid_user")
    out = proj.run_json("import bid_user\ndone({'v': bid_user.f(1), 'stats': stats()})")
    assert out["v"] == 20 and out["stats"]["loaded_instances"] > 0
    # g's code lives only in bid_user's image (inlined into f); bid_dep's own image holds
    # no instance, so its bytes alone would not change.
    proj.write("bid_dep", DEP.format(k=2))
    proj.build("bid_dep")
    r = proj.run("import bid_user\nprint(bid_user.f(1))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "30", (r.stdout, r.stderr)
    assert "stale" in r.stderr and "bid_dep" in r.stderr


def test_compiling_an_instance_a_dependency_kept_inline_only_does_not_crash(tmp_path):
    """Found by 4 of 200 random programs: ``g`` is only inlined into ``f`` in the image, so
    its instance is installed without code; compiling it afterwards (a precompile, a
    dependent's build) used that code-less instance and crashed in the pipeline."""
    proj = Project(tmp_path)
    proj.write("inl_dep", """
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def g(x: Int64):
            return x + 1
        @pk.generic
        def f(x: Int64):
            return g(x) * 2
        pk.precompile(f, (Int64,))
    """)
    proj.write("inl_user", """
        import pkgimage as pk
        from pkgimage import Int64
        import inl_dep
        __pkgimage__ = True
        ok = pk.precompile(inl_dep.g, (Int64,))
        @pk.generic
        def h(x: Int64):
            return inl_dep.g(x) + inl_dep.f(x)
        pk.precompile(h, (Int64,))
    """)
    proj.build("inl_dep")
    out = proj.run_json("import pkgimage as pk, inl_dep\n"
                        "ok = pk.precompile(inl_dep.g, (pk.Int64,))\n"
                        "done({'ok': ok, 'g': inl_dep.g(1), 'f': inl_dep.f(1)})")
    assert {k: out[k] for k in ("ok", "g", "f")} == {"ok": True, "g": 2, "f": 4}
    proj.build("inl_user")
    out = proj.run_json("import inl_user\ndone({'h': inl_user.h(1), 'ok': inl_user.ok})")
    assert out["h"] == 6 and out["ok"] is True


def test_after_a_dependency_edit_one_round_of_auto_builds_is_enough(tmp_path):
    """Edit the dependency, import the dependent once (both auto-build in the background),
    wait for the builds: the next process loads both images and gives the new answer with
    nothing stale (it used to need a second round: the dependent was rebuilt against the
    old dependency image and then called fresh)."""
    import time
    proj = Project(tmp_path)
    proj.write("bid_dep", DEP.format(k=1))
    proj.write("bid_user", USER)
    proj.build("bid_dep", "bid_user")
    proj.write("bid_dep", DEP.format(k=2))
    r = proj.run("import bid_user\nprint(bid_user.f(1))", PKGIMAGE_AUTO="1")
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == "30", r.stderr
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r = proj.run("import bid_user\ndone({'v': bid_user.f(1), 'stats': stats()})")
        if r.returncode == 0 and r.stderr == "":
            break
        time.sleep(1)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    import json
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["v"] == 30 and out["stats"]["loaded_instances"] > 0


def test_a_dependency_instance_recompiled_into_a_dependent_image_gets_its_own_symbol(tmp_path):
    """Found by the program fuzzer (program fz000002x16, kept in tests/regressions): module
    _1 adds a method that makes a call of module _0's ``mul`` instance resolve (it threw a
    MethodError in _0's world), so _1's build recompiles that instance into _1's image.
    Both images named the two codes alike; the dynamic loader resolved _1's calls to _0's
    older code, and the image process raised the MethodError the source does not."""
    import shutil
    from pathlib import Path
    proj = Project(tmp_path)
    here = Path(__file__).parent / "regressions"
    for name in ("fz000002x16_0", "fz000002x16_1"):
        shutil.copy(here / f"{name}.py", proj.src / f"{name}.py")
    proj.build("fz000002x16_0", "fz000002x16_1")
    r = proj.run("import fz000002x16_1 as m\nprint(repr(m.f4(6.5, 1.5)))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "P4[Float64](x=-1.75, y=1000.0, z=-3)"

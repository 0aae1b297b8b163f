"""Only code that holds in the closed module's world enters its image (issue 16): a workload
that changes state and then calls code must not leave code compiled against that state.

Each case is a module whose workload mutates something -- a global, a rebinding, a method
redefined with the same signature, the module's ``+`` for its struct, a global created late
-- and then calls the code that depends on it.  The image, loaded in a fresh process, must
answer as the source does (plain import, no image), in both sandbox modes; the mutations
that the in-process sandbox cannot undo (method definitions) are refused there with a
message."""

import pytest

from test_sandbox import Proj

CASES = {
    # name: (module source, expression, value from source)
    "global": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        SCALE = 7
        @pk.generic
        def f(x: Int64):
            return x * SCALE
        @pk.precompilation(__name__)
        def _w():
            global SCALE
            SCALE = 1000
            f(2)
    """, "m.f(1)", 7),
    "global_type": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        K = 2
        @pk.generic
        def f(x: Int64):
            return x + K
        @pk.precompilation(__name__)
        def _w():
            global K
            K = 3.5
            f(2)
    """, "m.f(2)", 4),
    # the same rebindings without a 'global' statement in the file: compiled code reads
    # SCALE and K as constants, so the workload's values are baked into its code
    "global_dict": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        SCALE = 7
        @pk.generic
        def f(x: Int64):
            return x * SCALE
        @pk.precompilation(__name__)
        def _w():
            globals()["SCALE"] = 1000
            f(2)
    """, "m.f(1)", 7),
    "global_type_dict": ("""
        import pkgimage as pk
        from pkgimage import Int64
        import sys
        __pkgimage__ = True
        K = 2
        @pk.generic
        def f(x: Int64):
            return x + K
        @pk.precompilation(__name__)
        def _w():
            sys.modules[__name__].K = 3.5
            f(2)
    """, "m.f(2)", 4),
    "helper_module": ("""
        import pkgimage as pk
        from pkgimage import Int64
        import world_helper
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x + world_helper.BASE
        @pk.precompilation(__name__)
        def _w():
            world_helper.BASE = 5000
            f(10)
    """, "m.f(10)", 60),
    "rebind_function": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def inc(x: Int64):
            return x + 10
        @pk.generic
        def dec(x: Int64):
            return x - 10
        @pk.generic
        def g(x: Int64):
            return inc(x)
        @pk.precompilation(__name__)
        def _w():
            global inc
            inc = dec
            g(10)
    """, "m.g(10)", 20),
    "redefine_method": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x + 10
        @pk.generic
        def g(x: Int64):
            return f(x)
        @pk.precompilation(__name__)
        def _w():
            global f

            @pk.generic
            def f(x: Int64):            # the module's f, same signature: replaced
                return x + 10000
            g(10)
    """, "m.g(10)", 20),
    "redefine_operator": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.struct
        class S:
            v: Int64
        @pk.base.add.method
        def _(a: S, b: S):
            return S(a.v + b.v)
        @pk.generic
        def total(a: S, b: S):
            return (a + b).v
        @pk.precompilation(__name__)
        def _w():
            @pk.base.add.method
            def _(a: S, b: S):
                return S(0)
            total(S(1), S(5))
    """, "m.total(m.S(1), m.S(5))", 6),
    "late_global": ("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        def __init__():
            global LATE
            LATE = 3
        @pk.generic
        def f(x: Int64):
            return LATE
        @pk.precompilation(__name__)
        def _w():
            globals()["LATE"] = 42      # (no 'global' statement: f reads LATE as a constant)
            f(1)
    """, "m.f(1)", 3),
}

# What the in-process sandbox refuses (it cannot undo a method definition).
REFUSED_INPROCESS = {"redefine_method", "redefine_operator"}


def _project(tmp_path, name):
    p = Proj(tmp_path)
    src, expr, value = CASES[name]
    p.write("world_helper", "BASE = 50\n")
    p.write("worldmod", src)
    return p, expr, value


@pytest.mark.parametrize("mode", ["fork", "inprocess", "spawn"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_image_answers_as_the_source_whatever_the_workload_changed(tmp_path, name, mode):
    p, expr, value = _project(tmp_path, name)
    script = f"import worldmod as m\ndone({{'v': {expr}, 'compiled': compiled()}})"
    src = p.run_json(script, PKGIMAGE_CACHE=str(tmp_path / "none"))
    assert src["v"] == value
    r = p.build("worldmod", check=False, PKGIMAGE_SANDBOX=mode)
    if mode == "inprocess" and name in REFUSED_INPROCESS:
        assert r.returncode != 0
        assert "in-process sandbox" in r.stderr and "cannot undo" in r.stderr, r.stderr
        assert p.images() == []
        return
    assert r.returncode == 0, r.stdout + r.stderr
    img = p.run_json(script)
    assert img["v"] == value, (img, r.stderr)
    assert type(img["v"]) is type(value)


def test_dropped_workload_code_is_reported_with_the_reason(tmp_path):
    p, expr, value = _project(tmp_path, "late_global")
    r = p.build("worldmod")
    assert "workload code for f(::Int64) is not kept" in r.stderr
    assert "'LATE' is not defined" in r.stderr


def test_workload_that_only_adds_a_method_keeps_its_code(tmp_path):
    p = Proj(tmp_path)
    p.write("addmod", """
        import pkgimage as pk
        from pkgimage import Int64, Float64
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x * 2
        @pk.generic
        def g(x: Int64):
            return f(x) + 1
        @pk.precompilation(__name__)
        def _w():
            @pk.generic
            def h(x: Float64):          # a new function of the workload's own
                return x
            h(1.0)
            g(3)
    """)
    r = p.build("addmod")
    # h exists only in the workload: its code cannot be kept, and the build says so
    assert "workload code for addmod._w.<locals>.h" in r.stderr
    assert "g(" not in r.stderr and "f(" not in r.stderr
    out = p.run_json("import addmod\nv = addmod.g(3)\n"
                     "done({'v': v, 'compiled': compiled(), 'stats': stats()})")
    assert out["v"] == 7 and out["compiled"] is False

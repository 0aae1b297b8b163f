"""The seeds' worked examples (examples/) behave as the seeds say.

Each example is imported from the ``examples`` folder (put on ``sys.path`` by the fixture
below, never installed).  Examples whose state is process-global and order-dependent
(MethodInstances, backedges) are loaded as fresh module copies under unique names, so the
tests do not depend on each other's order; module N, which redefines ``+`` on Float64, runs
only in a subprocess.
"""

import importlib
import importlib.util
import io
import itertools
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import AbstractFloat, Float32, Float64, Int64, Vector

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

_counter = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def examples_on_path():
    sys.path.insert(0, EXAMPLES)
    yield
    try:
        sys.path.remove(EXAMPLES)
    except ValueError:
        pass


def fresh_copy(relpath, stem):
    """Load ``examples/relpath`` as a new module with a unique name (new generic functions,
    new MethodInstances), so a test sees a fresh session's state."""
    name = f"_pk_example_{stem}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, relpath))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def tree(mi):
    buf = io.StringIO()
    pk.print_tree(mi, file=buf)
    return buf.getvalue()


def trees(f):
    return {mi.spec_types: tree(mi) for mi in pk.methodinstances(f)}


def run_python(code, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([EXAMPLES, ROOT] + ([env["PYTHONPATH"]]
                                                            if env.get("PYTHONPATH") else []))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


# -- BackedgeDemo (seed 004) ----------------------------------------------------------------

T_DOUBLE_F64 = """\
MethodInstance for double(::Float64)
└─ MethodInstance for calldouble(::Vector[Float64])
   └─ MethodInstance for calldouble2(::Vector[Float64])
"""
T_DOUBLE_ABS = "MethodInstance for double(::AbstractFloat)\n"
T_DOUBLE_F32_NONE = "MethodInstance for double(::Float32)\n"
T_DOUBLE_F32 = """\
MethodInstance for double(::Float32)
└─ MethodInstance for calldouble(::Vector[Float32])
   └─ MethodInstance for calldouble2(::Vector[Float32])
"""
T_CALLDOUBLE_F64 = """\
MethodInstance for calldouble(::Vector[Float64])
└─ MethodInstance for calldouble2(::Vector[Float64])
"""
T_CALLDOUBLE_ABS = """\
MethodInstance for calldouble(::Vector[AbstractFloat])
└─ MethodInstance for calldouble2(::Vector[AbstractFloat])
"""
T_CALLDOUBLE_F32 = """\
MethodInstance for calldouble(::Vector[Float32])
└─ MethodInstance for calldouble2(::Vector[Float32])
"""


def test_backedge_demo_module_imports():
    import backedge_demo
    assert backedge_demo.double(3) == 6
    assert backedge_demo.double(1.5) == 3.0


def test_backedge_demo_interactive_session():
    m = fresh_copy("backedge_demo/__init__.py", "backedge")

    c64 = np.array([1.0])
    r = m.calldouble2(c64)
    assert r == 2.0 and pk.typeof(r) is Float64
    assert [mi.spec_types for mi in pk.methodinstances(m.double)] == [(Float64,)]
    assert [mi.spec_types for mi in pk.methodinstances(m.calldouble)] == [(Vector[Float64],)]
    assert [mi.spec_types for mi in pk.methodinstances(m.calldouble2)] == [(Vector[Float64],)]

    # Vector[AbstractFloat] holding a Float32: double is reached by run-time dispatch.
    cabs = Vector[AbstractFloat]([np.float32(1.0)])
    r = m.calldouble2(cabs)
    assert r == 2.0 and pk.typeof(r) is Float32          # Julia: 2.0f0
    mis = pk.methodinstances(m.double)
    assert [mi.spec_types for mi in mis] == [(Float64,), (AbstractFloat,), (Float32,)]
    assert [tree(mi) for mi in mis] == [T_DOUBLE_F64, T_DOUBLE_ABS, T_DOUBLE_F32_NONE]
    mis = pk.methodinstances(m.calldouble)
    assert [mi.spec_types for mi in mis] == [(Vector[Float64],), (Vector[AbstractFloat],)]
    assert [tree(mi) for mi in mis] == [T_CALLDOUBLE_F64, T_CALLDOUBLE_ABS]

    # A third, concrete container: Vector[Float32] links double(::Float32) all the way back.
    c32 = np.array([1.0], dtype=np.float32)
    assert isinstance(c32, np.ndarray) and pk.typeof(c32) is Vector[Float32]
    r = m.calldouble2(c32)
    assert r == 2.0 and pk.typeof(r) is Float32
    mis = pk.methodinstances(m.double)
    assert [mi.spec_types for mi in mis] == [(Float64,), (AbstractFloat,), (Float32,)]
    assert [tree(mi) for mi in mis] == [T_DOUBLE_F64, T_DOUBLE_ABS, T_DOUBLE_F32]
    assert trees(m.calldouble) == {(Vector[Float64],): T_CALLDOUBLE_F64,
                                   (Vector[AbstractFloat],): T_CALLDOUBLE_ABS,
                                   (Vector[Float32],): T_CALLDOUBLE_F32}


def test_backedge_demo_precompile_directives():
    """The package version of seed 004: three precompile directives on calldouble2 only
    create the same instances and backedges (nothing is called)."""
    m = fresh_copy("backedge_demo/__init__.py", "backedge_pc")
    assert pk.precompile(m.calldouble2, (Vector[Float32],)) is True
    assert pk.precompile(m.calldouble2, (Vector[Float64],)) is True
    assert pk.precompile(m.calldouble2, (Vector[AbstractFloat],)) is True
    assert trees(m.double) == {(Float32,): T_DOUBLE_F32, (Float64,): T_DOUBLE_F64,
                               (AbstractFloat,): T_DOUBLE_ABS}
    assert trees(m.calldouble) == {(Vector[Float64],): T_CALLDOUBLE_F64,
                                   (Vector[AbstractFloat],): T_CALLDOUBLE_ABS,
                                   (Vector[Float32],): T_CALLDOUBLE_F32}
    # Box 5: a precompile that cannot apply only returns False.
    assert pk.precompile(m.double, (pk.PyObject,)) is False


# -- DemoPkg (seed 004) ---------------------------------------------------------------------

def _import_file(path):
    name = f"_pk_demopkg_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_demopkg_source_shape():
    from demopkg import source
    text = source(3)
    assert text.count("@pk.struct") == 4 and "class DemoType3(AbstractDemoType):" in text
    assert "def DemoType0(d: AbstractDemoType):" in text
    assert "    d = DemoType0(x)\n    d = DemoType1(d)\n    d = DemoType2(d)\n" \
           "    d = DemoType3(d)\n    return d\n" in text
    assert "pk.precompile" not in text
    assert "pk.precompile(f, (Int64,))" in source(3, precompile=True)
    with pytest.raises(ValueError):
        source(-1)


@pytest.mark.parametrize("n", [5, 50])
def test_demopkg_generated_file(tmp_path, n):
    from demopkg import generate
    path = generate(n, tmp_path)
    assert path == os.path.join(str(tmp_path), "DemoPkg.py") and os.path.isfile(path)
    mod = _import_file(path)
    r = mod.f(5)
    assert type(r) is getattr(mod, f"DemoType{n}")
    assert r == getattr(mod, f"DemoType{n}")(5) and r.x == 5
    assert repr(r) == f"DemoType{n}(x=5)"
    assert mod.f(7).x == 7                                   # compiled once, called again
    # the constructor methods from any AbstractDemoType, also called from Python
    assert mod.DemoType3(mod.DemoType1(9)) == mod.DemoType3(9)
    assert pk.typeof(r).__pk_name__ == f"DemoType{n}"


def test_demopkg_precompile_variant(tmp_path):
    from demopkg import generate
    mod = _import_file(generate(5, tmp_path, name="DemoPkgPc", precompile=True))
    assert pk.methodinstance(mod.f, (Int64,)) is not None    # compiled at import
    assert mod.f(5) == mod.DemoType5(5)


@pytest.mark.parametrize("n", [5, 50])
def test_demopkg_exec_with_register_source(n):
    from demopkg import exec_module
    mod = exec_module(n)
    assert mod.__file__.startswith("<generated ")
    r = mod.f(5)
    assert type(r) is getattr(mod, f"DemoType{n}") and r.x == 5
    assert repr(r) == f"DemoType{n}(x=5)"
    (m,) = pk.methods(mod.f)
    assert m.file == mod.__file__


def test_demopkg_cli(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(EXAMPLES, "demopkg", "generate.py"),
                          "4", str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    path = tmp_path / "out" / "DemoPkg.py"
    assert out.stdout.strip() == str(path)
    from demopkg import source
    assert path.read_text() == source(4)
    out = subprocess.run([sys.executable, "-m", "demopkg", "2", str(tmp_path), "--name", "D2"],
                         cwd=EXAMPLES, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "D2.py").read_text() == source(2)


# -- Ring modules (seed 003), ordinary dispatch ---------------------------------------------

def test_ring_modules_are_separate():
    from ring import Ring_base, Ring_fma, Ring_int, Ring_Q
    assert Ring_int.addxy is Ring_base.addxy and Ring_Q.mulxy is Ring_base.mulxy
    assert Ring_fma.addxy is Ring_base.addxy
    mods = {m.module for m in pk.methods(Ring_base.addxy)}
    assert mods == {"ring.Ring_int", "ring.Ring_Q", "ring.Ring_fma"}


def test_ring_fma_int():
    from ring import foo_int, ring_fma
    r = ring_fma(foo_int(3), foo_int(2), foo_int(5))
    assert r == foo_int(13) and type(r) is foo_int and r.x == 13


def test_ring_fma_rational():
    from ring import foo_Q, ring_fma
    Q = pk.Rational[Int64]
    r = ring_fma(foo_Q(Q(3, 1)), foo_Q(2), foo_Q(Q(5, 1)))   # foo_Q(2) converts, as in Julia
    assert r == foo_Q(Q(13, 1)) and type(r) is foo_Q
    assert (r.x.num, r.x.den) == (13, 1) and repr(r.x) == "13//1"
    r = ring_fma(foo_Q(Q(1, 2)), foo_Q(Q(2, 3)), foo_Q(Q(3, 4)))
    assert r == foo_Q(Q(1, 1))


def test_ring_fma_unimplemented():
    from ring import foo_int, foo_Q, ring_fma
    # ring_fma(x, y, z) = addxy(x, mulxy(y, z)): mulxy runs first, so its fallback raises.
    with pytest.raises(pk.ErrorException) as ei:
        ring_fma(2.2, 3.2, 2.3)
    assert str(ei.value) == "mulxy unimplemented in context for args (Float64, Float64)"
    with pytest.raises(pk.ErrorException,
                       match=re.escape("addxy unimplemented in context for args "
                                       "(foo_int, foo_Q)")):
        ring_fma(foo_int(1), foo_Q(2), foo_Q(3))
    # the rings still work after the errors
    assert ring_fma(foo_int(1), foo_int(2), foo_int(3)) == foo_int(7)


# -- PackageThatPrints (seed 004, Box 1) -----------------------------------------------------

def test_package_that_prints_import(capsys):
    sys.modules.pop("package_that_prints", None)
    mod = importlib.import_module("package_that_prints")
    assert capsys.readouterr().out == "This prints only during precompilation\n"
    mod.__init__()
    assert capsys.readouterr().out == "This prints every time the package is loaded\n"


# -- modules M and N (seed 003) --------------------------------------------------------------

def test_module_n_changes_module_m_in_subprocess():
    out = run_python("""
        import pkgimage as pk
        from module_m_n import M
        print("before", M.f(1.0, 2.0))
        mi = pk.methodinstances(M.f)[0]
        ci = mi.cache
        from module_m_n import N
        print("invalidated", not ci.valid)
        print("after", M.f(1.0, 2.0))
        print("python", 1.0 + 2.0)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["before 3.0", "invalidated True", "after 0.0",
                                       "python 3.0"]


def test_module_m_alone():
    from module_m_n import M
    assert M.f(1.0, 2.0) == 3.0
    assert "module_m_n.N" not in sys.modules
    with pytest.raises(pk.MethodError):
        M.f(1, 2)

"""Keyword arguments in calls of generic functions (``solve(a, b, tol=1e-6)``): dispatch is on
positional arguments, as in Julia, so a call is made positional from the methods' parameter
names, with the declared defaults filling the parameters left out between -- when compiling
(a direct call) and for calls from Python alike."""

import pytest

import pkgimage as pk

SOURCE = '''
import pkgimage as pk


@pk.generic
def solve(a: float, b: float, maxiter: int = 50, tol: float = 1e-8):
    return a * b + maxiter + tol * 1e8


@pk.generic
def user(x: float):
    return (solve(x, 2.0, tol=1e-7), solve(x, b=3.0), solve(x, 1.0, maxiter=1, tol=0.0),
            solve(a=x, b=1.0), solve(x, 2.0, tol=1e-7, maxiter=2))
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("kw"), "keyword_programs", SOURCE)


def test_keyword_calls_in_compiled_code_give_pythons_answer(mod):
    assert mod.user(1.5) == mod.user.methods[0].pyfunc(1.5)


def test_keyword_calls_from_python_dispatch_positionally(mod):
    assert mod.solve(1.0, 2.0, tol=1e-6) == 152.0
    assert mod.solve(1.0, b=2.0, maxiter=3) == 6.0
    assert mod.solve(b=2.0, a=4.0) == 59.0


def test_unknown_keyword_is_a_clear_type_error(mod, load_module):
    with pytest.raises(TypeError, match="no method with parameters named 'nope'"):
        mod.solve(1.0, 2.0, nope=1)
    m = load_module("""
import pkgimage as pk
@pk.generic
def g(x: float, y: float = 1.0):
    return x + y
@pk.generic
def h(x: float):
    return g(x, z=2.0)
""")
    with pytest.raises(pk.CompileError, match="no method with parameters named 'z'"):
        m.h(1.0)


def test_keyword_only_parameters_with_defaults(load_module):
    """``def solve(a, b, *, tol=1e-8, maxiter=50)``: dispatch on the positional arguments, the
    keyword-only ones given by name (or their defaults), from Python and compiled code, as
    plain Python answers."""
    src = """
import pkgimage as pk
@pk.generic
def solve(a: float, b: float, *, tol: float = 1e-8, maxiter: int = 50):
    x = a
    for i in range(maxiter):
        x = x - (x * x - b) / (2 * x)
        if abs(x * x - b) < tol:
            return x, i
    return x, maxiter
@pk.generic
def use(b: float):
    return solve(1.0, b, tol=1e-3), solve(1.0, b), solve(1.0, b, maxiter=2, tol=0.5)
"""
    m = load_module(src)
    plain = {}
    exec(src.replace("@pk.generic\n", "").replace("import pkgimage as pk\n", ""), plain)
    for kw in ({}, {"tol": 1e-2}, {"maxiter": 3}, {"maxiter": 1, "tol": 10.0}):
        assert m.solve(1.0, 2.0, **kw) == plain["solve"](1.0, 2.0, **kw)
    assert m.use(2.0) == plain["use"](2.0)


def test_a_keyword_only_parameter_without_default_after_defaults_is_refused(load_module):
    with pytest.raises(pk.CompileError, match="keyword-only parameter without a default"):
        load_module("""
import pkgimage as pk
@pk.generic
def f(a, b=1, *, c):
    return a + b + c
""")


KWONLY = '''
import pkgimage as pk


@pk.generic
def f(x, *, tol=1e-8):
    return x + tol


@pk.generic
def g(x: float, *, scale: float):
    return x * scale


@pk.generic
def by_name(x: float):
    return f(x, tol=0.5) + f(x) + g(x, scale=2.0)


@pk.generic
def by_position(x: float):
    return f(x, 2.0)


@pk.generic
def by_position_g(x: float):
    return g(x, 3.0)


@pk.generic
def by_position_any(xs: list):
    return f(xs[0], 2.0)


@pk.generic
def by_name_any(xs: list):
    return f(xs[0], tol=0.25)
'''

KWONLY_CASES = [("f", (1.0, 2.0)), ("f", (1, 2.0)), ("g", (1.0, 3.0)),
                ("by_position", (1.0,)), ("by_position_g", (1.0,)),
                ("by_position_any", ([1.0],))]


def _plain(src):
    ns = {}
    exec(src.replace("@pk.generic\n", "").replace("import pkgimage as pk\n", ""), ns)
    return ns


def _error_of(fn, args):
    try:
        fn(*args)
    except TypeError as e:
        return str(e)
    return None


@pytest.mark.parametrize("name, args", KWONLY_CASES)
def test_keyword_only_parameters_are_not_filled_by_position(load_module, name, args):
    """``f(1, 2.0)`` for ``def f(x, *, tol=1e-8)`` is Python's TypeError naming ``f``, from
    Python and from compiled code (known when compiling, or dispatched at run time)."""
    m = load_module(KWONLY)
    plain = _plain(KWONLY)
    want = _error_of(plain[name], args)
    assert want is not None and "positional argument" in want
    for _ in range(2):                      # (the second call: nothing cached lets it through)
        with pytest.raises(TypeError) as e:
            getattr(m, name)(*args)
        assert str(e.value) == want


def test_keyword_only_parameters_by_name_still_work_after_a_positional_error(load_module):
    m = load_module(KWONLY)
    plain = _plain(KWONLY)
    with pytest.raises(TypeError):
        m.f(1.0, 2.0)
    assert m.f(1.0, tol=2.0) == plain["f"](1.0, tol=2.0) == 3.0
    with pytest.raises(TypeError):
        m.f(1.0, 2.0)                        # (the keyword call cached nothing it may use)
    assert m.f(1.0) == plain["f"](1.0)
    assert m.by_name(1.5) == plain["by_name"](1.5)
    assert m.by_name_any([1.5]) == plain["by_name_any"]([1.5])
    assert m.by_name_any([2]) == plain["by_name_any"]([2])
    assert m.g(2.0, scale=4.0) == 8.0


def test_a_method_added_later_that_takes_the_arguments_by_position_is_called(load_module):
    m = load_module(KWONLY)
    with pytest.raises(TypeError):
        m.by_position(1.0)

    @m.f.method
    def _(x: float, y: float):
        return x * y
    assert m.by_position(1.5) == 3.0
    assert m.f(1.5, 2.0) == 3.0


def test_keyword_only_parameters_without_the_compiler(tmp_path):
    """``PKGIMAGE_JIT=0``: method bodies run as Python; the same errors and answers."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    (tmp_path / "kwonly_mod.py").write_text(KWONLY)
    probe = '''
import json, kwonly_mod as m
out = {}
for name, args in %r:
    try:
        getattr(m, name)(*args)
        out[name + repr(args)] = None
    except TypeError as e:
        out[name + repr(args)] = str(e)
out["by_name"] = m.by_name(1.5)
out["kw"] = m.f(1.0, tol=2.0)
print(json.dumps(out))
''' % (KWONLY_CASES,)
    env = dict(os.environ, PKGIMAGE_JIT="0", PKGIMAGE_AUTO="0",
               PKGIMAGE_CACHE=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(__file__).parent.parent)]))
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    import json
    got = json.loads(p.stdout.strip().splitlines()[-1])
    plain = _plain(KWONLY)
    for name, args in KWONLY_CASES:
        assert got[name + repr(args)] == _error_of(plain[name], args)
    assert got["by_name"] == plain["by_name"](1.5)
    assert got["kw"] == 3.0

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

"""Keyword arguments in a call of a function value (``f(x, shift=3.0)`` with ``f`` passed
in): a generic function's or closure's keywords are bound to its parameters as a call by
name binds them, defaults filled in, and the call is a direct call of the method that makes
(Julia's specialisation on function arguments); a Python callable or a value of unknown
type is called through Python with the keywords.  Answers are plain Python's."""

import textwrap

import pytest

SOURCE = '''
import pkgimage as pk


@pk.generic
def scale(x: float, factor: float = 2.0, shift: float = 0.0):
    return x * factor + shift


@pk.generic
def labelled(x: float, *, tol: float = 1e-3, name: str = "k"):
    return name + ":" + str(x + tol)


@pk.generic
def apply_shift(f, x: float):
    return f(x, shift=3.0)


@pk.generic
def apply_both(f, x: float):
    return f(x, shift=1.0, factor=-1.0)


@pk.generic
def apply_tol(f, x: float):
    return f(x, tol=0.5)


@pk.generic
def lambdas(x: float, k: float):
    g = lambda a, b=1.0, c=0.0: a * b + c + k
    return g(x, 2.0, c=2.0) + g(x, b=3.0, c=1.0) + g(a=x)


@pk.generic
def each(fs: list, x: float):
    s = 0.0
    for f in fs:
        s += f(x, shift=1.0)
    return s
'''


def pyshift(x, factor=1.0, shift=0.0):
    return x - shift


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    from conftest import import_source
    from plaintools import import_plain
    d = tmp_path_factory.mktemp("kwvalues")
    return import_source(d, "kwvalues_pk", SOURCE), import_plain(d, "kwvalues_plain", SOURCE)


def test_keywords_of_a_generic_function_passed_in_bind_as_by_name(mods):
    m, p = mods
    assert m.apply_shift(m.scale, 1.5) == p.apply_shift(p.scale, 1.5) == 6.0
    assert m.apply_both(m.scale, 2.0) == p.apply_both(p.scale, 2.0) == -1.0
    assert m.apply_tol(m.labelled, 1.0) == p.apply_tol(p.labelled, 1.0) == "k:1.5"


def test_a_call_of_a_passed_function_with_keywords_is_a_direct_call(mods):
    """Specialised on the function passed: the instance's call is a static call of
    ``scale``'s method (no run-time dispatch, no Python call)."""
    import pkgimage as pk
    from pkgimage.compiler import inference as INF
    from pkgimage.compiler import instances as INS
    m, _ = mods
    m.apply_shift(m.scale, 1.0)
    (mi,) = [mi for mi in INS.SPECIALIZATIONS[m.apply_shift.methods[0]].values()
             if mi.spec_types[0] is pk.typeof(m.scale)]
    calls = [i for i in mi.cache.stmt_info.values() if isinstance(i, INF.StaticCall)
             and i.kwplan is not None]
    assert [c.mi.method.function for c in calls] == [m.scale]
    assert calls[0].kwplan == (("arg", 1), ("const", 2.0), ("arg", 2))


def test_keywords_of_lambdas_bind_to_their_parameters(mods):
    m, p = mods
    assert m.lambdas(2.0, 10.0) == p.lambdas(2.0, 10.0)


def test_python_callables_and_values_of_unknown_type_get_the_keywords_through_python(mods):
    m, p = mods
    assert m.apply_shift(pyshift, 1.5) == p.apply_shift(pyshift, 1.5) == -1.5
    assert m.apply_shift(lambda x, shift=0: x + shift, 1.0) == 4.0
    assert m.each([m.scale, pyshift], 2.0) == p.each([p.scale, pyshift], 2.0)


def test_a_keyword_no_method_has_is_pythons_type_error_when_the_call_runs(mods):
    m, p = mods
    with pytest.raises(TypeError, match=r"labelled\(\) has no method with parameters named "
                                        r"'shift'"):
        m.apply_shift(m.labelled, 1.0)
    with pytest.raises(TypeError):
        p.apply_shift(p.labelled, 1.0)


def test_a_call_that_cannot_bind_is_no_error_where_it_is_never_run(load_module):
    """CPython drops an unreachable branch's code (``if 2.0: return ...``), so that lambda
    has no function: the keyword call in it must not stop the method compiling."""
    m = load_module('''
import pkgimage as pk

@pk.generic
def dead(x: int):
    if 2.0:
        return x + 1
    g = lambda a, b=1, c=0: a * b + c
    return g(x, qz=2)

@pk.generic
def skip(x: int, run: bool):
    g = lambda a, b=1, c=0: a * b + c
    if run:
        return g(x, c=2)
    return g(x)
''')
    assert m.dead(3) == 4
    assert m.skip(3, False) == 3


def test_a_lambda_keyword_after_a_left_out_default_takes_the_default_the_lambda_holds(
        load_module):
    """A lambda's defaults are values it captured when it was made (``c=n``): a keyword
    after a left-out one gets the left-out one from the tuple the closure holds -- in
    compiled code (native or a Python tuple of them) and when Python calls the lambda."""
    src = '''
import pkgimage as pk

@pk.generic
def skip(x: float, n: int):
    g = lambda a, b=1.5, c=n: a * b + c
    h = lambda a, b="s", c=2: b * c + str(a)
    return (g(x, c=2.0) + g(x, c=3) + g(a=x, c=1), h(1, c=3), h(a=2))

@pk.generic
def maker(n: int):
    return lambda a, b=n, c=10: a * b + c
'''
    m = load_module(src)
    ns = {}
    exec(src.replace("@pk.generic", "").replace("import pkgimage as pk", ""), ns)
    assert m.skip(2.0, 4) == ns["skip"](2.0, 4) == (15.0, "sss1", "ss2")
    g = m.maker(3)
    assert g(2, c=1) == ns["maker"](3)(2, c=1) == 7


def test_keyword_calls_of_values_load_from_an_image_and_run_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("kwv_img", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _w():
            apply_shift(scale, 1.0); apply_both(scale, 1.0); apply_tol(labelled, 1.0)
            lambdas(1.0, 2.0)
        """))
    proj.build("kwv_img")
    out = proj.run_json("""
import kwv_img as m
with Tripwire() as tw:
    res = [m.apply_shift(m.scale, 1.5), m.apply_both(m.scale, 2.0),
           m.apply_tol(m.labelled, 1.0), m.lambdas(2.0, 10.0)]
done({"res": res, "compiled": tw.total, "heavy": heavy(), "stats": stats()})
""")
    assert out["res"] == [6.0, -1.0, "k:1.5", 45.0], out
    assert out["compiled"] == 0, out
    assert out["heavy"] == [], out          # (neither llvmlite nor the compiler loaded)
    assert out["stats"]["discarded"] == [], out

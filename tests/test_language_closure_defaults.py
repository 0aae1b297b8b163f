"""Lambdas and nested ``def``s with default parameter values in compiled code, called with
and without their defaults, differentially against the same source run as plain Python.

Python evaluates a lambda's defaults when the lambda is made, in the scope that makes it
(``lambda x, i=i: x + i`` in a loop keeps each ``i``: the classic way to capture a loop
variable's current value), so a compiled one holds them as a closure holds its captures."""

import pickle

import pytest

import pkgimage as pk
from pkgimage.settings import settings
from plaintools import compiled_and_plain, typed

SOURCE = '''
import pkgimage as pk


@pk.generic
def call1(f, x):
    return f(x)


@pk.generic
def call2(f, x, y):
    return f(x, y)


@pk.generic
def constant_default(x: int):
    f = lambda y, k=3: y + k
    return f(x), f(x, 10), call1(f, x), call2(f, x, 0.5)


@pk.generic
def captured_default(n: int):
    m = n * 2
    f = lambda y, k=m, s=1.5: (y + k) * s
    return f(1), f(1, 2), f(1, 2, 3), call1(f, 4), call2(f, 4, 5)


@pk.generic
def loop_values(n: int):
    fs = []
    for i in range(n):
        fs.append(lambda x, i=i: x + i)
    late = []
    for i in range(n):
        late.append(lambda x: x + i)
    return [f(10) for f in fs], [f(10) for f in late], [f(10, 100) for f in fs]


@pk.generic
def comprehension_values(n: int):
    fs = [lambda x, j=j: x * j for j in range(n)]
    return [f(3) for f in fs]


@pk.generic
def nested_def(n: int, scale: float):
    def g(x, k=n, name="v"):
        return name + str(x * k * scale)
    return g(2), g(2, 3), g(2, 3, "w"), call1(g, 5)


@pk.generic
def default_expression_evaluated_once(n: int):
    k = n
    f = lambda x, d=k * 10: x + d
    k = 1000
    return f(1), k


@pk.generic
def defaults_of_several_types(x: float):
    f = lambda a, b=2, c=0.5, d="s", e=None: (a * b + c, d, e is None)
    return f(x), f(x, 3), f(x, 3, 1.0, "t", 4)


@pk.generic
def make_adder(n: int):
    return lambda x, k=n: x + k


@pk.generic
def sorted_with_default_key(xs: list[float], c: float):
    return sorted(xs, key=lambda v, c=c: abs(v - c))
'''


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return compiled_and_plain(tmp_path_factory.mktemp("closure_defaults"),
                              "closure_defaults", SOURCE)


CASES = [("constant_default", (4,)), ("captured_default", (3,)), ("loop_values", (3,)),
         ("comprehension_values", (4,)), ("nested_def", (3, 0.5)),
         ("default_expression_evaluated_once", (7,)), ("defaults_of_several_types", (1.5,)),
         ("sorted_with_default_key", ([1.0, 5.0, 2.5, -3.0], 2.0))]


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_defaults_give_plain_pythons_answers(mods, name, args):
    mod, plain = mods
    assert typed(getattr(mod, name)(*args)) == typed(getattr(plain, name)(*args))


def test_a_closure_with_defaults_returned_to_python_takes_them_or_arguments(mods):
    mod, plain = mods
    add, padd = mod.make_adder(5), plain.make_adder(5)
    assert add(1) == padd(1) == 6 and add(1, 2) == padd(1, 2) == 3
    assert mod.call1(add, 2) == 7 and mod.call2(add, 2, 2) == 4


def test_too_few_or_too_many_arguments_are_pythons_type_errors(load_module):
    src = """
import pkgimage as pk
@pk.generic
def few(n: int):
    f = lambda x, y, k=n: x + y + k
    return f(1)
@pk.generic
def many(n: int):
    f = lambda x, k=n: x + k
    return f(1, 2, 3)
"""
    m = load_module(src)
    for name in ("few", "many"):
        with pytest.raises(TypeError) as want:
            getattr(m, name).methods[0].pyfunc(1)
        with pytest.raises((TypeError, pk.MethodError)) as got:
            getattr(m, name)(1)
        assert isinstance(got.value, TypeError), got.value
        if name == "few":
            assert str(got.value) == str(want.value)


@pytest.mark.skipif(not settings.jit, reason="PKGIMAGE_JIT=0: closures are plain Python "
                                            "functions")
def test_defaults_are_held_as_captured_values(mods):
    """The defaults are part of the closure value: its type names their types (so a call
    is a direct call), and it pickles with them."""
    mod, _ = mods
    add = mod.make_adder(5)
    t = pk.typeof(add)
    assert pk.isconcrete(t) and t is pk.typeof(mod.make_adder(6))
    assert add == mod.make_adder(5) and add != mod.make_adder(6)
    back = pickle.loads(pickle.dumps(add))
    assert back(1) == 6 and back(1, 1) == 2


def test_closures_with_defaults_load_from_an_image_without_compiling(tmp_path):
    import textwrap
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("clodef", "__pkgimage__ = True\n" + SOURCE + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            captured_default(2)
            loop_values(2)
            nested_def(2, 1.0)
            make_adder(1)(2)
            make_adder(1)(2, 3)
        """))
    assert proj.build("clodef").returncode == 0
    out = proj.run_json("""
import clodef
with Tripwire() as tw:
    a = clodef.make_adder(5)
    res = [clodef.captured_default(4), clodef.loop_values(3), clodef.nested_def(3, 0.5),
           a(1), a(1, 2)]
done({"res": res, "compiles": tw.total})
""")
    want = [[13.5, 4.5, 9, 18.0, 13.5], [[10, 11, 12], [12, 12, 12], [110, 110, 110]],
            ["v3.0", "v3.0", "w3.0", "v7.5"], 6, 3]
    assert out["res"] == want and out["compiles"] == 0, out

"""``zip`` and ``enumerate`` objects passed straight to what walks them once, and
``dict(pairs)``, as Python programs write them: ``dict(zip(keys, values))``,
``sorted(zip(a, b))``, ``enumerate(zip(u, w))``, ``max(enumerate(v), key=...)``.  Each runs
compiled and as plain Python (the same text) and must give the same answer, values and
types.  A zip object kept as a value -- and any Python object compiled code has no type for
(a generator passed in, a ``frozenset``, a NumPy ``Generator``) -- is Python's own object,
walked one item at a time as Python's ``for`` walks it (``compiler/pyintr.py``): walked
twice, it is empty the second time, as in Python."""

import pytest

import pkgimage as pk
from plaintools import compiled_and_plain

SOURCE = '''
import pkgimage as pk


@pk.generic
def pairs_dict(a, b):
    p = [(x, y) for x, y in zip(a, b)]
    return dict(p)


@pk.generic
def zip_dict(a, b):
    return dict(zip(a, b))


@pk.generic
def enum_dict(a, b):
    return dict(enumerate(b))


@pk.generic
def dict_copy(a, b):
    d = {x: y for x, y in zip(a, b)}
    e = dict(d)
    e[-1.0] = 0
    return d, e


@pk.generic
def bad_pairs(a, b):
    return dict([(x, y, x) for x, y in zip(a, b)])


@pk.generic
def sorted_zip(a, b):
    return sorted(zip(b, a))


@pk.generic
def enum_zip(a, b):
    s = 0.0
    for i, (x, y) in enumerate(zip(a, b)):
        s += i * x * y
    return s


@pk.generic
def max_enum(a, b):
    return max(enumerate(a), key=lambda t: t[1])


@pk.generic
def min_zip(a, b):
    return min(zip(b, a))


@pk.generic
def list_enum(a, b):
    return list(enumerate(a, 1)), list(zip(a, b, a))
'''

ARGS = [([1.0, 2.5, 3.0], [4, 5, 6, 7]), ([3.0, 1.0], [9, 8]), ([0.5, 0.5, 2.0], [1, 1, 0])]
NAMES = ["pairs_dict", "zip_dict", "enum_dict", "dict_copy", "sorted_zip", "enum_zip",
         "max_enum", "min_zip", "list_enum"]


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return compiled_and_plain(tmp_path_factory.mktemp("iters"), "iter_programs", SOURCE)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("args", ARGS, ids=["a", "b", "c"])
def test_iterators_walked_once_give_plain_pythons_answer(mods, name, args):
    compiled, plain = mods
    got, want = getattr(compiled, name)(*args), getattr(plain, name)(*args)
    assert got == want and type(got) is type(want)


def test_dict_of_a_list_of_pairs_is_a_dict_not_a_copy_of_the_list(mods):
    # (``dict(pairs)`` was lowered as ``copy(pairs)``: it returned the list)
    compiled, _ = mods
    assert compiled.pairs_dict([1.0, 2.0], [3, 4]) == {1.0: 3, 2.0: 4}


def test_dict_of_items_that_are_not_pairs_is_pythons_value_error(mods):
    compiled, plain = mods
    with pytest.raises(ValueError) as want:
        plain.bad_pairs([1.0], [2])
    with pytest.raises(ValueError) as got:
        compiled.bad_pairs([1.0], [2])
    assert str(got.value) == str(want.value)


def test_zip_object_kept_as_a_value_is_pythons_iterator(load_module):
    """It was a compile error (a list standing for it would not be empty when walked a
    second time); it is Python's zip object now, and gives Python's answer."""
    mod = load_module('''
        import pkgimage as pk

        @pk.generic
        def twice(a, b):
            z = zip(a, b)
            return list(z), list(z)
    ''', filename="/virtual/zipvalue.py")
    assert mod.twice([1.0], [2.0]) == ([(1.0, 2.0)], [])


PYTHON_OBJECTS = '''
import itertools
import math
import time
import pkgimage as pk


@pk.generic
def kept(a: list, b: list, s: str):
    z = zip(a, b)
    e = enumerate(b)
    f = frozenset(a)
    q, r = divmod(17, 5)
    t = tuple(a)
    return (sorted(e), [x * y for x, y in z], 2 in f, len(f), q, r, t, t[1:],
            "".join(reversed(s)), math.isclose(0.1 + 0.2, 0.3), sum(f), max(f), min(f))


@pk.generic
def interleaved(items, log: list):
    total = 0
    for x in items:
        log.append(("body", x))
        total += x
    return total


@pk.generic
def first_over(limit: int):
    for k in itertools.count(1):
        if k * k > limit:
            return k
    return -1


@pk.generic
def draws(g):
    return g.random(), g.integers(0, 10), g.normal(0.0, 1.0)


@pk.generic
def clock():
    return time.perf_counter() > 0.0


@pk.generic
def arith(x, k: int, y: float):
    s = x * k + 1
    s += y
    return (s, k - x, x / 2, x // 1, x % 1, x ** 2, -x, abs(x), x < y, x == x, y >= x,
            bool(x), "%s" % x)
'''


@pytest.fixture
def pyobjs(load_module):
    return load_module(PYTHON_OBJECTS)


def test_python_library_functions_and_objects_give_pythons_answers(pyobjs):
    """``divmod``, ``tuple``, ``reversed``, ``frozenset``, ``math.isclose``,
    ``time.perf_counter``: Python's own C functions and classes, called through Python on
    the boxed values; their results walked, measured, indexed and sorted by Python."""
    args = ([1, 2, 3], [4, 5, 6], "abc")
    assert pyobjs.kept(*args) == pyobjs.kept.methods[0].pyfunc(*args)
    assert pyobjs.clock() is True


def test_a_generator_is_walked_one_item_at_a_time_as_python_walks_it(pyobjs):
    """Items are taken right before the body that uses them: a generator's side effects
    interleave with the loop body's exactly as in plain Python."""
    def gen(log):
        for k in range(4):
            log.append(("gen", k))
            yield k
        log.append(("gen", "done"))
    got, want = [], []
    assert pyobjs.interleaved(gen(got), got) == \
        pyobjs.interleaved.methods[0].pyfunc(gen(want), want) == 6
    assert got == want and got[:3] == [("gen", 0), ("body", 0), ("gen", 1)]


def test_an_endless_iterator_runs_as_long_as_the_loop_does(pyobjs):
    assert pyobjs.first_over(50) == 8


def test_a_numpy_generators_methods_are_called_on_it(pyobjs):
    """``g.random()``, ``g.integers(0, 10)``, ``g.normal(0.0, 1.0)`` on a
    ``np.random.Generator`` passed in (issue 13): its own methods, its own stream."""
    import numpy as np
    got = pyobjs.draws(np.random.default_rng(5))
    want = pyobjs.draws.methods[0].pyfunc(np.random.default_rng(5))
    assert got == want


@pytest.mark.parametrize("x", ["fraction", "decimal", "floatsub"])
def test_pythons_operators_on_a_python_object_give_pythons_answers(pyobjs, x):
    """``x * k + 1``, ``-x``, ``x < y`` with ``x`` a ``Fraction``, a ``Decimal``, a NumPy
    scalar or a float subclass (a ``PyObject``): Python's operators (there was no method
    ``mul(::Int64, ::PyObject)``), Python's answers and Python's errors."""
    import decimal
    import fractions
    value = {"fraction": fractions.Fraction(7, 3), "decimal": decimal.Decimal("2.5"),
             "floatsub": type("F", (float,), {})(3.5)}[x]
    pyfunc = pyobjs.arith.methods[0].pyfunc
    if x == "decimal":                       # (Decimal + float is Python's TypeError)
        with pytest.raises(TypeError):
            pyfunc(value, 3, 0.5)
        with pytest.raises(TypeError):
            pyobjs.arith(value, 3, 0.5)
        return
    assert repr(pyobjs.arith(value, 3, 0.5)) == repr(pyfunc(value, 3, 0.5))


def test_iterating_a_python_object_that_is_not_iterable_is_pythons_type_error(pyobjs):
    with pytest.raises(TypeError, match="not iterable"):
        pyobjs.interleaved(object(), [])


def test_python_library_calls_load_from_an_image_without_compiling(tmp_path):
    """The functions and classes are linked by their module and name (constant kind
    ``pyattr``), the walk over a Python object by its intrinsic: an image of such code loads
    in a fresh process and runs without compiling."""
    import textwrap
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("pyobj_img", "__pkgimage__ = True\n" + textwrap.dedent(PYTHON_OBJECTS) +
               textwrap.dedent("""
        @pk.precompilation(__name__)
        def _w():
            kept([1, 2], [3, 4], "ab")
            interleaved(iter([1, 2]), [])
            first_over(10)
        """))
    proj.build("pyobj_img")
    out = proj.run_json("""
import pyobj_img
with Tripwire() as tw:
    got = [pyobj_img.kept([1, 2, 3], [4, 5, 6], "abc"), pyobj_img.first_over(50)]
    log = []
    got.append(pyobj_img.interleaved((x for x in [5, 6]), log))
want = [pyobj_img.kept.methods[0].pyfunc([1, 2, 3], [4, 5, 6], "abc"), 8, 11]
done({"same": repr(got) == repr(want), "compiled": tw.total, "stats": stats()})
""")
    assert out["same"], out
    assert out["compiled"] == 0, out
    assert out["stats"]["discarded"] == [], out

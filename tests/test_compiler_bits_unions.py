"""Variables whose type is a small union of bits types (``total = 0`` then ``total += x``,
``best = None`` then ``best = i``) are held unboxed as {tag, bits} in native code
(``compiler/unions.py``).  Each program runs compiled and as plain Python and must give the
same value *and type* (an empty loop leaves the int 0, not 0.0), whichever member the
variable holds at each point; the native code must not box the accumulator in the loop."""

import numpy as np
import pytest
from plaintools import typed

import pkgimage as pk
from pkgimage import types as T

SOURCE = '''
import pkgimage as pk
from pkgimage import Float64, Int64, List, Real


@pk.generic
def total(v: List[Float64]):
    s = 0
    for x in v:
        s += x
    return s


@pk.generic
def total_times(v: List[Float64], k: int):
    s = 0
    for x in v:
        s = s + x * k
    t = s                    # a copy of the tagged value
    return t, s * 2


@pk.generic
def last_big(v: List[Int64], limit: int):
    best = None
    for i, x in enumerate(v):
        if x > limit:
            best = i
    if best is None:
        return -1
    return best


@pk.generic
def maybe(v: List[Int64], limit: int):
    best = None
    for x in v:
        if x > limit:
            best = x
    return best


@pk.generic
def flag_or_count(n: int):
    r = False
    for i in range(n):
        if i % 3 == 2:
            r = i
    return r


@pk.generic
def truthy(n: int):
    r = None
    if n > 0:
        r = n > 5
    if r:
        return "yes"
    return "no"


@pk.generic
def mixed_elements(v: list):
    s = 0
    for i in range(len(v)):
        s = s + v[i]
    return s


@pk.generic
def through_python(v: List[Float64]):
    s = 0
    for x in v:
        s += x
    return str(s) + "|" + repr(s)


@pk.generic
def in_try(v: List[Float64], d: float):
    s = 0
    try:
        for x in v:
            s += x / d
    except ZeroDivisionError:
        return s, -1
    return s, 1


@pk.generic
def signed(x: int):
    y = None
    if x != 0:
        y = -x
    z = 0.5
    if x > 100:
        z = x
    return y, z
'''

CASES = [("total", ([1.5, 2.25, 3.0],)), ("total", ([],)),
         ("total_times", ([1.5, 2.5], 3)), ("total_times", ([], 3)),
         ("last_big", ([1, 9, 3, 12, 2], 5)), ("last_big", ([1, 2], 5)),
         ("maybe", ([1, 9, 3], 5)), ("maybe", ([1, 2], 5)),
         ("flag_or_count", (0,)), ("flag_or_count", (7,)),
         ("truthy", (0,)), ("truthy", (3,)), ("truthy", (9,)),
         ("mixed_elements", ([1, 2.5, True],)), ("mixed_elements", ([3, 4],)),
         ("through_python", ([1.0, 2.0],)), ("through_python", ([],)),
         ("in_try", ([1.0, 2.0], 2.0)), ("in_try", ([1.0, 2.0], 0.0)), ("in_try", ([], 0.0)),
         ("signed", (0,)), ("signed", (-7,)), ("signed", (101,))]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("bitsunions"), "bits_union_programs", SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_union_variables_give_plain_pythons_value_and_type(mod, name, args):
    fn = getattr(mod, name)
    want = fn.methods[0].pyfunc(*args)
    assert typed(fn(*args)) == typed(want)


def test_union_value_of_a_class_not_its_members_own_is_read_by_its_type(mod):
    """A NumPy int in a list of ints and floats is an Int64 value whose class is not
    ``int``: it takes the slow path that asks for its type, and gives the same number
    (compiled code's results are Python's own numbers, not NumPy scalars)."""
    assert mod.mixed_elements([np.int64(3), 2.5]) == 5.5
    assert mod.mixed_elements([2.5, np.int64(3), 1]) == 6.5


def test_accumulator_that_turns_float_is_not_boxed_in_the_loop(mod):
    """The loop's ``s += x`` must not allocate a Python float per iteration: the native
    code of ``total`` boxes only where the union leaves (the return)."""
    mod.total([1.0])
    llvm = pk.code_llvm(mod.total, (T.list_of(T.Float64),))
    body = llvm[llvm.index("define"):]
    body = body[:body.index("\n}\n")]
    assert body.count("PyFloat_FromDouble") == 1, body      # (the return's)


def test_union_variable_is_boxed_for_a_dynamic_callee(load_module):
    """A tagged variable passed where a boxed value is needed (a plain Python callable)
    gets the Python object of the member it holds."""
    m = load_module('''
import pkgimage as pk

@pk.generic
def f(cb, n: int):
    s = 0
    for i in range(n):
        s += 0.5
    return cb(s)
''')
    assert m.f(lambda x: (type(x), x), 0) == (int, 0)
    assert m.f(lambda x: (type(x), x), 3) == (float, 1.5)

"""Loops and tests as Python programmers write them: ``for/while ... else``, ``enumerate``
and ``zip`` with tuple targets, nested unpacking in ``for`` targets, ``isinstance`` and
``is None``.  Each program runs compiled and as plain Python (the same bodies) and must give
the same answer, values and types."""

import pytest

import pkgimage as pk

SOURCE = '''
import pkgimage as pk
from pkgimage import Float64, Int64, List, Real


@pk.generic
def loops(v: List[Float64], n: int):
    out = []
    for i, x in enumerate(v):
        out.append(i * x)
    for i, x in enumerate(v, 10):
        out.append(i + x)
    for a, b in zip(v, out):
        out.append(a - b)
    for k in range(n):
        if k == 3:
            break
    else:
        out.append(-1.0)
    j = 0
    while j < n:
        j += 1
        if j > 4:
            break
    else:
        out.append(-3.0)
    for p, (q, r) in [(1, (2, 3.0)), (4, (5, 6.0))]:
        out.append(p + q + r)
    return out


@pk.generic
def first_index(v: List[Int64], x: int):
    for i, y in enumerate(v):
        if y == x:
            break
    else:
        return -1
    return i


@pk.generic
def dot(u: List[Float64], w: List[Float64]):
    s = 0.0
    for a, b in zip(u, w):
        s += a * b
    return s


@pk.generic
def kinds(x: Real, c: bool):
    y = x if c else None
    z = x if c else 2.5
    return (isinstance(x, int), isinstance(x, float), isinstance(x, (int, float)),
            isinstance(c, int), y is None, y is not None, isinstance(z, float),
            isinstance(x, pk.Integer), isinstance([x], list))
'''

CASES = [("loops", ([1.0, 2.0, 3.0], 2)), ("loops", ([0.5], 7)), ("loops", ([], 0)),
         ("first_index", ([4, 5, 6], 5)), ("first_index", ([4, 5, 6], 7)),
         ("dot", ([1.0, 2.0, 3.0], [4.0, 5.0])), ("kinds", (1, True)), ("kinds", (1, False)),
         ("kinds", (2.5, True)), ("kinds", (2.5, False)), ("kinds", (True, True))]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("loops"), "loop_programs", SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_loop_programs_give_plain_pythons_answer(mod, name, args):
    fn = getattr(mod, name)
    got, want = fn(*args), fn.methods[0].pyfunc(*args)
    assert got == want and [type(x) for x in got] == [type(x) for x in want] \
        if isinstance(want, (list, tuple)) else (got == want and type(got) is type(want))


UNPACK_SOURCE = '''
import pkgimage as pk
from pkgimage import Float64, Int64, List, Union


@pk.generic
def mixed(v: List[Union[Float64, Int64]]):
    s = 0
    for j, x in enumerate(v):
        s += j * x
    return s


@pk.generic
def targets(v: List[Int64]):
    out = [0, 0, 0, 0]
    fs = []
    for k, (a, b) in enumerate([(x, x + 1) for x in v]):
        out[k % 4] += a * b
    for out[0], k in zip(v, range(3)):
        fs.append(lambda: k)
    return out, [f() for f in fs], k
'''


@pytest.fixture(scope="module")
def unpack_mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("unpack"), "loop_unpack", UNPACK_SOURCE)


@pytest.mark.parametrize("name,args", [("mixed", ([1, 2.5, 3, 0.5],)), ("mixed", ([],)),
                                       ("targets", ([3, 1, 4, 1, 5],)),
                                       ("targets", ([2, 7],))])
def test_enumerate_and_zip_assign_each_part_of_the_target_as_python(unpack_mod, name, args):
    fn = getattr(unpack_mod, name)
    got, want = fn(*args), fn.methods[0].pyfunc(*args)
    assert got == want and type(got) is type(want)


def test_enumerate_over_a_union_list_makes_no_tuple_per_iteration(unpack_mod):
    # ``for j, x in enumerate(v)`` assigns the index and the element directly: the tuple
    # the target would unpack was, for a union element, a Python tuple every iteration
    from pkgimage import Float64, Int64, List, Union
    typed = pk.code_typed(unpack_mod.mixed, (List[Union[Float64, Int64]],))
    assert "intr.tuple" not in str(typed) and "unpack_check" not in str(typed), typed

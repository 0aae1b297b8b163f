"""``x += y`` is Python's ``x = operator.iadd(x, y)`` in compiled code (``base/inplace.py``):
a list or a NumPy array changes in place, so every name bound to it sees the change, while
numbers, strings and tuples get the plain operator.  Compiling it as ``x = x + y`` made a
new list and left aliases with the old one (a wrong answer).  Each program runs compiled
and as plain Python and must give the same values, and leave the same arguments behind."""

import copy

import numpy as np
import pytest

SOURCE = '''
import pkgimage as pk
from pkgimage import Float64, Int64, List


@pk.generic
def alias_grows(n: int):
    Q = []
    P = Q
    for i in range(n):
        P += [i * 0.5]
    return Q, P, Q is P


@pk.generic
def extend_argument(v: List[Int64], w: List[Int64]):
    v += w
    v += (7, 8)
    return len(v)


@pk.generic
def repeat_in_place(v: List[Float64], k: int):
    u = v
    v *= k
    return u


@pk.generic
def immutable_values(n: int):
    s = 0
    s += 2.5
    k = 7
    k -= n
    k *= 3
    k //= 2
    k %= 5
    f = 9.0
    f /= 4
    f **= 2
    t = (1,)
    t += (n, 2.5)
    w = "a"
    w += "b" * n
    b = 6
    b &= 3
    b |= 8
    b ^= 1
    return s, k, f, t, w, b


@pk.generic
def nested_element(rows: int):
    grid = [[0] for _ in range(rows)]
    first = grid[0]
    grid[0] += [1, 2]
    return grid, first


@pk.generic
def array_in_place(A, B):
    C = A
    C += B
    C *= 2.0
    C -= 1.0
    C /= 2.0
    return A
'''

LIST_CASES = [("alias_grows", (3,)), ("alias_grows", (0,)),
              ("extend_argument", ([1, 2], [3])), ("repeat_in_place", ([1.0, 2.0], 2)),
              ("repeat_in_place", ([1.0], 0)), ("repeat_in_place", ([1.0], -3)),
              ("immutable_values", (2,)), ("immutable_values", (0,)),
              ("nested_element", (2,))]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("inplace"), "inplace_programs", SOURCE)


@pytest.mark.parametrize("name,args", LIST_CASES, ids=[f"{n}{a}" for n, a in LIST_CASES])
def test_augmented_assignment_gives_plain_pythons_values_and_arguments(mod, name, args):
    fn = getattr(mod, name)
    mine, theirs = copy.deepcopy(args), copy.deepcopy(args)
    got = fn(*mine)
    want = fn.methods[0].pyfunc(*theirs)
    assert got == want and type(got) is type(want)
    assert mine == theirs                        # (what ``+=`` left in the caller's lists)


def test_array_augmented_assignment_writes_the_callers_array(mod):
    A, B = np.arange(4.0), np.ones(4)
    A2 = A.copy()
    r = mod.array_in_place(A, B)
    mod.array_in_place.methods[0].pyfunc(A2, B)
    assert np.array_equal(A, A2) and np.array_equal(r, A2)


def test_array_augmented_assignment_refuses_what_numpy_cannot_cast(mod):
    """``A += 0.5`` on an int64 array is NumPy's UFuncTypeError, not a silent truncation."""
    A = np.arange(3)
    with pytest.raises(TypeError, match="Cannot cast ufunc"):
        mod.array_in_place(A, np.ones(3))
    assert A.tolist() == [0, 1, 2]


def test_global_augmented_assignment_rebinds_the_module_global(load_module):
    m = load_module('''
import pkgimage as pk
COUNT = 1

@pk.generic
def bump(k: int):
    global COUNT
    COUNT += k
    return COUNT
''')
    assert m.bump(2) == 3 and m.COUNT == 3
    assert m.bump(4) == 7 and m.COUNT == 7


def test_a_struct_class_iadd_is_a_method_of_iadd(load_module):
    """``__iadd__`` in a mutable struct's class body is a method of ``iadd``: ``acc += x``
    in compiled code calls it, and so does Python."""
    m = load_module('''
import pkgimage as pk
from pkgimage import Int64

@pk.mutable
class Acc:
    total: Int64

    def __iadd__(self, k: int):
        self.total = self.total + 2 * k
        return self

@pk.generic
def run(n: int):
    a = Acc(0)
    b = a
    for i in range(n):
        a += i
    return b.total, a is b
''')
    assert m.run(4) == (12, True)
    a = m.Acc(1)
    a += 5
    assert a.total == 11

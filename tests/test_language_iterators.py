"""``zip`` and ``enumerate`` objects passed straight to what walks them once, and
``dict(pairs)``, as Python programs write them: ``dict(zip(keys, values))``,
``sorted(zip(a, b))``, ``enumerate(zip(u, w))``, ``max(enumerate(v), key=...)``.  Each runs
compiled and as plain Python (the same text) and must give the same answer, values and
types; a zip object kept as a value is a located CompileError (an iterator walked twice is
empty the second time, which a list standing for it would not be)."""

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


def test_zip_object_kept_as_a_value_is_a_located_compile_error(load_module):
    mod = load_module('''
        import pkgimage as pk

        @pk.generic
        def twice(a, b):
            z = zip(a, b)
            return list(z), list(z)
    ''', filename="/virtual/zipvalue.py")
    with pytest.raises(pk.CompileError) as e:
        mod.twice([1.0], [2.0])
    assert "zipvalue.py:6" in str(e.value) and "walked once" in str(e.value)

"""``List[T]`` (Python's ``list``) in the base library.

``v.append(x)`` in a method body is a call of ``pkgimage.base.append(v, x)`` (the frontend
turns a method call on a value into a call of the base function of that name), ``x in v`` one
of ``contains(v, x)``, ``sum(v)`` one of ``sum_(v)``: generic functions a package extends for
its own containers as it extends ``add``.  The ``List`` methods do the list operation through
an intrinsic (``compiler/listintr.py``), so results and errors are Python's.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import REGISTRY, intr
from ..types import Any, Integer, List, Tuple, TypeVar, Vector, typeof
from . import add, eq, error, getitem, mul, ne, setitem, to_index, truth
from . import len as len_, max as max_, min as min_
from .synth import add_synth

MODULE = "pkgimage.base"

# Python's list methods (``v.append(x)``) and the builtins that take a sequence
METHOD_NAMES = ("append", "insert", "extend", "pop", "clear", "reverse", "sort", "copy",
                "index", "count", "remove")
NAMES = METHOD_NAMES + ("contains", "sorted_", "sum_")

FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
append, insert, extend, pop, clear, reverse, sort, copy, index, count, remove = \
    (FUNCTIONS[n] for n in METHOD_NAMES)
contains, sorted_, sum_ = FUNCTIONS["contains"], FUNCTIONS["sorted_"], FUNCTIONS["sum_"]
T = TypeVar("T")


@getitem.method
def _(v: List, i: Integer):
    return intr.list_get(v, to_index(i))


@setitem.method
def _(v: List[T], i: Integer, x: T):
    intr.list_set(v, to_index(i), x)
    return None


@setitem.method
def _(v: List, i: Integer, x: Any):
    error(f"cannot store a {typeof(x)} in a {typeof(v)}: a list from Python keeps the element type its elements had at the call")


@truth.method
def _(v: List):
    return intr.list_len(v) != 0


@ne.method
def _(a: List, b: List):
    return not intr.list_eq(a, b)


@mul.method
def _(a: List, n: Integer):
    return intr.list_repeat(a, to_index(n))


@mul.method
def _(n: Integer, a: List):
    # (``n * [None]``: Python repeats a list whichever side the count is on)
    return intr.list_repeat(a, to_index(n))


@append.method
def _(v: List[T], x: T):
    intr.list_append(v, x)
    return None


@append.method
def _(v: List, x: Any):
    error(f"cannot append a {typeof(x)} to a {typeof(v)}: a list from Python keeps the element type its elements had at the call")


@insert.method
def _(v: List[T], i: Integer, x: T):
    intr.list_insert(v, to_index(i), x)
    return None


@insert.method
def _(v: List, i: Integer, x: Any):
    error(f"cannot insert a {typeof(x)} into a {typeof(v)}: a list from Python keeps the element type its elements had at the call")


@extend.method
def _(v: List[T], w: List[T]):
    intr.list_extend(v, w)
    return None


@extend.method
def _(v: List[T], w: Vector[T]):
    intr.list_extend(v, w)
    return None


@extend.method
def _(v: List[Any], w: List):
    intr.list_extend(v, w)
    return None


@extend.method
def _(v: List[Any], w: List[Any]):      # (both of the above: ambiguous without it)
    intr.list_extend(v, w)
    return None


@extend.method
def _(v: List[T], w: Tuple):
    for x in w:                   # (Python's extend takes any iterable: ``v += (1, 2)``)
        append(v, x)
    return None


@extend.method
def _(v: List, w: Any):
    error(f"cannot extend a {typeof(v)} with a {typeof(w)}: a list from Python keeps the element type its elements had at the call")


@pop.method
def _(v: List, i: Integer):
    return intr.list_pop(v, to_index(i))






# Methods whose body is the intrinsic alone (``synth.py``): (function, signature, intrinsic)
_SIMPLE = ((len_, (List,), "list_len"), (min_, (List,), "list_min"),
           (max_, (List,), "list_max"), (eq, (List, List), "list_eq"),
           (add, (List, List), "list_concat"), (pop, (List,), "list_pop"),
           (copy, (List,), "list_copy"), (index, (List, Any), "list_index"),
           (count, (List, Any), "list_count"), (contains, (List, Any), "list_contains"),
           (sorted_, (List,), "list_sorted"), (sum_, (List,), "list_sum"),
           (clear, (List,), "list_clear"), (reverse, (List,), "list_reverse"),
           (sort, (List,), "list_sort"), (remove, (List, Any), "list_remove"))
for _f, _sig, _name in _SIMPLE:
    add_synth(_f, _sig, [("intrinsic", _name)], REGISTRY[_name].impl)


# ``t.index(x)``, ``t.count(x)`` of a tuple: Python's tuple methods, by ``==`` of each item
@index.method
def _(t: Tuple, x: Any):
    for i in range(len_(t)):
        if t[i] == x:
            return i
    raise ValueError("tuple.index(x): x not in tuple")


@count.method
def _(t: Tuple, x: Any):
    n = 0
    for i in range(len_(t)):
        if t[i] == x:
            n += 1
    return n

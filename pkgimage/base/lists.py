"""``List[T]`` (Python's ``list``) in the base library.

``v.append(x)`` in a method body is a call of ``pkgimage.base.append(v, x)`` (the frontend
turns a method call on a value into a call of the base function of that name), ``x in v`` one
of ``contains(v, x)``, ``sum(v)`` one of ``sum_(v)``: generic functions a package extends for
its own containers as it extends ``add``.  The ``List`` methods do the list operation through
an intrinsic (``compiler/listintr.py``), so results and errors are Python's.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import intr
from ..types import Any, Integer, List, TypeVar, Vector, typeof
from . import add, eq, error, getitem, mul, ne, setitem, to_index, truth
from . import len as len_, max as max_, min as min_

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


@len_.method
def _(v: List):
    return intr.list_len(v)


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


@eq.method
def _(a: List, b: List):
    return intr.list_eq(a, b)


@ne.method
def _(a: List, b: List):
    return not intr.list_eq(a, b)


@add.method
def _(a: List, b: List):
    return intr.list_concat(a, b)


@mul.method
def _(a: List, n: Integer):
    return intr.list_repeat(a, to_index(n))


@min_.method
def _(v: List):
    return intr.list_min(v)


@max_.method
def _(v: List):
    return intr.list_max(v)


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
def _(v: List, w: Any):
    error(f"cannot extend a {typeof(v)} with a {typeof(w)}: a list from Python keeps the element type its elements had at the call")


@pop.method
def _(v: List):
    return intr.list_pop(v)


@pop.method
def _(v: List, i: Integer):
    return intr.list_pop(v, to_index(i))


@clear.method
def _(v: List):
    intr.list_clear(v)
    return None


@reverse.method
def _(v: List):
    intr.list_reverse(v)
    return None


@sort.method
def _(v: List):
    intr.list_sort(v)
    return None


@copy.method
def _(v: List):
    return intr.list_copy(v)


@index.method
def _(v: List, x: Any):
    return intr.list_index(v, x)


@count.method
def _(v: List, x: Any):
    return intr.list_count(v, x)


@remove.method
def _(v: List, x: Any):
    intr.list_remove(v, x)
    return None


@contains.method
def _(v: List, x: Any):
    return intr.list_contains(v, x)


@sorted_.method
def _(v: List):
    return intr.list_sorted(v)


@sum_.method
def _(v: List):
    return intr.list_sum(v)

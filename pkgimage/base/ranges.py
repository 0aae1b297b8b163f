"""``range(...)`` as a value (``rxrange = range(2, n - 1)``, ``list(range(n))``), in the
base library.

A ``for`` loop whose header calls ``range`` is lowered to a counter without any object
(``frontend.for_range``); a range kept in a variable, passed, or handed to ``list`` is this
immutable struct of three Int64s -- no allocation in native code -- whose values cross to and
from Python as Python's own ``range`` (its ``start``, ``stop`` and ``step`` attributes are the
struct's fields), as ``Complex[Float64]`` crosses as ``complex``.  ``len``, indexing
(negative indices, Python's ``IndexError``), ``in`` and truthiness are Python's; a ``for``
over one walks it through ``len`` and indexing as over a list.
"""

from __future__ import annotations

from .. import dispatch as D
from .. import types as T
from ..typedefs import struct
from ..types import Any, Int64, Integer
from . import (MODULE, check_range_step, contains, eq, getitem, ne, range_length, to_index,
               truth)
from . import len as len_


@struct
class Range:
    start: Int64
    stop: Int64
    step: Int64


type.__setattr__(Range, "__pk_name__", "Range")
T.register_pytype(range, Range)          # ``typeof(range(3))``: Python's range is this type
T.set_value_class(Range, range)          # and its values cross as Python's range

range_ = D.get_function("range_", MODULE)
FUNCTIONS = {"range_": range_}


@range_.method
def _(stop: Integer):
    return Range(0, to_index(stop), 1)


@range_.method
def _(start: Integer, stop: Integer):
    return Range(to_index(start), to_index(stop), 1)


@range_.method
def _(start: Integer, stop: Integer, step: Integer):
    check_range_step(step)
    return Range(to_index(start), to_index(stop), to_index(step))


@len_.method
def _(r: Range):
    return Int64(range_length(r.start, r.stop, r.step))


@getitem.method
def _(r: Range, i: Integer):
    n = len_(r)
    k = to_index(i)
    if k < 0:
        k += n
    if k < 0 or k >= n:
        raise IndexError("range object index out of range")
    return r.start + k * r.step


@truth.method
def _(r: Range):
    return len_(r) != 0


@contains.method
def _(r: Range, x: Integer):
    k = to_index(x)
    if r.step > 0:
        if k < r.start or k >= r.stop:
            return False
    elif k > r.start or k <= r.stop:
        return False
    return (k - r.start) % r.step == 0


@contains.method
def _(r: Range, x: Any):
    return False


@eq.method
def _(a: Range, b: Range):
    n = len_(a)
    if n != len_(b):
        return False
    if n == 0:
        return True
    if a.start != b.start:
        return False
    return n == 1 or a.step == b.step


@ne.method
def _(a: Range, b: Range):
    return not (a == b)

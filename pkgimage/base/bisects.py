"""Python's ``bisect`` module in the base library: ``bisect.bisect(probs, r)`` in compiled
code is a call of the base function ``bisect_right`` (``insort``, ``bisect_left`` likewise),
written in the compiled language so that a search in a ``List[Float64]`` is a native loop.

Semantics are CPython's ``_bisectmodule.c``: ``lo`` must be non-negative (ValueError), an
``hi`` of -1 (the default) is ``len(a)``, the comparisons are ``x < a[mid]`` (right) and
``a[mid] < x`` (left), each the ``lt`` a package may extend for its own types.  The default
values make the two- and three-argument methods, by Julia's rule as in user code.
"""

from __future__ import annotations

import bisect as _bisect

from .. import dispatch as D
from ..types import Any, Integer
from . import MODULE, to_index
from . import len as len_
from .lists import insert

NAMES = ("bisect_right", "bisect_left", "insort_right", "insort_left")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
bisect_right, bisect_left, insort_right, insort_left = (FUNCTIONS[n] for n in NAMES)
# the ``bisect`` module's functions -> the base functions compiled code calls instead
PY_NAMES = {getattr(_bisect, n): n for n in NAMES}


bisect_bounds = D.get_function("bisect_bounds", MODULE)


@bisect_bounds.method
def _(a: Any, lo: Integer, hi: Integer):
    lo = to_index(lo)
    hi = to_index(hi)
    if lo < 0:
        raise ValueError("lo must be non-negative")
    if hi == -1:
        hi = len_(a)
    return lo, hi


@bisect_right.method
def _(a: Any, x: Any, lo: Integer = 0, hi: Integer = -1):
    lo, hi = bisect_bounds(a, lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if x < a[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@bisect_left.method
def _(a: Any, x: Any, lo: Integer = 0, hi: Integer = -1):
    lo, hi = bisect_bounds(a, lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@insort_right.method
def _(a: Any, x: Any, lo: Integer = 0, hi: Integer = -1):
    insert(a, bisect_right(a, x, lo, hi), x)
    return None


@insort_left.method
def _(a: Any, x: Any, lo: Integer = 0, hi: Integer = -1):
    insert(a, bisect_left(a, x, lo, hi), x)
    return None

"""``Set[T]`` (Python's ``set``) in the base library.

``x in s``, ``len(s)``, ``s | t``, ``s <= t`` are methods of ``contains``, ``len``, ``or_``,
``le``; ``s.pop()``, ``s.remove(x)``, ``s.clear()``, ``s.copy()``, ``s.update(t)`` of the base
functions of those names (shared with lists and dicts); the set-only methods are the base
functions ``set_add``, ``set_union``, ... that ``s.add(x)``, ``s.union(t)`` resolve to
(``compiler/setintr.py``).  Each primitive operation is a set intrinsic, so results and
errors are Python's; what is written here in the compiled language (the methods taking any
iterable, ``sorted(s)``, the comparisons) dispatches, inlines and goes into images like user
code.  A loop over a set walks a snapshot of its elements (``iterable``), as one over a dict
walks its keys.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import REGISTRY, intr
from ..compiler.setintr import METHODS
from ..types import Any, Set, TypeVar, typeof
from . import eq, error, ge, gt, le, lt, ne, sub, truth
from . import len as len_, max as max_, min as min_
from .bits import and_, or_, xor
from .dicts import iterable, update
from .inplace import FUNCTIONS as _INPLACE
from .lists import clear, contains, copy, pop, remove, sorted_, sum_
from .synth import add_synth

MODULE = "pkgimage.base"
NAMES = tuple(f"set_{m}" for m in METHODS)
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
(set_add, set_discard, set_union, set_intersection, set_difference, set_symmetric_difference,
 set_issubset, set_issuperset, set_isdisjoint) = (FUNCTIONS[n] for n in NAMES)
T = TypeVar("T")
iand, ior, isub, ixor = (_INPLACE[n] for n in ("iand", "ior", "isub", "ixor"))


@truth.method
def _(s: Set):
    return intr.set_len(s) != 0


@set_add.method
def _(s: Set[T], x: T):
    intr.set_add(s, x)
    return None


@set_add.method
def _(s: Set, x: Any):
    error(f"cannot add a {typeof(x)} to a {typeof(s)}: a set from Python keeps the element "
          f"type its elements had at the call")


@update.method
def _(s: Set[T], t: Set[T]):
    intr.set_update(s, t)
    return None


@update.method
def _(s: Set, xs: Any):
    for x in xs:                    # (Python's update takes any iterable)
        set_add(s, x)
    return None


@ne.method
def _(a: Set, b: Set):
    return not intr.set_eq(a, b)


@lt.method
def _(a: Set, b: Set):
    return intr.set_len(a) < intr.set_len(b) and intr.set_le(a, b)


@ge.method
def _(a: Set, b: Set):
    return intr.set_le(b, a)


@gt.method
def _(a: Set, b: Set):
    return intr.set_len(b) < intr.set_len(a) and intr.set_le(b, a)


# ``s |= t`` and the others change ``s`` in place, as Python's do (every name bound to it sees
# the change): its new elements are those of the binary operation's result, Python's own
# (``s &= t`` may keep ``t``'s equal elements, as CPython does), stored back through
# ``update`` (which raises the error of ``add`` for an element a set from Python cannot hold)
@ior.method
def _(s: Set, t: Set):
    update(s, t)
    return s


@iand.method
def _(s: Set, t: Set):
    r = intr.set_and(s, t)
    intr.set_clear(s)
    update(s, r)
    return s


@ixor.method
def _(s: Set, t: Set):
    r = intr.set_xor(s, t)
    intr.set_clear(s)
    update(s, r)
    return s


@isub.method
def _(s: Set, t: Set):
    r = intr.set_sub(s, t)
    intr.set_clear(s)
    update(s, r)
    return s


# The methods taking a set or any iterable (``s.union([1, 2])``), as Python's do: the
# other operand is made a set first unless it is one (``_as_set``: no copy of a set)
_as_set = D.get_function("_as_set", MODULE)


@_as_set.method
def _(b: Set):
    return b


@_as_set.method
def _(b: Any):
    return set(b)


@set_union.method
def _(a: Set, b: Any):
    return intr.set_or(a, _as_set(b))


@set_intersection.method
def _(a: Set, b: Any):
    return intr.set_and(a, _as_set(b))


@set_difference.method
def _(a: Set, b: Any):
    return intr.set_sub(a, _as_set(b))


@set_symmetric_difference.method
def _(a: Set, b: Any):
    return intr.set_xor(a, _as_set(b))


@set_issubset.method
def _(a: Set, b: Any):
    return intr.set_le(a, _as_set(b))


@set_issuperset.method
def _(a: Set, b: Any):
    return intr.set_le(_as_set(b), a)


@set_isdisjoint.method
def _(a: Set, b: Any):
    return intr.set_isdisjoint(a, _as_set(b))


# The builtins that take any iterable: on the set's elements in its order (Python's result)
@sorted_.method
def _(s: Set):
    return sorted_(intr.set_list(s))


@min_.method
def _(s: Set):
    return min_(intr.set_list(s))


@max_.method
def _(s: Set):
    return max_(intr.set_list(s))


@sum_.method
def _(s: Set):
    return sum_(intr.set_list(s))


# Methods whose body is the intrinsic alone (``synth.py``): (function, signature, intrinsic);
# ``iterable(s)`` is a snapshot of the elements (a list), ``x in s`` takes a value of any type
# (1.0 finds 1, as in Python)
_SIMPLE = ((iterable, (Set,), "set_list"), (len_, (Set,), "set_len"),
           (contains, (Set, Any), "set_contains"), (set_discard, (Set, Any), "set_discard"),
           (remove, (Set, Any), "set_remove"), (pop, (Set,), "set_pop"),
           (clear, (Set,), "set_clear"), (copy, (Set,), "set_copy"),
           (eq, (Set, Set), "set_eq"), (le, (Set, Set), "set_le"),
           (or_, (Set, Set), "set_or"), (and_, (Set, Set), "set_and"),
           (xor, (Set, Set), "set_xor"), (sub, (Set, Set), "set_sub"))
for _f, _sig, _name in _SIMPLE:
    add_synth(_f, _sig, [("intrinsic", _name)], REGISTRY[_name].impl)

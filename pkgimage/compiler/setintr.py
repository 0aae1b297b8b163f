"""Intrinsics of ``Set[T]``: Python sets in compiled code.

As with dicts (``dictintr.py``), the value is the ``set`` object itself and each intrinsic's
Python implementation is the set operation, so hashing, equality, iteration order and errors
(``KeyError`` from ``remove`` and ``pop``, ``TypeError`` for an unhashable element) are
Python's.  A set made in compiled code (``set()``, ``{a, b}``, ``set(xs)``, a comprehension)
is an allocation site whose element type grows with what is stored into it (``s.add(x)``),
widened by inference as list sites are.  The hot ones -- making a set, ``len``, ``in``,
``add`` -- have native code calling CPython's ``PySet_*`` functions (``listgen.py``).

The set-only methods (``s.add(x)``, ``s.union(t)``, ...) are not base method names that every
value's ``x.name()`` call goes to (``add`` is ``+``'s function): ``x.add(y)`` stays a method
reference, and inference resolves it to the base function ``set_add`` when ``x`` is a set
(``METHODS``), as ``A.sum()`` on an array is ``np_sum``.
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import _def

# ``s.name(...)`` on a set, for these names, calls the base function ``set_<name>``
METHODS = ("add", "discard", "union", "intersection", "difference", "symmetric_difference",
           "issubset", "issuperset", "isdisjoint")


def _set(t):
    return T.is_set(t) and T.isconcrete(t)


def _el(t):
    return t.__pk_eltype__


def _fits(x, el):
    return el is T.Any or T.issubtype(x, el)


def _new_rule(ts, params):
    return T.set_of(T.Bottom)           # (the site's element type: ``inference``)


@_def("set_new", _new_rule)
def set_new(spec, *xs):
    """``{a, b, c}``, ``set()`` (``spec``: the allocation site)."""
    return set(xs)


def _rule(check):
    def rule(ts, params):
        return check(*ts) if ts and _set(ts[0]) else None
    return rule


def _binary(result):
    """An operation of two sets: its result type from both element types, or None."""
    def rule(a, *rest):
        if len(rest) != 1 or not _set(rest[0]):
            return None
        return result(a, rest[0])
    return rule


def _joined(a, b):
    return a if a is b else T.set_of(T.make_union((_el(a), _el(b))))


def _add_rule(s, *rest):
    return T.Nothing if len(rest) == 1 and _fits(rest[0], _el(s)) else None


def _update_rule(s, *rest):
    return T.Nothing if len(rest) == 1 and _set(rest[0]) and _fits(_el(rest[0]), _el(s)) \
        else None


_def("set_len", _rule(lambda s, *r: None if r else T.Int64))(len)
_def("set_contains", _rule(lambda s, *r: T.Bool if len(r) == 1 else None))(
    lambda s, x: x in s)
_def("set_add", _rule(_add_rule))(lambda s, x: s.add(x))
_def("set_discard", _rule(lambda s, *r: T.Nothing if len(r) == 1 else None))(
    lambda s, x: s.discard(x))
_def("set_remove", _rule(lambda s, *r: T.Nothing if len(r) == 1 else None))(
    lambda s, x: s.remove(x))
_def("set_pop", _rule(lambda s, *r: None if r else _el(s)))(lambda s: s.pop())
_def("set_clear", _rule(lambda s, *r: None if r else T.Nothing))(lambda s: s.clear())
_def("set_copy", _rule(lambda s, *r: None if r else s))(lambda s: s.copy())
# a list of the elements in the set's order (``for x in s``, ``sorted(s)``: a snapshot)
_def("set_list", _rule(lambda s, *r: None if r else T.list_of(_el(s))))(list)
_def("set_update", _rule(_update_rule))(lambda s, t: s.update(t))
_def("set_eq", _rule(_binary(lambda a, b: T.Bool)))(lambda a, b: a == b)
_def("set_le", _rule(_binary(lambda a, b: T.Bool)))(lambda a, b: a <= b)
_def("set_isdisjoint", _rule(_binary(lambda a, b: T.Bool)))(lambda a, b: a.isdisjoint(b))
# ``a & b`` holds elements of either (CPython keeps those of the smaller set), ``a - b``
# only ``a``'s
_def("set_or", _rule(_binary(_joined)))(lambda a, b: a | b)
_def("set_and", _rule(_binary(_joined)))(lambda a, b: a & b)
_def("set_xor", _rule(_binary(_joined)))(lambda a, b: a ^ b)
_def("set_sub", _rule(_binary(lambda a, b: a)))(lambda a, b: a - b)

SPEC = {"set_new"}

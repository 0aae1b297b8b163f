"""Intrinsics of ``List[T]``: Python lists in compiled code.

A ``List[T]`` value is the ``list`` object itself (see ``types.LIST_NAME``), so every
operation here has Python's own semantics by construction: the Python implementation of
each intrinsic *is* the list operation, and the native emitters (``codegen.LIST_EMITTERS``)
do what CPython's would, with CPython's errors (``IndexError: list index out of range``).

Element types.  A list made in compiled code gets the element type of everything stored in
it: each list literal or comprehension is an allocation *site*, and the frontend marks each
``append``/``insert``/``extend``/``v[i] = x`` on a variable holding a site's list with a
``list_note``; inference widens the site's element type with what is stored and runs the
method again until the sites are stable (``inference._infer_frame``), as Julia widens a
container's type from what is pushed into it.  A list from Python has the element type of
its elements at the call (``types.typeof``); storing another type in it is a compile error.
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import _def


def _list(t):
    return T.is_list(t) and T.isconcrete(t)


def _el(t):
    return t.__pk_eltype__


def _fits(x, el):
    return el is T.Any or T.issubtype(x, el)


# -- making lists ----------------------------------------------------------------------------

def _new_rule(ts, params):
    # the element type is the site's (``inference``); here only what the elements say
    el = None
    for t in ts:
        el = t if el is None or el is t else T.make_union((el, t))
    return T.list_of(el if el is not None else T.Bottom)


@_def("list_new", _new_rule)
def list_new(spec, *xs):
    """``[a, b, c]`` (``spec``: the allocation site, or ("typed", T) for an annotated one)."""
    return list(xs)


def _note_rule(ts, params):
    return T.Nothing


@_def("list_note", _note_rule)
def list_note(spec, x):
    """Marks a store into a site's list (inference reads it; it does nothing at run time)."""
    return None


# -- reading and writing -----------------------------------------------------------------------

def _len_rule(ts, params):
    return T.Int64 if len(ts) == 1 and _list(ts[0]) else None


@_def("list_len", _len_rule)
def list_len(v):
    return len(v)


def _get_rule(ts, params):
    if len(ts) == 2 and _list(ts[0]) and ts[1] is T.Int64:
        return _el(ts[0])
    return None


@_def("list_get", _get_rule)
def list_get(v, i):
    return v[i]


def _set_rule(ts, params):
    if len(ts) == 3 and _list(ts[0]) and ts[1] is T.Int64 and _fits(ts[2], _el(ts[0])):
        return T.Nothing
    return None


@_def("list_set", _set_rule)
def list_set(v, i, x):
    v[i] = x
    return None


# -- methods: ``v.append(x)`` and the others, by name ----------------------------------------

def _elements_of(t):
    """The element type of something ``extend`` can take (a list, a vector, a set), or
    None."""
    if T.is_list(t) or T.is_set(t) or (T.is_array(t) and t.__pk_ndim__ == 1):
        return _el(t)
    if t.__pk_kind__ == "tuple" and T.isconcrete(t):
        return T.make_union(t.__pk_params__) if t.__pk_params__ else T.Bottom
    return None


def _method_rule(ts, params):
    """Result type of ``v.<name>(args)`` on a ``List``, or None (not accepted)."""
    (name,) = params
    if not ts or not _list(ts[0]):
        return None
    el, args = _el(ts[0]), ts[1:]
    if name == "append" and len(args) == 1 and _fits(args[0], el):
        return T.Nothing
    if name == "insert" and len(args) == 2 and args[0] is T.Int64 and _fits(args[1], el):
        return T.Nothing
    if name == "extend" and len(args) == 1:
        e = _elements_of(args[0])
        return T.Nothing if e is not None and _fits(e, el) else None
    if name == "pop" and len(args) <= 1 and all(a is T.Int64 for a in args):
        return el
    if name in ("clear", "reverse", "sort") and not args:
        return T.Nothing
    if name == "copy" and not args:
        return ts[0]
    if name in ("index", "count") and len(args) == 1:
        return T.Int64
    if name == "remove" and len(args) == 1:
        return T.Nothing
    return None


METHODS = ("append", "insert", "extend", "pop", "clear", "reverse", "sort", "copy", "index",
           "count", "remove")
for _name in METHODS:
    # ``intr.list_append(v, x)`` is ``v.append(x)``, and so on
    _def(f"list_{_name}", lambda ts, params, _n=_name: _method_rule(ts, (_n,)))(
        lambda v, *args, _n=_name: getattr(v, _n)(*args))


# -- whole-list operations that Python's builtins do (their exact results and errors) ------

def _builtin_rule(ts, params):
    (name,) = params
    if len(ts) != 1 or not _list(ts[0]):
        return None
    el = _el(ts[0])
    if name == "sorted":
        return ts[0]
    if name in ("min", "max"):
        return el
    if name == "sum":
        # Python's sum starts from the int 0: an empty list of floats sums to 0
        if el is T.Int64 or el is T.Bool:
            return T.Int64
        return T.make_union((el, T.Int64)) if el is not T.Any else T.Any
    return None


BUILTINS = {"sorted": sorted, "min": min, "max": max, "sum": sum}
for _name, _fn in BUILTINS.items():
    _def(f"list_{_name}", lambda ts, params, _n=_name: _builtin_rule(ts, (_n,)))(
        lambda v, _f=_fn: _f(v))


def _concat_rule(ts, params):
    if len(ts) == 2 and _list(ts[0]) and _list(ts[1]):
        a, b = _el(ts[0]), _el(ts[1])
        return ts[0] if a is b else T.list_of(T.make_union((a, b)))
    return None


@_def("list_concat", _concat_rule)
def list_concat(a, b):
    return a + b


def _repeat_rule(ts, params):
    return ts[0] if len(ts) == 2 and _list(ts[0]) and ts[1] is T.Int64 else None


@_def("list_repeat", _repeat_rule)
def list_repeat(a, n):
    return a * n


def _keyed_rule(name):
    def rule(ts, params):
        if not ts or not _list(ts[0]) or len(ts) != (3 if name == "sorted" else 2):
            return None
        return ts[0] if name == "sorted" else _el(ts[0])
    return rule


_def("list_sorted_key", _keyed_rule("sorted"))(
    lambda v, key, rev: sorted(v, key=key, reverse=rev))
_def("list_min_key", _keyed_rule("min"))(lambda v, key: min(v, key=key))
_def("list_max_key", _keyed_rule("max"))(lambda v, key: max(v, key=key))


# ``sorted(v, key=f)`` with the keys computed by compiled code first (``[f(x) for x in v]``,
# direct calls): Python's sort then orders the positions by those keys -- the same order,
# ties included, since ``list.sort`` also computes every key before comparing any, and it
# is stable for positions as for elements.  ``min``/``max`` likewise (the first extreme).
def _by_rule(name):
    def rule(ts, params):
        if len(ts) != (3 if name == "sorted" else 2) or not _list(ts[0]) or not _list(ts[1]):
            return None
        return ts[0] if name == "sorted" else _el(ts[0])
    return rule


@_def("list_sorted_by", _by_rule("sorted"))
def list_sorted_by(v, keys, rev):
    return [v[i] for i in sorted(range(len(keys)), key=keys.__getitem__, reverse=rev)]


_def("list_min_by", _by_rule("min"))(
    lambda v, keys: v[min(range(len(keys)), key=keys.__getitem__)])
_def("list_max_by", _by_rule("max"))(
    lambda v, keys: v[max(range(len(keys)), key=keys.__getitem__)])


def _anyall_rule(ts, params):
    return T.Bool if len(ts) == 1 else None


_def("list_any", _anyall_rule)(any)
_def("list_all", _anyall_rule)(all)


def _contains_rule(ts, params):
    return T.Bool if len(ts) == 2 and _list(ts[0]) else None


@_def("list_contains", _contains_rule)
def list_contains(v, x):
    return x in v


def _eq_rule(ts, params):
    return T.Bool if len(ts) == 2 and _list(ts[0]) and _list(ts[1]) else None


@_def("list_eq", _eq_rule)
def list_eq(a, b):
    return a == b


def _setslice_rule(ts, params):
    """``v[lo:hi:step] = xs``: each part an Int64 or None (absent); ``xs`` a list, vector or
    tuple whose elements fit (Python's own assignment does the rest, errors included)."""
    if len(ts) != 5 or not _list(ts[0]) or \
            not all(t is T.Int64 or t is T.Nothing for t in ts[1:4]):
        return None
    e = _elements_of(ts[4])
    return T.Nothing if e is not None and _fits(e, _el(ts[0])) else None


@_def("list_setslice", _setslice_rule)
def list_setslice(v, lo, hi, step, xs):
    v[lo:hi:step] = xs
    return None


def _within_rule(ts, params):
    """``v[lo:hi:step] = v[lo2:hi2:step2]``, one list on both sides, each part an Int64 or
    None (absent)."""
    return T.Nothing if len(ts) == 7 and _list(ts[0]) and \
        all(t is T.Int64 or t is T.Nothing for t in ts[1:]) else None


@_def("list_setslice_within", _within_rule)
def list_setslice_within(v, lo, hi, step, lo2, hi2, step2):
    v[lo:hi:step] = v[lo2:hi2:step2]
    return None


# ``spec`` intrinsics: their Python implementation takes the spec first
SPEC = {"list_new", "list_note"}

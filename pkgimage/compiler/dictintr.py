"""Intrinsics of ``Dict[K, V]``: Python dicts in compiled code.

As with lists (``listintr.py``), the value is the ``dict`` object itself and each intrinsic's
Python implementation is the dict operation, so hashing, equality, insertion order and
errors (``KeyError``) are Python's.  A dict made in compiled code (``{}``, a literal, a
comprehension) is an allocation site whose key and value types grow with what is stored
into it (``d[k] = v``, ``d.setdefault(k, v)``), widened by inference as list sites are.
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import _def


def _dict(t):
    return T.is_dict(t) and T.isconcrete(t)


def _fits(x, t):
    return t is T.Any or T.issubtype(x, t)


def _kv(t):
    return t.__pk_keytype__, t.__pk_valtype__


def _new_rule(ts, params):
    return T.dict_of(T.Bottom, T.Bottom)        # (the site's types: ``inference``)


@_def("dict_new", _new_rule)
def dict_new(spec, *kvs):
    """``{k1: v1, k2: v2}`` (``spec``: the allocation site); keys and values alternate."""
    return dict(zip(kvs[0::2], kvs[1::2]))


def _rule(check):
    def rule(ts, params):
        return check(*ts) if ts and _dict(ts[0]) else None
    return rule


def _get(d, k, *rest):
    return None if rest else d.__pk_valtype__


def _set(d, k, v, *rest):
    K, V = _kv(d)
    return T.Nothing if not rest and _fits(k, K) and _fits(v, V) else None


_def("dict_len", _rule(lambda d, *r: None if r else T.Int64))(len)
_def("dict_getitem", _rule(_get))(lambda d, k: d[k])
_def("dict_setitem", _rule(_set))(lambda d, k, v: d.__setitem__(k, v))
_def("dict_contains", _rule(lambda d, *r: T.Bool if len(r) == 1 else None))(
    lambda d, k: k in d)
_def("dict_eq", _rule(lambda d, *r: T.Bool if len(r) == 1 and _dict(r[0]) else None))(
    lambda a, b: a == b)


def _method_rule(name):
    def rule(d, *args):
        K, V = _kv(d)
        n = len(args)
        if name == "get" and 1 <= n <= 2:
            return T.make_union((V, T.Nothing if n == 1 else args[1]))
        if name == "pop" and 1 <= n <= 2:
            return V if n == 1 else T.make_union((V, args[1]))
        if name == "setdefault" and n == 2 and _fits(args[0], K) and _fits(args[1], V):
            return V
        if name == "keys" and n == 0:
            return T.list_of(K)
        if name == "values" and n == 0:
            return T.list_of(V)
        if name == "items" and n == 0:
            return T.list_of(T.tuple_type(K, V))
        if name in ("clear",) and n == 0:
            return T.Nothing
        if name == "copy" and n == 0:
            return d
        if name == "update" and n == 1 and _dict(args[0]) and \
                _fits(args[0].__pk_keytype__, K) and _fits(args[0].__pk_valtype__, V):
            return T.Nothing
        return None
    return rule


def _method_impl(name):
    if name in ("keys", "values", "items"):
        return lambda d: list(getattr(d, name)())       # a list of them (``List``)
    return lambda d, *args: getattr(d, name)(*args)


METHODS = ("get", "pop", "setdefault", "keys", "values", "items", "clear", "copy", "update")
for _name in METHODS:
    _def(f"dict_{_name}", _rule(_method_rule(_name)))(_method_impl(_name))

SPEC = {"dict_new"}

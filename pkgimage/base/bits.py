"""Bitwise ``&``, ``|`` and ``^`` of integers (and of bools, which Python keeps bools:
``True & False`` is ``False``), named like Python's ``operator`` module (``and_``, ``or_``,
``xor``) so packages extend them as the other operators.  Each machine operation is exact
on two's complement integers of one width, as Python's on its unbounded ints; mixed types
promote first, as the arithmetic operators do."""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import _def, _same_prim, intr, is_prim, wrap
from ..types import Bool, Integer
from .. import types as T

MODULE = "pkgimage.base"
NAMES = ("and_", "or_", "xor")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
and_, or_, xor = (FUNCTIONS[n] for n in NAMES)


def _is_bits(t):
    return is_prim(t) and not t.__pk_float__


def _bits(name, op):
    @_def(f"{name}_int", _same_prim(_is_bits))
    def impl(a, b):
        if T.typeof(a) is Bool:
            return bool(op(int(a), int(b)))
        return wrap(T.typeof(a), op(int(a), int(b)))
    intr.__dict__[impl.name] = impl          # (``intr.and_int`` in the methods below)
    return impl


_bits("and", lambda a, b: a & b)
_bits("or", lambda a, b: a | b)
_bits("xor", lambda a, b: a ^ b)


def _and(x, y):
    return intr.and_int(x, y)


def _or(x, y):
    return intr.or_int(x, y)


def _xor(x, y):
    return intr.xor_int(x, y)


_INTS = tuple(t for t in T.PRIMITIVES if not t.__pk_float__)       # (Bool among them)
for _f, _impl in ((and_, _and), (or_, _or), (xor, _xor)):
    for _t in _INTS:
        _f.method(_impl, sig=(_t, _t))


@and_.method
def _(x: Integer, y: Integer):
    return and_(intr.promote(x, y), intr.promote(y, x))


@or_.method
def _(x: Integer, y: Integer):
    return or_(intr.promote(x, y), intr.promote(y, x))


@xor.method
def _(x: Integer, y: Integer):
    return xor(intr.promote(x, y), intr.promote(y, x))

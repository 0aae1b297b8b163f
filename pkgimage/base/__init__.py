"""The base library, written in the compiled language itself.

Operators in compiled code are calls to these generic functions (named like Python's
``operator`` module), so packages extend them exactly as Julia packages extend ``Base.:+``:
``@pk.base.add.method def _(x: MyType, y: MyType): ...``.

Arithmetic follows Julia's promotion (``promote_type`` in ``compiler/intrinsics.py``): a
method per primitive type does the machine operation through an intrinsic, and one method
on ``(Real, Real)`` promotes both arguments and calls again.  Division, floor division,
modulo and truthiness follow Python, because method bodies are also valid Python and must
give the same answers when run as such.
"""

from __future__ import annotations

from .. import dispatch as D
from .. import types as T
from ..compiler import frontend
from ..compiler.intrinsics import intr
from ..constructors import constructor
from ..errors import ErrorException
from ..types import (AbstractFloat, Any, Bool, Float32, Float64, Int64, Integer, Nothing,
                     PRIMITIVES, Real, Signed, Unsigned, Vector)

MODULE = __name__

_NAMES = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "eq", "ne", "lt",
          "le", "gt", "ge", "getitem", "setitem", "len", "abs", "min", "max", "truth", "int_",
          "float_", "to_index", "range_continues", "check_range_step")

for _n in _NAMES:
    globals()[_n] = D.get_function(_n, MODULE)

INTS = tuple(t for t in PRIMITIVES if not t.__pk_float__ and t is not Bool)
FLOATS = (Float32, Float64)
__all__ = list(_NAMES) + ["Rational", "INTS", "FLOATS"]


def _m(f, fn, *sigs):
    for sig in sigs:
        f.method(fn, sig=sig)


# -- arithmetic ------------------------------------------------------------------------------

def _add_int(x, y):
    return intr.add_int(x, y)


def _sub_int(x, y):
    return intr.sub_int(x, y)


def _mul_int(x, y):
    return intr.mul_int(x, y)


def _floordiv_int(x, y):
    return intr.floordiv_int(x, y)


def _mod_int(x, y):
    return intr.mod_int(x, y)


def _pow_int(x, y):
    return intr.pow_int(x, y)


def _add_float(x, y):
    return intr.add_float(x, y)


def _sub_float(x, y):
    return intr.sub_float(x, y)


def _mul_float(x, y):
    return intr.mul_float(x, y)


def _div_float(x, y):
    return intr.div_float(x, y)


def _floordiv_float(x, y):
    return intr.floordiv_float(x, y)


def _mod_float(x, y):
    return intr.mod_float(x, y)


def _pow_float(x, y):
    return intr.pow_float(x, y)


_same = lambda ts: [(t, t) for t in ts]  # noqa: E731
_m(add, _add_int, *_same(INTS))
_m(sub, _sub_int, *_same(INTS))
_m(mul, _mul_int, *_same(INTS))
_m(floordiv, _floordiv_int, *_same(INTS))
_m(mod, _mod_int, *_same(INTS))
_m(pow, _pow_int, *_same(INTS))
_m(add, _add_float, *_same(FLOATS))
_m(sub, _sub_float, *_same(FLOATS))
_m(mul, _mul_float, *_same(FLOATS))
_m(truediv, _div_float, *_same(FLOATS))
_m(floordiv, _floordiv_float, *_same(FLOATS))
_m(mod, _mod_float, *_same(FLOATS))
_m(pow, _pow_float, *_same(FLOATS))


# Bool arithmetic is integer arithmetic (Python's True + True == 2, Julia's too).
@add.method
def _(x: Bool, y: Bool):
    return Int64(x) + Int64(y)


@sub.method
def _(x: Bool, y: Bool):
    return Int64(x) - Int64(y)


@mul.method
def _(x: Bool, y: Bool):
    return Int64(x) * Int64(y)


@floordiv.method
def _(x: Bool, y: Bool):
    return Int64(x) // Int64(y)


@mod.method
def _(x: Bool, y: Bool):
    return Int64(x) % Int64(y)


@pow.method
def _(x: Bool, y: Bool):
    return Int64(x) ** Int64(y)


# Mixed types: promote both, then call again (now on one type).
@add.method
def _(x: Real, y: Real):
    return add(intr.promote(x, y), intr.promote(y, x))


@sub.method
def _(x: Real, y: Real):
    return sub(intr.promote(x, y), intr.promote(y, x))


@mul.method
def _(x: Real, y: Real):
    return mul(intr.promote(x, y), intr.promote(y, x))


@floordiv.method
def _(x: Real, y: Real):
    return floordiv(intr.promote(x, y), intr.promote(y, x))


@mod.method
def _(x: Real, y: Real):
    return mod(intr.promote(x, y), intr.promote(y, x))


@pow.method
def _(x: Real, y: Real):
    return pow(intr.promote(x, y), intr.promote(y, x))


@truediv.method
def _(x: Real, y: Real):
    return truediv(intr.to_float(intr.promote(x, y)), intr.to_float(intr.promote(y, x)))


def _neg_int(x):
    return intr.neg_int(x)


def _neg_float(x):
    return intr.neg_float(x)


_m(neg, _neg_int, *[(t,) for t in INTS])
_m(neg, _neg_float, *[(t,) for t in FLOATS])


@neg.method
def _(x: Bool):
    return intr.neg_int(Int64(x))


# -- comparisons -----------------------------------------------------------------------------

def _eq_prim(x, y):
    return intr.eq(x, y)


def _ne_prim(x, y):
    return intr.ne(x, y)


def _lt_prim(x, y):
    return intr.lt(x, y)


def _le_prim(x, y):
    return intr.le(x, y)


def _gt_prim(x, y):
    return intr.gt(x, y)


def _ge_prim(x, y):
    return intr.ge(x, y)


_PRIM_PAIRS = _same(PRIMITIVES)
_m(eq, _eq_prim, *_PRIM_PAIRS)
_m(ne, _ne_prim, *_PRIM_PAIRS)
_m(lt, _lt_prim, *_PRIM_PAIRS)
_m(le, _le_prim, *_PRIM_PAIRS)
_m(gt, _gt_prim, *_PRIM_PAIRS)
_m(ge, _ge_prim, *_PRIM_PAIRS)


@eq.method
def _(x: Real, y: Real):
    return eq(intr.promote(x, y), intr.promote(y, x))


@ne.method
def _(x: Real, y: Real):
    return ne(intr.promote(x, y), intr.promote(y, x))


@lt.method
def _(x: Real, y: Real):
    return lt(intr.promote(x, y), intr.promote(y, x))


@le.method
def _(x: Real, y: Real):
    return le(intr.promote(x, y), intr.promote(y, x))


@gt.method
def _(x: Real, y: Real):
    return gt(intr.promote(x, y), intr.promote(y, x))


@ge.method
def _(x: Real, y: Real):
    return ge(intr.promote(x, y), intr.promote(y, x))


# Values of any other types: equal when identical (Julia's fallback ``==`` is ``===``).
@eq.method
def _(x, y):
    return intr.egal(x, y)


@ne.method
def _(x, y):
    return not (x == y)


# -- truthiness (Python's rules, since bodies are Python) ------------------------------------

@truth.method
def _(x: Bool):
    return x


@truth.method
def _(x: Real):
    return intr.truth(x)


@truth.method
def _(x: Nothing):
    return False


@truth.method
def _(x: Vector):
    return len(x) != 0


@truth.method
def _(x):
    return True


# -- abs, min, max and conversions -----------------------------------------------------------

@abs.method
def _(x: Signed):
    return -x if x < 0 else x


@abs.method
def _(x: Unsigned):
    return x


@abs.method
def _(x: Bool):
    return Int64(x)


@abs.method
def _(x: AbstractFloat):
    return intr.abs_float(x)


@min.method
def _(x: Real, y: Real):
    a = intr.promote(x, y)
    b = intr.promote(y, x)
    return b if b < a else a


@max.method
def _(x: Real, y: Real):
    a = intr.promote(x, y)
    b = intr.promote(y, x)
    return b if b > a else a


def _make_converter(P):
    def _convert(x):
        return intr.convert(P, x)
    return _convert


for _P in PRIMITIVES:
    constructor(_P).method(_make_converter(_P), sig=(Real,))


@int_.method
def _(x: Integer):
    return Int64(x)


@int_.method
def _(x: AbstractFloat):
    return intr.trunc(Int64, x)


@float_.method
def _(x: Real):
    return Float64(x)


# -- ranges ----------------------------------------------------------------------------------

@to_index.method
def _(i: Integer):
    return Int64(i)


@range_continues.method
def _(i: Int64, stop: Int64, step: Int64):
    return i < stop if step > 0 else i > stop


@check_range_step.method
def _(step: Integer):
    if step == 0:
        error("range() arg 3 must not be zero")
    return None


# -- vectors ---------------------------------------------------------------------------------

@len.method
def _(v: Vector):
    return intr.vec_len(v)


@getitem.method
def _(v: Vector, i: Integer):
    return intr.vec_get(v, to_index(i))


@setitem.method
def _(v: Vector, i: Integer, x):
    intr.vec_set(v, to_index(i), intr.to_eltype(v, x))
    return None


def error(message):
    """``pk.error``: raise ErrorException (compiled code lowers calls to it specially)."""
    raise ErrorException(message)


frontend.SPECIAL["error"] = error
frontend.SPECIAL["typeof"] = T.typeof
frontend.SPECIAL["constructor"] = constructor
frontend.BASE.update({n: globals()[n] for n in _NAMES})

from .rational import Rational  # noqa: E402  (defined with the functions above)

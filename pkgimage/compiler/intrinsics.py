"""Intrinsics: the primitive operations the base library is written with.

The base library (``pkgimage.base``) is ordinary pkgimage code; where it needs a machine
operation it calls ``intr.<name>(...)``.  Each intrinsic has

* a **type rule** used by inference (argument types -> result type, or ``None`` when the
  arguments are not ones it accepts, which the frontend reports as a compile error), and
* a **Python implementation** with exactly the semantics the native code has (wrapping
  integers, Python's floored division, ``DivideError``/``BoundsError``), so base methods also
  run as plain Python and differential tests can compare the two.

Codegen (``codegen.py``) owns the LLVM lowering of each name; this module stays free of
llvmlite so that inference does not import it.
"""

from __future__ import annotations

import math

from .. import types as T
from ..errors import BoundsError, DivideError, ErrorException, InexactError


class IntrinsicFn:
    """A callable intrinsic; the frontend recognises these objects in method bodies."""

    __slots__ = ("name", "rule", "impl", "nparams")

    def __init__(self, name, rule, impl, nparams=0):
        self.name = name
        self.rule = rule
        self.impl = impl
        self.nparams = nparams          # leading arguments that are compile-time types

    def __call__(self, *args):
        return self.impl(*args)

    def __repr__(self):
        return f"intr.{self.name}"

    def __reduce__(self):
        return (get, (self.name,))


REGISTRY: dict = {}


def get(name):
    return REGISTRY[name]


def _def(name, rule, nparams=0):
    def deco(impl):
        REGISTRY[name] = IntrinsicFn(name, rule, impl, nparams)
        return REGISTRY[name]
    return deco


# -- helpers ----------------------------------------------------------------------------------

def is_int(t):
    return t.__pk_kind__ == "primitive" and not t.__pk_float__ and t is not T.Bool


def is_float(t):
    return t.__pk_kind__ == "primitive" and t.__pk_float__


def is_prim(t):
    return t.__pk_kind__ == "primitive"


def promote_type(a, b):
    """Julia's promotion of two primitive types (Bool yields to anything; floats win over
    integers; the wider integer wins, and at equal width the unsigned one)."""
    if a is b:
        return a
    if a is T.Bool:
        return b
    if b is T.Bool:
        return a
    if is_float(a) and is_float(b):
        return a if a.__pk_bits__ >= b.__pk_bits__ else b
    if is_float(a):
        return a
    if is_float(b):
        return b
    if a.__pk_bits__ != b.__pk_bits__:
        return a if a.__pk_bits__ > b.__pk_bits__ else b
    return b if a.__pk_signed__ else a


def wrap(t, v):
    """Reduce a Python int to type ``t`` with two's-complement wrap-around (Julia's overflow)."""
    bits = t.__pk_bits__
    v &= (1 << bits) - 1
    if t.__pk_signed__ and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v if t is T.Int64 else t.__pk_pytype__(v)


def _same_prim(pred):
    def rule(ts, params):
        if len(ts) == 2 and ts[0] is ts[1] and pred(ts[0]):
            return ts[0]
        return None
    return rule


def _cmp_rule(ts, params):
    if len(ts) == 2 and ts[0] is ts[1] and is_prim(ts[0]):
        return T.Bool
    return None


def _unary(pred):
    def rule(ts, params):
        return ts[0] if len(ts) == 1 and pred(ts[0]) else None
    return rule


def _tpy(v):
    return T.typeof(v)


# -- integer arithmetic -----------------------------------------------------------------------

@_def("add_int", _same_prim(is_int))
def add_int(a, b):
    return wrap(_tpy(a), int(a) + int(b))


@_def("sub_int", _same_prim(is_int))
def sub_int(a, b):
    return wrap(_tpy(a), int(a) - int(b))


@_def("mul_int", _same_prim(is_int))
def mul_int(a, b):
    return wrap(_tpy(a), int(a) * int(b))


@_def("neg_int", _unary(is_int))
def neg_int(a):
    return wrap(_tpy(a), -int(a))


@_def("floordiv_int", _same_prim(is_int))
def floordiv_int(a, b):
    if int(b) == 0:
        raise DivideError("DivideError: integer division by zero")
    return wrap(_tpy(a), int(a) // int(b))


@_def("mod_int", _same_prim(is_int))
def mod_int(a, b):
    if int(b) == 0:
        raise DivideError("DivideError: integer division by zero")
    return wrap(_tpy(a), int(a) % int(b))


@_def("pow_int", _same_prim(is_int))
def pow_int(a, b):
    if int(b) < 0:
        raise ErrorException("DomainError: negative integer exponent")
    t = _tpy(a)
    return wrap(t, pow(int(a), int(b), 1 << t.__pk_bits__))


# -- float arithmetic -------------------------------------------------------------------------

def _f(t, v):
    return float(v) if t is T.Float64 else T.np.float32(v)


@_def("add_float", _same_prim(is_float))
def add_float(a, b):
    return _f(_tpy(a), a + b)


@_def("sub_float", _same_prim(is_float))
def sub_float(a, b):
    return _f(_tpy(a), a - b)


@_def("mul_float", _same_prim(is_float))
def mul_float(a, b):
    return _f(_tpy(a), a * b)


@_def("div_float", _same_prim(is_float))
def div_float(a, b):
    t = _tpy(a)
    if b == 0:
        if a == 0 or a != a:
            return _f(t, math.nan)
        return _f(t, math.copysign(math.inf, a) * math.copysign(1.0, b))
    return _f(t, a / b)


@_def("floordiv_float", _same_prim(is_float))
def floordiv_float(a, b):
    """``floor(a / b)`` (what the native emitter computes; the base library builds Python's
    ``//`` from it and ``mod_float``)."""
    q = div_float(a, b)
    return _f(_tpy(a), math.floor(q) if math.isfinite(q) else q)


@_def("mod_float", _same_prim(is_float))
def mod_float(a, b):
    if b == 0:
        return _f(_tpy(a), math.nan)
    r = math.fmod(a, b)
    if r != 0 and (r < 0) != (b < 0):
        r += b
    return _f(_tpy(a), r)


@_def("pow_float", _same_prim(is_float))
def pow_float(a, b):
    try:
        return _f(_tpy(a), math.pow(a, b))
    except (ValueError, OverflowError):
        return _f(_tpy(a), math.nan if a < 0 else math.inf)


@_def("neg_float", _unary(is_float))
def neg_float(a):
    return _f(_tpy(a), -a)


@_def("sqrt", _unary(is_float))
def sqrt(a):
    return _f(_tpy(a), math.sqrt(a) if a >= 0 else math.nan)


@_def("abs_float", _unary(is_float))
def abs_float(a):
    return _f(_tpy(a), abs(a))


# -- comparisons and booleans ----------------------------------------------------------------

@_def("eq", _cmp_rule)
def eq(a, b):
    return bool(a == b)


@_def("ne", _cmp_rule)
def ne(a, b):
    return bool(a != b)


@_def("lt", _cmp_rule)
def lt(a, b):
    return bool(a < b)


@_def("le", _cmp_rule)
def le(a, b):
    return bool(a <= b)


@_def("gt", _cmp_rule)
def gt(a, b):
    return bool(a > b)


@_def("ge", _cmp_rule)
def ge(a, b):
    return bool(a >= b)


@_def("not_bool", lambda ts, p: T.Bool if ts == (T.Bool,) else None)
def not_bool(a):
    return not a


@_def("truth", lambda ts, p: T.Bool if len(ts) == 1 and is_prim(ts[0]) else None)
def truth(a):
    return bool(a)


def _egal_rule(ts, params):
    return T.Bool if len(ts) == 2 else None


@_def("egal", _egal_rule)
def egal(a, b):
    """Julia's ``===`` on values: same type and same contents."""
    return T.typeof(a) is T.typeof(b) and bool(a == b)


# -- conversions -----------------------------------------------------------------------------

def _convert_rule(ts, params):
    if len(params) == 1 and is_prim(params[0]) and len(ts) == 1 and is_prim(ts[0]):
        return params[0]
    return None


@_def("convert", _convert_rule, nparams=1)
def convert(t, x):
    """Exact for integer targets (``InexactError`` otherwise), rounding for float targets."""
    return T.convert(t, x)


def _promote_rule(ts, params):
    if len(ts) == 2 and is_prim(ts[0]) and is_prim(ts[1]):
        return promote_type(ts[0], ts[1])
    return None


@_def("promote", _promote_rule)
def promote(a, b):
    """``a`` converted to the promotion of both types (only the first is returned)."""
    return T.convert(promote_type(_tpy(a), _tpy(b)), a)


def _float_rule(ts, params):
    if len(ts) == 1 and is_prim(ts[0]):
        return ts[0] if is_float(ts[0]) else T.Float64
    return None


@_def("to_float", _float_rule)
def to_float(a):
    t = _tpy(a)
    return a if is_float(t) else float(a)


def _trunc_rule(ts, params):
    if len(params) == 1 and is_int(params[0]) and len(ts) == 1 and is_float(ts[0]):
        return params[0]
    return None


@_def("trunc", _trunc_rule, nparams=1)
def trunc(t, x):
    """Float to integer towards zero (Python's ``int(x)``); ``InexactError`` if out of range."""
    if x != x or x in (math.inf, -math.inf):
        raise InexactError(f"InexactError: {t}({x})")
    return T.convert(t, int(x))


# -- vectors ---------------------------------------------------------------------------------

def _vec_rule(ts, params):
    return T.Int64 if len(ts) == 1 and ts[0].__pk_kind__ == "vector" else None


@_def("vec_len", _vec_rule)
def vec_len(v):
    return len(v)


def _norm_index(v, i):
    n = len(v)
    j = int(i)
    if j < 0:
        j += n
    if not 0 <= j < n:
        raise BoundsError(f"BoundsError: attempt to access {n}-element "
                          f"{T.typeof(v)} at index [{int(i)}]")
    return j


def _get_rule(ts, params):
    if len(ts) == 2 and ts[0].__pk_kind__ == "vector" and ts[1] is T.Int64:
        return ts[0].__pk_eltype__
    return None


@_def("vec_get", _get_rule)
def vec_get(v, i):
    return T.to_python(v[_norm_index(v, i)])


def _set_rule(ts, params):
    if len(ts) == 3 and ts[0].__pk_kind__ == "vector" and ts[1] is T.Int64:
        el = ts[0].__pk_eltype__
        if ts[2] is el or (T.isconcrete(ts[2]) and T.issubtype(ts[2], el)):
            return T.Nothing
    return None


@_def("vec_set", _set_rule)
def vec_set(v, i, x):
    v[_norm_index(v, i)] = x
    return None


# -- misc ------------------------------------------------------------------------------------

@_def("typeof", lambda ts, p: T.Any if len(ts) == 1 else None)
def typeof(x):
    return T.typeof(x)


class Namespace:
    """``intr``: the intrinsics as attributes, for base-library source (``intr.add_int(a, b)``)."""

    def __init__(self, table):
        self.__dict__.update(table)


intr = Namespace(REGISTRY)


# -- late additions: structs and vector element conversion -----------------------------------

def _new_rule(ts, params):
    if len(params) != 1 or params[0].__pk_kind__ != "struct":
        return None
    st = params[0]
    fts = tuple(ft for _, ft in st.__pk_fields__)
    return st if ts == fts else None


def _new_impl(t, *args):
    """``intr.new(T, fields...)``: build a struct from values already of its field types
    (what Julia's ``new`` does inside an inner constructor)."""
    from ..typedefs import new_unchecked
    return new_unchecked(t, [T.convert(ft, a) for (_, ft), a in zip(t.__pk_fields__, args)])


REGISTRY["new"] = IntrinsicFn("new", _new_rule, _new_impl, nparams=1)


def _to_eltype_rule(ts, params):
    if len(ts) == 2 and ts[0].__pk_kind__ == "vector":
        el = ts[0].__pk_eltype__
        if is_prim(el) and is_prim(ts[1]):
            return el
        if T.issubtype(ts[1], el):
            return ts[1]
    return None


@_def("to_eltype", _to_eltype_rule)
def to_eltype(v, x):
    el = T.typeof(v).__pk_eltype__
    return T.convert(el, x) if is_prim(el) else x


intr.__dict__.update(REGISTRY)

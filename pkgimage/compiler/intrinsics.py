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


# Intrinsics whose compile-time parameters are a spec (strings, flags, an element type)
# rather than types; their Python implementation takes the spec as its first argument.
SPEC_PARAMS = {"arr_view", "np_new", "unpack_check", "py_print", "py_sysattr"}


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
# Intrinsics whose Python implementation only calls a function of a module (NumPy's,
# ``random``'s) with the same arguments: name -> (module, attribute path).  Native code calls
# that function itself (linked by its path, ``native.resolve_const`` kind "pyattr"): the
# wrapper's frame and look-ups cost as much as a small NumPy call.  The wrappers stay for
# Python mode, where they keep ``import pkgimage.base`` from importing NumPy.
DIRECT: dict = {}


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


# Python's messages (``str(e)`` of a caught error is what plain Python prints); the type
# is ``pk.DivideError``, a ZeroDivisionError
FLOORDIV_BY_ZERO = "integer division or modulo by zero"
MOD_BY_ZERO = "integer modulo by zero"


@_def("floordiv_int", _same_prim(is_int))
def floordiv_int(a, b):
    if int(b) == 0:
        raise DivideError(FLOORDIV_BY_ZERO)
    return wrap(_tpy(a), int(a) // int(b))


@_def("mod_int", _same_prim(is_int))
def mod_int(a, b):
    if int(b) == 0:
        raise DivideError(MOD_BY_ZERO)
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


def _zero_division_message(expr):
    try:
        eval(expr)
    except ZeroDivisionError as e:
        return str(e)
    return "division by zero"


# Float division by zero raises ZeroDivisionError, as Python (and numba's default error
# model) do, with this interpreter's own messages.
FLOAT_ZERO_DIVISION = {name: _zero_division_message(expr) for name, expr in
                       (("div_float", "1.0 / 0.0"), ("floordiv_float", "1.0 // 0.0"),
                        ("mod_float", "1.0 % 0.0"), ("pow_float", "0.0 ** -1.0"))}


def _float_zero_division(name):
    raise ZeroDivisionError(FLOAT_ZERO_DIVISION[name])


@_def("div_float", _same_prim(is_float))
def div_float(a, b):
    if b == 0:
        _float_zero_division("div_float")
    return _f(_tpy(a), a / b)


@_def("floordiv_float", _same_prim(is_float))
def floordiv_float(a, b):
    """``floor(a / b)`` (what the native emitter computes; the base library builds Python's
    ``//`` from it and ``mod_float``)."""
    if b == 0:
        _float_zero_division("floordiv_float")
    q = div_float(a, b)
    return _f(_tpy(a), math.floor(q) if math.isfinite(q) else q)


@_def("mod_float", _same_prim(is_float))
def mod_float(a, b):
    if b == 0:
        _float_zero_division("mod_float")
    r = math.fmod(a, b)
    if r != 0 and (r < 0) != (b < 0):
        r += b
    return _f(_tpy(a), r)


@_def("pow_float", _same_prim(is_float))
def pow_float(a, b):
    if a == 0 and b < 0:
        _float_zero_division("pow_float")
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


# -- arrays ----------------------------------------------------------------------------------
#
# ``Array[T, N]`` of a primitive ``T`` is a NumPy array read and written in place, any
# strides.  ``arr_get(A, i1, ..., ik)`` with k == N reads an element; with k < N it is the
# view ``A[i1, ..., ik]`` of the remaining axes (Python's ``A[i]`` on a matrix is a row).
# Indices are Int64 (the base library converts), negative ones count from the end.


def is_arr(t):
    return isinstance(t, T.PkType) and t.__pk_kind__ == "array" and \
        isinstance(t.__pk_ndim__, int)


def _arr_len_rule(ts, params):
    return T.Int64 if len(ts) == 1 and is_arr(ts[0]) else None


@_def("arr_len", _arr_len_rule)
def arr_len(v):
    return len(v)


def _norm_index(v, i, axis=0):
    n = len(v) if axis == 0 else v.shape[axis]
    j = int(i)
    if j < 0:
        j += n
    if not 0 <= j < n:
        raise BoundsError(f"BoundsError: attempt to access {_shape_str(v)} "
                          f"{T.typeof(v)} at index [{int(i)}]" if v.ndim == 1 else
                          f"BoundsError: attempt to access {_shape_str(v)} {T.typeof(v)} "
                          f"at index {int(i)} of axis {axis}")
    return j


def _shape_str(v):
    shape = getattr(v, "shape", (len(v),))
    return f"{shape[0]}-element" if len(shape) == 1 else "×".join(map(str, shape))


def _get_rule(ts, params):
    if len(ts) >= 2 and is_arr(ts[0]) and all(t is T.Int64 for t in ts[1:]):
        n, k = ts[0].__pk_ndim__, len(ts) - 1
        if k == n:
            return ts[0].__pk_eltype__
        if k < n:
            return T.array_of(ts[0].__pk_eltype__, n - k)
    return None


@_def("arr_get", _get_rule)
def arr_get(v, *idx):
    js = tuple(_norm_index(v, i, ax) for ax, i in enumerate(idx))
    r = v[js if len(js) > 1 else js[0]]
    if type(r).__name__ == "void":                     # a record of an isbits struct
        return T._from_record(T.typeof(v).__pk_eltype__, r)
    return T.to_python(r)


def _set_rule(ts, params):
    if len(ts) >= 3 and is_arr(ts[0]) and all(t is T.Int64 for t in ts[2:]) and \
            len(ts) - 2 == ts[0].__pk_ndim__:
        el = ts[0].__pk_eltype__
        if ts[1] is el or (T.isconcrete(ts[1]) and T.issubtype(ts[1], el)):
            return T.Nothing
    return None


@_def("arr_set", _set_rule)
def arr_set(v, x, *idx):
    js = tuple(_norm_index(v, i, ax) for ax, i in enumerate(idx))
    v[js if len(js) > 1 else js[0]] = x
    return None


def _shape_rule(ts, params):
    if len(ts) == 1 and is_arr(ts[0]):
        return T.tuple_type(*((T.Int64,) * ts[0].__pk_ndim__))
    return None


@_def("arr_shape", _shape_rule)
def arr_shape(v):
    return tuple(int(n) for n in v.shape)


@_def("arr_ndim", _arr_len_rule)
def arr_ndim(v):
    return v.ndim if hasattr(v, "ndim") else 1


@_def("arr_size", _arr_len_rule)
def arr_size(v):
    return v.size if hasattr(v, "size") else len(v)


def _view_rule(ts, params):
    """``A[1:-1, :, 3]``: ``params`` describe each subscript: ('i',) an index (one Int64
    argument), ('s', lo?, hi?, step?) a slice (an Int64 argument for each part given).
    On a list or a string, ``v[lo:hi:step]`` is a new one (Python's slicing)."""
    if ts and ((T.is_list(ts[0]) and T.isconcrete(ts[0])) or ts[0] is T.String):
        ok = len(params) == 1 and params[0][0] == "s" and all(t is T.Int64 for t in ts[1:])
        return ts[0] if ok else None
    if not ts or not is_arr(ts[0]) or not T.isbits(ts[0].__pk_eltype__):
        return None
    if not all(t is T.Int64 for t in ts[1:]) or len(params) > ts[0].__pk_ndim__:
        return None
    dropped = sum(1 for p in params if p[0] == "i")
    return T.array_of(ts[0].__pk_eltype__, ts[0].__pk_ndim__ - dropped)


@_def("arr_view", _view_rule)
def arr_view(spec, v, *vals):
    vals = list(vals)
    key = []
    for p in spec:
        if p[0] == "i":
            key.append(int(vals.pop(0)))
        else:
            lo = int(vals.pop(0)) if p[1] else None
            hi = int(vals.pop(0)) if p[2] else None
            st = int(vals.pop(0)) if p[3] else None
            key.append(slice(lo, hi, st))
    # (as Python subscripts: one subscript is itself, several a tuple -- ``t[1:]`` of a
    # tuple or any other sequence is ``t[slice(1, None)]``)
    return v[key[0]] if len(key) == 1 else v[tuple(key)]


def _shaped(shape, el):
    """The array of ``el`` a shape argument of type ``shape`` makes (an Int64 or a tuple of
    them), or None."""
    if shape is T.Int64:
        return T.array_of(el, 1)
    if shape.__pk_kind__ == "tuple" and shape.__pk_params__ and \
            all(p is T.Int64 for p in shape.__pk_params__):
        return T.array_of(el, len(shape.__pk_params__))
    return None


def _np_new_rule(ts, params):
    """Arrays made in compiled code (``np.zeros(n)``, ``np.zeros((n, m), dtype)``,
    ``np.zeros_like(A)``, ``np.arange(a, b)``): ``params`` are (NumPy function name, element
    type or None for the default)."""
    name, el = params
    if name in ("zeros", "ones", "empty"):
        return _shaped(ts[0], el or T.Float64) if len(ts) == 1 else None
    if name == "full":
        # ``np.full(shape, value)``: the value's type unless a dtype is given, as NumPy
        if len(ts) != 2 or not is_prim(ts[1]):
            return None
        return _shaped(ts[0], el or (T.Float64 if is_float(ts[1]) else
                                     T.Bool if ts[1] is T.Bool else T.Int64))
    if name in ("zeros_like", "ones_like", "empty_like", "copy"):
        if len(ts) == 1 and is_arr(ts[0]) and ts[0].__pk_eltype__.__pk_kind__ == "primitive":
            return T.array_of(el or ts[0].__pk_eltype__, ts[0].__pk_ndim__)
        return None
    if name == "arange":
        if not 1 <= len(ts) <= 3 or not all(is_prim(t) for t in ts):
            return None
        if el is None:
            el = T.Float64 if any(is_float(t) for t in ts) else T.Int64
        return T.array_of(el, 1)
    return None


@_def("np_new", _np_new_rule)
def np_new(spec, *args):
    name, el = spec
    fn = getattr(T.np, name) if name != "copy" else T.np.copy
    if name in ("copy",):
        return fn(args[0])
    if el is None:
        return fn(*args)
    return fn(*args, dtype=el.__pk_dtype__)


def _same_owner_rule(ts, params):
    return T.Bool if len(ts) == 2 and is_arr(ts[0]) and is_arr(ts[1]) else None


@_def("arr_same_owner", _same_owner_rule)
def arr_same_owner(a, b):
    """Do two arrays share memory (so that copying one into the other needs a copy first)?"""
    return bool(T.np.shares_memory(a, b))


def _copy_rule(ts, params):
    if len(ts) == 1 and is_arr(ts[0]) and ts[0].__pk_eltype__.__pk_kind__ == "primitive":
        return ts[0]
    return None


@_def("arr_copy", _copy_rule)
def arr_copy(a):
    return a.copy()


# -- tuples ------------------------------------------------------------------------------------

def _tuple_rule(ts, params):
    return T.tuple_type(*ts)


@_def("tuple", _tuple_rule)
def tuple_(*xs):
    return tuple(xs)


def _is_tuple(t):
    return isinstance(t, T.PkType) and t.__pk_kind__ == "tuple" and \
        not any(isinstance(p, T.Vararg) for p in t.__pk_params__)


@_def("tuple_len", lambda ts, p: T.Int64 if len(ts) == 1 and _is_tuple(ts[0]) else None)
def tuple_len(t):
    return len(t)


def _tuple_get_rule(ts, params):
    if len(ts) == 2 and _is_tuple(ts[0]) and ts[1] is T.Int64:
        return T.make_union(ts[0].__pk_params__)       # Bottom for ``()``: always throws
    return None


@_def("tuple_get", _tuple_get_rule)
def tuple_get(t, i):
    n = len(t)
    j = int(i)
    if j < 0:
        j += n
    if not 0 <= j < n:
        raise BoundsError(f"BoundsError: attempt to access {T.typeof(t)} at index [{int(i)}]")
    return t[j]


def _unpack_rule(ts, params):
    if len(ts) != 1:
        return None
    if _is_tuple(ts[0]) and len(ts[0].__pk_params__) != params[0]:
        return None
    return T.Nothing


@_def("unpack_check", _unpack_rule)
def unpack_check(spec, t):
    n = spec[0]
    if len(t) != n:
        raise ValueError(f"too many values to unpack (expected {n})" if len(t) > n else
                         f"not enough values to unpack (expected {n}, got {len(t)})")
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


def _new_mutable_rule(ts, params):
    if len(params) != 1 or params[0].__pk_kind__ != "mutable":
        return None
    st = params[0]
    fts = tuple(ft for _, ft in st.__pk_fields__)
    # (a field of an abstract or union type takes any of its subtypes, boxed as it comes)
    ok = len(ts) == len(fts) and all(T.issubtype(t, ft) for t, ft in zip(ts, fts))
    return st if ok else None


# ``new`` of a mutable struct: a new object (boxed), its fields set (``mutables.py``)
REGISTRY["new_mutable"] = IntrinsicFn("new_mutable", _new_mutable_rule, _new_impl, nparams=1)


def new_name(t):
    """The intrinsic that builds a value of struct type ``t`` from its fields."""
    return "new_mutable" if t.__pk_kind__ == "mutable" else "new"


def _to_eltype_rule(ts, params):
    if len(ts) == 2 and is_arr(ts[0]):
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


# -- the math module on floats ------------------------------------------------------------------
# One intrinsic per C library function, on Float64 (Python's ``math`` computes in double).
# Errors follow CPython's ``math_1``/``math_2``: a NaN result from non-NaN arguments is
# ``ValueError('math domain error')``; an infinite result from finite arguments is
# ``OverflowError('math range error')`` for the functions that can overflow, else the same
# ValueError.  The Python implementations call ``math`` itself (the same answers, the same
# errors, for boxed arguments and for method bodies run as Python).

LIBM1 = {  # name -> can overflow
    "sqrt": False, "exp": True, "exp2": True, "expm1": True, "log": False, "log2": False,
    "log10": False, "log1p": False, "sin": False, "cos": False, "tan": False, "asin": False,
    "acos": False, "atan": False, "sinh": True, "cosh": True, "tanh": False, "asinh": False,
    "acosh": False, "atanh": False, "erf": False, "erfc": False, "cbrt": False,
}
LIBM2 = ("atan2", "copysign", "fmod", "pow")
LIBM1 = {n: o for n, o in LIBM1.items() if hasattr(math, n)}     # (exp2, cbrt: 3.11+)


def _f64_rule(n):
    def rule(ts, params):
        return T.Float64 if len(ts) == n and all(t is T.Float64 for t in ts) else None
    return rule


def _math_impl(name):
    fn = getattr(math, name)

    def impl(*args):
        return float(fn(*map(float, args)))
    impl.__name__ = f"m_{name}"
    return impl


for _n in list(LIBM1) + list(LIBM2):
    _def(f"m_{_n}", _f64_rule(1 if _n in LIBM1 else 2))(_math_impl(_n))


@_def("c_abs", _f64_rule(2))
def c_abs(re, im):
    """``abs(complex(re, im))``: CPython's ``_Py_c_abs`` (libm's hypot, an infinite part
    wins over a NaN, OverflowError when finite parts give an infinite result)."""
    return abs(complex(re, im))


def _float_pred(ts, params):
    return T.Bool if len(ts) == 1 and is_float(ts[0]) else None


@_def("m_isnan", _float_pred)
def m_isnan(a):
    return math.isnan(a)


@_def("m_isinf", _float_pred)
def m_isinf(a):
    return math.isinf(a)


@_def("m_isfinite", _float_pred)
def m_isfinite(a):
    return math.isfinite(a)


def _rounding(name):
    def impl(a):
        return _f(_tpy(a), getattr(math, name)(a)) if math.isfinite(a) else a
    return impl


for _n in ("floor", "ceil", "trunc"):
    # rounding to a float of the same type (``int_`` of it then gives Python's int result)
    _def(f"round_{_n}", _unary(is_float))(_rounding(_n))


@_def("round_roundeven", _unary(is_float))
def round_roundeven(a):
    """To the nearest integral float, ties to even (``round(x)`` before it becomes an int)."""
    return _f(_tpy(a), float(round(a))) if math.isfinite(a) else a


# ``round(x, n)``: CPython's own (the result has x's type: Float64 or Int64)
_def("round_digits", lambda ts, params: ts[0] if len(ts) == 2 and ts[0] in (T.Float64, T.Int64)
     and ts[1] is T.Int64 else None)(round)


# -- type tests ----------------------------------------------------------------------------------

def _isa_rule(ts, params):
    return T.Bool if len(ts) == 1 else None


@_def("isa", _isa_rule)
def isa(t, x):
    """``isinstance(x, T)``, ``x is None`` (``params``: the type; its Python implementation
    takes it first, as the other intrinsics with type parameters)."""
    return T.isa(x, t)


def _typeassert_rule(ts, params):
    t, declared = ts[0], params[0]
    if T.issubtype(t, declared) or T.isconcrete(t):
        return t
    return declared


def _notnothing_rule(ts, params):
    t = ts[0]
    if t is T.Nothing:
        return T.Bottom
    if t.__pk_kind__ == "union" and T.Nothing in t.__pk_members__:
        return T.make_union([m for m in t.__pk_members__ if m is not T.Nothing])
    return t


@_def("notnothing", _notnothing_rule)
def notnothing(x):
    """``x`` where ``x is not None`` holds (``frontend.narrow_not_none``): its type without
    ``Nothing``; the value itself."""
    return x


@_def("typeassert", _typeassert_rule, nparams=1)
def typeassert(declared, x):
    """A value of a type inference could not tell, returned where ``-> T`` declares one."""
    if not T.isa(x, declared):
        raise TypeError(f"returned a value of type {T.typeof(x)} where the function "
                        f"declares {declared}")
    return x


# -- printing ----------------------------------------------------------------------------------

def _print_rule(ts, params):
    return T.Nothing


@_def("py_print", _print_rule)
def py_print(spec, *vals):
    """``print(...)`` (``frontend.print_call``): ``spec`` is (items, sep, end, file, flush),
    an item a value ("v",), a string literal ("s", text) or an f-string ("f", parts);
    ``file`` a name in ``sys``, None, or "*": the file is the last value."""
    import sys
    items, sep, end, file, flush = spec
    from .strintr import format_parts
    if file == "*":                           # (a file given as a value: the last one)
        *vals, file = vals
    else:
        file = getattr(sys, file) if file else None
    vals = iter(vals)
    out = []
    for it in items:
        if it[0] == "v":
            out.append(next(vals))
        elif it[0] == "s":
            out.append(it[1])
        else:
            out.append(format_parts(it[1], vals))
    print(*out, sep=sep, end=end, file=file, flush=flush)
    return None


@_def("py_sysattr", lambda ts, params: T.PyObject if not ts else None)
def py_sysattr(spec):
    """``sys.stdout`` (``sys.stderr``, ``sys.stdin``) read where compiled code uses it: the
    stream of the moment, so ``sys.stdout.write(s)`` goes where ``redirect_stdout`` and
    pytest's capture send it (``strgen``: ``PySys_GetObject``)."""
    import sys
    return getattr(sys, spec[0])


# -- math functions CPython computes itself (not the C library's): its own code is called --------
#
# name -> (argument types, result type); ``math.gamma``, ``math.hypot``, ``math.gcd`` ... give
# CPython's results bit for bit and its errors because they *are* CPython's.

def _pymath_table():
    F, I = T.Float64, T.Int64
    return {"gamma": ((F,), F), "lgamma": ((F,), F), "hypot": ((F, F), F),
            "degrees": ((F,), F), "radians": ((F,), F), "ldexp": ((F, I), F),
            "frexp": ((F,), T.tuple_type(F, I)), "modf": ((F,), T.tuple_type(F, F)),
            "log": ((F, F), F), "dist": None,
            "gcd": ((I, I), I), "lcm": ((I, I), I), "isqrt": ((I,), I),
            "comb": ((I, I), I), "perm": ((I, I), I), "factorial": ((I,), I)}


PYMATH = {n: v for n, v in _pymath_table().items() if v is not None and hasattr(math, n)}
for _name, (_args, _res) in PYMATH.items():
    _def(f"pymath_{_name}", lambda ts, params, _a=_args, _r=_res: _r if tuple(ts) == _a
         else None)(getattr(math, _name))


# -- random numbers: Python's own ``random`` module ------------------------------------------------
#
# Compiled code draws from the same generator as plain Python (``random``'s module-level
# instance): seeded runs give exactly plain Python's numbers, ``random.seed`` from Python
# or from compiled code seeds both, a forked child gets a fresh stream (CPython reseeds it).

def _random_table():
    F, I, R = T.Float64, T.Int64, T.Real
    return {"random": (0, lambda ts: F if not ts else None),
            "uniform": (2, lambda ts: F if len(ts) == 2 and all(T.issubtype(t, R) for t in ts)
                        else None),
            "gauss": (2, lambda ts: F if len(ts) == 2 and all(T.issubtype(t, R) for t in ts)
                      else None),
            "normalvariate": (2, lambda ts: F if len(ts) == 2 else None),
            "expovariate": (1, lambda ts: F if len(ts) == 1 else None),
            "randint": (2, lambda ts: I if ts == (I, I) else None),
            "randrange": (2, lambda ts: I if ts in ((I,), (I, I), (I, I, I)) else None),
            "seed": (1, lambda ts: T.Nothing if len(ts) <= 1 else None),
            "choice": (1, lambda ts: (ts[0].__pk_eltype__ if T.is_list(ts[0]) else
                                      T.String if ts[0] is T.String else None)
                       if len(ts) == 1 else None),
            "shuffle": (1, lambda ts: T.Nothing if len(ts) == 1 and T.is_list(ts[0])
                        else None)}


RANDOM = _random_table()


def _random_impl(name):
    def impl(*args):
        import random                 # (not at ``import pkgimage.base``: an image load)
        return getattr(random, name)(*args)
    return impl


for _name, (_n, _rule) in RANDOM.items():
    _def(f"random_{_name}", lambda ts, params, _r=_rule: _r(tuple(ts)))(_random_impl(_name))
    DIRECT[f"random_{_name}"] = ("random", _name)


# -- lists (``listintr.py``) -------------------------------------------------------------------

from . import closureintr, dictintr, excintr, fieldintr, listintr, npbuild, npintr, pyintr, setintr, strintr  # noqa: E402,F401  (register their intrinsics)

SPEC_PARAMS |= listintr.SPEC | strintr.SPEC | dictintr.SPEC | setintr.SPEC | fieldintr.SPEC
intr.__dict__.update(REGISTRY)

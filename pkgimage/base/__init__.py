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
from ..compiler.intrinsics import intr
from ..constructors import constructor
from ..errors import ErrorException
from ..types import (AbstractFloat, Any, Array, Bool, Float32, Float64, Int64, Integer, Matrix,
                     Nothing, PRIMITIVES, Real, Signed, Tuple, UInt64, Unsigned, Vector)

MODULE = __name__

_NAMES = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "eq", "ne", "lt",
          "le", "gt", "ge", "getitem", "setitem", "len", "abs", "min", "max", "truth", "int_",
          "float_", "to_index", "range_continues", "range_length", "check_range_step",
          "setview", "call")              # (``call``: a struct's ``__call__``, ``p(x)``)

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


def _make_float_division(P):
    """``//`` and ``%`` on floats of type ``P`` with Python's results, bit for bit.

    Python does not compute ``x // y`` as ``floor(x / y)`` (``1.0 // 0.1`` is 9.0, because
    ``x / y`` rounds up to 10.0); it derives the quotient from ``fmod`` (exact) and then
    rounds (CPython's ``float_divmod``).  ``fmod`` itself is ``mod_float`` on magnitudes,
    where the floored and the truncated remainder agree.  A zero divisor raises Python's
    ``ZeroDivisionError`` (in the intrinsics)."""

    def _floordiv_float(x, y):
        zero = P(0.0)
        if y == zero:
            return intr.floordiv_float(x, y)
        m = intr.mod_float(intr.abs_float(x), intr.abs_float(y))     # fmod(x, y)
        if x < zero:
            m = -m
        d = (x - m) / y
        if m != zero:
            if (y < zero) != (m < zero):
                d = d - P(1.0)
        if d != zero:
            q = intr.floordiv_float(d, P(1.0))       # floor(d)
            if d - q > P(0.5):
                q = q + P(1.0)
            return q
        return zero * (x / y)                        # a zero with the sign of x / y

    def _mod_float(x, y):
        zero = P(0.0)
        if y == zero:
            return intr.mod_float(x, y)
        m = intr.mod_float(intr.abs_float(x), intr.abs_float(y))     # fmod(x, y)
        if x < zero:
            m = -m
        if m != zero:
            if (y < zero) != (m < zero):
                m = m + y
            return m
        return zero if y > zero else -zero           # a zero with the sign of y

    return _floordiv_float, _mod_float


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
for _P in FLOATS:
    _fd, _md = _make_float_division(_P)
    _m(floordiv, _fd, (_P, _P))
    _m(mod, _md, (_P, _P))
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


# Signed against unsigned: compare the mathematical values (Julia's rule; promotion alone
# would turn -1 into a huge unsigned number).  Sums of Bools keep the bodies one block long.
@eq.method
def _(x: Signed, y: Unsigned):
    return (x >= 0) + (intr.promote(x, y) == intr.promote(y, x)) == 2


@eq.method
def _(x: Unsigned, y: Signed):
    return (y >= 0) + (intr.promote(x, y) == intr.promote(y, x)) == 2


@ne.method
def _(x: Signed, y: Unsigned):
    return not (x == y)


@ne.method
def _(x: Unsigned, y: Signed):
    return not (x == y)


@lt.method
def _(x: Signed, y: Unsigned):
    return (x < 0) + (intr.promote(x, y) < intr.promote(y, x)) != 0


@lt.method
def _(x: Unsigned, y: Signed):
    return (y >= 0) + (intr.promote(x, y) < intr.promote(y, x)) == 2


@le.method
def _(x: Signed, y: Unsigned):
    return (x < 0) + (intr.promote(x, y) <= intr.promote(y, x)) != 0


@le.method
def _(x: Unsigned, y: Signed):
    return (y >= 0) + (intr.promote(x, y) <= intr.promote(y, x)) == 2


@gt.method
def _(x: Signed, y: Unsigned):
    return y < x


@gt.method
def _(x: Unsigned, y: Signed):
    return y < x


@ge.method
def _(x: Signed, y: Unsigned):
    return y <= x


@ge.method
def _(x: Unsigned, y: Signed):
    return y <= x


# Integers against floats: exact, as in Python and Julia (``2**53 + 1 == 2.0**53`` is
# False, although both convert to the same Float64).  ``int_minus_float(i, f)`` is a Float64
# with the sign of the exact ``i - f`` (NaN when ``f`` is): ``i`` splits exactly into
# ``H + L`` (``H`` a multiple of 2**32, ``0 <= L < 2**32``, both exact as Float64); ``H - f`` is
# exact whenever ``f`` is close to ``i`` (Sterbenz, or both small integers), and adding ``L``
# keeps the sign.  One block, no branch: small enough to inline and to vectorize.
int_minus_float = D.get_function("int_minus_float", MODULE)
widen_int = D.get_function("widen_int", MODULE)


@widen_int.method
def _(x: Signed):
    return Int64(x)


@widen_int.method
def _(x: Unsigned):
    return UInt64(x)


@widen_int.method
def _(x: Bool):
    return Int64(x)


def _int_minus_float(i, f):
    return (Float64(i // 4294967296) * 4294967296.0 - f) + Float64(i % 4294967296)


_m(int_minus_float, _int_minus_float, (Int64, Float64), (UInt64, Float64))


@eq.method
def _(x: Integer, y: AbstractFloat):
    return int_minus_float(widen_int(x), Float64(y)) == 0.0


@eq.method
def _(x: AbstractFloat, y: Integer):
    return int_minus_float(widen_int(y), Float64(x)) == 0.0


@ne.method
def _(x: Integer, y: AbstractFloat):
    return int_minus_float(widen_int(x), Float64(y)) != 0.0


@ne.method
def _(x: AbstractFloat, y: Integer):
    return int_minus_float(widen_int(y), Float64(x)) != 0.0


@lt.method
def _(x: Integer, y: AbstractFloat):
    return int_minus_float(widen_int(x), Float64(y)) < 0.0


@lt.method
def _(x: AbstractFloat, y: Integer):
    return int_minus_float(widen_int(y), Float64(x)) > 0.0


@le.method
def _(x: Integer, y: AbstractFloat):
    return int_minus_float(widen_int(x), Float64(y)) <= 0.0


@le.method
def _(x: AbstractFloat, y: Integer):
    return int_minus_float(widen_int(y), Float64(x)) >= 0.0


@gt.method
def _(x: Integer, y: AbstractFloat):
    return int_minus_float(widen_int(x), Float64(y)) > 0.0


@gt.method
def _(x: AbstractFloat, y: Integer):
    return int_minus_float(widen_int(y), Float64(x)) < 0.0


@ge.method
def _(x: Integer, y: AbstractFloat):
    return int_minus_float(widen_int(x), Float64(y)) >= 0.0


@ge.method
def _(x: AbstractFloat, y: Integer):
    return int_minus_float(widen_int(y), Float64(x)) <= 0.0


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


@range_length.method
def _(start: Int64, stop: Int64, step: Int64):
    """``len(range(start, stop, step))`` as a UInt64 (differences taken modulo 2**64 are
    exact here, where Int64 ones could overflow)."""
    z = UInt64(0)
    if step > 0:
        if start >= stop:
            return z
        return (intr.promote(stop, z) - intr.promote(start, z) - UInt64(1)) // \
            intr.promote(step, z) + UInt64(1)
    if start <= stop:
        return z
    return (intr.promote(start, z) - intr.promote(stop, z) - UInt64(1)) // \
        (z - intr.promote(step, z)) + UInt64(1)


@check_range_step.method
def _(step: Integer):
    if step == 0:
        error("range() arg 3 must not be zero")
    return None


# -- arrays ----------------------------------------------------------------------------------

@len.method
def _(v: Array):
    return intr.arr_len(v)


def _get1(A, i):
    return intr.arr_get(A, to_index(i))


def _get2(A, i, j):
    return intr.arr_get(A, to_index(i), to_index(j))


def _get3(A, i, j, k):
    return intr.arr_get(A, to_index(i), to_index(j), to_index(k))


def _get4(A, i, j, k, m):
    return intr.arr_get(A, to_index(i), to_index(j), to_index(k), to_index(m))


def _set1(A, i, x):
    intr.arr_set(A, intr.to_eltype(A, x), to_index(i))
    return None


def _set2(A, i, j, x):
    intr.arr_set(A, intr.to_eltype(A, x), to_index(i), to_index(j))
    return None


def _set3(A, i, j, k, x):
    intr.arr_set(A, intr.to_eltype(A, x), to_index(i), to_index(j), to_index(k))
    return None


def _set4(A, i, j, k, m, x):
    intr.arr_set(A, intr.to_eltype(A, x), to_index(i), to_index(j), to_index(k), to_index(m))
    return None


# ``A[i]``, ``A[i, j]``, ... on an array of any rank (fewer indices than axes is a view, as
# NumPy's ``A[i]`` is a row), and ``A[i, j] = x``.
for _k, (_g, _s) in enumerate(((_get1, _set1), (_get2, _set2), (_get3, _set3),
                               (_get4, _set4)), start=1):
    _m(getitem, _g, (Array,) + (Integer,) * _k)
    _m(setitem, _s, (Array,) + (Integer,) * _k + (Any,))


# ``A[1:-1, 0] = x``: copy an array of the view's shape, or fill with a number, as NumPy's
# assignment to a basic slice (a source sharing memory with the view is copied first).
@setview.method
def _(dst: Vector, src: Vector):
    n = len(dst)
    if len(src) != n:
        error("could not broadcast the input array into the shape of the slice")
    if intr.arr_same_owner(dst, src):
        src = intr.arr_copy(src)
    for i in range(n):
        dst[i] = src[i]
    return None


@setview.method
def _(dst: Matrix, src: Matrix):
    n, m = dst.shape
    if src.shape != dst.shape:
        error("could not broadcast the input array into the shape of the slice")
    if intr.arr_same_owner(dst, src):
        src = intr.arr_copy(src)
    for i in range(n):
        for j in range(m):
            dst[i, j] = src[i, j]
    return None


@setview.method
def _(dst: Vector, x: Real):
    for i in range(len(dst)):
        dst[i] = x
    return None


@setview.method
def _(dst: Matrix, x: Real):
    n, m = dst.shape
    for i in range(n):
        for j in range(m):
            dst[i, j] = x
    return None


# -- tuples ----------------------------------------------------------------------------------

@len.method
def _(t: Tuple):
    return intr.tuple_len(t)


@getitem.method
def _(t: Tuple, i: Integer):
    return intr.tuple_get(t, to_index(i))


@truth.method
def _(t: Tuple):
    return len(t) != 0


@eq.method
def _(a: Tuple, b: Tuple):
    if len(a) != len(b):
        return False
    for i in range(len(a)):
        if a[i] != b[i]:
            return False
    return True


@ne.method
def _(a: Tuple, b: Tuple):
    return not (a == b)


@lt.method
def _(a: Tuple, b: Tuple):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return a[i] < b[i]
    return len(a) < len(b)


@le.method
def _(a: Tuple, b: Tuple):
    return not (b < a)


@gt.method
def _(a: Tuple, b: Tuple):
    return b < a


@ge.method
def _(a: Tuple, b: Tuple):
    return not (a < b)


def error(message):
    """``pk.error``: raise ErrorException (compiled code lowers calls to it specially)."""
    raise ErrorException(message)


def register_in_frontend(special, base, math_funcs, builtins_funcs):
    """Name the base library's special callees, operators and ``math`` functions to the
    frontend.  Called by the frontend when it is first imported (this module does not import
    it: a process that only loads package images uses the base library's functions, never
    the frontend)."""
    special["error"] = error
    special["typeof"] = T.typeof
    special["constructor"] = constructor
    base.update({n: globals()[n] for n in _NAMES})
    base.update(lists.FUNCTIONS)
    base.update(strings.FUNCTIONS)
    base.update(dicts.FUNCTIONS)
    base.update(sets.FUNCTIONS)
    base.update(arraysnp.FUNCTIONS)
    base.update(complexes.FUNCTIONS)
    base.update(ranges.FUNCTIONS)
    base.update(slices.FUNCTIONS)
    base.update(bisects.FUNCTIONS)
    base.update(arraysbuild.FUNCTIONS)
    base.update(strconv.FUNCTIONS)               # (``format`` only here: not a global)
    builtins_funcs.update(strconv.BUILTINS)      # ``hex(n)``
    base.update(rounding.FUNCTIONS)
    builtins_funcs.update(rounding.BUILTINS)     # ``round(x)``, ``round(x, n)``
    math_funcs.update(bisects.PY_NAMES)          # ``bisect.bisect(a, x)``
    base.update(splat.FUNCTIONS)
    base.update(bits.FUNCTIONS)
    base.update(inplace.FUNCTIONS)
    from .fieldcalls import field_caller
    base["field_caller"] = field_caller          # (``h.f(x)``: a field holding a function)
    math_funcs.update(complexes.PY_NAMES)       # ``complex(a, b)``, ``cmath.sqrt(z)``
    mathlib.register_in_frontend(base, math_funcs)

from .rational import Rational  # noqa: E402  (defined with the functions above)
from . import mathlib  # noqa: E402  (math.sqrt and friends, on the functions above)

globals().update(mathlib.FUNCTIONS)        # pk.base.sqrt, ... (extended like pk.base.add)
__all__ += list(mathlib.FUNCTIONS)
globals().update(mathlib.PY_FUNCTIONS)     # pk.base.gamma, pk.base.random_random, ...
__all__ += list(mathlib.PY_FUNCTIONS)
from . import lists  # noqa: E402  (List methods on the functions above)

globals().update(lists.FUNCTIONS)          # pk.base.append, pk.base.contains, ...
__all__ += list(lists.FUNCTIONS)
from . import strings  # noqa: E402  (String methods on the functions above)

globals().update(strings.FUNCTIONS)        # pk.base.split, pk.base.str_, ...
__all__ += list(strings.FUNCTIONS)
from . import dicts  # noqa: E402  (Dict methods on the functions above)

globals().update(dicts.FUNCTIONS)          # pk.base.get, pk.base.items, ...
__all__ += list(dicts.FUNCTIONS)
from . import arraysnp  # noqa: E402  (NumPy's whole-array operations)

globals().update(arraysnp.FUNCTIONS)       # pk.base.np_sum, ...
__all__ += list(arraysnp.FUNCTIONS)


# ``x.name(...)`` in compiled code calls the base function ``name`` for these names whatever
# ``x`` is (a struct method of that name extends it: ``structmethods.py``)
METHOD_NAMES = frozenset(lists.METHOD_NAMES) | frozenset(strings.METHODS) | {"format"} | \
    frozenset(("get", "setdefault", "keys", "values", "items", "update"))

from . import complexes  # noqa: E402  (Python's complex: Complex[Float64], cmath; its struct's
from .complexes import Complex  # noqa: E402   methods need METHOD_NAMES above)

globals().update(complexes.FUNCTIONS)      # pk.base.complex_, pk.base.cmath_sqrt, ...
__all__ += list(complexes.FUNCTIONS) + ["Complex"]
from . import ranges  # noqa: E402  (``range(...)`` as a value: Range)

globals().update(ranges.FUNCTIONS)         # pk.base.range_
__all__ += list(ranges.FUNCTIONS)
from . import slices  # noqa: E402  (``x[lo:hi:step] = y``: setslice)

globals().update(slices.FUNCTIONS)         # pk.base.setslice
__all__ += list(slices.FUNCTIONS)
from . import bisects  # noqa: E402  (Python's bisect module: bisect_right, insort_right, ...)

globals().update(bisects.FUNCTIONS)        # pk.base.bisect_right, ...
__all__ += list(bisects.FUNCTIONS)
from . import strconv  # noqa: E402  (hex, oct, bin, int(s, base), str.format)

globals().update({n: f for n, f in strconv.FUNCTIONS.items() if n != "format"})
__all__ += [n for n in strconv.FUNCTIONS if n != "format"]
from . import rounding  # noqa: E402  (round(x), round(x, n))

globals().update(rounding.FUNCTIONS)       # pk.base.round_
__all__ += list(rounding.FUNCTIONS)
from . import arraysbuild  # noqa: E402  (np.random.randn, np.hstack, A @ B, np.trace, ...)

globals().update(arraysbuild.FUNCTIONS)    # pk.base.matmul, pk.base.np_hstack, ...
__all__ += list(arraysbuild.FUNCTIONS)
from . import splat  # noqa: E402  (``f(*t)``: the call on a tuple's elements)

globals().update(splat.FUNCTIONS)          # pk.base.splat_call, pk.base.tuple_cat
__all__ += list(splat.FUNCTIONS)
from . import bits  # noqa: E402  (``&``, ``|``, ``^`` of integers)

globals().update(bits.FUNCTIONS)           # pk.base.and_, pk.base.or_, pk.base.xor
__all__ += list(bits.FUNCTIONS)
from . import inplace  # noqa: E402  (``x += y``: in place for lists and arrays)

globals().update(inplace.FUNCTIONS)        # pk.base.iadd, pk.base.imul, ...
__all__ += list(inplace.FUNCTIONS)
from . import sets  # noqa: E402  (Set methods on the functions above; ``|`` is ``or_``)
from . import randoms  # noqa: E402,F401  (random.choice and random.shuffle)
from . import pyobjects  # noqa: E402,F401  (Python objects walked, measured, sorted by Python)

globals().update(sets.FUNCTIONS)           # pk.base.set_add, pk.base.set_union, ...
__all__ += list(sets.FUNCTIONS)

# (the end of the library's import: its methods are all defined; an image loaded before it
# took their tables on trust, ``image/tables.deferrable``, and checks them now)
from .. import dispatch as _dispatch  # noqa: E402

_dispatch.library_loaded(__name__)

"""``Complex[Float64]``: Python's ``complex`` in compiled code, written in the compiled language.

Julia's ``Complex{Float64}`` is an immutable struct of two floats, and so is this one: in
native code a pair of doubles (no allocation), and at the boundary Python's own ``complex``
(``typeof(1j)`` is this type, a value crosses as ``complex(re, im)`` and comes back through
its ``real``/``imag`` attributes, which are the struct's fields).  The arithmetic is CPython's
own algorithms, so results are Python's bit for bit: the product and quotient of
``complexobject.c`` (``_Py_c_prod``, ``_Py_c_quot`` with its scaling, ``ZeroDivisionError``),
integral powers up to 100 by repeated squaring (``c_powi``), a real operand taken as
``complex(x, 0.0)`` first (so ``-0.0`` signs come out as Python's).  ``abs`` is ``_Py_c_abs`` (libm's hypot);
``cmath``'s functions and non-integral powers are CPython's own, called on the boxed values.
"""

from __future__ import annotations

import cmath
import math

from .. import dispatch as D
from .. import types as T
from ..compiler.intrinsics import REGISTRY, IntrinsicFn, intr
from ..typedefs import struct
from ..types import Float64, Int64, Number, Real
from . import MODULE, abs, add, eq, mul, ne, neg, pow, sub, truediv


@struct
class ComplexF64(Number):
    real: Float64
    imag: Float64

    def conjugate(self):
        return ComplexF64(self.real, -self.imag)


C = ComplexF64
type.__setattr__(C, "__pk_name__", "Complex[Float64]")
T.register_pytype(complex, C)            # ``typeof(1j)``: Python's complex is this type
T.set_value_class(C, complex)            # and its values cross as Python's complex
Complex = C

complex_ = D.get_function("complex_", MODULE)


@complex_.method
def _(re: Real, im: Real):
    return ComplexF64(Float64(re), Float64(im))


@complex_.method
def _(re: Real):
    return ComplexF64(Float64(re), 0.0)


@complex_.method
def _(z: ComplexF64):
    return z


@add.method
def _(a: ComplexF64, b: ComplexF64):
    return ComplexF64(a.real + b.real, a.imag + b.imag)


@sub.method
def _(a: ComplexF64, b: ComplexF64):
    return ComplexF64(a.real - b.real, a.imag - b.imag)


@mul.method
def _(a: ComplexF64, b: ComplexF64):
    return ComplexF64(a.real * b.real - a.imag * b.imag, a.real * b.imag + a.imag * b.real)


@truediv.method
def _(a: ComplexF64, b: ComplexF64):
    abs_breal = -b.real if b.real < 0.0 else b.real
    abs_bimag = -b.imag if b.imag < 0.0 else b.imag
    if abs_breal >= abs_bimag:
        if abs_breal == 0.0:
            raise ZeroDivisionError("complex division by zero")
        ratio = b.imag / b.real
        denom = b.real + b.imag * ratio
        return ComplexF64((a.real + a.imag * ratio) / denom, (a.imag - a.real * ratio) / denom)
    if abs_bimag >= abs_breal:
        ratio = b.real / b.imag
        denom = b.real * ratio + b.imag
        return ComplexF64((a.real * ratio + a.imag) / denom, (a.imag * ratio - a.real) / denom)
    return ComplexF64(math.nan, math.nan)


@neg.method
def _(a: ComplexF64):
    return ComplexF64(-a.real, -a.imag)


@eq.method
def _(a: ComplexF64, b: ComplexF64):
    return a.real == b.real and a.imag == b.imag


@ne.method
def _(a: ComplexF64, b: ComplexF64):
    return not (a == b)


@abs.method
def _(a: ComplexF64):
    return intr.c_abs(a.real, a.imag)


def _mixed(op):
    """``op`` with a real operand: ``complex(x, 0.0)`` first, as CPython takes it."""
    @op.method
    def _(a: ComplexF64, b: Real):
        return op(a, ComplexF64(Float64(b), 0.0))

    @op.method
    def _(a: Real, b: ComplexF64):
        return op(ComplexF64(Float64(a), 0.0), b)


for _f in (add, sub, mul, truediv, eq, ne):
    _mixed(_f)


def _powu(x: ComplexF64, n: Int64):
    """CPython's ``c_powu``: repeated squaring."""
    r = ComplexF64(1.0, 0.0)
    p = x
    mask = 1
    while mask <= n:
        if (n // mask) % 2 == 1:
            r = r * p
        mask = mask * 2
        p = p * p
    return r


_powu_fn = D.get_function("complex_powu", MODULE)
_powu_fn.method(_powu)


def _py_pow(a, b):
    return complex(a) ** complex(b)


def _intrinsic(name, rule, impl):
    """An intrinsic run as Python on the boxed values, with its result type (``rule``)."""
    REGISTRY[name] = IntrinsicFn(name, rule, impl)
    setattr(intr, name, REGISTRY[name])         # (``intr.name`` in the methods below)
    return REGISTRY[name]


_intrinsic("complex_pow_py", lambda ts, p: C if len(ts) == 2 else None, _py_pow)


@pow.method
def _(x: ComplexF64, e: Int64):
    # CPython's ``complex_pow``: an integral exponent up to 100 by squaring (``c_powi``),
    # else ``c_pow``; a zero divisor is ZeroDivisionError, an infinite part OverflowError
    if e == 0:
        return ComplexF64(1.0, 0.0)
    if e > 100 or e < -100:
        return intr.complex_pow_py(x, e)
    if e > 0:
        p = _powu_fn(x, e)
    else:
        d = _powu_fn(x, -e)
        if d.real == 0.0 and d.imag == 0.0:
            raise ZeroDivisionError("0.0 to a negative or complex power")
        p = ComplexF64(1.0, 0.0) / d
    if math.isinf(p.real) or math.isinf(p.imag):
        raise OverflowError("complex exponentiation")
    return p


@pow.method
def _(x: ComplexF64, e: Float64):
    if e == math.floor(e) and -100.0 <= e <= 100.0:
        return x ** Int64(e)
    return intr.complex_pow_py(x, e)


@pow.method
def _(x: ComplexF64, e: ComplexF64):
    if e.imag == 0.0:
        return x ** e.real
    return intr.complex_pow_py(x, e)


@pow.method
def _(x: Real, e: ComplexF64):
    return ComplexF64(Float64(x), 0.0) ** e


# -- cmath: CPython's own functions, on the boxed values ----------------------------------------

CMATH = ("sqrt", "exp", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
         "cosh", "tanh", "asinh", "acosh", "atanh")
FUNCTIONS = {"complex_": complex_}
PY_NAMES = {complex: "complex_"}


def _define_cmath():
    from .synth import add_synth
    for name, rt in [(n, C) for n in CMATH] + [("phase", Float64)]:
        impl = getattr(cmath, name)
        iname = f"cmath_{name}"
        _intrinsic(iname, lambda ts, p, _rt=rt: _rt if ts == (C,) else None, impl)
        f = FUNCTIONS[iname] = D.get_function(iname, MODULE)
        add_synth(f, (C,), [("intrinsic", iname)], lambda z, _i=impl: _i(z))
        add_synth(f, (Real,), [("call", complex_), ("call", f)], lambda x, _i=impl: _i(x))
        PY_NAMES[impl] = iname


_define_cmath()

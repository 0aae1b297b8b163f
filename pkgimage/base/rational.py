"""``Rational[Int64]``: a normalised rational, written in the compiled language.

Like Julia's ``Rational{Int}``, its constructor (an "inner constructor": the method for
exactly the field types replaces the default one) divides out the gcd and keeps the
denominator positive, so ``Rational[Int64](3, 6)`` has ``num == 1`` and ``den == 2`` and
equality is field equality.
"""

from __future__ import annotations

from ..compiler.intrinsics import intr
from ..constructors import constructor
from ..errors import ErrorException
from ..typedefs import struct
from ..types import Int64, Integer, Real
from . import add, eq, error, mul, neg, sub


@struct
class RationalInt64(Real):
    num: Int64
    den: Int64


R = RationalInt64
type.__setattr__(R, "__pk_name__", "Rational[Int64]")
type.__setattr__(R, "__repr__", lambda self: f"{self.num}//{self.den}")


def _gcd(a: Int64, b: Int64):
    a = -a if a < 0 else a
    b = -b if b < 0 else b
    while b != 0:
        t = b
        b = a % b
        a = t
    return a


@constructor(R).method
def _(num: Int64, den: Int64):
    if den == 0 and num == 0:
        error("ArgumentError: invalid rational: zero(Int64)//zero(Int64)")
    g = _gcd_fn(num, den)
    if den < 0:
        g = -g
    return intr.new(RationalInt64, num // g, den // g)


@constructor(R).method
def _(num: Integer):
    return RationalInt64(Int64(num), 1)


@constructor(R).method
def _(num: Integer, den: Integer):
    return RationalInt64(Int64(num), Int64(den))


@add.method
def _(x: RationalInt64, y: RationalInt64):
    return RationalInt64(x.num * y.den + y.num * x.den, x.den * y.den)


@sub.method
def _(x: RationalInt64, y: RationalInt64):
    return RationalInt64(x.num * y.den - y.num * x.den, x.den * y.den)


@mul.method
def _(x: RationalInt64, y: RationalInt64):
    return RationalInt64(x.num * y.num, x.den * y.den)


@neg.method
def _(x: RationalInt64):
    return intr.new(RationalInt64, -x.num, x.den)


@eq.method
def _(x: RationalInt64, y: RationalInt64):
    return x.num == y.num and x.den == y.den


@add.method
def _(x: RationalInt64, y: Integer):
    return x + RationalInt64(y)


@add.method
def _(x: Integer, y: RationalInt64):
    return RationalInt64(x) + y


@mul.method
def _(x: RationalInt64, y: Integer):
    return x * RationalInt64(y)


@mul.method
def _(x: Integer, y: RationalInt64):
    return RationalInt64(x) * y


class _RationalConstructor:
    """``Rational[Int64]``: only Int64 rationals exist so far."""

    __pk_type_constructor__ = True      # compiled code may write Rational[Int64](n, d)

    def __getitem__(self, t):
        if t is not Int64:
            raise TypeError(f"Rational[{t!r}] is not supported (only Rational[Int64])")
        return R

    def __repr__(self):
        return "Rational"


Rational = _RationalConstructor()
ErrorException  # re-exported name used in docs

from ..dispatch import get_function as _get  # noqa: E402

_gcd_fn = _get("gcd", "pkgimage.base")
_gcd_fn.method(_gcd)

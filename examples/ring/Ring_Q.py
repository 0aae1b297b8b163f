"""Ring_Q (seed 003): rationals as a ring, extending Ring_base's functions.

Julia::

    module Ring_Q
    using Reexport
    @reexport using Ring_base
    export foo_Q
    struct foo_Q x::Rational{Int} end
    Ring_base.addxy(x::foo_Q, y::foo_Q) = foo_Q(x.x + y.x)
    Ring_base.mulxy(x::foo_Q, y::foo_Q) = foo_Q(x.x * y.x)
    end

Julia's default constructor ``foo_Q(x)`` converts its argument to ``Rational{Int}``, which is
what lets the seed write ``foo_Q(2)``; the method ``foo_Q(x: Integer)`` below does the same
for integers.
"""

import pkgimage as pk
from pkgimage import Int64, Integer

from . import Ring_base
from .Ring_base import addxy, mulxy  # noqa: F401  (re-exported, as @reexport does)

QInt = pk.Rational[Int64]


@pk.struct
class foo_Q:
    x: pk.Rational[Int64]


@pk.generic
def foo_Q(x: Integer):
    return foo_Q(QInt(x))


@Ring_base.addxy.method
def _(x: foo_Q, y: foo_Q):
    return foo_Q(x.x + y.x)


@Ring_base.mulxy.method
def _(x: foo_Q, y: foo_Q):
    return foo_Q(x.x * y.x)


__all__ = ["foo_Q", "addxy", "mulxy"]

"""Ring_int (seed 003): integers as a ring, extending Ring_base's functions.

Julia::

    module Ring_int
    using Reexport
    @reexport using Ring_base
    export foo_int
    struct foo_int x::Int end
    Ring_base.addxy(x::foo_int, y::foo_int) = foo_int(x.x + y.x)
    Ring_base.mulxy(x::foo_int, y::foo_int) = foo_int(x.x * y.x)
    end
"""

import pkgimage as pk
from pkgimage import Int64

from . import Ring_base
from .Ring_base import addxy, mulxy  # noqa: F401  (re-exported, as @reexport does)


@pk.struct
class foo_int:
    x: Int64


@Ring_base.addxy.method
def _(x: foo_int, y: foo_int):
    return foo_int(x.x + y.x)


@Ring_base.mulxy.method
def _(x: foo_int, y: foo_int):
    return foo_int(x.x * y.x)


__all__ = ["foo_int", "addxy", "mulxy"]

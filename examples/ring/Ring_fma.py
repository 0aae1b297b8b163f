"""Ring_fma (seed 003): fused multiply-add for any ring, plus fallbacks that say which
operation is missing.

Julia (MultiFunctions version of the seed)::

    @mf addxy(x, y) = error("addxy unimplemented in context for args $((typeof(x), typeof(y)))")
    @mf mulxy(x, y) = error("mulxy unimplemented in context for args $((typeof(x), typeof(y)))")
    @mf ring_fma(x, y, z) = addxy(x, mulxy(y, z))

With ordinary dispatch the fallbacks are methods on ``(Any, Any)`` of Ring_base's functions:
every ring's own methods are more specific, so they only run for types no ring module
handles.  ``ring_fma(2.2, 3.2, 2.3)`` evaluates ``mulxy(3.2, 2.3)`` first, so it is the
``mulxy`` fallback that raises.
"""

import pkgimage as pk

from . import Ring_base
from .Ring_base import addxy, mulxy


@Ring_base.addxy.method
def _(x, y):
    pk.error(f"addxy unimplemented in context for args ({pk.typeof(x)}, {pk.typeof(y)})")


@Ring_base.mulxy.method
def _(x, y):
    pk.error(f"mulxy unimplemented in context for args ({pk.typeof(x)}, {pk.typeof(y)})")


@pk.generic
def ring_fma(x, y, z):
    return addxy(x, mulxy(y, z))


__all__ = ["ring_fma", "addxy", "mulxy"]

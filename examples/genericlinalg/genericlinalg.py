"""Generic linear algebra (seed 001's GenericLinearAlgebra), independent of fixedpoint."""
import pkgimage as pk
from pkgimage import Any
__pkgimage__ = True

@pk.generic
def dot3(a0, a1, a2, b0, b1, b2):
    return a0 * b0 + a1 * b1 + a2 * b2

pk.precompile(dot3, (pk.Float64,) * 6)

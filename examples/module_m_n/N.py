"""Module N (seed 003): ``(+)(x::Float64, y::Float64) = 0`` -- redefines ``+`` on Float64 for
all compiled code in the process (Python's own ``float.__add__`` is not affected).

This pollutes the process on purpose: import it only in a throwaway interpreter."""

import pkgimage as pk
from pkgimage import Float64


@pk.base.add.method
def _(x: Float64, y: Float64):
    return 0.0

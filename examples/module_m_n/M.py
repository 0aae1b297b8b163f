"""Module M (seed 003): ``f(x::Float64, y::Float64) = x + y``."""

import pkgimage as pk
from pkgimage import Float64


@pk.generic
def f(x: Float64, y: Float64):
    return x + y

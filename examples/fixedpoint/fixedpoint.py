"""Fixed-point numbers (seed 001's FixedPointNumbers), a tiny independent package."""
import pkgimage as pk
from pkgimage import Int64, Real
__pkgimage__ = True

@pk.struct
class Fixed(Real):
    raw: Int64          # value * 2**16

@pk.generic
def fixed(x: Int64):
    return Fixed(x * 65536)

@pk.base.add.method
def _(a: Fixed, b: Fixed):
    return Fixed(a.raw + b.raw)

@pk.base.mul.method
def _(a: Fixed, b: Fixed):
    return Fixed((a.raw * b.raw) // 65536)

@pk.generic
def tofloat(a: Fixed):
    return a.raw / 65536.0

pk.precompile(fixed, (Int64,))

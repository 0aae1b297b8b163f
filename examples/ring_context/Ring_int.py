"""A ring of integers: context methods only (no global method table changes)."""
import pkgimage as pk
from pkgimage import Int64

__pkgimage__ = True


@pk.struct
class foo_int:
    x: Int64


@pk.mf
def addxy(x: foo_int, y: foo_int):
    return foo_int(x.x + y.x)


@pk.mf
def mulxy(x: foo_int, y: foo_int):
    return foo_int(x.x * y.x)


pk.fexport(addxy)
pk.fexport(mulxy)

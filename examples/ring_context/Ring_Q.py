"""A ring of rationals: context methods only."""
import pkgimage as pk
from pkgimage import Int64, Rational

__pkgimage__ = True


@pk.struct
class foo_Q:
    x: Rational[Int64]


@pk.mf
def addxy(x: foo_Q, y: foo_Q):
    return foo_Q(x.x + y.x)


@pk.mf
def mulxy(x: foo_Q, y: foo_Q):
    return foo_Q(x.x * y.x)


pk.fexport(addxy)
pk.fexport(mulxy)

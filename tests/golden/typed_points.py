"""Golden typed IR: a parametric struct and methods with a static parameter and varargs."""
import pkgimage as pk
from pkgimage import Int64, Float64, Real

T = pk.TypeVar("T", bound=Real)

GOLDEN = [("norm2", (None,)), ("zero_of", (None,)), ("total", (Int64, Int64, Int64))]


@pk.struct
class Point(pk.Generic[T]):
    x: T
    y: T


@pk.generic
def norm2(p: Point[T]):
    return p.x * p.x + p.y * p.y


@pk.generic
def zero_of(p: Point[T]):
    return Point(T(0), p.y)


@pk.generic
def total(*xs: Int64):
    s = 0
    for x in xs:
        s += x
    return s


def golden_types(name):
    """Argument types that need the module's own types."""
    return {"norm2": (Point[Float64],), "zero_of": (Point[Int64],)}.get(name)

"""A parametric ``Point[T]`` (``T <: Real``) with methods, used for Float64, Int64 and
Rational[Int64] coordinates: ``norm2`` summed over a vector of points, and ``dot`` of two
points.  The textbook version with pkgimage's decorators and annotations added
(``point_plain.py``: a dataclass and the same functions; ``point_numba.py``: numba
``@jitclass`` points in a ``numba.typed.List``)."""

import pkgimage as pk

__pkgimage__ = True

T = pk.TypeVar("T", bound=pk.Real)


@pk.struct
class Point(pk.Generic[T]):
    x: T
    y: T


@pk.generic
def norm2(p: Point[T]):
    return p.x * p.x + p.y * p.y


@pk.generic
def dot(p: Point[T], q: Point[T]):
    return p.x * q.x + p.y * q.y


@pk.generic
def total(points: pk.Vector[Point[T]]):
    s = norm2(points[0])
    for i in range(1, len(points)):
        s = s + norm2(points[i]) - dot(points[i], points[i - 1])
    return s


def points(xs, ys):
    """A ``Vector[Point[T]]`` of the pairs, ``T`` the type of ``xs[0]`` (plain Python, not
    compiled; ``Point[T](x, y)`` is spelled out because building a point from Python with
    ``T`` inferred is far slower)."""
    P = Point[pk.typeof(xs[0])]
    return pk.Vector[P]([P(x, y) for x, y in zip(xs, ys)])


@pk.precompilation(__name__)
def _workload():
    total(points([1.0, 2.0], [3.0, 4.0]))
    total(points([1, 2], [3, 4]))
    R = pk.Rational[pk.Int64]
    total(points([R(1, 2), R(3, 2)], [R(1, 3), R(2, 3)]))

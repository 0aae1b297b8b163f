"""``point.py`` under numba.  numba has no parametric structs: ``Point`` is a numba
``@jitclass`` made once per coordinate type (``float64``, ``int64``, and ``Rational``, itself
a ``@jitclass`` with ``__add__``/``__sub__``/``__mul__`` that normalises by the gcd as
pkgimage's ``Rational[Int64]`` does), and a vector of points is a ``numba.typed.List``.
``norm2``, ``dot`` and ``total`` are the same bodies under ``@numba.njit``."""

import numba
from numba import float64, int64, typed
from numba.experimental import jitclass


@numba.njit
def gcd(a, b):
    a = -a if a < 0 else a
    b = -b if b < 0 else b
    while b != 0:
        t = b
        b = a % b
        a = t
    return a


@jitclass([("num", int64), ("den", int64)])
class Rational:
    def __init__(self, num, den):
        g = gcd(num, den)
        if den < 0:
            g = -g
        self.num = num // g
        self.den = den // g

    def __add__(self, o):
        return Rational(self.num * o.den + o.num * self.den, self.den * o.den)

    def __sub__(self, o):
        return Rational(self.num * o.den - o.num * self.den, self.den * o.den)

    def __mul__(self, o):
        return Rational(self.num * o.num, self.den * o.den)


def _point_class(t):
    @jitclass([("x", t), ("y", t)])
    class Point:
        def __init__(self, x, y):
            self.x = x
            self.y = y
    return Point


PointFloat64 = _point_class(float64)
PointInt64 = _point_class(int64)
PointRational = _point_class(Rational.class_type.instance_type)


@numba.njit
def norm2(p):
    return p.x * p.x + p.y * p.y


@numba.njit
def dot(p, q):
    return p.x * q.x + p.y * q.y


@numba.njit
def total(points):
    s = norm2(points[0])
    for i in range(1, len(points)):
        s = s + norm2(points[i]) - dot(points[i], points[i - 1])
    return s


# -- building the inputs (not timed) ---------------------------------------------------------

@numba.njit
def _points_f(xs, ys):
    out = typed.List()
    for i in range(len(xs)):
        out.append(PointFloat64(xs[i], ys[i]))
    return out


@numba.njit
def _points_i(xs, ys):
    out = typed.List()
    for i in range(len(xs)):
        out.append(PointInt64(xs[i], ys[i]))
    return out


@numba.njit
def _points_r(xn, xd, yn, yd):
    out = typed.List()
    for i in range(len(xn)):
        out.append(PointRational(Rational(xn[i], xd[i]), Rational(yn[i], yd[i])))
    return out


def points(kind, *arrays):
    """``kind`` "Float64"/"Int64" with arrays xs, ys; "Rational" with xnum, xden, ynum, yden."""
    return {"Float64": _points_f, "Int64": _points_i, "Rational": _points_r}[kind](*arrays)

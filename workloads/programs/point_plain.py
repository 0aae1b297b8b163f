"""``point.py`` as plain Python: ``Point`` a frozen dataclass, the same functions without
pkgimage's decorators and annotations; Rational coordinates are ``fractions.Fraction``."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: object
    y: object


def norm2(p):
    return p.x * p.x + p.y * p.y


def dot(p, q):
    return p.x * q.x + p.y * q.y


def total(points):
    s = norm2(points[0])
    for i in range(1, len(points)):
        s = s + norm2(points[i]) - dot(points[i], points[i - 1])
    return s


def points(xs, ys):
    """A list of ``Point``."""
    return [Point(x, y) for x, y in zip(xs, ys)]

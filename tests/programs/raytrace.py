"""A small ray tracer: vectors, rays, spheres and planes as classes with methods and operator
overloads, a scene as a list of shapes (an abstract base class declaring the methods each
shape implements: each ``intersect`` and ``normal_at`` call dispatches on the shape), Lambert
shading with shadows and reflections, rendered to ASCII and summed."""

import math
import sys

import pkgimage as pk


@pk.struct
class Vec:
    x: float
    y: float
    z: float

    def __add__(self, o: "Vec"):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o: "Vec"):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def __mul__(self, k: float):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o: "Vec"):
        return self.x * o.x + self.y * o.y + self.z * o.z

    def length(self):
        return math.sqrt(self.dot(self))

    def normalized(self):
        return self * (1.0 / self.length())


@pk.struct
class Ray:
    origin: Vec
    direction: Vec

    def at(self, t: float):
        return self.origin + self.direction * t


@pk.abstract
class Shape:
    def intersect(self, ray: Ray) -> float:
        raise NotImplementedError

    def normal_at(self, p: Vec) -> Vec:
        raise NotImplementedError


@pk.struct
class Sphere(Shape):
    center: Vec
    radius: float
    shine: float

    def intersect(self, ray: Ray):
        oc = ray.origin - self.center
        b = oc.dot(ray.direction)
        c = oc.dot(oc) - self.radius * self.radius
        disc = b * b - c
        if disc < 0.0:
            return -1.0
        root = math.sqrt(disc)
        t = -b - root
        if t > 1e-6:
            return t
        t = -b + root
        return t if t > 1e-6 else -1.0

    def normal_at(self, p: Vec):
        return (p - self.center).normalized()


@pk.struct
class Plane(Shape):
    point: Vec
    normal: Vec
    shine: float

    def intersect(self, ray: Ray):
        denom = self.normal.dot(ray.direction)
        if abs(denom) < 1e-9:
            return -1.0
        t = (self.point - ray.origin).dot(self.normal) / denom
        return t if t > 1e-6 else -1.0

    def normal_at(self, p: Vec):
        return self.normal


@pk.generic
def nearest(shapes: list[Shape], ray: Ray):
    best, hit = math.inf, -1
    for i, s in enumerate(shapes):
        t = s.intersect(ray)
        if 0.0 < t < best:
            best, hit = t, i
    return best, hit


@pk.generic
def trace(shapes: list[Shape], light: Vec, ray: Ray, depth: int) -> float:
    t, i = nearest(shapes, ray)
    if i < 0:
        return 0.1
    p = ray.at(t)
    s = shapes[i]
    n = s.normal_at(p)
    to_light = (light - p).normalized()
    shade = max(0.0, n.dot(to_light))
    blocked, _ = nearest(shapes, Ray(p, to_light))
    if blocked < (light - p).length():
        shade *= 0.3
    if depth > 0 and s.shine > 0.0:
        d = ray.direction
        r = d - n * (2.0 * d.dot(n))
        shade = shade * (1.0 - s.shine) + s.shine * trace(shapes, light, Ray(p, r), depth - 1)
    return shade


@pk.generic
def render(width: int, height: int):
    shapes: list[Shape] = [Sphere(Vec(0.0, 0.0, 3.0), 1.0, 0.2),
                           Sphere(Vec(1.5, 0.5, 4.0), 0.7, 0.5),
                           Sphere(Vec(-1.5, -0.2, 2.5), 0.5, 0.0),
                           Plane(Vec(0.0, -1.0, 0.0), Vec(0.0, 1.0, 0.0), 0.3)]
    light = Vec(-3.0, 4.0, -2.0)
    eye = Vec(0.0, 0.0, -1.0)
    palette = " .:-=+*#%@"
    total = 0.0
    rows = []
    for y in range(height):
        row = ""
        for x in range(width):
            u = (x + 0.5) / width * 2.0 - 1.0
            v = 1.0 - (y + 0.5) / height * 2.0
            ray = Ray(eye, Vec(u, v, 1.0).normalized())
            c = trace(shapes, light, ray, 2)
            total += c
            row += palette[min(9, int(c * 10.0))]
        rows.append(row)
    return rows, total


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    rows, total = render(size, size // 2)
    for r in rows:
        print(r)
    print(f"total {total:.6f}")

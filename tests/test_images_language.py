"""The newer parts of the language go into package images and load from them (issue 14):
keyword-only parameters with defaults, default parameter values, ``@property`` on structs,
calls on an abstract type split on its subtypes' methods (world splitting), return
annotations, closures and lambdas, and ``f(*t)`` calls.  The module is built into an image,
then loaded in a fresh process whose calls run without compiling anything and give the
answers plain Python gives for the same source."""

from __future__ import annotations

import dataclasses
import json
import textwrap
import types

import pytest

from imagetools import Project

SOURCE = '''
import math
import pkgimage as pk

__pkgimage__ = True


@pk.abstract
class Shape:
    def area(self) -> float:
        raise NotImplementedError("area")

    @property
    def double_area(self):
        return 2.0 * self.area()


@pk.struct
class Circle(Shape):
    r: float

    def area(self):
        return math.pi * self.r * self.r


@pk.struct
class Square(Shape):
    side: float

    def area(self):
        return self.side * self.side

    @property
    def diagonal(self):
        return self.side * math.sqrt(2.0)


@pk.generic
def perimeter(s: Circle):
    return 2.0 * math.pi * s.r


@pk.generic
def perimeter(s: Square):
    return 4.0 * s.side


@pk.generic
def area_sum(shapes: list[Shape]):
    total = 0.0
    for s in shapes:
        total += s.area()
    return total


@pk.generic
def perimeters(shapes: list[Shape]):
    return [perimeter(s) for s in shapes]


@pk.generic
def doubles(shapes: list[Shape]):
    return [s.double_area for s in shapes]


@pk.generic
def newton_sqrt(b: float, *, tol: float = 1e-8, maxiter: int = 50):
    x = b if b > 1.0 else 1.0
    for i in range(maxiter):
        x = x - (x * x - b) / (2 * x)
        if abs(x * x - b) < tol:
            return x, i
    return x, maxiter


@pk.generic
def poly(x: float, a: float = 1.0, b: float = -2.0, c: float = 0.5):
    return a * x * x + b * x + c


@pk.generic
def halve(n: int) -> float:
    return n // 2


@pk.generic
def mean_side(xs: list[Shape]) -> float:
    return area_sum(xs) / len(xs)


@pk.generic
def make_scaler(k: float):
    return lambda x: x * k


@pk.generic
def apply_all(xs: list[float], k: float):
    scale = make_scaler(k)
    shift = lambda x: x + k
    return [shift(scale(x)) for x in xs], sorted(xs, key=lambda x: abs(x - k))


@pk.generic
def simpson(f, a: float, b: float, n: int) -> float:
    h = (b - a) / n
    total = f(a) + f(b)
    for i in range(1, n):
        total += (4.0 if i % 2 == 1 else 2.0) * f(a + i * h)
    return total * h / 3.0


@pk.generic
def gaussian(sigma: float):
    return lambda x: math.exp(-x * x / (2.0 * sigma * sigma))


@pk.generic
def moved(p: Square, k: int):
    return lambda q: Square(q.side * k + p.side)


@pk.generic
def integrals(s: float, n: int):
    g = gaussian(s)
    m = moved(Square(1.0), 2)
    return simpson(g, -1.0, 1.0, n), simpson(lambda x: g(x) * 2.0, 0.0, 1.0, n), m(m(Square(0.5)))


@pk.generic
def add3(a, b, c):
    return a * 100 + b * 10 + c


@pk.generic
def splat(t: tuple[int, int], u: tuple[float, int, int]):
    return add3(*t, 4), add3(1, *t), add3(*u)


@pk.generic
def use_all(x: float, sq: Square):
    return (newton_sqrt(x), newton_sqrt(x, tol=1e-3), newton_sqrt(x, maxiter=2, tol=0.5),
            poly(x), poly(x, 2.0), poly(x, c=3.0), poly(x, 1.0, b=0.0),
            halve(7), sq.diagonal, sq.double_area)


@pk.precompilation(__name__)
def _workload():
    area_sum([Circle(1.0), Square(2.0)])
    perimeters([Circle(1.0), Square(2.0)])
    doubles([Circle(1.0), Square(2.0)])
    mean_side([Circle(1.0), Square(2.0)])
    use_all(2.0, Square(1.0))
    apply_all([1.0, 2.0], 3.0)
    splat((1, 2), (1.5, 2, 3))
    newton_sqrt(2.0)
    newton_sqrt(2.0, tol=1e-3)
    newton_sqrt(2.0, maxiter=3)
    poly(1.0)
    poly(1.0, 2.0, 3.0)
    poly(1.0, 2.0, 3.0, 4.0)
    Square(1.0).diagonal
    Circle(1.0).double_area
    halve(3)
    make_scaler(2.0)(3.0)
    integrals(1.0, 4)
    simpson(gaussian(1.0), 0.0, 1.0, 4)
    gaussian(1.0)(0.5)
'''

# The calls, the same in the image process and in plain Python (``m`` is the module).
CALLS = '''
shapes = [m.Circle(0.5), m.Square(3.0), m.Square(0.25), m.Circle(2.0)]
res = [m.area_sum(shapes), m.perimeters(shapes), m.doubles(shapes), m.mean_side(shapes),
       m.use_all(3.0, m.Square(2.0)), m.apply_all([0.5, -1.0, 4.0], 1.5),
       m.splat((7, 8), (0.5, 1, 2)),
       m.newton_sqrt(10.0), m.newton_sqrt(10.0, tol=1e-2), m.newton_sqrt(10.0, maxiter=3),
       m.poly(2.0), m.poly(2.0, 0.5, -1.0, 2.0), m.halve(9),
       m.make_scaler(4.0)(2.5), m.Square(3.0).diagonal, m.Circle(1.0).double_area,
       m.integrals(0.5, 10), m.simpson(m.gaussian(2.0), -1.0, 3.0, 8), m.gaussian(1.5)(0.5)]
'''

PROBE = """
import langimg as m
from pkgimage.image import loader
with Tripwire() as tw:
""" + textwrap.indent(CALLS, "    ") + """
done({"res": repr(res), "loaded": "langimg" in loader.LOADED, "compiles": tw.total,
      "calls": tw.calls, "imported": tw.imported, "stats": stats()})
"""


def _plain_results():
    """What plain Python answers: the same source with pkgimage's decorators made plain
    Python's (functions as they are, structs as frozen dataclasses)."""
    def generic(f):
        # a second ``@pk.generic def perimeter`` adds a method: dispatch on the class
        prev = g.get(f.__name__)
        if f.__name__ != "perimeter":
            return f
        table = dict(getattr(prev, "table", {}))
        table[f.__annotations__["s"]] = f

        def perimeter(s):
            return table[type(s).__name__](s)
        perimeter.table = table
        return perimeter
    pk = types.SimpleNamespace(generic=generic, abstract=lambda c: c,
                               struct=dataclasses.dataclass(frozen=True),
                               precompilation=lambda name: (lambda f: f))
    g = {"__name__": "langimg_plain"}
    src = SOURCE.replace("import pkgimage as pk", "").replace("__pkgimage__ = True", "")
    src = src.replace("def perimeter(s: Circle)", "def perimeter(s: 'Circle')")
    src = src.replace("def perimeter(s: Square)", "def perimeter(s: 'Square')")
    g["pk"] = pk
    exec(compile(src, "langimg_plain.py", "exec", dont_inherit=True), g)
    env = {"m": types.SimpleNamespace(**g)}
    exec(compile(CALLS, "calls", "exec", dont_inherit=True), env)
    return repr(env["res"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    proj = Project(tmp_path_factory.mktemp("langimg"))
    proj.write("langimg", SOURCE)
    proj.build("langimg")
    return proj


def test_the_language_features_load_from_an_image_and_run_without_compiling(built):
    want = _plain_results()
    for _ in range(2):                      # (the second load: the code sidecar)
        out = built.run_json(PROBE)
        assert out["loaded"] is True, out["_stderr"]
        assert out["res"] == want, (out["res"], want)
        assert out["compiles"] == 0, (out["calls"], out["imported"])
        assert out["stats"]["discarded_instances"] == 0, out["stats"]
        assert out["_stderr"] == ""


def test_the_same_calls_from_source_give_plain_pythons_answers(built):
    out = built.run_json(PROBE, PKGIMAGE_CACHE=built.root / "empty-cache")
    assert out["loaded"] is False
    assert out["res"] == _plain_results()
    assert out["compiles"] > 0            # (from source they compile: the probe sees it)


def test_keyword_only_parameters_run_as_python_with_the_jit_off(built):
    """With ``PKGIMAGE_JIT=0`` method bodies run as Python: the keyword-only parameters, made
    positional by dispatch, are passed to the body by name again."""
    out = built.run_json(PROBE, PKGIMAGE_JIT=0, PKGIMAGE_CACHE=built.root / "empty-cache")
    assert out["res"] == _plain_results()


def test_the_returned_annotation_keeps_pythons_int(built):
    """``def halve(n: int) -> float: return n // 2`` returns an int in Python, and so from
    the image (an annotation is not a conversion)."""
    out = built.run_json("""
import langimg as m
done({"h": [m.halve(9), type(m.halve(9)).__name__]})
""")
    assert out["h"] == [4, "int"]
    assert json.dumps(out["h"]) == json.dumps([9 // 2, "int"])

"""Code lowered to the native library operations goes into an image and loads without
compiling: ``print`` and f-strings (strgen), literal ``str.format``, ``random.choice`` and
``random.shuffle`` (base/randoms on native ``randrange``), slices taken by index, a list's
slice assigned within it, NumPy reductions along an axis, ``list.sort(key=, reverse=)``,
``tuple.index``/``count``, ``str.partition`` & co., ``sys.stdout.write``, a struct value
called (``__call__``) and Python's operators on a Python object.  Each is compiled into the
image by its workload, then called in a fresh process under a tripwire that counts
compiles; the answers (and the printed text) are the ones the same functions give run as
plain Python (``pyfunc``)."""

from __future__ import annotations

import textwrap

import pytest

from imagetools import Project

SOURCE = '''
import random
import sys
from fractions import Fraction
import numpy as np
import pkgimage as pk
from pkgimage import Int64

__pkgimage__ = True


@pk.generic
def report(n: Int64, x: float):
    print("n =", n, "x =", x, sep=" ", end=";\\n")
    print(f"{n:>6}|{x:.3f}|{n * 2}")
    sys.stdout.write(f"w{n}\\n")
    return "[{}:{}]".format(n, -n) + f"{n}{n + 1}"


@pk.generic
def draw(seed: Int64, n: Int64):
    random.seed(seed)
    v = list(range(n))
    random.shuffle(v)
    picks = [random.choice(v) for _ in range(5)]
    word = random.choice("abcdef")
    return v, picks, word


@pk.generic
def slices(v: list[int], s: str, k: Int64):
    return v[1:k], v[::-1], v[k:], v[None:k], v[-k::2], s[1:k], s[::-2]


@pk.generic
def flips(v: list[int], k: Int64):
    v[:k+1] = v[k::-1]
    v[1:3] = v[2:4]
    return v, isinstance(v, list)


@pk.struct
class Affine:
    a: float
    b: float

    def __call__(self, x: float):
        return self.a * x + self.b


@pk.generic
def called(x: float, q):
    # (a struct value called; Python's operators on a Python object, a Fraction)
    return Affine(2.0, 1.0)(x), q * 3 + 1, -q < q


@pk.generic
def reductions(a: pk.Array[pk.Float64, 2]):
    return np.sum(a, axis=0), a.mean(axis=1), a.max(0), np.argmax(a, axis=1)


@pk.generic
def sorting(v: list[str], t: tuple[int, int, int, int]):
    w = list(v)
    w.sort(key=len, reverse=True)
    u = list(v)
    u.sort()
    return w, u, t.index(3), t.count(1)


@pk.generic
def parts(s: str):
    return (s.partition("="), s.rpartition("/"), s.removeprefix("key"),
            s.removesuffix(".txt"), "a\\tb".expandtabs(4), s.isascii(), s.isidentifier(),
            s.istitle(), s.isprintable())


@pk.precompilation(__name__)
def _workload():
    report(1, 2.0)
    draw(1, 4)
    slices([1, 2, 3], "abc", 1)
    flips([1, 2, 3, 4], 2)
    called(1.0, Fraction(1, 3))
    reductions(np.ones((2, 3)))
    sorting(["a", "bb"], (1, 2, 3, 1))
    parts("key=a/b.txt")
'''

CALLS = '''
from fractions import Fraction
import numpy as np
a = np.arange(12.0).reshape(3, 4) % 5.0
args = [("report", (42, 3.14159)), ("draw", (7, 10)),
        ("slices", ([5, 6, 7, 8, 9], "abcdefg", 3)), ("reductions", (a,)),
        ("flips", ([5, 6, 7, 8, 9], 3)), ("called", (2.5, Fraction(2, 5))),
        ("sorting", (["ccc", "a", "bb", "dd"], (1, 3, 1, 2))),
        ("parts", ("keyname=dir/file.txt",))]
'''

PROBE = """
import contextlib, copy, io
import natlib as m
""" + CALLS + """
def run(call):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        res = [repr(call(getattr(m, name), copy.deepcopy(a))) for name, a in args]
    return res, out.getvalue()

with Tripwire() as tw:
    got = run(lambda f, a: f(*a))
want = run(lambda f, a: f.methods[0].pyfunc(*a))
done({"got": got, "want": want, "compiled": tw.total, "calls": tw.calls,
      "stats": stats()})
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    proj = Project(tmp_path_factory.mktemp("natlib"))
    proj.write("natlib", textwrap.dedent(SOURCE))
    proj.build("natlib")
    return proj


def test_native_library_operations_load_from_an_image_without_compiling(built):
    out = built.run_json(PROBE)
    assert out["got"] == out["want"], out
    assert out["compiled"] == 0, out["calls"]
    assert out["stats"]["discarded"] == [], out["stats"]
    assert "n = 42 x = 3.14159;\n" in out["got"][1]      # (the print really printed)


def test_the_same_calls_compiled_from_source_agree(built):
    out = built.run_json(PROBE, PKGIMAGE_CACHE=built.root / "empty-cache")
    assert out["got"] == out["want"], out
    assert out["compiled"] > 0


def test_a_module_loaded_from_an_image_has_builtins_as_if_executed(built):
    """C code called from a function of the module looks ``__builtins__`` up in its globals
    (``PyImport_Import``: NumPy's ``a.mean()`` from the Python body raised ``KeyError``)."""
    out = built.run_json("""
import builtins
import numpy as np
import natlib as m
from pkgimage.image import loader
done({"loaded": "natlib" in loader.LOADED, "same": vars(m)["__builtins__"] is vars(builtins),
      "mean": repr(m.reductions.methods[0].pyfunc(np.ones((2, 2)))[1])})
""")
    assert out["loaded"] and out["same"], out
    assert out["mean"] == "array([1., 1.])"

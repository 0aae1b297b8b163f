"""``String`` (Python's ``str``) in the base library.

Operators on strings are methods of the base functions (``s + t`` is ``add``, ``c in s`` is
``contains``), and each ``str`` method compiled code knows (``s.split(",")``) is a base
function of that name with a method per arity on ``String``; all of them do the string
operation through an intrinsic (``compiler/strintr.py``), so results and errors are Python's.
A package extends any of them for its own types.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import intr
from ..compiler.strintr import METHODS
from ..types import Any, Integer, String
from . import (add, contains, count, eq, float_, ge, getitem, gt, index, int_, le, lt, mod,
               mul, ne, to_index, truth)
from . import len as len_
from .synth import add_synth as _add

MODULE = "pkgimage.base"

NAMES = tuple(n for n in METHODS if n not in ("count", "index")) + \
    ("str_", "repr_", "ord_", "chr_")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
_SHARED = {"count": count, "index": index}


def _define_methods():
    """``s.strip()``, ``s.strip(chars)``, ``sep.join(words)``, ...: one method per arity
    the intrinsic accepts, whose body is the intrinsic call."""
    for name, (sigs, _) in METHODS.items():
        f = FUNCTIONS.get(name) or _SHARED[name]
        for n in sorted({len(sig) for sig in sigs}):
            kinds = {sig for sig in sigs if len(sig) == n}
            argt = tuple(String if all(k[i] == "S" for k in kinds) else Any
                         for i in range(n))
            _add(f, argt, [("intrinsic", f"str_{name}")],
                 lambda s, *a, _n=name: getattr(s, _n)(*a))


_define_methods()


@len_.method
def _(s: String):
    return intr.str_len(s)


@getitem.method
def _(s: String, i: Integer):
    return intr.str_get(s, to_index(i))


@truth.method
def _(s: String):
    return intr.str_len(s) != 0


@add.method
def _(a: String, b: String):
    return intr.str_concat(a, b)


@mul.method
def _(s: String, n: Integer):
    return intr.str_repeat(s, to_index(n))


@mul.method
def _(n: Integer, s: String):
    return intr.str_repeat(s, to_index(n))


@mod.method
def _(s: String, x: Any):
    return intr.str_percent(s, x)


@contains.method
def _(s: String, sub: String):
    return intr.str_contains(s, sub)


@eq.method
def _(a: String, b: String):
    return intr.str_eq(a, b)


@ne.method
def _(a: String, b: String):
    return intr.str_ne(a, b)


@lt.method
def _(a: String, b: String):
    return intr.str_lt(a, b)


@le.method
def _(a: String, b: String):
    return intr.str_le(a, b)


@gt.method
def _(a: String, b: String):
    return intr.str_gt(a, b)


@ge.method
def _(a: String, b: String):
    return intr.str_ge(a, b)


@int_.method
def _(s: String):
    return intr.str_int(s)


@float_.method
def _(s: String):
    return intr.str_float(s)


str_, repr_, ord_, chr_ = (FUNCTIONS[n] for n in ("str_", "repr_", "ord_", "chr_"))


@str_.method
def _(x: Any):
    return intr.str_str(x)


@repr_.method
def _(x: Any):
    return intr.str_repr(x)


@ord_.method
def _(s: String):
    return intr.str_ord(s)


@chr_.method
def _(i: Integer):
    return intr.str_chr(to_index(i))

"""Augmented assignment as Python does it: ``x += y`` is ``x = operator.iadd(x, y)``.

The difference from ``x = x + y`` is what the object is: a list or a NumPy array is changed
in place -- every name bound to it sees the change (``Q = P; P += [1]`` grows ``Q`` too),
and a list's ``+=`` takes any iterable -- while numbers, strings and tuples, which have no
in-place form, get the plain operator.  Compiling ``P += [x]`` as ``P = P + [x]`` gave a new
list and left the other names with the old one: a wrong answer.

The functions are named like Python's ``operator`` module (``iadd``, ``isub``, ...), generic
functions a package extends for its own mutable types (``__iadd__`` in a struct class body
is a method of ``iadd``); each has a method on ``(Any, Any)`` that calls the binary
operator, which is Python's rule when the left operand has no in-place method.
"""

from __future__ import annotations

import operator

from .. import dispatch as D
from ..compiler import npintr  # noqa: F401  (registers the np_i* intrinsics)
from ..compiler.intrinsics import REGISTRY
from ..types import Any, Array, Integer, List, Real
from .lists import clear, copy, extend
from .synth import add_synth

MODULE = "pkgimage.base"

# binary operator's base function -> its in-place function's name (``operator``'s)
INPLACE = {"add": "iadd", "sub": "isub", "mul": "imul", "truediv": "itruediv",
           "floordiv": "ifloordiv", "mod": "imod", "pow": "ipow", "matmul": "imatmul",
           "and_": "iand", "or_": "ior", "xor": "ixor"}
FUNCTIONS = {n: D.get_function(n, MODULE) for n in INPLACE.values()}
iadd, imul = FUNCTIONS["iadd"], FUNCTIONS["imul"]


def _define_fallbacks():
    """``iop(x, y)`` is ``op(x, y)`` for any values without an in-place method."""
    from .. import base
    for op, name in INPLACE.items():
        add_synth(FUNCTIONS[name], (Any, Any), [("call", getattr(base, op))],
                  getattr(operator, op))


_define_fallbacks()


@iadd.method
def _(v: List, w: Any):
    extend(v, w)
    return v


@imul.method
def _(v: List, n: Integer):
    if n <= 0:
        clear(v)
    else:
        w = copy(v)
        for _ in range(n - 1):
            extend(v, w)
    return v


def _define_arrays():
    """NumPy's in-place operators on arrays (its casting rules and errors: ``A += 0.5`` on
    an integer array raises as NumPy does), through the in-place intrinsics."""
    for op in ("add", "sub", "mul", "truediv"):
        for sig in ((Array, Array), (Array, Real)):
            add_synth(FUNCTIONS[INPLACE[op]], sig, [("intrinsic", f"np_i{op}")],
                      REGISTRY[f"np_i{op}"].impl)


_define_arrays()

"""NumPy's whole-array operations in the base library: ``np.sum(A)`` is ``np_sum(A)``,
``A.mean()`` is ``np_mean(A)``, ``A + B`` a method of ``add`` -- generic functions a package
extends for its own array types -- each calling NumPy's own operation through an intrinsic
(``compiler/npintr.py``), so results and dtypes are NumPy's."""

from __future__ import annotations

from .. import dispatch as D
from ..compiler import npintr
from ..compiler.intrinsics import REGISTRY
from ..types import Array, Integer, Real
from . import add, mul, neg, sub, truediv
from .lists import copy
from .synth import add_synth as _add

MODULE = "pkgimage.base"

NAMES = tuple(f"np_{n}" for n in npintr.FUNCTIONS + ("norm",))
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}


def _define():
    """A method per signature whose body is the intrinsic (as Python, NumPy's operation)."""
    def method(f, sig, name):
        _add(f, sig, [("intrinsic", name)], REGISTRY[name].impl)
    for name in npintr.REDUCTIONS + ("norm",):
        method(FUNCTIONS[f"np_{name}"], (Array,), f"np_{name}")
    for name in npintr.AXIS_REDUCTIONS:
        # (``np.sum(A, axis)``: NumPy's own call with the axis, by position)
        method(FUNCTIONS[f"np_{name}"], (Array, Integer), f"np_{name}")
    for name in npintr.UNARY:
        for sig in ((Array,), (Real,)):
            method(FUNCTIONS[f"np_{name}"], sig, f"np_{name}")
    method(FUNCTIONS["np_dot"], (Array, Array), "np_dot")
    method(neg, (Array,), "np_neg")
    method(copy, (Array,), "np_copy")               # (``A.copy()``: ``copy`` is shared)
    for f, op in ((add, "add"), (sub, "sub"), (mul, "mul"), (truediv, "truediv")):
        for sig in ((Array, Array), (Array, Real), (Real, Array)):
            method(f, sig, f"np_{op}")


_define()

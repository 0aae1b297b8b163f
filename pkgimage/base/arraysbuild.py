"""NumPy's array-building, random and linear-algebra functions in the base library:
``np.random.randn(n, n)`` is ``np_randn(n, n)``, ``np.hstack((a, b))`` is
``np_hstack((a, b))``, ``A @ B`` is ``matmul(A, B)`` (the operator's generic function, as
``A + B`` is ``add``) -- each calling NumPy's own function through an intrinsic
(``compiler/npbuild.py``), so results, dtypes and the random stream are NumPy's.  A package
extends them (``matmul`` for its own matrix types) as it extends ``add``."""

from __future__ import annotations

from .. import dispatch as D
from ..compiler import npbuild
from ..compiler.intrinsics import REGISTRY, intr
from ..types import Array, Integer, Tuple
from . import MODULE, to_index
from .synth import add_synth as _add

NAMES = tuple(sorted(set(npbuild.PATHS.values())))
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
np_randn, np_hstack, np_vstack = (FUNCTIONS[n] for n in ("np_randn", "np_hstack", "np_vstack"))


def _define():
    """A method per signature whose body is the intrinsic (as Python, NumPy's function)."""
    def method(name, sig, intrinsic=None):
        intrinsic = intrinsic or name
        _add(FUNCTIONS[name], sig, [("intrinsic", intrinsic)], REGISTRY[intrinsic].impl)
    method("matmul", (Array, Array), "np_matmul")
    method("np_trace", (Array,))
    method("np_std", (Array,))
    method("np_matrix_power", (Array, Integer))


_define()


@np_randn.method
def _(n: Integer):
    return intr.np_randn(to_index(n))


@np_randn.method
def _(n: Integer, m: Integer):
    return intr.np_randn(to_index(n), to_index(m))


@np_randn.method
def _(n: Integer, m: Integer, k: Integer):
    return intr.np_randn(to_index(n), to_index(m), to_index(k))


@np_hstack.method
def _(arrays: Tuple):
    return intr.np_hstack(arrays)


@np_vstack.method
def _(arrays: Tuple):
    return intr.np_vstack(arrays)

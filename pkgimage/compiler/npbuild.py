"""Intrinsics of NumPy's array-building, random and linear-algebra functions in compiled
code: ``np.random.randn(n, m)``, ``np.hstack``/``np.vstack`` of a tuple of arrays, ``A @ B``
(``np.matmul``), ``np.trace``, ``np.linalg.matrix_power``, ``np.std``.

As in ``npintr.py``, each one's Python implementation *is* NumPy's function (compiled code
calls it), so results, dtypes, the global random stream (``np.random.seed`` from Python or
compiled code seeds both) and errors are NumPy's; the rules say what NumPy returns for the
element types compiled code has.
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import DIRECT, _def, is_arr, promote_type


def _num(t):
    return t.__pk_kind__ == "primitive" and t is not T.Bool


def _numarr(t, ndim=None):
    return is_arr(t) and _num(t.__pk_eltype__) and (ndim is None or t.__pk_ndim__ == ndim)


def _np():
    import numpy
    return numpy


# ``np.random.randn(d0, d1, ...)``: standard normal draws, an array of that shape
_def("np_randn", lambda ts, params: T.array_of(T.Float64, len(ts))
     if ts and all(t is T.Int64 for t in ts) else None)(lambda *d: _np().random.randn(*d))


def _stack_rule(name):
    """``np.hstack((A, B))``, ``np.vstack((A, B))``: a tuple of numeric arrays of one rank
    (vstack of vectors makes a matrix); the element type is their promotion."""
    def rule(ts, params):
        if len(ts) != 1 or ts[0].__pk_kind__ != "tuple" or not ts[0].__pk_params__:
            return None
        ps = ts[0].__pk_params__
        if not all(isinstance(p, T.PkType) and _numarr(p) for p in ps) or \
                len({p.__pk_ndim__ for p in ps}) != 1:
            return None
        el = ps[0].__pk_eltype__
        for p in ps[1:]:
            el = promote_type(el, p.__pk_eltype__)
        nd = ps[0].__pk_ndim__
        return T.array_of(el, max(nd, 2) if name == "vstack" else nd)
    return rule


_def("np_hstack", _stack_rule("hstack"))(lambda t: _np().hstack(t))
_def("np_vstack", _stack_rule("vstack"))(lambda t: _np().vstack(t))


def _matmul_rule(ts, params):
    if len(ts) != 2 or not all(_numarr(t) for t in ts):
        return None
    el = promote_type(ts[0].__pk_eltype__, ts[1].__pk_eltype__)
    na, nb = ts[0].__pk_ndim__, ts[1].__pk_ndim__
    out = {(2, 2): 2, (2, 1): 1, (1, 2): 1, (1, 1): 0}.get((na, nb))
    if out is None:
        return None
    return el if out == 0 else T.array_of(el, out)


_def("np_matmul", _matmul_rule)(lambda a, b: _np().matmul(a, b))
# ``np.trace(A)``: the diagonal's sum (NumPy sums integers as Int64)
_def("np_trace", lambda ts, params: (ts[0].__pk_eltype__ if ts[0].__pk_eltype__.__pk_float__
                                     else T.Int64)
     if len(ts) == 1 and _numarr(ts[0], 2) else None)(lambda a: _np().trace(a))
# ``np.linalg.matrix_power(A, k)``: an array of A's type (a negative k inverts: floats only)
_def("np_matrix_power", lambda ts, params: ts[0]
     if len(ts) == 2 and _numarr(ts[0], 2) and ts[1] is T.Int64 else None)(
    lambda a, k: _np().linalg.matrix_power(a, k))
_def("np_std", lambda ts, params: T.Float64 if len(ts) == 1 and _numarr(ts[0]) else None)(
    lambda a: _np().std(a))

# NumPy's functions (by their path in the ``numpy`` module) -> the base function compiled
# code calls for them (``base/arraysbuild.py``)
PATHS = {"random.randn": "np_randn", "hstack": "np_hstack", "vstack": "np_vstack",
         "matmul": "matmul", "trace": "np_trace", "linalg.matrix_power": "np_matrix_power",
         "std": "np_std"}
# (each intrinsic is NumPy's function at that path: native code calls it directly)
DIRECT.update({(n if n.startswith("np_") else f"np_{n}"): ("numpy", path)
               for path, n in PATHS.items()})

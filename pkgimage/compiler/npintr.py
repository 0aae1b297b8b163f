"""Intrinsics of NumPy's operations on whole arrays in compiled code: reductions
(``np.sum(A)``, ``A.mean()``), element-wise functions (``np.sqrt(A)``), ``np.dot``, and the
arithmetic operators between arrays and numbers (``A + B``, ``A * 2.0``).

Each one's Python implementation *is* NumPy's operation on the array (compiled code calls
it): results, dtypes, broadcasting and errors are NumPy's by construction.  The type rules
say what NumPy returns for the element types compiled code has (Julia's promotion, which for
these types is NumPy's: ``Int64`` with ``Float64`` gives ``Float64``, ``/`` of integers gives
``Float64``).  A scalar NumPy returns reaches compiled code as its value (``np.float64`` as a
``Float64``).
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import DIRECT, _def, is_arr, promote_type


def _num(t):
    return t.__pk_kind__ == "primitive" and t is not T.Bool


def _el(t):
    return t.__pk_eltype__


def _numarr(t):
    return is_arr(t) and _num(_el(t))


# reductions that take an ``axis`` (``np.sum(A, axis=0)``, ``A.mean(1)``): the result has
# one dimension fewer (a number for a vector), ``cumsum`` keeps them all
AXIS_REDUCTIONS = ("sum", "mean", "max", "min", "argmax", "argmin", "cumsum")


def _reduce_rule(name):
    def rule(ts, params):
        if len(ts) == 2 and name in AXIS_REDUCTIONS and _numarr(ts[0]) and \
                T.issubtype(ts[1], T.Integer) and ts[1] is not T.Bool:
            whole = rule(ts[:1], params)
            el = whole.__pk_eltype__ if T.is_array(whole) else whole
            nd = ts[0].__pk_ndim__ if name == "cumsum" else ts[0].__pk_ndim__ - 1
            return T.array_of(el, nd) if nd > 0 else el
        if len(ts) != 1 or not _numarr(ts[0]):
            return None
        el = _el(ts[0])
        if name in ("sum", "cumsum"):
            out = T.Int64 if not el.__pk_float__ else el
            return T.array_of(out, 1) if name == "cumsum" else out
        if name in ("mean", "norm"):
            return T.Float64
        if name in ("max", "min"):
            return el
        if name in ("argmax", "argmin"):
            return T.Int64
        if name == "copy":
            return ts[0]
        if name == "transpose":
            return ts[0]
        return None
    return rule


def _unary_rule(name):
    def rule(ts, params):
        if len(ts) != 1:
            return None
        t = ts[0]
        if _numarr(t):
            el = _el(t) if name == "abs" else T.Float64
            return T.array_of(el, t.__pk_ndim__)
        if _num(t):
            return t if name == "abs" else T.Float64
        return None
    return rule


def _dot_rule(ts, params):
    if len(ts) != 2 or not all(_numarr(t) for t in ts):
        return None
    el = promote_type(_el(ts[0]), _el(ts[1]))
    na, nb = ts[0].__pk_ndim__, ts[1].__pk_ndim__
    if na == 1 and nb == 1:
        return el
    if na == 2 and nb == 2:
        return T.array_of(el, 2)
    if (na, nb) in ((2, 1), (1, 2)):
        return T.array_of(el, 1)
    return None


def _binop_rule(op):
    """``A + B``, ``A * 2.0``, ``2.0 - A``: arrays of numbers and numbers."""
    def rule(ts, params):
        if len(ts) != 2 or not any(_numarr(t) for t in ts) or \
                not all(_numarr(t) or _num(t) for t in ts):
            return None
        els = [_el(t) if is_arr(t) else t for t in ts]
        el = T.Float64 if op == "truediv" else promote_type(*els)
        n = max(t.__pk_ndim__ for t in ts if is_arr(t))
        return T.array_of(el, n)
    return rule


def _np():
    import numpy
    return numpy


REDUCTIONS = ("sum", "mean", "max", "min", "argmax", "argmin", "cumsum", "copy")
for _name in REDUCTIONS:
    _def(f"np_{_name}", _reduce_rule(_name))(
        lambda a, *axis, _n=_name: getattr(_np(), _n)(a, *axis))
_def("np_norm", _reduce_rule("norm"))(lambda a: _np().linalg.norm(a))
_def("np_transpose", _reduce_rule("transpose"))(lambda a: a.T)

UNARY = ("sqrt", "exp", "log", "abs", "sin", "cos")
for _name in UNARY:
    _def(f"np_{_name}", _unary_rule(_name))(lambda a, _n=_name: getattr(_np(), _n)(a))

_def("np_dot", _dot_rule)(lambda a, b: _np().dot(a, b))
_def("np_neg", lambda ts, params: ts[0] if len(ts) == 1 and _numarr(ts[0]) else None)(
    lambda a: -a)

BINOPS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "truediv": "__truediv__"}
_UFUNCS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide"}
for _op in BINOPS:
    _def(f"np_{_op}", _binop_rule(_op))(
        lambda a, b, _o=_op: getattr(_np(), _UFUNCS[_o])(a, b))



def _inplace_rule(ts, params):
    """``A += B``, ``A *= 2.0``: the array itself (NumPy refuses, at run time, a result it
    cannot cast back to the array's dtype)."""
    if len(ts) != 2 or not _numarr(ts[0]) or not (_numarr(ts[1]) or _num(ts[1])):
        return None
    return ts[0]


for _op in BINOPS:
    _def(f"np_i{_op}", _inplace_rule)(
        lambda a, b, _o=_op: getattr(__import__("operator"), "i" + _o)(a, b))

DIRECT.update({f"np_{n}": ("numpy", n) for n in REDUCTIONS + UNARY + ("dot",)})
# (not ``np_transpose``: ``numpy.transpose`` is a Python function, ``a.T`` an attribute)
DIRECT.update({"np_norm": ("numpy", "linalg.norm"), "np_neg": ("operator", "neg"),
               **{f"np_{op}": ("numpy", _UFUNCS[op]) for op in BINOPS},
               **{f"np_i{op}": ("operator", "i" + op) for op in BINOPS}})

# NumPy's functions compiled code calls by these names (``np.sum(A)`` is ``np_sum(A)``)
FUNCTIONS = REDUCTIONS + UNARY + ("dot",)
# ``A.sum()`` and the other array methods
METHODS = ("sum", "mean", "max", "min", "argmax", "argmin", "cumsum", "copy")

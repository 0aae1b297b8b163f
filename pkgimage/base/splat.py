"""``f(*t)`` in compiled code: the call of ``f`` on the elements of a tuple of known length.

The frontend lowers ``f(a, *t, b)`` to ``splat_call(f, tuple_cat(tuple_cat((a,), t), (b,)))``
(Julia's ``Core._apply``).  Both are methods on ``Tuple[Vararg[Any, N]]``: ``N`` is a static
parameter, so each tuple length gets its own instance whose IR (built here, per ``N``) reads
the elements at constant indexes and calls ``f`` on them -- a direct, specialised call, as
``f(t[0], t[1])`` written out would be.  A splatted value whose type is not a tuple of known
length is a compile-time error (``inference``), since the number of arguments, hence the
method called, would not be known.  Each keeps a Python body doing the same.
"""

from __future__ import annotations

from .. import dispatch as D
from ..types import Any, Tuple, TypeVar, UnionAll, Vararg, tuple_type

MODULE = "pkgimage.base"
NAMES = ("splat_call", "tuple_cat")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
splat_call, tuple_cat = (FUNCTIONS[n] for n in NAMES)
_N, _M = TypeVar("N"), TypeVar("M")


def _elements(tup, n, stmts, loc, tag):
    """IR reading ``tup[0..n-1]`` (constant indexes: inference types each element)."""
    from ..compiler import ir as IR
    from ..compiler.frontend import BASE
    out = []
    for i in range(n):
        stmts.append(IR.Assign(f"%{tag}i{i}", IR.Const(i), loc))
        stmts.append(IR.Assign(f"%{tag}e{i}", IR.Call(BASE["getitem"], (tup, f"%{tag}i{i}")),
                               loc))
        out.append(f"%{tag}e{i}")
    return out


def _synth_call(method, sparams=()):
    from ..compiler import ir as IR
    (n,) = sparams
    loc = (method.line, 0)
    stmts = []
    args = _elements("t", n, stmts, loc, "t")
    stmts.append(IR.Assign("%r", IR.Call(IR.CALL_VALUE, ("f", *args)), loc))
    return IR.IRFunction("splat_call", ("f", "t"), [IR.Block(0, stmts, IR.Return("%r"))],
                         method.file, method.line)


def _synth_cat(method, sparams=()):
    from ..compiler import ir as IR
    n, m = sparams
    loc = (method.line, 0)
    stmts = []
    elts = _elements("a", n, stmts, loc, "a") + _elements("b", m, stmts, loc, "b")
    stmts.append(IR.Assign("%r", IR.Intrinsic("tuple", tuple(elts)), loc))
    return IR.IRFunction("tuple_cat", ("a", "b"), [IR.Block(0, stmts, IR.Return("%r"))],
                         method.file, method.line)


def _py_call(f, t):
    return f(*t)


def _py_cat(a, b):
    return (*a, *b)


_py_call.__pk_synth_ir__ = _synth_call
_py_cat.__pk_synth_ir__ = _synth_cat
_TN = Tuple[Vararg[Any, _N]]
_TM = Tuple[Vararg[Any, _M]]
D.insert_method(splat_call, D.Method(splat_call, UnionAll(_N, tuple_type(Any, _TN)), _py_call,
                                     MODULE, __file__, 1, ("f", "t")))
D.insert_method(tuple_cat, D.Method(tuple_cat, UnionAll(_N, UnionAll(_M, tuple_type(_TN, _TM))),
                                    _py_cat, MODULE, __file__, 1, ("a", "b")))


def _add_tuples(a, b):
    """``t + (x,)``: the concatenation of two tuples (of known lengths)."""
    return tuple_cat(a, b)


def _define_concat():
    from . import add
    D.insert_method(add, D.Method(add, UnionAll(_N, UnionAll(_M, tuple_type(_TN, _TM))),
                                  _add_tuples, MODULE, __file__, 1, ("a", "b")))


_define_concat()

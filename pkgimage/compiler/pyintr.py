"""Intrinsics of ``PyObject``: Python objects compiled code has no type of its own for (a
``zip`` or ``enumerate`` object kept in a variable, a ``frozenset``, a generator, a
``dict_keys`` view, a NumPy ``Generator``), operated on by Python itself.

Each implementation *is* Python's operation (``len``, ``sorted``, ``operator.getitem``...),
called by native code on the object, so answers and errors are plain Python's.  Walking one
in a ``for`` loop (``base.iterable``) goes through :class:`Walk`, which gives compiled code's
counting loop (``i < len(v)``, then ``v[i]``) Python's iteration protocol: each test of the
length takes the next item, so items are taken one at a time, right before the body that
uses them, as Python's ``for`` takes them -- a generator's side effects interleave with the
loop's as in Python, and an endless iterator runs as long as the loop does.
"""

from __future__ import annotations

import operator

from .. import types as T
from .intrinsics import _def


class Walk:
    """A Python iterable as compiled code's ``for`` loop walks a sequence: ``len(w)`` is
    the count of items taken so far plus one if there is a next one (taken then: the loop
    tests it once per pass, before the body), ``w[i]`` the item just taken."""

    __slots__ = ("_it", "_item", "_n")

    def __init__(self, iterable):
        self._it = iter(iterable)
        self._item = None
        self._n = 0

    def __len__(self):
        try:
            self._item = next(self._it)
        except StopIteration:
            return self._n
        self._n += 1
        return self._n

    def __getitem__(self, i):
        return self._item


def _is_py(t):
    return t.__pk_kind__ == "pyobject"


def _rule(result, n=1):
    def rule(ts, params):
        return result if len(ts) == n and _is_py(ts[0]) else None
    return rule


_def("py_walk", _rule(T.PyObject))(Walk)
_def("py_len", _rule(T.Int64))(len)
_def("py_getitem", _rule(T.Any, 2))(operator.getitem)
_def("py_contains", _rule(T.Bool, 2))(operator.contains)
_def("py_sorted", _rule(T.list_of(T.Any)))(sorted)
for _f in (sum, min, max):
    _def(f"py_{_f.__name__}", _rule(T.Any))(_f)

# Python's operators on a Python object (``i * x`` with ``x`` a float subclass, a
# ``Fraction``, a NumPy scalar): ``operator.mul`` & co., Python's answers and errors.
BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_",
          "xor", "iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "imatmul",
          "iand", "ior", "ixor", "eq", "ne", "lt", "le", "gt", "ge")
UNARY = ("neg", "abs", "truth")


def _either_rule(ts, params):
    return T.Any if len(ts) == 2 and (_is_py(ts[0]) or _is_py(ts[1])) else None


for _name in BINARY:
    _def(f"py_{_name}", _either_rule)(getattr(operator, _name))
for _name in UNARY:
    _def(f"py_{_name}", _rule(T.Bool if _name == "truth" else T.Any))(getattr(operator, _name))


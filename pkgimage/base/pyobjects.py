"""The base functions on ``PyObject`` values -- Python objects compiled code keeps as they
are (``compiler/pyintr.py``): walked by ``for`` loops and comprehensions one item at a time
(Python's iteration protocol), measured, indexed, searched, sorted, summed, through Python's
own operations.  ``zip(a, b)`` kept in a variable, a ``frozenset``, a generator passed in or a
``dict_keys`` view then behave in compiled code as in plain Python."""

from __future__ import annotations

from ..compiler.intrinsics import REGISTRY
from ..types import Any, PyObject
from . import contains, getitem, iterable, sorted_, sum_
from . import len as len_, max as max_, min as min_
from .synth import add_synth

# Methods whose body is the intrinsic alone (``synth.py``): (function, signature, intrinsic)
_SIMPLE = ((iterable, (PyObject,), "py_walk"), (len_, (PyObject,), "py_len"),
           (getitem, (PyObject, Any), "py_getitem"), (contains, (PyObject, Any), "py_contains"),
           (sorted_, (PyObject,), "py_sorted"), (sum_, (PyObject,), "py_sum"),
           (min_, (PyObject,), "py_min"), (max_, (PyObject,), "py_max"))
for _f, _sig, _name in _SIMPLE:
    add_synth(_f, _sig, [("intrinsic", _name)], REGISTRY[_name].impl)

"""The base functions on ``PyObject`` values -- Python objects compiled code keeps as they
are (``compiler/pyintr.py``): walked by ``for`` loops and comprehensions one item at a time
(Python's iteration protocol), measured, indexed, searched, sorted, summed, through Python's
own operations.  ``zip(a, b)`` kept in a variable, a ``frozenset``, a generator passed in or a
``dict_keys`` view then behave in compiled code as in plain Python."""

from __future__ import annotations

import sys

from ..compiler.intrinsics import REGISTRY
from ..compiler.pyintr import BINARY, UNARY
from ..types import Any, List, PyObject, String
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

# Python's operators, on a Python object on either side (``i * x``, ``x < 1.0``)
_base = sys.modules[__package__]
for _name in BINARY:
    for _sig in ((PyObject, Any), (Any, PyObject), (PyObject, PyObject)):
        add_synth(getattr(_base, _name), _sig, [("intrinsic", f"py_{_name}")],
                  REGISTRY[f"py_{_name}"].impl)
# (where a base method already takes ``Any`` there, Python's operator decides too:
# ``"%d" % x`` formats, ``v += x`` extends the list in place)
for _name, _sig in (("mod", (String, PyObject)), ("iadd", (List, PyObject))):
    add_synth(getattr(_base, _name), _sig, [("intrinsic", f"py_{_name}")],
              REGISTRY[f"py_{_name}"].impl)
for _name in UNARY:
    add_synth(getattr(_base, _name), (PyObject,), [("intrinsic", f"py_{_name}")],
              REGISTRY[f"py_{_name}"].impl)


"""The closure intrinsic: a lambda's function with the values it captured bound first.

``closure(f, v1, ..., vk)`` is ``functools.partial(f, v1, ..., vk)``: a Python callable
(``PyObject``), so compiled code calls it through Python (the partial calls the generic
function, which dispatches to the lambda's compiled method) and Python code that receives
it -- ``sorted(key=...)``, a callback -- calls it as any function.
"""

from __future__ import annotations

import functools

from .. import types as T
from .intrinsics import _def


@_def("closure", lambda ts, p: T.PyObject if ts else None)
def closure(f, *captured):
    return functools.partial(f, *captured)

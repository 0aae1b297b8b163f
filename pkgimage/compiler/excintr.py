"""Intrinsics of ``try``/``except``: taking the exception being raised, matching a clause.

An exception in compiled code is CPython's own: the error indicator of the thread, set by
whatever raised (a callee's native code, a helper, the runtime).  A handler block
(``Block.handler``) starts with ``exc_fetch``, which takes the exception object out of the
indicator (normalised, its traceback attached) as a new reference; ``exc_match`` is the test
of an ``except E:`` clause, Python's own (``E`` a class or a tuple of classes, anything else
is the ``TypeError`` Python raises).  ``raise`` is the ``Raise`` terminator of an object
(``ErrorMsg.obj``), raised by the runtime helper ``raise_object``.
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import _def


@_def("exc_fetch", lambda ts, p: T.PyObject if not ts else None)
def exc_fetch():
    raise RuntimeError("exc_fetch runs only in native code (it reads the error indicator)")


@_def("exc_match", lambda ts, p: T.Bool if len(ts) == 2 else None)
def exc_match(exc, cls):
    if isinstance(cls, tuple):
        bad = [c for c in cls if not (isinstance(c, type) and issubclass(c, BaseException))]
    else:
        bad = [] if isinstance(cls, type) and issubclass(cls, BaseException) else [cls]
    if bad:
        raise TypeError("catching classes that do not inherit from BaseException is not "
                        "allowed")
    return isinstance(exc, cls)

"""Source locations (file, line) for definitions, so every error can say where."""

from __future__ import annotations

import os
import sys

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


_INSIDE: dict = {}       # code file name -> is it pkgimage's own (not its base library)?


def _inside(fn):
    r = _INSIDE.get(fn)
    if r is None:
        r = _INSIDE[fn] = (os.path.abspath(fn).startswith(_PKG_DIR + os.sep)
                           and "/pkgimage/base/" not in fn)
    return r


def caller_location():
    """(file, line) of the first frame outside pkgimage: the user's definition site.

    (Memoised per file name: an image load defines a thousand types through here.)"""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not _inside(fn):
            return (fn, f.f_lineno)
        f = f.f_back
    return ("<unknown>", 0)


def function_location(fn):
    """(file, first line) of a Python function's definition (its decorator line counts)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ("<unknown>", 0)
    return (code.co_filename, code.co_firstlineno)


def fmt_loc(loc):
    return f"{loc[0]}:{loc[1]}"

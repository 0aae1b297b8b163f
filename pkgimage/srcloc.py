"""Source locations (file, line) for definitions, so every error can say where."""

from __future__ import annotations

import os
import sys

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def caller_location():
    """(file, line) of the first frame outside pkgimage: the user's definition site."""
    f = sys._getframe(1)
    while f is not None:
        fn = f.f_code.co_filename
        if not os.path.abspath(fn).startswith(_PKG_DIR + os.sep) or "/pkgimage/base/" in fn:
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

"""Lambdas of compiled methods as generic functions.

``lambda p: p[1]`` in a method body is a function value, so compiled code gets it as a generic
function of its own (with a type of its own, as every function: the method taking it is
specialised for it) with one method on ``Any`` arguments whose body is the lambda's
expression.  These functions are made when the enclosing method is defined, from the
lambda's own code object (nested in the method's), not when the method is first compiled: they
then belong to the module when it closes (``pkgimage build``), go into its image with its other
methods, and exist again when the image is loaded, without the source being read.

A lambda is named by its line and its rank among the lambdas of that line
(``f.<locals>.<lambda>@12#0``), which is how the frontend finds its source again.
"""

from __future__ import annotations

import types as pytypes


def lambda_codes(code):
    """(line, rank on that line, code object) of the lambdas nested in ``code``, in the
    order they appear in the source."""
    out, seen = [], {}

    def walk(c):
        for k in c.co_consts:
            if isinstance(k, pytypes.CodeType):
                if k.co_name == "<lambda>":
                    rank = seen.get(k.co_firstlineno, 0)
                    seen[k.co_firstlineno] = rank + 1
                    out.append((k.co_firstlineno, rank, k))
                walk(k)
    walk(code)
    return out


def qualname_of(code, line, rank):
    return f"{code.co_qualname}@{line}#{rank}"


def define_lambdas(fn, module):
    """Make the generic function of each lambda in ``fn`` that has none yet; lambdas that read
    the enclosing function's locals (closures) are left to the frontend to refuse."""
    from . import dispatch as D
    from . import types as T
    for line, rank, code in lambda_codes(fn.__code__):
        if code.co_freevars:
            continue
        qualname = qualname_of(code, line, rank)
        f = D.get_function(qualname, module)
        if f.methods:
            continue
        f.name = "<lambda>"
        pyfunc = pytypes.FunctionType(code, fn.__globals__, "<lambda>")
        pyfunc.__qualname__ = code.co_qualname
        n = code.co_argcount
        D.insert_method(f, D.Method(f, (T.Any,) * n, pyfunc, module, code.co_filename, line,
                                    tuple(code.co_varnames[:n])))

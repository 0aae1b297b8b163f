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
    order they appear in the source; a nested ``def`` has rank -1."""
    out, seen = [], {}

    def walk(c):
        for k in c.co_consts:
            if isinstance(k, pytypes.CodeType):
                if k.co_name == "<lambda>":
                    rank = seen.get(k.co_firstlineno, 0)
                    seen[k.co_firstlineno] = rank + 1
                    out.append((k.co_firstlineno, rank, k))
                elif not k.co_name.startswith("<") and k.co_flags & 0x02:    # (a function:
                    # CO_NEWLOCALS; not a class body)
                    out.append((k.co_firstlineno, -1, k))
                walk(k)
    walk(code)
    return out


def qualname_of(code, line, rank):
    if rank < 0:
        return code.co_qualname                  # a nested ``def``: its own name
    return f"{code.co_qualname}@{line}#{rank}"


def define_lambdas(fn, module):
    """Make the generic function of each lambda in ``fn`` that has none yet.

    A lambda reading variables of the enclosing function (a closure: ``code.co_freevars``)
    gets them as its first parameters; the closure value compiled code makes is the function
    with the captured values bound (``frontend.closure_value``).  Its Python function keeps
    placeholder cells (``PKGIMAGE_JIT=0`` runs it with the captured values put in cells:
    ``run_python``)."""
    from . import dispatch as D
    from . import types as T
    for line, rank, code in lambda_codes(fn.__code__):
        qualname = qualname_of(code, line, rank)
        f = D.get_function(qualname, module)
        if f.methods:
            continue
        f.name = code.co_name
        free = code.co_freevars
        cells = tuple(pytypes.CellType(None) for _ in free) if free else None
        pyfunc = pytypes.FunctionType(code, fn.__globals__, code.co_name, None, cells)
        pyfunc.__qualname__ = code.co_qualname
        if free:
            pyfunc.__pk_captures__ = len(free)
        n = code.co_argcount
        D.insert_method(f, D.Method(f, (T.Any,) * (len(free) + n), pyfunc, module,
                                    code.co_filename, line, free + tuple(code.co_varnames[:n])))


def run_python(pyfunc):
    """What a closure lambda's method runs as Python: its code with the captured values
    (the first arguments) in its cells."""
    k = pyfunc.__pk_captures__

    def run(*args):
        # (a variable the closure shares with its maker arrives as that cell: ``Box``)
        cells = tuple(v if type(v) is pytypes.CellType else pytypes.CellType(v)
                      for v in args[:k])
        return pytypes.FunctionType(pyfunc.__code__, pyfunc.__globals__, pyfunc.__name__,
                                    None, cells)(*args[k:])
    return run

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

A lambda (or nested ``def``) with default parameter values: Python evaluates the defaults
when the lambda is made, in the scope that makes it (``lambda x, i=i: x + i`` keeps the
``i`` of that moment), so compiled code holds them as it holds captured values: the closure
value is the function with the captured values and then one tuple of the defaults bound
first.  Its function then has one method per number ``m`` of arguments a call may pass
(``m`` from 0 to the number of parameters, since how many have defaults is not written in
the code object, only in the code that makes the function): ``(captured..., defaults, p1,
.., pm)``, whose body takes the parameters after ``pm`` from the end of the defaults tuple
(``frontend._with_defaults``; too few arguments is Python's ``TypeError``).
"""

from __future__ import annotations

import types as pytypes

# The ``<defaults>`` parameter of a lambda's method: the tuple of its default values (not an
# identifier, so it cannot be a name of the source).
DEFAULTS = "<defaults>"


def lambda_codes(code, with_defaults=None):
    """(line, rank on that line, code object) of the lambdas nested in ``code``, in the
    order they appear in the source; a nested ``def`` has rank -1.  ``with_defaults``, a
    set, gets the ids of those that are made with default parameter values."""
    out, seen = [], {}

    def walk(c):
        nested = False
        for k in c.co_consts:
            if isinstance(k, pytypes.CodeType):
                nested = True
                if k.co_name == "<lambda>":
                    rank = seen.get(k.co_firstlineno, 0)
                    seen[k.co_firstlineno] = rank + 1
                    out.append((k.co_firstlineno, rank, k))
                elif not k.co_name.startswith("<") and k.co_flags & 0x02:    # (a function:
                    # CO_NEWLOCALS; not a class body)
                    out.append((k.co_firstlineno, -1, k))
                walk(k)
        if nested and with_defaults is not None:
            with_defaults.update(_made_with_defaults(c))
    walk(code)
    return out


def _made_with_defaults(code):
    """The ids of the code objects ``code`` makes functions of with positional default
    values: the flags of the ``MAKE_FUNCTION`` right after the code object is loaded
    (CPython 3.11, 3.12; 3.13 sets them with ``SET_FUNCTION_ATTRIBUTE`` after it)."""
    import dis
    out = set()
    ins = list(dis.get_instructions(code))
    for i, x in enumerate(ins):
        if x.opname != "LOAD_CONST" or not isinstance(x.argval, pytypes.CodeType) or \
                i + 1 >= len(ins) or ins[i + 1].opname != "MAKE_FUNCTION":
            continue
        flags, j = ins[i + 1].arg or 0, i + 2
        while j < len(ins) and ins[j].opname == "SET_FUNCTION_ATTRIBUTE":
            flags |= ins[j].arg or 0
            j += 1
        if flags & 0x01:
            out.add(id(x.argval))
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
    with_defaults = set()
    for line, rank, code in lambda_codes(fn.__code__, with_defaults):
        qualname = qualname_of(code, line, rank)
        f = D.get_function(qualname, module)
        if f.methods:
            continue
        f.name = code.co_name
        free = code.co_freevars
        n = code.co_argcount
        params = tuple(code.co_varnames[:n])
        # (with defaults: a method per number of arguments passed, after the tuple of the
        # default values -- see the module's docstring)
        layouts = [(m, free + (DEFAULTS,) + params[:m]) for m in range(n + 1)] \
            if id(code) in with_defaults else [(None, free + params)]
        for given, names in layouts:
            cells = tuple(pytypes.CellType(None) for _ in free) if free else None
            pyfunc = pytypes.FunctionType(code, fn.__globals__, code.co_name, None, cells)
            pyfunc.__qualname__ = code.co_qualname
            if free or given is not None:
                pyfunc.__pk_captures__ = len(free)
            if given is not None:
                pyfunc.__pk_given__ = given
            D.insert_method(f, D.Method(f, (T.Any,) * len(names), pyfunc, module,
                                        code.co_filename, line, names))


def run_python(pyfunc):
    """What a closure lambda's method runs as Python: its code with the captured values
    (the first arguments) in its cells."""
    k = pyfunc.__pk_captures__
    # (with default values: their tuple follows the captured values, and Python's own call
    # fills the parameters not passed from it, or says which are missing)
    nd = 1 if hasattr(pyfunc, "__pk_given__") else 0

    def run(*args):
        # (a variable the closure shares with its maker arrives as that cell: ``Box``)
        cells = tuple(v if type(v) is pytypes.CellType else pytypes.CellType(v)
                      for v in args[:k]) if k else None
        fn = pytypes.FunctionType(pyfunc.__code__, pyfunc.__globals__, pyfunc.__name__,
                                  args[k] if nd else None, cells)
        fn.__qualname__ = pyfunc.__qualname__
        return fn(*args[k + nd:])
    return run

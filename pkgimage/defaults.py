"""Default parameter values, by Julia's rule: ``def f(x, y=2, z=3.0)`` defines the methods
``f(x, y, z)``, ``f(x, y) = f(x, y, 3.0)`` and ``f(x) = f(x, 2, 3.0)``.

Each shorter method is an ordinary method of the same generic function whose body calls the
full one with the remaining defaults as constants, so it dispatches, inlines, compiles, is
cached in images and is invalidated like any other.  Python evaluates defaults once, when
the ``def`` runs, which is why a default can only be a value known then: immutable values
(numbers, strings, ``None``, tuples of them, struct instances) are taken; a default that is
a mutable object (a list, an array) is refused with a clear error, since compiled code could
not share one object between calls the way Python does.
"""

from __future__ import annotations

from . import types as T
from .errors import CompileError
from .srcloc import function_location


def add_default_methods(function, fn, names, sig, module, boundscheck):
    """The shorter methods of ``fn`` (already added with all its parameters)."""
    from .compiler.instances import is_value
    from .dispatch import Method, insert_method
    from .dispatch import all_defaults
    defaults = all_defaults(fn)
    file, line = function_location(fn)
    code = fn.__code__
    kwonly = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    if any(n not in (fn.__kwdefaults__ or {}) for n in kwonly) and defaults:
        raise CompileError(f"method {fn.__name__}: a keyword-only parameter without a default "
                           f"after parameters with defaults is not supported", file, line, 0,
                           "defaults")
    if fn.__code__.co_flags & 0x04:
        raise CompileError(f"method {fn.__name__}: default parameter values together with "
                           f"*{names[-1]} are not supported", file, line, 0, "defaults")
    from .dispatch import GenericFunction
    for d, pname in zip(defaults, names[len(names) - len(defaults):]):
        if not is_value(d) and not isinstance(d, GenericFunction):
            raise CompileError(f"method {fn.__name__}: the default value of {pname!r} is a "
                               f"{type(d).__name__}; defaults must be immutable values "
                               f"(numbers, strings, None, tuples, structs)", file, line, 0,
                               "defaults")
    vars_, body = T.unwrap_unionall(sig)
    params = body.__pk_params__
    first = len(names) - len(defaults)
    for k in range(first, len(names)):
        short = names[:k]
        rest = defaults[k - first:]
        psig = T.tuple_type(*params[:k])
        for v in reversed(T.where_vars(list(params[:k]))):
            psig = T.UnionAll(v, psig)
        pyfunc = _python_body(function, rest)
        pyfunc.__pk_synth_ir__ = _synth(function, short, rest, file, line)
        insert_method(function, Method(function, psig, pyfunc, module, file, line, short,
                                       boundscheck=boundscheck))


def _python_body(function, rest):
    def with_defaults(*args):
        # (the defaults may fill keyword-only parameters: not a call by position)
        call_bound = getattr(function, "call_bound", None)
        return call_bound(args + rest) if call_bound is not None else function(*args, *rest)
    return with_defaults


def _synth(function, short, rest, file, line):
    def synth(method, sparams=()):
        from .compiler import ir as IR       # (when something compiles: not at an image load,
        loc = (line, 0)                      # which makes the base library's default methods)
        stmts = []
        args = list(short)
        for i, d in enumerate(rest):
            stmts.append(IR.Assign(f"%d{i}", IR.Const(d), loc))
            args.append(f"%d{i}")
        stmts.append(IR.Assign("%r", IR.Call(function, tuple(args), kwbound=True), loc))
        return IR.IRFunction(function.name, tuple(short),
                             [IR.Block(0, stmts, IR.Return("%r"))], file, line)
    return synth

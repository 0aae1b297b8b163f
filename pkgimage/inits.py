"""A struct's ``__init__``: Julia's inner constructor.

A ``@pk.struct`` class that defines ``__init__(self, ...)`` gets, instead of the default
constructors, one constructor method whose parameters are ``__init__``'s after ``self``
(annotations, defaults and all): it runs the body, which validates and normalises, and builds
the struct from the fields the body set (``compiler/initlower.py`` lowers it).  As in Julia,
the inner constructor is then the only way to make the struct, from Python and from compiled
code alike, so no value skips its checks; further constructor methods (``@pk.generic def
Unit(p: Point)``) are outer constructors that call it.

The method is made from the class's ``__init__`` whenever the struct's constructor function
is made -- at the definition, and again when an image restores the type (whose class keeps
``__init__``) -- so it is never pickled itself.
"""

from __future__ import annotations

from . import dispatch as D
from . import types as T


def has_inner_constructor(t):
    """Does ``t`` build its values with an ``__init__`` (its own; for a mutable struct, also
    a parent's: ``mutinit.py``)?"""
    if T.is_pktype(t) and t.__pk_kind__ == "mutable":
        from .mutinit import init_owner
        return init_owner(t) is not None
    return T.is_pktype(t) and t.__pk_kind__ == "struct" and "__init__" in t.__dict__


def check(t, loc):
    """At the definition: refuse an ``__init__`` the compiler could not take (using ``self``
    other than for its fields, returning a value), with its line, rather than at the first
    call.  (Skipped when the source is not available: the first compile says so.)"""
    init = t.__dict__["__init__"]
    if T.is_pktype(t) and t.__pk_params__:
        from .errors import CompileError
        code = init.__code__
        raise CompileError(f"struct {t.__pk_name__}: __init__ in a parametric struct is not "
                           f"supported yet; define outer constructor methods instead "
                           f"(@pk.generic def {t.__pk_name__}(...))", code.co_filename,
                           code.co_firstlineno, 0, "struct __init__")
    from .compiler import frontend
    from .compiler.initlower import constructor_def
    from .errors import CompileError
    try:
        fdef = frontend.function_def(init, f"{t.__pk_name__}.__init__")
    except CompileError:
        return
    constructor_def(fdef, [n for n, _ in t.__pk_fields__], t.__pk_name__,
                    init.__code__.co_filename)


def add_inner_constructor(f, t):
    """The constructor method ``T(args...)`` made from ``T.__init__(self, args...)``."""
    init = t.__dict__["__init__"]
    names, sig = D.signature_of(init)
    if not names:
        from .errors import CompileError
        code = init.__code__
        raise CompileError(f"struct {t.__pk_name__}.__init__ takes no self parameter",
                           code.co_filename, code.co_firstlineno, 0, "struct __init__")
    vars_, body = T.unwrap_unionall(sig)
    params = body.__pk_params__[1:]
    sig = T.rewrap_unionall(T.tuple_type(*params), tuple(v for v in vars_
                                                         if v in T.where_vars(list(params))))
    pyfunc = _python_body(t, init)
    file, line = init.__code__.co_filename, init.__code__.co_firstlineno
    D.insert_method(f, D.Method(f, sig, pyfunc, t.__pk_module__, file, line, names[1:]))
    if any(isinstance(c, type(init.__code__)) for c in init.__code__.co_consts):
        from .lambdas import define_lambdas        # (its lambdas: functions too)
        define_lambdas(init, t.__pk_module__)
    if init.__defaults__:
        from .defaults import add_default_methods
        add_default_methods(f, init, names[1:], sig, t.__pk_module__, True)


class _Draft:
    """``self`` while ``__init__`` runs as Python (``PKGIMAGE_JIT=0``): takes any field."""


def _python_body(t, init):
    """What the method runs as Python: ``__init__`` on a draft, then the struct built from
    the fields it set, each converted as the default constructor converts."""
    from .typedefs import new_unchecked
    fields = t.__pk_fields__

    def inner_constructor(*args):
        draft = _Draft()
        if init(draft, *args) is not None:
            raise TypeError(f"{t.__pk_name__}.__init__() should return None")
        values = []
        for fname, ft in fields:
            try:
                values.append(T.convert(ft, getattr(draft, fname)))
            except AttributeError:
                raise AttributeError(f"{t.__pk_name__}.__init__ did not set field "
                                     f"{fname!r}") from None
        return new_unchecked(t, values)

    inner_constructor.__pk_init__ = init
    inner_constructor.__qualname__ = f"{t.__qualname__}.__init__"
    return inner_constructor

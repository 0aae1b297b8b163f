"""Constructors as generic functions.

Every concrete type ``T`` has a constructor function (named like the type, owned by the type's
module) so that calling ``T(...)`` in compiled code is an ordinary call that dispatch and
inference understand, and so that packages can add constructor methods, as Julia's
``DemoType1(d::AbstractDemoType) = DemoType1(d.x)``.  A struct starts with Julia's two default
constructors: one taking exactly the field types (it builds the value) and, when some field is
primitive, one taking any ``Real`` there (it converts exactly first).
"""

from __future__ import annotations

import sys

from . import dispatch as D
from . import inits
from . import types as T
from .typedefs import new_unchecked

_CTORS: dict = {}


def constructor(t):
    """The constructor generic function of a struct or primitive type, or of a parametric
    struct's UnionAll (``Point(1.0, 2.0)``: Julia's default outer constructor).  A struct's
    default constructors are in its table from the start, made when the table is first read
    (``dispatch.defer_methods``: an image load makes a constructor for every struct it
    restores, and compiled code builds structs without ever reading most of them)."""
    f = _CTORS.get(t)
    if f is not None:
        return f
    if isinstance(t, T.UnionAll) and T.unwrap_unionall(t)[1].__pk_kind__ == "struct":
        return _outer_constructor(t)
    if not T.is_pktype(t) or t.__pk_kind__ not in ("struct", "mutable", "primitive"):
        raise TypeError(f"{t!r} has no constructor (only structs and primitive types have one)")
    if t.__pk_kind__ == "primitive" and D.LIBRARY not in sys.modules:
        # (a primitive type's constructor methods are the base library's, which ``import
        # pkgimage`` no longer imports: the table is made with them or not at all)
        import importlib
        importlib.import_module(D.LIBRARY)
        f = _CTORS.get(t)
        if f is not None:
            return f
    module = getattr(t, "__pk_module__", "pkgimage.types")
    f = D.GenericFunction(t.__pk_name__, module, f"{t.__pk_name__}.<constructor>")
    f.constructs = t
    _CTORS[t] = f
    D.FUNCTIONS[(module, f.qualname)] = f
    if inits.has_inner_constructor(t):
        if t.__pk_kind__ == "mutable":
            from .mutinit import add_constructor
            add_constructor(f, t)               # Python's ``__init__`` on a new object
        else:
            inits.add_inner_constructor(f, t)   # its ``__init__``: the only constructor
    elif t.__pk_kind__ in ("struct", "mutable"):
        _, sig, wide = _default_sigs(tuple(ft for _, ft in t.__pk_fields__))
        D.defer_methods(f, lambda: _default_constructors(f, t),
                        (sig,) if wide is None else (sig, wide), t.__pk_module__)
    return f


def _synth_ir(method, convert):
    """IR of a default constructor: optional exact conversion of each field, then ``new``.
    (The IR module is imported here, when something compiles: loading an image does not.)"""
    from .compiler import ir as IR
    t = method.function.constructs
    names = tuple(f"x{i}" for i in range(len(t.__pk_fields__)))
    stmts = []
    args = []
    for name, (fname, ft) in zip(names, t.__pk_fields__):
        if convert and ft.__pk_kind__ == "primitive":
            dst = f"%c{name}"
            stmts.append(IR.Assign(dst, IR.Intrinsic("convert", (name,), (ft,)), (method.line, 1)))
            args.append(dst)
        else:
            args.append(name)
    from .compiler.intrinsics import new_name
    stmts.append(IR.Assign("%new", IR.Intrinsic(new_name(t), tuple(args), (t,)),
                           (method.line, 1)))
    block = IR.Block(0, stmts, IR.Return("%new"))
    return IR.IRFunction(t.__pk_name__, names, [block], method.file, method.line)


def _synth_exact(m, sparams=()):
    return _synth_ir(m, False)


def _synth_converting(m, sparams=()):
    return _synth_ir(m, True)


# field types -> (argument names, exact signature type, converting one or None): every struct
# with the same field types has the same default constructors' signatures (a package image
# restores hundreds of structs of one field layout; each computed them again)
_DEFAULT_SIGS: dict = {}


def _default_sigs(ftypes):
    hit = _DEFAULT_SIGS.get(ftypes)
    if hit is None:
        wide = None
        if any(ft.__pk_kind__ == "primitive" for ft in ftypes):
            wide = T.as_sigtype(tuple(T.Real if ft.__pk_kind__ == "primitive" else ft
                                      for ft in ftypes))
        hit = _DEFAULT_SIGS[ftypes] = (tuple(f"x{i}" for i in range(len(ftypes))),
                                       T.as_sigtype(ftypes), wide)
    return hit


def _default_constructors(f, t):
    """Julia's default constructors of struct ``t`` (methods of its constructor ``f``): the
    exact one, and the converting one when a field is primitive."""
    fields = t.__pk_fields__
    names, sig, wide = _default_sigs(tuple(ft for _, ft in fields))
    file, line = t.__pk_loc__

    def exact(*args):
        return new_unchecked(t, args)

    def converting(*args):
        return new_unchecked(t, [T.convert(ft, a) for (_, ft), a in zip(fields, args)])

    exact.__pk_synth_ir__ = _synth_exact
    methods = [D.Method(f, sig, exact, t.__pk_module__, file, line, names)]
    if wide is not None:
        converting.__pk_synth_ir__ = _synth_converting
        methods.append(D.Method(f, wide, converting, t.__pk_module__, file, line, names))
    return methods


def _outer_constructor(wrapper):
    """``Point(x::T, y::T) where T = Point{T}(x, y)``: one method whose signature is the
    fields' types under the struct's type variables; each instance builds the struct of the
    parameters its argument types determine."""
    tn = T.typename_of(wrapper)
    vars_, body = T.unwrap_unionall(wrapper)
    f = D.GenericFunction(tn.name, tn.module, f"{tn.qualname}.<constructor>")
    f.constructs = wrapper
    _CTORS[wrapper] = f
    D.FUNCTIONS[(tn.module, f.qualname)] = f
    fields = body.__pk_fields__
    names = tuple(f"x{i}" for i in range(len(fields)))
    file, line = body.__pk_loc__

    def outer(*args):
        return wrapper(*args)

    def synth(m, sparams=()):
        from .compiler import ir as IR
        t = wrapper[tuple(sparams)]
        stmts = [IR.Assign("%new", IR.Intrinsic("new", names, (t,)), (m.line, 1))]
        return IR.IRFunction(tn.name, names, [IR.Block(0, stmts, IR.Return("%new"))],
                             m.file, m.line)

    outer.__pk_synth_ir__ = synth
    sig = T.rewrap_unionall(T.tuple_type(*(ft for _, ft in fields)), vars_)
    D.insert_method(f, D.Method(f, sig, outer, tn.module, file, line, names))
    return f


def existing(t):
    """The constructor function of ``t`` if one has been made, else None (without making
    one)."""
    return _CTORS.get(t)


def has_user_methods(t):
    f = _CTORS.get(t)
    return f is not None and any(not hasattr(m.pyfunc, "__pk_synth_ir__") for m in f.methods)


def _note_user_constructor(function, method, replaced):
    t = getattr(function, "constructs", None)
    if t is not None and t.__pk_kind__ in ("struct", "mutable") and \
            not hasattr(method.pyfunc, "__pk_synth_ir__"):
        type.__setattr__(t, "__pk_user_ctor__", function)


D.on_method_added(_note_user_constructor)

"""User type definitions: ``@pk.abstract`` and ``@pk.struct``.

A decorated class is rebuilt as a :class:`~pkgimage.types.PkType` class.  Structs get
``__slots__`` for their fields (so they are small, immutable and fast to build) and compare,
hash and print by value, like Julia's immutable structs.
"""

from __future__ import annotations

import sys

from . import inits
from . import types as T
from .errors import InexactError
from .srcloc import caller_location, fmt_loc


class Generic:
    """``class Point(pk.Generic[T])``: declares the type parameters of a parametric struct or
    abstract type, in order (as ``typing.Generic``).  Without it, the parameters are the
    TypeVars of the parent and the fields in order of first appearance; Python 3.12's
    ``class Point[T: Real]`` declares them too."""

    def __class_getitem__(cls, params):
        if not isinstance(params, tuple):
            params = (params,)
        return _GenericBase(tuple(T.from_annotation(p) for p in params))


class _GenericBase:
    __slots__ = ("params",)

    def __init__(self, params):
        for p in params:
            if not isinstance(p, T.TypeVar):
                raise TypeError(f"pk.Generic[...] takes TypeVars, got {p!r}")
        self.params = params

    def __mro_entries__(self, bases):
        return ()


def _declared_params(cls):
    """Explicit parameters of a user class (pk.Generic[...] or PEP 695), or None."""
    for b in cls.__dict__.get("__orig_bases__", ()):
        if isinstance(b, _GenericBase):
            return b.params
    tps = cls.__dict__.get("__type_params__")
    if tps:
        return tuple(T.from_annotation(p) for p in tps)
    return None


def _decl_parent(cls, what, loc):
    """The declared parent of a user class: its single pkgimage base, or ``Any``."""
    bases = [b for b in cls.__bases__ if b is not object and b is not Generic]
    if not bases:
        return T.Any
    if len(bases) > 1:
        raise TypeError(f"{fmt_loc(loc)}: {what} {cls.__name__} has several parents "
                        f"{bases}; a pkgimage type has exactly one supertype")
    parent = bases[0]
    if isinstance(parent, T.UnionAll):
        parent = T.unwrap_unionall(parent)[1]
    if what == "mutable struct" and isinstance(parent, T.PkType) and \
            parent.__pk_kind__ == "mutable":
        return parent              # (a class hierarchy of mutable structs: ``mutables.py``)
    if not isinstance(parent, T.PkType) or parent.__pk_kind__ != "abstract":
        pname = getattr(parent, "__pk_name__", getattr(parent, "__name__", repr(parent)))
        raise TypeError(f"{fmt_loc(loc)}: {what} {cls.__name__} names {pname} as its parent, "
                        f"which is not an abstract type (only abstract types can have subtypes)")
    return parent


def _class_ns(cls):
    ns = {k: v for k, v in cls.__dict__.items()
          if k not in ("__dict__", "__weakref__", "__pk_kind__", "__pk_name__", "__pk_super__",
                       "__pk_params__", "__pk_typename__", "__orig_bases__", "__type_params__",
                       "__parameters__")}
    ns.pop("__annotations__", None)
    return ns


def _finish(cls, kind, parent, loc, extra, params=(), typename=None, name=None):
    return _make_type(_class_ns(cls), cls.__name__, cls.__module__, cls.__qualname__, kind,
                      parent, loc, extra, params, typename, name)


# What a class body may define for itself, as Python lets it: how its values print and hash
# (left to Python: ``structmethods.PYTHON_ONLY``); a struct's default is used otherwise.
_USER_FIRST = ("__repr__", "__hash__")


def _make_type(ns, clsname, module, qualname, kind, parent, loc, extra, params=(),
               typename=None, name=None):
    tn = None
    if typename is None:
        # (the family made first and given to the class in its namespace: setting an
        # attribute on a class after it is made costs as much as a few of its entries)
        typename = tn = T.TypeName(clsname, module, ())
        tn.qualname = qualname
    ns.update(__pk_kind__=kind, __pk_name__=name or clsname, __pk_super__=parent,
              __pk_module__=module, __pk_loc__=loc, __qualname__=qualname,
              __pk_params__=params, __pk_typename__=typename)
    for k, v in extra.items():
        if not (k in _USER_FIRST and k in ns):
            ns[k] = v
    # (``PkType.__new__`` only fills in what a class without ``__pk_kind__`` lacks)
    t = type.__new__(T.PkType, clsname, (parent,), ns)
    if tn is not None:
        tn.primary = tn.wrapper = t
        T.USER_TYPES[(module, qualname)] = t
    return t


_NOT_RESTORED = frozenset(("__dict__", "__weakref__", "__annotations__", "__orig_bases__",
                           "__type_params__", "__parameters__"))


def restore(kind, name, qualname, module, parent, fields, loc, ns):
    """A non-parametric abstract type or struct of a module loaded from its image, made as
    ``@pk.abstract``/``@pk.struct`` made it at the build, in one class creation: the build
    checked the declaration already, and its fields are types (no annotation to evaluate, no
    caller frame to look up, no intermediate class for the decorator to rebuild)."""
    extra = _struct_attrs(tuple(fields)) if kind == "struct" else _ABSTRACT_ATTRS
    return restore_made(ns, name, qualname, module, kind, parent, loc, extra)


_ABSTRACT_ATTRS = {"__slots__": ()}


def restore_made(ns, name, qualname, module, kind, parent, loc, extra):
    ns = {k: v for k, v in ns.items() if k not in _NOT_RESTORED}
    ns["__module__"] = module
    t = _make_type(ns, name, module, qualname, kind, parent, tuple(loc), extra)
    if kind in ("struct", "mutable"):
        T.register_pytype(t, t)
    if kind == "struct" and "__init__" in ns:
        _with_inner_constructor(t)      # (a mutable struct's: once its fields are set)
    return t


def _type_params(cls, parent, fields, loc, what):
    """The parameters of a user type: declared, or the free vars of parent and fields."""
    declared = _declared_params(cls)
    found = T.where_vars([parent] + [ft for _, ft in fields])
    if declared is None:
        return tuple(found)
    for v in found:
        if v not in declared:
            raise TypeError(f"{fmt_loc(loc)}: {what} {cls.__name__} uses type variable "
                            f"{v.name}, which is not one of its parameters "
                            f"{[p.name for p in declared]}")
    return declared


def _parametric(cls, kind, parent, fields, params, loc, extra_for):
    """A parametric type: a TypeName whose instantiations are made on demand, and the
    UnionAll wrapper users name (``Point`` is ``Point[T] where T``)."""
    tn = T.TypeName(cls.__name__, cls.__module__, params)
    tn.qualname = cls.__qualname__

    def make(values):
        env = dict(zip(params, values))
        sup = T.substitute(parent, env)
        fts = tuple((n, T.substitute(ft, env)) for n, ft in fields)
        name = f"{cls.__name__}[" + ", ".join(T._pname(v) for v in values) + "]"
        t = _finish(cls, kind, sup, loc, extra_for(fts), params=tuple(values), typename=tn,
                    name=name)
        if kind == "struct" and not any(T.has_free_vars(v) if not isinstance(v, int) else False
                                        for v in values):
            T.register_pytype(t, t)
        return t

    tn.make = make
    body = tn.apply(params)
    tn.primary = body
    wrapper = body
    for v in reversed(params):
        wrapper = T.UnionAll(v, wrapper)
    wrapper.name = cls.__name__
    tn.wrapper = wrapper
    T.USER_TYPES[(cls.__module__, cls.__qualname__)] = wrapper
    return wrapper


def abstract(cls):
    """Declare an abstract type under ``Any`` or under the abstract class it derives from;
    with TypeVars (``class AbstractPoint(pk.Generic[T])``) a parametric abstract type."""
    loc = caller_location()
    parent = _decl_parent(cls, "abstract type", loc)
    if getattr(cls, "__annotations__", None) and "__annotations__" in cls.__dict__:
        raise TypeError(f"{fmt_loc(loc)}: abstract type {cls.__name__} cannot have fields")
    params = _type_params(cls, parent, (), loc, "abstract type")
    if params:
        return _with_methods(cls, _parametric(cls, "abstract", parent, (), params, loc,
                                              lambda fts: {"__slots__": ()}))
    return _with_methods(cls, _finish(cls, "abstract", parent, loc, {"__slots__": ()}))


def _with_methods(cls, t):
    """``t`` with the methods written in ``cls``'s body made methods of generic functions
    (``structmethods.py``)."""
    from . import structmethods
    methods = structmethods.class_methods(cls)
    if methods:
        if isinstance(t, T.UnionAll):
            tn = T.typename_of(t)
            classes = [cls] + list(tn.cache.values())
            structmethods.install(t, t, methods, cls.__module__, classes)
        else:
            structmethods.install(t, t, methods, cls.__module__)
    return t


_FIELD_KINDS = ("primitive", "struct", "tuple", "typevar")


def _field_ok(ft):
    if isinstance(ft, T.TypeVar):
        return True
    if not T.is_type(ft) or isinstance(ft, T.UnionAll):
        return False
    k = ft.__pk_kind__
    if k == "tuple":
        return all(not isinstance(p, T.Vararg) and _field_ok(p) for p in ft.__pk_params__)
    # (a field holding a reference -- a str, a mutable struct, a list, a dict, a set -- as
    # Julia's structs hold ones: the struct is then not isbits; compiled code counts the
    # references its values hold, as it does a tuple's)
    return k in ("primitive", "struct") or (k in _REFERENCE_KINDS and T.isconcrete(ft))


_REFERENCE_KINDS = ("string", "mutable", "list", "dict", "set")


def _field_type(cls, fname, ann, loc):
    if isinstance(ann, str):
        mod = sys.modules.get(cls.__module__)
        try:
            ann = eval(ann, vars(mod) if mod else {}, dict(vars(cls)))
        except Exception as e:
            raise TypeError(f"{fmt_loc(loc)}: struct {cls.__name__} field {fname}: "
                            f"cannot evaluate annotation {ann!r} ({e})") from None
    try:
        ft = T.from_annotation(ann)
    except TypeError:
        ft = None
    if ft is None or not _field_ok(ft):
        raise TypeError(f"{fmt_loc(loc)}: struct {cls.__name__} field {fname} has type {ann!r}; "
                        f"struct fields must be primitive types (Int64, Float64, Bool, ...), "
                        f"str, structs, mutable structs, lists, dicts or sets of a concrete "
                        f"type, tuples of those, or type parameters (pk.TypeVar)")
    return ft


def _struct_attrs(fields):
    """The attributes every struct with these fields has (a new dict each time: callers
    add to it; the objects in it are shared by the structs of one field layout -- a
    package image restores hundreds of them)."""
    hit = _STRUCT_ATTRS.get(fields)
    if hit is None:
        names = tuple(n for n, _ in fields)
        hit = _STRUCT_ATTRS[fields] = {
            "__slots__": names, "__pk_fields__": fields,
            "__pk_construct__": classmethod(_construct),
            "__setattr__": _setattr, "__delattr__": _setattr,
            "__eq__": _eq, "__hash__": _hash, "__repr__": _repr,
            "__reduce__": _reduce, "__match_args__": names,
        }
    return dict(hit)


_STRUCT_ATTRS: dict = {}


def refuse_new(cls, loc):
    """A struct is built by its constructors, which never run a Python ``__new__``: taking
    the class with one would silently skip what it does."""
    if "__new__" not in cls.__dict__:
        return
    from .errors import CompileError
    new = cls.__dict__["__new__"]
    code = getattr(getattr(new, "__func__", new), "__code__", None)
    raise CompileError(
        f"struct {cls.__name__} defines __new__, which its constructors would not run; "
        f"define __init__ (the struct's inner constructor) or constructor methods "
        f"(@pk.generic def {cls.__name__}(...)) instead",
        code.co_filename if code else loc[0], code.co_firstlineno if code else loc[1], 0,
        "struct __new__")


def struct(cls):
    """Declare an immutable struct; fields come from the class annotations, in order.  Fields
    typed with TypeVars make a parametric struct (``Point[T]``)."""
    loc = caller_location()
    refuse_new(cls, loc)
    parent = _decl_parent(cls, "struct", loc)
    anns = cls.__dict__.get("__annotations__", {})
    fields = tuple((n, _field_type(cls, n, a, loc)) for n, a in anns.items())
    names = tuple(n for n, _ in fields)
    for n in names:
        if n in cls.__dict__:
            raise TypeError(f"{fmt_loc(loc)}: struct {cls.__name__} field {n} has a default value; "
                            f"struct fields have none")
    params = _type_params(cls, parent, fields, loc, "struct")
    if params:
        return _with_methods(cls, _parametric(cls, "struct", parent, fields, params, loc,
                                              _struct_attrs))
    st = _finish(cls, "struct", parent, loc, _struct_attrs(fields))
    T.register_pytype(st, st)
    return finish_struct(cls, st, loc)


def finish_struct(cls, t, loc):
    """The methods of a (mutable) struct's class body, and its inner constructor."""
    if "__init__" in cls.__dict__ and t.__pk_kind__ == "struct":
        inits.check(t, loc)            # (errors at the definition, with the line)
    return _with_inner_constructor(_with_methods(cls, t))


def _with_inner_constructor(t):
    """A struct with an ``__init__`` has its constructor made now: it is the only way to
    build one (``inits.py``), from Python too."""
    if inits.has_inner_constructor(t):
        from .constructors import constructor
        constructor(t)
    return t


def _construct_unionall(wrapper, args, kwargs):
    """``Point(1.0, 2.0)``: Julia's default outer constructor, ``Point(x::T, y::T) where T =
    Point{T}(x, y)``: the parameters are those that make the fields' types match the
    arguments' types exactly."""
    from .subtyping import match
    if not kwargs:
        key = (wrapper, tuple(map(type, args)))
        hit = _OUTER_CACHE.get(key)
        if hit is not None:
            return hit(*args)
    vars_, body = T.unwrap_unionall(wrapper)
    fields = body.__pk_fields__
    if kwargs:
        args = _bind_kwargs(body, args, kwargs)
    if len(args) != len(fields):
        raise TypeError(f"{wrapper!r} takes {len(fields)} argument"
                        f"{'s' if len(fields) != 1 else ''} "
                        f"({', '.join(n for n, _ in fields)}), got {len(args)}")
    sig = T.tuple_type(*(ft for _, ft in fields))
    for v in reversed(vars_):
        sig = T.UnionAll(v, sig)
    ok, values = match(T.tuple_type(*(T.typeof(a) for a in args)), sig)
    if not ok or any(v is None for v in values):
        raise TypeError(f"no constructor {wrapper!r}(" +
                        ", ".join(f"::{T.typeof(a)}" for a in args) +
                        f"): the argument types do not determine the parameters "
                        f"{', '.join(v.where_repr() for v in vars_)}; give them, as "
                        f"{wrapper!r}[...](...) (struct defined at {fmt_loc(body.__pk_loc__)})")
    t = wrapper[values]
    if not kwargs and all(T.typeof_pytype(type(a)) is not None for a in args):
        # The Python classes decide the parameters: the next call skips the matching.
        _OUTER_CACHE[(wrapper, tuple(map(type, args)))] = t
    return t(*args)


_OUTER_CACHE: dict = {}    # (wrapper, argument classes) -> the instantiation they construct
T._UNIONALL_CALL["struct"] = _construct_unionall


def _convert_field(cls, fname, ftype, v):
    try:
        return T.convert(ftype, v)
    except (InexactError, TypeError) as e:
        raise type(e)(f"{cls.__pk_name__}: field {fname}::{ftype}: {e}") from None


def _construct(cls, *args, **kwargs):
    user = cls.__dict__.get("__pk_user_ctor__")
    if user is not None and (not kwargs or "__init__" in cls.__dict__):
        return user(*args, **kwargs)    # constructor methods were added: dispatch among them
    fields = cls.__pk_fields__
    if kwargs:
        args = _bind_kwargs(cls, args, kwargs)
    if len(args) != len(fields):
        raise TypeError(f"{cls.__pk_name__} takes {len(fields)} argument"
                        f"{'s' if len(fields) != 1 else ''} ({', '.join(n for n, _ in fields)}), "
                        f"got {len(args)} (struct defined at {fmt_loc(cls.__pk_loc__)})")
    obj = object.__new__(cls)
    for (fname, ftype), v in zip(fields, args):
        object.__setattr__(obj, fname, _convert_field(cls, fname, ftype, v))
    return obj


_MISSING = object()


def _bind_kwargs(cls, args, kwargs):
    names = [n for n, _ in cls.__pk_fields__]
    where = f"(struct defined at {fmt_loc(cls.__pk_loc__)})"
    if len(args) >= len(names):
        return tuple(args) + tuple(kwargs.values())     # the arity check reports it
    vals = list(args) + [_MISSING] * (len(names) - len(args))
    for k, v in kwargs.items():
        if k not in names:
            raise TypeError(f"{cls.__pk_name__} has no field {k} {where}")
        if vals[names.index(k)] is not _MISSING:
            raise TypeError(f"{cls.__pk_name__} got several values for field {k} {where}")
        vals[names.index(k)] = v
    missing = [n for n, v in zip(names, vals) if v is _MISSING]
    if missing:
        raise TypeError(f"{cls.__pk_name__} takes {len(names)} arguments ({', '.join(names)}), "
                        f"missing {', '.join(missing)} {where}")
    return tuple(vals)


def new_unchecked(cls, values):
    """Build a struct from values already of the right canonical types (native results)."""
    obj = object.__new__(cls)
    for (fname, _), v in zip(cls.__pk_fields__, values):
        object.__setattr__(obj, fname, v)
    return obj


def _setattr(self, name, value=None):
    raise AttributeError(f"{type(self).__pk_name__} is immutable: cannot set or delete field {name}")


def _values(self):
    return tuple(getattr(self, n) for n, _ in type(self).__pk_fields__)


def _eq(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self):
    return hash((type(self).__pk_name__, _values(self)))


def _repr(self):
    # NumPy scalars print as their value (``S(x=3)``, not ``S(x=np.int8(3))``), as Julia's show does.
    return f"{type(self).__pk_name__}(" + ", ".join(
        f"{n}={_show(getattr(self, n))}" for n, _ in type(self).__pk_fields__) + ")"


def _show(v):
    np = sys.modules.get("numpy")        # (a NumPy scalar exists only once NumPy is imported)
    return str(v) if np is not None and isinstance(v, np.generic) else repr(v)


def _reduce(self):
    return (new_unchecked, (type(self), _values(self)))

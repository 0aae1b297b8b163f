"""User type definitions: ``@pk.abstract`` and ``@pk.struct``.

A decorated class is rebuilt as a :class:`~pkgimage.types.PkType` class.  Structs get
``__slots__`` for their fields (so they are small, immutable and fast to build) and compare,
hash and print by value, like Julia's immutable structs.
"""

from __future__ import annotations

import sys

from . import types as T
from .errors import InexactError
from .srcloc import caller_location, fmt_loc


def _decl_parent(cls, what, loc):
    """The declared parent of a user class: its single pkgimage base, or ``Any``."""
    bases = [b for b in cls.__bases__ if b is not object]
    if not bases:
        return T.Any
    if len(bases) > 1:
        raise TypeError(f"{fmt_loc(loc)}: {what} {cls.__name__} has several parents "
                        f"{bases}; a pkgimage type has exactly one supertype")
    parent = bases[0]
    if not isinstance(parent, T.PkType) or parent.__pk_kind__ != "abstract":
        pname = getattr(parent, "__pk_name__", getattr(parent, "__name__", repr(parent)))
        raise TypeError(f"{fmt_loc(loc)}: {what} {cls.__name__} names {pname} as its parent, "
                        f"which is not an abstract type (only abstract types can have subtypes)")
    return parent


def _finish(cls, kind, parent, loc, extra):
    ns = {k: v for k, v in cls.__dict__.items()
          if k not in ("__dict__", "__weakref__", "__pk_kind__", "__pk_name__", "__pk_super__")}
    ns.pop("__annotations__", None)
    ns.update(__pk_kind__=kind, __pk_name__=cls.__name__, __pk_super__=parent,
              __pk_module__=cls.__module__, __pk_loc__=loc, __qualname__=cls.__qualname__)
    ns.update(extra)
    t = T.PkType(cls.__name__, (parent,), ns)
    T.USER_TYPES[(t.__pk_module__, t.__qualname__)] = t
    return t


def abstract(cls):
    """Declare an abstract type under ``Any`` or under the abstract class it derives from."""
    loc = caller_location()
    parent = _decl_parent(cls, "abstract type", loc)
    if getattr(cls, "__annotations__", None) and "__annotations__" in cls.__dict__:
        raise TypeError(f"{fmt_loc(loc)}: abstract type {cls.__name__} cannot have fields")
    return _finish(cls, "abstract", parent, loc, {"__slots__": ()})


def _field_type(cls, fname, ann, loc):
    if isinstance(ann, str):
        mod = sys.modules.get(cls.__module__)
        try:
            ann = eval(ann, vars(mod) if mod else {}, dict(vars(cls)))
        except Exception as e:
            raise TypeError(f"{fmt_loc(loc)}: struct {cls.__name__} field {fname}: "
                            f"cannot evaluate annotation {ann!r} ({e})") from None
    if not T.is_pktype(ann) or ann.__pk_kind__ not in ("primitive", "struct"):
        raise TypeError(f"{fmt_loc(loc)}: struct {cls.__name__} field {fname} has type {ann!r}; "
                        f"struct fields must be primitive types (Int64, Float64, Bool, ...) or structs")
    return ann


def struct(cls):
    """Declare an immutable struct; fields come from the class annotations, in order."""
    loc = caller_location()
    parent = _decl_parent(cls, "struct", loc)
    anns = cls.__dict__.get("__annotations__", {})
    fields = tuple((n, _field_type(cls, n, a, loc)) for n, a in anns.items())
    names = tuple(n for n, _ in fields)
    for n in names:
        if n in cls.__dict__:
            raise TypeError(f"{fmt_loc(loc)}: struct {cls.__name__} field {n} has a default value; "
                            f"struct fields have none")
    st = _finish(cls, "struct", parent, loc, {
        "__slots__": names, "__pk_fields__": fields,
        "__pk_construct__": classmethod(_construct),
        "__setattr__": _setattr, "__delattr__": _setattr,
        "__eq__": _eq, "__hash__": _hash, "__repr__": _repr,
        "__reduce__": _reduce, "__match_args__": names,
    })
    T.register_pytype(st, st)
    return st


def _convert_field(cls, fname, ftype, v):
    try:
        return T.convert(ftype, v)
    except (InexactError, TypeError) as e:
        raise type(e)(f"{cls.__pk_name__}: field {fname}::{ftype}: {e}") from None


def _construct(cls, *args, **kwargs):
    user = cls.__dict__.get("__pk_user_ctor__")
    if user is not None and not kwargs:
        return user(*args)          # constructor methods were added: dispatch among them
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

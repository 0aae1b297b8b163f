"""``@pk.mutable``: Julia's ``mutable struct``.

A mutable struct is an object with identity: its fields can be assigned (in compiled code
and from Python), two values are ``==`` only when they are the same object, it is stored by
reference (in lists, dicts, other structs' fields), and fields may hold any pkgimage type --
other mutable structs, the struct itself (``next: Optional["Node"]``: a linked list, a tree
with parent pointers), lists, arrays.  Reference cycles among them are collected by Python's
cyclic GC, since the value *is* a Python object (a class with ``__slots__``).

Compiled code holds it as that object (kind ``"mutable"``: boxed, like a list) and reads and
writes its fields in place at their slot offsets (``slot_offsets``), unboxed to the field's
type; a value assigned to a field is converted to its type exactly as the immutable struct's
constructor converts (``Int64`` into a ``Float64`` field), from Python by ``__setattr__``.
"""

from __future__ import annotations

import reprlib

from . import types as T
from .srcloc import caller_location, fmt_loc


def mutable(cls):
    """Declare a mutable struct; fields come from the class annotations, in order, and may
    name the struct itself (as a string: ``"Node"``, ``Optional["Node"]``)."""
    from . import typedefs
    loc = caller_location()
    typedefs.refuse_new(cls, loc)
    parent = typedefs._decl_parent(cls, "mutable struct", loc)
    anns = cls.__dict__.get("__annotations__", {})
    names = tuple(anns)
    inherited = parent.__pk_fields__ if parent.__pk_kind__ == "mutable" else ()
    for n in names:
        if any(n == pn for pn, _ in inherited):
            raise TypeError(f"{fmt_loc(loc)}: mutable struct {cls.__name__} declares field "
                            f"{n} again; its parent {parent.__pk_name__} has it")
        if n in cls.__dict__:
            raise TypeError(f"{fmt_loc(loc)}: mutable struct {cls.__name__} field {n} has a "
                            f"default value; struct fields have none (give defaults to "
                            f"__init__'s parameters)")
    # The type exists before its fields' types are evaluated, so that they can name it.
    t = typedefs._finish(cls, "mutable", parent, loc, _attrs(names, (), inherited))
    fields = inherited + tuple((n, _field_type(cls, t, n, a, loc)) for n, a in anns.items())
    if parent.__pk_kind__ == "mutable":
        open_parent(parent)
    type.__setattr__(t, "__pk_fields__", fields)
    T.register_pytype(t, t)
    return typedefs.finish_struct(cls, t, loc)


def restore(name, qualname, module, parent, names, loc, ns):
    """A mutable struct of a module loaded from its image, before its fields' types are
    known (they may name it: the image sets them next, ``set_fields``)."""
    from . import typedefs
    names = tuple(names)
    if T.is_pktype(parent) and parent.__pk_kind__ == "mutable":
        open_parent(parent)                 # (its slots come first: a subclass's are its own)
        have = {n for c in type.mro(parent) for n in c.__dict__.get("__slots__", ())}
        own = tuple(n for n in names if n not in have)
        inh = tuple((n, None) for n in names if n in have)
        return typedefs.restore_made(ns, name, qualname, module, "mutable", parent, loc,
                                     _attrs(own, (), inh))
    return typedefs.restore_made(ns, name, qualname, module, "mutable", parent, loc,
                                 _attrs(names, ()))


def set_fields(t, fields):
    """The fields' types of a restored mutable struct, then its constructors."""
    from .typedefs import _with_inner_constructor
    type.__setattr__(t, "__pk_fields__", tuple(fields))
    _with_inner_constructor(t)


def open_parent(parent):
    """A mutable struct another one subclasses stands, as a type, for itself and its
    subclasses (Python's meaning of a class in ``isinstance`` and annotations): it is no
    longer concrete (``types.isconcrete``), values typed by it are boxed objects whose class
    is known at run time.  Its fields are a prefix of every subclass's, in the same slots
    (Python lays a subclass's ``__slots__`` after its base's), so they are still read and
    written in place.

    Code compiled while ``parent`` was concrete may have taken a value of its type as an
    instance of exactly that class (a direct call of its method, which the subclass may
    override): the first subclass invalidates that code (``instances.type_opened``)."""
    if "__pk_open__" in parent.__dict__:
        return
    type.__setattr__(parent, "__pk_open__", True)
    from .compiler.instances import type_opened
    type_opened(parent)


def _attrs(names, fields, inherited=()):
    # (a subclass's slots are its own fields: Python keeps its parent's before them)
    return {"__slots__": names, "__pk_fields__": fields,
            "__pk_construct__": classmethod(_construct_mutable),
            "__setattr__": _setattr, "__delattr__": _delattr,
            "__repr__": _repr, "__reduce__": _reduce, "__setstate__": _setstate,
            "__match_args__": tuple(n for n, _ in inherited) + names}


def _field_type(cls, t, fname, ann, loc):
    import sys
    if isinstance(ann, str):
        mod = sys.modules.get(cls.__module__)
        scope = dict(vars(mod)) if mod else {}
        scope[cls.__name__] = t
        try:
            ann = eval(ann, scope, {})
        except Exception as e:
            raise TypeError(f"{fmt_loc(loc)}: mutable struct {cls.__name__} field {fname}: "
                            f"cannot evaluate annotation {ann!r} ({e})") from None
    try:
        ft = T.from_annotation(_self_named(ann, cls, t))
    except TypeError:
        ft = None
    if ft is None or isinstance(ft, (T.TypeVar, T.UnionAll)):
        raise TypeError(f"{fmt_loc(loc)}: mutable struct {cls.__name__} field {fname} has "
                        f"type {ann!r}, which is not a pkgimage type (parametric mutable "
                        f"structs are not supported)")
    return ft


def _self_named(ann, cls, t):
    """``Optional["Node"]`` inside ``class Node``: typing keeps the string as a ForwardRef."""
    import typing
    if isinstance(ann, typing.ForwardRef) and ann.__forward_arg__ == cls.__name__:
        return t
    args = typing.get_args(ann)
    if args and any(isinstance(a, typing.ForwardRef) for a in args):
        origin = typing.get_origin(ann)
        new = tuple(_self_named(a, cls, t) for a in args)
        if origin is typing.Union:
            return typing.Union[new]
    return ann


def _construct_mutable(cls, *args, **kwargs):
    from .typedefs import _construct
    return _construct(cls, *args, **kwargs)


def _setattr(self, name, value):
    cls = type(self)
    for fname, ft in cls.__pk_fields__:
        if fname == name:
            from .typedefs import _convert_field
            object.__setattr__(self, name, _convert_field(cls, fname, ft, value))
            return
    raise AttributeError(f"{cls.__pk_name__} has no field {name}")


def _delattr(self, name):
    raise AttributeError(f"{type(self).__pk_name__}: cannot delete field {name}")


@reprlib.recursive_repr()
def _repr(self):
    from .typedefs import _show
    return f"{type(self).__pk_name__}(" + ", ".join(
        f"{n}={_show(getattr(self, n, None))}" for n, _ in type(self).__pk_fields__) + ")"


def _reduce(self):
    # (state apart from the object: pickle records the object first, so cycles round-trip)
    return (object.__new__, (type(self),),
            {n: getattr(self, n) for n, _ in type(self).__pk_fields__ if hasattr(self, n)})


def _setstate(self, state):
    for n, v in state.items():
        object.__setattr__(self, n, v)


# -- native layout ------------------------------------------------------------------------------

_OFFSETS: dict = {}


def slot_offsets(t):
    """Byte offset of each field's slot in the object, in field order.  CPython lays slots
    out after the base's size in an order of its own (sorted names); rather than assume
    it, each slot is found by storing a marker through its descriptor and looking for it."""
    hit = _OFFSETS.get(t)
    if hit is None:
        import ctypes
        obj = object.__new__(t)
        markers = [object() for _ in t.__pk_fields__]
        for (n, _), m in zip(t.__pk_fields__, markers):
            object.__setattr__(obj, n, m)
        words = {ctypes.c_void_p.from_address(id(obj) + off).value: off
                 for off in range(0, t.__basicsize__, 8)}
        hit = _OFFSETS[t] = tuple(words[id(m)] for m in markers)
    return hit

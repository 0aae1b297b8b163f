"""Intrinsics of mutable structs' fields (``mutables.py``).

``obj.f = v`` is ``setfield{("f",)}(obj, v)``: for a mutable struct whose field ``f`` can
take ``v``'s type (the same type, a subtype, or a number converted exactly as constructors
convert), codegen stores into the field's slot in place; on a value whose type is not known
until run time, Python's ``setattr`` does it (the struct's ``__setattr__`` converts, an
immutable struct raises its error).  Reading a field is ``GetField`` (inference's
``FieldRef``), as for immutable structs.
"""

from __future__ import annotations

from .. import types as T
from .intrinsics import _def

SPEC = {"setfield", "global_ref", "global_get", "global_set"}


@_def("global_get", lambda ts, p: T.Any if not ts and len(p) == 2 else None)
def global_get(spec):
    """A module global a function declares ``global`` (it rebinds it): read at each use."""
    from .instances import module_globals
    try:
        return module_globals(spec[0])[spec[1]]
    except KeyError:
        raise NameError(f"name {spec[1]!r} is not defined") from None


@_def("global_set", lambda ts, p: T.Nothing if len(ts) == 1 and len(p) == 2 else None)
def global_set(spec, value):
    """``global x; x = value``: rebind the module global (Python's own store)."""
    from .instances import module_globals
    module_globals(spec[0])[spec[1]] = value


@_def("alloc_mutable", lambda ts, p: p[0] if not ts and len(p) == 1 else None)
def alloc_mutable(t):
    """A mutable struct with no field set yet (``mutinit.py``: ``__init__`` sets them)."""
    return object.__new__(t)


def field_type(t, name):
    """The type of mutable struct ``t``'s field ``name`` (None when it has none)."""
    if not T.is_pktype(t) or t.__pk_kind__ != "mutable":
        return None
    return dict(t.__pk_fields__).get(name)


def accepts(ft, vt):
    """Can a value of type ``vt`` be stored in a field of type ``ft``?"""
    if ft.__pk_kind__ == "primitive" and vt.__pk_kind__ == "primitive":
        return True                      # (converted, exactly for integer fields)
    return T.issubtype(vt, ft)


def _setfield_rule(ts, params):
    if len(ts) != 2 or len(params) != 1:
        return None
    ft = field_type(ts[0], params[0])
    return T.Nothing if ft is not None and accepts(ft, ts[1]) else None


@_def("global_ref", lambda ts, p: p[2] if not ts and len(p) == 3 else None)
def global_ref(spec):
    """The object a module global holds (``frontend.name_load``: lists, dicts, arrays and
    mutable structs are read and written in place)."""
    from .instances import module_globals
    return module_globals(spec[0])[spec[1]]


@_def("setfield", _setfield_rule)
def setfield(spec, obj, value):
    setattr(obj, spec[0], value)

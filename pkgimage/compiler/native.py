"""Native code without LLVM: constant slots, builtin-function entries, shared libraries.

Everything here works with ctypes alone, so loading a package image whose code is all valid
never imports llvmlite: the image's shared library is opened with the dynamic loader, its
constant slots are filled with the Python objects their portable references name, and its
entry wrappers become builtin-function objects.
"""

from __future__ import annotations

import sys

import ctypes

from .. import dispatch as D
from .. import errors as E
from .. import types as T

METH_FASTCALL = 0x80


class PyMethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


_PyCFunction_NewEx = ctypes.pythonapi.PyCFunction_NewEx
_PyCFunction_NewEx.argtypes = [ctypes.POINTER(PyMethodDef), ctypes.py_object, ctypes.py_object]
_PyCFunction_NewEx.restype = ctypes.py_object


# -- Python objects native code refers to ------------------------------------------------------

_NO_CAUSE = object()


def _raise_error(*parts):
    raise E.ErrorException("".join(str(p) for p in parts))


_RAISE_CODE: dict = {}


def _raise_at(filename, name, line, exc, cause):
    """Raise ``exc`` from a frame that stands for compiled code's ``raise`` at
    ``filename:line`` in function ``name``, so that the traceback names the user's line
    (native code has no frame of its own).  The code objects are made once per place."""
    key = (filename, name, line, cause is _NO_CAUSE)
    code = _RAISE_CODE.get(key)
    if code is None:
        src = "\n" * max(line - 1, 0) + ("raise _e" if cause is _NO_CAUSE else
                                          "raise _e from _c")
        code = _RAISE_CODE[key] = compile(src, filename, "exec").replace(co_name=name)
    try:
        exec(code, {"_e": exc, "_c": cause})
    finally:
        exc = cause = None          # (no cycle through this frame)


def _raise_python(filename, name, line, exc, *parts):
    _raise_at(filename, name, line, exc("".join(str(p) for p in parts)), _NO_CAUSE)


def _raise_object(filename, name, line, exc, cause=_NO_CAUSE):
    """``raise exc`` / ``raise exc from cause`` in compiled code: Python raises it (a class
    is instantiated, anything else is Python's TypeError)."""
    _raise_at(filename, name, line, exc, cause)


def _bounds_error(arr, i):
    raise E.BoundsError(f"BoundsError: attempt to access {len(arr)}-element {T.typeof(arr)} "
                        f"at index [{i}]")


def _inexact_error(t, v):
    raise E.InexactError(f"InexactError: {t}({v!r})")


def _getfield(obj, name):
    """Field ``name`` of a value whose type inference could not know (Julia's getfield)."""
    t = T.typeof(obj)
    if t.__pk_kind__ in ("struct", "mutable") and any(n == name for n, _ in t.__pk_fields__):
        return getattr(obj, name)
    if t.__pk_kind__ == "pyobject":
        return getattr(obj, name)                 # (a Python object used through Python)
    from ..structmethods import property_function
    if property_function(t, name) is not None:
        return getattr(obj, name)                 # (a property: its function's call)
    raise E.ErrorException(f"type {t} has no field {name}")


def _bounds_error_nd(t, shape, axis, i):
    dims = f"{shape[0]}-element" if len(shape) == 1 else "×".join(map(str, shape))
    where = f"[{i}]" if len(shape) == 1 else f"{i} of axis {axis}"
    raise E.BoundsError(f"BoundsError: attempt to access {dims} {t} at index {where}")


def _tuple_bounds_error(t, i):
    raise E.BoundsError(f"BoundsError: attempt to access {t} at index [{i}]")


class _ViewOf:
    """The memory of a view compiled code made of an ndarray: NumPy wraps it (through the
    array interface) and keeps this object, hence the owner, alive as the view's base."""

    __slots__ = ("owner", "__array_interface__")

    def __init__(self, owner, ptr, shape, strides):
        self.owner = owner
        self.__array_interface__ = {"data": (ptr, False), "shape": shape, "strides": strides,
                                    "typestr": owner.dtype.str, "version": 3}
        if owner.dtype.fields is not None:                 # an array of isbits structs
            self.__array_interface__["descr"] = owner.dtype.descr


def _array_view(owner, ptr, shape, strides):
    import numpy as np
    a = np.asarray(_ViewOf(owner, ptr, shape, strides))
    if owner.dtype.fields is not None:
        a = a.view(owner.dtype)                            # (align=True padding kept)
    return a if type(owner) is np.ndarray else a.view(type(owner))


def _check_bindings(module):
    """A wrapper saw ``module``'s globals change: True if code was invalidated (the wrapper
    then dispatches the call again), None if every global read is still the same."""
    from .instances import check_bindings
    return True if check_bindings(module) else None


def _call_bound(f, *args):
    """A compiled keyword call dispatched at run time (``GenericFunction.call_bound``)."""
    return f.call_bound(args)


def _union_member(u, obj):
    """Which member of the bits union ``u`` the object ``obj`` is a value of (1-based), for
    an object whose class is not a member's own (an int subclass, a NumPy scalar)."""
    t = T.typeof(obj)
    for k, m in enumerate(u.__pk_members__, 1):
        if T.issubtype(t, m):
            return k
    raise TypeError(f"internal: a value of type {t} where {u} was inferred")


HELPERS = {"raise_error": _raise_error, "raise_python": _raise_python,
           "raise_object": _raise_object,
           "bounds_error": _bounds_error,
           "inexact_error": _inexact_error, "getfield": _getfield,
           "bounds_error_nd": _bounds_error_nd, "tuple_bounds_error": _tuple_bounds_error,
           "array_view": _array_view, "check_bindings": _check_bindings,
           "union_member": _union_member,
           "call_bound": _call_bound}


def _spec_from_ref(r):
    return tuple(T.type_from_ref(p[1]) if isinstance(p, tuple) and len(p) == 2 and p[0] == "T"
                 else (_spec_from_ref(p) if isinstance(p, tuple) else p) for p in r)
_BOXERS: dict = {}


def _boxer(t):
    b = _BOXERS.get(t)
    if b is None and t.__pk_kind__ == "closure":
        def b(*vals, _f=t.__pk_function__):
            return T.Closure(_f, vals)
        _BOXERS[t] = b
    if b is None and T.value_class(t) is not t:
        b = _BOXERS[t] = T.value_class(t)          # (``complex(re, im)``)
    if b is None:
        from ..typedefs import new_unchecked

        def b(*vals, _t=t):
            return new_unchecked(_t, vals)
        _BOXERS[t] = b
    return b


def _random_generator():
    """The object native random numbers draw from (``randomgen``, constant kind ``"mt"``):
    ``random``'s module instance, which must still be a ``_random.Random`` (here, not in
    ``randomgen``: an image load links code without importing the code generator)."""
    import _random
    import random
    inst = random._inst
    if not isinstance(inst, _random.Random):
        raise E.CompileError("random._inst is not a _random.Random: native random numbers "
                             "cannot use it")
    return inst


def resolve_const(ref):
    """The Python object a constant slot's portable reference names."""
    kind = ref[0]
    if kind == "func":
        return D.lookup_function(ref[1], ref[2])
    if kind == "typed_call":
        # (a run-time call whose containers' types compiled code knows: ``codegen.dynamic_call``)
        return D.lookup_function(ref[1], ref[2]).call_typed
    if kind == "exc":
        import builtins
        exc = getattr(E, ref[1], None)
        return exc if exc is not None else getattr(builtins, ref[1])
    if kind in ("str", "int"):
        return ref[1]
    if kind == "kwnames":
        return tuple(ref[1])        # (the names of a call's keywords, vectorcall's kwnames)
    if kind == "none":
        return None
    if kind == "types":
        return tuple(T.type_from_ref(r) if r is not None else None for r in ref[1])
    if kind == "type":
        return T.type_from_ref(ref[1])
    if kind == "pytype":
        return T.type_from_ref(ref[1]).__pk_pytype__
    if kind == "boxer":
        return _boxer(T.type_from_ref(ref[1]))
    if kind == "intrinsic":
        from . import intrinsics
        return intrinsics.REGISTRY[ref[1]].impl
    if kind == "helper":
        return HELPERS[ref[1]]
    if kind == "numpy":
        return getattr(T.np, ref[1])
    if kind == "dtype":
        return T.type_from_ref(ref[1]).__pk_dtype__
    if kind == "spec":
        return _spec_from_ref(ref[1])
    if kind == "pyattr":
        # a class of a module (an exception class compiled code raises or catches)
        import importlib
        obj = sys.modules.get(ref[1]) or importlib.import_module(ref[1])
        for part in ref[2].split("."):
            obj = getattr(obj, part)
        return obj
    if kind == "mt":
        return _random_generator()
    if kind == "global":
        from .instances import module_globals
        d = module_globals(ref[1])
        if d is None or ref[2] not in d:
            raise E.CompileError(f"global {ref[1]}.{ref[2]} (an object compiled code reads "
                                 f"in place) is not defined")
        return d[ref[2]]
    if kind == "moddict":
        from .instances import module_globals
        d = module_globals(ref[1])
        if d is None:
            raise E.CompileError(f"module {ref[1]} (whose globals compiled code reads) is "
                                 f"not loaded")
        return d
    raise E.CompileError(f"internal: unknown constant reference {ref!r}")




_KEEP = []          # objects referenced from native code (constant slots, method defs, libs)


def fill_const_slots(addresses, const_slots):
    """Write into each slot (symbol -> address) the object its reference names."""
    for name, ref in const_slots:
        _fill_slot(addresses[name], ref)


def _fill_slot(address, ref):
    obj = resolve_const(ref)
    _KEEP.append(obj)
    ctypes.c_void_p.from_address(address).value = id(obj)


# (what ``codegen.WrapperGen`` names its constant slots after: ``<symbol>.py.k<i>``)
_WRAPPER_SLOT = ".py.k"


_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]


def _c_bytes(data):
    """A copy of ``data`` in C memory that is never freed."""
    p = _libc.malloc(len(data) + 1)
    ctypes.memmove(p, data + b"\0", len(data) + 1)
    return p


def make_pycfunction(address, name):
    """A builtin-function object calling the METH_FASTCALL wrapper at ``address``.

    The ``PyMethodDef`` lives in C memory that is never freed: a builtin function reads it
    until its very last deallocation (``PyCFunction_GET_CLASS`` looks at ``ml_flags``), which
    at interpreter exit can come after every Python object of ours is gone."""
    p = _libc.malloc(ctypes.sizeof(PyMethodDef))
    mdef = PyMethodDef.from_address(p)
    ctypes.c_void_p.from_address(p).value = _c_bytes(name.encode())
    mdef.ml_meth = address
    mdef.ml_flags = METH_FASTCALL
    ctypes.c_void_p.from_address(p + PyMethodDef.ml_doc.offset).value = None
    return _PyCFunction_NewEx(ctypes.cast(p, ctypes.POINTER(PyMethodDef)), None, None)


def python_entry(nc, name):
    """The Python entry of the native code ``nc`` (a ``NativeCode``), made from its wrapper
    at the first call if the image loader left it for later; None when it has none."""
    if nc.entry is None and nc.wrapper is not None:
        w = nc.wrapper
        if isinstance(w, int):
            address = w
        else:
            w[0].fill_slots_of(w[1])
            address = w[0].address(w[1])
        nc.entry = make_pycfunction(address, name)
        nc.wrapper = None
    return nc.entry


_libc.dlsym.restype = ctypes.c_void_p
_libc.dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]


class SharedLibrary:
    """An image's native code opened with the dynamic loader (RTLD_GLOBAL, so images that
    depend on it resolve its symbols by name)."""

    def __init__(self, path):
        self.path = path
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        _KEEP.append(self.lib)
        # {wrapper symbol: [(slot address, reference)]} of constant slots only that wrapper
        # reads, left empty by ``fill_slots`` and filled before its first call
        self._later: dict = {}

    def fill_slots(self, const_slots, later=None):
        """Fill the library's constant slots [(name, reference)], except those only a
        wrapper reads whose reference ``later(ref)`` says to leave (what the load should not
        import: the base library's ``add``, named by the wrapper of a struct's
        ``__add__``); ``fill_slots_of`` fills them before the wrapper's entry is made."""
        for name, ref in const_slots:
            address = self.address(name)
            if later is not None and later(ref) and _WRAPPER_SLOT in name:
                self._later.setdefault(name.rpartition(".k")[0], []).append((address, ref))
            else:
                _fill_slot(address, ref)

    def fill_slots_of(self, wrapper):
        """Fill the slots ``fill_slots`` left for ``wrapper`` (importing what they name),
        before anything can call it; under the compiler lock, so that a second thread
        making the same entry waits until they are filled."""
        if wrapper not in self._later:
            return
        from ..compiler_lock import COMPILER_LOCK
        with COMPILER_LOCK:
            for address, ref in self._later.get(wrapper, ()):
                _fill_slot(address, ref)
            self._later.pop(wrapper, None)

    def address(self, symbol):
        # dlsym directly: ``self.lib[symbol]`` builds a ctypes function object per lookup,
        # which was a fifth of the time of loading an image of 1,000 instances.
        address = _libc.dlsym(self.lib._handle, symbol.encode())
        if not address:
            raise E.ImageError(f"{self.path}: symbol {symbol} missing")
        return address

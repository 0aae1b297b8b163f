"""The linker: LLVM module -> optimised object code -> loaded with llvmlite's ORC LLJIT.

Everything native goes through :func:`emit_object` and :meth:`Jit.link`: code compiled in
this session and (later) object code read from a package image are linked the same way.
Calls to functions of earlier batches resolve by symbol (``import_symbol`` with the address
the earlier link reported); the CPython C API resolves from the current process.

After linking, constant slots are filled with the Python objects their portable references
name (:func:`resolve_const`), and each requested wrapper becomes a real builtin function
object (``PyCFunction_NewEx`` on a ``PyMethodDef`` we keep alive), so Python calls native
code without ctypes in between.
"""

from __future__ import annotations

import ctypes
import threading

import llvmlite.binding as llvm

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

def _raise_error(*parts):
    raise E.ErrorException("".join(str(p) for p in parts))


def _bounds_error(arr, i):
    raise E.BoundsError(f"BoundsError: attempt to access {len(arr)}-element {T.typeof(arr)} "
                        f"at index [{i}]")


def _inexact_error(t, v):
    raise E.InexactError(f"InexactError: {t}({v!r})")


HELPERS = {"raise_error": _raise_error, "bounds_error": _bounds_error,
           "inexact_error": _inexact_error}
_BOXERS: dict = {}


def _boxer(t):
    b = _BOXERS.get(t)
    if b is None:
        from ..typedefs import new_unchecked

        def b(*vals, _t=t):
            return new_unchecked(_t, vals)
        _BOXERS[t] = b
    return b


def resolve_const(ref):
    """The Python object a constant slot's portable reference names."""
    kind = ref[0]
    if kind == "func":
        return D.lookup_function(ref[1], ref[2])
    if kind == "exc":
        return getattr(E, ref[1])
    if kind == "str":
        return ref[1]
    if kind == "none":
        return None
    if kind == "type":
        return T.type_from_ref(ref[1])
    if kind == "pytype":
        return T.type_from_ref(ref[1]).__pk_pytype__
    if kind == "boxer":
        return _boxer(T.type_from_ref(ref[1]))
    if kind == "intrinsic":
        from . import intrinsics
        return intrinsics.REGISTRY[ref[1]]
    if kind == "helper":
        return HELPERS[ref[1]]
    raise E.CompileError(f"internal: unknown constant reference {ref!r}")


# -- the JIT ----------------------------------------------------------------------------------

class Jit:
    def __init__(self):
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        triple = llvm.get_process_triple()
        target = llvm.Target.from_triple(triple)
        self.cpu = llvm.get_host_cpu_name()
        self.features = llvm.get_host_cpu_features().flatten()
        self.tm = target.create_target_machine(cpu=self.cpu, features=self.features, opt=3,
                                               reloc="pic", codemodel="default")
        self.triple = triple
        self.lljit = llvm.create_lljit_compiler(self.tm)
        self.addresses: dict = {}     # symbol -> address, every native symbol linked so far
        self._trackers = []
        self._keep = []               # Python objects referenced from constant slots
        self._nlib = 0
        self.lock = threading.RLock()

    def optimize(self, mod):
        pto = llvm.create_pipeline_tuning_options(speed_level=2)
        pb = llvm.create_pass_builder(self.tm, pto)
        pb.getModulePassManager().run(mod, pb)

    def emit_object(self, ir_module, optimize=True):
        """LLVM IR (llvmlite.ir module) -> verified, optimised, relocatable object bytes."""
        ir_module.triple = self.triple
        ir_module.data_layout = str(self.tm.target_data)
        mod = llvm.parse_assembly(str(ir_module))
        mod.verify()
        if optimize:
            self.optimize(mod)
        return self.tm.emit_object(mod)

    def link(self, obj, exports, imports, const_slots):
        """Load object code; returns {exported symbol: address}."""
        with self.lock:
            b = llvm.JITLibraryBuilder().add_object_img(obj).add_current_process()
            for name in imports:
                b.import_symbol(name, self.addresses[name])
            for name in exports:
                b.export_symbol(name)
            for name, _ in const_slots:
                b.export_symbol(name)
            self._nlib += 1
            tracker = b.link(self.lljit, f"pklib{self._nlib}")
            self._trackers.append(tracker)
            out = {name: tracker[name] for name in exports}
            self.addresses.update(out)
            for name, ref in const_slots:
                obj_ = resolve_const(ref)
                self._keep.append(obj_)
                ctypes.c_void_p.from_address(tracker[name]).value = id(obj_)
            return out

    def pycfunction(self, address, name):
        """A builtin-function object calling the METH_FASTCALL wrapper at ``address``."""
        mdef = PyMethodDef(name.encode(), address, METH_FASTCALL, None)
        self._keep.append(mdef)
        return _PyCFunction_NewEx(ctypes.byref(mdef), None, None)


_JIT = None


def get_jit():
    global _JIT
    if _JIT is None:
        _JIT = Jit()
    return _JIT

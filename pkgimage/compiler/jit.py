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

import threading

import llvmlite.binding as llvm


from .native import fill_const_slots, make_pycfunction  # noqa: E402


# -- the JIT ----------------------------------------------------------------------------------

# A function with more basic blocks than this (before optimisation; compiled functions have
# a few hundred at most) is not optimised and is emitted without machine-level passes:
# both are superlinear in a function's size (a sum of 1,000 arrays took hours at level 3).
LARGE_FUNCTION_BLOCKS = 2000


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
        # for modules with a huge function (``emit_object``, LARGE_FUNCTION_BLOCKS): LLVM's
        # machine-level passes are superlinear in a function's size (a sum of 200 arrays:
        # 8 s at opt=3, 0.4 s at opt=0)
        self.tm_large = target.create_target_machine(cpu=self.cpu, features=self.features,
                                                     opt=0, reloc="pic", codemodel="default")
        self.triple = triple
        self.lljit = llvm.create_lljit_compiler(self.tm)
        self.addresses: dict = {}     # symbol -> address, every native symbol linked so far
        self._trackers = []
        self._keep = []               # Python objects referenced from constant slots
        self._nlib = 0
        self.lock = threading.RLock()

    def optimize(self, mod, level=3):
        pto = llvm.create_pipeline_tuning_options(speed_level=level)
        pto.loop_vectorization = True
        pto.slp_vectorization = True
        pb = llvm.create_pass_builder(self.tm, pto)
        pb.getModulePassManager().run(mod, pb)

    def emit_object(self, ir_module, optimize=True, blocks=None):
        """LLVM IR (llvmlite.ir module) -> verified, optimised, relocatable object bytes.
        ``blocks``: the most basic blocks a function will have after inlining (the code
        generator's estimate, ``ModuleGen.blocks_estimate``); counted here when not given."""
        ir_module.triple = self.triple
        ir_module.data_layout = str(self.tm.target_data)
        mod = llvm.parse_assembly(str(ir_module))
        mod.verify()
        if blocks is None:
            blocks = max((sum(1 for _ in f.blocks) for f in mod.functions), default=0)
        huge = blocks > LARGE_FUNCTION_BLOCKS
        if optimize:
            self.optimize(mod, 0 if huge else 3)
        return (self.tm_large if huge else self.tm).emit_object(mod)

    def link(self, obj, exports, imports, const_slots):
        # ``obj``: object bytes, or a list of them linked as one library (an image's parts).
        """Load object code; ``imports`` maps the symbols it calls elsewhere to addresses.
        Returns {exported symbol: address}."""
        with self.lock:
            b = llvm.JITLibraryBuilder()
            for o in (obj if isinstance(obj, list) else [obj]):
                b.add_object_img(o)
            b.add_current_process()
            for name, address in imports.items():
                b.import_symbol(name, address)
            for name in exports:
                b.export_symbol(name)
            for name, _ in const_slots:
                b.export_symbol(name)
            self._nlib += 1
            tracker = b.link(self.lljit, f"pklib{self._nlib}")
            self._trackers.append(tracker)
            out = {name: tracker[name] for name in exports}
            self.addresses.update(out)
            fill_const_slots({name: tracker[name] for name, _ in const_slots}, const_slots)
            return out

    def pycfunction(self, address, name):
        """A builtin-function object calling the METH_FASTCALL wrapper at ``address``."""
        return make_pycfunction(address, name)


_JIT = None


def get_jit():
    global _JIT
    if _JIT is None:
        _JIT = Jit()
    return _JIT

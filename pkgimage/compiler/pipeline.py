"""One pipeline for all compiled code: infer -> codegen -> object -> link -> entry.

``ensure_native(ci)`` compiles, as one batch, every CodeInstance reachable from ``ci`` through
static calls that has no native code yet, links the batch and records addresses.  A call from
Python asks :func:`entry_for` (installed as the dispatch entry hook) for a builtin-function
object that runs the native code.  When a CodeInstance is invalidated, its function's
Python-level call cache is dropped so the next call recompiles.
"""

from __future__ import annotations

import sys

from .. import types as T
from ..compiler_lock import COMPILER_LOCK
from ..errors import AmbiguityError, MethodError
from . import codegen
from .inference import static_calls, typeinf
from .instances import NativeCode, method_instance


_GENERATIONS: dict = {}
STATS = {"batches": 0, "compiled": 0}


def _calls(ci):
    for info in ci.stmt_info.values():
        yield from static_calls(info)


def _static_callees(ci):
    """Callees that need native code of their own (small ones are generated inline)."""
    for info in _calls(ci):
        if info.mi.cache is not None:
            callee = info.mi.cache
            if codegen.inline_size(callee) is None:
                yield callee
            else:
                yield from _static_callees(callee)


def _fresh(c):
    """A CodeInstance with IR to generate code from: one loaded from an image without
    native code of its own (its callers inlined it) is inferred again here."""
    if c.ir is None and (c.native is None or not c.native.exported):
        c.mi.cache = None
        return typeinf(c.mi)
    return c


def _collect(ci):
    todo, seen, stack = [], set(), [ci]
    while stack:
        c = _fresh(stack.pop())
        if id(c) in seen or (c.native is not None and c.native.exported):
            continue
        seen.add(id(c))
        todo.append(c)
        stack.extend(_static_callees(c))
    todo.sort(key=lambda c: repr(c.mi))
    return todo


def ensure_native(ci, want_entry=True):
    """Native code for ``ci`` (and everything it calls); returns its Python entry if asked.

    Only ``ci`` itself is exported from the batch: its callees get internal linkage, so LLVM
    inlines and drops them (DemoPkg's thousand constructor methods fold into ``f``).  A later
    batch that needs one of them natively compiles it again, as part of that batch.
    """
    with COMPILER_LOCK:
        return _ensure_native(ci, want_entry)


class Batch:
    """What the native passes share while compiling one batch (declared fields, so a pass
    cannot bolt state onto a CodeInstance)."""

    __slots__ = ("root", "want_entry", "todo", "need_wrapper", "module", "wrapper",
                 "exported", "obj", "addresses", "done")

    def __init__(self, root, want_entry):
        self.root, self.want_entry = root, want_entry
        self.todo, self.need_wrapper, self.module, self.wrapper = [], False, None, None
        self.exported, self.obj, self.addresses, self.done = [], None, {}, False


def _pass_collect(batch):
    """Every instance reachable by static calls without exported native code, in a
    deterministic order; loaded code that already has a Python entry ends the batch."""
    ci = batch.root
    batch.todo = _collect(ci)
    if batch.want_entry and not batch.todo and ci.native is not None and \
            ci.native.wrapper is not None:
        from .native import python_entry
        python_entry(ci.native, ci.mi.method.function.name)
        batch.done = True
        return
    batch.need_wrapper = batch.want_entry and (ci.native is None or ci.native.entry is None)
    batch.done = not batch.todo and not batch.need_wrapper


def _pass_symbols(batch):
    """Each new CodeInstance gets a symbol (a fresh generation per MethodInstance)."""
    for c in batch.todo:
        if c.symbol is None:
            gen = _GENERATIONS.get(c.mi, 0)
            _GENERATIONS[c.mi] = gen + 1
            c.symbol = codegen.symbol_for(c, gen)


def _pass_codegen(batch):
    """Typed IR -> one LLVM module; only the root is exported, so LLVM may inline and drop
    its callees."""
    mg = batch.module = codegen.ModuleGen(f"batch{STATS['batches']}")
    for c in batch.todo:
        f = mg.add_function(c)
        if c is not batch.root:
            f.linkage = "internal"
    batch.wrapper = mg.add_wrapper(batch.root) if batch.need_wrapper else None
    batch.exported = ([batch.root.symbol] if batch.root in batch.todo else []) + \
        ([batch.wrapper] if batch.wrapper else [])


def _pass_optimize_and_emit(batch):
    """LLVM's O3 pipeline with loop and SLP vectorisation (``Jit.optimize``) -> object code."""
    from .jit import get_jit
    batch.obj = get_jit().emit_object(batch.module.module,
                                      blocks=batch.module.blocks_estimate())
    drop_llvm_ir(batch.module.module)


def drop_llvm_ir(module):
    """Break the reference cycles of a generated ``llvmlite.ir`` module (each instruction
    names its block, each block its function, and branches name blocks) once its object
    code exists: reference counting then frees it at once.  Left to Python's cyclic
    collector, a batch of a few dozen methods was ~10^5 objects that a full collection
    found in the middle of the user's next call (0.3 s in Richards' first timed run)."""
    from llvmlite import ir
    for g in list(module.globals.values()):
        if isinstance(g, ir.Function):
            for blk in g.blocks:
                for ins in blk.instructions:
                    ins.parent = None
                    ins.operands = []
                blk.instructions = []
                blk.terminator = None
                blk.parent = None
            g.blocks = []
            g.args = ()
        g.parent = None
    module.globals.clear()


def _pass_link(batch):
    """Load the object code; calls into earlier batches resolve to their addresses."""
    from .jit import get_jit
    mg = batch.module
    externals = {sym: c.native.address for sym, c in mg.externals.items()}
    batch.addresses = get_jit().link(batch.obj, batch.exported, externals, mg.consts)


def _pass_install(batch):
    """Record native code on the CodeInstances and make the root's Python entry."""
    from .jit import get_jit
    STATS["batches"] += 1
    STATS["compiled"] += len(batch.todo)
    ci = batch.root
    for c in batch.todo:
        if c is ci or c.native is None:
            c.native = NativeCode(c.symbol, batch.addresses.get(c.symbol), STATS["batches"])
    if batch.wrapper:
        ci.native.entry = get_jit().pycfunction(batch.addresses[batch.wrapper],
                                                ci.mi.method.function.name)


# The compiler's passes, in order.  A method's source is lowered once (``frontend.lower``,
# cached per method by ``inference.ir_of``) and inferred per MethodInstance
# (``inference.typeinf``: abstract interpretation to a fixed point, edges recorded); the
# native passes below then run on one batch each, under the compiler lock.
FRONT_PASSES = ("lower: frontend.lower (Python AST -> untyped IR)",
                "infer: inference.typeinf (untyped IR -> CodeInstance with typed IR and edges)")
NATIVE_PASSES = (_pass_collect, _pass_symbols, _pass_codegen, _pass_optimize_and_emit,
                 _pass_link, _pass_install)


def _ensure_native(ci, want_entry):
    # An instance a dependency's image kept inline-only has neither IR nor code: it is
    # inferred again, and *that* CodeInstance is the one to compile and give an entry (the
    # old one kept being used here: 'NoneType' object has no attribute 'entry').
    batch = Batch(_fresh(ci), want_entry)
    for run in NATIVE_PASSES:
        run(batch)
        if batch.done:
            break
    root = batch.root
    return root.native.entry if root.native is not None else None


# Inference, like Julia's, recurses into callees: a call chain N functions deep needs a few
# dozen Python frames per level, past Python's default limit of 1,000 frames at a depth of
# ~200 ("expression nested too deeply").  Since Python 3.11, calls between Python functions
# do not consume C stack, so the compiler raises the limit while it runs (a chain of 3,000
# functions compiles in the main thread).
DEEP_RECURSION_LIMIT = 200_000


class _RoomForDeepChains:
    def __enter__(self):
        self.old = sys.getrecursionlimit()
        if self.old < DEEP_RECURSION_LIMIT:
            sys.setrecursionlimit(DEEP_RECURSION_LIMIT)

    def __exit__(self, *exc):
        if sys.getrecursionlimit() == DEEP_RECURSION_LIMIT and self.old < DEEP_RECURSION_LIMIT:
            sys.setrecursionlimit(self.old)



def compile_instance(function, argtypes):
    """Infer and compile ``function`` for concrete ``argtypes``; returns the CodeInstance."""
    method = function.dispatch(tuple(argtypes))
    with COMPILER_LOCK, _RoomForDeepChains():
        ci = typeinf(method_instance(method, tuple(argtypes)))
        if all(T.isconcrete(t) for t in argtypes):
            ensure_native(ci)
    return ci


def infer_instance(function, argtypes):
    """Infer ``function`` for ``argtypes`` without generating code (the image writer
    generates the code of many instances in one batch); returns the CodeInstance."""
    method = function.dispatch(tuple(argtypes))
    with COMPILER_LOCK, _RoomForDeepChains():
        return typeinf(method_instance(method, tuple(argtypes)))


def entry_for(function, method, argtypes):
    with COMPILER_LOCK, _RoomForDeepChains():
        ci = _fresh(typeinf(method_instance(method, argtypes)))
        return ensure_native(ci)


def precompile(function, argtypes):
    """``pk.precompile(f, types)``: infer and generate native code now.  True on success,
    False when no (unique) method applies."""
    argtypes = tuple(argtypes)
    try:
        compile_instance(function, argtypes)
    except (MethodError, AmbiguityError):
        return False
    return True



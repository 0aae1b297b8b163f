"""Codegen: inferred CodeInstances to LLVM IR with llvmlite.ir.

Native ABI of a CodeInstance (symbol ``ci.symbol``)::

    i32 @sym(RetT* %ret, T1 %a1, ..., Tn %an)     ; 0 = ok, 1 = a Python exception is set

Value representations: ``Bool`` i8, integers iN, floats float/double, ``Nothing`` i8, structs
by value as literal LLVM structs, ``Vector[T]`` of a primitive ``T`` as ``{T*, i64, i8*}``
(data, length, owning array object), anything else (abstract types, unions, boxed vectors)
as a ``PyObject*`` owned by the variable that holds it.  Native code runs with the GIL held,
so it calls the CPython C API directly to box, unbox and raise.

Python objects the code needs (generic functions for run-time dispatch, exception classes,
struct classes for boxing, strings of error messages) are *constant slots*: ``i8*`` globals
named ``<sym>.k<N>`` that the linker fills after loading.  A slot is described portably by a
tuple (see ``jit.resolve_const``), so the same object code works in another process, which is
what lets package images store it.

The Python entry point of a CodeInstance is a METH_FASTCALL wrapper ``<sym>.py`` that unboxes
the arguments, calls the native function and boxes the result, so a call from Python costs
one C call and no ctypes.
"""

from __future__ import annotations

import hashlib
import sys
import sysconfig
import weakref

from llvmlite import ir

from .. import types as T
from ..errors import CompileError
from . import inference as INF
from . import instances as INS
from . import intrinsics
from . import unions as U
from .ir import (Branch, Call, Const, GetField, Goto, Intrinsic, MethodRef, Raise, Return, Use,
                 KwValueCallee, ValueCallee, expr_uses, library_callable, term_uses)

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
I128 = ir.IntType(128)
F32 = ir.FloatType()
F64 = ir.DoubleType()
OBJ = I8.as_pointer()
OBJP = OBJ.as_pointer()
VOID = ir.VoidType()
PYBUF = ir.ArrayType(I64, 10)        # Py_buffer: 80 bytes, 8-aligned
PyBUF_C_CONTIGUOUS = 0x38
PyBUF_STRIDES = 0x18

_PRIM_LL = {
    T.Bool: I8, T.Int8: I8, T.Int16: ir.IntType(16), T.Int32: I32, T.Int64: I64,
    T.UInt8: I8, T.UInt16: ir.IntType(16), T.UInt32: I32, T.UInt64: I64,
    T.Float32: F32, T.Float64: F64,
}


def lltype(t):
    k = t.__pk_kind__
    if k == "primitive":
        return _PRIM_LL[t]
    if k == "nothing":
        return I8
    if k == "struct":
        return ir.LiteralStructType([lltype(ft) for _, ft in t.__pk_fields__])
    if k == "tuple" and not is_boxed(t):
        return ir.LiteralStructType([lltype(p) for p in t.__pk_params__])
    if k == "closure":
        return ir.LiteralStructType([lltype(c) for c in t.__pk_captures__])
    if k == "array" and not is_boxed(t):
        n = t.__pk_ndim__
        return ir.LiteralStructType([OBJ, ir.ArrayType(I64, n), ir.ArrayType(I64, n), OBJ, I8])
    return OBJ


def _refcount_model():
    """How native code changes a reference count: ``"plain"`` (3.11: ``ob_refcnt`` is a
    Py_ssize_t at offset 0), ``"immortal"`` (3.12, 3.13: the same field, and an object whose
    count is negative as an int32 is immortal and never changes), or None (a free-threaded
    or debug build, or a layout not known here: call ``Py_IncRef``/``Py_DecRef``).  Inline
    counting lets LLVM drop the increments and decrements that cancel and the ones on NULL,
    which a call into the C API hides from it.  Images are keyed by the exact Python
    version, so code compiled for one model never runs under another."""
    if sysconfig.get_config_var("Py_GIL_DISABLED") or hasattr(sys, "gettotalrefcount"):
        return None
    if sys.implementation.name != "cpython" or sys.maxsize != (1 << 63) - 1:
        return None
    if sys.version_info[:2] == (3, 11):
        return "plain"
    if (3, 12) <= sys.version_info[:2] <= (3, 13):
        return "immortal"
    return None


REFCOUNT = _refcount_model()


def elsize(t):
    """Bytes per element of the array type ``t`` (NumPy's itemsize, LLVM's struct layout)."""
    return int(T.np.dtype(T.struct_dtype(t.__pk_eltype__)).itemsize)


def elalign(t):
    return int(T.np.dtype(T.struct_dtype(t.__pk_eltype__)).alignment)


# An unboxed Array[T, N] is {data (i8*), shape [N x i64], strides in elements [N x i64], the
# ndarray that owns the memory (a reference the value holds), flags}.  A view made in
# compiled code (``A[1:-1, :]``, a row ``A[i]``) shares its parent's owner (flag VIEW) and
# becomes a NumPy view of that owner when it reaches Python; an array NumPy marks read-only
# (flag READONLY, kept by its views) refuses writes as NumPy does.
A_DATA, A_SHAPE, A_STRIDES, A_OWNER, A_VIEW = range(5)
FLAG_VIEW, FLAG_READONLY = 1, 2


def is_boxed(t):
    """Does a value of this type live in native code as a PyObject*?"""
    k = t.__pk_kind__
    if k in ("primitive", "nothing", "struct", "closure"):
        return False      # (a closure: its captured values, ``lltype``)
    if k == "array":
        return not T.isbits(t.__pk_eltype__) or not isinstance(t.__pk_ndim__, int)
    if k == "tuple":
        return not T.isconcrete(t) or any(is_boxed(p) for p in t.__pk_params__)
    return True


def is_managed(t):
    """Does a value of this type hold references to Python objects (so that storing,
    copying and dropping it must count them)?  Boxed values, arrays (their owner) and
    tuples holding either."""
    if t is T.Bottom:
        return False
    if is_boxed(t):
        return True
    k = t.__pk_kind__
    if k == "array":
        return True
    if k == "tuple":
        return any(is_managed(p) for p in t.__pk_params__)
    if k == "struct":
        return any(is_managed(ft) for _, ft in t.__pk_fields__)
    if k == "closure":
        return any(is_managed(c) for c in t.__pk_captures__)
    return False


def is_int(t):
    return intrinsics.is_int(t) or t is T.Bool


def ret_lltype(t):
    return I8 if t is T.Bottom else lltype(t)


_SYMBOL_OWNER = [""]


def set_symbol_owner(name):
    """Name the image whose code this process generates (a build sets its module).  The
    same MethodInstance compiled into two images can be two different codes -- a dependent
    image recompiles a dependency's instance whose call a method of its own now resolves --
    and images' symbols are resolved globally by the dynamic loader: without the owner in
    the name, the dependent's calls went to the dependency's older code (found by the
    program fuzzer: a MethodError the dependent's method fixed, still thrown)."""
    _SYMBOL_OWNER[0] = name or ""


def symbol_for(ci, generation=0):
    """Deterministic native symbol: readable prefix plus a hash of what identifies the code."""
    m = ci.mi.method
    f = m.function
    key = f"{f.module}.{f.qualname}|{T.sig_repr(f.name, m.sig)}|{m.module}|" \
          f"{T.sig_repr(f.name, ci.mi.spec_types)}|{_SYMBOL_OWNER[0]}"
    h = hashlib.sha1(key.encode()).hexdigest()[:16]
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in f.name)[:40]
    sym = f"pk.{name}.{h}"
    return sym if generation == 0 else f"{sym}.g{generation}"


def _static_container(t):
    """A list, dict or set type a dynamic call dispatches by (``dynamic_call``): concrete,
    and not an empty literal's (``List[Union[]]``: nothing stored into it here yet -- what
    the callee may store is not bounded by it; its items' type is taken, as before)."""
    return (T.is_dict(t) or T.is_list(t) or T.is_set(t)) and T.isconcrete(t) and \
        not INF.empty_literal(t)


def native_fn_type(ci):
    args = [ret_lltype(ci.rettype).as_pointer()] + [lltype(t) for t in ci.mi.spec_types]
    return ir.FunctionType(I32, args)


INLINE_MAX_SIZE = 40


def inline_size(ci):
    """Size of ``ci`` once its own small callees are inlined, or None if it is not small:
    one reachable block ending in a return, no boxed values, only constants, copies, field
    reads, intrinsics with native emitters and calls of other small instances.  Small
    instances are generated inline at each call site instead of as functions, which removes
    most functions of constructor- and arithmetic-heavy code before LLVM ever sees them."""
    cached = _INLINE_SIZE.get(ci, False)
    if cached is not False:
        return cached
    _INLINE_SIZE[ci] = None           # recursion guard: a cycle is never small
    size = _compute_inline_size(ci)
    _INLINE_SIZE[ci] = size
    return size


_INLINE_SIZE = weakref.WeakKeyDictionary()   # CodeInstance -> inline size (codegen's memo)


def _compute_inline_size(ci):
    if ci.reached != {0} or not isinstance(ci.ir.blocks[0].term, Return):
        return None
    if ci.rettype is T.Bottom or is_managed(ci.rettype):
        return None
    # Values holding references may only be arguments the body reads (an array indexed by
    # ``getitem``): inlined code borrows them from the caller and counts no references.
    args = set(ci.ir.argnames)
    if any(st.dst in args for st in ci.ir.blocks[0].stmts):
        return None
    if any(is_managed(t) for v, t in ci.vartypes.items() if v not in args):
        return None
    size = 1
    for i, st in enumerate(ci.ir.blocks[0].stmts):
        info = ci.stmt_info.get((0, i))
        v = st.value
        if isinstance(v, (Const, Use)):
            if isinstance(v, Const) and (T.typeof(v.value).__pk_kind__ not in
                                         ("primitive", "nothing", "struct", "tuple")
                                         or is_managed(T.typeof(v.value))):
                return None
            size += 1
        elif isinstance(v, GetField):
            if not isinstance(info, INF.FieldRef) or info.index < 0 or \
                    info.member is not None:
                return None
            size += 1
        elif isinstance(info, INF.TupleElem):
            if is_boxed(info.argtype):
                return None
            size += 1
        elif isinstance(v, Intrinsic):
            if listgen.native(v.name, info):
                if listgen.owned_result(v.name, info.argtypes):
                    return None         # (inlined code drops results' ownership)
            elif randomgen.native(v.name, info.argtypes) and not info.dynamic:
                pass
            elif info.dynamic or v.name not in EMITTERS or \
                    any(is_boxed(t) for t in info.argtypes) or \
                    (v.name == "tuple_get" and len(set(info.argtypes[0].__pk_params__)) > 1):
                return None
            size += 2
        elif isinstance(info, INF.StaticCall):
            if info.kwplan is not None:
                return None         # (its arguments are not the call's, ``call_values``)
            callee = info.mi.cache
            sub = inline_size(callee) if callee is not None else None
            if sub is None:
                return None
            size += sub
        else:
            return None
        if size > INLINE_MAX_SIZE:
            return None
    return size


# ---------------------------------------------------------------------------------------------


class ModuleGen:
    """One LLVM module: the functions of a compile batch plus the wrappers asked for."""

    def __init__(self, name):
        self.module = ir.Module(name=name)
        self.module.triple = ""
        self.consts = []          # (slot symbol, portable reference)
        self._const_index = {}
        self._decls = {}
        self.functions = {}       # symbol -> ir.Function defined here
        self.externals = {}       # symbol -> CodeInstance called here, defined elsewhere
        # (an image's module: the ids of the instances it defines; a call to any other is to
        # the symbol its native code has, ``called_symbol``)
        self.own_ids = None
        self._strings = {}
        self._rc_calls = {}       # function name -> blocks its refcount calls add inlined

    # -- declarations ------------------------------------------------------------------------

    def capi(self, name, ret, args, var_arg=False):
        f = self._decls.get(name)
        if f is None:
            fnty = ir.FunctionType(ret, args, var_arg=var_arg)
            f = self.module.globals.get(name) or ir.Function(self.module, fnty, name=name)
            self._decls[name] = f
        return f

    # Reference counting is everywhere in native code (every boxed temporary, field and
    # element), so each module defines ``Py_XINCREF``/``Py_XDECREF`` once, as internal
    # always-inline functions, and code calls them: LLVM inlines them when it optimises, where
    # building the same three nested branches in Python at every use made reference counts
    # the largest part of code generation.  ``blocks_estimate`` counts what inlining adds.
    REFCOUNT_BLOCKS = {"incref": 2, "decref": 4}

    def refcount_call(self, builder, kind, v):
        if REFCOUNT is None:
            name = "Py_IncRef" if kind == "incref" else "Py_DecRef"
            builder.call(self.capi(name, VOID, [OBJ]), [v])
            return
        builder.call(self.refcount(kind), [v])
        fn = builder.function
        self._rc_calls[fn.name] = self._rc_calls.get(fn.name, 0) + self.REFCOUNT_BLOCKS[kind]

    def refcount(self, kind):
        """The module's ``pk.incref``/``pk.decref`` (``Py_XINCREF``/``Py_XDECREF`` inline
        where the interpreter's object layout is known: ``REFCOUNT``)."""
        name = "pk." + kind
        f = self._decls.get(name)
        if f is not None:
            return f
        f = ir.Function(self.module, ir.FunctionType(VOID, [OBJ]), name=name)
        f.linkage = "internal"
        f.attributes.add("alwaysinline")
        f.attributes.add("nounwind")
        self._decls[name] = f
        (v,) = f.args
        b = ir.IRBuilder(f.append_basic_block("entry"))
        with b.if_then(b.icmp_unsigned("!=", v, ir.Constant(OBJ, None)), likely=True):
            cnt = b.bitcast(v, I64.as_pointer())
            rc = b.load(cnt)
            live = (b.icmp_signed(">=", b.trunc(rc, I32), I32(0)) if REFCOUNT == "immortal"
                    else ir.Constant(I1, 1))
            with b.if_then(live, likely=True):
                if kind == "incref":
                    b.store(b.add(rc, I64(1)), cnt)
                else:
                    new = b.sub(rc, I64(1))
                    b.store(new, cnt)
                    with b.if_then(b.icmp_signed("==", new, I64(0)), likely=False):
                        b.call(self.capi("_Py_Dealloc", VOID, [OBJ]), [v])
        b.ret_void()
        return f

    def blocks_estimate(self):
        """The most basic blocks a function of this module will have once the reference
        count helpers are inlined (``Jit.emit_object`` compiles huge functions at -O0)."""
        return max((len(f.blocks) + self._rc_calls.get(f.name, 0)
                    for f in self.module.functions if f.blocks), default=0)

    def called_symbol(self, ci):
        """The symbol a call of ``ci`` goes to.  In an image's module, an instance it does
        not define whose native code another image holds is called by that code's symbol:
        an instance one image keeps only as a record (every caller there inlined it) can
        get native code from a second image, under the second image's symbol."""
        nc = ci.native
        if self.own_ids is not None and id(ci) not in self.own_ids and nc is not None \
                and nc.exported and str(nc.batch).startswith("image:"):
            return nc.symbol
        return ci.symbol

    def native(self, ci):
        sym = self.called_symbol(ci)
        f = self.functions.get(sym) or self.module.globals.get(sym)
        if f is None:
            f = ir.Function(self.module, native_fn_type(ci), name=sym)
        if sym not in self.functions:
            self.externals[sym] = ci       # resolved by symbol when linked
        return f

    def intrinsic_fn(self, name, ty, nargs=1):
        return self.module.declare_intrinsic(name, [ty])

    def cstring(self, text):
        g = self._strings.get(text)
        if g is None:
            data = bytearray(text.encode("utf-8")) + b"\0"
            arr = ir.ArrayType(I8, len(data))
            g = ir.GlobalVariable(self.module, arr, name=f".str{len(self._strings)}")
            g.global_constant = True
            g.linkage = "private"
            g.initializer = ir.Constant(arr, data)
            self._strings[text] = g
        return g

    def const_slot(self, owner_sym, ref):
        """A global holding a PyObject* the linker fills with the object ``ref`` names."""
        key = (owner_sym, ref)
        g = self._const_index.get(key)
        if g is None:
            name = f"{owner_sym}.k{sum(1 for s, _ in self.consts if s.startswith(owner_sym + '.k'))}"
            g = ir.GlobalVariable(self.module, OBJ, name=name)
            g.initializer = ir.Constant(OBJ, None)
            self.consts.append((name, ref))
            self._const_index[key] = g
        return g

    # -- generation --------------------------------------------------------------------------

    def add_function(self, ci):
        f = self.native(ci)
        self.functions[ci.symbol] = f
        self.externals.pop(ci.symbol, None)
        FunctionGen(self, ci, f).generate()
        return f

    def add_wrapper(self, ci):
        name = ci.symbol + ".py"
        fnty = ir.FunctionType(OBJ, [OBJ, OBJP, I64])
        w = ir.Function(self.module, fnty, name=name)
        WrapperGen(self, ci, w).generate()
        return name


class _Emitter:
    boundscheck = True
    """Boxing, unboxing and error raising shared by function bodies and wrappers.

    Subclasses provide ``self.b`` (the builder), ``self.fn`` and ``self.err_block`` (where a
    failed check jumps: the cleanup exit of a native function, the NULL return of a wrapper).
    """

    def __init__(self, mg, owner_sym):
        self.mg = mg
        self.sym = owner_sym
        self.pybuf = None       # the function's one Py_buffer (``unbox_array`` releases it)

    def obj_const(self, ref):
        """The object ``ref`` names, loaded from its constant slot.  The linker fills a slot
        before any code of the module runs and never changes it, so the load is marked
        invariant: LLVM may keep it in a register across stores it cannot otherwise tell
        apart from the slot (the generator state ``randomgen`` writes in a loop)."""
        g = self.mg.const_slot(self.sym, ref)
        v = self.b.load(g)
        v.set_metadata("invariant.load", self.mg.module.add_metadata([]))
        return v

    def capi(self, name, ret, args):
        return self.mg.capi(name, ret, args)

    def incref(self, v):
        """``Py_XINCREF(v)``: a call of the module's inline helper (``ModuleGen.refcount``)."""
        self.mg.refcount_call(self.b, "incref", v)

    def decref(self, v):
        """``Py_XDECREF(v)``: a call of the module's inline helper (``ModuleGen.refcount``)."""
        self.mg.refcount_call(self.b, "decref", v)

    def check(self, failed):
        """Jump to the error exit when ``failed`` (an i1) holds."""
        if isinstance(failed, ir.Constant) and not failed.constant:
            return
        ok = self.fn.append_basic_block()
        self.b.cbranch(failed, self.err_block, ok)
        self.b.position_at_end(ok)

    def check_null(self, obj):
        self.check(self.b.icmp_unsigned("==", obj, ir.Constant(OBJ, None)))
        return obj

    def set_error(self, exc_name, message):
        exc = self.obj_const(("exc", exc_name))
        msg = self.mg.cstring(message)
        self.b.call(self.capi("PyErr_SetString", VOID, [OBJ, OBJ]),
                    [exc, self.b.bitcast(msg, OBJ)])

    def alloca(self, ty, count=None):
        """A stack slot in the entry block: allocas elsewhere are dynamic and stop LLVM from
        inlining the function (which matters for small base methods in hot loops)."""
        cur = self.b.block
        entry = self.fn.entry_basic_block
        if entry.instructions:
            self.b.position_before(entry.instructions[0])
        else:
            self.b.position_at_start(entry)
        slot = self.b.alloca(ty, count)
        self.b.position_at_end(cur)
        return slot

    def vectorcall(self, fn_obj, args, kwnames=None, nkw=0):
        """``fn_obj(*args)``; with ``kwnames`` (a tuple object of ``nkw`` names), the last
        ``nkw`` of ``args`` are those keywords' values (CPython's vectorcall convention)."""
        return self.b.call(self.capi("PyObject_Vectorcall", OBJ, [OBJ, OBJP, I64, OBJ]),
                           [fn_obj, self.arg_array(args), I64(len(args) - nkw),
                            kwnames if kwnames is not None else ir.Constant(OBJ, None)])

    def arg_array(self, args):
        """A stack array of the PyObject* ``args`` (vectorcall's argument vector)."""
        arr = self.b.bitcast(self.alloca(ir.ArrayType(OBJ, max(1, len(args)))), OBJP)
        for i, a in enumerate(args):
            self.b.store(a, self.b.gep(arr, [I64(i)]))
        return arr

    def call_helper(self, ref, args):
        """Call a Python helper that raises: release its (NULL) result, go to the error exit."""
        r = self.vectorcall(self.obj_const(ref), args)
        self.decref(r)
        self.b.branch(self.err_block)

    def box(self, v, t):
        """A new reference to a Python object for native value ``v`` of type ``t``."""
        b = self.b
        if t is T.Int64:
            return self.check_null(b.call(self.capi("PyLong_FromLongLong", OBJ, [I64]), [v]))
        if t is T.Float64:
            return self.check_null(b.call(self.capi("PyFloat_FromDouble", OBJ, [F64]), [v]))
        if t is T.Bool:
            return b.call(self.capi("PyBool_FromLong", OBJ, [I64]), [b.zext(v, I64)])
        k = t.__pk_kind__
        if k == "primitive":
            if t.__pk_float__:
                raw = b.call(self.capi("PyFloat_FromDouble", OBJ, [F64]), [b.fpext(v, F64)])
            elif t.__pk_signed__:
                raw = b.call(self.capi("PyLong_FromLongLong", OBJ, [I64]), [b.sext(v, I64)])
            else:
                raw = b.call(self.capi("PyLong_FromUnsignedLongLong", OBJ, [I64]),
                             [b.zext(v, I64) if v.type != I64 else v])
            self.check_null(raw)
            out = self.vectorcall(self.obj_const(("pytype", T.type_ref(t))), [raw])
            self.decref(raw)
            return self.check_null(out)
        if k == "nothing":
            none = self.obj_const(("none",))
            self.incref(none)
            return none
        if k in ("struct", "closure"):
            # (a closure: ``types.Closure`` of its function and captured values)
            fts = [ft for _, ft in t.__pk_fields__] if k == "struct" else t.__pk_captures__
            fields = [self.box(b.extract_value(v, i), ft) for i, ft in enumerate(fts)]
            out = self.vectorcall(self.obj_const(("boxer", T.type_ref(t))), fields)
            for f in fields:
                self.decref(f)
            return self.check_null(out)
        if k == "tuple" and not is_boxed(t):
            n = len(t.__pk_params__)
            tup = self.check_null(b.call(self.capi("PyTuple_New", OBJ, [I64]), [I64(n)]))
            for i, p in enumerate(t.__pk_params__):
                item = self.box(b.extract_value(v, i), p)     # stolen by PyTuple_SetItem
                b.call(self.capi("PyTuple_SetItem", I32, [OBJ, I64, OBJ]), [tup, I64(i), item])
            return tup
        if k == "array" and not is_boxed(t):
            return self.box_array(v, t)
        self.incref(v)
        return v

    def box_array(self, v, t):
        """The ndarray itself, or (for a view made here) a NumPy view of its owner."""
        b = self.b
        owner = b.extract_value(v, A_OWNER)
        out = self.alloca(OBJ)
        isview = b.icmp_unsigned("!=", b.and_(b.extract_value(v, A_VIEW), I8(FLAG_VIEW)),
                                 I8(0))
        with b.if_else(isview) as (view, whole):
            with view:
                n = t.__pk_ndim__
                ptr = self.check_null(b.call(self.capi("PyLong_FromVoidPtr", OBJ, [OBJ]),
                                             [b.extract_value(v, A_DATA)]))
                shape = self.box(self._int_tuple(b.extract_value(v, A_SHAPE), n),
                                 T.tuple_type(*(T.Int64,) * n))
                es = I64(elsize(t))
                bst = ir.Constant(ir.ArrayType(I64, n), ir.Undefined)
                for i in range(n):      # NumPy counts strides in bytes
                    bst = b.insert_value(bst, b.mul(b.extract_value(v, [A_STRIDES, i]), es), i)
                strides = self.box(self._int_tuple(bst, n), T.tuple_type(*(T.Int64,) * n))
                r = self.check_null(self.vectorcall(self.obj_const(("helper", "array_view")),
                                                    [owner, ptr, shape, strides]))
                for o in (ptr, shape, strides):
                    self.decref(o)
                b.store(r, out)
            with whole:
                self.incref(owner)
                b.store(owner, out)
        return b.load(out)

    def _int_tuple(self, arr, n):
        val = ir.Constant(ir.LiteralStructType([I64] * n), ir.Undefined)
        for i in range(n):
            val = self.b.insert_value(val, self.b.extract_value(arr, i), i)
        return val

    def refs(self, v, t, fn):
        """Call ``fn`` on every PyObject* the native value ``v`` of type ``t`` holds."""
        if is_boxed(t):
            fn(v)
            return
        k = t.__pk_kind__
        if k == "array":
            fn(self.b.extract_value(v, A_OWNER))
        elif k in ("tuple", "closure", "struct"):
            for i, p in enumerate(t.__pk_params__ if k == "tuple" else t.__pk_captures__
                                  if k == "closure" else [ft for _, ft in t.__pk_fields__]):
                if is_managed(p):
                    self.refs(self.b.extract_value(v, i), p, fn)

    def incref_value(self, v, t):
        self.refs(v, t, self.incref)

    def decref_value(self, v, t):
        self.refs(v, t, self.decref)

    def _is_exactly(self, obj, t):
        """Is the boxed value ``obj`` of the splittable type ``t`` (its class, exactly), or
        of the subclassed mutable struct ``t`` (its class or a subclass)?"""
        b = self.b
        if t is T.Nothing:
            return b.icmp_unsigned("==", obj, self.obj_const(("none",)))
        cls = b.load(b.gep(b.bitcast(obj, OBJP), [I64(1)]))         # Py_TYPE(obj)
        if t.__pk_kind__ == "mutable" and not T.isconcrete(t):
            # a subclassed mutable struct: its class or a subclass (``PyType_IsSubtype``)
            sub = b.call(self.capi("PyType_IsSubtype", I32, [OBJ, OBJ]),
                         [cls, self.obj_const(("type", T.type_ref(t)))])
            return b.icmp_signed("!=", sub, I32(0))
        vcls = T.value_class(t)
        if vcls is not t:                  # (a struct whose values are a Python class's)
            want = self.obj_const(("pyattr", vcls.__module__, vcls.__qualname__))
        else:
            ref = "type" if t.__pk_kind__ in ("struct", "mutable") else "pytype"
            want = self.obj_const((ref, T.type_ref(t)))
        return b.icmp_unsigned("==", cls, want)

    def unbox(self, obj, t):
        """The native value of type ``t`` held by borrowed PyObject* ``obj``."""
        b = self.b
        k = t.__pk_kind__
        if k == "primitive":
            if t is T.Bool:
                r = b.call(self.capi("PyObject_IsTrue", I32, [OBJ]), [obj])
                self.check(b.icmp_signed("<", r, I32(0)))
                return b.trunc(r, I8)
            if t.__pk_float__:
                d = self._float_value(obj)
                return d if t is T.Float64 else b.fptrunc(d, F32)
            if t.__pk_signed__:
                x = b.call(self.capi("PyLong_AsLongLong", I64, [OBJ]), [obj])
            else:
                x = b.call(self.capi("PyLong_AsUnsignedLongLongMask", I64, [OBJ]), [obj])
            self.check(self._pending(b.icmp_signed("==", x, I64(-1))))
            lt = lltype(t)
            return x if lt == I64 else b.trunc(x, lt)
        if k == "nothing":
            return I8(0)
        if k == "struct":
            val = ir.Constant(lltype(t), ir.Undefined)
            for i, (fname, ft) in enumerate(t.__pk_fields__):
                name = self.mg.cstring(fname)
                fo = self.check_null(b.call(self.capi("PyObject_GetAttrString", OBJ, [OBJ, OBJ]),
                                            [obj, b.bitcast(name, OBJ)]))
                fv = self.unbox(fo, ft)
                self.decref(fo)
                val = b.insert_value(val, fv, i)
            return val
        if k == "tuple" and not is_boxed(t):
            val = ir.Constant(lltype(t), ir.Undefined)
            for i, p in enumerate(t.__pk_params__):
                item = self.check_null(b.call(self.capi("PyTuple_GetItem", OBJ, [OBJ, I64]),
                                              [obj, I64(i)]))
                val = b.insert_value(val, self.unbox(item, p), i)
            return val
        if k == "closure":
            # the captured values, borrowed from the closure's tuple of them
            name = self.mg.cstring("captured")
            tup = self.check_null(b.call(self.capi("PyObject_GetAttrString", OBJ, [OBJ, OBJ]),
                                         [obj, b.bitcast(name, OBJ)]))
            val = ir.Constant(lltype(t), ir.Undefined)
            for i, c in enumerate(t.__pk_captures__):
                item = self.check_null(b.call(self.capi("PyTuple_GetItem", OBJ, [OBJ, I64]),
                                              [tup, I64(i)]))
                val = b.insert_value(val, self.unbox(item, c), i)
            self.decref(tup)
            return val
        if k == "array" and not is_boxed(t):
            return self.unbox_array(obj, t)
        return obj

    def _float_value(self, obj):
        """The double of borrowed ``obj``: read from the object when its class is exactly
        ``float`` (``PyFloatObject.ob_fval``, after the object header), else what
        ``PyFloat_AsDouble`` makes of it (a subclass, an int, ``__float__``).  The call was
        most of a read of a list of floats (spectral-norm's inner loop); when the class was
        tested already (a union's member test) LLVM folds the second test away."""
        b = self.b
        fast = self.fn.append_basic_block("unbox.float")
        slow = self.fn.append_basic_block("unbox.asdouble")
        join = self.fn.append_basic_block("unbox.double")
        b.cbranch(self._is_exactly(obj, T.Float64), fast, slow)
        b.position_at_end(fast)
        field = b.gep(b.bitcast(obj, F64.as_pointer()), [I64(2)])    # (refcount, type, value)
        d1 = b.load(field)
        b.branch(join)
        b.position_at_end(slow)
        d2 = b.call(self.capi("PyFloat_AsDouble", F64, [OBJ]), [obj])
        self.check(self._pending(b.fcmp_ordered("==", d2, F64(-1.0))))
        came = b.block
        b.branch(join)
        b.position_at_end(join)
        d = b.phi(F64)
        d.add_incoming(d1, fast)
        d.add_incoming(d2, came)
        return d

    def unbox_array(self, obj, t):
        """Data pointer, shape and strides of an ndarray (buffer protocol, any strides).  A
        read-only array is read through the same view (writes to it are not checked).

        Strides are kept in elements, as Julia's ``strides(A)``: addresses are then typed
        GEPs ``data + i*s`` whose step LLVM's loop vectoriser recognises, versioning a loop
        on ``s == 1`` (the contiguous case) instead of giving up on a byte stride.  An array
        whose data or strides are not whole, aligned elements (``np.frombuffer`` at an odd
        offset, a packed record's field) cannot be addressed so and is refused."""
        b = self.b
        if self.pybuf is None:
            # One buffer for every array unboxed in the function (each is released before the
            # next is taken): an alloca per array, each escaping into PyObject_GetBuffer, made
            # LLVM's code generation superlinear in their number (a sum of 1,000 arrays).
            self.pybuf = self.alloca(PYBUF)
        view = self.pybuf
        vp = b.bitcast(view, OBJ)
        getbuf = self.capi("PyObject_GetBuffer", I32, [OBJ, OBJ, I32])
        r = b.call(getbuf, [obj, vp, I32(PyBUF_STRIDES | 1)])
        readonly = b.icmp_signed("!=", r, I32(0))
        with b.if_then(readonly, likely=False):
            b.call(self.capi("PyErr_Clear", VOID, []), [])
            r2 = b.call(getbuf, [obj, vp, I32(PyBUF_STRIDES)])
            self.check(b.icmp_signed("!=", r2, I32(0)))
        n = t.__pk_ndim__
        data = b.inttoptr(b.load(b.gep(view, [I64(0), I64(0)])), OBJ)
        shp = b.inttoptr(b.load(b.gep(view, [I64(0), I64(6)])), I64.as_pointer())
        strd = b.inttoptr(b.load(b.gep(view, [I64(0), I64(7)])), I64.as_pointer())
        val = ir.Constant(lltype(t), ir.Undefined)
        val = b.insert_value(val, data, A_DATA)
        es, al = elsize(t), elalign(t)
        bad = b.icmp_unsigned("!=", b.and_(b.ptrtoint(data, I64), I64(al - 1)), I64(0))
        for i in range(n):
            val = b.insert_value(val, b.load(b.gep(shp, [I64(i)])), [A_SHAPE, i])
            st = b.load(b.gep(strd, [I64(i)]))
            bad = b.or_(bad, b.icmp_signed("!=", b.srem(st, I64(es)), I64(0)))
            val = b.insert_value(val, b.sdiv(st, I64(es)), [A_STRIDES, i])
        with b.if_then(bad, likely=False):
            b.call(self.capi("PyBuffer_Release", VOID, [OBJ]), [vp])
            self.set_error("ValueError", f"an array passed as {t} must be aligned, with "
                                         f"strides that are multiples of its {es}-byte "
                                         f"elements; pass a copy (x.copy())")
            b.branch(self.err_block)
        # The array keeps its memory while it lives; whoever holds ``obj`` keeps it alive.
        b.call(self.capi("PyBuffer_Release", VOID, [OBJ]), [vp])
        val = b.insert_value(val, obj, A_OWNER)
        return b.insert_value(val, b.select(readonly, I8(FLAG_READONLY), I8(0)), A_VIEW)

    def _pending(self, maybe):
        b = self.b
        occurred = b.call(self.capi("PyErr_Occurred", OBJ, []), [])
        return b.and_(maybe, b.icmp_unsigned("!=", occurred, ir.Constant(OBJ, None)))


class FunctionGen(_Emitter):
    def __init__(self, mg, ci, fn):
        super().__init__(mg, ci.symbol)
        self.ci = ci
        self.fn = fn
        self.ir = ci.ir
        # (also for the callees generated inline here, as Julia's @inbounds propagates)
        self.boundscheck = ci.mi.method.boundscheck

    def loc_error(self, msg, loc=(0, 0)):
        raise CompileError(msg, self.ir.filename, loc[0], loc[1], "codegen")

    def generate(self):
        ci, fn = self.ci, self.fn
        entry = fn.append_basic_block("entry")
        self.b = b = ir.IRBuilder(entry)
        self.slots = {}
        self.managed_slots = []      # (slot, type): references released at every exit
        self.ssa = self._ssa_candidates()
        borrowed = self._borrowed_params()
        self.ssa |= set(borrowed)
        self.values = dict(borrowed)
        # variables of small unions of bits types: {tag, bits}, unboxed (``unions.py``)
        returned = self._only_returned() if is_boxed(ci.rettype) else set()
        self.tagged = {var for var, t in ci.vartypes.items()
                       if var not in self.ssa and t is not T.Bottom and U.bits_union(t) and
                       var not in returned}
        for var, t in ci.vartypes.items():
            if t is T.Bottom or var in self.ssa:
                continue
            if var in self.tagged:
                slot = b.alloca(U.TAGGED, name="v." + var.replace("%", "t"))
                b.store(ir.Constant(U.TAGGED, None), slot)
                self.slots[var] = slot
                continue
            slot = b.alloca(lltype(t), name="v." + var.replace("%", "t"))
            self.slots[var] = slot
            if is_managed(t):
                b.store(ir.Constant(lltype(t), None), slot)
                self.managed_slots.append((slot, t))
        self.err_block = fn.append_basic_block("error")
        self.blocks = [fn.append_basic_block(f"b{blk.id}") for blk in self.ir.blocks]
        self.ret_ptr = fn.args[0]
        for name, t, arg in zip(self.ir.argnames, ci.mi.spec_types, fn.args[1:]):
            if name not in borrowed:
                self.store_var(name, arg, t, owned=False)
        b.branch(self.blocks[0])
        exit_err = self.err_block
        for blk, llb in zip(self.ir.blocks, self.blocks):
            b.position_at_end(llb)
            # (an error in a ``try`` goes to its handler block, which takes the exception)
            self.err_block = self.blocks[blk.handler] if blk.handler >= 0 else exit_err
            if blk.id in ci.reached:
                self.gen_block(blk)
            else:
                b.unreachable()
        self.err_block = exit_err
        b.position_at_end(self.err_block)
        self.cleanup()
        b.ret(I32(1))

    def _only_returned(self):
        """Temporaries used by nothing but ``return``: kept as the boxed objects they arrive
        as.  Tagged, an element a list read returns (``getitem(::List[Union[Float64,
        Int64]])``) was unboxed into its tag and bits and boxed again for the return: a new
        float object made per element read (spectral-norm's inner loop 6x slower)."""
        used, returned = set(), set()
        for blk in self.ir.blocks:
            for st in blk.stmts:
                used.update(expr_uses(st.value))
            if isinstance(blk.term, Return):
                returned.add(blk.term.var)
            else:
                used.update(term_uses(blk.term))
        return {v for v in returned - used if v.startswith("%")}

    def _dead_temporaries(self, blk):
        """{statement index: compiler temporaries holding references whose last use it is}:
        a temporary (``%k``) defined and used only in this block, not by its terminator.
        Releasing it there, not at the function's exit, keeps a long chain of calls
        returning arrays (``x + x + ... + x``) from holding every intermediate until the
        end -- thousands of values live at once made LLVM's code generation superlinear."""
        where, last, defs = {}, {}, {}
        for blk2 in self.ir.blocks:
            for st in blk2.stmts:
                defs[st.dst] = defs.get(st.dst, 0) + 1
                where.setdefault(st.dst, blk2.id)
        outside = set(term_uses(blk.term))
        for blk2 in self.ir.blocks:
            if blk2 is blk:
                continue
            for st in blk2.stmts:
                outside.update(expr_uses(st.value))
            outside.update(term_uses(blk2.term))
        for i, st in enumerate(blk.stmts):
            for u in expr_uses(st.value):
                last[u] = i
        out = {}
        for var, i in last.items():
            if var.startswith("%") and defs.get(var) == 1 and where.get(var) == blk.id and \
                    var not in outside and var in self.slots and var not in self.ssa and \
                    var not in self.tagged and \
                    is_managed(self.var_type(var)):
                out.setdefault(i, []).append(var)
        return out

    def _release(self, var):
        """Drop the references a temporary's slot holds and empty it (the exit's cleanup
        then finds nothing there)."""
        slot = self.slots[var]
        t = self.var_type(var)
        self.decref_value(self.b.load(slot), t)
        self.b.store(ir.Constant(slot.type.pointee, None), slot)

    def _ssa_candidates(self):
        """Variables kept as LLVM values instead of stack slots: defined once, holding no
        references, and used only later in the defining block (most temporaries), so the
        definition dominates every use.  Fewer instructions make the cold compile of large
        functions cheaper."""
        defs, where, bad = {}, {}, set(self.ir.argnames)
        for blk in self.ir.blocks:
            for i, st in enumerate(blk.stmts):
                defs[st.dst] = defs.get(st.dst, 0) + 1
                where[st.dst] = blk.id
        for blk in self.ir.blocks:
            seen = set()
            for st in blk.stmts:
                for u in expr_uses(st.value):
                    if where.get(u) != blk.id or u not in seen:
                        bad.add(u)
                seen.add(st.dst)
            for u in term_uses(blk.term):
                if where.get(u) != blk.id or u not in seen:
                    bad.add(u)
        return {v for v, n in defs.items() if n == 1 and v not in bad
                and not is_managed(self.ci.vartypes.get(v, T.Any))}

    def _borrowed_params(self):
        """Parameters the body never rebinds, used as the caller passed them: the caller's
        references keep them alive for the whole call (the native ABI passes arguments
        borrowed), so holding one more of our own would only cost an increment on entry and
        a decrement at every exit of every call (a recursive quicksort pays it per call)."""
        assigned = {st.dst for blk in self.ir.blocks for st in blk.stmts}
        return {name: arg for name, t, arg in zip(self.ir.argnames, self.ci.mi.spec_types,
                                                 self.fn.args[1:])
                if name not in assigned and self.ci.vartypes.get(name) is t}

    def cleanup(self):
        for slot, t in self.managed_slots:
            self.decref_value(self.b.load(slot), t)

    def var_type(self, var):
        return self.ci.vartypes.get(var, T.Bottom)

    def load_var(self, var, want):
        """Value of ``var`` in the representation of type ``want`` (borrowed if boxed)."""
        st = self.var_type(var)
        if var in self.tagged:
            return self._load_tagged(var, st, want)
        v = self.values[var] if var in self.ssa else self.b.load(self.slots[var])
        if is_boxed(st) and not is_boxed(want):
            return self.unbox(v, want)
        if not is_boxed(st) and is_boxed(want):
            boxed = self.box(v, st)
            self.track_temp(boxed)       # released at exit, like any boxed variable
            return boxed
        return v

    def _load_tagged(self, var, u, want):
        """A tagged variable's value as a member type's native value (the caller knows the
        member: a union split tested the tag) or boxed (borrowed, released at exit)."""
        v = self.b.load(self.slots[var])
        if U.is_member(u, want) and not is_boxed(want):
            return U.from_payload(self.b, self.b.extract_value(v, 1), want, lltype(want))
        boxed = self.box_tagged(v, u)
        self.track_temp(boxed)
        return boxed if is_boxed(want) else self.unbox(boxed, want)

    def load_tagged(self, var):
        """The raw ``{tag, bits}`` of a tagged variable (copied as it is by ``x = y``)."""
        return self.b.load(self.slots[var])

    def box_tagged(self, v, u):
        """A new reference to the Python object for tagged value ``v`` of union ``u``."""
        b = self.b
        out = self.alloca(OBJ)
        done = self.fn.append_basic_block("tagged.boxed")
        unset = self.fn.append_basic_block("tagged.unset")
        sw = b.switch(b.extract_value(v, 0), unset)
        for k, m in enumerate(u.__pk_members__, 1):
            blk = self.fn.append_basic_block(f"tagged.box{k}")
            sw.add_case(I8(k), blk)
            b.position_at_end(blk)
            b.store(self.box(U.from_payload(b, b.extract_value(v, 1), m, lltype(m)), m), out)
            b.branch(done)
        b.position_at_end(unset)          # (the frontend's guards keep this from running)
        self.set_error("NameError", "internal: a variable read before assignment")
        b.branch(self.err_block)
        b.position_at_end(done)
        return b.load(out)

    def unbox_tagged(self, obj, u):
        """The tagged value of union ``u`` for the borrowed object ``obj``: its class tested
        against each member's own; another class (an int subclass, a NumPy scalar) asks
        Python which member its type is."""
        b = self.b
        out = self.alloca(U.TAGGED)
        done = self.fn.append_basic_block("tagged.unboxed")

        def put(k, m):
            b.store(U.make(b, I8(k), U.to_payload(b, self.unbox(obj, m), m)), out)
            b.branch(done)

        for k, m in enumerate(u.__pk_members__, 1):
            this = self.fn.append_basic_block(f"tagged.is{k}")
            nxt = self.fn.append_basic_block(f"tagged.not{k}")
            b.cbranch(self._is_exactly(obj, m), this, nxt)
            b.position_at_end(this)
            put(k, m)
            b.position_at_end(nxt)
        r = self.check_null(self.vectorcall(self.obj_const(("helper", "union_member")),
                                            [self.obj_const(("type", T.type_ref(u))), obj]))
        k = self.unbox(r, T.Int64)
        self.decref(r)
        bad = self.fn.append_basic_block("tagged.bad")
        sw = b.switch(k, bad)
        for i, m in enumerate(u.__pk_members__, 1):
            blk = self.fn.append_basic_block(f"tagged.as{i}")
            sw.add_case(I64(i), blk)
            b.position_at_end(blk)
            put(i, m)
        b.position_at_end(bad)
        b.unreachable()
        b.position_at_end(done)
        return b.load(out)

    def _to_tagged(self, v, t, owned, u):
        """Value ``v`` (representation of ``t``) as a tagged value of union ``u``."""
        if U.bits_union(t) and v.type == U.TAGGED:
            return U.retag(self.b, v, t, u)
        if U.is_member(u, t) and not is_boxed(t):
            return U.make(self.b, I8(U.tag_of(u, t)), U.to_payload(self.b, v, t))
        if not is_boxed(t):
            v, owned = self.box(v, t), True
        tagged = self.unbox_tagged(v, u)
        if owned:
            self.decref(v)
        return tagged

    def track_temp(self, obj):
        slot = self.entry_alloca(OBJ)
        self.managed_slots.append((slot, T.Any))
        old = self.b.load(slot)
        self.b.store(obj, slot)
        self.decref(old)

    def entry_alloca(self, ty):
        """An entry-block slot initialised to zero (before any use on any path)."""
        cur = self.b.block
        entry = self.fn.entry_basic_block
        self.b.position_before(entry.instructions[0])
        slot = self.b.alloca(ty)
        self.b.store(ir.Constant(ty, None), slot)
        self.b.position_at_end(cur)
        return slot

    def convert_repr(self, v, t, want, owned):
        """``v`` (representation of ``t``) in the representation of ``want``; returns (value,
        owned) where owned says the result holds new references to hand over."""
        if is_boxed(t) and not is_boxed(want):
            val = self.unbox(v, want)          # borrowed from ``v``
            if is_managed(want):
                self.incref_value(val, want)
                if owned:
                    self.decref(v)
                return val, True
            if owned:
                self.decref(v)
            return val, False
        if not is_boxed(t) and is_boxed(want):
            boxed = self.box(v, t)             # a new reference
            if owned:
                self.decref_value(v, t)
            return boxed, True
        return v, owned

    def store_var(self, var, v, t, owned):
        """Store value ``v`` whose representation is that of type ``t`` into ``var``'s slot;
        ``owned`` says whether ``v`` holds new references to hand over."""
        st = self.var_type(var)
        if var in self.tagged:
            self.b.store(self._to_tagged(v, t, owned, st), self.slots[var])
            return
        if U.bits_union(t) and v.type == U.TAGGED:       # (a tagged value going boxed)
            v, owned = self.box_tagged(v, t), True
        if var in self.ssa:
            val, owned = self.convert_repr(v, t, st, owned)
            self.values[var] = val
            return
        slot = self.slots.get(var)
        if slot is None:
            if owned and is_managed(t):
                self.decref_value(v, t)
            return
        val, owned = self.convert_repr(v, t, st, owned)
        if is_managed(st):
            if not owned:
                self.incref_value(val, st)
            old = self.b.load(slot)
            self.b.store(val, slot)
            self.decref_value(old, st)
        else:
            self.b.store(val, slot)

    # -- blocks ------------------------------------------------------------------------------

    def gen_block(self, blk):
        b = self.b
        release = self._dead_temporaries(blk)
        for i, st in enumerate(blk.stmts):
            key = (blk.id, i)
            info = self.ci.stmt_info.get(key)
            if info is None:
                b.unreachable()
                return
            t = self.ci.stmt_types[key]
            v, vt, owned = self.gen_value(st, info)
            if t is T.Bottom:
                if not b.block.is_terminated:
                    b.unreachable()
                return
            self.store_var(st.dst, v, vt, owned)
            for var in release.get(i, ()):
                self._release(var)
        term = blk.term
        if isinstance(term, Goto):
            b.branch(self.blocks[term.target])
        elif isinstance(term, Branch):
            ct = self.var_type(term.cond)
            if term.cond in self.tagged:
                cv = self.load_var(term.cond, T.Any)
            else:
                cv = self.values[term.cond] if term.cond in self.ssa else \
                    b.load(self.slots[term.cond])
            if is_boxed(ct):
                r = b.call(self.capi("PyObject_IsTrue", I32, [OBJ]), [cv])
                self.check(b.icmp_signed("<", r, I32(0)))
                c = b.icmp_signed(">", r, I32(0))
            elif ct is T.Bool:
                c = b.icmp_unsigned("!=", cv, I8(0))
            else:
                self.loc_error(f"condition of type {ct}", term.loc)
            b.cbranch(c, self.blocks[term.then], self.blocks[term.orelse])
        elif isinstance(term, Return):
            self.gen_return(term)
        elif isinstance(term, Raise):
            self.gen_raise(term.value, term.loc)
        else:
            b.unreachable()

    def gen_return(self, term):
        """The result is a new reference (for values holding references) for the caller."""
        rt = self.ci.rettype
        vt = self.var_type(term.var)
        if is_boxed(rt) and term.var in self.tagged:
            v = self.box_tagged(self.load_tagged(term.var), vt)
        elif is_boxed(rt):
            v = self.values[term.var] if term.var in self.ssa else self.b.load(self.slots[term.var])
            if is_boxed(vt):
                self.incref(v)
            else:
                v = self.box(v, vt)
        else:
            v = self.load_var(term.var, rt)
            if is_managed(rt):
                self.incref_value(v, rt)
        self.b.store(v, self.ret_ptr)
        self.cleanup()
        self.b.ret(I32(0))

    def gen_raise(self, msg, loc=(0, 0)):
        parts = []
        for p in msg.parts:
            if isinstance(p, str):
                parts.append(self.obj_const(("str", p)))
            else:
                parts.append(self.load_var(p.var, T.Any))
        # (the source location: the traceback gets a frame at the user's file:line)
        where = [self.obj_const(("str", self.ir.filename)), self.obj_const(("str", self.ir.name)),
                 self.gen_const_boxed(loc[0])]
        if msg.obj:
            self.call_helper(("helper", "raise_object"), where + parts)
        elif msg.exc:
            self.call_helper(("helper", "raise_python"), where +
                             [self.obj_const(("exc", msg.exc))] + parts)
        else:
            self.call_helper(("helper", "raise_error"), parts)

    # -- statements --------------------------------------------------------------------------

    def gen_value(self, st, info):
        """(value, type describing its representation, owned new reference?)"""
        v = st.value
        b = self.b
        if isinstance(v, Const):
            return self.gen_const(v.value), T.typeof(v.value), False
        if isinstance(v, Use):
            t = info.argtypes[0]
            if v.var in self.tagged and U.bits_union(t):
                return self.load_tagged(v.var), self.var_type(v.var), False
            return self.load_var(v.var, t), t, False
        if isinstance(v, Call):
            if isinstance(info, INF.TupleElem):
                tv = self.load_var(v.args[0], info.argtype)
                pt = info.argtype.__pk_params__[info.index]
                if is_boxed(info.argtype):
                    return self._boxed_tuple_item(tv, info.index, pt)
                return b.extract_value(tv, info.index), pt, False
            return self.gen_call(v, info)
        if isinstance(v, Intrinsic):
            return self.gen_intrinsic(v, info)
        if isinstance(v, GetField):
            if isinstance(info, INF.IntrinsicCall):        # ``A.shape`` and the like
                return self.gen_intrinsic(Intrinsic(info.name, (v.var,)), info)
            if isinstance(info, (INF.StaticCall, INF.SplitCall, INF.DynamicCall,
                                 INF.ThrowingCall)):
                # a property: the call of its function on the value
                return self.gen_call(Call(info.function if not isinstance(
                    info, INF.StaticCall) else info.mi.method.function, (v.var,)), info)
            if info.index >= 0 and info.member is not None:
                return self.optional_field(v, info)
            if info.index >= 0 and info.argtype.__pk_kind__ == "mutable":
                return self.mutable_field(self.load_var(v.var, info.argtype), info.argtype,
                                          info.index)
            if info.index >= 0:
                sv = self.load_var(v.var, info.argtype)
                return b.extract_value(sv, info.index), info.argtype.__pk_fields__[info.index][1], False
            # An abstract value: its type is known only now.  A helper reads the field if
            # the value is a struct that has it, and raises pkgimage's error otherwise (a
            # plain getattr would let AttributeError escape and read methods as fields).
            obj = self.load_var(v.var, T.Any)
            r = self.check_null(self.vectorcall(self.obj_const(("helper", "getfield")),
                                                [obj, self.obj_const(("str", v.name))]))
            return r, T.Any, True
        self.loc_error(f"internal: cannot generate {v!r}", st.loc)

    def _boxed_tuple_item(self, tup, k, t):
        """Item ``k`` (of type ``t``) of a tuple held as a Python tuple, as a value that
        owns its references (the tuple may go before it does)."""
        item = self.check_null(self.b.call(self.capi("PyTuple_GetItem", OBJ, [OBJ, I64]),
                                           [tup, I64(k)]))
        return self.owned_item(item, t)

    def field_slot(self, obj, t, k):
        """The address of mutable struct ``t``'s field ``k`` in the object ``obj``."""
        from ..mutables import slot_offsets
        off = slot_offsets(t)[k]
        return self.b.bitcast(self.b.gep(self.b.bitcast(obj, ir.IntType(8).as_pointer()),
                                         [I64(off)]), OBJP)

    def mutable_field(self, obj, t, k):
        """Field ``k`` of mutable struct ``obj``, read in place (``mutables.py``); a field
        never set (an object Python made without its constructor) is AttributeError."""
        fname, ft = t.__pk_fields__[k]
        item = self.b.load(self.field_slot(obj, t, k))
        with self.b.if_then(self.b.icmp_unsigned("==", item, ir.Constant(OBJ, None)),
                            likely=False):
            self.set_error("AttributeError", f"field {fname} of {t.__pk_name__} is not set")
            self.b.branch(self.err_block)
        return self.owned_item(item, ft)

    def optional_field(self, v, info):
        """Field of an ``Optional[M]`` value (``inference.FieldRef.member``): None raises
        through the helper that reads fields of values of unknown types (the same error),
        any other value is an ``M`` whose field is read in place."""
        obj = self.load_var(v.var, T.Any)
        is_none = self.b.icmp_unsigned("==", obj, self.obj_const(("none",)))
        with self.b.if_then(is_none, likely=False):
            self.check_null(self.vectorcall(self.obj_const(("helper", "getfield")),
                                            [obj, self.obj_const(("str", v.name))]))
            self.b.unreachable()
        return self.mutable_field(obj, info.member, info.index)

    def gen_setfield(self, v, info):
        """``obj.f = x`` on a mutable struct: ``x`` converted to the field's type, boxed,
        stored in the slot; the old value released."""
        t, vt = info.argtypes
        k = [n for n, _ in t.__pk_fields__].index(v.params[0])
        ft = t.__pk_fields__[k][1]
        obj = self.load_var(v.args[0], t)
        x, xt = self.load_var(v.args[1], vt), vt
        if ft.__pk_kind__ == "primitive" and vt is not ft:
            x, xt = convert_value(self, x, vt, ft, True), ft
        if is_boxed(xt):
            self.incref(x)
        else:
            x = self.box(x, xt)
        slot = self.field_slot(obj, t, k)
        old = self.b.load(slot)
        self.b.store(x, slot)
        self.decref(old)
        return I8(0), T.Nothing, False

    def owned_item(self, item, t):
        """A value of type ``t`` from a borrowed object ``item`` (an element of a container
        that may go before the value does): it owns its references."""
        if is_boxed(t):
            self.incref(item)
            return item, t, True
        val = self.unbox(item, t)
        if is_managed(t):
            self.incref_value(val, t)
            return val, t, True
        return val, t, False

    def gen_const_boxed(self, n):
        """The Python int ``n`` (a borrowed reference from a constant slot)."""
        return self.obj_const(("int", int(n)))

    def gen_const(self, value):
        t = T.typeof(value)
        if t.__pk_kind__ == "primitive":
            lt = lltype(t)
            if t.__pk_float__:
                return ir.Constant(lt, float(value))
            return ir.Constant(lt, int(value) & ((1 << lt.width) - 1))
        if t is T.Nothing:
            return I8(0)
        if t.__pk_kind__ == "struct" and not is_managed(t):
            return ir.Constant.literal_struct([self.gen_const(getattr(value, n))
                                               for n, _ in t.__pk_fields__])
        if t.__pk_kind__ == "tuple" and not is_managed(t):
            return ir.Constant.literal_struct([self.gen_const(x) for x in value])
        if t is T.String:
            return self.obj_const(("str", value))      # (borrowed from the constant slot)
        if t.__pk_kind__ == "function":
            return self.obj_const(("func", value.module, value.qualname))
        if isinstance(value, type) and issubclass(value, BaseException):
            return self.obj_const(("pyattr", value.__module__, value.__qualname__))
        if value is open:
            return self.obj_const(("pyattr", "builtins", "open"))   # (called through Python)
        where = library_callable(value)
        if where is not None:
            return self.obj_const(("pyattr",) + where)              # (called through Python)
        self.loc_error(f"constant {value!r} cannot be compiled")

    def gen_call(self, v, info):
        b = self.b
        if isinstance(info, INF.StaticCall):
            callee = info.mi.cache
            args = self.call_values(v, info)
            if inline_size(callee) is not None:
                return self.inline(callee, args), callee.rettype, False
            rt = callee.rettype
            ret = self.entry_alloca(ret_lltype(rt))
            status = b.call(self.mg.native(callee), [ret] + args)
            self.check(b.icmp_signed("!=", status, I32(0)))
            if rt is T.Bottom:
                b.unreachable()
                return None, rt, False
            return b.load(ret), rt, is_managed(rt)
        if isinstance(info, INF.ThrowingCall):
            self.set_error(info.exc.__name__, info.message)
            b.branch(self.err_block)
            return None, T.Bottom, False
        if isinstance(info, INF.SplitCall):
            return self.gen_split_call(v, info)
        # run-time dispatch through the generic function object (a call of a value that
        # names a generic function passes the arguments after the value)
        args = [self.load_var(a, T.Any) for a in
                (v.args if isinstance(info.function, (ValueCallee, KwValueCallee))
                 else _call_args(v))]
        if isinstance(info.function, ValueCallee):
            # a value that is no generic function known here: Python calls it
            return self.check_null(self.vectorcall(args[0], args[1:])), T.Any, True
        if isinstance(info.function, KwValueCallee):
            # ... with its keywords (the last arguments, named by a tuple of their names)
            names = info.function.names
            kwnames = self.obj_const(("kwnames", names))
            return self.check_null(self.vectorcall(args[0], args[1:], kwnames,
                                                   len(names))), T.Any, True
        if isinstance(info.function, MethodRef):
            # ``x.name(...)`` on a value of unknown type: Python's attribute call
            # (``PyObject_VectorcallMethod``: no bound method object is made, as in Python)
            name = self.obj_const(("str", info.function.name))
            call = self.capi("PyObject_VectorcallMethod", OBJ, [OBJ, OBJP, I64, OBJ])
            return self.check_null(self.b.call(call, [name, self.arg_array(args),
                                                      I64(len(args)),
                                                      ir.Constant(OBJ, None)])), T.Any, True
        fobj = self.obj_const(("func", info.function.module, info.function.qualname))
        return self.check_null(self.dynamic_call(v, fobj, args, info.argtypes,
                                                 info.function)), T.Any, True

    def call_values(self, v, info):
        """The native arguments of static call ``v``: for a call of a closure value, the
        values it captured, then the call's arguments."""
        types = info.mi.spec_types
        k = len(info.closure.__pk_captures__) if info.closure is not None else 0
        if info.kwplan is not None:
            # a call of a value with keywords: the arguments in the order the keywords
            # were bound to, defaults as constants (borrowed, as a constant's value is) or,
            # a lambda's, from the tuple of them the closure holds
            rest = [self.load_var(v.args[x], t) if what == "arg" else
                    self.captured_default(v, info, x, t) if what == "capdefault" else
                    self.gen_const(x)
                    for (what, x), t in zip(info.kwplan, types[k:])]
        elif info.closure is None:
            return [self.load_var(a, t) for a, t in zip(_call_args(v), types)]
        else:
            rest = [self.load_var(a, t) for a, t in zip(v.args[1:], types[k:])]
        if info.closure is None:
            return rest
        clo = self.load_var(v.args[0], info.closure)
        return [self.b.extract_value(clo, i) for i in range(k)] + rest

    def captured_default(self, v, info, where, t):
        """Default value ``where[1]`` of the lambda value called by ``v``: an item of the
        tuple of its defaults, its captured value ``where[0]`` (borrowed from it)."""
        clo = self.load_var(v.args[0], info.closure)
        d, k = where
        dt = info.closure.__pk_captures__[d]
        tup = self.b.extract_value(clo, d)
        if not is_boxed(dt):
            return self.b.extract_value(tup, k)
        item = self.check_null(self.b.call(self.capi("PyTuple_GetItem", OBJ, [OBJ, I64]),
                                           [tup, I64(k)]))
        return self.unbox(item, t) if not is_boxed(t) else item

    def dynamic_call(self, v, fobj, args, argtypes=None, func=None):
        """Run-time dispatch of the call ``v`` of generic function ``fobj``: by position, or,
        for arguments made positional by keyword binding (``Call.kwbound``), through
        ``GenericFunction.call_bound`` (they may fill keyword-only parameters).

        A list, dict or set argument of a concrete type here (``argtypes``) is dispatched as
        that type (``GenericFunction.call_typed``), as a static call would be, not as the
        type its items have now: the type of a Python container is its items', and computing
        it walks them all -- a dynamic ``d[k] = v`` on a ``Dict[Any, Any]`` in a loop filling
        it took time quadratic in its size (the Benchmarks Game's k-nucleotide, 250,000
        bases: tens of minutes) -- and it is not the type the code holds it as (a
        ``Dict[Any, Any]`` holding only ints so far took a float as a ``Dict[String,
        Int64]`` would, refusing it)."""
        if getattr(v, "kwbound", False):
            return self.vectorcall(self.obj_const(("helper", "call_bound")), [fobj] + args)
        typed = tuple(t if _static_container(t) else None for t in argtypes or ())
        if func is not None and any(t is not None for t in typed) and len(typed) == len(args):
            refs = tuple(T.type_ref(t) if t is not None else None for t in typed)
            # (the function's bound ``call_typed``, called directly: one Python frame)
            return self.vectorcall(self.obj_const(("typed_call", func.module, func.qualname)),
                                   [self.obj_const(("types", refs))] + args)
        return self.vectorcall(fobj, args)

    def gen_split_call(self, v, info):
        """Union splitting (``inference.SplitCall``): test the Python classes of the union
        arguments, make the static call of the matching combination; a value of no
        combination (a combination without a method, which raises MethodError, or a value
        whose class is not its type's own) is dispatched dynamically.  When every
        combination returns one unboxed type, the result stays native (no box per call)."""
        b = self.b
        rts = {mi.cache.rettype for _, mi in info.combos if mi.cache is not None}
        native = len(rts) == 1 and len(info.combos) == sum(1 for _, mi in info.combos
                                                           if mi.cache is not None)
        rt0 = next(iter(rts)) if native else None
        native = native and rt0 is not T.Bottom and not is_managed(rt0) and \
            info.rettype is rt0            # (else the fallback may return another type)
        out = self.alloca(lltype(rt0) if native else OBJ)
        done = self.fn.append_basic_block("split.done")
        names = _call_args(v)
        for combo, mi in info.combos:
            test = ir.Constant(I1, 1)
            for var, want, have in zip(names, combo, info.argtypes):
                if have is want:
                    continue
                if var in self.tagged and U.is_member(self.var_type(var), want):
                    tag = b.extract_value(self.load_tagged(var), 0)
                    k = U.tag_of(self.var_type(var), want)
                    test = b.and_(test, b.icmp_unsigned("==", tag, I8(k)))
                    continue
                obj = self.load_var(var, T.Any)
                test = b.and_(test, self._is_exactly(obj, want))
            nxt = self.fn.append_basic_block("split.next")
            this = self.fn.append_basic_block("split.call")
            b.cbranch(test, this, nxt)
            b.position_at_end(this)
            val, rt, owned = self.gen_call(v, INF.StaticCall(mi, combo))
            if rt is T.Bottom:
                b.position_at_end(nxt)
                continue
            if native:
                b.store(val, out)
            elif is_boxed(rt):
                if not owned:
                    self.incref(val)
                b.store(val, out)
            else:
                b.store(self.box(val, rt), out)
                if owned:
                    self.decref_value(val, rt)
            b.branch(done)
            b.position_at_end(nxt)
        if self._split_is_exhaustive(names, info):
            b.unreachable()             # (every tag has its combination: no value is left)
        else:
            args = [self.load_var(a, T.Any) for a in names]
            fobj = self.obj_const(("func", info.function.module, info.function.qualname))
            r = self.check_null(self.dynamic_call(v, fobj, args, info.argtypes, info.function))
            if native:
                b.store(self.unbox(r, rt0), out)
                self.decref(r)
            else:
                b.store(r, out)
            b.branch(done)
        b.position_at_end(done)
        if native:
            return b.load(out), rt0, False
        return b.load(out), T.Any, True

    def _split_is_exhaustive(self, names, info):
        """Do the combinations cover every value the arguments can hold?  Only when each
        argument of a union type is a tagged variable (its tag is one of its members, so
        no value of another class can turn up) and every combination of members has its
        method; a boxed argument may hold a value of a class no combination tests."""
        need = 1
        for var, have in zip(names, info.argtypes):
            if T.isconcrete(have):
                continue
            if var not in self.tagged or self.var_type(var) is not have:
                return False
            need *= len(have.__pk_members__)
        return len({combo for combo, mi in info.combos if mi.cache is not None}) == need

    def inline(self, callee, args):
        """Generate a small callee's single block here, on native argument values."""
        env = dict(zip(callee.ir.argnames, args))
        blk = callee.ir.blocks[0]
        for i, st in enumerate(blk.stmts):
            info = callee.stmt_info[(0, i)]
            v = st.value
            if isinstance(v, Const):
                val = self.gen_const(v.value)
            elif isinstance(v, Use):
                val = env[v.var]
            elif isinstance(v, GetField):
                if info.argtype.__pk_kind__ == "mutable":
                    val = self.mutable_field(env[v.var], info.argtype, info.index)[0]
                else:
                    val = self.b.extract_value(env[v.var], info.index)
            elif isinstance(info, INF.TupleElem):
                val = self.b.extract_value(env[v.args[0]], info.index)
            elif isinstance(v, Intrinsic):
                emit = EMITTERS.get(v.name) or randomgen.EMITTERS[v.name]
                val = emit(self, [env[a] for a in v.args], info.argtypes, v.params)
            elif info.closure is not None:
                k = len(info.closure.__pk_captures__)
                clo = env[v.args[0]]
                val = self.inline(info.mi.cache, [self.b.extract_value(clo, i)
                                                  for i in range(k)] +
                                  [env[a] for a in v.args[1:]])
            else:
                val = self.inline(info.mi.cache, [env[a] for a in _call_args(v)])
            env[st.dst] = val
        return env[blk.term.var]

    def owned_aggregate(self, t, args, types):
        """The native value of struct or closure type ``t`` made of variables ``args``
        (each loaded as its type in ``types``), owning a reference to everything they hold."""
        val = ir.Constant(lltype(t), ir.Undefined)
        for i, (a, at) in enumerate(zip(args, types)):
            x = self.load_var(a, at)
            if is_managed(at):
                self.incref_value(x, at)
            val = self.b.insert_value(val, x, i)
        return val

    def gen_intrinsic(self, v, info):
        argtypes = info.argtypes
        emit = EMITTERS.get(v.name)
        if randomgen.native(v.name, argtypes):
            emit = randomgen.EMITTERS[v.name]      # (else Python's ``random``, below)
        if v.name == "tuple" and info.dynamic:
            # a tuple of values of abstract types: a Python tuple, made here
            b = self.b
            tup = self.check_null(b.call(self.capi("PyTuple_New", OBJ, [I64]),
                                         [I64(len(v.args))]))
            for i, (a, t) in enumerate(zip(v.args, argtypes)):
                x = self.load_var(a, t)
                if is_boxed(t):
                    self.incref(x)
                else:
                    x = self.box(x, t)
                b.call(self.capi("PyTuple_SetItem", I32, [OBJ, I64, OBJ]), [tup, I64(i), x])
            return tup, T.Any, True
        if v.name == "typeassert" and (T.issubtype(argtypes[0], v.params[0]) or
                                       T.isconcrete(argtypes[0])):
            return self.load_var(v.args[0], argtypes[0]), argtypes[0], False   # (nothing to check)
        if v.name == "notnothing":
            rt = intrinsics.REGISTRY["notnothing"].rule(argtypes, ())
            return self.load_var(v.args[0], rt), rt, False
        if v.name == "typeassert" and is_boxed(argtypes[0]) and T.isconcrete(v.params[0]) and \
                v.params[0].__pk_kind__ == "mutable":
            # (a mutable struct: its class, natively; Python's check raises the error)
            obj = self.load_var(v.args[0], T.Any)
            with self.b.if_then(self.b.not_(self._is_exactly(obj, v.params[0])), likely=False):
                r, _, _ = self.gen_intrinsic_py(v, info)
                self.decref(r)
            self.incref(obj)
            return obj, v.params[0], True
        if v.name == "global_ref":
            # (borrowed from its constant slot: the module global's object when installed)
            return self.obj_const(("global", v.params[0], v.params[1])), T.Any, False
        if v.name == "isa" and T.isconcrete(argtypes[0]) and T.is_type(v.params[0]):
            # (decided by the value's type: ``isinstance(v, list)`` on a List[Int64])
            return I8(int(T.issubtype(argtypes[0], v.params[0]))), T.Bool, False
        if v.name == "isa" and is_boxed(argtypes[0]) and \
                v.params[0].__pk_kind__ in ("nothing", "struct", "mutable") and \
                T.isconcrete(v.params[0]):
            # ``x is None``, ``isinstance(x, Node)`` on a boxed value: its class, natively
            # (no other class has values of these types)
            obj = self.load_var(v.args[0], T.Any)
            return self.b.zext(self._is_exactly(obj, v.params[0]), I8), T.Bool, False
        if v.name == "new_mutable" and not info.dynamic:
            args = [self.load_var(a, t) for a, t in zip(v.args, argtypes)]
            return _new_mutable(self, args, argtypes, v.params), v.params[0], True
        if v.name == "setfield" and not info.dynamic and \
                info.argtypes[0].__pk_kind__ == "mutable":
            return self.gen_setfield(v, info)
        if v.name == "new" and not info.dynamic and is_managed(v.params[0]):
            # a struct holding references: it owns one to each (counted here), as a tuple
            st = v.params[0]
            return self.owned_aggregate(st, v.args, [ft for _, ft in st.__pk_fields__]), \
                st, True
        if v.name == "closure" and not info.dynamic and \
                intrinsics.REGISTRY["closure"].rule(argtypes, ()).__pk_kind__ == "closure":
            # a closure value: the captured values themselves (owned: counted here)
            rt = intrinsics.REGISTRY["closure"].rule(argtypes, ())
            return self.owned_aggregate(rt, v.args[1:], argtypes[1:]), rt, True
        if v.name in BOX_EMITTERS:
            # (a Box is a Python object, yet its cell functions are native: never dynamic)
            args = [self.load_var(a, t) for a, t in zip(v.args, argtypes)]
            rt = intrinsics.REGISTRY[v.name].rule(argtypes, v.params)
            return BOX_EMITTERS[v.name](self, args, argtypes, v.params), rt, \
                v.name != "box_set"
        if listgen.native(v.name, info):
            # lists are boxed: these emitters take them as they are
            args = [self.load_var(a, t) for a, t in zip(v.args, argtypes)]
            rt = T.list_of(T.Any) if v.name == "list_new" else T.set_of(T.Any) \
                if v.name == "set_new" else \
                intrinsics.REGISTRY[v.name].rule(argtypes, v.params)
            emit = listgen.emitter(v.name, argtypes)
            return emit(self, args, argtypes, v.params), rt, \
                listgen.owned_result(v.name, argtypes)
        if strgen.native(v.name, info):
            # f-strings and print: values of any type, those of abstract types boxed
            types = [t if T.isconcrete(t) else T.Any for t in argtypes]
            args = [self.load_var(a, t) for a, t in zip(v.args, types)]
            rt = intrinsics.REGISTRY[v.name].rule(argtypes, v.params)
            return strgen.EMITTERS[v.name](self, args, types, v.params), rt, \
                v.name in strgen.OWNED
        if info.dynamic or emit is None or any(is_boxed(t) for t in argtypes) or \
                (v.name == "tuple_get" and len(set(argtypes[0].__pk_params__)) > 1):
            return self.gen_intrinsic_py(v, info)
        args = [self.load_var(a, t) for a, t in zip(v.args, argtypes)]
        rt = intrinsics.REGISTRY[v.name].rule(argtypes, v.params)
        return emit(self, args, argtypes, v.params), rt, v.name in OWNED_RESULTS

    def gen_intrinsic_py(self, v, info):
        """Run an intrinsic's Python implementation on boxed arguments (abstract types)."""
        direct = intrinsics.DIRECT.get(v.name)
        if direct is not None and not v.params:
            # the function the intrinsic's Python wrapper calls, itself (``random.random``
            # & co. -- bound methods of the module's generator, which ``random.seed``
            # reseeds in place -- and NumPy's): a call from native code costs what Python's
            # does
            fobj = self.obj_const(("pyattr",) + direct)
            args = [self.load_var(a, T.Any) for a in v.args]
            return self.check_null(self.vectorcall(fobj, args)), T.Any, True
        if v.name in intrinsics.SPEC_PARAMS:
            params = [self.obj_const(("spec", _spec_ref(v.params)))]
        else:
            params = [self.obj_const(("type", T.type_ref(p))) for p in v.params]
        args = [self.load_var(a, T.Any) for a in v.args]
        fobj = self.obj_const(("intrinsic", v.name))
        r = self.check_null(self.vectorcall(fobj, params + args))
        return r, T.Any, True

    def _inexact_unless(self, ok, dst, x, src):
        b = self.b
        with b.if_then(b.not_(ok), likely=False):
            v = self.box(x, src)
            self.call_helper(("helper", "inexact_error"),
                             [self.obj_const(("type", T.type_ref(dst))), v])


# ---------------------------------------------------------------------------------------------
# Intrinsic emitters: (gen, args, argtypes, params) -> value


def _int_binop(op):
    def emit(g, a, ts, p):
        return getattr(g.b, op)(a[0], a[1])
    return emit


def _float_binop(op):
    def emit(g, a, ts, p):
        return getattr(g.b, op)(a[0], a[1])
    return emit


def _signed(t):
    return t.__pk_signed__ and t is not T.Bool


def _emit_divzero_check(g, y, t, message):
    b = g.b
    zero = b.icmp_unsigned("==", y, ir.Constant(y.type, 0))
    with b.if_then(zero, likely=False):
        g.set_error("DivideError", message)
        b.branch(g.err_block)


def _floordiv_int(g, a, ts, p):
    b = g.b
    x, y = a
    t = ts[0]
    _emit_divzero_check(g, y, t, intrinsics.FLOORDIV_BY_ZERO)
    if not _signed(t):
        return b.udiv(x, y)
    minus1 = b.icmp_signed("==", y, ir.Constant(y.type, -1))
    safe_y = b.select(minus1, ir.Constant(y.type, 1), y)
    q = b.sdiv(x, safe_y)
    r = b.srem(x, safe_y)
    adjust = b.and_(b.icmp_signed("!=", r, ir.Constant(y.type, 0)),
                    b.icmp_signed("!=", b.icmp_signed("<", r, ir.Constant(y.type, 0)),
                                  b.icmp_signed("<", safe_y, ir.Constant(y.type, 0))))
    q = b.select(adjust, b.sub(q, ir.Constant(y.type, 1)), q)
    return b.select(minus1, b.neg(x), q)


def _mod_int(g, a, ts, p):
    b = g.b
    x, y = a
    t = ts[0]
    _emit_divzero_check(g, y, t, intrinsics.MOD_BY_ZERO)
    if not _signed(t):
        return b.urem(x, y)
    minus1 = b.icmp_signed("==", y, ir.Constant(y.type, -1))
    safe_y = b.select(minus1, ir.Constant(y.type, 1), y)
    r = b.srem(x, safe_y)
    adjust = b.and_(b.icmp_signed("!=", r, ir.Constant(y.type, 0)),
                    b.icmp_signed("!=", b.icmp_signed("<", r, ir.Constant(y.type, 0)),
                                  b.icmp_signed("<", safe_y, ir.Constant(y.type, 0))))
    r = b.select(adjust, b.add(r, safe_y), r)
    return b.select(minus1, ir.Constant(y.type, 0), r)


def _pow_int(g, a, ts, p):
    b = g.b
    x, y = a
    ty = x.type
    neg = b.icmp_signed("<", y, ir.Constant(ty, 0)) if _signed(ts[0]) else I1(0)
    with b.if_then(neg, likely=False):
        g.set_error("ErrorException", "DomainError: negative integer exponent")
        b.branch(g.err_block)
    # binary exponentiation loop
    pre = b.block
    head = g.fn.append_basic_block()
    body = g.fn.append_basic_block()
    done = g.fn.append_basic_block()
    b.branch(head)
    b.position_at_end(head)
    acc = b.phi(ty)
    base = b.phi(ty)
    e = b.phi(ty)
    acc.add_incoming(ir.Constant(ty, 1), pre)
    base.add_incoming(x, pre)
    e.add_incoming(y, pre)
    b.cbranch(b.icmp_unsigned("!=", e, ir.Constant(ty, 0)), body, done)
    b.position_at_end(body)
    odd = b.trunc(e, I1)
    acc2 = b.select(odd, b.mul(acc, base), acc)
    base2 = b.mul(base, base)
    e2 = b.lshr(e, ir.Constant(ty, 1))
    acc.add_incoming(acc2, body)
    base.add_incoming(base2, body)
    e.add_incoming(e2, body)
    b.branch(head)
    b.position_at_end(done)
    return acc


def _float_call(name):
    def emit(g, a, ts, p):
        fn = g.mg.module.declare_intrinsic(name, [a[0].type])
        return g.b.call(fn, a)
    return emit


def _float_divisor_check(name):
    """Raise Python's ZeroDivisionError when the divisor (for ``pow``: a zero base with a
    negative exponent) is zero, then emit the operation."""
    def wrap(emit):
        def checked(g, a, ts, p):
            b = g.b
            x, y = a
            zero = ir.Constant(y.type, 0.0)
            if name == "pow_float":
                bad = b.and_(b.fcmp_ordered("==", x, zero), b.fcmp_ordered("<", y, zero))
            else:
                bad = b.fcmp_ordered("==", y, zero)
            with b.if_then(bad, likely=False):
                g.set_error("ZeroDivisionError", intrinsics.FLOAT_ZERO_DIVISION[name])
                b.branch(g.err_block)
            return emit(g, a, ts, p)
        return checked
    return wrap


def _floordiv_float(g, a, ts, p):
    q = g.b.fdiv(a[0], a[1])
    fn = g.mg.module.declare_intrinsic("llvm.floor", [q.type])
    return g.b.call(fn, [q])


def _mod_float(g, a, ts, p):
    b = g.b
    x, y = a
    zero = ir.Constant(x.type, 0.0)
    r = b.frem(x, y)
    adjust = b.and_(b.fcmp_ordered("!=", r, zero),
                    b.icmp_unsigned("!=", b.fcmp_ordered("<", r, zero),
                                    b.fcmp_ordered("<", y, zero)))
    return b.select(adjust, b.fadd(r, y), r)


_ICMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _cmp(name):
    op = _ICMP[name]

    def emit(g, a, ts, p):
        b = g.b
        t = ts[0]
        if t.__pk_float__:
            c = b.fcmp_unordered(op, a[0], a[1]) if name == "ne" else b.fcmp_ordered(op, a[0], a[1])
        elif _signed(t):
            c = b.icmp_signed(op, a[0], a[1])
        else:
            c = b.icmp_unsigned(op, a[0], a[1])
        return b.zext(c, I8)
    return emit


def _truth(g, a, ts, p):
    b = g.b
    t = ts[0]
    if t.__pk_float__:
        c = b.fcmp_unordered("!=", a[0], ir.Constant(a[0].type, 0.0))
    else:
        c = b.icmp_unsigned("!=", a[0], ir.Constant(a[0].type, 0))
    return b.zext(c, I8)


def _not(g, a, ts, p):
    return g.b.xor(a[0], I8(1))


def _egal_values(g, x, y, tx, ty):
    b = g.b
    if tx is not ty:
        return I1(0)
    k = tx.__pk_kind__
    if k == "primitive":
        if tx.__pk_float__:
            return b.fcmp_ordered("==", x, y)
        return b.icmp_unsigned("==", x, y)
    if k == "nothing":
        return I1(1)
    if k == "struct":
        acc = I1(1)
        for i, (_, ft) in enumerate(tx.__pk_fields__):
            fx, fy = b.extract_value(x, i), b.extract_value(y, i)
            if is_boxed(ft):
                # a field holding a reference (a str, a list): equal contents, as the
                # struct's Python ``__eq__`` and the intrinsic's Python implementation
                # compare them (two equal strings are rarely the same object)
                r = b.call(g.capi("PyObject_RichCompareBool", I32, [OBJ, OBJ, I32]),
                           [fx, fy, I32(2)])
                g.check(b.icmp_signed("<", r, I32(0)))
                acc = b.and_(acc, b.icmp_signed(">", r, I32(0)))
                continue
            acc = b.and_(acc, _egal_values(g, fx, fy, ft, ft))
        return acc
    if k in ("tuple", "closure") and not is_boxed(tx):
        acc = I1(1)
        for i, p in enumerate(tx.__pk_params__ if k == "tuple" else tx.__pk_captures__):
            acc = b.and_(acc, _egal_values(g, b.extract_value(x, i), b.extract_value(y, i), p, p))
        return acc
    if k == "array" and not is_boxed(tx):
        return b.icmp_unsigned("==", b.extract_value(x, A_DATA), b.extract_value(y, A_DATA))
    return b.icmp_unsigned("==", x, y)


def _egal(g, a, ts, p):
    return g.b.zext(_egal_values(g, a[0], a[1], ts[0], ts[1]), I8)


def _isa(g, a, ts, p):
    """``isinstance(x, T)`` of a value whose type is known here (boxed ones, a Union, test
    the object at run time through the Python implementation)."""
    return I8(1 if T.issubtype(ts[0], p[0]) else 0)


def convert_value(g, x, src, dst, checked):
    """Primitive conversion; ``checked`` raises InexactError for integer targets that cannot
    hold the value exactly (Julia's ``convert``), otherwise integers wrap (``promote``)."""
    b = g.b
    if src is dst:
        return x
    dl = lltype(dst)
    if dst.__pk_float__:
        if src.__pk_float__:
            return b.fpext(x, dl) if dst.__pk_bits__ > src.__pk_bits__ else b.fptrunc(x, dl)
        return b.sitofp(x, dl) if _signed(src) else b.uitofp(x, dl)
    if src.__pk_float__:
        lo, hi = _int_range(dst)
        # In range and integral: lo <= x <= hi and trunc(x) == x.
        inr = b.and_(b.fcmp_ordered(">=", x, ir.Constant(x.type, float(lo))),
                     b.fcmp_ordered("<", x, ir.Constant(x.type, float(hi) + 1.0)))
        iv = b.fptosi(x, I64) if _signed(dst) or dst is T.Bool else b.fptoui(x, I64)
        iv_safe = b.select(inr, iv, I64(0))
        back = b.sitofp(iv_safe, x.type) if _signed(dst) or dst is T.Bool else b.uitofp(iv_safe, x.type)
        exact = b.and_(inr, b.fcmp_ordered("==", back, x))
        g._inexact_unless(exact, dst, x, src)
        return b.trunc(iv_safe, dl) if dl != I64 else iv_safe
    # integer -> integer
    sw, dw = x.type.width, dl.width
    if checked:
        wide = b.sext(x, I128) if _signed(src) else b.zext(x, I128)
        lo, hi = _int_range(dst)
        ok = b.and_(b.icmp_signed(">=", wide, I128(lo)), b.icmp_signed("<=", wide, I128(hi)))
        g._inexact_unless(ok, dst, x, src)
    if dw > sw:
        return b.sext(x, dl) if _signed(src) else b.zext(x, dl)
    if dw < sw:
        return b.trunc(x, dl)
    return x


def _int_range(t):
    if t is T.Bool:
        return 0, 1
    import numpy as np
    info = np.iinfo(t.__pk_dtype__)
    return int(info.min), int(info.max)


def _convert(g, a, ts, p):
    return convert_value(g, a[0], ts[0], p[0], True)


def _promote(g, a, ts, p):
    return convert_value(g, a[0], ts[0], intrinsics.promote_type(ts[0], ts[1]), False)


def _to_float(g, a, ts, p):
    t = ts[0]
    return a[0] if t.__pk_float__ else convert_value(g, a[0], t, T.Float64, False)


def _trunc(g, a, ts, p):
    return _trunc_impl(g, a[0], ts[0], p[0])


def _trunc_impl(g, x, src, dst):
    b = g.b
    lo, hi = _int_range(dst)
    inr = b.and_(b.fcmp_ordered(">", x, ir.Constant(x.type, float(lo) - 1.0)),
                 b.fcmp_ordered("<", x, ir.Constant(x.type, float(hi) + 1.0)))
    g._inexact_unless(inr, dst, x, src)
    iv = b.fptosi(x, lltype(dst)) if _signed(dst) else b.fptoui(x, lltype(dst))
    return iv


def _dim(g, v, ax):
    """Length of axis ``ax``, with what LLVM may assume of it: 0 <= n < 2**62 (so that
    ``n - 1`` and ``i + 1`` in index arithmetic cannot wrap, which lets it prove the bounds
    checks of ``for j in range(1, n - 1): A[i, j + 1]`` away)."""
    b = g.b
    n = b.extract_value(v, [A_SHAPE, ax])
    assume = g.mg.module.declare_intrinsic("llvm.assume", fnty=ir.FunctionType(VOID, [I1]))
    b.call(assume, [b.icmp_unsigned("<", n, I64(1 << 62))])
    return n


def _arr_len(g, a, ts, p):
    return _dim(g, a[0], 0)


def _axis_index(g, v, t, ax, i, check=True):
    """Index ``i`` on axis ``ax`` of ``v``, negative ones counted from the end, raising
    BoundsError outside (unless ``check`` is off)."""
    b = g.b
    n = _dim(g, v, ax)
    j = b.select(b.icmp_signed("<", i, I64(0)), b.add(i, n), i)
    if check:
        with b.if_then(b.not_(b.icmp_unsigned("<", j, n)), likely=False):
            g.call_helper(("helper", "bounds_error_nd"),
                          [g.obj_const(("type", T.type_ref(t))),
                           g.box(g._int_tuple(b.extract_value(v, A_SHAPE), t.__pk_ndim__),
                                 T.tuple_type(*(T.Int64,) * t.__pk_ndim__)),
                           g.box(I64(ax), T.Int64), g.box(i, T.Int64)])
    return j


def _elptr(g, v, t, offset):
    """Typed address of element ``offset`` (in elements) from ``v``'s data pointer."""
    b = g.b
    base = b.bitcast(b.extract_value(v, A_DATA), lltype(t.__pk_eltype__).as_pointer())
    return b.gep(base, [offset])


def _index_ptr(g, v, t, idx):
    """Address of ``v[idx...]`` (each index bounds-checked, negative from the end)."""
    b = g.b
    off = I64(0)
    for ax, i in enumerate(idx):
        j = _axis_index(g, v, t, ax, i, g.boundscheck)
        off = b.add(off, b.mul(j, b.extract_value(v, [A_STRIDES, ax])))
    return _elptr(g, v, t, off)


def _arr_get(g, a, ts, p):
    t = ts[0]
    idx = a[1:]
    ptr = _index_ptr(g, a[0], t, idx)
    if len(idx) == t.__pk_ndim__:
        return g.b.load(ptr)
    return _subarray(g, a[0], t, ptr, len(idx), (), ())


def _subarray(g, v, t, ptr, skip, shapes, strides):
    """A view of ``v`` starting at element pointer ``ptr``, keeping axes ``skip:`` (after
    ``shapes``/``strides`` of new leading axes)."""
    b = g.b
    n = t.__pk_ndim__
    out_t = T.array_of(t.__pk_eltype__, len(shapes) + n - skip)
    val = ir.Constant(lltype(out_t), ir.Undefined)
    val = b.insert_value(val, b.bitcast(ptr, OBJ), A_DATA)
    k = 0
    for sh, st in zip(shapes, strides):
        val = b.insert_value(val, sh, [A_SHAPE, k])
        val = b.insert_value(val, st, [A_STRIDES, k])
        k += 1
    for ax in range(skip, n):
        val = b.insert_value(val, b.extract_value(v, [A_SHAPE, ax]), [A_SHAPE, k])
        val = b.insert_value(val, b.extract_value(v, [A_STRIDES, ax]), [A_STRIDES, k])
        k += 1
    val = b.insert_value(val, b.extract_value(v, A_OWNER), A_OWNER)
    return b.insert_value(val, b.or_(b.extract_value(v, A_VIEW), I8(FLAG_VIEW)), A_VIEW)


def _arr_set(g, a, ts, p):
    t = ts[0]
    b = g.b
    ro = b.and_(b.extract_value(a[0], A_VIEW), I8(FLAG_READONLY))
    with b.if_then(b.icmp_unsigned("!=", ro, I8(0)), likely=False):
        g.set_error("ValueError", "assignment destination is read-only")
        b.branch(g.err_block)
    g.b.store(a[1], _index_ptr(g, a[0], t, a[2:]))
    return I8(0)


def _arr_same_owner(g, a, ts, p):
    """The same owning ndarray: conservatively "may overlap" (a copy is then made)."""
    b = g.b
    same = b.icmp_unsigned("==", b.extract_value(a[0], A_OWNER), b.extract_value(a[1], A_OWNER))
    return b.zext(same, I8)


def _arr_shape(g, a, ts, p):
    n = ts[0].__pk_ndim__
    val = ir.Constant(ir.LiteralStructType([I64] * n), ir.Undefined)
    for ax in range(n):
        val = g.b.insert_value(val, _dim(g, a[0], ax), ax)
    return val


def _arr_ndim(g, a, ts, p):
    return I64(ts[0].__pk_ndim__)


def _arr_size(g, a, ts, p):
    n = I64(1)
    for ax in range(ts[0].__pk_ndim__):
        n = g.b.mul(n, g.b.extract_value(a[0], [A_SHAPE, ax]))
    return n


PY_SSIZE_MIN = -(1 << 63)
PY_SSIZE_MAX = (1 << 63) - 1


def _arr_view(g, a, ts, spec):
    """Basic slicing with Python's rules (``PySlice_AdjustIndices`` clamps the bounds)."""
    b = g.b
    t = ts[0]
    v = a[0]
    vals = list(a[1:])
    off = I64(0)
    shapes, strides = [], []
    lo_p, hi_p = g.alloca(I64), g.alloca(I64)
    for ax, sp in enumerate(spec):
        n = b.extract_value(v, [A_SHAPE, ax])
        stride = b.extract_value(v, [A_STRIDES, ax])
        if sp[0] == "i":
            off = b.add(off, b.mul(_axis_index(g, v, t, ax, vals.pop(0)), stride))
            continue
        lo = vals.pop(0) if sp[1] else None
        hi = vals.pop(0) if sp[2] else None
        step = vals.pop(0) if sp[3] else I64(1)
        if sp[3]:
            with b.if_then(b.icmp_signed("==", step, I64(0)), likely=False):
                g.set_error("ValueError", "slice step cannot be zero")
                b.branch(g.err_block)
        neg = b.icmp_signed("<", step, I64(0))
        b.store(lo if lo is not None else b.select(neg, I64(PY_SSIZE_MAX), I64(0)), lo_p)
        b.store(hi if hi is not None else b.select(neg, I64(PY_SSIZE_MIN), I64(PY_SSIZE_MAX)),
                hi_p)
        length = b.call(g.capi("PySlice_AdjustIndices", I64, [I64, I64.as_pointer(),
                                                               I64.as_pointer(), I64]),
                        [n, lo_p, hi_p, step])
        off = b.add(off, b.mul(b.load(lo_p), stride))
        shapes.append(length)
        strides.append(b.mul(stride, step))
    out = _subarray(g, v, t, _elptr(g, v, t, off), len(spec), shapes, strides)
    return out


def _to_eltype(g, a, ts, p):
    el = ts[0].__pk_eltype__
    if el.__pk_kind__ == "primitive" and ts[1].__pk_kind__ == "primitive":
        return convert_value(g, a[1], ts[1], el, True)
    return a[1]


def _np_new(g, a, ts, p):
    """An array NumPy makes (``np.zeros((n, m))``, ``np.zeros_like(u)``), with what the call
    tells of its shape written into the native value: LLVM then knows that ``v =
    np.zeros_like(u)`` has ``u``'s shape (so ``v[i, j]`` in a loop bounded by ``u.shape``
    needs no bounds check of its own), and that ``np.zeros((n, m))`` is C-contiguous (so its
    rows are unit-stride without a run-time test).  The result is a new reference (listed
    in OWNED_RESULTS).

    NumPy's C functions are called directly (``np.empty``, ``np.zeros``, ``np.empty_like``):
    ``np.zeros_like`` and ``np.ones`` are Python functions that cost ten times more (4 us
    against 0.4 us, a quarter of a 40 x 40 Jacobi sweep), so their arrays are made empty by
    NumPy and filled here -- a fresh array is one dense block whatever its axis order."""
    b = g.b
    name, el = p
    rt = intrinsics.REGISTRY["np_new"].rule(ts, p)
    direct = name in _NP_DIRECT and rt.__pk_eltype__.__pk_kind__ == "primitive"
    boxed = [g.box(x, t) for x, t in zip(a, ts)]
    if direct:
        fn = g.obj_const(("numpy", _NP_DIRECT[name]))
        extra = [g.obj_const(("dtype", T.type_ref(el)))] if el is not None else []
        r = g.check_null(g.vectorcall(fn, boxed + extra))
    else:
        r = g.check_null(g.vectorcall(g.obj_const(("intrinsic", "np_new")),
                                      [g.obj_const(("spec", _spec_ref(p)))] + boxed))
    for o in boxed:
        g.decref(o)
    val = g.unbox_array(r, rt)              # holds ``r``'s reference: handed to the caller
    n = rt.__pk_ndim__
    if name in ("zeros", "ones", "empty", "full"):
        dims = [a[0]] if n == 1 and ts[0] is T.Int64 else \
            [b.extract_value(a[0], i) for i in range(n)]
    elif name in ("zeros_like", "ones_like", "empty_like", "copy"):
        dims = [b.extract_value(a[0], [A_SHAPE, i]) for i in range(n)]
    else:
        return val
    for i, d in enumerate(dims):
        val = b.insert_value(val, d, [A_SHAPE, i])
    if direct and name in ("zeros_like", "ones", "ones_like"):
        total = I64(1)
        for d in dims:
            total = b.mul(total, d)
        _fill_dense(g, val, rt, total, 0 if name == "zeros_like" else 1)
    if name in ("zeros", "ones", "empty", "full"):
        # C order; NumPy gives an empty array all-zero strides
        total = I64(1)
        for d in dims:
            total = b.mul(total, d)
        empty = b.icmp_signed("==", total, I64(0))
        st = I64(1)
        for i in reversed(range(n)):
            val = b.insert_value(val, b.select(empty, I64(0), st), [A_STRIDES, i])
            st = b.mul(st, dims[i])
    return val


# the NumPy function (a C one) that makes each array; the ones marked in _np_new are filled
_NP_DIRECT = {"zeros": "zeros", "empty": "empty", "ones": "empty",
              "zeros_like": "empty_like", "empty_like": "empty_like",
              "ones_like": "empty_like"}


def _fill_dense(g, val, t, count, x):
    """Set the ``count`` elements of the fresh dense array ``val`` to ``x`` (0 or 1)."""
    b = g.b
    ety = lltype(t.__pk_eltype__)
    data = b.extract_value(val, A_DATA)
    if x == 0:
        memset = g.mg.module.declare_intrinsic("llvm.memset", [OBJ, I64])
        b.call(memset, [data, ir.Constant(I8, 0), b.mul(count, I64(elsize(t))),
                        ir.Constant(I1, 0)])
        return
    one = ir.Constant(ety, 1.0 if isinstance(ety, (ir.DoubleType, ir.FloatType)) else 1)
    base = b.bitcast(data, ety.as_pointer())
    pre = b.block
    loop = g.fn.append_basic_block("fill")
    done = g.fn.append_basic_block("filled")
    b.cbranch(b.icmp_signed(">", count, I64(0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(I64(0), pre)
    b.store(one, b.gep(base, [i]))
    nxt = b.add(i, I64(1))
    i.add_incoming(nxt, loop)
    b.cbranch(b.icmp_signed("<", nxt, count), loop, done)
    b.position_at_end(done)


OWNED_RESULTS = {"np_new"}


def _math_error(g, bad, exc, msg):
    b = g.b
    with b.if_then(bad, likely=False):
        g.set_error(exc, msg)
        b.branch(g.err_block)


def _isnan(b, x):
    return b.fcmp_unordered("uno", x, x)


def _isinf(b, x):
    fabs = b.module.declare_intrinsic("llvm.fabs", [x.type])
    return b.fcmp_ordered("==", b.call(fabs, [x]), ir.Constant(x.type, float("inf")))


def _libm1(name, can_overflow):
    """``math.<name>(x)``: the C library's function (as CPython calls it; ``sqrt`` is LLVM's,
    exact in IEEE arithmetic and vectorisable), with CPython's ``math_1`` errors."""
    def emit(g, a, ts, p):
        b = g.b
        x = a[0]
        if name == "sqrt":
            fn = g.mg.module.declare_intrinsic("llvm.sqrt", [F64])
        else:
            fn = g.mg.capi(name, F64, [F64])
        r = b.call(fn, [x])
        _math_error(g, b.and_(_isnan(b, r), b.not_(_isnan(b, x))), "ValueError",
                    "math domain error")
        finite_x = b.not_(b.or_(_isnan(b, x), _isinf(b, x)))
        _math_error(g, b.and_(_isinf(b, r), finite_x),
                    "OverflowError" if can_overflow else "ValueError",
                    "math range error" if can_overflow else "math domain error")
        return r
    return emit


def _libm2(name):
    """``math.atan2/copysign/fmod/pow(x, y)`` with CPython's errors (``math_2``, and
    ``math_pow``'s: an infinite result of finite arguments overflows unless ``x`` is 0)."""
    def emit(g, a, ts, p):
        b = g.b
        x, y = a
        if name == "copysign":
            fn = g.mg.module.declare_intrinsic("llvm.copysign", [F64],
                                               ir.FunctionType(F64, [F64, F64]))
            return b.call(fn, [x, y])
        r = b.call(g.mg.capi(name, F64, [F64, F64]), [x, y])
        args_nan = b.or_(_isnan(b, x), _isnan(b, y))
        _math_error(g, b.and_(_isnan(b, r), b.not_(args_nan)), "ValueError",
                    "math domain error")
        if name in ("pow", "fmod"):
            finite = b.not_(b.or_(args_nan, b.or_(_isinf(b, x), _isinf(b, y))))
            rinf = b.and_(_isinf(b, r), finite)
            if name == "pow":
                zero = b.fcmp_ordered("==", x, ir.Constant(F64, 0.0))
                _math_error(g, b.and_(rinf, zero), "ValueError", "math domain error")
                _math_error(g, rinf, "OverflowError", "math range error")
            else:
                _math_error(g, rinf, "ValueError", "math domain error")
        return r
    return emit


def _float_test(test):
    def emit(g, a, ts, p):
        return g.b.zext(test(g.b, a[0]), I8)
    return emit


def _round(name):
    return _float_call(f"llvm.{name}")


MATH_EMITTERS = {f"m_{n}": _libm1(n, o) for n, o in intrinsics.LIBM1.items()}
MATH_EMITTERS.update({f"m_{n}": _libm2(n) for n in intrinsics.LIBM2})
MATH_EMITTERS.update({
    "m_isnan": _float_test(_isnan), "m_isinf": _float_test(_isinf),
    "m_isfinite": _float_test(lambda b, x: b.not_(b.or_(_isnan(b, x), _isinf(b, x)))),
    "round_floor": _round("floor"), "round_ceil": _round("ceil"),
    "round_trunc": _round("trunc"), "round_roundeven": _round("roundeven")})


def _tuple(g, a, ts, p):
    val = ir.Constant(ir.LiteralStructType([lltype(t) for t in ts]), ir.Undefined)
    for i, x in enumerate(a):
        val = g.b.insert_value(val, x, i)
    return val


def _tuple_len(g, a, ts, p):
    return I64(len(ts[0].__pk_params__))


def _tuple_get(g, a, ts, p):
    """``t[i]`` with a run-time ``i``: native for a tuple of one element type (read as an
    array); a tuple of several goes through Python (see ``gen_intrinsic``)."""
    b = g.b
    t = ts[0]
    ps = t.__pk_params__
    if not ps:
        g.call_helper(("helper", "tuple_bounds_error"),
                      [g.obj_const(("type", T.type_ref(t))), g.box(a[1], T.Int64)])
        return None
    n = I64(len(ps))
    i = a[1]
    j = b.select(b.icmp_signed("<", i, I64(0)), b.add(i, n), i)
    with b.if_then(b.not_(b.icmp_unsigned("<", j, n)), likely=False):
        g.call_helper(("helper", "tuple_bounds_error"),
                      [g.obj_const(("type", T.type_ref(t))), g.box(i, T.Int64)])
    slot = g.alloca(lltype(t))
    b.store(a[0], slot)
    arr = b.bitcast(slot, ir.ArrayType(lltype(ps[0]), len(ps)).as_pointer())
    return b.load(b.gep(arr, [I64(0), j]))


def _unpack_check(g, a, ts, p):
    return I8(0)


def _new(g, a, ts, p):
    st = p[0]
    val = ir.Constant(lltype(st), ir.Undefined)
    for i, x in enumerate(a):
        val = g.b.insert_value(val, x, i)
    return val


def _typeof(g, a, ts, p):
    o = g.obj_const(("type", T.type_ref(ts[0])))
    g.incref(o)
    return o


def _neg_int(g, a, ts, p):
    return g.b.neg(a[0])


def _neg_float(g, a, ts, p):
    return g.b.fneg(a[0])


EMITTERS = {
    "add_int": _int_binop("add"), "sub_int": _int_binop("sub"), "mul_int": _int_binop("mul"),
    "and_int": _int_binop("and_"), "or_int": _int_binop("or_"), "xor_int": _int_binop("xor"),
    "neg_int": _neg_int, "floordiv_int": _floordiv_int, "mod_int": _mod_int,
    "pow_int": _pow_int,
    "add_float": _float_binop("fadd"), "sub_float": _float_binop("fsub"),
    "mul_float": _float_binop("fmul"),
    "div_float": _float_divisor_check("div_float")(_float_binop("fdiv")),
    "neg_float": _neg_float,
    "floordiv_float": _float_divisor_check("floordiv_float")(_floordiv_float),
    "mod_float": _float_divisor_check("mod_float")(_mod_float),
    "pow_float": _float_divisor_check("pow_float")(_float_call("llvm.pow")),
    "sqrt": _float_call("llvm.sqrt"),
    "abs_float": _float_call("llvm.fabs"),
    "eq": _cmp("eq"), "ne": _cmp("ne"), "lt": _cmp("lt"), "le": _cmp("le"), "gt": _cmp("gt"),
    "ge": _cmp("ge"), "truth": _truth, "not_bool": _not, "egal": _egal, "isa": _isa,
    "convert": _convert, "promote": _promote, "to_float": _to_float, "trunc": _trunc,
    "arr_len": _arr_len, "arr_get": _arr_get, "arr_set": _arr_set, "np_new": _np_new,
    "to_eltype": _to_eltype,
    "arr_shape": _arr_shape, "arr_ndim": _arr_ndim, "arr_size": _arr_size,
    "arr_view": _arr_view, "tuple": _tuple, "tuple_len": _tuple_len,
    "arr_same_owner": _arr_same_owner,
    "unpack_check": _unpack_check, "tuple_get": _tuple_get,
    "new": _new, "typeof": _typeof,
    **MATH_EMITTERS,
}

from . import listgen, randomgen, strgen  # noqa: E402  (their emitters use the helpers above)

EMITTERS.update(listgen.EMITTERS)


def _exc_fetch(g, a, ts, p):
    """The exception being raised, taken out of the error indicator (a new reference):
    ``PyErr_GetRaisedException`` from 3.12; before, the fetched triple normalised and the
    traceback attached to the value, which is what 3.12 keeps."""
    b = g.b
    if sys.version_info >= (3, 12):
        return b.call(g.capi("PyErr_GetRaisedException", OBJ, []), [])
    slots = [g.alloca(OBJ) for _ in range(3)]
    b.call(g.capi("PyErr_Fetch", VOID, [OBJP] * 3), slots)
    b.call(g.capi("PyErr_NormalizeException", VOID, [OBJP] * 3), slots)
    t, v, tb = (b.load(x) for x in slots)
    with b.if_then(b.icmp_unsigned("!=", tb, ir.Constant(OBJ, None))):
        b.call(g.capi("PyException_SetTraceback", I32, [OBJ, OBJ]), [v, tb])
    g.decref(t)
    g.decref(tb)
    return v


EMITTERS["exc_fetch"] = _exc_fetch


def _box_new(g, a, ts, p):
    return g.check_null(g.b.call(g.capi("PyCell_New", OBJ, [OBJ]), [ir.Constant(OBJ, None)]))


def _box_get(g, a, ts, p):
    """The cell's value (a new reference), or Python's error when it holds none yet."""
    from .closureintr import unbound
    b = g.b
    r = b.call(g.capi("PyCell_Get", OBJ, [OBJ]), [a[0]])
    empty = b.icmp_unsigned("==", r, ir.Constant(OBJ, None))
    with b.if_then(empty, likely=False):
        e = unbound(*p)
        g.set_error(type(e).__name__, str(e))
    g.check(empty)
    return r


def _box_set(g, a, ts, p):
    b = g.b
    x = a[1] if is_boxed(ts[1]) else g.box(a[1], ts[1])
    r = b.call(g.capi("PyCell_Set", I32, [OBJ, OBJ]), [a[0], x])    # (takes its own reference)
    if not is_boxed(ts[1]):
        g.decref(x)
    g.check(b.icmp_signed("<", r, I32(0)))
    return I8(0)


# the cells of variables closures share (``closureintr.py``)
BOX_EMITTERS = {"box_new": _box_new, "box_get": _box_get, "box_set": _box_set}


def _new_mutable(g, a, ts, p):
    """A mutable struct, made natively (a new reference): the object allocated as
    ``object.__new__`` does (``PyType_GenericAlloc``: zeroed, tracked by the GC), each field
    stored in its slot (boxed, a reference of its own)."""
    t = p[0]
    obj = g.check_null(g.b.call(g.capi("PyType_GenericAlloc", OBJ, [OBJ, I64]),
                                [g.obj_const(("type", T.type_ref(t))), I64(0)]))
    for k, (x, xt) in enumerate(zip(a, ts)):
        if is_boxed(xt):
            g.incref(x)
        else:
            x = g.box(x, xt)
        g.b.store(x, g.field_slot(obj, t, k))
    return obj


EMITTERS["new_mutable"] = _new_mutable
EMITTERS["alloc_mutable"] = _new_mutable        # (no field: ``mutinit.py``)
OWNED_RESULTS.add("alloc_mutable")


def _c_abs(g, a, ts, p):
    """CPython's ``_Py_c_abs`` natively: infinities first, then libm's ``hypot``.  A finite
    ``hypot`` is the answer (an infinite part makes it infinite, a NaN one NaN), so the
    checks run only when it is not -- they sat on the critical path of every iteration of
    an escape-time loop (``abs(z) > 2.0``)."""
    b = g.b
    re, im = a
    fabs = g.mg.module.declare_intrinsic("llvm.fabs", [F64])
    h = b.call(g.mg.capi("hypot", F64, [F64, F64]), [re, im])
    out = g.alloca(F64)
    with b.if_else(b.fcmp_ordered("<", b.call(fabs, [h]), F64(float("inf"))),
                   likely=True) as (common, rare):
        with common:
            b.store(h, out)
        with rare:
            finite_parts = b.not_(b.or_(b.or_(_isnan(b, re), _isinf(b, re)),
                                        b.or_(_isnan(b, im), _isinf(b, im))))
            _math_error(g, b.and_(finite_parts, _isinf(b, h)), "OverflowError",
                        "absolute value too large")
            nan = ir.Constant(F64, float("nan"))
            special = b.select(_isinf(b, re), b.call(fabs, [re]),
                               b.select(_isinf(b, im), b.call(fabs, [im]), nan))
            b.store(b.select(finite_parts, h, special), out)
    return b.load(out)


EMITTERS["c_abs"] = _c_abs
OWNED_RESULTS.add("new_mutable")
OWNED_RESULTS.add("exc_fetch")


# ---------------------------------------------------------------------------------------------


def _call_args(v):
    """The arguments a call passes (a call of a value has the value first)."""
    return v.args[1:] if isinstance(v.func, (ValueCallee, KwValueCallee)) else v.args


def _spec_ref(params):
    """A portable form of an intrinsic's spec (element types by reference)."""
    return tuple(("T", T.type_ref(p)) if T.is_type(p) else
                 (_spec_ref(p) if isinstance(p, tuple) else p) for p in params)


class WrapperGen(_Emitter):
    """The METH_FASTCALL entry: unbox arguments, call, box the result."""

    def __init__(self, mg, ci, fn):
        # (its constant slots named after the wrapper, ``<symbol>.py.k<i>``: an image's
        # loader may leave a wrapper's slots for its first call, ``native.python_entry``)
        super().__init__(mg, ci.symbol + ".py")
        self.ci = ci
        self.fn = fn

    def generate(self):
        ci, fn = self.ci, self.fn
        self.b = b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.err_block = fn.append_basic_block("fail")
        self.check_bindings()
        args = [self.unbox(b.load(b.gep(fn.args[1], [I64(i)])), t)
                for i, t in enumerate(ci.mi.spec_types)]
        rt = ci.rettype
        ret = self.alloca(ret_lltype(rt))
        status = b.call(self.mg.native(ci), [ret] + args)
        self.check(b.icmp_signed("!=", status, I32(0)))
        if rt is T.Bottom:
            b.branch(self.err_block)
        else:
            v = b.load(ret)
            if is_boxed(rt):
                b.ret(v)                                 # boxed results are new references
            else:
                out = self.box(v, rt)
                self.decref_value(v, rt)                 # the native result's own references
                b.ret(out)
        b.position_at_end(self.err_block)
        b.ret(ir.Constant(OBJ, None))


    def check_bindings(self):
        """Before running code that took module globals as constants, make sure none was
        rebound since.  Every change to a dict bumps its ``ma_version_tag`` (CPython
        3.11-3.13, at offset 24 of the dict object); the wrapper keeps the tag it last saw
        per module, so the check is a load and a compare per module.  When the tag moved, a
        helper re-checks the globals this code (and the callees it calls directly) read,
        invalidates what was rebound, and the call is dispatched again, to code compiled
        against the new values.  A rebinding made by Python code that a running compiled
        call itself invokes takes effect from the next call from Python."""
        mods = sorted({m for c in _binding_closure(self.ci) for m, _, _ in c.bindings})
        if not mods or REFCOUNT is None:
            return
        b = self.b
        for k, mod in enumerate(mods):
            seen = ir.GlobalVariable(self.mg.module, I64, name=f"{self.fn.name}.ver{k}")
            seen.linkage = "internal"
            seen.initializer = I64(0)        # never a real tag: the first call checks
            d = self.obj_const(("moddict", mod))
            tag = b.load(b.bitcast(b.gep(d, [I64(24)]), I64.as_pointer()))
            with b.if_then(b.icmp_unsigned("!=", tag, b.load(seen)), likely=False):
                r = self.check_null(self.vectorcall(self.obj_const(("helper", "check_bindings")),
                                                    [self.obj_const(("str", mod))]))
                changed = b.icmp_unsigned("!=", r, self.obj_const(("none",)))
                self.decref(r)
                with b.if_else(changed) as (yes, no):
                    with yes:
                        f = self.ci.mi.method.function
                        fobj = self.obj_const(("func", f.module, f.qualname))
                        vc = self.capi("PyObject_Vectorcall", OBJ, [OBJ, OBJP, I64, OBJ])
                        b.ret(b.call(vc, [fobj, self.fn.args[1], self.fn.args[2],
                                          ir.Constant(OBJ, None)]))
                    with no:
                        b.store(tag, seen)


def _binding_closure(ci):
    """``ci`` and the instances its native code calls directly (inlined or not)."""
    out, seen, stack = [], set(), [ci]
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c)
        for info in c.stmt_info.values():
            for call in INF.static_calls(info):
                if call.mi.cache is not None:
                    stack.append(call.mi.cache)
        stack.extend(code for code in map(INS.code_of, c.callees) if code is not None)
    return out


__all__ = ["ModuleGen", "lltype", "is_boxed", "symbol_for"]

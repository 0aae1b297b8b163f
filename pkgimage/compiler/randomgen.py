"""Native code for ``random.random()``, ``random.uniform`` and ``random.gauss`` drawing from
Python's own generator.

Compiled code draws from the same Mersenne Twister as plain Python (``random``'s module
instance, ``random._inst``): a seeded run gives exactly plain Python's numbers, and
``random.seed`` from either side seeds both.  Calling ``random.random`` through the C API
cost a call, a float box and its unboxing per number -- more than the rest of a Monte Carlo
loop (``estimate_pi`` ran at 2.7x numba's time, ``simulate_call`` with ``gauss`` at 10x).
So native code runs CPython's own algorithm (``Modules/_randommodule.c``: ``genrand_uint32``
and ``random_random``) on the instance's state in place: the generator object's C struct is
``{PyObject_HEAD; int index; uint32_t state[624]}``.

That layout is CPython's, not a documented API, so it is checked before any code relies on
it (:func:`layout`): a fresh ``_random.Random`` is seeded and its state read both through
``getstate()`` and from memory at the offsets, before and after drawing numbers.  Where
the check fails (another implementation, a debug or free-threaded build, a future
CPython), these functions are not native and compiled code calls ``random.random`` as
before.  Images are keyed by the exact Python version, so code compiled under one layout
never runs under another; the constant slot naming the instance checks at link time that
it is still a ``_random.Random`` (``native._random_generator``, kind ``"mt"``).

``gauss`` keeps its second number where Python's does (the instance's ``gauss_next``
attribute), so calls from Python and from compiled code interleave exactly as in plain
Python.  Native versions are used for Float64 arguments only: ``uniform(a, b)`` on ints
computes ``b - a`` as a Python int, which int64 arithmetic need not reproduce.
"""

from __future__ import annotations

import ctypes
import math
import sys

from llvmlite import ir

from .. import types as T

I1, I8, I32, I64, F64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64), \
    ir.DoubleType()
OBJ = I8.as_pointer()

N, M = 624, 397
MATRIX_A, UPPER_MASK, LOWER_MASK = 0x9908B0DF, 0x80000000, 0x7FFFFFFF
INDEX_OFFSET, STATE_OFFSET = 16, 20      # after PyObject_HEAD (refcount, type: 16 bytes)
TWOPI = 2.0 * math.pi                    # (``random.TWOPI``)


def _reads_match(r):
    base = id(r)
    state = r.getstate()                 # (state[0..623], index) of the C generator
    index = ctypes.c_int.from_address(base + INDEX_OFFSET).value
    words = list((ctypes.c_uint32 * N).from_address(base + STATE_OFFSET))
    return index == state[-1] and words == list(state[:-1])


def _check_layout():
    from .codegen import REFCOUNT
    if REFCOUNT is None or sys.implementation.name != "cpython":
        return False
    try:
        import _random
        r = _random.Random()
        r.seed(20261202)
        if not _reads_match(r):
            return False
        for _ in range(N + 3):           # (through a regeneration of the whole state)
            r.random()
        return _reads_match(r)
    except Exception:  # noqa: BLE001 -- any surprise: not native
        return False


_LAYOUT = None


def layout():
    """Whether the generator's C layout is the one native code assumes (checked once)."""
    global _LAYOUT
    if _LAYOUT is None:
        _LAYOUT = _check_layout()
    return _LAYOUT


_ARGS = {"random_random": {()}, "random_uniform": {(T.Float64, T.Float64)},
         "random_gauss": {(T.Float64, T.Float64)}, "random_randint": {(T.Int64, T.Int64)},
         "random_randrange": {(T.Int64,), (T.Int64, T.Int64)}}


def native(name, argtypes):
    """Whether intrinsic ``name`` on ``argtypes`` gets native code here."""
    want = _ARGS.get(name)
    return want is not None and tuple(argtypes) in want and layout()


# -- the generator, as CPython's _randommodule.c -----------------------------------------------

def _ptrs(b, obj):
    index = b.bitcast(b.gep(obj, [I64(INDEX_OFFSET)]), I32.as_pointer())
    state = b.bitcast(b.gep(obj, [I64(STATE_OFFSET)]), I32.as_pointer())
    return index, state


def _refill(mg):
    """``pk.mt_refill(obj)``: the next 624 words of the state, in place, as
    ``genrand_uint32`` regenerates them: three runs, the word ``M`` ahead read from the old
    state in the first and from the words already replaced in the second and the last (one
    loop with the indices taken modulo ``N`` instead made every word cost two selects, and
    the draws 1.26x numba's)."""
    f = mg._decls.get("pk.mt_refill")
    if f is not None:
        return f
    f = ir.Function(mg.module, ir.FunctionType(ir.VoidType(), [OBJ]), name="pk.mt_refill")
    f.linkage = "internal"
    f.attributes.add("noinline")
    f.attributes.add("nounwind")
    mg._decls["pk.mt_refill"] = f
    b = ir.IRBuilder(f.append_basic_block("entry"))
    index, mt = _ptrs(b, f.args[0])

    def word(kk, k1, km):
        y = b.or_(b.and_(b.load(b.gep(mt, [kk])), I32(UPPER_MASK)),
                  b.and_(b.load(b.gep(mt, [k1])), I32(LOWER_MASK)))
        mag = b.select(b.trunc(y, I1), I32(MATRIX_A), I32(0))
        b.store(b.xor(b.xor(b.load(b.gep(mt, [km])), b.lshr(y, I32(1))), mag),
                b.gep(mt, [kk]))

    def run(lo, hi, ahead):
        """``for kk in range(lo, hi): mt[kk] = f(mt[kk], mt[kk + 1], mt[kk + ahead])``"""
        pre = b.block
        loop = f.append_basic_block(f"run{lo}")
        after = f.append_basic_block(f"after{lo}")
        b.branch(loop)
        b.position_at_end(loop)
        kk = b.phi(I64)
        kk.add_incoming(I64(lo), pre)
        nxt = b.add(kk, I64(1))
        word(kk, nxt, b.add(kk, I64(ahead)))
        kk.add_incoming(nxt, loop)
        b.cbranch(b.icmp_unsigned("==", nxt, I64(hi)), after, loop)
        b.position_at_end(after)

    run(0, N - M, M)
    run(N - M, N - 1, M - N)
    word(I64(N - 1), I64(0), I64(M - 1))
    b.store(I32(0), index)
    b.ret_void()
    return f


def _next(mg):
    """``pk.mt_next(obj) -> i32``: ``genrand_uint32`` (inlined where it is called)."""
    f = mg._decls.get("pk.mt_next")
    if f is not None:
        return f
    f = ir.Function(mg.module, ir.FunctionType(I32, [OBJ]), name="pk.mt_next")
    f.linkage = "internal"
    f.attributes.add("alwaysinline")
    f.attributes.add("nounwind")
    mg._decls["pk.mt_next"] = f
    b = ir.IRBuilder(f.append_basic_block("entry"))
    obj = f.args[0]
    index, mt = _ptrs(b, obj)
    # (CPython keeps the index in [0, N]: ``setstate`` refuses any other.  Compared and
    # widened as unsigned, it tells LLVM that ``mt[i]`` is past the index field, so that the
    # draws of one iteration keep it in a register instead of reloading it after every
    # store -- numba's generator was 1.26x faster on a loop of draws before this.)
    with b.if_then(b.icmp_unsigned(">=", b.load(index), I32(N)), likely=False):
        b.call(_refill(mg), [obj])
    i = b.load(index)
    b.store(b.add(i, I32(1)), index)
    y = b.load(b.gep(mt, [b.zext(i, I64)]))
    y = b.xor(y, b.lshr(y, I32(11)))
    y = b.xor(y, b.and_(b.shl(y, I32(7)), I32(0x9D2C5680)))
    y = b.xor(y, b.and_(b.shl(y, I32(15)), I32(0xEFC60000)))
    y = b.xor(y, b.lshr(y, I32(18)))
    b.ret(y)
    return f


def _random(g, obj):
    """``random_random``: 53 random bits as CPython makes them, a first, then b."""
    b = g.b
    nxt = _next(g.mg)
    a = b.uitofp(b.lshr(b.call(nxt, [obj]), I32(5)), F64)
    c = b.uitofp(b.lshr(b.call(nxt, [obj]), I32(6)), F64)
    return b.fmul(b.fadd(b.fmul(a, F64(67108864.0)), c), F64(1.0 / 9007199254740992.0))


def _generator(g):
    return g.obj_const(("mt",))


def emit_random(g, a, ts, p):
    return _random(g, _generator(g))


def emit_uniform(g, a, ts, p):
    """``a + (b - a) * random()`` (``random.uniform``)."""
    b = g.b
    lo, hi = a
    return b.fadd(lo, b.fmul(b.fsub(hi, lo), _random(g, _generator(g))))


def emit_gauss(g, a, ts, p):
    """``random.gauss(mu, sigma)``: ``z = self.gauss_next; self.gauss_next = None``; when
    ``z`` is None, two numbers from ``random()`` make a pair and the second is kept in
    ``gauss_next``; ``mu + z * sigma``.  (``gauss_next`` is written once per call: None
    when the kept number is used, the new one when a pair is made -- nothing can look at
    it in between.)"""
    b = g.b
    mu, sigma = a
    inst = gen = _generator(g)
    key = g.obj_const(("str", "gauss_next"))
    none = g.obj_const(("none",))
    # (the instance's own dict, as ``self.gauss_next`` reads and writes it: ``Random``
    # defines no descriptor of that name, and the dict stays the instance's)
    d = g.check_null(b.call(g.capi("PyObject_GenericGetDict", OBJ, [OBJ, OBJ]),
                            [inst, ir.Constant(OBJ, None)]))
    getitem = g.capi("PyDict_GetItemWithError", OBJ, [OBJ, OBJ])
    setitem = g.capi("PyDict_SetItem", I32, [OBJ, OBJ, OBJ])
    zobj = b.call(getitem, [d, key])
    with b.if_then(b.icmp_unsigned("==", zobj, ir.Constant(OBJ, None)), likely=False):
        # (no ``gauss_next`` -- deleted by hand: Python's AttributeError -- or an error)
        g.decref(d)
        b.call(g.capi("PyObject_GetAttr", OBJ, [OBJ, OBJ]), [inst, key])
        b.branch(g.err_block)
    g.incref(zobj)
    slot = g.alloca(F64)
    with b.if_else(b.icmp_unsigned("==", zobj, none)) as (fresh, kept):
        with fresh:
            x2pi = b.fmul(_random(g, gen), F64(TWOPI))
            log = b.call(g.capi("log", F64, [F64]), [b.fsub(F64(1.0), _random(g, gen))])
            sqrt = g.mg.module.declare_intrinsic("llvm.sqrt", [F64])
            g2rad = b.call(sqrt, [b.fmul(F64(-2.0), log)])
            b.store(b.fmul(b.call(g.capi("cos", F64, [F64]), [x2pi]), g2rad), slot)
            second = b.fmul(b.call(g.capi("sin", F64, [F64]), [x2pi]), g2rad)
            box = g.check_null(b.call(g.capi("PyFloat_FromDouble", OBJ, [F64]), [second]))
            failed = b.icmp_signed("<", b.call(setitem, [d, key, box]), I32(0))
            g.decref(box)
            with b.if_then(failed, likely=False):
                g.decref(zobj)
                g.decref(d)
                b.branch(g.err_block)
        with kept:
            failed = b.icmp_signed("<", b.call(setitem, [d, key, none]), I32(0))
            with b.if_then(failed, likely=False):
                g.decref(zobj)
                g.decref(d)
                b.branch(g.err_block)
            # (the float ``gauss`` itself left there is read in place; what Python's
            # ``mu + z * sigma`` does with anything else someone stored there is Python's
            # business: converted as ``PyFloat_AsDouble`` does)
            tp = b.load(b.bitcast(b.gep(zobj, [I64(8)]), OBJ.as_pointer()))
            isfloat = b.icmp_unsigned("==", tp, g.obj_const(("pyattr", "builtins", "float")))
            with b.if_else(isfloat, likely=True) as (exact, other):
                with exact:
                    b.store(b.load(b.bitcast(b.gep(zobj, [I64(16)]), F64.as_pointer())), slot)
                with other:
                    z = b.call(g.capi("PyFloat_AsDouble", F64, [OBJ]), [zobj])
                    err = b.call(g.capi("PyErr_Occurred", OBJ, []), [])
                    bad = b.and_(b.fcmp_ordered("==", z, F64(-1.0)),
                                 b.icmp_unsigned("!=", err, ir.Constant(OBJ, None)))
                    with b.if_then(bad, likely=False):
                        g.decref(zobj)
                        g.decref(d)
                        b.branch(g.err_block)
                    b.store(z, slot)
    g.decref(zobj)
    g.decref(d)
    return b.fadd(mu, b.fmul(b.load(slot), sigma))


def _getrandbits(g, obj, k):
    """``getrandbits(k)`` for ``1 <= k <= 63`` as CPython's C method makes it: the top
    ``k`` bits of one word when ``k <= 32``, else the first word as the low 32 bits and the
    top ``k - 32`` bits of the second above them."""
    b = g.b
    nxt = _next(g.mg)
    out = g.alloca(I64)
    with b.if_else(b.icmp_unsigned("<=", k, I64(32))) as (one, two):
        with one:
            w = b.zext(b.call(nxt, [obj]), I64)
            b.store(b.lshr(w, b.sub(I64(32), k)), out)
        with two:
            lo = b.zext(b.call(nxt, [obj]), I64)
            hi = b.lshr(b.zext(b.call(nxt, [obj]), I64), b.sub(I64(64), k))
            b.store(b.or_(lo, b.shl(hi, I64(32))), out)
    return b.load(out)


def _with_overflow(mod, op):
    """``llvm.<op>.with.overflow.i64``: {result, overflowed}."""
    name = f"llvm.{op}.with.overflow.i64"
    f = mod.globals.get(name)
    if f is None:
        f = ir.Function(mod, ir.FunctionType(ir.LiteralStructType([I64, I1]), [I64, I64]),
                        name=name)
    return f


def _randrange(g, start, stop, pyname, pyargs):
    """``start + _randbelow(stop - start)`` (``Random.randrange``'s unit-step path with
    ``_randbelow_with_getrandbits``: ``k = n.bit_length()``, draw ``getrandbits(k)`` until
    it is below ``n``), the numbers Python draws from the same state.  A width that is not
    positive or overflows int64 is Python's own call (its ValueError, or its exact answer)."""
    b = g.b
    mod = g.mg.module
    diff = b.call(_with_overflow(mod, "ssub"), [stop, start])
    n = b.extract_value(diff, 0)
    bad = b.or_(b.extract_value(diff, 1), b.icmp_signed("<=", n, I64(0)))
    out = g.alloca(I64)
    with b.if_else(bad, likely=False) as (python, here):
        with python:
            args = [g.box(a, T.Int64) for a in pyargs]
            r = g.vectorcall(g.obj_const(("pyattr", "random", pyname)), args)
            for a in args:
                g.decref(a)
            g.check_null(r)
            b.store(g.unbox(r, T.Int64), out)
            g.decref(r)
        with here:
            obj = _generator(g)
            ctlz = mod.globals.get("llvm.ctlz.i64") or ir.Function(
                mod, ir.FunctionType(I64, [I64, I1]), name="llvm.ctlz.i64")
            k = b.sub(I64(64), b.call(ctlz, [n, ir.Constant(I1, 0)]))
            loop = g.fn.append_basic_block("randbelow")
            done = g.fn.append_basic_block("randbelow.done")
            b.branch(loop)
            b.position_at_end(loop)
            r = _getrandbits(g, obj, k)
            b.cbranch(b.icmp_unsigned("<", r, n), done, loop)
            b.position_at_end(done)
            b.store(b.add(start, r), out)
    return b.load(out)


def emit_randint(g, a, ts, p):
    """``random.randint(a, b)``: ``randrange(a, b + 1)``."""
    b = g.b
    up = b.call(_with_overflow(g.mg.module, "sadd"), [a[1], I64(1)])
    # (b + 1 overflowing: Python's call, as for any width int64 cannot hold)
    stop = b.select(b.extract_value(up, 1), a[0], b.extract_value(up, 0))
    return _randrange(g, a[0], stop, "randint", a)


def emit_randrange(g, a, ts, p):
    """``random.randrange(stop)`` and ``randrange(start, stop)``."""
    if len(a) == 1:
        return _randrange(g, I64(0), a[0], "randrange", a)
    return _randrange(g, a[0], a[1], "randrange", a)


EMITTERS = {"random_random": emit_random, "random_uniform": emit_uniform,
            "random_gauss": emit_gauss, "random_randint": emit_randint,
            "random_randrange": emit_randrange}

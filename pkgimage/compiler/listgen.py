"""Native code of the hot ``List[T]`` intrinsics (``listintr.py``): length, element read and
write, append, and making a list; of ``Dict[K, V]``'s length, ``in``, ``d[k]`` and
``d[k] = v`` (``dictintr.py``), through CPython's own dict functions; and of ``Set[T]``'s
making, length, ``in`` and ``add`` (``setintr.py``), through CPython's set functions.  The others run their Python implementation (a list
method call costs what it costs in Python anyway).

A list is the ``PyListObject`` itself.  Where the interpreter's layout is known (the same
condition as inline reference counting, ``codegen.REFCOUNT``: CPython 3.11-3.13, 64-bit,
not a debug or free-threaded build) its size and item array are read in place --
``ob_size`` at byte 16, ``ob_item`` at 24 (``native()``); elsewhere every list intrinsic
runs its Python implementation.  An element read checks
the element's class for ``Float64`` and ``Int64`` (the hot cases) before reading its value,
so a list Python code changed behind compiled code's back raises ``TypeError`` instead of
being misread; other element types are converted by the checked ``unbox``.
"""

from __future__ import annotations

from llvmlite import ir

from .. import types as T
from .codegen import F64, I32, I64, I8, OBJ, OBJP, REFCOUNT, VOID, is_boxed, is_managed

_SIZE, _ITEMS = 2, 3            # PyListObject fields, in 8-byte words


def _word(g, obj, k, ty):
    b = g.b
    return b.load(b.gep(b.bitcast(obj, ty.as_pointer()), [I64(k)]))


def list_length(g, v):
    return _word(g, v, _SIZE, I64)


def _slot(g, v, i, message):
    """Address of element ``i`` (negative counts from the end), or IndexError(message)."""
    b = g.b
    n = list_length(g, v)
    j = b.select(b.icmp_signed("<", i, I64(0)), b.add(i, n), i)
    with b.if_then(b.icmp_unsigned(">=", j, n), likely=False):
        g.set_error("IndexError", message)
        b.branch(g.err_block)
    return b.gep(_word(g, v, _ITEMS, OBJP), [j])


def _type_error_unless(g, obj, t):
    b = g.b
    cls = _word(g, obj, 1, OBJ)
    want = g.obj_const(("pytype", T.type_ref(t)))
    with b.if_then(b.icmp_unsigned("!=", cls, want), likely=False):
        g.set_error("TypeError", f"a list element compiled code reads as {t} is no longer "
                                 f"one (the list was changed by Python code)")
        b.branch(g.err_block)


def _emit_len(g, a, ts, p):
    return list_length(g, a[0])


def _emit_get(g, a, ts, p):
    b = g.b
    el = ts[0].__pk_eltype__
    item = b.load(_slot(g, a[0], a[1], "list index out of range"))
    if is_boxed(el):
        g.incref(item)                    # owned: the list may drop it before we do
        return item
    if el is T.Float64 and REFCOUNT is not None:
        _type_error_unless(g, item, el)
        return _word(g, item, 2, F64)     # PyFloatObject.ob_fval
    if el is T.Int64:
        _type_error_unless(g, item, el)
    return g.owned_item(item, el)[0]


def _emit_set(g, a, ts, p):
    b = g.b
    ptr = _slot(g, a[0], a[1], "list assignment index out of range")
    new = _boxed(g, a[2], ts[2])
    old = b.load(ptr)
    b.store(new, ptr)
    g.decref(old)
    return I8(0)


def _status_call(g, name, a, ts):
    """``name(a[0], boxed a[1:]...)`` for a CPython function that returns -1 with an
    exception set on failure (raised from here) and a status otherwise (returned)."""
    b = g.b
    boxed = [_boxed(g, x, t) for x, t in zip(a[1:], ts[1:])]
    r = b.call(g.capi(name, I32, [OBJ] * len(a)), [a[0], *boxed])
    for x in boxed:
        g.decref(x)
    g.check(b.icmp_signed("<", r, I32(0)))
    return r


def _emit_append(g, a, ts, p):
    _status_call(g, "PyList_Append", a, ts)
    return I8(0)


def _emit_new(g, a, ts, p):
    b = g.b
    lst = g.check_null(b.call(g.capi("PyList_New", OBJ, [I64]), [I64(len(a))]))
    for i, (x, t) in enumerate(zip(a, ts)):
        b.call(g.capi("PyList_SetItem", I32, [OBJ, I64, OBJ]),      # steals the reference
               [lst, I64(i), _boxed(g, x, t)])
    return lst


def _emit_unpack_check(g, a, ts, p):
    """``a, b, c = v``: a tuple's length was checked when compiling; a list's is compared
    here, and a mismatch raises Python's ValueError (its message made by the Python
    implementation, which only then runs)."""
    t = ts[0]
    if not T.is_list(t):
        return I8(0)
    b = g.b
    n = list_length(g, a[0])
    with b.if_then(b.icmp_signed("!=", n, I64(p[0])), likely=False):
        from .codegen import _spec_ref
        g.call_helper(("intrinsic", "unpack_check"), [g.obj_const(("spec", _spec_ref(p))),
                                                      a[0]])
    return I8(0)


def _emit_note(g, a, ts, p):
    return I8(0)                          # (for inference only)


def _boxed(g, x, t):
    """A new reference to a Python object for ``x`` (native value of type ``t``)."""
    if is_boxed(t):
        g.incref(x)
        return x
    return g.box(x, t)


def _slice_object(g, parts):
    """A new ``slice(lo, hi, step)`` from (native value, type) pairs, None for an absent or
    ``None`` part."""
    b = g.b
    boxed, owned = [], []
    for x, t in parts:
        if x is None or t is T.Nothing:
            boxed.append(g.obj_const(("none",)))
        else:
            o = _boxed(g, x, t)
            boxed.append(o)
            owned.append(o)
    sl = b.call(g.capi("PySlice_New", OBJ, [OBJ, OBJ, OBJ]), boxed)
    for o in owned:
        g.decref(o)
    return g.check_null(sl)


# -- slices without a slice object -----------------------------------------------------------
#
# ``perm[:k+1] = perm[k::-1]`` (fannkuch-redux) spent a third of its time making, unpacking
# and freeing ``slice`` objects and boxing their bounds.  Where the bounds are integers (or
# absent) the indices are adjusted here as ``PySlice_Unpack`` and ``PySlice_AdjustIndices``
# do, and the list or string is sliced by index: ``PyList_GetSlice``/``PyList_SetSlice``/
# ``PyUnicode_Substring`` for a unit step, a copy loop for a list with another step.

def _index_part(x, t):
    return x is None or t is T.Nothing or t is T.Int64


def _clamp(g, x, n, default, low, high):
    """A slice bound as ``PySlice_AdjustIndices`` makes it: absent -> ``default``; negative ->
    counted from the end, then ``low`` if still negative; past the end -> ``high``."""
    b = g.b
    if x is None:
        return default
    neg = b.icmp_signed("<", x, I64(0))
    y = b.select(neg, b.add(x, n), x)
    y = b.select(b.and_(neg, b.icmp_signed("<", y, I64(0))), low, y)
    return b.select(b.and_(b.not_(neg), b.icmp_signed(">=", x, n)), high, y)


def _unit_bounds(g, n, lo, hi):
    """(start, stop) of ``[lo:hi]`` on a sequence of length ``n``."""
    return _clamp(g, lo, n, I64(0), I64(0), n), _clamp(g, hi, n, n, I64(0), n)


def _stepped_bounds(g, n, lo, hi, step):
    """(start, step, length) of ``[lo:hi:step]``, ``step`` a run-time value (zero: Python's
    ValueError)."""
    b = g.b
    with b.if_then(b.icmp_signed("==", step, I64(0)), likely=False):
        g.set_error("ValueError", "slice step cannot be zero")
        b.branch(g.err_block)
    step = b.select(b.icmp_signed("<", step, I64(-(2 ** 63 - 1))), I64(-(2 ** 63 - 1)), step)
    back = b.icmp_signed("<", step, I64(0))
    last = b.sub(n, I64(1))
    start = _clamp(g, lo, n, b.select(back, last, I64(0)), b.select(back, I64(-1), I64(0)),
                   b.select(back, last, n))
    stop = _clamp(g, hi, n, b.select(back, I64(-1), n), b.select(back, I64(-1), I64(0)),
                  b.select(back, last, n))
    down = b.add(b.sdiv(b.sub(b.sub(start, stop), I64(1)), b.sub(I64(0), step)), I64(1))
    up = b.add(b.sdiv(b.sub(b.sub(stop, start), I64(1)), step), I64(1))
    length = b.select(back, b.select(b.icmp_signed("<", stop, start), down, I64(0)),
                      b.select(b.icmp_signed("<", start, stop), up, I64(0)))
    return start, step, length


def _stepped_list(g, v, start, step, length):
    """A new list of ``v``'s items ``start, start + step, ...`` (``length`` of them)."""
    b = g.b
    out = g.check_null(b.call(g.capi("PyList_New", OBJ, [I64]), [length]))
    src, dst = _word(g, v, _ITEMS, OBJP), _word(g, out, _ITEMS, OBJP)
    with _counted_loop(g, length) as i:
        item = b.load(b.gep(src, [b.add(start, b.mul(i, step))]))
        g.incref(item)
        b.store(item, b.gep(dst, [i]))
    return out


class _counted_loop:
    """``for i in range(n):`` around the body built inside the ``with`` block."""

    def __init__(self, g, n):
        self.g, self.n = g, n

    def __enter__(self):
        g, b = self.g, self.g.b
        self.pre = b.block
        self.body = g.fn.append_basic_block("slice.copy")
        self.done = g.fn.append_basic_block("slice.done")
        b.cbranch(b.icmp_signed(">", self.n, I64(0)), self.body, self.done)
        b.position_at_end(self.body)
        self.i = b.phi(I64)
        self.i.add_incoming(I64(0), self.pre)
        return self.i

    def __exit__(self, *exc):
        b = self.g.b
        nxt = b.add(self.i, I64(1))
        self.i.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_signed("<", nxt, self.n), self.body, self.done)
        b.position_at_end(self.done)
        return False


def _native_slice(g, a, ts, p):
    """The slice by index, or None where the bounds are not integers (a slice object then)."""
    vals = list(zip(a[1:], ts[1:]))
    lo, hi, step = [vals.pop(0) if given else (None, None) for given in p[0][1:]]
    if not all(_index_part(x, t) for x, t in (lo, hi, step)):
        return None
    lo, hi, step = (None if t in (None, T.Nothing) else x for x, t in (lo, hi, step))
    b, v = g.b, a[0]
    if ts[0] is T.String:
        if step is not None:
            return None
        n = b.call(g.capi("PyUnicode_GetLength", I64, [OBJ]), [v])
        start, stop = _unit_bounds(g, n, lo, hi)
        return g.check_null(b.call(g.capi("PyUnicode_Substring", OBJ, [OBJ, I64, I64]),
                                   [v, start, stop]))
    n = list_length(g, v)
    if step is None:
        start, stop = _unit_bounds(g, n, lo, hi)
        return g.check_null(b.call(g.capi("PyList_GetSlice", OBJ, [OBJ, I64, I64]),
                                   [v, start, stop]))
    return _stepped_list(g, v, *_stepped_bounds(g, n, lo, hi, step))


def _emit_getslice(g, a, ts, p):
    """``v[lo:hi:step]`` of a list or string: a new object, as CPython's slicing makes it."""
    r = _native_slice(g, a, ts, p)
    if r is not None:
        return r
    vals = list(zip(a[1:], ts[1:]))
    parts = [vals.pop(0) if given else (None, None) for given in p[0][1:]]
    sl = _slice_object(g, parts)
    r = g.b.call(g.capi("PyObject_GetItem", OBJ, [OBJ, OBJ]), [a[0], sl])
    g.decref(sl)
    return g.check_null(r)


def _emit_setslice(g, a, ts, p):
    """``v[lo:hi:step] = xs``: CPython's own slice assignment (its errors too)."""
    b = g.b
    parts = list(zip(a[1:4], ts[1:4]))
    xs = _boxed(g, a[4], ts[4])
    if all(_index_part(x, t) for x, t in parts) and ts[3] is T.Nothing:
        # (a unit step: ``list_ass_slice`` on the adjusted bounds, as Python's does)
        lo, hi = (None if t is T.Nothing else x for x, t in parts[:2])
        start, stop = _unit_bounds(g, list_length(g, a[0]), lo, hi)
        r = b.call(g.capi("PyList_SetSlice", I32, [OBJ, I64, I64, OBJ]), [a[0], start, stop, xs])
    else:
        sl = _slice_object(g, parts)
        r = b.call(g.capi("PyObject_SetItem", I32, [OBJ, OBJ, OBJ]), [a[0], sl, xs])
        g.decref(sl)
    g.decref(xs)
    g.check(b.icmp_signed("<", r, I32(0)))
    return I8(0)


# At most this many elements are moved within a list through a buffer on the stack; a longer
# move takes a new list, as Python's own assignment does.
_WITHIN = 32


def _source_bounds(g, n, lo, hi, step):
    """(start, step, length) of ``[lo:hi:step]``, ``step`` None for a unit step."""
    if step is not None:
        return _stepped_bounds(g, n, lo, hi, step)
    start, stop = _unit_bounds(g, n, lo, hi)
    return start, I64(1), _span(g, start, stop)


def _span(g, start, stop):
    """The length of ``[start:stop]`` with adjusted bounds (none when ``stop <= start``)."""
    b = g.b
    return b.select(b.icmp_signed(">", stop, start), b.sub(stop, start), I64(0))


def _emit_setslice_within(g, a, ts, p):
    """``v[lo:hi] = v[lo2:hi2:step2]`` (``perm[:k+1] = perm[k::-1]``: fannkuch-redux's flip):
    when the two ranges have the same length, up to ``_WITHIN`` elements, the elements are
    moved within the list through a buffer on the stack, with no list made for the right
    side: the source items are taken (a reference each), stored over the target range, and
    the items they replace released after every store, as ``list_ass_slice`` releases
    them.  Any other case -- another length, a stepped target -- makes the right side's list
    and assigns it as Python does (its errors too)."""
    b, v = g.b, a[0]
    lo, hi, step, lo2, hi2, step2 = (None if t is T.Nothing else x for x, t in zip(a[1:], ts[1:]))
    n = list_length(g, v)
    start2, step2, count = _source_bounds(g, n, lo2, hi2, step2)
    general = g.fn.append_basic_block("within.general")
    done = g.fn.append_basic_block("within.done")
    if step is None:
        start, stop = _unit_bounds(g, n, lo, hi)
        fits = b.and_(b.icmp_signed("==", _span(g, start, stop), count),
                      b.icmp_signed("<=", count, I64(_WITHIN)))
        inplace = g.fn.append_basic_block("within.inplace")
        b.cbranch(fits, inplace, general)
        b.position_at_end(inplace)
        buf = g.entry_alloca(ir.ArrayType(OBJ, _WITHIN))
        slots = b.gep(buf, [I64(0), I64(0)])
        items = _word(g, v, _ITEMS, OBJP)
        with _counted_loop(g, count) as i:
            item = b.load(b.gep(items, [b.add(start2, b.mul(i, step2))]))
            g.incref(item)
            b.store(item, b.gep(slots, [i]))
        with _counted_loop(g, count) as i:
            at = b.gep(items, [b.add(start, i)])
            old = b.load(at)
            b.store(b.load(b.gep(slots, [i])), at)
            b.store(old, b.gep(slots, [i]))
        with _counted_loop(g, count) as i:
            g.decref(b.load(b.gep(slots, [i])))
        b.branch(done)
    else:
        b.branch(general)
    b.position_at_end(general)
    src = _stepped_list(g, v, start2, step2, count)
    _emit_setslice(g, list(a[:4]) + [src], tuple(ts[:4]) + (ts[0],), p)   # (Python's own)
    g.decref(src)
    b.branch(done)
    b.position_at_end(done)
    return I8(0)


# -- dicts: the ``dict`` object through CPython's own functions (hashing, equality, errors) --

def _emit_dict_len(g, a, ts, p):
    return g.b.call(g.capi("PyDict_Size", I64, [OBJ]), [a[0]])


def _emit_dict_contains(g, a, ts, p):
    return g.b.trunc(_status_call(g, "PyDict_Contains", a, ts), I8)


def _emit_dict_getitem(g, a, ts, p):
    """``d[k]``: the value (a new reference if it holds any), or Python's ``KeyError(k)``."""
    b = g.b
    k = _boxed(g, a[1], ts[1])
    item = b.call(g.capi("PyDict_GetItemWithError", OBJ, [OBJ, OBJ]), [a[0], k])
    with b.if_then(b.icmp_unsigned("==", item, OBJ(None)), likely=False):
        err = b.call(g.capi("PyErr_Occurred", OBJ, []), [])
        with b.if_then(b.icmp_unsigned("==", err, OBJ(None))):
            b.call(g.capi("PyErr_SetObject", VOID, [OBJ, OBJ]),
                   [g.obj_const(("exc", "KeyError")), k])
        g.decref(k)
        b.branch(g.err_block)
    g.decref(k)
    return g.owned_item(item, ts[0].__pk_valtype__)[0]   # (the dict may drop it first)


def _emit_dict_setitem(g, a, ts, p):
    _status_call(g, "PyDict_SetItem", a, ts)
    return I8(0)


# -- sets: the ``set`` object through CPython's own functions (hashing, equality, errors) ----

def _emit_set_new(g, a, ts, p):
    """``{a, b}``, ``set()``: ``PySet_New`` and an add of each element (Python's order)."""
    b = g.b
    s = g.check_null(b.call(g.capi("PySet_New", OBJ, [OBJ]), [OBJ(None)]))
    for x, t in zip(a, ts):
        item = _boxed(g, x, t)
        r = b.call(g.capi("PySet_Add", I32, [OBJ, OBJ]), [s, item])
        g.decref(item)
        with b.if_then(b.icmp_signed("<", r, I32(0)), likely=False):
            g.decref(s)                   # (an unhashable element: Python's TypeError)
            b.branch(g.err_block)
    return s


def _emit_set_len(g, a, ts, p):
    return g.b.call(g.capi("PySet_Size", I64, [OBJ]), [a[0]])


def _emit_set_contains(g, a, ts, p):
    return g.b.trunc(_status_call(g, "PySet_Contains", a, ts), I8)


def _emit_set_add(g, a, ts, p):
    _status_call(g, "PySet_Add", a, ts)
    return I8(0)


def _is_seq_slice(name, argtypes):
    return name == "arr_view" and argtypes and (argtypes[0] is T.String or
                                                T.is_list(argtypes[0]))


def emitter(name, argtypes):
    """The emitter of a list (or string) intrinsic call here, by name and argument types
    (``arr_view`` of a list or string is a slice, of an array a view: ``codegen``'s)."""
    return _emit_getslice if _is_seq_slice(name, argtypes) else EMITTERS.get(name)


# name -> emitter; an emitter here takes list arguments as they are (boxed)
EMITTERS = {"list_len": _emit_len, "list_get": _emit_get, "list_set": _emit_set,
            "list_append": _emit_append, "list_new": _emit_new, "list_note": _emit_note,
            "unpack_check": _emit_unpack_check, "list_setslice": _emit_setslice,
            "list_setslice_within": _emit_setslice_within,
            "dict_len": _emit_dict_len, "dict_contains": _emit_dict_contains,
            "dict_getitem": _emit_dict_getitem, "dict_setitem": _emit_dict_setitem,
            "set_new": _emit_set_new, "set_len": _emit_set_len,
            "set_contains": _emit_set_contains, "set_add": _emit_set_add}
OWNED = {"list_new", "set_new"}         # results that are new references


def native(name, info):
    """Is this list intrinsic call generated here (else it runs as Python)?"""
    return (name in EMITTERS or _is_seq_slice(name, info.argtypes)) and \
        REFCOUNT is not None and not info.dynamic


def owned_result(name, argtypes):
    """Does the emitter's result hold a new reference (``list_get`` of a boxed or managed
    element type)?"""
    if name in OWNED or _is_seq_slice(name, argtypes):
        return True
    if name == "dict_getitem":
        return is_managed(argtypes[0].__pk_valtype__)
    return name == "list_get" and is_managed(argtypes[0].__pk_eltype__)

"""Native code for building and printing strings: f-strings (``str_format``; the frontend
makes ``"{:d} {:d}".format(i, j)`` with a literal format one too) and ``print``
(``py_print``).

Both ran their Python implementations (``strintr.format_parts``, ``intrinsics.py_print``):
a Python frame, a loop over the parts and a ``format`` call per value -- more than the
formatting itself, and more than CPython's own ``FORMAT_VALUE``/``BUILD_STRING`` spend, so
the Julia micro-benchmark ``printfd`` ran at twice CPython's time.  Here each value is
formatted as CPython's f-string does it (its conversion, ``PyObject_Str``/``Repr``/``ASCII``,
then ``PyObject_Format`` with the literal spec -- an exact ``str`` with no spec is itself)
and the parts are joined by ``PyUnicode_Join``; ``print`` is the builtin ``print`` called
with the values and its keywords, looked up in the builtins at each call (as Python's name
lookup does) and writing to the *current* ``sys.stdout`` or ``sys.stderr`` -- so results,
errors and redirection are Python's.
"""

from __future__ import annotations

from llvmlite import ir

from .. import types as T
from .codegen import I8, I32, I64, OBJ, REFCOUNT, is_boxed

I8P = I8.as_pointer()

_CONV = {"s": "PyObject_Str", "r": "PyObject_Repr", "a": "PyObject_ASCII"}


def native(name, info):
    """Is this intrinsic call generated here (else it runs as Python)?"""
    return name in EMITTERS and REFCOUNT is not None and not info.dynamic


def _fail_if_null(g, obj, owned, error=None):
    """Jump to the error exit when ``obj`` is NULL, releasing the new references in
    ``owned`` first (and raising ``error``, (exception name, message), if given: a NULL
    that set none)."""
    b = g.b
    with b.if_then(b.icmp_unsigned("==", obj, ir.Constant(OBJ, None)), likely=False):
        for o in owned:
            g.decref(o)
        if error is not None:
            g.set_error(*error)
        b.branch(g.err_block)
    return obj


def _value(g, v, t, conv, spec, owned):
    """A new reference to ``format(conv(v), spec)``, as an f-string's ``{v!conv:spec}``."""
    b = g.b
    obj = g.box(v, t) if not is_boxed(t) else v        # (boxed: borrowed)
    mine = not is_boxed(t)
    if mine:
        _fail_if_null(g, obj, owned)
    if conv:
        c = b.call(g.capi(_CONV[conv], OBJ, [OBJ]), [obj])
        if mine:
            g.decref(obj)
        obj, mine = _fail_if_null(g, c, owned), True
        if not spec:
            return obj      # (``str``/``repr``/``ascii`` give a str: CPython formats no further)
    out = b.call(g.capi("PyObject_Format", OBJ, [OBJ, OBJ]), [obj, g.obj_const(("str", spec))])
    if mine:
        g.decref(obj)
    return _fail_if_null(g, out, owned)


# -- integers and ASCII text, written into one buffer -----------------------------------------
#
# ``f"{i} {j}\n"`` and ``"{:d} {:d}\n".format(i, j)`` -- Julia's ``printfd`` -- made an int
# object, a string and a format-spec parse per value, then a tuple and a join: as slow as
# Python's own ``str.format``.  When every value is a signed integer printed in decimal and
# every literal is short ASCII, the digits and the literals are written into one stack buffer
# and the string is made once.

_LITERAL_MAX = 64               # (longer literals take the general path: a store per byte)


def _decimal(t, conv, spec):
    return t.__pk_kind__ == "primitive" and not t.__pk_float__ and t.__pk_signed__ and \
        t is not T.Bool and spec in ("", "d") and conv in ("", "s", "r", "a")


def _digits_fn(mg):
    """``pk.fmt_i64(v, out) -> n``: the decimal digits of ``v`` (a '-' first when negative)
    written at ``out``; their count."""
    f = mg._decls.get("pk.fmt_i64")
    if f is not None:
        return f
    f = ir.Function(mg.module, ir.FunctionType(I64, [I64, I8P]), name="pk.fmt_i64")
    f.linkage = "internal"
    f.attributes.add("nounwind")
    mg._decls["pk.fmt_i64"] = f
    v, out = f.args
    b = ir.IRBuilder(f.append_basic_block("entry"))
    neg = b.icmp_signed("<", v, I64(0))
    u = b.select(neg, b.sub(I64(0), v), v)          # (unsigned: -INT64_MIN is 2**63)
    with b.if_then(neg):
        b.store(I8(ord("-")), out)
    start = b.zext(neg, I64)
    entry = b.block
    count = f.append_basic_block("count")
    write = f.append_basic_block("write")
    done = f.append_basic_block("done")
    b.branch(count)
    b.position_at_end(count)
    t = b.phi(I64)
    n = b.phi(I64)
    t.add_incoming(u, entry)
    n.add_incoming(I64(1), entry)
    t2 = b.udiv(t, I64(10))
    n2 = b.add(n, I64(1))
    t.add_incoming(t2, count)
    n.add_incoming(n2, count)
    end = b.add(start, n)
    b.cbranch(b.icmp_unsigned("!=", t2, I64(0)), count, write)
    b.position_at_end(write)
    j = b.phi(I64)
    w = b.phi(I64)
    j.add_incoming(end, count)
    w.add_incoming(u, count)
    j2 = b.sub(j, I64(1))
    b.store(b.trunc(b.add(b.urem(w, I64(10)), I64(ord("0"))), I8), b.gep(out, [j2]))
    w2 = b.udiv(w, I64(10))
    j.add_incoming(j2, write)
    w.add_incoming(w2, write)
    b.cbranch(b.icmp_unsigned("!=", w2, I64(0)), write, done)
    b.position_at_end(done)
    b.ret(end)
    return f


def _decimal_parts(g, parts, vals, owned):
    """The string of ``parts`` whose values are all decimal integers, or None when the
    parts are not all such (``_decimal``) and short ASCII literals."""
    vals = list(vals)
    if not vals or not all(_decimal(t, p[1], p[2]) for p, (_, t) in
                           zip([p for p in parts if p[0] == "v"], vals)) or \
            not all(p[1].isascii() and len(p[1]) <= _LITERAL_MAX for p in parts if p[0] == "s"):
        return None
    b = g.b
    size = sum(len(p[1]) for p in parts if p[0] == "s") + 20 * len(vals)
    buf = b.bitcast(g.alloca(ir.ArrayType(I8, size)), I8P)
    pos = I64(0)
    it = iter(vals)
    for p in parts:
        if p[0] == "s":
            for k, ch in enumerate(p[1].encode("ascii")):
                b.store(I8(ch), b.gep(buf, [b.add(pos, I64(k))]))
            pos = b.add(pos, I64(len(p[1])))
        else:
            v, t = next(it)
            v = b.sext(v, I64) if v.type != I64 else v
            pos = b.add(pos, b.call(_digits_fn(g.mg), [v, b.gep(buf, [pos])]))
    out = b.call(g.capi("PyUnicode_FromStringAndSize", OBJ, [I8P, I64]), [buf, pos])
    return _fail_if_null(g, out, owned)


def format_parts(g, parts, vals, owned):
    """A new reference to the string of f-string ``parts`` (("s", text) or ("v", conversion,
    spec)) with the values ``vals`` ((native value, type) each, in order)."""
    b = g.b
    fast = _decimal_parts(g, parts, vals, owned)
    if fast is not None:
        return fast
    vals = iter(vals)
    if len(parts) == 1 and parts[0][0] == "v":
        v, t = next(vals)
        return _value(g, v, t, parts[0][1], parts[0][2], owned)
    tup = _fail_if_null(g, b.call(g.capi("PyTuple_New", OBJ, [I64]), [I64(len(parts))]), owned)
    setitem = g.capi("PyTuple_SetItem", I32, [OBJ, I64, OBJ])
    for i, p in enumerate(parts):
        if p[0] == "s":
            item = g.obj_const(("str", p[1]))
            g.incref(item)
        else:
            v, t = next(vals)
            item = _value(g, v, t, p[1], p[2], owned + [tup])
        b.call(setitem, [tup, I64(i), item])        # (steals the item)
    out = b.call(g.capi("PyUnicode_Join", OBJ, [OBJ, OBJ]), [g.obj_const(("str", "")), tup])
    g.decref(tup)
    return _fail_if_null(g, out, owned)


def emit_format(g, args, argtypes, parts):
    return format_parts(g, parts, list(zip(args, argtypes)), [])


def emit_print(g, args, argtypes, spec):
    """``print(items..., sep=, end=, file=, flush=)``: the builtin, with the keywords that
    are not its defaults."""
    b = g.b
    items, sep, end, file, flush = spec
    owned, pos = [], []
    if file == "*":                       # (a file given as a value: the last one)
        (fv, ft), args, argtypes = (args[-1], argtypes[-1]), args[:-1], argtypes[:-1]
        fobj = fv if is_boxed(ft) else _fail_if_null(g, g.box(fv, ft), owned)
        if not is_boxed(ft):
            owned.append(fobj)
    vals = iter(zip(args, argtypes))
    for it in items:
        if it[0] == "s":
            pos.append(g.obj_const(("str", it[1])))
        elif it[0] == "v":
            v, t = next(vals)
            if is_boxed(t):
                pos.append(v)
            else:
                obj = _fail_if_null(g, g.box(v, t), owned)
                owned.append(obj)
                pos.append(obj)
        else:
            n = sum(1 for p in it[1] if p[0] == "v")
            obj = format_parts(g, it[1], [next(vals) for _ in range(n)], owned)
            owned.append(obj)
            pos.append(obj)
    names, kw = [], []
    if sep != " ":
        names.append("sep")
        kw.append(g.obj_const(("str", sep)))
    if end != "\n":
        names.append("end")
        kw.append(g.obj_const(("str", end)))
    if file:
        names.append("file")
        kw.append(fobj if file == "*" else _sys_stream(g, file, owned))
    if flush:
        names.append("flush")
        kw.append(g.obj_const(("pyattr", "builtins", "True")))
    builtins = b.call(g.capi("PyEval_GetBuiltins", OBJ, []), [])
    fn = _fail_if_null(g, b.call(g.capi("PyDict_GetItemWithError", OBJ, [OBJ, OBJ]),
                                 [builtins, g.obj_const(("str", "print"))]),
                       owned, ("NameError", "name 'print' is not defined"))
    kwnames = g.obj_const(("kwnames", tuple(names))) if names else None
    r = g.vectorcall(fn, pos + kw, kwnames, len(names))
    for o in owned:
        g.decref(o)
    g.decref(g.check_null(r))
    return I8(0)


def _sys_stream(g, name, owned):
    """``sys.<name>`` now (borrowed), or Python's RuntimeError when it is gone."""
    stream = g.b.call(g.capi("PySys_GetObject", OBJ, [OBJ]),
                      [g.b.bitcast(g.mg.cstring(name), OBJ)])
    return _fail_if_null(g, stream, owned, ("RuntimeError", f"lost sys.{name}"))


def emit_sysattr(g, args, argtypes, spec):
    stream = _sys_stream(g, spec[0], [])
    g.incref(stream)
    return stream


EMITTERS = {"str_format": emit_format, "py_print": emit_print, "py_sysattr": emit_sysattr}
OWNED = {"str_format", "py_sysattr"}           # (results that are new references)

"""Small unions of bits types held unboxed in native code (Julia's isbits-union layout).

Python code changes a variable's type as it goes: ``total = 0`` then ``total += x * y`` makes
``total`` a ``Union[Float64, Int64]``, and ``best = None`` then ``best = i`` a
``Union[Int64, Nothing]``.  Held as a Python object, such a variable costs an allocation at
every assignment -- in an inner loop, most of the loop's time.  Julia stores a union of bits
types as a selector byte beside the bits of the member it holds; a variable of such a type
here is the same: an LLVM ``{i8 tag, i64 payload}``, where tag ``k`` (1-based) names the k-th
member of the union (``__pk_members__`` order) and tag 0 means not yet assigned.

The layout is codegen's business only, and only for a function's own variables: arguments,
results, struct fields, tuple items and container elements of union types stay boxed, so no
ABI or stored layout depends on it.  A value crosses into the boxed world (a call of a
generic function on the union, a return) by boxing the member it holds, and comes back by
testing the Python class of the object (``codegen.FunctionGen.store_var``).
"""

from __future__ import annotations

from llvmlite import ir

I8 = ir.IntType(8)
I64 = ir.IntType(64)
TAGGED = ir.LiteralStructType([I8, I64])


def bits_union(t):
    """Is ``t`` a union whose members are all primitives (at most 64 bits) or ``Nothing``?"""
    if t.__pk_kind__ != "union" or not t.__pk_members__:
        return False
    return all(m.__pk_kind__ == "nothing" or
               (m.__pk_kind__ == "primitive" and m.__pk_bits__ <= 64)
               for m in t.__pk_members__)


def tag_of(u, t):
    """The tag of member ``t`` in union ``u`` (1-based)."""
    return u.__pk_members__.index(t) + 1


def to_payload(b, v, t):
    """The 64 bits of member value ``v`` (native representation of type ``t``)."""
    if t.__pk_kind__ == "nothing":
        return I64(0)
    if v.type == I64:
        return v
    if isinstance(v.type, ir.DoubleType):
        return b.bitcast(v, I64)
    if isinstance(v.type, ir.FloatType):
        return b.zext(b.bitcast(v, ir.IntType(32)), I64)
    return b.zext(v, I64)


def from_payload(b, p, t, lt):
    """Member ``t``'s native value (LLVM type ``lt``) from its 64 payload bits."""
    if t.__pk_kind__ == "nothing":
        return I8(0)
    if lt == I64:
        return p
    if isinstance(lt, ir.DoubleType):
        return b.bitcast(p, lt)
    if isinstance(lt, ir.FloatType):
        return b.bitcast(b.trunc(p, ir.IntType(32)), lt)
    return b.trunc(p, lt)


def make(b, tag, payload):
    """The tagged value ``{tag, payload}``."""
    val = b.insert_value(ir.Constant(TAGGED, ir.Undefined), tag, 0)
    return b.insert_value(val, payload, 1)


def retag(b, v, src, dst):
    """A tagged value of union ``src`` as one of union ``dst`` (whose members include
    ``src``'s): the same payload under ``dst``'s tag for the member."""
    if src is dst:
        return v
    tag = b.extract_value(v, 0)
    new = I8(0)
    for k, m in enumerate(src.__pk_members__, 1):
        new = b.select(b.icmp_unsigned("==", tag, I8(k)), I8(tag_of(dst, m)), new)
    return b.insert_value(v, new, 0)


def is_member(u, t):
    return u.__pk_kind__ == "union" and t in u.__pk_members__

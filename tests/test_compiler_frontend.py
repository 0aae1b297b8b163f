"""The frontend: the supported subset of Python compiles and behaves like Python; everything
else is a CompileError that says where (file:line:col) and what, at the first call or at
pk.precompile, and no internal exception ever escapes.

Supported constructs are exercised by methods defined in this file (the compiler reads their
source) and compared with the same bodies run as plain Python (``method.pyfunc``).  Bad bodies
are loaded as throwaway modules with a known file name (``load_module``), so each test knows
the exact line the error must point at.
"""

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import Bool, Float32, Float64, Int8, Int64, Rational, Real, Vector

FILE = "/virtual/pkg/frontend_case.py"


@pk.struct
class FPoint:
    x: Int64
    y: Float64


@pk.struct
class FSeg:
    a: FPoint
    b: FPoint


ORIGIN = FPoint(0, 0.0)
SCALE = 3
HALF = 0.5


# -- supported constructs ---------------------------------------------------------------------

@pk.generic
def literals_and_locals(x: Int64):
    a = 3
    b = 2.5
    c = True
    d = -7
    e = None
    return a + b + c + d + x


@pk.generic
def arithmetic(x: Int64, y: Int64):
    return (x + y) * 1000000 + (x - y) * 10000 + (x * y) * 100 + x // y + x % y + x ** 2 - (-x) + (+y)


@pk.generic
def true_division(x: Int64, y: Int64):
    return x / y


@pk.generic
def comparisons(x: Int64, y: Float64):
    n = 0
    if x < y:
        n += 1
    if x <= y:
        n += 2
    if x > y:
        n += 4
    if x >= y:
        n += 8
    if x == y:
        n += 16
    if x != y:
        n += 32
    return n


@pk.generic
def chained(a: Int64, b: Int64, c: Int64):
    return (a < b < c) + 2 * (a <= b == c) + 4 * (a != b != c) + 8 * (0 < a < b < c < 100)


@pk.generic
def bump(v: Vector[Int64]):
    v[0] += 1
    return v[0]


@pk.generic
def chain_evaluates_middle_once(v: Vector[Int64]):
    return 0 < bump(v) < 100


@pk.generic
def chain_short_circuits(v: Vector[Int64]):
    return 5 < 3 < bump(v)


@pk.generic
def bool_ops(x: Int64, y: Int64):
    return (x and y) * 100 + (x or y) * 10 + (not x)


@pk.generic
def and_short_circuits(v: Vector[Int64], flag: Bool):
    return flag and bump(v) > 0


@pk.generic
def or_short_circuits(v: Vector[Int64], flag: Bool):
    return flag or bump(v) > 0


@pk.generic
def if_elif_else(x: Int64):
    if x < 0:
        r = -1
    elif x == 0:
        r = 0
    elif x < 10:
        r = 1
    else:
        r = 2
    return r


@pk.generic
def conditional_expression(x: Float64):
    return 1.0 if x > 0.5 else (0.0 if x > -0.5 else -1.0)


@pk.generic
def while_break_continue(n: Int64):
    i = 0
    s = 0
    while True:
        i += 1
        if i > n:
            break
        if i % 3 == 0:
            continue
        s += i
    return s


@pk.generic
def range_one(n: Int64):
    s = 0
    for i in range(n):
        s = s * 3 + i
    return s


@pk.generic
def range_two(a: Int64, b: Int64):
    s = 0
    for i in range(a, b):
        s = s * 3 + i
    return s


@pk.generic
def range_three(a: Int64, b: Int64, c: Int64):
    s = 0
    for i in range(a, b, c):
        s = s * 7 + i
    return s


@pk.generic
def range_small_ints(n: Int8):
    s = 0
    for i in range(n):
        s += i
    return s


@pk.generic
def range_target_rebound(n: Int64):
    s = 0
    stop = n
    for i in range(stop):
        s += i
        i = 100
        stop = 0
    return s


@pk.generic
def for_vector_break_continue(v: Vector[Float64]):
    s = 0.0
    for e in v:
        if e < 0.0:
            continue
        if e > 100.0:
            break
        s += e
    return s


@pk.generic
def nested_loops(n: Int64):
    count = 0
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            if (i + j) % 2 == 1:
                continue
            count += 1
    return count


@pk.generic
def assignments(x: Int64):
    a = b = x
    a += 1
    b -= 2
    a *= 3
    b //= 2
    c = 17
    c %= 5
    d = 2.0
    d /= 4
    e = 3
    e **= 3
    return a * 1000000 + b * 1000 + c * 100 + d + e


@pk.generic
def annotated(x: Int64):
    y: Int8 = 100
    z: Float32 = x
    return y + z


@pk.generic
def vector_ops(v: Vector[Float64]):
    v[0] = v[-1] * 2.0
    v[1] += 10.0
    v[-1] -= 1.0
    i = 2
    v[i] *= 3.0
    v[-2] /= 2.0
    return len(v) + v[0]


@pk.generic
def bare_return(x: Int64):
    if x > 0:
        return
    return None


@pk.generic
def no_return(x: Int64):
    """A docstring is not code."""
    x = x + 1


@pk.generic
def passes(x: Int64):
    pass


@pk.generic
def sq(x: Real):
    return x * x


@pk.generic
def calls_and_structs(x: Int64, y: Float64):
    p = FPoint(x, y)
    q = FPoint(sq(x), sq(y))
    s = FSeg(p, q)
    return s.b.x + s.a.y + ORIGIN.x + SCALE * HALF


@pk.generic
def make_struct(x: Int64):
    return FSeg(FPoint(x, 0.5), FPoint(-x, 1.5))


@pk.generic
def builtins_len_abs_min_max_int_float(v: Vector[Float64], k: Int64):
    return len(v) + abs(k) + min(k, 3) + max(k, 3) + int(2.75) + float(k) + int(-2.75)


@pk.generic
def rational_in_compiled_code(n: Int64, d: Int64):
    r = Rational[Int64](n, d) + Rational[Int64](1, 3)
    return r.num * 1000 + r.den


SUPPORTED = [
    (literals_and_locals, (5,)),
    (arithmetic, (7, 3)),
    (arithmetic, (-7, 3)),
    (arithmetic, (7, -3)),
    (true_division, (7, 2)),
    (true_division, (-7, 4)),
    (comparisons, (2, 2.0)),
    (comparisons, (2, 2.5)),
    (comparisons, (3, 2.5)),
    (chained, (1, 2, 3)),
    (chained, (1, 3, 3)),
    (chained, (3, 2, 1)),
    (chained, (2, 2, 2)),
    (bool_ops, (0, 5)),
    (bool_ops, (3, 0)),
    (bool_ops, (3, 5)),
    (if_elif_else, (-5,)),
    (if_elif_else, (0,)),
    (if_elif_else, (5,)),
    (if_elif_else, (50,)),
    (conditional_expression, (0.9,)),
    (conditional_expression, (0.0,)),
    (conditional_expression, (-0.9,)),
    (while_break_continue, (10,)),
    (while_break_continue, (0,)),
    (range_one, (6,)),
    (range_one, (0,)),
    (range_one, (-3,)),
    (range_two, (-2, 4)),
    (range_two, (4, -2)),
    (range_three, (0, 10, 3)),
    (range_three, (10, 0, -3)),
    (range_three, (10, -1, -1)),
    (range_three, (0, 10, -1)),
    (range_three, (-5, 5, 4)),
    (range_target_rebound, (5,)),
    (nested_loops, (6,)),
    (assignments, (10,)),
    (assignments, (-7,)),
    (bare_return, (1,)),
    (bare_return, (-1,)),
    (no_return, (1,)),
    (passes, (1,)),
    (calls_and_structs, (3, 1.5)),
    (make_struct, (4,)),
]


def python_type(v):
    return pk.typeof(v)


@pytest.mark.parametrize("f,args", SUPPORTED, ids=lambda a: getattr(a, "name", None))
def test_supported_construct_behaves_like_python(f, args):
    (m,) = f.methods
    expected = m.pyfunc(*args)
    got = f(*args)
    assert got == expected
    assert pk.typeof(got) is python_type(expected)


def test_range_over_small_integer_type():
    assert range_small_ints(np.int8(5)) == 10


def test_for_over_vector_with_break_and_continue():
    v = np.array([1.0, -5.0, 2.5, 200.0, 7.0])
    assert for_vector_break_continue(v) == 3.5
    assert for_vector_break_continue(np.array([], dtype=np.float64)) == 0.0


def test_vector_index_assignment_and_augmented_index_assignment():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    w = v.copy()
    expected = vector_ops.methods[0].pyfunc(w)
    assert vector_ops(v) == expected
    np.testing.assert_array_equal(v, w)
    assert list(v) == [8.0, 12.0, 4.5, 3.0]


def test_chained_comparison_evaluates_the_middle_operand_once():
    v = np.array([0], dtype=np.int64)
    assert chain_evaluates_middle_once(v) is True
    assert v[0] == 1
    assert chain_short_circuits(v) is False
    assert v[0] == 1


def test_and_or_short_circuit():
    v = np.array([0], dtype=np.int64)
    assert and_short_circuits(v, False) is False
    assert v[0] == 0
    assert and_short_circuits(v, True) is True
    assert v[0] == 1
    assert or_short_circuits(v, True) is True
    assert v[0] == 1
    assert or_short_circuits(v, False) is True
    assert v[0] == 2


def test_annotated_assignment_converts_to_the_annotated_primitive():
    r = annotated(3)
    assert r == 103.0 and pk.typeof(r) is Float32


def test_builtins_len_abs_min_max_int_float():
    v = np.array([1.0, 2.0])
    assert builtins_len_abs_min_max_int_float(v, -4) == \
        builtins_len_abs_min_max_int_float.methods[0].pyfunc(v, -4)
    assert builtins_len_abs_min_max_int_float(v, 9) == 2 + 9 + 3 + 9 + 2 + 9.0 - 2


def test_struct_constructed_in_compiled_code_comes_back_as_its_class():
    s = make_struct(4)
    assert type(s) is FSeg
    assert s == FSeg(FPoint(4, 0.5), FPoint(-4, 1.5))


def test_rational_constructor_written_with_a_subscript_in_compiled_code():
    # 3//6 + 1//3 == 1//2 + 1//3 == 5//6;  -1//3 + 1//3 == 0//1
    assert rational_in_compiled_code(3, 6) == 5006
    assert rational_in_compiled_code(-1, 3) == 1


# -- pk.error -----------------------------------------------------------------------------------

@pk.generic
def checked_sqrt(x: Float64):
    if x < 0.0:
        pk.error("negative input")
    return x ** 0.5


@pk.generic
def checked_index(v: Vector[Float64], i: Int64):
    if i >= len(v):
        pk.error(f"index {i} is past the end ({len(v)} elements); first is {v[0]}")
    return v[i]


def test_pk_error_raises_error_exception_with_the_message():
    assert checked_sqrt(4.0) == 2.0
    with pytest.raises(pk.ErrorException, match="^negative input$"):
        checked_sqrt(-1.0)


def test_pk_error_with_an_f_string_formats_the_values():
    v = np.array([1.5, 2.0])
    assert checked_index(v, 1) == 2.0
    with pytest.raises(pk.ErrorException) as info:
        checked_index(v, 7)
    assert str(info.value) == "index 7 is past the end (2 elements); first is 1.5"


# -- locals read before assignment -----------------------------------------------------------

@pk.generic
def maybe_assigned(x: Int64):
    if x > 0:
        z = x * 10
    return z


@pk.generic
def unassigned_on_one_path(x: Int64):
    if x > 0:
        y = 1
    else:
        return y
    return y


@pk.generic
def loop_variable_after_loop(n: Int64):
    for i in range(n):
        pass
    return i


@pk.generic
def assigned_later_in_loop(n: Int64):
    s = 0
    for i in range(n):
        if i > 0:
            s = s + z
        z = i
    return s


def test_local_read_before_assignment_raises_like_python():
    assert maybe_assigned(2) == 20
    with pytest.raises(UnboundLocalError, match="local variable 'z'"):
        maybe_assigned(-2)
    with pytest.raises(UnboundLocalError):
        maybe_assigned.methods[0].pyfunc(-2)


def test_local_unassigned_on_the_path_taken_raises_only_when_reached():
    assert unassigned_on_one_path(1) == 1
    with pytest.raises(UnboundLocalError, match="local variable 'y'"):
        unassigned_on_one_path(0)


def test_loop_variable_after_an_empty_loop_raises():
    assert loop_variable_after_loop(4) == 3
    with pytest.raises(UnboundLocalError, match="local variable 'i'"):
        loop_variable_after_loop(0)


def test_declared_but_never_assigned_local_raises_when_read():
    @pk.generic
    def declared_only(x: Int64):
        y: Int8
        if x > 0:
            return x
        return y

    assert declared_only(3) == 3
    with pytest.raises(UnboundLocalError, match="local variable 'y'"):
        declared_only(-3)


def test_local_assigned_later_in_the_loop_body_is_defined_on_later_iterations():
    assert assigned_later_in_loop(5) == assigned_later_in_loop.methods[0].pyfunc(5) == 6


@pk.generic
def assigned_later_behind_another_guard(n: Int64):
    s = 0
    for i in range(n):
        if i > 1:
            s = s + z
        if i > 0:
            z = y + 1
        y = i
    return s


def test_local_defined_later_in_loop_after_another_guard_compiles():
    assert assigned_later_behind_another_guard(5) == \
        assigned_later_behind_another_guard.methods[0].pyfunc(5) == 6


# -- closures and globals -------------------------------------------------------------------

def test_method_defined_in_a_function_reads_its_closure_constants():
    k = 7
    w = 0.25

    @pk.generic
    def scaled(x: Int64):
        return x * k + w

    assert scaled(2) == 14.25


# -- unsupported constructs -------------------------------------------------------------------

HEADER = """\
import pkgimage as pk
from pkgimage import *
import math
G = [1, 2]
SETG = frozenset({1, 2})
def plain_helper(y):
    return y
S = "text"
@pk.struct
class P:
    x: Int64
@pk.generic
def f(x):
"""
BODY_LINE = HEADER.count("\n") + 1      # the first body line


UNSUPPORTED = [
    # (body, construct named in the message, line offset of the construct inside the body)
    ("try:\n    y = x\nexcept* Exception:\n    y = 0\nreturn y", "TryStar", 0),
    ("with x:\n    return 1", "With", 0),
    ("g = lambda *a: a\nreturn 1", "lambda with *args or keywords", 0),
    ("@staticmethod\ndef g():\n    return 1\nreturn 1", "nested def with decorators", 1),
    ("class A:\n    pass\nreturn 1", "ClassDef", 0),
    ("a, *b = x, x\nreturn a", "starred assignment target", 0),
    ("return {**x}", "** in a dict literal", 0),
    ("return {*x}", "* in a set literal", 0),
    ("y = 1\nreturn b'abc' * y", "bytes literal", 1),
    ("return b'abc'", "bytes literal", 0),
    ("return ...", "ellipsis literal", 0),
    ("x[1:2] += x\nreturn x", "augmented assignment to a slice", 0),
    ("return abs(x=x)", "keyword arguments", 0),
    ("return (1).bit_length()", "type Int64 has no method 'bit_length'", 0),
    ("return (1)(x)", "a value of type Int64 is not callable", 0),
    ("return SETG", "global 'SETG' of type frozenset", 0),
    ("return S.encode()", "type String has no method 'encode'", 0),
    ("return math", "global 'math' of type module", 0),
    ("return plain_helper(x)", "call of plain_helper", 0),
    ("print(x, foo=1)\nreturn x", "keyword argument 'foo' of print()", 0),
    ("print(x, sep=str(x))\nreturn x", "print(sep=...) other than a string literal", 0),
    ("return isinstance(x, x)", "isinstance() of something other than a compile-time", 0),
    ("return Int64", "type Int64 used as a value", 0),
    ("return Vector[Float64]", "type Vector[Float64] used as a value", 0),
    ("return Real(x)", "call of type Real", 0),
    ("return P.x", "attribute of a type", 0),
    ("return undefined_name", "'undefined_name' is not defined", 0),
    ("import os\nreturn 1", "Import", 0),
    ("del x\nreturn 1", "Delete", 0),
    ("class E(Exception):\n    pass\nraise E", "ClassDef", 0),
    ("yield x", "Yield", 0),
    ("return x << 1", "operator LShift", 0),
    ("return ~x", "operator Invert", 0),
    ("x.y = 1\nreturn x", "a value of type Int64 has no assignable field 'y'", 0),
    ("x.y += 1\nreturn x", "type Int64 has no field 'y'", 0),
    ("if (y := x):\n    return y\nreturn 0", "NamedExpr", 0),
    ("for a.b in range(2):\n    pass\nreturn 1", "name 'a' is not defined", 0),
    ("for i in zip():\n    pass\nreturn 1", "zip() with these arguments", 0),
    ("for i in range(1, 2, 3, 4):\n    pass\nreturn 1", "range", 0),
    ("for i in range(stop=3):\n    pass\nreturn 1", "range", 0),
    ("r = range(1, 2, 3, 4)\nreturn 1", "range() takes 1 to 3 positional arguments", 0),
    ("return f'{x:{x}}'", "a computed format spec", 0),
    ("pk.error('a', 'b')", "pk.error takes one message argument", 0),
    ("pk.error(f'{x:5d}')", "format spec", 0),
    ("return pk.typeof(x, x)", "typeof takes one argument", 0),
    # (``len`` is a base function: ``len(*t)`` compiles for a tuple ``t``, not an int)
    ("return len(*x)", "f(*x) needs x to be a tuple of known length", 0),
    ("return ...", "ellipsis literal", 0),
    ("return 100000000000000000000000", "does not fit in Int64", 0),
    ("match x:\n    case 1:\n        return 1\nreturn 0", "Match", 0),
    ("return x.nofield", "has no field 'nofield'", 0),
]


def _module_for(load_module, body):
    src = HEADER + "".join("    " + line + "\n" for line in body.split("\n"))
    return load_module(src, filename=FILE)


@pytest.mark.parametrize("body,construct,offset", UNSUPPORTED,
                         ids=[u[1] for u in UNSUPPORTED])
def test_unsupported_construct_is_a_located_compile_error(load_module, body, construct, offset):
    mod = _module_for(load_module, body)
    with pytest.raises(pk.CompileError) as info:
        mod.f(1)
    msg = str(info.value)
    line = BODY_LINE + offset
    assert msg.startswith(f"{FILE}:{line}:"), msg
    col = msg[len(f"{FILE}:{line}:"):].split(":", 1)[0]
    assert col.isdigit() and int(col) >= 1, msg
    assert construct in msg, msg
    assert info.value.filename == FILE and info.value.line == line


@pytest.mark.parametrize("body,construct", [
    ("return {*x}", "set literal"),
    ("g = lambda *a: a\nreturn 1", "lambda with \\*args or keywords"),
    ("return SETG", "global 'SETG'"),
])
def test_unsupported_construct_is_reported_by_precompile(load_module, body, construct):
    mod = _module_for(load_module, body)
    with pytest.raises(pk.CompileError, match=construct) as info:
        pk.precompile(mod.f, (Int64,))
    assert str(info.value).startswith(f"{FILE}:{BODY_LINE}:")


def test_compile_error_column_points_at_the_construct(load_module):
    mod = _module_for(load_module, "y = 1\nreturn y + {x, *x}")
    with pytest.raises(pk.CompileError) as info:
        mod.f(1)
    # "    return y + {x, *x}": the set starts at column 16 (1-based)
    assert str(info.value).startswith(f"{FILE}:{BODY_LINE + 1}:16: ")
    assert info.value.col == 16


def test_compile_error_is_raised_again_on_every_call_and_other_code_still_works(load_module):
    mod = _module_for(load_module, "return {*x}")
    for _ in range(2):
        with pytest.raises(pk.CompileError, match="set literal"):
            mod.f(1)
    assert literals_and_locals(1) == literals_and_locals.methods[0].pyfunc(1)


def test_compile_error_in_a_callee_names_the_callee_source(load_module):
    mod = load_module("""\
import pkgimage as pk
@pk.generic
def inner(x):
    return {*x}
@pk.generic
def outer(x):
    return inner(x) + 1
""", filename=FILE)
    with pytest.raises(pk.CompileError) as info:
        mod.outer(1)
    assert str(info.value).startswith(f"{FILE}:4:")


BAD_BODIES = [body for body, _, _ in UNSUPPORTED] + [
    "return x.real",
    "return x[0]",
    "return len(x)",
    "return abs(x, x)",
    "return None + 1",
    "return P(x, x)",
    "x[0] = 1\nreturn x",
    "for i in range(x):\n    pass\nreturn 1",
    "for e in x:\n    pass\nreturn 1",
    "return pk.compiler.intrinsics.intr.add_int(x, 1.0)",
    "return pk.compiler.intrinsics.intr.nosuch(x)",
    "return Union[Int64, Float64](x)",
    "return Vector[Float64](x)",
    "return Vector[undefined_name]",
    "return pk.Rational[Float64](x, 1)",
    "return pk.nosuchattribute",
    "return pk.error",
    "return f",
    "return f(x, x, x)",
    "return " + "+".join(["x"] * 1000),
    "return " + "-" * 1000 + "x",
    "return not P(1)",
    "y: NoSuchType = 1\nreturn y",
    "if x:\n    y = 1\nreturn y.z",
    "return x < 'a'",
    "return -x.y.z",
]

BAD_ARGS = [(1,), (2.5,), (True,), (np.int8(3),), (np.array([1.0, 2.0]),),
            (np.array([1, 2], dtype=np.int64),)]


def test_bad_bodies_raise_only_compile_or_method_errors(load_module):
    """Whatever the body and the argument types, what comes out of a call is a CompileError
    (for code outside the subset) or a MethodError (for calls no method applies to), never
    an internal exception (KeyError, AttributeError, llvmlite errors, ...)."""
    seen, bad = set(), []
    for body in BAD_BODIES:
        mod = _module_for(load_module, body)
        for args in BAD_ARGS:
            try:
                mod.f(*args)
            except (pk.CompileError, pk.MethodError) as e:
                seen.add(pk.CompileError if isinstance(e, pk.CompileError) else pk.MethodError)
                if isinstance(e, pk.CompileError):
                    assert str(e).startswith(("/", "<")), (body, e)
            except Exception as e:  # the failure we are looking for
                bad.append(f"body {body[:60]!r} with {args!r} raised {type(e).__name__}: {e}")
    assert not bad, "\n".join(bad)
    assert seen == {pk.CompileError, pk.MethodError}

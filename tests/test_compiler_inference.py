"""Inference: recursion terminates, loops reach a fixed point with variables that change type,
abstract element types become run-time dispatch (and the abstract MethodInstance of seed 004),
and return types are what the code can return."""

import io

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import AbstractFloat, Bool, Float32, Float64, Int64, Real, Union, Vector
from pkgimage.compiler.instances import methodinstance


def ci_of(f, types):
    mi = methodinstance(f, tuple(types))
    assert mi is not None, (f, types)
    return mi.cache


def tree(mi):
    buf = io.StringIO()
    pk.print_tree(mi, file=buf)
    return buf.getvalue()


# -- recursion ---------------------------------------------------------------------------------

@pk.generic
def fib(n: Int64):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@pk.generic
def is_even(n: Int64):
    return True if n == 0 else is_odd(n - 1)


@pk.generic
def is_odd(n: Int64):
    return False if n == 0 else is_even(n - 1)


@pk.generic
def half_or_one(n: Int64):
    if n == 0:
        return 0.5
    if n == 1:
        return 1
    return half_or_one(n - 2)


@pk.generic
def ackermann(m: Int64, n: Int64):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def test_self_recursion_terminates_and_is_concrete():
    assert fib(20) == 6765
    ci = ci_of(fib, (Int64,))
    assert ci.rettype is Int64 and ci.valid


def test_mutual_recursion_terminates():
    assert is_even(10) is True and is_odd(7) is True and is_even(7) is False
    assert ci_of(is_even, (Int64,)).rettype is Bool
    assert ci_of(is_odd, (Int64,)).rettype is Bool
    # each calls the other: backedges both ways
    mi_even = methodinstance(is_even, (Int64,))
    mi_odd = methodinstance(is_odd, (Int64,))
    assert mi_odd in mi_even.backedges and mi_even in mi_odd.backedges


def test_recursion_with_a_union_return_type():
    assert half_or_one(10) == 0.5 and pk.typeof(half_or_one(10)) is Float64
    assert half_or_one(11) == 1 and pk.typeof(half_or_one(11)) is Int64
    assert ci_of(half_or_one, (Int64,)).rettype is Union[Float64, Int64]


def test_doubly_recursive_call_with_a_recursive_argument():
    assert ackermann(2, 3) == 9
    assert ci_of(ackermann, (Int64, Int64)).rettype is Int64


# -- loops reach a fixed point -----------------------------------------------------------------

@pk.generic
def accumulate(n: Int64):
    s = 0
    for i in range(n):
        s += 1.5
    return s


@pk.generic
def cycles_through_types(n: Int64):
    x = 0
    for i in range(n):
        if i % 3 == 0:
            x = 1.5
        elif i % 3 == 1:
            x = True
        else:
            x = i
    return x


@pk.generic
def widening_while(n: Int64):
    x = 1
    i = 0
    while i < n:
        x = x * 2 if i % 2 == 0 else x / 4
        i += 1
    return x


def test_variable_that_changes_type_in_a_loop():
    assert accumulate(3) == 4.5 and pk.typeof(accumulate(3)) is Float64
    assert accumulate(0) == 0 and pk.typeof(accumulate(0)) is Int64
    # sound (a union-splitting inference gives exactly the union; without it, Any)
    assert pk.issubtype(Union[Float64, Int64], ci_of(accumulate, (Int64,)).rettype)


@pytest.mark.parametrize("n", range(6))
def test_loop_variable_cycling_through_three_types(n):
    expected = cycles_through_types.methods[0].pyfunc(n)
    got = cycles_through_types(n)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_loop_with_int_then_float_values(n):
    got = widening_while(n)
    expected = widening_while.methods[0].pyfunc(n)
    assert got == expected and pk.typeof(got) is pk.typeof(expected)


# -- abstract element types: run-time dispatch (seed 004) --------------------------------------

@pk.generic
def double(x: Real):
    return 2 * x


@pk.generic
def calldouble(container):
    return double(container[0])


@pk.generic
def calldouble2(container):
    return calldouble(container)


def test_seed_004_method_instances_and_backedges():
    assert pk.methodinstances(double) == []
    assert calldouble2(np.array([1.0])) == 2.0
    (mi,) = pk.methodinstances(double)
    assert repr(mi) == "MethodInstance for double(::Float64)"
    assert methodinstance(double, (Int64,)) is None
    assert tree(mi) == ("MethodInstance for double(::Float64)\n"
                        "└─ MethodInstance for calldouble(::Vector[Float64])\n"
                        "   └─ MethodInstance for calldouble2(::Vector[Float64])\n")

    cabs = Vector[AbstractFloat]([np.float32(1.0)])
    r = calldouble2(cabs)
    assert r == 2.0 and pk.typeof(r) is Float32
    mis = pk.methodinstances(double)
    assert [repr(m) for m in mis] == ["MethodInstance for double(::Float64)",
                                      "MethodInstance for double(::AbstractFloat)",
                                      "MethodInstance for double(::Float32)"]
    assert tree(mis[0]) == ("MethodInstance for double(::Float64)\n"
                            "└─ MethodInstance for calldouble(::Vector[Float64])\n"
                            "   └─ MethodInstance for calldouble2(::Vector[Float64])\n")
    assert tree(mis[1]) == "MethodInstance for double(::AbstractFloat)\n"
    assert tree(mis[2]) == "MethodInstance for double(::Float32)\n"
    assert mis[1].backedges == [] and mis[2].backedges == []

    cds = pk.methodinstances(calldouble)
    assert [repr(m) for m in cds] == ["MethodInstance for calldouble(::Vector[Float64])",
                                      "MethodInstance for calldouble(::Vector[AbstractFloat])"]
    assert tree(cds[1]) == ("MethodInstance for calldouble(::Vector[AbstractFloat])\n"
                            "└─ MethodInstance for calldouble2(::Vector[AbstractFloat])\n")


@pk.generic
def sum_abstract(v: Vector[AbstractFloat]):
    s = 0.0
    for e in v:
        s = s + double(e)
    return s


@pk.generic
def first_of(v):
    return v[0]


def test_abstract_element_call_dispatches_at_run_time_on_each_element():
    v = Vector[AbstractFloat]([1.0, np.float32(2.5), 3.0])
    assert sum_abstract(v) == 13.0
    ci = ci_of(sum_abstract, (Vector[AbstractFloat],))
    from pkgimage.compiler.inference import DynamicCall
    assert any(isinstance(i, DynamicCall) and i.function is double
               for i in ci.stmt_info.values())
    # the call's result is Any: the code depends on no method of ``double`` (a method added
    # later is found by the run-time dispatch), so it keeps no edge to invalidate it by
    assert not any(e.function is double for e in ci.edges)
    # the abstract instance exists only to bound the return type: it is never called
    mi = methodinstance(double, (AbstractFloat,))
    assert mi is not None and mi.cache is not None and mi.cache.needs_native is False


def test_element_of_abstract_vector_keeps_its_concrete_type():
    v = Vector[Real]([np.int8(3), 2.5])
    assert first_of(v) == 3 and pk.typeof(first_of(v)) is pk.Int8
    assert ci_of(first_of, (Vector[Real],)).rettype is Real


# -- return types --------------------------------------------------------------------------------

@pk.generic
def returns_nothing_or_int(x: Int64):
    if x > 0:
        return x


@pk.generic
def always_throws(x: Int64):
    pk.error("never returns")


def test_return_types():
    assert returns_nothing_or_int(2) == 2 and returns_nothing_or_int(-2) is None
    assert ci_of(returns_nothing_or_int, (Int64,)).rettype is Union[Int64, pk.Nothing]
    with pytest.raises(pk.ErrorException):
        always_throws(1)
    assert ci_of(always_throws, (Int64,)).rettype is pk.Bottom


def test_inference_result_is_cached_per_method_instance():
    assert fib(10) == 55
    ci = ci_of(fib, (Int64,))
    assert fib(12) == 144
    assert ci_of(fib, (Int64,)) is ci
    assert methodinstance(fib, (Int64,)).cache is ci


def test_a_call_chain_far_deeper_than_pythons_recursion_limit_compiles(load_module):
    """Inference recurses into callees: a chain of 1,500 functions needs far more frames than
    Python's default limit of 1,000 (it failed from a depth of ~200)."""
    import sys
    n = 1500
    src = ["import pkgimage as pk", "from pkgimage import Int64", "",
           "@pk.generic", "def f_0(x: Int64):", "    return x + 1", ""]
    for i in range(1, n):
        src += ["@pk.generic", f"def f_{i}(x: Int64):", f"    return f_{i - 1}(x) + 1", ""]
    mod = load_module("\n".join(src))
    limit = sys.getrecursionlimit()
    assert getattr(mod, f"f_{n - 1}")(1) == n + 1
    assert sys.getrecursionlimit() == limit          # restored afterwards

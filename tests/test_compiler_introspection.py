"""Introspection: pk.methodinstances, MethodInstance.backedges, pk.print_tree,
pk.code_typed and pk.code_llvm show what the compiler made."""

import io

import numpy as np

import pkgimage as pk
from pkgimage import AbstractFloat, Float64, Int64, Real, Vector
from pkgimage.compiler.instances import methodinstance


@pk.generic
def twice(x: Real):
    return 2 * x


@pk.generic
def twice_first(v):
    return twice(v[0])


@pk.generic
def twice_first_plus_one(v):
    return twice_first(v) + 1


@pk.generic
def loop_sum(n: Int64):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s += i
    return s


def printed_tree(mi):
    buf = io.StringIO()
    pk.print_tree(mi, file=buf)
    return buf.getvalue()


def test_methodinstances_lists_each_specialisation_once():
    assert pk.methodinstances(twice) == []
    twice(1)
    twice(2)
    twice(1.5)
    mis = pk.methodinstances(twice)
    assert [mi.spec_types for mi in mis] == [(Int64,), (Float64,)]
    assert all(mi.def_ is twice.methods[0] for mi in mis)
    assert repr(mis[0]) == "MethodInstance for twice(::Int64)"
    assert methodinstance(twice, (Int64,)) is mis[0]
    assert methodinstance(twice, (pk.Int8,)) is None


def test_backedges_point_from_callee_to_callers():
    assert twice_first_plus_one(np.array([3.0])) == 7.0
    mi_twice = methodinstance(twice, (Float64,))
    mi_first = methodinstance(twice_first, (Vector[Float64],))
    mi_top = methodinstance(twice_first_plus_one, (Vector[Float64],))
    assert mi_first in mi_twice.backedges
    assert mi_twice.backedges.count(mi_first) == 1
    assert mi_first.backedges == [mi_top]
    assert mi_top.backedges == []
    # the base method twice calls knows twice as a caller too (seed 004, box 2)
    mi_mul = methodinstance(pk.base.mul, (Int64, Float64))
    assert mi_twice in mi_mul.backedges


def test_print_tree_draws_the_backedge_tree():
    twice_first_plus_one(np.array([3.0]))
    mi = methodinstance(twice, (Float64,))
    assert printed_tree(mi) == (
        "MethodInstance for twice(::Float64)\n"
        "└─ MethodInstance for twice_first(::Vector[Float64])\n"
        "   └─ MethodInstance for twice_first_plus_one(::Vector[Float64])\n")


def test_print_tree_with_several_callers_uses_branches():
    twice_first(np.array([1], dtype=np.int64))
    twice_first_plus_one(np.array([1], dtype=np.int64))

    @pk.generic
    def other_caller(x: Int64):
        return twice(x) - 1

    other_caller(1)
    out = printed_tree(methodinstance(twice, (Int64,)))
    lines = out.splitlines()
    assert lines[0] == "MethodInstance for twice(::Int64)"
    assert "├─ MethodInstance for twice_first(::Vector[Int64])" in lines
    assert "│  └─ MethodInstance for twice_first_plus_one(::Vector[Int64])" in lines
    assert "└─ MethodInstance for other_caller(::Int64)" in lines


def test_print_tree_writes_to_stdout_by_default(capsys):
    twice(7)
    pk.print_tree(methodinstance(twice, (Int64,)))
    assert capsys.readouterr().out.startswith("MethodInstance for twice(::Int64)\n")


def test_code_typed_shows_types_and_resolutions():
    text = pk.code_typed(twice_first, (Vector[Float64],))
    first = text.splitlines()[0]
    assert first == "MethodInstance for twice_first(::Vector[Float64]) :: Float64"
    assert "invoke MethodInstance for getitem(::Vector[Float64], ::Int64)" in text
    assert "invoke MethodInstance for twice(::Float64)" in text
    assert ":: Float64" in text
    assert "return %" in text


def test_code_typed_shows_dynamic_dispatch_for_abstract_elements():
    text = pk.code_typed(twice_first, (Vector[AbstractFloat],))
    assert text.splitlines()[0].endswith(":: Any")
    assert "dynamic twice(::AbstractFloat)" in text
    assert ":: AbstractFloat" in text


def test_code_typed_shows_loops_and_a_union_free_result():
    text = pk.code_typed(loop_sum, (Int64,))
    assert text.splitlines()[0] == "MethodInstance for loop_sum(::Int64) :: Float64"
    assert " goto #" in text and "if %" in text
    assert "invoke MethodInstance for mod(::Int64, ::Int64)" in text
    assert loop_sum(5) == 6.0


def test_code_typed_shows_a_call_that_throws():
    @pk.generic
    def wrong(x: Float64):
        return loop_sum(x)

    text = pk.code_typed(wrong, (Float64,))
    assert "throws MethodError" in text
    assert text.splitlines()[0] == "MethodInstance for wrong(::Float64) :: Union[]"


def test_code_llvm_shows_native_code():
    text = pk.code_llvm(twice, (Float64,))
    assert "define i32 @\"pk.twice." in text
    assert "double" in text and "fmul double" in text
    assert "ret i32 0" in text
    text = pk.code_llvm(loop_sum, (Int64,))
    assert "br i1" in text and "br label" in text
    assert "srem" in text


def test_code_llvm_of_a_struct_function_passes_structs_by_value():
    @pk.struct
    class IPt:
        x: Float64
        y: Int64

    @pk.generic
    def swap_kinds(p: IPt):
        return IPt(p.y + 0.5, 3)

    text = pk.code_llvm(swap_kinds, (IPt,))
    assert "{double, i64}" in text
    assert "extractvalue" in text and "insertvalue" in text

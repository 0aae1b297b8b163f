"""Julia conformance of the parametric type system: subtyping, intersection, specificity and
dispatch with type parameters, ``where`` variables, ``Vararg`` and the diagonal rule.

Every case is transcribed from Julia's own test suite (or the manual), with a comment naming
the file and line it comes from:

* ``test/subtype.jl`` at commit 005352a3 (``test_1``, ``test_2``, ``test_diagonal``,
  ``test_3`` .. ``test_old`` and ``test_intersection``),
* ``test/specificity.jl`` at commit 0908bc47,
* ``test/ambiguous.jl`` at commit 00096fdc,
* ``doc/src/manual/methods.md`` ("Parametric Methods") and ``doc/src/manual/types.md``.

Julia's ``{}`` becomes our ``[]``; ``Int`` is ``Int64``; ``X where {A, B}`` is written
``where(X, A, B)`` (outermost variable first).  Types Julia's tests take from Base that pkgimage
has no counterpart for are replaced by small user structs with the same variance:
``Ref{T}`` and ``Pair{A,B}`` (invariant parametric structs), ``String`` (a concrete struct
``Str``), ``AbstractArray``/``AbstractVector`` by ``Array``/``Vector``, ``Dict{K,V}`` by
``Dct[K, V]``.  ``Rational{T}`` and ``Ptr{T}`` become ``Ref[T]``.  ``Type{...}`` cases are
left out (pkgimage has no ``Type`` kind).
"""

import itertools
import math
import random
import re
import types
from dataclasses import dataclass

import pytest

import pkgimage as pk
from pkgimage import (AbstractFloat, Any, Array, Bool, Bottom, Float32, Float64, Int8, Int16,
                      Int32, Int64, Integer, Matrix, Nothing, Number, Real, Tuple, TypeVar,
                      Union, UnionAll, Vararg, Vector, issubtype, typeintersect)
from pkgimage.subtyping import match, morespecific

Int = Int64


# --------------------------------------------------------------------------------------------
# Spelling helpers


def where(body, *vars_):
    """Julia's ``body where {vars...}`` (the first var is the outermost)."""
    for v in reversed(vars_):
        body = UnionAll(v, body)
    return body


def tv(name, ub=None, lb=None):
    """``lb <: name <: ub``."""
    return TypeVar(name, bound=ub, lower=lb)


def forall(make, *specs):
    """``make(vars...) where {vars...}`` for fresh vars; a spec is a name or (name, ub, lb)."""
    vars_ = [tv(*((s,) if isinstance(s, str) else s)) for s in specs]
    return where(make(*vars_), *vars_)


def NTuple(n, t):
    """Julia's ``NTuple{N,T}``: ``Tuple{Vararg{T,N}}``."""
    return Tuple[Vararg[t, n]]


T, S, R, N, M, E, Z, Q = (tv(n) for n in "TSRNMEZQ")
T_Real, T_Int, T_Integer, T_Number, T_AF = (tv("T", ub) for ub in (Real, Int, Integer, Number,
                                                                     AbstractFloat))
S_Number, S_Integer, S_Real = tv("S", Number), tv("S", Integer), tv("S", Real)

# Parametric stand-ins for the Base types Julia's tests use (all invariant in their parameters).
_A, _B, _K, _V = tv("A"), tv("B"), tv("K"), tv("V")


@pk.struct
class Ref(pk.Generic[_A]):
    x: _A


@pk.struct
class Pair(pk.Generic[_A, _B]):
    first: _A
    second: _B


@pk.struct
class Dct(pk.Generic[_K, _V]):
    k: _K
    v: _V


@pk.struct
class Str:
    s: Int64


@pk.struct
class A11136:
    pass


@pk.struct
class B11136:
    pass


# --------------------------------------------------------------------------------------------
# Subtyping
#   'strict': a <: b and not b <: a       (Julia's issub_strict)
#   'sub':    a <: b                      (issub)
#   'nsub':   not a <: b                  (!issub)
#   'eq':     a <: b and b <: a           (isequal_type)


@dataclass
class Sub:
    id: str
    a: object
    b: object
    rel: str
    origin: str = ""


SUBTYPE_CASES = [
    # -- test/subtype.jl test_1, L21-39: invariance of parameters, covariance of tuples
    Sub("tuple_covariant", Tuple[Int, Int], Tuple[Integer, Integer], "strict", "subtype.jl:30"),
    Sub("tuple_length_mismatch_longer", Tuple[Int, Int], Tuple[Int], "nsub", "subtype.jl:35"),
    Sub("tuple_length_mismatch_shorter", Tuple[Int], Tuple[Integer, Integer], "nsub",
        "subtype.jl:36"),
    Sub("array_invariant", Array[Int, 1], Array[Integer, 1], "nsub", "subtype.jl:38"),
    Sub("vector_invariant_reverse", Vector[Integer], Vector[Int], "nsub", "subtype.jl:38"),
    Sub("array_int_vector_equal", Array[Int, 1], Vector[Int], "eq", "subtype.jl:25"),
    # -- test_2, L42-85: Vararg
    Sub("vararg_any_length", Tuple[Int, Int], Tuple[Vararg[Int]], "strict", "subtype.jl:43"),
    Sub("vararg_after_fixed", Tuple[Int, Int], Tuple[Int, Vararg[Int]], "strict",
        "subtype.jl:44"),
    Sub("vararg_covariant_tail", Tuple[Int, Int], Tuple[Int, Vararg[Integer]], "strict",
        "subtype.jl:45"),
    Sub("vararg_empty_tail", Tuple[Int, Int], Tuple[Int, Int, Vararg[Integer]], "strict",
        "subtype.jl:46"),
    Sub("vararg_in_vararg", Tuple[Int, Vararg[Int]], Tuple[Vararg[Int]], "strict",
        "subtype.jl:47"),
    Sub("vararg_first_element_covariant", Tuple[Int, Int, Int], Tuple[Integer, Vararg[Int]],
        "strict", "subtype.jl:49"),
    Sub("empty_tuple_vararg_any", Tuple[()], Tuple[Vararg[Any]], "strict", "subtype.jl:51"),
    Sub("vararg_equal", Tuple[Vararg[Integer]], Tuple[Vararg[Integer]], "eq", "subtype.jl:54"),
    Sub("empty_tuple_not_one_plus", Tuple[()], Tuple[Int, Vararg[Int]], "nsub",
        "subtype.jl:56"),
    Sub("one_not_two_plus", Tuple[Int], Tuple[Int, Int, Vararg[Int]], "nsub", "subtype.jl:57"),
    Sub("nested_tuple_not_int", Tuple[Int, Tuple[Real, Integer]], Tuple[Vararg[Int]], "nsub",
        "subtype.jl:59"),
    Sub("vararg_n_fixed_equal", Tuple[Int, Int], Tuple[Vararg[Int, 2]], "eq", "subtype.jl:61"),
    Sub("vararg_n_normalizes", Tuple[Int, Vararg[Int, 2]], Tuple[Int, Int, Int], "eq",
        "subtype.jl:63"),
    Sub("vararg_n_too_long", Tuple[Int, Vararg[Int, 2]], Tuple[Int, Int, Int, Vararg[Int, 1]],
        "nsub", "subtype.jl:68"),
    Sub("vararg_unionall_n_equal", where(Tuple[Int, Vararg[Int, N]], N),
        where(Tuple[Int, Vararg[Int, N]], N), "eq", "subtype.jl:70"),
    Sub("ntuple_shared_n", Tuple[Tuple[Int, Int], Tuple[Int, Int]],
        where(Tuple[NTuple(N, Int), NTuple(N, Int)], N), "strict", "subtype.jl:72"),
    Sub("ntuple_shared_n_mismatch", Tuple[Tuple[Int, Int], Tuple[Int]],
        where(Tuple[NTuple(N, Int), NTuple(N, Int)], N), "nsub", "subtype.jl:73"),
    Sub("vararg_n_zero_tail", Tuple[Int, Int], where(Tuple[Int, Int, Vararg[Int, N]], N),
        "strict", "subtype.jl:78"),
    Sub("vararg_n_zero_tail_with_eltype_var", Tuple[Int, Int],
        where(Tuple[E, E, Vararg[E, N]], N, E), "strict", "subtype.jl:79"),
    # -- test_diagonal, L87-168
    Sub("diagonal_abstract_args", Tuple[Integer, Integer], where(Tuple[T, T], T), "nsub",
        "subtype.jl:88"),
    Sub("diagonal_concrete_args", Tuple[Int, Int], where(Tuple[T, T], T), "strict",
        "subtype.jl:116 (Tuple{Int,Int} matches the diagonal T)"),
    Sub("diagonal_mixed_concrete_args", Tuple[Int, Float64], where(Tuple[T, T], T), "nsub",
        "subtype.jl test_intersection: Tuple{T,T} vs Tuple{Float64,Int} is Bottom"),
    Sub("diagonal_below_independent_vars", where(Tuple[R, R], R), where(Tuple[T, S], T, S),
        "strict", "subtype.jl:93"),
    Sub("diagonal_bounded_real", Tuple[Real, Real], where(Tuple[T_Real, T_Real], T_Real),
        "nsub", "subtype.jl:102"),
    Sub("diagonal_vs_invariant_occurrence",
        forall(lambda S, R: Tuple[S, R, Vector[Any]], ("S", Int), ("R", Str)),
        where(Tuple[T, T, Array[T, 1]], T), "sub", "subtype.jl:104"),
    Sub("diagonal_union_with_ref", Tuple[Str, Real, Ref[Number]],
        where(Tuple[Union[T, Str], T, Ref[T]], T), "strict", "subtype.jl:107"),
    Sub("diagonal_union_member", Tuple[Str, Real], where(Tuple[Union[T, Str], T], T), "strict",
        "subtype.jl:110"),
    Sub("diagonal_union_member_abstract", Tuple[Real, Real], where(Tuple[Union[T, Str], T], T),
        "nsub", "subtype.jl:113"),
    Sub("diagonal_union_member_concrete", Tuple[Int, Int], where(Tuple[Union[T, Str], T], T),
        "strict", "subtype.jl:116"),
    Sub("issue_24166_unbounded", where(Tuple[T, T, Ref[T]], T),
        where(Tuple[S, S, where(Ref[Q], Q)], S), "nsub", "subtype.jl:124"),
    Sub("issue_24166_integer_bound", where(Tuple[T, T, Ref[T]], T),
        where(Tuple[S_Integer, S_Integer, where(Ref[Q], Q)], S_Integer), "nsub",
        "subtype.jl:125"),
    Sub("issue_24166_left_bounded_by_concrete", where(Tuple[T_Int, T_Int, Ref[T_Int]], T_Int),
        where(Tuple[S, S, where(Ref[Q], Q)], S), "sub", "subtype.jl:127"),
    Sub("issue_24166_left_lower_bound", forall(lambda T: Tuple[T, T, Ref[T]], ("T", None, Int)),
        where(Tuple[S, S, where(Ref[Q], Q)], S), "nsub", "subtype.jl:128"),
    Sub("issue_26108", where(Tuple[T, T, Array[T, 1]], T), where(Tuple[T, T, Any], T), "nsub",
        "subtype.jl:159"),
    Sub("ref_of_diagonal_pairs", where(Tuple[Ref[Tuple[N, N]], Ref[N]], N),
        forall(lambda N1, N2: Tuple[Ref[Tuple[N1, N1]], Ref[N2]], "N1", "N2"),
        "strict", "subtype.jl:164"),
    # -- test_3, L171-...: UnionAll
    Sub("vector_below_its_unionall", Array[Int, 1], where(Vector[T], T), "strict",
        "subtype.jl:172"),
    Sub("diagonal_pair_below_pair", where(Pair[T, T], T), where(Pair[_A, _B], _A, _B), "strict",
        "subtype.jl:173"),
    Sub("pair_below_partial", Pair[Int, Int8], where(Pair[Int, S], S), "sub", "subtype.jl:175"),
    Sub("renamed_vars_equal", where(Tuple[T, T], T), where(Tuple[R, R], R), "eq",
        "subtype.jl:179"),
    Sub("swapped_bounded_vars", where(Tuple[T_Integer, S_Number], T_Integer, S_Number),
        where(Tuple[S_Number, T_Integer], T_Integer, S_Number), "nsub", "subtype.jl:181"),
    Sub("shared_var_arrays_below_arrays", where(Tuple[Array[T], Array[T]], T),
        Tuple[Array, Array], "strict", "subtype.jl:184"),
    Sub("AUA_not_UAA", Vector[Vector], where(Vector[Vector[T]], T), "nsub", "subtype.jl:190"),
    Sub("UAA_not_AUA", where(Vector[Vector[T]], T), Vector[Vector], "nsub", "subtype.jl:191"),
    Sub("diagonal_pair_not_mixed", where(Pair[T, T], T), Pair[Int, Int8], "nsub",
        "subtype.jl:199"),
    Sub("diagonal_pair_not_one_instance", where(Pair[T, T], T), Pair[Int, Int], "nsub",
        "subtype.jl:200"),
    Sub("unused_var_tuple_any", where(Tuple[T], T), Tuple[Any], "eq", "subtype.jl:202"),
    Sub("bounded_var_tuple_real", where(Tuple[T_Real], T_Real), Tuple[Real], "eq",
        "subtype.jl:203"),
    Sub("invariant_then_covariant_var", Tuple[Vector[Integer], Real],
        where(Tuple[Vector[T_Integer], T_Integer], T_Integer), "nsub", "subtype.jl:208"),
    Sub("diagonal_with_vector_mismatch", Tuple[Int, Str, Vector[Integer]],
        where(Tuple[T, T, Array[T, 1]], T), "nsub", "subtype.jl:211"),
    Sub("diagonal_with_vector_mismatch_swapped", Tuple[Str, Int, Vector[Integer]],
        where(Tuple[T, T, Array[T, 1]], T), "nsub", "subtype.jl:213"),
    Sub("diagonal_with_vector_of_tuples", Tuple[Int, Str, Vector[Tuple[Integer]]],
        where(Tuple[T, T, Array[Tuple[T], 1]], T), "nsub", "subtype.jl:215"),
    Sub("var_pinned_to_any_by_vector", Tuple[Int, Str, Vector[Any]],
        where(Tuple[T, T, Array[T, 1]], T), "sub", "subtype.jl:218"),
    Sub("vector_of_unionall_tuple", Vector[Tuple[Any]], Vector[where(Tuple[T], T)], "eq",
        "subtype.jl:222"),
    Sub("vector_of_diagonal_tuple", Vector[Tuple[Int, Int]],
        Vector[where(Tuple[T_Int, T_Int], T_Int)], "eq", "subtype.jl:224"),
    Sub("vector_of_diagonal_tuple_mismatch", Vector[Tuple[Int, Integer]],
        Vector[where(Tuple[T_Integer, T_Integer], T_Integer)], "nsub", "subtype.jl:226"),
    Sub("pair_diagonal_mismatch", Pair[Int, Int8], where(Pair[T, T], T), "nsub",
        "subtype.jl:229"),
    Sub("vector_pins_var_then_abstract_arg", Tuple[Vector[Int], Integer],
        where(Tuple[Array[T_Integer, 1], T_Integer], T_Integer), "nsub", "subtype.jl:231"),
    Sub("abstract_arg_then_vector_pins_var", Tuple[Integer, Vector[Int]],
        where(Tuple[T_Integer, Array[T_Integer, 1]], T_Integer), "nsub", "subtype.jl:234"),
    Sub("pair_vector_and_abstract", Pair[Vector[Int], Integer], where(Pair[Vector[T], T], T),
        "nsub", "subtype.jl:237"),
    Sub("pair_vector_and_concrete", Pair[Vector[Int], Int], where(Pair[Vector[T], T], T), "sub",
        "subtype.jl:238"),
    Sub("bounded_vector_families", forall(lambda T: Vector[T], ("T", Integer, Int)),
        where(Vector[T_Real], T_Real), "sub", "subtype.jl:257"),
    Sub("lower_bounds_must_nest", forall(lambda T: Vector[T], ("T", Integer, Int)),
        forall(lambda T: Vector[T], ("T", Real, Integer)), "nsub",
        "subtype.jl:260"),
    # -- test_4 / test_5: Union inside parameters
    Sub("tuple_union_distributes", Tuple[Union[Int, Int8], Int16],
        Union[Tuple[Int, Int16], Tuple[Int8, Int16]], "eq", "subtype.jl test_4"),
    Sub("vararg_of_union", Tuple[Int, Int8, Int], Tuple[Vararg[Union[Int, Int8]]], "strict",
        "subtype.jl test_4"),
    Sub("nested_union_in_ref", Union[Int, Ref[Union[Int, Int8]]],
        Union[Int, Ref[Union[Int8, Int16]]], "nsub", "subtype.jl test_4 (nested unions)"),
    Sub("vector_union_not_union_of_vectors", Vector[Union[Int, Float64]],
        Union[Vector[Int], Vector[Float64]], "nsub", "subtype.jl test_old (invariance)"),
    Sub("vector_float_not_vector_union", Vector[Float64], Vector[Union[Float64, Float32]], "nsub",
        "subtype.jl test_old: !(Vector{Float64} <: Vector{Union{Float64,Float32}})"),
    Sub("union_in_tuple_picks_var_per_member", Tuple[Union[Vector[Int], Vector[Int8]]],
        where(Tuple[Array[T, 1]], T), "sub", "subtype.jl test_5"),
    Sub("union_in_tuple_var_shared", Tuple[Union[Vector[Int], Vector[Int8]], Vector[Int]],
        where(Tuple[Array[T, 1], Array[T, 1]], T), "nsub", "subtype.jl test_5"),
    Sub("lower_bound_union_excludes_int", Vector[Int],
        forall(lambda T: Array[T, 1], ("T", None, Union[Int8, Int])), "nsub",
        "subtype.jl test_5: !issub(Vector{Int}, Array{T,1} where T>:u)"),
    Sub("lower_bound_union_accepts_integer", Vector[Integer],
        forall(lambda T: Array[T, 1], ("T", None, Union[Int8, Int])), "sub",
        "subtype.jl test_5"),
    Sub("lower_bound_union_accepts_itself", Vector[Union[Int, Int8]],
        forall(lambda T: Array[T, 1], ("T", None, Union[Int8, Int])), "sub",
        "subtype.jl test_5"),
    Sub("vector_of_union_then_member", Tuple[Array[Union[Int8, Int], 1], Int],
        where(Tuple[Array[T, 1], T], T), "sub", "subtype.jl test_5 (convert(Type{T},T) pattern)"),
    Sub("ref_of_union_of_refs", Ref[Union[Ref[Int], Ref[Int8]]], where(Ref[Ref[T]], T), "nsub",
        "subtype.jl test_5"),
    Sub("tuple_of_union_of_refs", Tuple[Union[Ref[Int], Ref[Int8]]], where(Tuple[Ref[T]], T),
        "sub", "subtype.jl test_5"),
    Sub("ref_of_union_distributes", Ref[Tuple[Union[Int, Int8], Int16]],
        Ref[Union[Tuple[Int, Int16], Tuple[Int8, Int16]]], "eq", "subtype.jl test_5"),
    # -- test_6: tricky bounds
    Sub("var_string_then_ref", where(Tuple[T, Str, Ref[T]], T), where(Tuple[T, T, Ref[T]], T),
        "nsub", "subtype.jl test_6"),
    Sub("fixed_var_equals_its_value", forall(lambda T: Ref[T], ("T", Int, Int)),
        Ref[Int], "eq", "subtype.jl test_6: (Ref{T} where i<:T<:i) == Ref{i}"),
    # -- test_old
    Sub("old_vararg_tail_covariant", Tuple[Integer, Vararg[Integer]],
        Tuple[Integer, Vararg[Real]], "sub", "subtype.jl test_old"),
    Sub("old_vararg_not_fixed", Tuple[Vararg[Int32]], Tuple[Int32], "nsub",
        "subtype.jl test_old"),
    Sub("old_vararg_not_two_plus", Tuple[Vararg[Integer]], Tuple[Integer, Integer,
                                                                 Vararg[Integer]], "nsub",
        "subtype.jl test_old"),
    Sub("old_empty_tuple_ntuple", Tuple[()], where(NTuple(N, Any), N), "sub",
        "subtype.jl test_old: Tuple{} <: NTuple{N} where N"),
    Sub("ntuple_homogeneous", Tuple[Int, Int], where(NTuple(N, T), N, T), "sub",
        "subtype.jl test_old: NTuple means tuples of all the same type"),
    Sub("ntuple_not_heterogeneous", Tuple[Int, Float64], where(NTuple(N, T), N, T), "nsub",
        "subtype.jl test_old: NTuple means tuples of all the same type"),
    Sub("ntuple_below_tuple", where(NTuple(N, T), N, T), Tuple[Vararg[Any]], "strict",
        "subtype.jl test_old: issub_strict(NTuple, Tuple)"),
]


def _sub_check(case):
    a, b, rel = case.a, case.b, case.rel
    if rel == "strict":
        assert issubtype(a, b), f"{a} <: {b}"
        assert not issubtype(b, a), f"not {b} <: {a}"
    elif rel == "sub":
        assert issubtype(a, b), f"{a} <: {b}"
    elif rel == "nsub":
        assert not issubtype(a, b), f"not {a} <: {b}"
    elif rel == "eq":
        assert issubtype(a, b), f"{a} <: {b}"
        assert issubtype(b, a), f"{b} <: {a}"
    else:
        raise AssertionError(rel)


@pytest.mark.parametrize("case", SUBTYPE_CASES, ids=[c.id for c in SUBTYPE_CASES])
def test_subtype_conformance(case):
    _sub_check(case)


# --------------------------------------------------------------------------------------------
# Intersection (``@testintersect``: both orders give the expected type, up to type equality)


@dataclass
class Inter:
    id: str
    a: object
    b: object
    expected: object
    origin: str = ""


def _same_type(x, y):
    return x is y or (issubtype(x, y) and issubtype(y, x))


INTERSECT_CASES = [
    Inter("vector_float_vs_vector_union", Vector[Float64], Vector[Union[Float64, Float32]], Bottom,
          "subtype.jl test_intersection"),
    Inter("diagonal_vs_real_pair", where(Tuple[T, T], T), Tuple[Real, Real],
          where(Tuple[T_Real, T_Real], T_Real), "subtype.jl test_intersection"),
    Inter("unused_var_vs_real", where(Tuple[T], T), Tuple[Real], Tuple[Real],
          "subtype.jl test_intersection"),
    Inter("diagonal_vs_union_first", where(Tuple[T, T], T), Tuple[Union[Float64, Int64], Int64],
          Tuple[Int64, Int64], "subtype.jl test_intersection"),
    Inter("diagonal_vs_union_second", where(Tuple[T, T], T), Tuple[Int64, Union[Float64, Int64]],
          Tuple[Int64, Int64], "subtype.jl test_intersection"),
    Inter("diagonal_vs_int_float_is_bottom", where(Tuple[T, T], T), Tuple[Int, Float64], Bottom,
          "subtype.jl test_intersection (Tuple{Vararg{T}} where T vs Tuple{Float64,Int})"),
    Inter("vararg_diagonal_vs_mixed_is_bottom", where(Tuple[Vararg[T]], T), Tuple[Float64, Int],
          Bottom, "subtype.jl test_intersection"),
    Inter("diagonal_vs_bounded_independent", where(Tuple[Z, Z], Z),
          where(Tuple[T_Integer, S_Number], T_Integer, S_Number),
          forall(lambda Z: Tuple[Z, Z], ("Z", Integer)),
          "subtype.jl test_intersection"),
    Inter("diagonal_pair_vs_bounded_pair", where(Pair[Z, Z], Z),
          where(Pair[T_Integer, S_Number], T_Integer, S_Number),
          forall(lambda Z: Pair[Z, Z], ("Z", Integer)),
          "subtype.jl test_intersection"),
    Inter("var_elem_and_vector_number", where(Tuple[T, Vector[T]], T), Tuple[Number, Vector[Int]],
          Tuple[Int, Vector[Int]], "subtype.jl test_intersection (AbstractArray -> Vector)"),
    Inter("var_elem_and_vector_of_abstract", where(Tuple[T, Vector[T]], T),
          Tuple[Int, Vector[Number]], Tuple[Int, Vector[Number]],
          "subtype.jl test_intersection"),
    Inter("var_elem_any_and_vector_number", where(Tuple[T, Vector[T]], T),
          Tuple[Any, Vector[Number]], Tuple[Number, Vector[Number]],
          "subtype.jl test_intersection"),
    Inter("shared_var_bound_moves", where(Tuple[S, Vector[S]], S),
          where(Tuple[T_Real, Vector[T_Real]], T_Real),
          where(Tuple[S_Real, Vector[S_Real]], S_Real), "subtype.jl test_intersection"),
    Inter("bounded_families_disjoint_lb", forall(lambda T: Array[T], ("T", Number, Integer)),
          forall(lambda T: Array[T], ("T", Str)), Bottom, "subtype.jl test_intersection"),
    Inter("ref_var_and_invariant_abstract", where(Tuple[Ref[T], T], T),
          Tuple[Ref[Integer], Int], Tuple[Ref[Integer], Int],
          "subtype.jl test_intersection (Rational{T} -> Ref{T})"),
    Inter("pair_var_cycle_is_bottom", where(Pair[T, Ref[T]], T), where(Pair[Ref[S], S], S), Bottom,
          "subtype.jl test_intersection (Ptr -> Ref)"),
    Inter("ntuple_shared_length_left", where(Tuple[NTuple(N, Integer), NTuple(N, Integer)], N),
          Tuple[Tuple[Integer, Integer], Tuple[Vararg[Integer]]],
          Tuple[Tuple[Integer, Integer], Tuple[Integer, Integer]],
          "subtype.jl test_intersection"),
    Inter("ntuple_shared_length_right", where(Tuple[NTuple(N, Integer), NTuple(N, Integer)], N),
          Tuple[Tuple[Vararg[Integer]], Tuple[Integer, Integer]],
          Tuple[Tuple[Integer, Integer], Tuple[Integer, Integer]],
          "subtype.jl test_intersection"),
    Inter("ntuple_length_from_array_rank", where(Tuple[NTuple(N, Any), Array[Int, N]], N),
          Tuple[Tuple[Int, Vararg[Int]], Array[Int, 2]], Tuple[Tuple[Int, Int], Array[Int, 2]],
          "subtype.jl test_intersection"),
    Inter("vararg_int_vs_vararg_bool", Tuple[Vararg[Int]], Tuple[Vararg[Bool]], Tuple[()],
          "subtype.jl test_intersection"),
    Inter("bool_then_ints_vs_bools", Tuple[Bool, Vararg[Int]], Tuple[Vararg[Bool]], Tuple[Bool],
          "subtype.jl test_intersection"),
    Inter("array_rank_vs_too_many_args", where(Tuple[Array[Int, N], Vararg[Int, N]], N),
          Tuple[Vector[Int], Real, Real, Real], Bottom, "subtype.jl test_intersection"),
    Inter("array_rank_zero", where(Tuple[Array[Int, N], Vararg[Int, N]], N),
          Tuple[Array[Int, 0]], Tuple[Array[Int, 0]], "subtype.jl test_intersection"),
    Inter("array_rank_two_without_args", where(Tuple[Array[Int, N], Vararg[Int, N]], N),
          Tuple[Array[Int, 2]], Bottom, "subtype.jl test_intersection"),
    Inter("vararg_tails_cut_fixed", Tuple[Int, Vararg[Int]], Tuple[Int, Int, Int, Vararg[Float64]],
          Tuple[Int, Int, Int], "subtype.jl test_intersection"),
    Inter("vararg_tails_disjoint", Tuple[Int, Vararg[Int]], Tuple[Int, Vararg[Float64]],
          Tuple[Int], "subtype.jl test_intersection"),
    Inter("array_rank_matrix_two_args", where(Tuple[Array[Int, N], Vararg[Int, N]], N),
          Tuple[Matrix[Int], Int, Int, Vararg[Float64]], Tuple[Matrix[Int], Int, Int],
          "subtype.jl test_intersection"),
    Inter("array_rank_matrix_one_arg", where(Tuple[Array[Int, N], Vararg[Int, N]], N),
          Tuple[Matrix[Int], Int, Vararg[Float64]], Bottom, "subtype.jl test_intersection"),
    Inter("issue_11136_diagonal_vs_distinct_structs", where(Tuple[T, T], T),
          forall(lambda TB: Tuple[A11136, TB], ("TB", B11136)), Bottom,
          "subtype.jl test_intersection (#11136)"),
    Inter("pr_12058_ntuples_of_disjoint_types", where(NTuple(N, Int), N),
          where(NTuple(N, Float64), N), Tuple[()], "subtype.jl test_intersection (PR #12058)"),
    Inter("issue_20611_var_bound_by_ref", Tuple[Ref[Integer], Int, Any],
          where(Tuple[Ref[Z], Z, Z], Z), Tuple[Ref[Integer], Int, Integer],
          "subtype.jl test_intersection (#20611)"),
    Inter("lower_bound_vs_concrete_vector", forall(lambda T: Vector[T], ("T", None, Nothing)),
          Vector[Int], Bottom, "subtype.jl test_intersection: Vector{>:Missing} ∩ Vector{Int}"),
    Inter("issue_21132_recursive_pair", forall(lambda L, HL: Pair[L, Tuple[L, Pair[L, HL]]],
                                               "L", "HL"),
          forall(lambda R, HR: Pair[R, Tuple[Pair[R, HR], R]], "R", "HR"),
          Bottom, "subtype.jl test_intersection (#21132)"),
]


@pytest.mark.parametrize("case", INTERSECT_CASES, ids=[c.id for c in INTERSECT_CASES])
def test_typeintersect_conformance(case):
    for x, y in ((case.a, case.b), (case.b, case.a)):
        got = typeintersect(x, y)
        assert _same_type(got, case.expected), \
            f"typeintersect({x}, {y}) = {got}, Julia gives {case.expected}"
        # Whatever the spelling, the intersection is below both sides.
        assert issubtype(got, x) and issubtype(got, y), f"{got} is not below {x} and {y}"


# --------------------------------------------------------------------------------------------
# Static parameters (``match``)

MATCH_CASES = [
    # doc/src/manual/methods.md, "Parametric Methods": mytypeof(x::T) where {T} = T
    ("mytypeof_int", Tuple[Int], where(Tuple[T], T), (Int,)),
    ("mytypeof_float", Tuple[Float64], where(Tuple[T], T), (Float64,)),
    # same_type(x::T, y::T) where {T}
    ("same_type_ints", Tuple[Int, Int], where(Tuple[T, T], T), (Int,)),
    ("same_type_mixed", Tuple[Int, Float64], where(Tuple[T, T], T), None),
    # myappend(v::Vector{T}, x::T) where {T}
    ("myappend_int", Tuple[Vector[Int], Int], where(Tuple[Vector[T], T], T), (Int,)),
    ("myappend_float_into_ints", Tuple[Vector[Int], Float64], where(Tuple[Vector[T], T], T), None),
    ("myappend_real_vector", Tuple[Vector[Real], Int], where(Tuple[Vector[T], T], T), (Real,)),
    # specificity.jl:74 _bound_vararg_specificity_1(::Type{Array{T,N}}, d::Vararg{Int,N})
    ("bound_vararg_length", Tuple[Matrix[Float64], Int, Int],
     where(Tuple[Array[T, N], Vararg[Int, N]], T, N), (Float64, 2)),
    ("bound_vararg_length_mismatch", Tuple[Matrix[Float64], Int],
     where(Tuple[Array[T, N], Vararg[Int, N]], T, N), None),
]


@pytest.mark.parametrize("argtypes,sig,expected", [c[1:] for c in MATCH_CASES],
                         ids=[c[0] for c in MATCH_CASES])
def test_match_static_parameters(argtypes, sig, expected):
    ok, params = match(argtypes, sig)
    if expected is None:
        assert not ok
    else:
        assert ok and params == expected, (ok, params)


# --------------------------------------------------------------------------------------------
# Specificity (``args_morespecific`` of test/specificity.jl, at commit 0908bc47)

SPEC_CASES = [
    # L31-39: bound Vararg against a fixed arity
    ("bound_vararg_vs_array_int", where(Tuple[Array[T, N], Vararg[Int, N]], T, N),
     Tuple[Array, Int], True, "specificity.jl:34"),
    ("array_int_vs_bound_vararg", Tuple[Array, Int],
     where(Tuple[Array[T, N], Vararg[Int, N]], T, N), False, "specificity.jl:35"),
    ("array_free_vararg_vs_array_int", where(Tuple[Array, Vararg[Int, N]], N), Tuple[Array, Int],
     False, "specificity.jl:37"),
    ("array_int_vs_array_free_vararg", Tuple[Array, Int], where(Tuple[Array, Vararg[Int, N]], N),
     True, "specificity.jl:38"),
    # L47-48: a diagonal vararg against an abstract one of a longer fixed part
    ("diagonal_vararg_vs_number_vararg", where(Tuple[T_Number, Vararg[T_Number]], T_Number),
     Tuple[Number, Number, Vararg[Number]], True, "specificity.jl:47"),
    ("number_vararg_vs_diagonal_vararg", Tuple[Number, Number, Vararg[Number]],
     where(Tuple[T_Number, Vararg[T_Number]], T_Number), False, "specificity.jl:48"),
    # L50
    ("bounded_array_eltype", Tuple[forall(lambda T: Array[T], ("T", Union[Float32, Float64])),
                                   Any],
     Tuple[where(Array[T_Real], T_Real), Any], True, "specificity.jl:50"),
    # L128-129: the diagonal rule makes Tuple{T,T,T} more specific than Tuple{Real,Real,Real}
    ("real3_vs_diagonal3", Tuple[Real, Real, Real], where(Tuple[T_Real, T_Real, T_Real], T_Real),
     False, "specificity.jl:128"),
    ("diagonal3_vs_real3", where(Tuple[T_Real, T_Real, T_Real], T_Real), Tuple[Real, Real, Real],
     True, "specificity.jl:128 (the converse, by subtyping)"),
    ("real_vararg_vs_diagonal3", Tuple[Real, Real, Vararg[Real]],
     where(Tuple[T_Real, T_Real, T_Real], T_Real), False, "specificity.jl:129"),
    # L158-165, issue #22338
    ("issue_22338_C_vs_A", where(Tuple[Ref[T], Tuple[T]], T), where(Tuple[Ref, Tuple[T]], T), True,
     "specificity.jl:161"),
    ("issue_22338_C_vs_B", where(Tuple[Ref[T], Tuple[T]], T),
     where(Tuple[Ref[T], Tuple[Vararg[T]]], T), True, "specificity.jl:162"),
    ("issue_22338_A_vs_B", where(Tuple[Ref, Tuple[T]], T),
     where(Tuple[Ref[T], Tuple[Vararg[T]]], T), False, "specificity.jl:163"),
    ("issue_22338_B_vs_A", where(Tuple[Ref[T], Tuple[Vararg[T]]], T),
     where(Tuple[Ref, Tuple[T]], T), False, "specificity.jl:164"),
    # L167-173, issue #22339
    ("issue_22339_C_vs_B", where(Tuple[T_AF], T_AF), where(Tuple[T], T), True,
     "specificity.jl:172"),
]


@pytest.mark.parametrize("a,b,expected", [c[1:4] for c in SPEC_CASES],
                         ids=[c[0] for c in SPEC_CASES])
def test_morespecific_conformance(a, b, expected):
    assert morespecific(a, b) is expected
    if expected:
        # args_morespecific also checks that morespecific(a, b) implies !morespecific(b, a).
        assert not morespecific(b, a)


# --------------------------------------------------------------------------------------------
# Dispatch with parametric methods

AMBIG = "<AmbiguityError>"
NOMETHOD = "<MethodError>"

HEADER = """\
import numpy as np
import pkgimage as pk
from pkgimage import *
T = pk.TypeVar("T")
S = pk.TypeVar("S")
N = pk.TypeVar("N")
M = pk.TypeVar("M")
K = pk.TypeVar("K")
V = pk.TypeVar("V")
T_Number = pk.TypeVar("T", bound=Number)
T_Integer = pk.TypeVar("T", bound=Integer)
T_Real = pk.TypeVar("T", bound=Real)
T_AF = pk.TypeVar("T", bound=AbstractFloat)
S_AF = pk.TypeVar("S", bound=AbstractFloat)
"""

DCT = """
_K = pk.TypeVar("K")
_V = pk.TypeVar("V")
@pk.struct
class Dct(pk.Generic[_K, _V]):
    k: _K
    v: _V
"""

POINTS = """
_T = pk.TypeVar("T", bound=Real)
@pk.abstract
class AbstractPoint(pk.Generic[_T]): ...
@pk.struct
class Point(AbstractPoint[_T]):
    x: _T
    y: _T
"""


@dataclass
class Case:
    id: str
    methods: list          # one-line method definitions, each added with @pk.generic
    calls: list            # (expression, expected value | AMBIG | NOMETHOD)
    prelude: str = ""
    origin: str = ""
    xfail: str = ""        # why pkgimage does not conform yet (strict xfail)


CASES = [
    # doc/src/manual/methods.md, "Parametric Methods"
    Case("manual_same_type", [
        "def same_type(x: T, y: T): return True",
        "def same_type(x, y): return False",
    ], [("same_type(1, 2)", True), ("same_type(1, 2.0)", False), ("same_type(1.0, 2.0)", True),
        ("same_type('foo', 2.0)", False), ("same_type('foo', 'bar')", True),
        ("same_type(np.int32(1), 2)", False)],
        origin="manual methods.md: same_type(x::T, y::T) where {T} vs same_type(x, y)"),
    Case("manual_myappend", [
        "def myappend(v: Vector[T], x: T): return 'appended'",
    ], [("myappend(np.array([1, 2, 3]), 4)", "appended"),
        ("myappend(np.array([1, 2, 3]), 2.5)", NOMETHOD),
        ("myappend(np.array([1.0, 2.0, 3.0]), 4.0)", "appended"),
        ("myappend(np.array([1.0, 2.0, 3.0]), 4)", NOMETHOD)],
        origin="manual methods.md: myappend(v::Vector{T}, x::T) where {T}"),
    Case("manual_same_type_numeric", [
        "def same_type_numeric(x: T_Number, y: T_Number): return True",
        "def same_type_numeric(x: Number, y: Number): return False",
    ], [("same_type_numeric(1, 2)", True), ("same_type_numeric(1, 2.0)", False),
        ("same_type_numeric(1.0, 2.0)", True), ("same_type_numeric(1.0, 2)", False),
        ("same_type_numeric('foo', 2.0)", NOMETHOD), ("same_type_numeric('foo', 'bar')", NOMETHOD),
        ("same_type_numeric(np.int32(1), 2)", False)],
        origin="manual methods.md: same_type_numeric(x::T, y::T) where {T<:Number}"),
    # Vector{T} where T vs Vector{Int}: invariance picks the concrete one only for Vector{Int}
    Case("vector_where_T_vs_vector_int", [
        "def f(x: Vector[T]): return 1",
        "def f(x: Vector[Int64]): return 2",
    ], [("f(np.array([1, 2]))", 2), ("f(np.array([1.0]))", 1), ("f(Vector[Integer]([1]))", 1),
        ("f(Vector[Real]([1]))", 1), ("f(1)", NOMETHOD)],
        origin="manual methods.md / types.md: Vector{Int} is not a Vector{Integer}"),
    Case("vector_bounded_where_vs_vector_real", [
        "def f(x: Vector[T_Real]): return 1",
        "def f(x: Vector[Real]): return 2",
        "def f(x): return 3",
    ], [("f(np.array([1.0]))", 1), ("f(Vector[Real]([1]))", 2), ("f(Vector[Integer]([1]))", 1),
        ("f(Vector[Number]([1]))", 3)],
        origin="types.md: Vector{Float64} <: Vector{<:Real}, Vector{Real} is its own type"),
    Case("vector_and_element_share_T", [
        "def f(v: Vector[T], x: T): return 1",
        "def f(v: Vector, x): return 2",
    ], [("f(np.array([1]), 1)", 1), ("f(np.array([1]), 1.0)", 2),
        ("f(Vector[Real]([1]), 1.0)", 1), ("f(Vector[Real]([1]), 'a')", 2)],
        origin="subtype.jl:238 Pair{Vector{T},T}; manual myappend"),
    # varargs vs fixed arity
    Case("varargs_vs_fixed_arity", [
        "def f(*xs: Int64): return 'va'",
        "def f(x: Int64, y: Int64): return 'fixed'",
    ], [("f()", "va"), ("f(1)", "va"), ("f(1, 2)", "fixed"), ("f(1, 2, 3)", "va"),
        ("f(1, 2.0)", NOMETHOD)],
        origin="subtype.jl:43-46 (Tuple{Int,Int} <: Tuple{Vararg{Int}} strictly)"),
    Case("one_plus_varargs_vs_varargs", [
        "def f(*xs: Int64): return 0",
        "def f(x: Int64, *xs: Int64): return 1",
        "def f(x: Int64, y: Int64, *xs: Int64): return 2",
    ], [("f()", 0), ("f(1)", 1), ("f(1, 2)", 2), ("f(1, 2, 3)", 2), ("f(1, np.int8(3))", NOMETHOD),
        ("f(np.int8(1))", NOMETHOD)],
        origin="subtype.jl:44-47 (Tuple{Int,Int,Vararg{Int}} <: Tuple{Int,Vararg{Int}} <: Tuple{Vararg{Int}})"),
    Case("z_z_z_fixed_three_beats_varargs", [
        "def z(x, y): return 1",
        "def z(x: Int64, y: Int64, v: Vector): return 2",
        "def z(x: Int64, *c): return 3",
    ], [("z(1, 1, np.zeros(1))", 2), ("z(1, 1, 1)", 3), ("z(1)", 3), ("z(1.0, 1)", 1)],
        origin="specificity.jl:42-45 (_z_z_z_)"),
    Case("diagonal_varargs", [
        "def f(*xs: T): return 1",
        "def f(*xs: Int64): return 2",
    ], [("f(1, 2, 3)", 2), ("f(1.0, 2.0)", 1), ("f(1, 2.0)", NOMETHOD), ("f(1.0)", 1),
        ("f('a', 'b')", 1), ("f('a', 1)", NOMETHOD)],
        origin="subtype.jl test_intersection: (Tuple{Vararg{T}} where T) ∩ Tuple{Float64,Int} = Bottom"),
    Case("diagonal_vararg_vs_longer_abstract_vararg", [
        "def f(x: T_Number, *xs: T_Number): return 1",
        "def f(x: Number, y: Number, *xs: Number): return 2",
    ], [("f(1)", 1), ("f(1, 2)", 1), ("f(1, 2, 3)", 1), ("f(1, 2.0)", 2), ("f(1.0, 2.0, 3)", 2)],
        origin="specificity.jl:47-48"),
    Case("bound_vararg_specificity", [
        "def f(a: Array[T, N], *d: Vararg[Int64, N]): return 0",
        "def f(a: Array[T, 1], d: Int64): return 1",
    ], [(("f", "Vector[Int64], Int64"), 1), (("f", "Matrix[Int64], Int64, Int64"), 0),
        (("f", "Matrix[Int64], Int64"), NOMETHOD)],
        origin="specificity.jl:73-77 (_bound_vararg_specificity_1, Type{Array{T,N}} -> Array{T,N})"),
    Case("ntuple_dims_method_specificity", [
        "def f(dims: Tuple[()], A: Array[T, 0]): return 1",
        "def f(dims: Tuple[Vararg[Int64, N]], A: Array[T, N]): return 2",
        "def f(dims: Tuple[Vararg[Int64, M]], A: Array[T, N]): return 3",
    ], [(("f", "Tuple[Int64, Int64, Int64], Matrix[Float64]"), 3),
        (("f", "Tuple[Int64, Int64], Matrix[Float64]"), 2),
        (("f", "Tuple[()], Array[Float64, 0]"), 1)],
        origin="specificity.jl:83-96 ('Method specificity', AbstractArray -> Array)"),
    Case("issue_17016_vararg_tuple_annotation", [
        "def f17016(f, t: UnionAll(N, Tuple[Any, Any, Vararg[Any, N]])): return 0",
        "def f17016(f, t1: Tuple[Vararg[Any]]): return 1",
    ], [("f17016(0, (1, 2, 3))", 0), ("f17016(0, (1, 2))", 0), ("f17016(0, (1,))", 1)],
        origin="specificity.jl:105-109 (#17016)"),
    # a where-T method against abstract-typed methods
    Case("diagonal_real_vs_abstract_real", [
        "def f(x: T_Real, y: T_Real): return 1",
        "def f(x: Real, y: Real): return 2",
    ], [("f(1, 2)", 1), ("f(1.0, 2.0)", 1), ("f(1, 2.0)", 2), ("f(np.int8(1), 2)", 2)],
        origin="subtype.jl:102 + specificity.jl:128 (Tuple{T,T} where T<:Real is more specific)"),
    Case("diagonal_where_T_vs_concrete_pair", [
        "def f(x: T, y: T): return 1",
        "def f(x: Int64, y: Int64): return 2",
    ], [("f(1, 2)", 2), ("f(1.0, 2.0)", 1), ("f(1, 2.0)", NOMETHOD)],
        origin="subtype.jl:116 (Tuple{Int,Int} <: Tuple{T,T} where T strictly)"),
    Case("diagonal_where_T_vs_int_first", [
        "def f(x: T, y: T): return 1",
        "def f(x: Int64, y): return 2",
    ], [("f(1, 'a')", 2), ("f(1.0, 2.0)", 1), ("f(1, 2)", AMBIG)],
        origin="subtype.jl:88/116: the two signatures are not comparable, Tuple{Int,Int} is in both"),
    Case("single_use_where_T_equals_its_bound", [
        "def f(x: T_Integer, y): return 1",
        "def f(x: Signed, y): return 2",
    ], [("f(1, 1)", 2), ("f(np.uint8(1), 1)", 1), ("f(True, 1)", 1)],
        origin="subtype.jl:203 (Tuple{T} where T<:Real == Tuple{Real})"),
    Case("issue_16493_where_T_number_vs_parametric_struct", [
        "def g(x: T_Number, y: Integer): return 0",
        "def g(x: Point[T], y): return 1",
    ], [("g(1.0, 1)", 0), ("g(Point(1.0, 2.0), 1.0)", 1), ("g(1, 2.0)", NOMETHOD)],
        prelude=POINTS, origin="ambiguous.jl g16493 (Complex{T} -> Point{T})"),
    Case("issue_11407_dict_params", [
        "def f11407(a: Dct[K, V], b: Dct[Any, V]): return 1",
        "def f11407(a: Dct[K, V], b: Dct[K, Any]): return 2",
    ], [(("f11407", "Dct[Any, Any], Dct[Any, Any]"), AMBIG),
        (("f11407", "Dct[Any, Int64], Dct[Any, Int64]"), 1),
        (("f11407", "Dct[Int64, Any], Dct[Int64, Any]"), 2),
        (("f11407", "Dct[Int64, Int64], Dct[Int64, Int64]"), NOMETHOD)],
        prelude=DCT, origin="ambiguous.jl: issue #11407"),
    Case("issue_11407_resolved", [
        "def f11407(a: Dct[K, V], b: Dct[Any, V]): return 1",
        "def f11407(a: Dct[K, V], b: Dct[K, Any]): return 2",
        "def f11407(a: Dct[Any, Any], b: Dct[Any, Any]): return 3",
    ], [(("f11407", "Dct[Any, Any], Dct[Any, Any]"), 3),
        (("f11407", "Dct[Any, Int64], Dct[Any, Int64]"), 1)],
        prelude=DCT, origin="ambiguous.jl: issue #11407"),
    Case("parametric_struct_invariance", [
        "def f(p: Point[Real]): return 1",
        "def f(p: Point[T]): return 2",
        "def f(p: Point[Float64]): return 3",
    ], [("f(Point(1.0, 2.0))", 3), ("f(Point(1, 2))", 2), ("f(Point[Real](1, 2.5))", 1)],
        prelude=POINTS, origin="types.md: Point{Float64} is not a Point{Real}"),
    Case("parametric_abstract_parent", [
        "def f(p: AbstractPoint[T]): return 1",
        "def f(p: AbstractPoint[Float64]): return 2",
        "def f(p: Point[Int64]): return 3",
    ], [("f(Point(1.0, 2.0))", 2), ("f(Point(1, 2))", 3), ("f(Point(np.float32(1), np.float32(2)))", 1)],
        prelude=POINTS,
        origin="types.md parametric abstract types: Point{Float64} <: AbstractPoint{Float64}"),
    Case("parametric_abstract_vs_concrete_unionall", [
        "def f(p: AbstractPoint[Float64]): return 1",
        "def f(p: Point): return 2",
    ], [("f(Point(1.0, 2.0))", AMBIG), ("f(Point(1, 2))", 2)],
        prelude=POINTS,
        origin="types.md: AbstractPoint{Float64} and Point (Point{T} where T<:Real) cross at Point{Float64}"),
    Case("ambig_with_bounds", [
        "def ambig_with_bounds(x, y: Int64, z: T_Integer): return 0",
        "def ambig_with_bounds(x: Int64, y, z: T_Integer): return 1",
    ], [("ambig_with_bounds(1, 2, 3)", AMBIG), ("ambig_with_bounds(1.0, 2, 3)", 0),
        ("ambig_with_bounds(1, 2.0, 3)", 1), ("ambig_with_bounds(1, 2, 3.0)", NOMETHOD)],
        origin="ambiguous.jl: ambig_with_bounds"),
]

SEQ_CASES = [
    # A where-T method with a single occurrence is the same signature as the abstract one, so
    # the second definition overwrites the first (Julia compares signatures by type equality).
    ("where_T_method_is_replaced_by_its_abstract_twin", [
        "def f(x: T_Real): return 1",
        ("f(1)", 1),
        "def f(x: Real): return 2",
        ("f(1)", 2), ("len(pk.methods(f))", 1),
    ], "", "subtype.jl:203 (Tuple{T} where T<:Real == Tuple{Real})"),
    ("ntuple_dims_redefinition", [
        "def f(dims: Tuple[()], A: Array[T, 0]): return 1",
        "def f(dims: Tuple[Vararg[Int64, N]], A: Array[T, N]): return 2",
        "def f(dims: Tuple[Vararg[Int64, M]], A: Array[T, N]): return 3",
        (("f", "Tuple[Int64, Int64], Matrix[Float64]"), 2),
        "def f(dims: Tuple[Vararg[Int64, N]], A: Array[T, N]): return 4",
        (("f", "Tuple[Int64, Int64], Matrix[Float64]"), 4),
        (("f", "Tuple[Int64, Int64, Int64], Matrix[Float64]"), 3),
        ("len(pk.methods(f))", 3),
    ], "", "specificity.jl:93-95"),
]

_modules = itertools.count()


def _fresh_module(case_id, prelude):
    mod = types.ModuleType(f"_pk_param_conformance_{next(_modules)}")
    src = HEADER + prelude
    fname = f"/conformance_parametric/{case_id}/prelude.py"
    pk.register_source(fname, src)
    exec(compile(src, fname, "exec"), mod.__dict__)
    return mod


def _define(mod, case_id, line):
    src = "@pk.generic\n" + line + "\n"
    fname = f"/conformance_parametric/{case_id}/{next(_modules)}.py"
    pk.register_source(fname, src)
    exec(compile(src, fname, "exec"), mod.__dict__)


def _check(mod, call, expected, context):
    """``call`` is an expression (a call on values, or any expression) or ``(name, argtypes)``
    with the argument types spelled as an expression in the case's module.

    Errors go through a real call (AmbiguityError and MethodError are raised by dispatch,
    before anything runs); a selected method is checked with ``pk.which`` and its Python body,
    so the answer is the dispatcher's and not the compiler's."""
    if isinstance(call, tuple):
        name, argtypes = call[0], tuple(eval(f"({call[1]},)", mod.__dict__))
        args = None
    elif re.fullmatch(r"\w+\(.*\)", call) and not call.startswith("len("):
        name = call.split("(", 1)[0]
        args = eval(call, {**mod.__dict__, name: lambda *a: a})
        argtypes = tuple(pk.typeof(a) for a in args)
    else:
        got = eval(call, mod.__dict__)
        assert got == expected, f"{context}: {call} gave {got!r}"
        return
    f = getattr(mod, name)
    where_ = f"{context}: {name}{argtypes}"
    if expected is AMBIG or expected is NOMETHOD:
        for _ in range(2):             # the second time after any caching
            with pytest.raises(pk.MethodError) as info:
                if args is None:
                    pk.which(f, argtypes)
                else:
                    f(*args)
            assert isinstance(info.value, pk.AmbiguityError) == (expected is AMBIG), \
                f"{where_}: expected {expected}, got {info.value!r}"
        return
    m = pk.which(f, argtypes)
    got = m.pyfunc(*(args if args is not None else [None] * len(argtypes)))
    assert got == expected, f"{where_}: selected {m!r} returning {got!r}"


def _orders(n, seed):
    if math.factorial(n) <= 24:
        return list(itertools.permutations(range(n)))
    rng = random.Random(seed)
    orders = {tuple(range(n)), tuple(reversed(range(n)))}
    while len(orders) < 24:
        orders.add(tuple(rng.sample(range(n), n)))
    return sorted(orders)


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.xfail)) if c.xfail else c
    for c in CASES], ids=[c.id for c in CASES])
def test_parametric_dispatch_conformance(case):
    for order in _orders(len(case.methods), case.id):
        mod = _fresh_module(case.id, case.prelude)
        for i in order:
            _define(mod, case.id, case.methods[i])
        for call, expected in case.calls:
            _check(mod, call, expected, f"{case.id} (methods in order {order})")


@pytest.mark.parametrize("steps,prelude", [c[1:3] for c in SEQ_CASES],
                         ids=[c[0] for c in SEQ_CASES])
def test_parametric_dispatch_sequence(steps, prelude):
    mod = _fresh_module("seq", prelude)
    for step in steps:
        if isinstance(step, str):
            _define(mod, "seq", step)
        else:
            _check(mod, *step, context="sequence")


# --------------------------------------------------------------------------------------------
# Ambiguity messages propose a fix (test/ambiguous.jl, "Printing ambiguity errors")


@pytest.mark.parametrize("methods,call,fix", [
    # ambiguous.jl: lines[end-1] == "  ambig_with_bounds(::Int, ::Int, ::T) where T<:Integer"
    (["def ambig_with_bounds(x, y: Int64, z: T_Integer): return 0",
      "def ambig_with_bounds(x: Int64, y, z: T_Integer): return 1"],
     "ambig_with_bounds(1, 2, 3)",
     r"ambig_with_bounds\(::Int64, ::Int64, ::(Integer\)|T\) where \{?T<:Integer\}?)"),
    # The diagonal method against an Int64-first one: the fix is their intersection.
    (["def f(x: T, y: T): return 1", "def f(x: Int64, y): return 2"],
     "f(1, 2)", r"f\(::Int64, ::Int64\)"),
    # A where-T Vector method against a Vector{Int}-first one.
    (["def f(v: Vector[T], x: Int64): return 1", "def f(v: Vector[Int64], x): return 2"],
     "f(np.array([1]), 2)", r"f\(::Vector\[Int64\], ::Int64\)"),
], ids=["ambig_with_bounds", "diagonal_vs_int_first", "vector_T_vs_vector_int"])
def test_ambiguity_message_proposes_a_fix(methods, call, fix):
    mod = _fresh_module("ambigmsg", "")
    for line in methods:
        _define(mod, "ambigmsg", line)
    with pytest.raises(pk.AmbiguityError) as info:
        eval(call, mod.__dict__)
    msg = str(info.value)
    assert "is ambiguous" in msg
    assert re.search(r"Possible fix, define\s+" + fix, msg), msg


# --------------------------------------------------------------------------------------------
# detect_ambiguities with parametric methods (test/ambiguous.jl)


@pytest.mark.parametrize("prelude,methods,count", [
    # ambiguous.jl Ambig6 (#17350): map1(::ScaleMinMax{To,From}, ::From) is below the
    # Union{Real,Complex} method, so the pair is not ambiguous.
    ("""
_To = pk.TypeVar("To")
_From = pk.TypeVar("From")
@pk.struct
class ScaleMinMax(pk.Generic[_To, _From]):
    a: _To
    b: _From
To = pk.TypeVar("To", bound=Union[Float32, Float64])
From = pk.TypeVar("From", bound=Real)
""", ["def map1(mapi: ScaleMinMax[To, From], val: From): return 1",
      "def map1(mapi: ScaleMinMax[To, From], val: Union[Real, Nothing]): return 2"], 0),
    # The diagonal method against the Int64-first one overlap on (Int64, Int64).
    ("", ["def f(x: T, y: T): return 1", "def f(x: Int64, y): return 2"], 1),
    # ... and a method for the overlap resolves it.
    ("", ["def f(x: T, y: T): return 1", "def f(x: Int64, y): return 2",
          "def f(x: Int64, y: Int64): return 3"], 0),
    # The diagonal method is below the untyped one: never ambiguous.
    ("", ["def f(x: T, y: T): return 1", "def f(x, y): return 2"], 0),
    # ambiguous.jl #11407
    (DCT, ["def f11407(a: Dct[K, V], b: Dct[Any, V]): return 1",
           "def f11407(a: Dct[K, V], b: Dct[K, Any]): return 2"], 1),
], ids=["Ambig6_map1", "diagonal_vs_int_first", "diagonal_vs_int_first_resolved",
        "diagonal_vs_untyped", "issue_11407"])
def test_detect_ambiguities_parametric(prelude, methods, count):
    mod = _fresh_module("detect", prelude)
    for line in methods:
        _define(mod, "detect", line)
    found = pk.detect_ambiguities(mod.__name__)
    assert len(found) == count, found


def test_there_are_at_least_sixty_cases():
    n = (len(SUBTYPE_CASES) + len(INTERSECT_CASES) + len(MATCH_CASES) + len(SPEC_CASES)
         + len(CASES) + len(SEQ_CASES))
    assert n >= 60

"""Julia conformance of dispatch: specificity and ambiguity, case by case.

The cases follow Julia's ``test/ambiguous.jl``, ``test/specificity.jl`` and the Methods chapter
of the manual, transposed to pkgimage's lattice (Python ``str``/``list`` values have type
``PyObject <: Any``).  Every case runs its method definitions in many different orders (all of
them up to 24, otherwise 24 deterministic permutations), each in a fresh throwaway module, and
calls every expression twice so the second call goes through the dispatch cache: the answer must
never depend on definition order nor on what was cached.  ``SEQ_CASES`` are scripts where the
order is the point (method replacement, methods added after a cached call).

Calls go through the real call path (the compiler's entry when it is installed) for the first
and the last definition order; the other orders check what ``pk.which`` selects.
"""

import itertools
import math
import random
import types
from dataclasses import dataclass

import pytest

import pkgimage as pk

AMBIG = "<AmbiguityError>"
NOMETHOD = "<MethodError>"

HEADER = "import numpy as np\nimport pkgimage as pk\nfrom pkgimage import *\n"

SHAPES = """
@pk.abstract
class Shape: ...
@pk.abstract
class Polygon(Shape): ...
@pk.struct
class Square(Polygon):
    side: Float64
@pk.struct
class Triangle(Polygon):
    base: Float64
@pk.struct
class Circle(Shape):
    r: Float64
"""

IRRATIONALS = """
@pk.abstract
class AbstractIrrational(Real): ...
@pk.abstract
class Irrational(AbstractIrrational): ...
@pk.struct
class PiT(Irrational): pass
@pk.struct
class Gamma(Irrational): pass
@pk.struct
class Irrational2(AbstractIrrational): pass
"""

CHR = """
@pk.abstract
class AbstractChr: ...
@pk.struct
class Chr(AbstractChr): pass
"""


@dataclass
class Case:
    id: str
    methods: list          # one-line method definitions, each added with @pk.generic
    calls: list            # (expression, expected value | AMBIG | NOMETHOD)
    prelude: str = ""
    origin: str = ""       # where the case comes from in Julia


@dataclass
class SeqCase:
    id: str
    steps: list            # "def ..." (a method, in this order) or (expression, expected)
    prelude: str = ""
    origin: str = ""


# The five-method example of Julia's test/ambiguous.jl and its manual section.
AMBIG5 = [
    "def ambig(x, y): return 1",
    "def ambig(x: Integer, y): return 2",
    "def ambig(x, y: Integer): return 3",
    "def ambig(x: Int64, y: Int64): return 4",
    "def ambig(x: Number, y): return 5",
]

MANUAL_F = [
    "def f(x: Float64, y: Float64): return 2 * x + y",
    "def f(x: Number, y: Number): return 2 * x - y",
]

MANUAL_G = [
    "def g(x: Float64, y): return 1",
    "def g(x, y: Float64): return 2",
]

AMB3 = [
    "def f(x: Int8, y: Int8): return 1",
    "def f(x: Int16, y: Int16): return 2",
    "def f(x: Integer, y: Integer): return 3",
    "def f(x: Integer, y): return 4",
    "def f(x, y: Integer): return 5",
]

UNION_SOUP = [
    "def f(x: Union[PiT, Integer]): return 1",
    "def f(x: Union[AbstractIrrational, Int64]): return 2",
    "def f(x: Irrational): return 3",
    "def f(x: Signed): return 4",
]

CROSSING_STRUCTS = [
    "def f(x: Square, y: Shape): return 1",
    "def f(x: Shape, y: Square): return 2",
]

CASES = [
    # ---- ambiguous.jl: the five-method ``ambig`` -------------------------------------------
    Case("ambig5_pyobjects_use_the_any_method", AMBIG5, [("ambig('hi', 'there')", 1)],
         origin="ambiguous.jl: ambig(\"hi\", \"there\") == 1"),
    Case("ambig5_floats_use_the_number_method", AMBIG5, [("ambig(3.1, 3.2)", 5)],
         origin="ambiguous.jl: ambig(3.1, 3.2) == 5"),
    Case("ambig5_int64_pair_uses_the_exact_method", AMBIG5, [("ambig(3, 4)", 4)],
         origin="ambiguous.jl: ambig(3, 4) == 4"),
    Case("ambig5_uint8_int64_is_ambiguous", AMBIG5, [("ambig(np.uint8(3), 4)", AMBIG)],
         origin="ambiguous.jl: @test_throws MethodError ambig(0x03, 4) (twice: not cached)"),
    Case("ambig5_bool_is_not_int64_so_bool_pairs_are_ambiguous", AMBIG5,
         [("ambig(True, True)", AMBIG), ("ambig(True, 4)", AMBIG), ("ambig(4, True)", AMBIG)]),
    Case("ambig5_integer_first_argument_beats_number", AMBIG5,
         [("ambig(3, 4.0)", 2), ("ambig(np.int8(1), 'x')", 2)]),
    Case("ambig5_number_first_vs_integer_second_is_ambiguous", AMBIG5,
         [("ambig(3.0, 4)", AMBIG), ("ambig(np.float32(3), np.uint16(4))", AMBIG)]),
    Case("ambig5_integer_second_argument_with_pyobject_first", AMBIG5,
         [("ambig('a', 4)", 3), ("ambig([], np.int8(4))", 3)]),
    Case("ambig5_number_first_with_pyobject_second", AMBIG5,
         [("ambig(np.float32(1), 's')", 5), ("ambig(2.5, None)", 5)]),

    # ---- The manual's Methods chapter ------------------------------------------------------
    Case("manual_f_float64_pair_is_most_specific", MANUAL_F,
         [("f(2.0, 3.0)", 7.0), ("f(np.float64(2), 3.0)", 7.0)],
         origin="manual: f(2.0, 3.0) == 7.0"),
    Case("manual_f_mixed_numbers_use_the_number_method", MANUAL_F,
         [("f(2, 3.0)", 1.0), ("f(2.0, 3)", 1.0), ("f(2, 3)", 1), ("f(np.float32(2), 3.0)", 1.0)],
         origin="manual: f(2, 3.0) == 1.0"),
    Case("manual_f_non_numbers_and_wrong_arity_have_no_method", MANUAL_F,
         [("f('foo', 3)", NOMETHOD), ("f(2.0)", NOMETHOD), ("f()", NOMETHOD)],
         origin="manual: f(\"foo\", 3) is a MethodError"),
    Case("manual_g_float64_in_either_position", MANUAL_G,
         [("g(2.0, 3)", 1), ("g(2, 3.0)", 2), ("g(2.0, 3.0)", AMBIG)],
         origin="manual: g(2.0, 3.0) is ambiguous"),
    Case("manual_g_ambiguity_resolved_by_the_intersection_method",
         MANUAL_G + ["def g(x: Float64, y: Float64): return 3"],
         [("g(2.0, 3.0)", 3), ("g(2.0, 3)", 1), ("g(2, 3.0)", 2)],
         origin="manual: 'define the method for the intersection first'"),
    Case("partial_cover_leaves_the_rest_of_the_intersection_ambiguous",
         MANUAL_G + ["def g(x: Float64, y: Float32): return 3"],
         [("g(2.0, np.float32(3))", 3), ("g(2.0, 3.0)", AMBIG)]),
    Case("ambiguity_requires_both_methods_to_apply",
         ["def f(x: Int64, y): return 1", "def f(x, y: Float64): return 2"],
         [("f(1, 1)", 1), ("f(1.0, 1.0)", 2), ("f(1, 1.0)", AMBIG), ("f('a', 'b')", NOMETHOD)]),
    Case("methods_of_different_arity_never_compete",
         ["def f(x): return 1", "def f(x, y): return 2", "def f(x: Int64, y: Int64, z): return 3"],
         [("f(1)", 1), ("f(1, 2)", 2), ("f(1, 2, 3)", 3), ("f(1.0, 2, 3)", NOMETHOD)]),
    Case("zero_argument_method",
         ["def f(): return 0", "def f(x: Int64): return 1"],
         [("f()", 0), ("f(1)", 1), ("f(1, 2)", NOMETHOD)]),

    # ---- ambiguous.jl: the Ambig modules and amb_* functions ------------------------------
    Case("int_any_and_any_int_covered_by_int_int",
         ["def f(x: Int64, y: Int64): return 1", "def f(x: Int64, y): return 2",
          "def f(x, y: Int64): return 3", "def f(x, y): return 4"],
         [("f(1, 1)", 1), ("f(1, 'a')", 2), ("f('a', 1)", 3), ("f('a', 'b')", 4), ("f(1.0, 1)", 3)],
         origin="ambiguous.jl: Ambig4 / fnoambig"),
    Case("int8_first_vs_int64_second_is_ambiguous",
         ["def f(x: Int8, y): return 1", "def f(x: Integer, y): return 2",
          "def f(x, y: Int64): return 3"],
         [("f(np.int8(1), 1.0)", 1), ("f(np.int8(1), 1)", AMBIG), ("f(np.int16(1), 1)", AMBIG),
          ("f(2.0, 1)", 3), ("f(np.int16(1), 2.0)", 2)],
         origin="ambiguous.jl: Ambig5"),
    Case("signed_and_int64_crossing_methods",
         ["def f(x: Integer, y: Int64): return 1", "def f(x: Int64, y: Integer): return 2",
          "def f(x: Signed, y: Int64): return 3", "def f(x: Int64, y: Signed): return 4"],
         [("f(1, 1)", AMBIG), ("f(np.int8(1), 1)", 3), ("f(1, np.int8(1))", 4),
          ("f(np.uint8(1), 1)", 1), ("f(1, np.uint8(1))", 2)],
         origin="ambiguous.jl: Ambig48312"),
    Case("ambiguous_pair_covered_by_more_specific_methods", AMB3,
         [("f(np.int8(1), np.int8(1))", 1), ("f(np.int16(1), np.int16(1))", 2), ("f(1, 1)", 3),
          ("f(np.int8(1), np.int16(1))", 3), ("f(1, 'a')", 4), ("f('a', 1)", 5)],
         origin="ambiguous.jl: amb_3"),
    Case("ambiguous_pair_without_the_covering_method", [m for m in AMB3 if "Integer, y: Integer" not in m],
         [("f(np.int8(1), np.int8(1))", 1), ("f(1, 1)", AMBIG),
          ("f(np.int8(1), np.int16(1))", AMBIG), ("f(1, 'a')", 4)],
         origin="ambiguous.jl: amb_4"),
    Case("overlapping_unions_with_a_struct_member",
         ["def ambig(x: Union[Chr, Int8]): return 1", "def ambig(x: Union[Chr, Int16]): return 2"],
         [("ambig(Chr())", AMBIG), ("ambig(np.int8(1))", 1), ("ambig(np.int16(1))", 2),
          ("ambig(1)", NOMETHOD)],
         prelude=CHR, origin="ambiguous.jl: #21963 (Char replaced by a struct)"),
    Case("union_soup_resolves_where_one_method_is_best", UNION_SOUP,
         [("f(np.uint8(0))", 1), ("f(Irrational2())", 2), ("f(Gamma())", 3), ("f(np.int8(0))", 4)],
         prelude=IRRATIONALS, origin="ambiguous.jl: Ambig8 (f and g orders)"),
    Case("union_soup_is_ambiguous_for_int64_and_pi", UNION_SOUP,
         [("f(0)", AMBIG), ("f(PiT())", AMBIG)],
         prelude=IRRATIONALS, origin="ambiguous.jl: Ambig8, f(0) and f(pi) throw"),

    # ---- Union specificity -----------------------------------------------------------------
    Case("union_below_an_abstract_type_is_more_specific",
         ["def f(x: Real): return 1", "def f(x: Union[Int64, Float64]): return 2"],
         [("f(1)", 2), ("f(1.0)", 2), ("f(np.float32(1))", 1), ("f(True)", 1)]),
    Case("concrete_member_beats_the_union",
         ["def f(x: Union[Int64, Float64]): return 1", "def f(x: Int64): return 2"],
         [("f(1)", 2), ("f(1.0)", 1), ("f(np.int8(1))", NOMETHOD)]),
    Case("overlapping_unions_are_ambiguous_on_the_shared_member",
         ["def f(x: Union[Int8, Int16]): return 1", "def f(x: Union[Int16, Int32]): return 2"],
         [("f(np.int8(1))", 1), ("f(np.int32(1))", 2), ("f(np.int16(1))", AMBIG)]),
    Case("method_for_the_shared_member_resolves_overlapping_unions",
         ["def f(x: Union[Int8, Int16]): return 1", "def f(x: Union[Int16, Int32]): return 2",
          "def f(x: Int16): return 3"],
         [("f(np.int16(1))", 3), ("f(np.int8(1))", 1), ("f(np.int32(1))", 2)]),
    Case("union_and_an_incomparable_abstract_type_are_ambiguous",
         ["def f(x: Signed): return 1", "def f(x: Union[Int64, Float64]): return 2"],
         [("f(1)", AMBIG), ("f(np.int8(1))", 1), ("f(1.0)", 2)]),
    Case("union_argument_resolved_piecewise_by_concrete_methods",
         ["def f(x: Union[Int64, Float64], y): return 1", "def f(x, y: Int64): return 2",
          "def f(x: Int64, y: Int64): return 3", "def f(x: Float64, y: Int64): return 4"],
         [("f(1, 1)", 3), ("f(1.0, 1)", 4), ("f(1, 1.0)", 1), ("f('a', 1)", 2),
          ("f(np.float32(1), 1)", 2)]),
    Case("bottom_signature_never_applies",
         ["def f(x: Union[()]): return 1", "def f(x: Int64): return 2"],
         [("f(1)", 2), ("f(1.0)", NOMETHOD)]),

    # ---- Vector invariance in dispatch -----------------------------------------------------
    Case("vector_real_does_not_accept_a_float64_vector",
         ["def f(x: Vector[Real]): return 1"],
         [("f(np.array([1.0]))", NOMETHOD), ("f(Vector[Real]([1, 2.5]))", 1),
          ("f(Vector[AbstractFloat]([1.0]))", NOMETHOD)]),
    Case("unparameterized_vector_is_less_specific_than_a_parameterized_one",
         ["def f(x: Vector): return 1", "def f(x: Vector[Float64]): return 2"],
         [("f(np.array([1.0]))", 2), ("f(np.array([1]))", 1), ("f(Vector[Real]([1]))", 1),
          ("f([1.0])", NOMETHOD)]),
    Case("vector_element_types_select_distinct_methods",
         ["def f(x: Vector[Float64]): return 1", "def f(x: Vector[Float32]): return 2",
          "def f(x: Vector[Int64]): return 3"],
         [("f(np.zeros(1))", 1), ("f(np.zeros(1, dtype=np.float32))", 2),
          ("f(Vector[Int64]([1]))", 3), ("f(np.zeros(1, dtype=np.int8))", NOMETHOD)]),
    Case("vector_method_vs_any_and_python_lists",
         ["def f(x): return 1", "def f(x: Vector[Int8]): return 2"],
         [("f(np.array([1], dtype=np.int8))", 2), ("f([1, 2])", 1), ("f(np.array([1]))", 1)]),
    Case("union_of_vectors_vs_one_of_its_members",
         ["def f(x: Union[Vector[Int64], Vector[Float64]]): return 1",
          "def f(x: Vector[Float64]): return 2"],
         [("f(np.zeros(1))", 2), ("f(np.zeros(1, dtype=np.int64))", 1),
          ("f(np.zeros(1, dtype=np.int8))", NOMETHOD)]),
    Case("vector_real_first_vs_vector_with_real_second",
         ["def f(x: Vector[Real], y): return 1", "def f(x: Vector, y: Real): return 2"],
         [("f(Vector[Real]([1]), 1)", AMBIG), ("f(np.zeros(1), 1)", 2),
          ("f(Vector[Real]([1]), 's')", 1), ("f(np.zeros(1), 's')", NOMETHOD)]),

    # ---- Struct hierarchies ----------------------------------------------------------------
    Case("nearest_struct_ancestor_wins",
         ["def f(x: Shape): return 1", "def f(x: Polygon): return 2", "def f(x: Square): return 3"],
         [("f(Square(1))", 3), ("f(Triangle(1))", 2), ("f(Circle(1))", 1), ("f(1)", NOMETHOD)],
         prelude=SHAPES),
    Case("struct_arguments_crossing_are_ambiguous", CROSSING_STRUCTS,
         [("f(Square(1), Square(1))", AMBIG), ("f(Square(1), Circle(1))", 1),
          ("f(Circle(1), Square(1))", 2), ("f(Circle(1), Circle(1))", NOMETHOD)],
         prelude=SHAPES),
    Case("struct_ambiguity_not_resolved_by_an_incomparable_method",
         CROSSING_STRUCTS + ["def f(x: Polygon, y: Polygon): return 3"],
         [("f(Square(1), Square(1))", AMBIG), ("f(Square(1), Triangle(1))", AMBIG),
          ("f(Triangle(1), Triangle(1))", 3), ("f(Square(1), Circle(1))", 1)],
         prelude=SHAPES),
    Case("disjoint_sibling_types_never_conflict",
         ["def f(x: Polygon): return 1", "def f(x: Circle): return 2", "def f(x): return 3"],
         [("f(Square(1))", 1), ("f(Circle(1))", 2), ("f(1)", 3)], prelude=SHAPES),
    Case("user_abstract_type_under_real",
         ["def f(x: Real): return 1", "def f(x: MyNum): return 2", "def f(x: Integer): return 3"],
         [("f(Fix(1))", 2), ("f(1)", 3), ("f(1.0)", 1), ("f('s')", NOMETHOD)],
         prelude="@pk.abstract\nclass MyNum(Real): ...\n@pk.struct\nclass Fix(MyNum):\n    raw: Int64\n"),
    Case("user_struct_under_integer_is_an_integer_but_not_signed",
         ["def f(x: Integer): return 1", "def f(x: Signed): return 2", "def f(x: Int64): return 3"],
         [("f(MyInt(1))", 1), ("f(np.int8(1))", 2), ("f(1)", 3)],
         prelude="@pk.struct\nclass MyInt(Integer):\n    v: Int64\n"),
    Case("singleton_struct_method_beats_any",
         ["def f(x: Nil): return 1", "def f(x): return 2"],
         [("f(Nil())", 1), ("f(1)", 2)], prelude="@pk.struct\nclass Nil: pass\n"),

    # ---- Abstract vs concrete, Bool --------------------------------------------------------
    Case("numeric_tower_nearest_supertype_wins",
         ["def f(x: Number): return 1", "def f(x: Real): return 2", "def f(x: Integer): return 3",
          "def f(x: Signed): return 4", "def f(x: Int64): return 5"],
         [("f(1)", 5), ("f(np.int8(1))", 4), ("f(np.uint8(1))", 3), ("f(True)", 3),
          ("f(1.0)", 2), ("f(np.float32(1))", 2), ("f('a')", NOMETHOD)]),
    Case("bool_method_beats_integer_and_int64_ignores_bool",
         ["def f(x: Integer): return 1", "def f(x: Bool): return 2", "def f(x: Int64): return 3"],
         [("f(True)", 2), ("f(np.bool_(False))", 2), ("f(1)", 3), ("f(np.int8(1))", 1)]),
    Case("bool_is_neither_signed_nor_unsigned",
         ["def f(x: Signed): return 1", "def f(x: Unsigned): return 2"],
         [("f(True)", NOMETHOD), ("f(np.bool_(True))", NOMETHOD), ("f(np.uint8(1))", 2),
          ("f(1)", 1)]),
    Case("float32_falls_back_to_abstractfloat",
         ["def f(x: AbstractFloat): return 1", "def f(x: Float64): return 2"],
         [("f(np.float32(1))", 1), ("f(1.0)", 2), ("f(np.float64(1))", 2), ("f(1)", NOMETHOD)]),
    Case("python_int_and_numpy_int64_are_the_same_type",
         ["def f(x: Int64): return 1", "def f(x: Int32): return 2"],
         [("f(1)", 1), ("f(np.int64(1))", 1), ("f(np.int32(1))", 2), ("f(np.int16(1))", NOMETHOD)]),
    Case("python_objects_only_match_any",
         ["def f(x): return 1", "def f(x: Number): return 2"],
         [("f('s')", 1), ("f([1])", 1), ("f(np.zeros((2, 2)))", 1), ("f(1)", 2)]),

    # ---- Several arguments -----------------------------------------------------------------
    Case("three_arguments_pairwise_ambiguity",
         ["def f(x: Int64, y, z): return 1", "def f(x, y: Int64, z): return 2",
          "def f(x, y, z: Int64): return 3", "def f(x: Int64, y: Int64, z): return 4"],
         [("f(1, 1, 'a')", 4), ("f(1, 'a', 'a')", 1), ("f(1, 1, 1)", AMBIG),
          ("f('a', 1, 1)", AMBIG), ("f('a', 'a', 1)", 3)]),
    Case("chain_of_specificity_has_a_unique_minimum",
         ["def f(x, y): return 1", "def f(x: Number, y): return 2",
          "def f(x: Real, y: Number): return 3", "def f(x: Int64, y: Real): return 4"],
         [("f(1, 1)", 4), ("f(1.0, 1)", 3), ("f(1.0, 's')", 2), ("f(1, 's')", 2), ("f('s', 1)", 1)],
         origin="specificity.jl: Tuple{Int, Real} <: ... is more specific down the chain"),
]

SEQ_CASES = [
    SeqCase("seq_union_method_added_after_cached_call_makes_it_ambiguous", [
        "def ambig(x: Union[Chr, Int8]): return 1",
        ("ambig(Chr())", 1), ("ambig(np.int8(1))", 1), ("ambig(np.int16(1))", NOMETHOD),
        "def ambig(x: Union[Chr, Int16]): return 2",
        ("ambig(Chr())", AMBIG), ("ambig(np.int8(1))", 1), ("ambig(np.int16(1))", 2),
    ], prelude=CHR, origin="ambiguous.jl: #21963"),
    SeqCase("seq_abstract_method_cached_then_union_method_makes_it_ambiguous", [
        "def h(x: AbstractChr): return 1",
        ("h(Chr())", 1),
        "def h(x: Union[Chr, Int16]): return 2",
        ("h(Chr())", AMBIG), ("h(np.int16(3))", 2),
    ], prelude=CHR, origin="#21963 with an abstract parent"),
    SeqCase("seq_overwriting_a_method_keeps_the_ambiguity", [
        "def ambig(x, y): return 1", "def ambig(x: Integer, y): return 2",
        "def ambig(x, y: Integer): return 3",
        ("ambig(2, np.uint8(3))", AMBIG),
        "def ambig(x, y: Integer): return 30",
        ("ambig(2, np.uint8(3))", AMBIG), ("ambig('a', 1)", 30), ("len(pk.methods(ambig))", 3),
    ], origin="ambiguous.jl: 'Method overwriting doesn't destroy ambiguities'"),
    SeqCase("seq_redefinition_replaces_the_cached_method", [
        "def f(x: Int64): return 1",
        ("f(1)", 1),
        "def f(x: Int64): return 2",
        ("f(1)", 2), ("len(pk.methods(f))", 1),
    ]),
    SeqCase("seq_union_subsumed_signature_replaces_the_abstract_one", [
        "def f(x: Integer): return 1",
        ("f(1)", 1),
        "def f(x: Union[Int64, Integer]): return 2",
        ("f(1)", 2), ("f(True)", 2), ("len(pk.methods(f))", 1),
    ]),
    SeqCase("seq_covering_method_resolves_an_ambiguity_seen_before", [
        "def f(x: Int64, y): return 1", "def f(x, y: Int64): return 2",
        ("f(1, 1)", AMBIG),
        "def f(x: Int64, y: Int64): return 3",
        ("f(1, 1)", 3), ("f(1, 1.0)", 1), ("f(1.0, 1)", 2),
    ]),
    SeqCase("seq_narrower_method_takes_over_a_cached_call", [
        "def f(x: Real): return 1",
        ("f(np.int8(1))", 1), ("f(1.0)", 1),
        "def f(x: Signed): return 2",
        ("f(np.int8(1))", 2), ("f(1.0)", 1),
    ]),
]

_modules = itertools.count()


def _fresh_module(case_id, prelude):
    mod = types.ModuleType(f"_pk_conformance_{next(_modules)}")
    src = HEADER + prelude
    pk.register_source(f"/conformance/{case_id}/prelude.py", src)
    exec(compile(src, f"/conformance/{case_id}/prelude.py", "exec"), mod.__dict__)
    return mod


def _define(mod, case_id, line):
    src = "@pk.generic\n" + line + "\n"
    fname = f"/conformance/{case_id}/{next(_modules)}.py"
    pk.register_source(fname, src)
    exec(compile(src, fname, "exec"), mod.__dict__)


def _check(mod, expr, expected, context):
    for attempt in ("first call", "second call (cached)"):
        where = f"{context}: {expr} [{attempt}]"
        if expected is AMBIG:
            with pytest.raises(pk.AmbiguityError, match="is ambiguous"):
                eval(expr, mod.__dict__)
        elif expected is NOMETHOD:
            with pytest.raises(pk.MethodError) as info:
                eval(expr, mod.__dict__)
            assert not isinstance(info.value, pk.AmbiguityError), where
        else:
            got = eval(expr, mod.__dict__)
            assert got == expected, f"{where}: got {got!r}"


def _check_selection(mod, expr, expected, context):
    """What ``pk.which`` selects for the argument types of ``expr`` (a call ``name(args)``),
    checked by running that method's Python body: cheaper than a compiled call, same rule."""
    name = expr.split("(", 1)[0]
    args = eval(expr, {**mod.__dict__, name: lambda *a: a})
    argtypes = tuple(pk.typeof(a) for a in args)
    f = getattr(mod, name)
    where = f"{context}: which({name}, {argtypes})"
    if expected is AMBIG:
        with pytest.raises(pk.AmbiguityError):
            pk.which(f, argtypes)
    elif expected is NOMETHOD:
        with pytest.raises(pk.MethodError) as info:
            pk.which(f, argtypes)
        assert not isinstance(info.value, pk.AmbiguityError), where
    else:
        got = pk.which(f, argtypes).pyfunc(*args)
        assert got == expected, f"{where}: got {got!r}"


def _orders(case):
    n = len(case.methods)
    if math.factorial(n) <= 24:
        return list(itertools.permutations(range(n)))
    rng = random.Random(case.id)
    orders = {tuple(range(n)), tuple(reversed(range(n)))}
    while len(orders) < 24:
        orders.add(tuple(rng.sample(range(n), n)))
    return sorted(orders)


def test_there_are_at_least_forty_conformance_cases():
    ids = [c.id for c in CASES + SEQ_CASES]
    assert len(ids) == len(set(ids)) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_dispatch_conformance(case):
    orders = _orders(case)
    for k, order in enumerate(orders):
        mod = _fresh_module(case.id, case.prelude)
        for i in order:
            _define(mod, case.id, case.methods[i])
        # Real calls (compiled on first use) for the first and last order; the selection
        # alone for the others, to keep the suite fast.
        check = _check if k in (0, len(orders) - 1) else _check_selection
        for expr, expected in case.calls:
            check(mod, expr, expected, f"{case.id} with methods defined in order {order}")


@pytest.mark.parametrize("case", SEQ_CASES, ids=[c.id for c in SEQ_CASES])
def test_dispatch_conformance_sequence(case):
    mod = _fresh_module(case.id, case.prelude)
    for step in case.steps:
        if isinstance(step, str):
            _define(mod, case.id, step)
        else:
            _check(mod, *step, context=case.id)

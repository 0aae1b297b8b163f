"""Generic functions: definition, ownership by module, which/methods, the world counter, cache
correctness, error messages and ``detect_ambiguities``.  (Specificity rules case by case are in
test_dispatch_conformance.py.)"""

import re

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import (Any, Float32, Float64, Int16, Int64, Integer, Number, Real, Union,
                      Vector)

# --------------------------------------------------------------------------------------------
# Defining generic functions


def test_generic_defines_a_function_and_later_defs_add_methods():
    @pk.generic
    def area(x: Int64):
        return 1

    first = area

    @pk.generic
    def area(x: Float64):
        return 2

    assert area is first
    assert isinstance(area, pk.GenericFunction)
    assert len(pk.methods(area)) == 2
    assert (area(3), area(3.0)) == (1, 2)
    assert repr(area) == "area (generic function with 2 methods)"


def test_function_by_name_creates_an_empty_function_then_returns_the_same_one(load_module):
    mod = load_module("""
        import pkgimage as pk
        addxy = pk.function("addxy")
        again = pk.function("addxy")
    """)
    assert mod.addxy is mod.again
    assert pk.methods(mod.addxy) == []
    assert repr(mod.addxy) == "addxy (generic function with 0 methods)"
    with pytest.raises(pk.MethodError, match="exists, but no method is defined"):
        mod.addxy(1, 2)


def test_method_decorator_adds_to_the_function_and_returns_it(load_module):
    mod = load_module("""
        import pkgimage as pk
        addxy = pk.function("addxy")

        @addxy.method
        def _(x: pk.Int64, y: pk.Int64):
            return x + y

        @pk.generic
        def addxy(x: pk.Float64, y: pk.Float64):
            return x * y
    """)
    assert mod._ is mod.addxy
    assert mod.addxy(2, 3) == 5
    assert mod.addxy(2.0, 3.0) == 6.0


def test_which_returns_the_method_with_its_definition_site(load_module):
    mod = load_module("""
        import pkgimage as pk

        @pk.generic
        def double(x: pk.Real):
            return 2 * x

        @pk.generic
        def double(x: pk.Float64):
            return 2.0 * x
    """, filename="/virtual/pkg/double.py")
    m = pk.which(mod.double, (Int64,))
    assert isinstance(m, pk.Method)
    assert m.params == (Real,)
    assert (m.file, m.line) == ("/virtual/pkg/double.py", 4)
    assert m.location == "/virtual/pkg/double.py:4"
    assert m.module == mod.__name__
    assert m.function is mod.double
    assert pk.which(mod.double, [Float64]).line == 8
    assert pk.which(mod.double, (Float32,)) is m
    with pytest.raises(pk.MethodError):
        pk.which(mod.double, (pk.PyObject,))


def test_methods_are_listed_in_the_same_order_whatever_the_definition_order(load_module):
    defs = ["def f(x: pk.Int64): return 1", "def f(x): return 2",
            "def f(x: pk.Real, y): return 3", "def f(x: pk.Float64): return 4"]

    def listing(order):
        src = "import pkgimage as pk\n" + "".join(f"@pk.generic\n{defs[i]}\n" for i in order)
        return [m.params for m in pk.methods(load_module(src).f)]

    assert listing([0, 1, 2, 3]) == listing([3, 2, 1, 0]) == listing([2, 0, 3, 1])
    assert len(listing([0, 1, 2, 3])) == 4


# --------------------------------------------------------------------------------------------
# Functions belong to their module


def test_two_modules_functions_of_the_same_name_are_distinct(load_module):
    src = """
        import pkgimage as pk
        @pk.generic
        def f(x: pk.Int64):
            return {}
    """
    a = load_module(src.format(1))
    b = load_module(src.format(2))
    assert a.f is not b.f
    assert (a.f(0), b.f(0)) == (1, 2)
    assert len(pk.methods(a.f)) == len(pk.methods(b.f)) == 1


def test_a_module_extends_another_modules_function_only_explicitly(load_module):
    a = load_module("""
        import pkgimage as pk
        @pk.generic
        def f(x: pk.Int64):
            return 1
    """)
    b = load_module(f"""
        import pkgimage as pk
        import {a.__name__} as a

        @a.f.method
        def _(x: pk.Float64):
            return 2
    """)
    assert a.f(1.0) == 2
    assert len(pk.methods(a.f)) == 2
    m = pk.which(a.f, (Float64,))
    assert m.module == b.__name__ and m.function is a.f


def test_defining_a_same_named_function_does_not_extend_an_imported_one(load_module):
    """``@pk.generic`` always defines in the defining module, like Julia's ``f(x) = ...``
    without ``import A: f``: the imported name is shadowed, ``A.f`` is untouched."""
    a = load_module("""
        import pkgimage as pk
        @pk.generic
        def f(x: pk.Int64):
            return 1
    """)
    b = load_module(f"""
        import pkgimage as pk
        from {a.__name__} import f
        @pk.generic
        def f(x: pk.Float64):
            return 2
    """)
    assert b.f is not a.f
    assert len(pk.methods(a.f)) == 1
    with pytest.raises(pk.MethodError):
        a.f(1.0)
    with pytest.raises(pk.MethodError):
        b.f(1)


def test_functions_defined_in_different_python_functions_are_distinct():
    def first():
        @pk.generic
        def g(x: Int64):
            return 1
        return g

    def second():
        @pk.generic
        def g(x: Int64):
            return 2
        return g

    g1, g2 = first(), second()
    assert g1 is not g2
    assert (g1(0), g2(0)) == (1, 2)
    assert first() is g1, "the same scope gets the same function back"
    assert len(pk.methods(g1)) == 1


def test_function_by_name_inside_a_python_function_is_scoped_like_generic():
    h = pk.function("h_scoped")

    @pk.generic
    def h_scoped(x: Int64):
        return 7

    assert h_scoped is h
    assert h(1) == 7


# --------------------------------------------------------------------------------------------
# World counter and replacement


def test_world_counter_bumps_once_per_method_definition():
    start = pk.world_counter()
    f = pk.function("f")

    @f.method
    def _(x: Int64):
        return 1
    assert pk.world_counter() == start + 1

    @pk.generic
    def f(x: Float64):
        return 2
    assert pk.world_counter() == start + 2
    assert pk.which(f, (Float64,)).primary_world == start + 2

    f(1), f(1.0), f(1)
    with pytest.raises(pk.MethodError):
        f("no")
    assert pk.world_counter() == start + 2, "calls and errors do not define anything"

    @pk.generic
    def f(x: Int64):
        return 3
    assert pk.world_counter() == start + 3, "a replacement is a definition too"


def test_redefining_a_signature_replaces_the_method():
    @pk.generic
    def f(x: Int64, y):
        return 1

    old = pk.which(f, (Int64, Float64))
    assert f(1, 2.0) == 1  # cached now

    @pk.generic
    def f(x: Int64, y):
        return 2

    assert len(pk.methods(f)) == 1
    assert f(1, 2.0) == 2
    new = pk.which(f, (Int64, Float64))
    assert new is not old
    assert old.deleted_world == new.primary_world


def test_equal_union_signatures_are_the_same_signature():
    """``Union[Int64, Float64]`` and ``Union[Float64, Int64]`` are one type, so the second
    definition replaces the first."""
    @pk.generic
    def f(x: Union[Int64, Float64]):
        return 1

    @pk.generic
    def f(x: Union[Float64, Int64]):
        return 2

    assert len(pk.methods(f)) == 1
    assert f(1) == f(1.0) == 2


# --------------------------------------------------------------------------------------------
# The dispatch cache stays correct


def test_issue_21963_cached_call_becomes_ambiguous_when_a_union_method_is_added():
    @pk.abstract
    class AbstractChr:
        ...

    @pk.struct
    class Chr(AbstractChr):
        pass

    @pk.generic
    def h(x: AbstractChr):
        return 1

    assert h(Chr()) == 1
    assert h(Chr()) == 1  # served from the cache
    assert pk.which(h, (Chr,)).params == (AbstractChr,)

    @pk.generic
    def h(x: Union[Chr, Int16]):
        return 2

    with pytest.raises(pk.AmbiguityError):
        h(Chr())
    with pytest.raises(pk.AmbiguityError):
        pk.which(h, (Chr,))
    assert h(np.int16(1)) == 2


def test_cached_call_moves_to_a_newly_added_more_specific_method():
    @pk.generic
    def f(x: Real):
        return 1

    assert f(1) == 1 and f(1.0) == 1

    @pk.generic
    def f(x: Int64):
        return 2

    assert f(1) == 2
    assert f(1.0) == 1


def test_cached_method_error_disappears_when_a_method_is_added():
    @pk.generic
    def f(x: Float64):
        return 1

    with pytest.raises(pk.MethodError):
        f(1)

    @pk.generic
    def f(x: Int64):
        return 2

    assert f(1) == 2


def test_ambiguous_result_is_never_cached():
    @pk.generic
    def f(x: Int64, y):
        return 1

    @pk.generic
    def f(x, y: Int64):
        return 2

    for _ in range(3):
        with pytest.raises(pk.AmbiguityError):
            f(1, 1)
    assert f(1, 1.0) == 1 and f(1.0, 1) == 2

    @pk.generic
    def f(x: Int64, y: Int64):
        return 3

    assert f(1, 1) == 3


def test_bool_and_int_calls_are_cached_separately():
    """``True`` is a Python int, but Bool is not a subtype of Int64: the fast path keyed by the
    Python class must not let a cached ``f(1)`` answer ``f(True)``."""
    @pk.generic
    def f(x: Int64):
        return 1

    assert f(1) == 1
    with pytest.raises(pk.MethodError):
        f(True)
    assert f(np.int64(2)) == 1

    @pk.generic
    def f(x: Integer):
        return 2

    assert f(True) == 2 and f(1) == 1


def test_numpy_arrays_dispatch_on_their_dtype_on_every_call():
    @pk.generic
    def f(x: Vector[Float64]):
        return 64

    @pk.generic
    def f(x: Vector[Int64]):
        return -64

    for _ in range(2):
        assert f(np.zeros(2)) == 64
        assert f(np.zeros(2, dtype=np.int64)) == -64
        with pytest.raises(pk.MethodError):
            f(np.zeros(2, dtype=np.float32))


def test_array_calls_cached_by_type_move_to_a_method_added_later():
    """A call with an array is cached by its argument types (an array's class does not
    decide its type): adding a more specific method, or calling with another dtype or rank,
    must not reuse the cached entry."""
    @pk.generic
    def f(x: pk.Array, n: Int64):
        return 1

    a = np.zeros((2, 2))
    for _ in range(3):
        assert f(a, 1) == 1
        assert f(np.zeros(3, dtype=np.int64), 1) == 1

    @pk.generic
    def f(x: pk.Matrix[Float64], n: Int64):
        return 2

    for _ in range(3):
        assert f(a, 1) == 2
        assert f(np.zeros((2, 2), dtype=np.int32), 1) == 1
        assert f(np.zeros(3), 1) == 1
        assert f(np.zeros((1, 1, 1)), 1) == 1


def test_adding_a_method_to_another_function_leaves_results_unchanged():
    @pk.generic
    def f(x: Real):
        return 1

    @pk.generic
    def g(x: Real):
        return 10

    assert f(1) == 1

    @pk.generic
    def g(x: Int64):
        return 20

    assert f(1) == 1 and g(1) == 20


# --------------------------------------------------------------------------------------------
# Error messages


def test_ambiguity_error_names_candidates_and_suggests_a_fix(load_module):
    mod = load_module("""
        import pkgimage as pk

        @pk.generic
        def g(x: pk.Float64, y):
            return 1

        @pk.generic
        def g(x, y: pk.Float64):
            return 2
    """, filename="/virtual/pkg/gmod.py")
    with pytest.raises(pk.AmbiguityError) as info:
        mod.g(2.0, 3.0)
    err = info.value
    msg = str(err)
    assert "g(::Float64, ::Float64) is ambiguous" in msg
    assert re.search(r"g\(x::Float64, y\).*/virtual/pkg/gmod\.py:4", msg)
    assert re.search(r"g\(x, y::Float64\).*/virtual/pkg/gmod\.py:8", msg)
    assert re.search(r"Possible fix, define\s+g\(::Float64, ::Float64\)", msg)
    assert isinstance(err, pk.MethodError) and isinstance(err, TypeError)
    assert err.function is mod.g
    assert err.argtypes == (Float64, Float64)
    assert sorted(m.line for m in err.candidates) == [4, 8]


def test_ambiguity_error_lists_every_involved_method_like_julia(load_module):
    """Julia's ambiguous.jl: for ``ambig(0x03, 4)`` the message lists ``ambig(x::Integer, y)``,
    ``ambig(x, y::Integer)`` and ``ambig(x::Number, y)`` (ambiguous with the second), but not
    ``ambig(x, y)``, which every candidate beats, and suggests ``ambig(::Integer, ::Integer)``."""
    mod = load_module("""
        import pkgimage as pk
        @pk.generic
        def ambig(x, y): return 1
        @pk.generic
        def ambig(x: pk.Integer, y): return 2
        @pk.generic
        def ambig(x, y: pk.Integer): return 3
        @pk.generic
        def ambig(x: pk.Int64, y: pk.Int64): return 4
        @pk.generic
        def ambig(x: pk.Number, y): return 5
    """)
    with pytest.raises(pk.AmbiguityError) as info:
        mod.ambig(np.uint8(3), 4)
    msg = str(info.value)
    assert "ambig(::UInt8, ::Int64) is ambiguous" in msg
    for cand in ("ambig(x::Integer, y)", "ambig(x, y::Integer)", "ambig(x::Number, y)"):
        assert cand in msg
    assert "ambig(x, y) in" not in msg
    assert re.search(r"Possible fix, define\s+ambig\(::Integer, ::Integer\)", msg)
    assert {m.params for m in info.value.candidates} == {(Integer, Any), (Any, Integer), (Number, Any)}


def test_method_error_lists_closest_candidates(load_module):
    mod = load_module("""
        import pkgimage as pk
        @pk.generic
        def f(x: pk.Int64, y: pk.Int64): return 1
        @pk.generic
        def f(x: pk.Float64, y: pk.Int64): return 2
        @pk.generic
        def f(x: pk.Float64): return 3
        @pk.generic
        def f(x: pk.Int8, y: pk.Int8, z: pk.Int8): return 4
        @pk.generic
        def f(x, y, z, w): return 5
    """, filename="/virtual/pkg/fmod.py")
    with pytest.raises(pk.MethodError) as info:
        mod.f(object(), 1)
    err = info.value
    assert not isinstance(err, pk.AmbiguityError)
    msg = str(err)
    assert "no method matching f(::PyObject, ::Int64)" in msg
    assert "Closest candidates are:" in msg
    listed = msg.split("Closest candidates are:")[1].strip().splitlines()
    # Same arity first, each with its location, and the message stays short.
    assert len(listed) == 3
    assert {listed[0].split(" in ")[0].strip(), listed[1].split(" in ")[0].strip()} == \
        {"f(x::Int64, y::Int64)", "f(x::Float64, y::Int64)"}
    assert all("/virtual/pkg/fmod.py:" in line for line in listed)
    assert err.argtypes == (pk.PyObject, Int64) and err.function is mod.f


def test_wrong_arity_is_a_method_error():
    @pk.generic
    def f(x):
        return 1

    with pytest.raises(pk.MethodError, match=r"no method matching f\(::Int64, ::Int64\)"):
        f(1, 2)
    with pytest.raises(pk.MethodError, match=r"no method matching f\(\)"):
        f()


# --------------------------------------------------------------------------------------------
# detect_ambiguities (Julia's Test.detect_ambiguities, cases from test/ambiguous.jl)

AMBIG_SOURCES = {
    "Ambig1": (["(x, y)", "(x: Integer, y)", "(x, y: Integer)"], 1),
    "Ambig2": (["(x, y)", "(x: Integer, y)", "(x, y: Integer)", "(x: Number, y)"], 2),
    "Ambig3": (["(x, y)", "(x: Integer, y)", "(x, y: Integer)", "(x: Int64, y: Int64)"], 1),
    "Ambig4": (["(x, y)", "(x: Int64, y)", "(x, y: Int64)", "(x: Int64, y: Int64)"], 0),
    "Ambig5": (["(x: Int8, y)", "(x: Integer, y)", "(x, y: Int64)"], 2),
    "Ambig48312": (["(x: Integer, y: Int64)", "(x: Int64, y: Integer)",
                    "(x: Signed, y: Int64)", "(x: Int64, y: Signed)"], 4),
    # amb_3: ambiguous pairs whose intersection a third method covers
    "amb_3": (["(x: Int8, y: Int8)", "(x: Int16, y: Int16)", "(x: Integer, y: Integer)",
               "(x: Integer, y)", "(x, y: Integer)"], 0),
    # amb_4: as amb_3 without the covering method
    "amb_4": (["(x: Int8, y: Int8)", "(x: Int16, y: Int16)", "(x: Integer, y)",
               "(x, y: Integer)"], 1),
    # the intersection (Union[Int64, Float64], Int64) is covered piece by piece
    "union_split_covered": (["(x: Union[Int64, Float64], y)", "(x, y: Int64)",
                             "(x: Int64, y: Int64)", "(x: Float64, y: Int64)"], 0),
    "union_split_half_covered": (["(x: Union[Int64, Float64], y)", "(x, y: Int64)",
                                  "(x: Int64, y: Int64)"], 1),
    "disjoint_arities": (["(x: Int64, y)", "(x, y: Int64, z)", "(x,)"], 0),
}


def ambig_module_source(sigs):
    lines = ["import pkgimage as pk", "from pkgimage import *"]
    for i, sig in enumerate(sigs):
        lines += ["@pk.generic", f"def ambig{sig}: return {i}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", list(AMBIG_SOURCES))
def test_detect_ambiguities_counts_like_julia(load_module, name):
    sigs, expected = AMBIG_SOURCES[name]
    mod = load_module(ambig_module_source(sigs))
    assert len(pk.detect_ambiguities(mod)) == expected
    assert len(pk.detect_ambiguities(mod.__name__)) == expected


def test_detect_ambiguities_reports_the_ambiguous_pair(load_module):
    mod = load_module(ambig_module_source(AMBIG_SOURCES["Ambig1"][0]))
    ((a, b),) = pk.detect_ambiguities(mod)
    assert {a.params, b.params} == {(Integer, Any), (Any, Integer)}
    assert all(isinstance(m, pk.Method) for m in (a, b))


def test_detect_ambiguities_agrees_with_calls(load_module):
    """Each reported pair really is ambiguous for a call in its intersection, and a reported
    module becomes clean once the covering method is defined."""
    mod = load_module(ambig_module_source(AMBIG_SOURCES["amb_4"][0]))
    with pytest.raises(pk.AmbiguityError):
        mod.ambig(1, 1)

    @mod.ambig.method
    def _(x: Integer, y: Integer):
        return 9

    extender = __name__
    assert pk.detect_ambiguities(mod) == []
    assert mod.ambig(1, 1) == 9
    assert not [p for p in pk.detect_ambiguities(extender) if p[0].function is mod.ambig]


def test_detect_ambiguities_includes_methods_a_module_adds_to_other_functions(load_module):
    base = load_module("""
        import pkgimage as pk
        @pk.generic
        def combine(x: pk.Int64, y):
            return 1
    """)
    assert pk.detect_ambiguities(base) == []
    ext = load_module(f"""
        import pkgimage as pk
        import {base.__name__} as base
        @base.combine.method
        def _(x, y: pk.Int64):
            return 2
    """)
    pairs = pk.detect_ambiguities(ext)
    assert len(pairs) == 1
    assert {m.module for m in pairs[0]} == {base.__name__, ext.__name__}
    unrelated = load_module("x = 1")
    assert pk.detect_ambiguities(unrelated) == []

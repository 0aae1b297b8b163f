"""The type lattice: the abstract tree, primitives, Union, Vector[T], typeof/isa/issubtype/
typeintersect and exact conversion."""

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import (AbstractFloat, Any, Bool, Bottom, Float32, Float64, Int8, Int16, Int32,
                      Int64, Integer, Number, PyObject, Real, Signed, UInt8, UInt16, UInt32,
                      UInt64, Union, Unsigned, Vector, isa, isconcrete, issubtype, typeintersect,
                      typeof)
from pkgimage import Array, List, Matrix, Tuple, Vararg, detect_ambiguities

# --------------------------------------------------------------------------------------------
# The abstract tree

TREE = {
    Number: Any, Real: Number, Integer: Real, AbstractFloat: Real,
    Signed: Integer, Unsigned: Integer, Bool: Integer,
    Int8: Signed, Int16: Signed, Int32: Signed, Int64: Signed,
    UInt8: Unsigned, UInt16: Unsigned, UInt32: Unsigned, UInt64: Unsigned,
    Float32: AbstractFloat, Float64: AbstractFloat,
}


@pytest.mark.parametrize("child,parent", list(TREE.items()), ids=lambda t: repr(t))
def test_each_builtin_type_has_julias_direct_supertype(child, parent):
    assert issubtype(child, parent)
    assert not issubtype(parent, child)
    assert child.__pk_super__ is parent


@pytest.mark.parametrize("t", list(TREE), ids=repr)
def test_every_builtin_type_is_below_any_and_number(t):
    assert issubtype(t, Any)
    assert issubtype(t, Number)


@pytest.mark.parametrize("a,b", [
    (Bool, Int64), (Bool, Signed), (Bool, Unsigned), (Int64, Bool),
    (Int8, Int16), (Int64, UInt64), (Float32, Float64), (Float64, Integer),
    (Int64, AbstractFloat), (Signed, Unsigned), (AbstractFloat, Integer), (PyObject, Number),
], ids=lambda t: repr(t))
def test_unrelated_types_are_not_subtypes(a, b):
    assert not issubtype(a, b)


def test_bool_is_an_integer_but_not_an_int64():
    assert issubtype(Bool, Integer)
    assert not issubtype(Bool, Int64)
    assert not isa(True, Int64)
    assert isa(True, Integer)


@pytest.mark.parametrize("t,concrete", [
    (Int64, True), (Bool, True), (Float32, True), (Vector[Float64], True), (Vector[Real], True),
    (PyObject, True), (Any, False), (Real, False), (Integer, False), (Vector, False),
    (Union[Int64, Float64], False), (Bottom, False),
], ids=lambda v: repr(v))
def test_isconcrete(t, concrete):
    assert isconcrete(t) is concrete


@pytest.mark.parametrize("t", [Any, Number, Real, Integer, Signed, AbstractFloat])
def test_abstract_types_cannot_be_instantiated(t):
    with pytest.raises(TypeError):
        t(1)


def test_types_print_with_their_julia_names():
    assert repr(Int64) == "Int64"
    assert str(AbstractFloat) == "AbstractFloat"
    assert repr(Vector[Float64]) == "Vector[Float64]"
    assert repr(Union[Int64, Float64]) == "Union[Float64, Int64]"
    assert repr(Union[()]) == "Union[]"


# --------------------------------------------------------------------------------------------
# Union


def test_union_is_order_free_and_canonical():
    assert Union[Int64, Float64] is Union[Float64, Int64]
    assert Union[Int8, Int16, Int32] is Union[Int32, Int8, Int16]


def test_union_flattens_nested_unions():
    assert Union[Union[Int8, Int16], Union[Int32, Float64]] is Union[Int8, Int16, Int32, Float64]
    assert set(Union[Union[Int8, Int16], Int32].__pk_members__) == {Int8, Int16, Int32}


def test_union_drops_duplicates_and_members_covered_by_another():
    assert Union[Int64, Int64] is Int64
    assert Union[Int64, Integer] is Integer
    assert Union[Int8, Signed, Float64] is Union[Signed, Float64]
    assert Union[Int64, Any] is Any


def test_union_of_one_type_is_that_type():
    assert Union[Int64] is Int64
    assert Union[(Float32,)] is Float32


def test_empty_union_is_the_bottom_type():
    assert Union[()] is Bottom
    for t in (Int64, Real, Any, Vector[Float64], Union[Int8, Float32]):
        assert issubtype(Bottom, t)
        assert not issubtype(t, Bottom)
    assert Union[Bottom, Int64] is Int64


def test_union_subtyping_is_memberwise():
    assert issubtype(Union[Int8, Int16], Signed)
    assert not issubtype(Union[Int8, UInt8], Signed)
    assert issubtype(Int8, Union[Int8, Float64])
    assert issubtype(Union[Int8, Float64], Union[Int8, Float64, Bool])
    assert not issubtype(Union[Int8, Float64, Bool], Union[Int8, Float64])
    assert not issubtype(Integer, Union[Signed, Unsigned, Bool]), \
        "an abstract type is not a subtype of the union of its known subtypes"


def test_union_members_must_be_pkgimage_types():
    with pytest.raises(TypeError):
        Union[int, Int64]


# --------------------------------------------------------------------------------------------
# Vector[T]


def test_vector_types_are_canonical():
    assert Vector[Float64] is Vector[Float64]
    assert Vector[Union[Int64, Float64]] is Vector[Union[Float64, Int64]]
    assert Vector[Float64] is not Vector[Float32]


def test_vector_is_invariant_in_its_element_type():
    assert not issubtype(Vector[Float64], Vector[Real])
    assert not issubtype(Vector[Int64], Vector[Integer])
    assert not issubtype(Vector[Real], Vector[Float64])
    assert typeintersect(Vector[Float64], Vector[Real]) is Bottom


def test_every_vector_type_is_below_unparameterized_vector():
    for el in (Float64, Real, Any, Union[Int8, Bool]):
        assert issubtype(Vector[el], Vector)
        assert issubtype(Vector[el], Any)
    assert not issubtype(Vector, Vector[Any])
    assert not issubtype(Vector[Float64], Number)


def test_vector_element_type_must_be_a_pkgimage_type():
    with pytest.raises(TypeError):
        Vector[object]


def test_vector_of_concrete_primitive_is_numpy_backed_and_converted():
    v = Vector[Float64]([1, 2, 3])
    assert isinstance(v, np.ndarray) and v.dtype == np.float64
    assert v.tolist() == [1.0, 2.0, 3.0]
    assert typeof(v) is Vector[Float64]
    w = Vector[Int8](x for x in (1, -2))
    assert w.dtype == np.int8 and typeof(w) is Vector[Int8]


def test_vector_constructor_copies_a_matching_numpy_array():
    a = np.array([1.0, 2.0])
    v = Vector[Float64](a)
    v[0] = 5.0
    assert a[0] == 1.0


def test_vector_of_concrete_primitive_converts_exactly():
    with pytest.raises(pk.InexactError):
        Vector[Int8]([1, 300])
    with pytest.raises(pk.InexactError):
        Vector[Int64]([1.5])


def test_vector_of_abstract_eltype_is_boxed_and_keeps_element_types():
    v = Vector[AbstractFloat]([1.0, np.float32(2)])
    assert typeof(v) is Vector[AbstractFloat]
    assert [typeof(x) for x in v] == [Float64, Float32]
    assert len(v) == 2 and v[1] == 2.0
    assert not isinstance(v, np.ndarray)


def test_boxed_vector_rejects_elements_outside_its_eltype():
    with pytest.raises(TypeError):
        Vector[AbstractFloat]([1.0, "x"])
    v = Vector[Real]([1, 2.5])
    v[0] = np.int8(3)
    with pytest.raises(TypeError):
        v[1] = "no"


def test_empty_vector():
    assert typeof(Vector[Int64]()) is Vector[Int64]
    assert len(Vector[Real]([])) == 0


def test_unparameterized_vector_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Vector([1, 2])


# --------------------------------------------------------------------------------------------
# typeof / isa


@pytest.mark.parametrize("value,t", [
    (1, Int64), (-(2 ** 63), Int64), (1.5, Float64), (True, Bool), (False, Bool),
    (np.bool_(True), Bool), (np.int8(1), Int8), (np.int16(1), Int16), (np.int32(1), Int32),
    (np.int64(1), Int64), (np.uint8(1), UInt8), (np.uint16(1), UInt16),
    (np.uint32(1), UInt32), (np.uint64(1), UInt64), (np.float32(1), Float32),
    (np.float64(1), Float64),
    (np.longlong(1), Int64), (np.ulonglong(1), UInt64),
    (np.array([1.0, 2.0]), Vector[Float64]), (np.array([1, 2], dtype=np.uint8), Vector[UInt8]),
    (np.array([True]), Vector[Bool]), (np.zeros(0, dtype=np.float32), Vector[Float32]),
    ("hi", pk.String), ([1, 2], pk.List[Int64]), ([1, 2.5], pk.List[pk.Union[Int64, Float64]]),
    ([], pk.List[pk.Any]), ([[1.0]], pk.List[pk.List[Float64]]), (object(), PyObject),
    (np.zeros((2, 2)), pk.Matrix[Float64]), (np.float16(1), PyObject),
], ids=lambda v: type(v).__name__ if not isinstance(v, pk.types.PkType) else repr(v))
def test_typeof_maps_python_and_numpy_values(value, t):
    assert typeof(value) is t


def test_typeof_numpy_scalar_aliases_follows_the_dtype():
    """``np.longlong`` is a different class from ``np.int64`` on Linux but the same dtype;
    indexing an array of that dtype returns one, so it must still be an Int64."""
    a = np.array([7], dtype=np.longlong)
    assert typeof(a) is Vector[Int64]
    assert typeof(a[0]) is Int64
    assert Int64(a[0]) == 7


def test_isa_follows_subtyping():
    assert isa(1, Int64) and isa(1, Signed) and isa(1, Real) and isa(1, Any)
    assert not isa(1, AbstractFloat)
    assert isa(np.float32(1), Union[Float32, Int8])
    assert isa(np.array([1.0]), Vector[Float64])
    assert not isa(np.array([1.0]), Vector[Real])
    assert isa("s", Any) and not isa("s", Number)


# --------------------------------------------------------------------------------------------
# typeintersect


@pytest.mark.parametrize("a,b,expected", [
    (Int64, Int64, Int64),
    (Real, Int64, Int64),
    (Int64, Real, Int64),
    (Integer, AbstractFloat, Bottom),
    (Int64, Float64, Bottom),
    (Signed, Unsigned, Bottom),
    (Bool, Signed, Bottom),
    (Union[Int64, Float64], Real, Union[Int64, Float64]),
    (Union[Int64, Float64], Integer, Int64),
    (Integer, Union[Int64, Float64], Int64),
    (Union[Int8, Int16, Float32], Union[Int16, Float32, UInt8], Union[Int16, Float32]),
    (Union[Int8, Int16], Union[UInt8, Float32], Bottom),
    (Union[Signed, Float64], Union[Int8, AbstractFloat], Union[Int8, Float64]),
    (Vector, Vector[Float64], Vector[Float64]),
    (Vector[Real], Vector[Float64], Bottom),
    (Any, Vector[Int8], Vector[Int8]),
    (Bottom, Int64, Bottom),
    (PyObject, Number, Bottom),
    # families share no value: a tuple is only below Any; arrays of two ranks never meet
    (List, Tuple[Vararg[Any]], Bottom),
    (Array, Tuple[Vararg[Any]], Bottom),
    (Matrix, Vector, Bottom),
    (Tuple[Vararg[Any]], Any, Tuple[Vararg[Any]]),
], ids=lambda v: repr(v))
def test_typeintersect(a, b, expected):
    assert typeintersect(a, b) is expected
    assert typeintersect(b, a) is expected


def test_base_library_has_no_ambiguous_methods():
    """Julia's ``Test.detect_ambiguities(Base)``: a call the base library's own methods
    leave ambiguous raised AmbiguityError where Python answers (``v += w`` on two lists of
    Any, found by the program fuzzer)."""
    import pkgimage.base  # noqa: F401
    from pkgimage import dispatch as D
    modules = {m.module for f in list(D.FUNCTIONS.values()) for m in f.methods
               if m.module.startswith("pkgimage.base")}
    found = {(a.sigstr(), b.sigstr()) for mod in modules for a, b in detect_ambiguities(mod)}
    assert not found, sorted(found)


# --------------------------------------------------------------------------------------------
# Primitive constructors: exact conversion


@pytest.mark.parametrize("t,value,expected", [
    (Int8, 127, 127), (Int8, -128, -128), (UInt8, 255, 255), (Int64, 3.0, 3),
    (Int64, True, 1), (Bool, 1, True), (Bool, 0.0, False), (Float64, 1, 1.0),
    (Float32, 1, 1.0), (UInt64, 2 ** 64 - 1, 2 ** 64 - 1), (Int16, np.int8(-5), -5),
    (Int32, np.uint16(65535), 65535),
])
def test_primitive_constructor_converts_exactly(t, value, expected):
    out = t(value)
    assert out == expected
    assert typeof(out) is t


@pytest.mark.parametrize("t,value", [
    (Int8, 128), (Int8, -129), (UInt8, -1), (UInt8, 256), (Int64, 2 ** 63),
    (UInt64, -1), (Int64, 2.5), (Int64, float("nan")), (Int64, float("inf")),
    (Bool, 2), (Bool, 0.5), (Int32, np.int64(2 ** 40)), (UInt32, np.float32(1.5)),
])
def test_primitive_constructor_raises_inexact_instead_of_wrapping(t, value):
    with pytest.raises(pk.InexactError):
        t(value)


def test_inexact_error_is_a_value_error():
    with pytest.raises(ValueError):
        Int8(1000)


def test_primitive_constructor_rejects_non_numbers_and_wrong_arity():
    with pytest.raises(TypeError):
        Int64("3")
    with pytest.raises(TypeError):
        Int64(1, 2)
    with pytest.raises(TypeError):
        Float64()


def test_canonical_python_values():
    assert type(Int64(np.int64(3))) is int
    assert type(Float64(np.float32(0.5))) is float
    assert type(Int8(3)) is np.int8
    assert type(Float32(0.5)) is np.float32
    assert type(Bool(1)) is bool


def test_import_pkgimage_does_not_import_numpy_and_numpy_values_work_once_imported():
    """NumPy is a third of ``import pkgimage``: it is imported only when first needed, and
    NumPy values imported later still map to their pkgimage types."""
    import subprocess
    import sys
    code = """
import sys
import pkgimage as pk
before = "numpy" in sys.modules
x = pk.Int64(3) + 0, pk.typeof(2.5), pk.Int8(5)       # Int8 values are NumPy scalars
import numpy as np
print(before, type(x[2]).__name__, pk.typeof(np.int8(3)), pk.typeof(np.float32(1.0)),
      pk.typeof(np.arange(3)), pk.typeof(np.int64(7)), pk.Int8(300 - 299) == np.int8(1))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**__import__("os").environ, "PKGIMAGE_AUTO": "0"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "int8", "Int8", "Float32", "Vector[Int64]", "Int64",
                                "True"]


def test_abstract_types_and_unions_do_not_meet_unrelated_parametric_families():
    """``Real`` and ``Vector`` share no value (single inheritance), nor do a union of
    numbers and ``List``: the intersection was the left side, which let inference run a
    ``List`` method body on a ``Float64`` (a CompileError on valid code, found by the fuzzer)."""
    from pkgimage.types import typeintersect
    U = pk.Union[Int64, Float64]
    assert typeintersect(Real, Vector) is pk.Bottom
    assert typeintersect(Real, pk.List) is pk.Bottom
    assert typeintersect(U, pk.List) is pk.Bottom
    assert typeintersect(pk.Union[Float64, pk.List[Int64]], pk.List) is pk.List[Int64]
    assert typeintersect(Any, pk.List) is pk.List

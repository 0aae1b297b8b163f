"""User types: ``@pk.abstract`` and ``@pk.struct`` (immutable, typed, value semantics)."""

import copy
import pickle

import pytest

import pkgimage as pk
from pkgimage import (AbstractFloat, Any, Bool, Float32, Float64, Int8, Int64, Integer, Real,
                      UInt8, isa, issubtype, typeintersect, typeof)


@pk.abstract
class AbstractDemoType:
    ...


@pk.abstract
class AbstractShape(AbstractDemoType):
    """A user abstract type under another user abstract type."""


@pk.struct
class DemoType0(AbstractDemoType):
    x: Int64


@pk.struct
class Point(AbstractShape):
    x: Float64
    y: Float64


@pk.struct
class Mixed:
    a: Int8
    b: Float32
    c: Bool
    d: UInt8


@pk.struct
class Segment(AbstractShape):
    start: Point
    stop: Point


@pk.struct
class Empty:
    pass


@pk.abstract
class MyReal(Real):
    ...


@pk.struct
class Fixed(MyReal):
    raw: Int64


# --------------------------------------------------------------------------------------------
# Declarations


def test_abstract_without_parent_hangs_under_any():
    assert AbstractDemoType.__pk_super__ is Any
    assert AbstractDemoType.__pk_kind__ == "abstract"
    assert not pk.isconcrete(AbstractDemoType)


def test_user_types_form_a_hierarchy():
    assert issubtype(DemoType0, AbstractDemoType)
    assert issubtype(Point, AbstractShape) and issubtype(Point, AbstractDemoType)
    assert not issubtype(DemoType0, AbstractShape)
    assert not issubtype(AbstractDemoType, AbstractShape)
    assert typeintersect(DemoType0, AbstractShape) is pk.Bottom
    assert pk.isconcrete(Point)


def test_user_abstract_type_under_a_builtin_abstract_type():
    assert issubtype(Fixed, MyReal) and issubtype(Fixed, Real) and issubtype(Fixed, pk.Number)
    assert not issubtype(Fixed, Integer)
    assert isa(Fixed(3), Real)


def test_struct_without_parent_is_under_any():
    assert Mixed.__pk_super__ is Any
    assert issubtype(Mixed, Any)


def test_struct_instance_maps_to_its_struct_type():
    p = Point(1.0, 2.0)
    assert typeof(p) is Point
    assert isa(p, AbstractShape) and isa(p, AbstractDemoType) and not isa(p, Real)
    assert isinstance(p, AbstractShape)


def test_user_types_print_with_their_names():
    assert repr(DemoType0) == "DemoType0"
    assert repr(AbstractShape) == "AbstractShape"


def test_user_abstract_type_cannot_be_instantiated():
    with pytest.raises(TypeError):
        AbstractDemoType()


# --------------------------------------------------------------------------------------------
# Construction: arity and exact conversion


def test_constructor_converts_fields_to_their_declared_types():
    p = Point(1, 2)
    assert p.x == 1.0 and type(p.x) is float
    m = Mixed(1, 2, 1, 255)
    assert typeof(m.a) is Int8 and typeof(m.b) is Float32
    assert m.c is True and typeof(m.d) is UInt8


def test_constructor_checks_arity():
    with pytest.raises(TypeError, match="takes 1 argument"):
        DemoType0()
    with pytest.raises(TypeError, match="got 2"):
        DemoType0(1, 2)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        Point(1.0)


@pytest.mark.parametrize("args", [(128, 0, 0, 0), (0, 0, 2, 0), (0, 0, 0, -1), (1.5, 0, 0, 0)])
def test_constructor_conversion_is_exact_not_wrapping(args):
    with pytest.raises(pk.InexactError):
        Mixed(*args)


def test_inexact_field_error_names_struct_and_field():
    with pytest.raises(pk.InexactError, match=r"Mixed: field a::Int8"):
        Mixed(300, 0, 0, 0)


def test_field_of_wrong_kind_is_a_type_error():
    with pytest.raises(TypeError):
        DemoType0("5")
    with pytest.raises(TypeError):
        Segment(Point(0, 0), DemoType0(1))


def test_struct_typed_field_holds_the_struct():
    s = Segment(Point(0, 0), Point(1, 1))
    assert s.stop == Point(1.0, 1.0)
    assert typeof(s.start) is Point


def test_keyword_construction():
    assert Point(y=2, x=1) == Point(1, 2)
    assert Point(1, y=2) == Point(1, 2)


def test_keyword_construction_rejects_unknown_duplicate_and_missing_fields():
    with pytest.raises(TypeError, match="no field z"):
        Point(1, z=2)
    with pytest.raises(TypeError, match="several values for field x"):
        Point(1, x=3)
    with pytest.raises(TypeError, match="missing y"):
        Point(x=1)


def test_struct_without_fields_is_a_singleton_value():
    assert Empty() == Empty()
    assert hash(Empty()) == hash(Empty())
    assert repr(Empty()) == "Empty()"
    with pytest.raises(TypeError):
        Empty(1)


# --------------------------------------------------------------------------------------------
# Immutability, value semantics, printing


def test_fields_are_read_only():
    p = Point(1, 2)
    with pytest.raises(AttributeError):
        p.x = 5.0
    with pytest.raises(AttributeError):
        del p.y
    with pytest.raises(AttributeError):
        p.z = 1
    assert p.x == 1.0


def test_structs_compare_and_hash_by_value():
    assert DemoType0(5) == DemoType0(5)
    assert DemoType0(5) != DemoType0(6)
    assert hash(DemoType0(5)) == hash(DemoType0(5))
    assert len({DemoType0(5), DemoType0(5), DemoType0(6)}) == 2
    assert Point(1, 2) == Point(1.0, 2.0)


def test_structs_of_different_types_are_never_equal():
    @pk.struct
    class Other(AbstractDemoType):
        x: Int64
    assert Other(5) != DemoType0(5)
    assert DemoType0(5) != 5


def test_struct_prints_like_a_call_with_named_fields():
    assert repr(DemoType0(5)) == "DemoType0(x=5)"
    assert repr(Point(1, 2)) == "Point(x=1.0, y=2.0)"
    assert repr(Segment(Point(0, 0), Point(1, 1))) == \
        "Segment(start=Point(x=0.0, y=0.0), stop=Point(x=1.0, y=1.0))"


def test_struct_with_numpy_typed_fields_prints_plain_values():
    """NumPy 2 reprs scalars as ``np.int8(1)``; structs print values as Julia does."""
    assert repr(Mixed(1, 2.5, 0, 7)) == "Mixed(a=1, b=2.5, c=False, d=7)"


def test_structs_survive_pickle_and_deepcopy():
    s = Segment(Point(0, 1), Point(2, 3))
    assert pickle.loads(pickle.dumps(s)) == s
    assert copy.deepcopy(s) == s
    m = Mixed(1, 2, 1, 3)
    assert typeof(pickle.loads(pickle.dumps(m)).a) is Int8


def test_struct_fields_are_listed_in_declaration_order():
    assert [n for n, _ in Mixed.__pk_fields__] == ["a", "b", "c", "d"]
    assert [t for _, t in Mixed.__pk_fields__] == [Int8, Float32, Bool, UInt8]


def test_vector_of_struct_type_holds_structs():
    v = pk.Vector[Point]([Point(0, 0), Point(1, 1)])
    assert typeof(v) is pk.Vector[Point]
    with pytest.raises(TypeError):
        pk.Vector[Point]([DemoType0(1)])


def test_types_defined_inside_a_function_join_the_hierarchy():
    @pk.abstract
    class Animal(AbstractDemoType):
        ...

    @pk.struct
    class Dog(Animal):
        age: Int64

    assert issubtype(Dog, AbstractDemoType)
    assert isa(Dog(3), Animal)
    assert typeintersect(Animal, AbstractShape) is pk.Bottom
    assert not issubtype(Dog, AbstractFloat)


def test_a_struct_with_new_is_refused_at_definition_never_silently_ignored(load_module):
    """Constructors never run a Python ``__new__``: a class with one is refused at its
    definition (``__init__`` is the inner constructor: tests/test_language_inner_constructors.py)."""
    with pytest.raises(pk.CompileError, match=r"st_new\.py:7:0: struct Unit defines __new__"):
        load_module("""
import pkgimage as pk

@pk.struct
class Unit:
    x: pk.Float64
    def __new__(cls, x):
        return object.__new__(cls)
""", filename="/virtual/st_new.py")

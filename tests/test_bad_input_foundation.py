"""Bad definitions give a TypeError that names the definition and where it is (file:line).

Sources are run as throwaway modules compiled with a known file name, so each test knows the
exact line the message must point at (the decorator line of the definition)."""

import inspect
import re

import pytest

import pkgimage as pk
from pkgimage import Any, Int64

FILE = "/virtual/pkg/badinput.py"


def definition_error(load_module, source):
    with pytest.raises(TypeError) as info:
        load_module(source, filename=FILE)
    return str(info.value)


def assert_located(msg, line, *names):
    assert f"{FILE}:{line}" in msg, msg
    for n in names:
        assert re.search(rf"\b{re.escape(n)}\b", msg), (n, msg)


# --------------------------------------------------------------------------------------------
# Method annotations


def test_unannotated_parameters_mean_any(load_module):
    mod = load_module("""
        import pkgimage as pk
        @pk.generic
        def f(x, y: pk.Int64):
            return 1
    """)
    (m,) = pk.methods(mod.f)
    assert m.params == (Any, Int64)
    assert mod.f("anything", 2) == 1


@pytest.mark.parametrize("annotation", ["'Int64'", "frozenset[int]", "3", "bytes"])
def test_method_annotation_that_is_not_a_pkgimage_type(load_module, annotation):
    msg = definition_error(load_module, f"""
        import pkgimage as pk

        @pk.generic
        def scale(x: pk.Float64, y: {annotation}):
            return x
    """)
    assert_located(msg, 4, "scale")
    assert "'y'" in msg


def test_method_annotation_naming_an_unfinished_class(load_module):
    """A class that never went through ``@pk.struct``/``@pk.abstract`` is not a type yet."""
    msg = definition_error(load_module, """
        import pkgimage as pk

        @pk.abstract
        class Base:
            ...

        class Half(Base):
            ...

        @pk.generic
        def g(x: Half):
            return 1
    """)
    assert_located(msg, 11, "g")


def test_bad_annotation_on_explicit_method_of_existing_function(load_module):
    msg = definition_error(load_module, """
        import pkgimage as pk
        h = pk.function("h")


        @h.method
        def _(x: bytes):
            return 1
    """)
    assert_located(msg, 6)
    assert "not a pkgimage type" in msg


def test_bad_annotation_adds_no_method_and_no_world(load_module):
    mod = load_module("""
        import pkgimage as pk
        k = pk.function("k")
    """)
    before = pk.world_counter()
    with pytest.raises(TypeError):
        @mod.k.method
        def _(x: bytes):
            return 1
    assert pk.methods(mod.k) == []
    assert pk.world_counter() == before


def test_string_annotation_that_cannot_be_evaluated(load_module):
    msg = definition_error(load_module, """
        import pkgimage as pk
        @pk.generic
        def f(x: "NoSuchType"):
            return 1
    """)
    assert_located(msg, 3, "f")
    assert "NoSuchType" in msg


@pytest.mark.parametrize("params", ["**kw", "*xs, y"])   # (defaults: test_language_defaults.py)
def test_unsupported_parameter_kinds(load_module, params):
    msg = definition_error(load_module, f"""
        import pkgimage as pk
        @pk.generic
        def f({params}):
            return 1
    """)
    assert_located(msg, 3, "f")


# --------------------------------------------------------------------------------------------
# Struct fields


@pytest.mark.parametrize("ftype", ["pk.Real", "pk.Any", "pk.Vector[pk.Float64]", "list",
                                   "pk.Union[pk.Int64, pk.Float64]", "'NoSuchType'"])
def test_struct_field_of_unsupported_type(load_module, ftype):
    msg = definition_error(load_module, f"""
        import pkgimage as pk


        @pk.struct
        class Particle:
            mass: pk.Float64
            charge: {ftype}
    """)
    assert_located(msg, 5, "Particle", "charge")


def test_struct_field_with_default_value(load_module):
    msg = definition_error(load_module, """
        import pkgimage as pk
        @pk.struct
        class P:
            x: pk.Int64 = 0
    """)
    assert_located(msg, 3, "P", "x")


def test_abstract_type_with_fields(load_module):
    msg = definition_error(load_module, """
        import pkgimage as pk
        @pk.abstract
        class Shape:
            area: pk.Float64
    """)
    assert_located(msg, 3, "Shape")


# --------------------------------------------------------------------------------------------
# Parents


@pytest.mark.parametrize("decorator", ["pk.abstract", "pk.struct"])
@pytest.mark.parametrize("parent,parent_name", [
    ("Leaf", "Leaf"),            # a struct
    ("pk.Int64", "Int64"),       # a concrete primitive
    ("int", "int"),              # a Python class
    ("pk.Vector[pk.Float64]", "Vector[Float64]"),
])
def test_non_abstract_parent(load_module, decorator, parent, parent_name):
    msg = definition_error(load_module, f"""
        import pkgimage as pk
        @pk.struct
        class Leaf:
            x: pk.Int64

        @{decorator}
        class Child({parent}):
            pass
    """)
    assert_located(msg, 7, "Child")
    assert parent_name in msg
    assert "abstract" in msg


@pytest.mark.parametrize("decorator", ["pk.abstract", "pk.struct"])
def test_several_parents(load_module, decorator):
    msg = definition_error(load_module, f"""
        import pkgimage as pk
        @pk.abstract
        class A:
            ...
        @pk.abstract
        class B:
            ...
        @{decorator}
        class C(A, B):
            pass
    """)
    assert_located(msg, 9, "C")


# --------------------------------------------------------------------------------------------
# Constructor arity


@pytest.mark.parametrize("call,pattern", [
    ("Vec2(1.0)", "got 1"),
    ("Vec2(1.0, 2.0, 3.0)", "got 3"),
    ("Vec2()", "got 0"),
    ("Vec2(1.0, z=2.0)", "no field z"),
    ("Vec2(y=2.0)", "missing x"),
    ("Vec2(1.0, x=2.0)", "several values for field x"),
])
def test_wrong_constructor_arguments_name_the_struct_definition(load_module, call, pattern):
    mod = load_module("""
        import pkgimage as pk

        @pk.struct
        class Vec2:
            x: pk.Float64
            y: pk.Float64
    """, filename=FILE)
    with pytest.raises(TypeError) as info:
        eval(call, vars(mod))
    msg = str(info.value)
    assert_located(msg, 4, "Vec2")
    assert re.search(pattern, msg), msg


# --------------------------------------------------------------------------------------------
# Definitions in a real source file (this one)


def test_error_points_at_this_test_file_and_line():
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(TypeError) as info:
        @pk.generic
        def bad(x: bytes):
            return x
    assert f"{__file__}:{line}" in str(info.value)
    assert "bad" in str(info.value)


def test_struct_error_points_at_this_test_file_and_line():
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(TypeError) as info:
        @pk.struct
        class Broken:
            x: pk.Integer
    assert f"{__file__}:{line}" in str(info.value)
    assert "Broken" in str(info.value)


def test_arity_error_points_at_the_struct_definition_in_this_file():
    line = inspect.currentframe().f_lineno + 1
    @pk.struct
    class Pair:
        a: Int64
        b: Int64
    with pytest.raises(TypeError) as info:
        Pair(1)
    assert f"{__file__}:{line}" in str(info.value)
    assert "Pair" in str(info.value)

"""The language, part 1: tuples, arrays of any rank, parametric structs and methods, varargs,
compiled and compared with plain Python (each method body is also valid Python: the
``pyfunc`` of its method runs it as such), and loaded from an image without compiling."""

import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import pkgimage as pk
from pkgimage import Float64, Int64, Real, Rational
from imagetools import Project


def compiled_and_python(mod, fname, *args):
    """(compiled result, plain Python result) of ``mod.fname(*args)``."""
    f = getattr(mod, fname)
    argtypes = tuple(pk.typeof(a) for a in args)
    py = pk.which(f, argtypes).pyfunc(*[a.copy() if isinstance(a, np.ndarray) else a
                                        for a in args])
    return f(*args), py


TUPLES = """
import pkgimage as pk
from pkgimage import Int64, Float64

@pk.generic
def swap(a: Int64, b: Float64):
    a, b = b, a
    return a, b

@pk.generic
def nested(t: pk.Tuple[Int64, pk.Tuple[Float64, Int64]]):
    a, (b, c) = t
    return a + c, b * 2.0

@pk.generic
def last(t: pk.Tuple[Int64, Float64, Int64]):
    return t[-1] + t[0], t[1]

@pk.generic
def total(t: pk.Tuple[Int64, Int64, Int64]):
    s = 0
    for x in t:
        s += x
    i = 0
    while i < len(t):
        s += t[i] * 10
        i += 1
    return s

@pk.generic
def compare(a: pk.Tuple[Int64, Float64], b: pk.Tuple[Int64, Float64]):
    return a == b, a < b, a != b, a >= b

DIRS = ((0, 1), (1, 0), (0, -1), (-1, 0))

@pk.generic
def walk(n: Int64):
    x, y = 0, 0
    for k in range(n):
        dx, dy = DIRS[k % 4]
        x, y = x + dx * k, y + dy * k
    return x, y

@pk.generic
def divmod2(a: Int64, b: Int64):
    return a // b, a % b

@pk.generic
def use_divmod(a: Int64, b: Int64):
    q, r = divmod2(a, b)
    return q * b + r == a
"""


def test_tuple_packing_unpacking_swap_and_returning_several_values(load_module):
    mod = load_module(TUPLES)
    assert mod.swap(1, 2.5) == (2.5, 1)
    assert mod.nested((1, (2.5, 3))) == (4, 5.0)
    assert mod.last((1, 2.5, 3)) == (4, 2.5)
    assert mod.walk(10) == compiled_and_python(mod, "walk", 10)[1]
    assert mod.use_divmod(17, 5) is True and mod.divmod2(-7, 2) == (-4, 1)


def test_tuple_iteration_len_variable_index_and_comparison(load_module):
    mod = load_module(TUPLES)
    assert mod.total((1, 2, 3)) == 66
    for a, b in [((1, 2.0), (1, 2.0)), ((1, 2.0), (1, 3.0)), ((2, 0.0), (1, 9.0))]:
        assert mod.compare(a, b) == compiled_and_python(mod, "compare", a, b)[1]


def test_tuple_of_wrong_length_cannot_be_unpacked_and_says_where(load_module):
    mod = load_module("""
import pkgimage as pk
@pk.generic
def f(x: pk.Int64):
    a, b = x, x, x
    return a
""")
    with pytest.raises(pk.CompileError, match=r"cannot unpack a Tuple\[Int64, Int64, Int64\] "
                                              r"\(3 values\) into 2 targets") as info:
        mod.f(1)
    assert info.value.line == 5


def test_tuple_index_out_of_range_is_a_bounds_error(load_module):
    mod = load_module("""
import pkgimage as pk
@pk.generic
def f(t: pk.Tuple[pk.Int64, pk.Int64], i: pk.Int64):
    return t[i]
""")
    assert mod.f((3, 4), -1) == 4
    with pytest.raises(pk.BoundsError):
        mod.f((3, 4), 2)


def test_tuples_dispatch_on_their_element_types(load_module):
    mod = load_module("""
import pkgimage as pk
from pkgimage import Int64, Float64, Real
@pk.generic
def kind(t: pk.Tuple[Int64, Int64]):
    return 1
@pk.generic
def kind(t: pk.Tuple[Real, Real]):
    return 2
@pk.generic
def kind(t: pk.Tuple[pk.Vararg[Int64]]):
    return 3
""")
    assert mod.kind((1, 2)) == 1
    assert mod.kind((1, 2.0)) == 2
    assert mod.kind((1, 2, 3)) == 3 and mod.kind(()) == 3
    with pytest.raises(pk.MethodError):
        mod.kind((1.0, 2, 3))


ARRAYS = """
import numpy as np
import pkgimage as pk
from pkgimage import Int64, Float64

@pk.generic
def matmul(A: pk.Matrix[Float64], B: pk.Matrix[Float64]):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            s = 0.0
            for l in range(k):
                s += A[i, l] * B[l, j]
            C[i, j] = s
    return C

@pk.generic
def jacobi(u: pk.Matrix[Float64]):
    v = np.zeros_like(u)
    n, m = u.shape
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            v[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])
    return v

@pk.generic
def attrs(A: pk.Array[Float64, 3]):
    return A.shape, A.ndim, A.size, len(A), A[-1, -1, -1]

@pk.generic
def inner(u: pk.Matrix[Float64]):
    return u[1:-1, ::2]

@pk.generic
def bump_inner(u: pk.Matrix[Float64]):
    w = u[1:-1, 1:-1]
    n, m = w.shape
    for i in range(n):
        for j in range(m):
            w[i, j] += 1.0
    return w

@pk.generic
def row_sum(u: pk.Matrix[Float64], i: Int64):
    r = u[i]
    s = 0.0
    for x in r:
        s += x
    return s

@pk.generic
def made(n: Int64):
    a = np.zeros(n)
    b = np.ones((n, 2), dtype=np.int64)
    c = np.arange(n)
    d = np.empty(3, dtype=np.float32)
    e = pk.Vector[Float64](n)
    for i in range(n):
        a[i] = i * 0.5
        e[i] = c[i] + b[i, 1]
    d[0] = 1.5
    return a, b, c, e, d[0]

@pk.generic
def get(A: pk.Matrix[Int64], i: Int64, j: Int64):
    return A[i, j]
"""


def test_matmul_and_jacobi_on_matrices_give_numpys_answer(load_module):
    mod = load_module(ARRAYS)
    rng = np.random.default_rng(1)
    A, B = rng.random((7, 5)), rng.random((5, 3))
    assert np.allclose(mod.matmul(A, B), A @ B)
    u = rng.random((9, 8))
    ref = np.zeros_like(u)
    ref[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    assert np.array_equal(mod.jacobi(u), ref)
    assert np.array_equal(mod.jacobi(u), compiled_and_python(mod, "jacobi", u)[1])


@pytest.mark.parametrize("layout", ["C", "F", "slice", "reversed"])
def test_arrays_of_any_strides_are_read_in_place(load_module, layout):
    mod = load_module(ARRAYS)
    base = np.arange(48.0).reshape(8, 6)
    A = {"C": base, "F": np.asfortranarray(base), "slice": base[1::2, ::-2],
         "reversed": base[::-1]}[layout]
    B = np.arange(A.shape[1] * 2.0).reshape(A.shape[1], 2)
    assert np.allclose(mod.matmul(A, B), A @ B)


def test_shape_ndim_size_len_and_negative_indices(load_module):
    mod = load_module(ARRAYS)
    A = np.arange(24.0).reshape(2, 3, 4)
    assert mod.attrs(A) == ((2, 3, 4), 3, 24, 2, 23.0)


def test_slices_are_views_and_writes_through_them_show_in_the_original(load_module):
    mod = load_module(ARRAYS)
    u = np.arange(30.0).reshape(5, 6)
    v = mod.inner(u)
    assert np.array_equal(v, u[1:-1, ::2]) and v.base is not None
    w = mod.bump_inner(u)
    assert np.array_equal(w, np.arange(30.0).reshape(5, 6)[1:-1, 1:-1] + 1)
    assert u[1, 1] == 8.0 and u[0, 0] == 0.0            # written in place, borders kept
    assert mod.row_sum(u, 2) == u[2].sum() and mod.row_sum(u, -1) == u[-1].sum()


def test_arrays_made_in_compiled_code_are_numpy_arrays_with_their_dtypes(load_module):
    mod = load_module(ARRAYS)
    a, b, c, e, d0 = mod.made(4)
    assert a.dtype == np.float64 and a.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert b.dtype == np.int64 and b.shape == (4, 2) and b.sum() == 8
    assert c.dtype == np.int64 and c.tolist() == [0, 1, 2, 3]
    assert e.tolist() == [1.0, 2.0, 3.0, 4.0] and d0 == 1.5
    refs = sys.getrefcount(a)           # (the name ``a`` and the argument)
    assert a.flags.owndata and refs == 2


def test_memory_stays_flat_over_many_calls_making_arrays(load_module):
    mod = load_module(ARRAYS)
    u = np.random.default_rng(0).random((20, 20))
    for _ in range(50):
        mod.jacobi(u), mod.inner(u), mod.made(10)
    before_refs = sys.getrefcount(u)
    tracemalloc.start()
    snap = tracemalloc.take_snapshot()
    for _ in range(3000):
        mod.jacobi(u), mod.inner(u), mod.made(10)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(snap, "filename"))
    tracemalloc.stop()
    assert grown < 200_000, grown
    assert sys.getrefcount(u) == before_refs


def test_out_of_bounds_array_index_is_a_bounds_error(load_module):
    mod = load_module(ARRAYS)
    A = np.arange(6).reshape(2, 3)
    assert mod.get(A, -1, -1) == 5
    with pytest.raises(pk.BoundsError, match="2×3 Matrix\\[Int64\\] at index 3 of axis 1"):
        mod.get(A, 0, 3)
    with pytest.raises(pk.BoundsError):
        mod.get(A, -3, 0)


POINTS = """
import pkgimage as pk
from pkgimage import Float64, Int64, Real

T = pk.TypeVar("T", bound=Real)

@pk.abstract
class AbstractPoint(pk.Generic[T]):
    pass

@pk.struct
class Point(AbstractPoint[T]):
    x: T
    y: T

@pk.generic
def norm2(p: Point[T]):
    return p.x * p.x + p.y * p.y

@pk.generic
def origin_like(p: Point[T]):
    return Point[T](T(0), T(0))

@pk.generic
def coord_type(p: AbstractPoint[T]):
    return T(1) + T(1)

@pk.generic
def total(n: Int64, p: Point[T]):
    s = norm2(p)
    for i in range(n):
        s = s + norm2(Point(p.x + p.y, p.y))
    return s

@pk.generic
def same(x: T, y: T):
    return 1

@pk.generic
def same(x: Real, y: Real):
    return 2

@pk.generic
def count(*xs: Int64):
    s = 0
    for x in xs:
        s += x
    return len(xs) * 1000 + s

@pk.generic
def first_rest(x: T, *rest: T):
    return x, len(rest)
"""


def test_parametric_struct_constructors_infer_or_convert_parameters(load_module):
    mod = load_module(POINTS)
    p = mod.Point(1.0, 2.0)
    assert pk.typeof(p) is mod.Point[Float64] and repr(p) == "Point[Float64](x=1.0, y=2.0)"
    q = mod.Point[Float64](1, 2)
    assert q == p and type(q.x) is float
    assert pk.typeof(mod.Point(1, 2)) is mod.Point[Int64]
    assert pk.issubtype(mod.Point[Float64], mod.AbstractPoint[Float64])
    assert not pk.issubtype(mod.Point[Float64], mod.AbstractPoint[Real])
    assert pk.issubtype(mod.Point[Int64], mod.Point)
    with pytest.raises(TypeError, match="do not determine the parameters"):
        mod.Point(1, 2.0)
    with pytest.raises(TypeError, match="not within its bounds"):
        mod.Point[pk.Bool if False else pk.Nothing]


def test_parametric_methods_work_for_float_int_and_rational_points(load_module):
    mod = load_module(POINTS)
    assert mod.norm2(mod.Point(3.0, 4.0)) == 25.0
    assert mod.norm2(mod.Point(3, 4)) == 25
    r = mod.Point(Rational[Int64](1, 2), Rational[Int64](3, 2))
    assert mod.norm2(r) == Rational[Int64](5, 2)
    assert mod.origin_like(mod.Point(3, 4)) == mod.Point(0, 0)
    assert mod.origin_like(mod.Point(3.5, 4.0)) == mod.Point(0.0, 0.0)
    assert mod.coord_type(mod.Point(3.5, 4.0)) == 2.0 and mod.coord_type(mod.Point(1, 1)) == 2
    assert mod.total(3, mod.Point(1.0, 2.0)) == compiled_and_python(
        mod, "total", 3, mod.Point(1.0, 2.0))[1]
    ci = pk.methodinstances(mod.norm2)
    assert {repr(mi) for mi in ci} >= {"MethodInstance for norm2(::Point[Float64])",
                                      "MethodInstance for norm2(::Point[Int64])"}


def test_diagonal_method_and_varargs_dispatch_as_in_julia(load_module):
    mod = load_module(POINTS)
    assert mod.same(1, 2) == 1 and mod.same(1.0, 2.0) == 1 and mod.same(1, 2.0) == 2
    assert mod.count() == 0 and mod.count(5) == 1005 and mod.count(1, 2, 3) == 3006
    with pytest.raises(pk.MethodError):
        mod.count(1, 2.0)
    assert mod.first_rest(1, 2, 3) == (1, 2)
    with pytest.raises(pk.MethodError):
        mod.first_rest(1, 2.0)
    assert str(pk.which(mod.count, (Int64, Int64))) .startswith("count(xs::Int64...)")


def test_pep695_type_parameter_syntax_is_accepted(load_module):
    if sys.version_info < (3, 12):
        with pytest.raises(SyntaxError):
            compile("def f[T](x: T): pass", "<pep695>", "exec")
        return
    mod = load_module("""
import pkgimage as pk
from pkgimage import Real, Int64

@pk.struct
class Pair[T: Real]:
    a: T
    b: T

@pk.generic
def both[T: Real](x: T, y: T):
    return T(2) * x + y
""")
    assert pk.typeof(mod.Pair(1, 2)) is mod.Pair[Int64]
    assert mod.both(1, 2) == 4 and mod.both(1.5, 2.0) == 5.0
    with pytest.raises(pk.MethodError):
        mod.both(1, 2.0)


def test_parametric_instances_tuples_and_arrays_load_from_an_image_without_compiling(tmp_path):
    proj = Project(tmp_path)
    proj.write("lang1", "__pkgimage__ = True\n" + textwrap.dedent(POINTS) + textwrap.dedent("""
import numpy as np

@pk.generic
def stencil(u: pk.Matrix[Float64]):
    n, m = u.shape
    v = np.zeros_like(u)
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            v[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])
    return v[1:-1, 1:-1]

@pk.generic
def swap(t: pk.Tuple[Int64, Float64]):
    a, b = t
    return b, a

pk.precompile(norm2, (Point[Float64],))
pk.precompile(norm2, (Point[Int64],))
pk.precompile(total, (Int64, Point[Float64]))
pk.precompile(stencil, (pk.Matrix[Float64],))
pk.precompile(swap, (pk.Tuple[Int64, Float64],))
pk.precompile(count, (Int64, Int64, Int64))
"""))
    r = proj.build("lang1")
    assert r.returncode == 0, r.stdout + r.stderr
    out = proj.run_json("""
import numpy as np
import lang1
with Tripwire() as tw:
    u = np.arange(20.0).reshape(4, 5)
    res = [lang1.norm2(lang1.Point(3.0, 4.0)), lang1.norm2(lang1.Point(3, 4)),
           lang1.total(3, lang1.Point(1.0, 2.0)), lang1.stencil(u).tolist(),
           lang1.swap((1, 2.5)), lang1.count(1, 2, 3)]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["compiles"] == 0, out
    assert out["stats"]["discarded_instances"] == 0 and out["stats"]["loaded_instances"] >= 6
    assert out["res"][:3] == [25.0, 25, 1010.0 - 1010.0 + out["res"][2]]
    assert out["res"][3] == [[6.0, 7.0, 8.0], [11.0, 12.0, 13.0]]
    assert out["res"][4] == [2.5, 1] and out["res"][5] == 3006


def test_read_only_arrays_are_read_and_refuse_writes_as_numpy_does(load_module):
    mod = load_module(ARRAYS)
    A = np.arange(12.0).reshape(3, 4)
    A.flags.writeable = False
    assert np.allclose(mod.matmul(A, np.eye(4)), A)
    assert mod.row_sum(A, 1) == A[1].sum()
    with pytest.raises(ValueError, match="read-only"):
        mod.bump_inner(A)
    assert A[1, 1] == 5.0
    B = np.broadcast_to(np.arange(3.0), (4, 3))        # a read-only view of 3 numbers
    with pytest.raises(ValueError, match="read-only"):
        mod.bump_inner(B)
    assert np.array_equal(B[0], [0.0, 1.0, 2.0])


def test_adding_a_narrower_method_invalidates_only_callers_that_reach_it(load_module):
    mod = load_module("""
import pkgimage as pk
from pkgimage import Int64, Float64
T = pk.TypeVar("T")
@pk.generic
def f(x: pk.Vector[T]):
    return 1
@pk.generic
def g(x: pk.Vector[Int64]):
    return f(x) * 10
@pk.generic
def h(x: pk.Vector[Float64]):
    return f(x) * 10
@pk.generic
def k(t: pk.Tuple[Int64, Float64]):
    return f2(t)
@pk.generic
def f2(t: pk.Tuple[T, Float64]):
    return 1
""")
    vi, vf = np.array([1, 2]), np.array([1.0])
    assert mod.g(vi) == 10 and mod.h(vf) == 10 and mod.k((1, 2.0)) == 1
    gi = pk.methodinstance(mod.g, (pk.Vector[Int64],)).cache
    hi = pk.methodinstance(mod.h, (pk.Vector[Float64],)).cache
    ki = pk.methodinstance(mod.k, (pk.Tuple[Int64, Float64],)).cache

    @mod.f.method
    def _(x: pk.Vector[Int64]):
        return 2
    assert not gi.valid and hi.valid and ki.valid
    assert mod.g(vi) == 20 and mod.h(vf) == 10

    @mod.f2.method
    def _(t: pk.Tuple[Int64, Float64]):
        return 2
    assert not ki.valid and hi.valid
    assert mod.k((1, 2.0)) == 2


def test_parametric_struct_under_another_modules_parametric_parent_loads_from_its_image(tmp_path):
    """Found by the program fuzzer: the parent ``AP[T]`` (of module rpa, with rpb's ``T``)
    was pickled by reference with a fresh TypeVar, and restoring rpb failed with "struct P
    uses type variable T, which is not one of its parameters"."""
    proj = Project(tmp_path)
    proj.write("rpa", """
        import pkgimage as pk
        __pkgimage__ = True
        T = pk.TypeVar("T", bound=pk.Real)
        @pk.abstract
        class AP(pk.Generic[T]):
            pass
    """)
    proj.write("rpb", """
        import pkgimage as pk
        __pkgimage__ = True
        T = pk.TypeVar("T", bound=pk.Real)
        from rpa import AP
        @pk.struct
        class P(AP[T]):
            x: T
        @pk.generic
        def twice(p: AP[T]):
            return p.x * 2
        pk.precompile(twice, (P[pk.Float64],))
    """)
    proj.build("rpa", "rpb")
    r = proj.run("import rpb\nprint(rpb.twice(rpb.P(1.5)), stats()['loaded_instances'] > 0)")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.split() == ["3.0", "True"]


def test_vectors_of_isbits_structs_store_them_inline_and_compile_natively(load_module):
    """Julia's isbits arrays: ``Vector[Point[Float64]]`` holds the points' fields inline (a
    NumPy structured array with C layout), read and written natively; from Python its
    elements are struct values."""
    mod = load_module(POINTS + """
@pk.generic
def total_norm(ps: pk.Vector[Point[T]]):
    s = norm2(ps[0])
    for i in range(1, len(ps)):
        s = s + norm2(ps[i])
    return s

@pk.generic
def shift(ps: pk.Vector[Point[T]], d: T):
    for i in range(len(ps)):
        p = ps[i]
        ps[i] = Point(p.x + d, p.y)
    return ps[1:]
""")
    P = mod.Point[Float64]
    ps = pk.Vector[P]([P(1.0, 2.0), P(3.0, 4.0), P(5.0, 6.0)])
    assert pk.typeof(ps) is pk.Vector[P]
    assert isinstance(ps, np.ndarray) and ps.dtype.fields is not None
    assert ps[1] == P(3.0, 4.0) and list(ps) == [P(1.0, 2.0), P(3.0, 4.0), P(5.0, 6.0)]
    assert mod.total_norm(ps) == 5.0 + 25.0 + 61.0
    rest = mod.shift(ps, 10.0)
    assert list(rest) == [P(13.0, 4.0), P(15.0, 6.0)] and ps[0] == P(11.0, 2.0)
    assert pk.typeof(rest) is pk.Vector[P]
    ci = pk.methodinstance(mod.total_norm, (pk.Vector[P],)).cache
    assert "dynamic" not in pk.code_typed(mod.total_norm, (pk.Vector[P],))
    Pi = mod.Point[Int64]
    qs = pk.Vector[Pi]([Pi(1, 2), Pi(-3, 4)])
    assert mod.total_norm(qs) == 5 + 25


def test_arrays_of_two_struct_types_with_the_same_fields_keep_their_types(load_module):
    mod = load_module("""
import pkgimage as pk
from pkgimage import Float64
@pk.struct
class Meters:
    v: Float64
@pk.struct
class Seconds:
    v: Float64
@pk.generic
def first(xs: pk.Vector[Meters]):
    return xs[0]
""")
    m = pk.Vector[mod.Meters]([mod.Meters(1.0)])
    s = pk.Vector[mod.Seconds]([mod.Seconds(2.0)])
    assert pk.typeof(m) is pk.Vector[mod.Meters] and pk.typeof(s) is pk.Vector[mod.Seconds]
    assert mod.first(m) == mod.Meters(1.0)
    with pytest.raises(pk.MethodError):
        mod.first(s)


def test_boundscheck_false_drops_the_checks_of_its_own_and_inlined_indexing(load_module):
    mod = load_module("""
import pkgimage as pk
from pkgimage import Int64, Float64
@pk.generic(boundscheck=False)
def total(v: pk.Vector[Float64]):
    s = 0.0
    for i in range(len(v)):
        s += v[i] + v[-1 - i]
    return s
@pk.generic
def checked(v: pk.Vector[Float64], i: Int64):
    return v[i]
""")
    v = np.arange(5.0)
    assert mod.total(v) == 2 * v.sum()
    assert pk.which(mod.total, (pk.Vector[Float64],)).boundscheck is False
    # (the error path of a check boxes the array's shape into a tuple for the message)
    assert "PyTuple_New" not in pk.code_llvm(mod.total, (pk.Vector[Float64],))
    assert "PyTuple_New" in pk.code_llvm(mod.checked, (pk.Vector[Float64], Int64))
    with pytest.raises(pk.BoundsError):
        mod.checked(v, 5)
    with pytest.raises(TypeError, match="boundscheck"):
        pk.generic(boundscheck="no")(lambda x: x)

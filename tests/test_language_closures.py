"""Closures in compiled code: lambdas and nested ``def``s reading the enclosing function's
variables, as values (returned to Python, stored, passed to ``sorted``) and called in place
(``map``/``filter`` with a lambda run inline), differentially against plain Python; a
variable Python would read later than the closure is made (assigned in a loop, twice,
after the closure; a comprehension's variable) lives in a cell the function and its
closures share, so the answer is Python's."""

import textwrap

import pytest

import pkgimage as pk
from pkgimage.settings import settings

SOURCE = '''
import pkgimage as pk


@pk.generic
def scale_all(xs: list[float], k: float):
    return list(map(lambda x: x * k, xs))


@pk.generic
def keep(xs: list[int], lo: int):
    return list(filter(lambda x: x >= lo, xs))


@pk.generic
def by_distance(ps: list[float], c: float):
    return sorted(ps, key=lambda p: abs(p - c))


@pk.generic
def twice(n: int):
    m = n * 2
    f = lambda x: x + m
    return f(1) + f(2)


@pk.generic
def make_adder(n: int):
    return lambda x: x + n


@pk.generic
def nested(xs: list[float], k: float):
    def sq(x):
        return x * x

    def shifted(x):
        return sq(x) + k
    total = 0.0
    for x in xs:
        total += shifted(x)
    return total, sorted(xs, key=shifted), max(xs, key=shifted)


@pk.generic
def apply(f, x):
    return f(x)


@pk.generic
def through_apply(k: float):
    return apply(lambda y: y * k, 2.0) + apply(lambda y: y + 1.0, 2.0)
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("closures"), "closure_programs", SOURCE)


def plain(mod, name):
    return getattr(mod, name).methods[0].pyfunc


CASES = [("scale_all", ([1.0, 2.5], 3.0)), ("keep", ([1, 5, 3, 7], 4)),
         ("by_distance", ([1.0, 5.0, 2.5, -3.0], 2.0)), ("twice", (5,)),
         ("nested", ([3.0, -1.0, 2.0], 0.5)), ("through_apply", (4.0,))]


@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_closures_give_plain_pythons_answers(mod, name, args):
    assert getattr(mod, name)(*args) == plain(mod, name)(*args)


def test_captures_assigned_before_the_closure_take_the_last_value(load_module):
    m = load_module("""
import pkgimage as pk
@pk.generic
def f(n: int):
    k = 1
    k = k + n
    n = n * 10
    if n > 5:
        j = 2
    else:
        j = 3
    g = lambda x: x + k + n + j
    return g(1)
""")
    assert m.f(3) == 1 + 4 + 30 + 2


def test_a_closure_returned_to_python_is_callable_there(mod):
    add10 = mod.make_adder(10)
    assert add10(5) == 15 and sorted([3, 1, 2], key=mod.make_adder(-1)) == [1, 2, 3]


@pytest.mark.parametrize("body", [
    "fs = []\nfor i in range(3):\n    fs.append(lambda x: x + i)\nreturn [g(10) for g in fs]",
    "k = 1\nfor i in range(3):\n    f = lambda x: x + k\n    k = i\nreturn f(100)",
    "k = 1\nf = lambda x: x + k\nk = 2\nreturn f(5)",
    "k = 1\nwhile n > 0:\n    k = n\n    f = lambda x: x + k\n    n -= 1\nreturn f(0)",
    "f = lambda x: x * k\nk = 2.5\ny = f(2)\nk = 'ab'\nreturn y, f(2)",
])
def test_variables_python_reads_later_are_shared_cells(load_module, body):
    """A closure over a variable assigned after it is made (or in a loop around it) reads
    the variable when it runs, as Python's does: the function and its closures share a cell
    (Julia's ``Core.Box``) -- these were compile errors."""
    src = "import pkgimage as pk\n\n@pk.generic\ndef f(n: int):\n" + \
        textwrap.indent(body, "    ") + "\n"
    m = load_module(src, filename="/virtual/closures.py")
    assert m.f(3) == m.f.methods[0].pyfunc(3)


SHARED = """
import pkgimage as pk


@pk.generic
def queens(n: int):
    count = 0
    cols = [0] * n

    def ok(r, c):
        for pr in range(r):
            pc = cols[pr]
            if pc == c or abs(pc - c) == r - pr:
                return False
        return True

    def place(r):
        nonlocal count
        if r == n:
            count += 1
            return
        for c in range(n):
            if ok(r, c):
                cols[r] = c
                place(r + 1)
    place(0)
    return count


@pk.generic
def make_counter(start: int):
    c = start

    def inc(step):
        nonlocal c
        c += step
        return c
    return inc


@pk.generic
def fib_memo(n: int):
    memo = {}

    def fib(k):
        if k < 2:
            return k
        if k not in memo:
            memo[k] = fib(k - 1) + fib(k - 2)
        return memo[k]
    return fib(n)


@pk.generic
def too_early(n: int):
    g = lambda: late * 2
    if n > 0:
        late = n
    return g()


@pk.generic
def accumulate(v: list[float]):
    total = 0.0
    parts = []

    def add(x):
        nonlocal total
        total += x
        parts.append(total)
    for x in v:
        add(x)
    return total, parts
"""


def test_nonlocal_and_recursive_nested_functions_give_pythons_answers(load_module):
    """``nonlocal`` (a counter the closure increments), a nested ``def`` calling itself (its
    name is bound after it is made), a closure returned to Python keeping its own cell."""
    m = load_module(SHARED)
    plain = {f: getattr(m, f).methods[0].pyfunc for f in ("queens", "make_counter",
                                                          "fib_memo", "accumulate")}
    assert [m.queens(k) for k in (4, 5, 6)] == [plain["queens"](k) for k in (4, 5, 6)]
    assert m.fib_memo(30) == plain["fib_memo"](30) == 832040
    inc, ref = m.make_counter(10), plain["make_counter"](10)
    assert [inc(1), inc(5), inc(-2)] == [ref(1), ref(5), ref(-2)] == [11, 16, 14]
    other = m.make_counter(0)
    assert other(1) == 1 and inc(0) == 14            # (each call makes its own cell)
    assert m.accumulate([1.0, 2.5, -0.5]) == plain["accumulate"]([1.0, 2.5, -0.5])


def test_a_shared_variable_read_before_it_is_assigned_is_pythons_name_error(load_module):
    m = load_module(SHARED)
    assert m.too_early(4) == 8
    with pytest.raises(NameError, match="cannot access free variable 'late'") as got:
        m.too_early(0)
    with pytest.raises(NameError) as want:
        m.too_early.methods[0].pyfunc(0)
    assert str(got.value) == str(want.value)


def test_python_mode_runs_closures_as_python(tmp_path):
    import os
    import subprocess
    import sys
    (tmp_path / "clo_py.py").write_text(textwrap.dedent(SOURCE))
    code = ("import clo_py as m\n"
            "print(m.twice(5), m.make_adder(3)(4), m.nested([3.0, -1.0], 1.0))\n")
    env = dict(os.environ, PKGIMAGE_JIT="0", PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "23 7 (12.0, [-1.0, 3.0], 3.0)"


def test_closures_load_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("clo1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            twice(2)
            nested([1.0, 2.0], 1.0)
            make_adder(1)(2)
            scale_all([1.0], 2.0)
        """))
    assert proj.build("clo1").returncode == 0
    out = proj.run_json("""
import clo1
with Tripwire() as tw:
    res = [clo1.twice(4), clo1.nested([2.0, -3.0], 1.0), clo1.make_adder(5)(6),
           clo1.scale_all([1.0, 2.0], 4.0)]
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [19, [15.0, [2.0, -3.0], -3.0], 11, [4.0, 8.0]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_an_inner_lambdas_parameter_shadows_the_outer_ones(load_module):
    """Found by the program fuzzer: inlining ``(lambda q: ...)(a)`` renamed ``q`` inside a
    nested lambda binding its own ``q`` too (and a comprehension's variable inside a lambda
    of the same parameter name): a wrong answer."""
    src = """
import pkgimage as pk
@pk.generic
def f(a: int):
    return (lambda ql: ql * 3 - ((lambda ql: ql * 3 - a)(a) + 1))(((lambda ql: ql * 3 - a)(a) + 1))
@pk.generic
def g(xs: list[int]):
    return [(lambda x: x * 2)(x + 1) for x in xs] + [(lambda x: x * 10)(5) for x in xs]
"""
    m = load_module(src)
    plain = {}
    exec(src.replace("@pk.generic\n", "").replace("import pkgimage as pk\n", ""), plain)
    assert m.f(-2614) == plain["f"](-2614) == -10454
    assert m.g([1, 2]) == plain["g"]([1, 2]) == [4, 6, 50, 50]


def test_a_closure_inside_a_comprehension_or_an_inlined_lambda_captures_the_inner_variable(
        load_module):
    """Comprehension variables and the parameters of a lambda called in place (``map``) are
    renamed apart from the enclosing locals of the same name: a closure made there read the
    enclosing variable instead (``[k for k in range(n) if g(lambda x: x < k, 1)]`` took the
    outer ``k``: a wrong answer).  It captures the inner one (a comprehension's through
    its cell: ``COMPREHENSIONS`` below)."""
    src = """
import pkgimage as pk
@pk.generic
def call1(g, x):
    return g(x)
@pk.generic
def through_map(xs: list[int]):
    x = 1000
    return list(map(lambda x: call1(lambda y: y + x, 1), xs))
@pk.generic
def fixed_capture(n: int):
    k = 7
    return [call1(lambda x: x + k, j) for j in range(n)]
@pk.generic
def in_filter(n: int):
    k = 100
    return [k for k in range(n) if call1(lambda x: x < k, 1)]
"""
    m = load_module(src, filename="/virtual/comp_closures.py")
    plain = {}
    exec(src.replace("@pk.generic\n", "").replace("import pkgimage as pk\n", ""), plain)
    assert m.through_map([1, 2]) == plain["through_map"]([1, 2]) == [2, 3]
    assert m.fixed_capture(3) == plain["fixed_capture"](3) == [7, 8, 9]
    assert m.in_filter(4) == plain["in_filter"](4) == [2, 3]


COMPREHENSIONS = """
import pkgimage as pk


@pk.generic
def call1(g, x):
    return g(x)


@pk.generic
def late(n: int):
    fs = [(lambda y: y + i) for i in range(n)]
    return [f(10) for f in fs]


@pk.generic
def called_at_once(xs: list[int]):
    return [call1(lambda y: y * x, 2) + x for x in xs]


@pk.generic
def nested(n: int):
    fss = [[(lambda: i * 10 + j) for j in range(i + 1)] for i in range(n)]
    return [[f() for f in fs] for fs in fss]


@pk.generic
def same_name_nested(n: int):
    fss = [[(lambda: i) for i in range(10, 10 + i + 1)] for i in range(n)]
    return [[f() for f in fs] for fs in fss]


@pk.generic
def a_cell_per_evaluation(n: int):
    out = []
    for r in range(2):
        out.append([(lambda: i + r * 100) for i in range(n + r)])
    return [[f() for f in fs] for fs in out]


@pk.generic
def dict_and_generator(n: int):
    d = {i: (lambda: i * 2) for i in range(n)}
    return [(k, f()) for k, f in d.items()], sum(call1(lambda y: y + i, 0) for i in range(n))


@pk.generic
def with_outer_values(xs: list[float], k: float):
    fs = [(lambda y: y * x + k) for x in xs if x > 0]
    return [f(2.0) for f in fs]


@pk.generic
def local_of_the_same_name(n: int):
    i = 5
    g = lambda: i
    fs = [(lambda: i) for i in range(n)]
    return g(), [f() for f in fs]


@pk.generic
def tuple_targets(ps: list[tuple[int, float]]):
    fs = [(lambda: (a, b)) for a, b in ps]
    return [f() for f in fs]


@pk.generic
def through_a_lambda_argument(n: int):
    fs = [call1(lambda x: (lambda: x + i), 100) for i in range(n)]
    return [f() for f in fs]


@pk.generic
def loop_variable_of_the_same_name(n: int):
    out = []
    for i in range(n):
        out.append([(lambda: i) for i in call1(lambda y: range(y, y + i + 1), 10)])
    return [[f() for f in fs] for fs in out]


@pk.generic
def returned(n: int):
    return [(lambda y: y - i) for i in range(n)]


@pk.generic
def made_by_a_lambda(n: int):
    mk = lambda xs: [(lambda: x * 2) for x in xs]
    return [f() for f in mk(list(range(n)))]
"""

COMP_CASES = [("late", (3,)), ("called_at_once", ([1, 2, 3],)), ("nested", (3,)),
              ("same_name_nested", (3,)), ("a_cell_per_evaluation", (2,)),
              ("dict_and_generator", (3,)), ("with_outer_values", ([1.5, -1.0, 2.0], 0.5)),
              ("local_of_the_same_name", (3,)), ("tuple_targets", ([(1, 2.5), (3, 4.5)],)),
              ("through_a_lambda_argument", (3,)), ("made_by_a_lambda", (3,)),
              ("loop_variable_of_the_same_name", (3,))]


@pytest.fixture(scope="module")
def comps(tmp_path_factory):
    from plaintools import compiled_and_plain
    return compiled_and_plain(tmp_path_factory.mktemp("comp_closures"), "comp_closures",
                              COMPREHENSIONS)


@pytest.mark.parametrize("name, args", COMP_CASES, ids=[c[0] for c in COMP_CASES])
def test_closures_over_comprehension_variables_bind_late_as_pythons(comps, name, args):
    """A closure over a comprehension's variable reads it when it runs, as Python's does:
    the variable lives in a cell made each time the comprehension runs (shared by the
    closures made in that run; ``[(lambda y: y + i) for i in range(3)]`` all add 2)."""
    from plaintools import typed
    mod, plain = comps
    assert typed(getattr(mod, name)(*args)) == typed(getattr(plain, name)(*args))


def test_closures_over_comprehension_variables_returned_to_python(comps):
    mod, plain = comps
    assert [f(10) for f in mod.returned(3)] == [f(10) for f in plain.returned(3)] == [8] * 3


def test_comprehension_cells_load_from_an_image_without_compiling(tmp_path, comps):
    from imagetools import Project
    _, plain = comps
    proj = Project(tmp_path)
    proj.write("comp_cells", "__pkgimage__ = True\n" + COMPREHENSIONS + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _w():
            late(2)
            nested(2)
            same_name_nested(2)
            through_a_lambda_argument(2)
            made_by_a_lambda(2)
        """))
    assert proj.build("comp_cells").returncode == 0
    out = proj.run_json("""
import comp_cells as m
with Tripwire() as tw:
    res = [m.late(3), m.nested(3), m.same_name_nested(3), m.through_a_lambda_argument(3),
           m.made_by_a_lambda(3)]
done({"res": res, "compiles": tw.total})
""")
    want = [plain.late(3), plain.nested(3), plain.same_name_nested(3),
            plain.through_a_lambda_argument(3), plain.made_by_a_lambda(3)]
    assert out["res"] == want and out["compiles"] == 0, out


def test_shared_cells_load_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("shared_cells", "__pkgimage__ = True\n" + SHARED + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _w():
            queens(5)
            inc = make_counter(1)
            inc(2)
            fib_memo(10)
        """))
    assert proj.build("shared_cells").returncode == 0
    out = proj.run_json("""
import shared_cells as m
with Tripwire() as tw:
    inc = m.make_counter(1)
    res = [m.queens(6), inc(2), inc(3), m.fib_memo(20)]
done({"res": res, "compiles": tw.total})
""")
    assert out["res"] == [4, 3, 6, 6765] and out["compiles"] == 0, out


@pytest.mark.skipif(not settings.jit,
                    reason="PKGIMAGE_JIT=0: method bodies run as Python, which calls it")
def test_a_module_level_lambda_used_in_compiled_code_is_a_located_compile_error(load_module):
    """``SQUARE = lambda x: x * x`` at a module's top level is a Python function, not a
    generic function (nothing made it one when the module ran): compiled code does not
    call it or take it as a value; the error names the line and says what to do."""
    m = load_module("""
import pkgimage as pk

SQUARE = lambda x: x * x

def cube(x):
    return x * x * x

@pk.generic
def called(n: int):
    return SQUARE(n) + 1

@pk.generic
def passed(xs: list[int]):
    return sorted(xs, key=SQUARE)

@pk.generic
def called_def(n: int):
    return cube(n)
""", filename="/virtual/global_lambda.py")
    for f, where, what in [(m.called, r"11:12", r"call of <lambda> \(not a generic function"),
                           (m.passed, r"15:27", r"global 'SQUARE' of type function used as "
                                                r"a value"),
                           (m.called_def, r"19:12", r"call of cube \(not a generic function")]:
        with pytest.raises(pk.CompileError, match=rf"global_lambda\.py:{where}: unsupported "
                                                  rf"construct in compiled code: {what}.*"
                                                  rf"@pk\.generic"):
            f(3) if f is not m.passed else f([3, -4, 1])

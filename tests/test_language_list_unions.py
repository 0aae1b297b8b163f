"""A variable holding lists of different element types (``u = [1] * n`` then ``u = f(u)``
returning floats, spectral-norm's pattern).  A Python list does not say its element type, so
the union cannot be split at run time; reading it -- ``len``, ``u[i]``, ``x in u``, ``for`` --
is compiled as a read of a list of the joined element types (each element's class says
what it is), while writes stay dynamic.  Each program runs compiled and as plain Python."""

import pytest
from plaintools import compiled_and_plain

import pkgimage as pk

SOURCE = '''
import pkgimage as pk


@pk.generic
def halve(u):
    return [x * 0.5 for x in u]


@pk.generic
def reads(n: int, k: int):
    u = [1] * n
    for _ in range(k):
        u = halve(u)
    s = 0.0
    for i, x in enumerate(u):
        s += i * x
    return len(u), s, (u[0] if u else -1), (0.5 in u), (1 in u)


@pk.generic
def writes(n: int, k: int):
    u = [2] * n
    for _ in range(k):
        u = halve(u)
    if u:
        u.append(u[-1] * 2)
        u[0] = u[1]
    return u, sum(u)


@pk.generic
def spectral_like(n: int):
    u = [1] * n
    for _ in range(3):
        v = [sum(x * (i + j + 1) for j, x in enumerate(u)) for i in range(n)]
        u = [x / 10.0 for x in v]
    return u


@pk.generic
def mixed(n: int):
    # a comprehension whose elements are ints or floats (``List[Union[Float64, Int64]]``)
    return [i * 0.5 if i % 3 else i for i in range(n)]


@pk.generic
def element(v: list, i: int):
    return v[i]


@pk.generic
def weighted(v: list):
    s = 0
    for i, x in enumerate(v):
        s += i * x
    return s
'''

CASES = [("reads", (4, 0)), ("reads", (4, 2)), ("reads", (0, 1)), ("writes", (3, 0)),
         ("writes", (3, 1)), ("spectral_like", (5,)), ("spectral_like", (0,))]


@pytest.fixture(scope="module")
def mods(tmp_path_factory):
    return compiled_and_plain(tmp_path_factory.mktemp("lu"), "list_unions", SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}" for n, a in CASES])
def test_lists_of_two_element_types_give_plain_pythons_answer(mods, name, args):
    compiled, plain = mods
    got, want = getattr(compiled, name)(*args), getattr(plain, name)(*args)
    assert got == want and repr(got) == repr(want)


class Half(float):
    """A float subclass with a method of its own: read from a list, it is not a float."""
    def __repr__(self):
        return f"Half({float(self)})"


@pytest.mark.parametrize("n", [0, 1, 4, 7])
def test_an_element_of_a_list_of_ints_and_floats_is_the_object_itself(mods, n):
    """``v[i]`` returns the list's own object, as Python does: the element of a
    ``List[Union[Float64, Int64]]`` came back as a new object (tag and bits boxed again for
    the return), equal but not identical, and a new float made per read."""
    compiled, plain = mods
    v = compiled.mixed(n)
    assert v == plain.mixed(n) and [type(x) for x in v] == [type(x) for x in plain.mixed(n)]
    for i in range(n):
        assert compiled.element(v, i) is v[i]
    assert repr(compiled.weighted(v)) == repr(plain.weighted(v))


def test_float_subclasses_and_big_ints_in_a_list_of_numbers_read_as_python(mods):
    """Elements of other classes than the members' own (a float subclass, an int too big
    for Int64, a bool) take the checked way: Python's answer, or Python's error."""
    compiled, plain = mods
    v = compiled.mixed(4) + [Half(2.5), 3, Half(-1.0)]
    assert repr(compiled.weighted(v)) == repr(plain.weighted(v))
    assert compiled.element(v, 4) is v[4]
    with pytest.raises(OverflowError):
        compiled.weighted(compiled.mixed(4) + [2 ** 70])


def test_reads_of_a_union_of_list_types_are_static_calls(mods):
    compiled, _ = mods
    from pkgimage import Int64
    typed = str(pk.code_typed(compiled.reads, (Int64, Int64)))
    reads = [ln for ln in typed.splitlines() if "base.getitem(" in ln or "base.len(" in ln]
    assert reads and not any("dynamic" in ln for ln in reads), typed
    # the sum over the elements is typed (not Any)
    assert "s = " in typed and ":: Any" not in typed.split("return")[0].split("s = ")[-1]


def test_list_union_reads_and_dict_of_pairs_load_from_an_image_without_compiling(tmp_path):
    import textwrap
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("lu1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import pkgimage as pk

        @pk.generic
        def halve(u):
            return [x * 0.5 for x in u]

        @pk.generic
        def run(n: int):
            u = [1] * n
            for _ in range(2):
                u = halve(u)
            s = 0.0
            for i, x in enumerate(u):
                s += i * x
            return s, dict(zip(range(n), u)), sorted(zip(u, range(n)))

        @pk.precompilation(__name__)
        def _workload():
            run(3)
        """))
    assert proj.build("lu1").returncode == 0
    out = proj.run_json("""
import lu1
with Tripwire() as tw:
    res = lu1.run(4)
done({"res": [res[0], sorted(res[1].items()), res[2]], "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [1.5, [[0, 0.25], [1, 0.25], [2, 0.25], [3, 0.25]],
                          [[0.25, 0], [0.25, 1], [0.25, 2], [0.25, 3]]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]

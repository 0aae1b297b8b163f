"""``random.random()``, ``random.uniform``, ``random.gauss`` on floats and ``random.randint`` /
``random.randrange`` on ints run CPython's own
Mersenne Twister in native code, on the state of Python's ``random`` generator itself
(``compiler/randomgen.py``): the numbers are plain Python's, seeding from either side seeds
both, Python and compiled draws interleave as in one Python program, and ``gauss``'s kept
second number is shared through the instance's ``gauss_next``."""

import random
import textwrap

import pytest

from pkgimage.compiler import randomgen

SOURCE = '''
import random
import pkgimage as pk

@pk.generic
def draws(n: int):
    out = []
    for _ in range(n):
        out.append(random.random())
    return out

@pk.generic
def gausses(n: int, mu: float, sigma: float):
    return [random.gauss(mu, sigma) for _ in range(n)]

@pk.generic
def uniforms(n: int, lo: float, hi: float):
    return [random.uniform(lo, hi) for _ in range(n)]

@pk.generic
def int_uniform(n: int):
    # (ints: Python's ``b - a`` on ints, through Python's own ``uniform``)
    return [random.uniform(-3, 9) for _ in range(n)]

@pk.generic
def randints(n: int, a: int, b: int):
    return [random.randint(a, b) for _ in range(n)]

@pk.generic
def randranges(n: int, a: int, b: int):
    out = []
    for _ in range(n):
        out.append(random.randrange(a, b))
        out.append(random.randrange(b))
    return out

@pk.generic
def choices_and_shuffle(n: int, words: list[str], s: str, v: list[int]):
    out = []
    for _ in range(n):
        out.append(random.choice(words) + random.choice(s))
    random.shuffle(v)
    return out, v

@pk.generic
def seeded_pi(seed: int, n: int) -> float:
    random.seed(seed)
    inside = 0
    for _ in range(n):
        x = random.random()
        y = random.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4.0 * inside / n
'''

needs_layout = pytest.mark.skipif(not randomgen.layout(),
                                  reason="this interpreter's generator layout is not known")


@pytest.fixture
def m(load_module):
    return load_module(SOURCE)


def test_the_generator_layout_is_recognised_where_native_code_counts_references():
    """The CPython versions this project supports (3.11-3.13, GIL builds) all have it: a
    failed check there would quietly make every draw a call through Python."""
    from pkgimage.compiler.codegen import REFCOUNT
    if REFCOUNT is not None:
        assert randomgen.layout()


@needs_layout
def test_native_draws_are_pythons_across_state_regenerations(m):
    """More than 624 words: the state is regenerated in native code, as CPython does."""
    random.seed(7)
    got = m.draws(2000)
    random.seed(7)
    assert got == [random.random() for _ in range(2000)]
    # the state native code leaves is the one Python's draws leave
    random.seed(11)
    m.draws(5)
    after = random.getstate()
    random.seed(11)
    [random.random() for _ in range(5)]
    assert random.getstate() == after


@needs_layout
@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.5, 2.0), (-3.0, 0.25)])
def test_gauss_gives_pythons_numbers_and_keeps_its_second_where_python_does(m, mu, sigma):
    random.seed(8)
    got = m.gausses(1001, mu, sigma)
    random.seed(8)
    assert got == [random.gauss(mu, sigma) for _ in range(1001)]
    # odd counts leave a kept number: Python's next gauss uses the one compiled code kept
    random.seed(9)
    mixed = [random.gauss(0.0, 1.0)] + m.gausses(3, mu, sigma) + [random.gauss(0.0, 1.0)]
    random.seed(9)
    plain = [random.gauss(0.0, 1.0)] + [random.gauss(mu, sigma) for _ in range(3)] + \
        [random.gauss(0.0, 1.0)]
    assert mixed == plain


@needs_layout
def test_gauss_without_its_kept_number_raises_pythons_attribute_error(m):
    inst = random._inst
    random.seed(1)
    del inst.gauss_next
    try:
        with pytest.raises(AttributeError, match="gauss_next"):
            m.gausses(1, 0.0, 1.0)
    finally:
        inst.gauss_next = None


class _Half(float):
    pass


@needs_layout
@pytest.mark.parametrize("kept", [0.75, 3, _Half(0.5), True])
def test_gauss_uses_a_kept_number_of_any_real_type_as_python_converts_it(m, kept):
    # (a float is read in place; an int, a bool, a float subclass converted as
    # ``PyFloat_AsDouble`` converts them -- what Python's ``mu + z * sigma`` gives)
    inst = random._inst
    try:
        random.seed(4)
        inst.gauss_next = kept
        got = m.gausses(3, 1.0, 2.0)
        random.seed(4)
        inst.gauss_next = kept
        assert got == [random.gauss(1.0, 2.0) for _ in range(3)]
    finally:
        inst.gauss_next = None


def test_native_draws_stay_pythons_over_many_regenerations(m):
    # (the state is regenerated every 624 words: CPython's three runs, the last word
    # wrapping to the first)
    random.seed(2024)
    got = m.draws(20000)
    random.seed(2024)
    assert got == [random.random() for _ in range(20000)]


def test_uniform_on_floats_and_on_ints_gives_pythons_numbers(m):
    random.seed(3)
    got = m.uniforms(50, -1.0, 3.0), m.int_uniform(20)
    random.seed(3)
    assert got == ([random.uniform(-1.0, 3.0) for _ in range(50)],
                   [random.uniform(-3, 9) for _ in range(20)])


def test_seeding_from_compiled_code_seeds_pythons_generator(m):
    def plain(seed, n):
        random.seed(seed)
        inside = 0
        for _ in range(n):
            x = random.random()
            y = random.random()
            if x * x + y * y <= 1.0:
                inside += 1
        return 4.0 * inside / n
    assert m.seeded_pi(42, 3000) == plain(42, 3000)
    after = random.getstate()
    m.seeded_pi(42, 3000)
    assert random.getstate() == after


@needs_layout
@pytest.mark.parametrize("a, b", [(0, 2 ** 32 - 1), (1, 6), (5, 5), (0, 1), (3, 2 ** 40),
                                  (-2 ** 62, 2 ** 62), (0, 2 ** 63 - 2), (-7, 2 ** 31),
                                  (0, 2 ** 63 - 1), (-2 ** 63, 2 ** 63 - 1)])
def test_randint_draws_pythons_numbers_for_every_width(m, a, b):
    """``randrange``'s unit step with ``_randbelow_with_getrandbits``: one word for widths
    up to 32 bits, two above, redrawn until below the width -- the draws, and the state left
    after them, are Python's.  A width int64 cannot hold (the last two) is Python's own
    call."""
    random.seed(7)
    got = m.randints(1500, a, b)
    after = random.getstate()
    random.seed(7)
    assert got == [random.randint(a, b) for _ in range(1500)]
    assert random.getstate() == after


@needs_layout
@pytest.mark.parametrize("a, b", [(0, 10), (1, 2 ** 33), (-5, 7), (2 ** 62, 2 ** 63 - 1)])
def test_randrange_with_one_and_two_arguments_draws_pythons_numbers(m, a, b):
    random.seed(3)
    got = m.randranges(700, a, b)
    random.seed(3)
    want = []
    for _ in range(700):
        want.append(random.randrange(a, b))
        want.append(random.randrange(b))
    assert got == want


@pytest.mark.parametrize("a, b", [(5, 4), (0, -1)])
def test_an_empty_randint_range_raises_pythons_value_error(m, a, b):
    with pytest.raises(ValueError) as plain:
        random.randint(a, b)
    with pytest.raises(ValueError) as compiled:
        m.randints(2, a, b)
    assert str(compiled.value) == str(plain.value)
    with pytest.raises(ValueError):
        m.randranges(2, b, b)


@pytest.mark.parametrize("n", [0, 1, 7, 700])
def test_choice_and_shuffle_draw_pythons_numbers(m, n):
    """Written in the base library as CPython's ``Random`` writes them, on ``randrange``:
    the same choices, the same permutation, the same state after."""
    words = ["ka", "lo", "mi", "ne", "ru", "sa"]
    random.seed(n)
    got = m.choices_and_shuffle(n, words, "acgt", list(range(n)))
    after = random.getstate()
    random.seed(n)
    want = ([random.choice(words) + random.choice("acgt") for _ in range(n)], list(range(n)))
    random.shuffle(want[1])
    assert got == want
    assert random.getstate() == after


@pytest.mark.parametrize("args", [(1, [], "ab", []), (1, ["x"], "", [])])
def test_choice_from_an_empty_sequence_is_pythons_index_error(m, args):
    with pytest.raises(IndexError, match="Cannot choose from an empty sequence"):
        m.choices_and_shuffle(*args)


def test_native_draws_load_from_an_image_and_draw_pythons_stream(tmp_path):
    """The generator is a constant slot the image's code is linked to at load (kind
    ``"mt"``): a fresh process's ``random._inst``."""
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("rnd_img", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _w():
            draws(3)
            gausses(3, 0.0, 1.0)
            uniforms(3, 0.0, 1.0)
            randints(3, 1, 6)
        """))
    proj.build("rnd_img")
    out = proj.run_json("""
import random
import rnd_img
with Tripwire() as tw:
    random.seed(5)
    got = [rnd_img.draws(700), rnd_img.gausses(9, 1.0, 2.0), rnd_img.uniforms(4, 2.0, 5.0),
           rnd_img.randints(50, 1, 6)]
random.seed(5)
want = [[random.random() for _ in range(700)], [random.gauss(1.0, 2.0) for _ in range(9)],
        [random.uniform(2.0, 5.0) for _ in range(4)],
        [random.randint(1, 6) for _ in range(50)]]
done({"same": got == want, "compiled": tw.total, "heavy": heavy(), "stats": stats()})
""")
    assert out["same"], out
    assert out["compiled"] == 0, out
    assert out["heavy"] == [], out          # (neither llvmlite nor the compiler loaded)
    assert out["stats"]["discarded"] == [], out

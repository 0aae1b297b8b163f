"""Python strings in compiled code (``String``, the ``str`` object itself): literals,
f-strings, operators, indexing and slicing, iteration, the ``str`` methods compiled code
knows, ``str``/``repr``/``int``/``float``/``ord``/``chr``.  Each program runs compiled and as
plain Python (the same bodies) and must give the same answer and raise the same errors."""

import textwrap

import pytest

SOURCE = '''
import pkgimage as pk
from pkgimage import Int64, List, String


@pk.generic
def words(text: str, n: int):
    out = []
    for w in text.split():
        w = w.strip(".,").lower()
        if w and not w.isdigit():
            out.append(w)
    s = ", ".join(out)
    t = f"{n:>3}|{s.upper()}|{len(out)}|{n / 3:.2f}|{n!r}"
    return (s, t, s[0], s[-3:], s[::2], "abc" in s, s.count("e"), s.find("q"),
            str(n) + "!" * 2, int("12") + n, float("2.5"), ord("a"), chr(98), repr(1.5),
            s < "b", s.replace("e", "E", 1), s.startswith("the"), s.endswith("x"),
            s.rjust(60, "*"), s.title(), "a,b,,c".split(","), "x".zfill(3), len(s))


@pk.generic
def letter_counts(s: str):
    vowels = 0
    upper = 0
    codes = []
    for ch in s:
        if ch in "aeiouAEIOU":
            vowels += 1
        if ch.isupper():
            upper += 1
        codes.append(ord(ch))
    return vowels, upper, sum(codes)


@pk.generic
def parse_ints(line: str):
    total = 0
    for part in line.split(","):
        total += int(part.strip())
    return total


@pk.generic
def char_at(s: str, i: int):
    return s[i]


@pk.generic
def render(xs: List[Int64]):
    return "[" + "; ".join([str(x) for x in xs]) + "]"


@pk.generic
def pieces(s: str, sep: str):
    a, mid, b = s.partition(sep)
    return (a, mid, b, s.rpartition(sep), s.removeprefix("ab"), s.removesuffix("ca"),
            "a\\tb".expandtabs(4), s.isascii(), s.isidentifier(), s.istitle(),
            s.isprintable())
'''

CASES = [("words", ("The quick brown fox, 12 jumps over 3 lazy dogs.", 7)),
         ("words", ("A b", -1)), ("letter_counts", ("Hello World, ÉTÉ!",)),
         ("letter_counts", ("",)), ("parse_ints", ("1, 2,3 , -40",)),
         ("render", ([1, -2, 30],)), ("render", ([],)), ("pieces", ("ab:ca:x", ":")),
         ("pieces", ("none", ":")), ("pieces", ("Été ab", " ")), ("pieces", ("", "-"))]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("strings"), "string_programs", SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}"[:40] for n, a in CASES])
def test_string_programs_give_plain_pythons_answer(mod, name, args):
    fn = getattr(mod, name)
    got, want = fn(*args), fn.methods[0].pyfunc(*args)
    assert got == want
    assert [type(x) for x in (got if isinstance(got, tuple) else (got,))] == \
        [type(x) for x in (want if isinstance(want, tuple) else (want,))]


@pytest.mark.parametrize("name,args,exc,msg", [
    ("parse_ints", ("1, x",), ValueError, "invalid literal for int"),
    ("char_at", ("abc", 3), IndexError, "string index out of range"),
    ("char_at", ("abc", -4), IndexError, "string index out of range"),
    ("pieces", ("abc", ""), ValueError, "empty separator"),
])
def test_string_errors_are_pythons(mod, name, args, exc, msg):
    fn = getattr(mod, name)
    with pytest.raises(exc, match=msg):
        fn(*args)
    with pytest.raises(exc, match=msg):
        fn.methods[0].pyfunc(*args)


def test_string_code_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("strs1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import pkgimage as pk

        @pk.generic
        def label(name: str, x: float):
            return f"{name.strip().title()}: {x:.2f}" + "!" * 2

        @pk.precompilation(__name__)
        def _workload():
            label(" ada ", 1.0)
        """))
    assert proj.build("strs1").returncode == 0
    out = proj.run_json("""
import strs1
with Tripwire() as tw:
    res = strs1.label("  grace hopper", 3.14159)
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == "Grace Hopper: 3.14!!", out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]

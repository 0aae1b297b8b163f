"""``print`` in compiled code is Python's own ``print`` on the values, through the
``sys.stdout`` (or ``sys.stderr``) current at the call: output interleaves with the
program's own prints and is seen by ``contextlib.redirect_stdout`` and pytest's capture.
f-string arguments are formatted with Python's ``format``."""

import contextlib
import io

import pytest

SOURCE = '''
import sys
import pkgimage as pk

@pk.generic
def report(x: float, n: int):
    print("x =", x, n)
    print(f"x = {x:.3f} n={n:>4} r={n!r} {x}", end="!\\n")
    print(x, n, sep=", ", file=sys.stderr)
    print([n, n + 1], (x, n), None, n > 2)
    print()
    print("no newline", end="", flush=True)
    return n


@pk.generic
def streams(n: int, f):
    sys.stdout.write("out " + str(n) + "\\n")
    sys.stderr.write(f"err {n}\\n")
    out = sys.stdout
    out.write("kept\\n")
    print("to f", n, file=f)
    print("to None", file=None)
    f.write("written\\n")
    return n


@pk.generic
def print_to(f, n: int):
    print(n, file=f)
'''


@pytest.fixture
def mod(load_module):
    return load_module(SOURCE)


def _run(fn, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        print("before")
        r = fn(*args)
        print("after")
    return r, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("args", [(1.5, 7), (-0.1, -3), (1e300, 0)])
def test_print_writes_what_plain_python_writes_where_it_writes_it(mod, args):
    got = _run(mod.report, *args)
    want = _run(mod.report.methods[0].pyfunc, *args)
    assert got == want
    assert got[1].startswith("before\nx = ") and got[1].endswith("no newlineafter\n")


def test_print_goes_through_pytests_capture(mod, capsys):
    mod.report(2.0, 1)
    out, err = capsys.readouterr()
    assert "x = 2.000 n=   1" in out and err == "2.0, 1\n"


def test_sys_stdout_write_and_print_to_a_file_go_where_python_sends_them(mod):
    """``sys.stdout.write(s)``, ``sys.stderr.write(s)``, ``out = sys.stdout`` and
    ``print(..., file=f)`` with any file value: the streams are read when the code runs
    (compiled before the redirection, then run under it), the file is the one passed."""
    mod.streams(0, io.StringIO())                # (compiled here, not redirected)
    f1, f2 = io.StringIO(), io.StringIO()
    got = _run(mod.streams, 5, f1)
    want = _run(mod.streams.methods[0].pyfunc, 5, f2)
    assert got == want and f1.getvalue() == f2.getvalue() == "to f 5\nwritten\n"
    assert got[1] == "before\nout 5\nkept\nto None\nafter\n" and got[2] == "err 5\n"


def test_print_to_something_that_is_not_a_file_is_pythons_error(mod):
    with pytest.raises(AttributeError, match="write"):
        mod.print_to(3, 1)


FORMATS = '''
import pkgimage as pk


class Tagged:
    """A Python object of its own ``__format__``, ``__str__`` and ``__repr__``."""
    def __init__(self, v):
        self.v = v

    def __format__(self, spec):
        return f"<{self.v}|{spec}>"

    def __str__(self):
        return f"s{self.v}"

    def __repr__(self):
        return f"r{self.v}"


@pk.struct
class Pt:
    x: float
    y: float


@pk.generic
def fstrings(i: int, x: float, s: str, o, p: Pt, flag: bool):
    return [f"{i} {i:5d} {i:x} {i:+,}", f"{x} {x:.3f} {x:>10.2e} {x!r}",
            f"{s} {s!r} {s:>8} {s!a} {s:^7}", f"{o} {o:spec} {o!s} {o!r} {o!r:>6}",
            f"{p} {p!r}", f"{flag} {flag:d} {None}", f"{i}", f"", f"{{}}{i}{{"]


@pk.generic
def formats(i: int, x: float, s: str, o):
    return ["{:d} {:d}\\n".format(i, i + 1), "{0}-{0}-{1!r}".format(s, x),
            "{{}}{}".format(i), "{:>8.2f}|{}".format(x, s, i), "x".format(),
            "{1} {0:>4}".format(i, s), "{} {!s}".format(o, o)]


@pk.generic
def decimals(i: int, j: int):
    return (f"{i}", f"{i} {j}\\n", "{:d} {:d}".format(i, j), f"[{i!r}|{j!s}|{i:d}]",
            f"{i:5d}", f"{i:x}", f"{i} {j} é")


@pk.generic
def unused_arguments_are_evaluated(log: list):
    return "{0}".format(log.append(1) or "a", log.append(2) or "b")


@pk.generic
def too_few(i: int):
    return "{} {}".format(i)


@pk.generic
def bad_spec(x: float):
    return f"{x:d}"


@pk.generic
def bad_method_spec(x: float):
    return "{:d}".format(x)


@pk.generic
def printed(i: int, s: str, o):
    print(i, s, o, f"[{i:x}]", sep="|", end=";\\n")
    print(f"{o:z} {s!r}")
'''


@pytest.fixture
def fmt(load_module):
    return load_module(FORMATS)


def _plain(f):
    return f.methods[0].pyfunc


@pytest.mark.parametrize("args", [(42, 2.5, "héllo", 3), (-7, -0.0, "", "str value"),
                                  (10 ** 12, 1e300, "a\nb", None)])
def test_fstrings_and_literal_str_format_give_pythons_strings(fmt, args):
    """Formatted in native code as CPython's f-string does it (conversion, then
    ``format`` with the literal spec, then one join); ``"...".format(...)`` with a literal
    format is the same f-string.  Values of every kind: ints, floats, strings, a struct, a
    Python object of its own ``__format__``."""
    i, x, s, o = args
    o = fmt.Tagged(o)
    p = fmt.Pt(1.5, -2.0)
    assert fmt.fstrings(i, x, s, o, p, True) == _plain(fmt.fstrings)(i, x, s, o, p, True)
    assert fmt.formats(i, x, s, o) == _plain(fmt.formats)(i, x, s, o)


EDGES = [0, 1, -1, 9, 10, -10, 99, 100, 12345, -98765, 10 ** 18, -10 ** 18, 2 ** 63 - 1,
         -2 ** 63, -2 ** 63 + 1, 10 ** 17 - 1]


def test_integers_formatted_in_decimal_are_pythons_at_every_magnitude(fmt):
    """All-integer, ASCII f-strings and formats are written digit by digit into one buffer
    (``strgen._decimal_parts``); the others (a width, hex, a non-ASCII literal) take the
    general path -- both against Python, at the int64 extremes and every power of ten."""
    for i in EDGES:
        for j in (0, -1, 7, 2 ** 63 - 1):
            assert fmt.decimals(i, j) == _plain(fmt.decimals)(i, j), (i, j)


def test_literal_str_format_evaluates_every_argument_in_order(fmt):
    log = []
    assert fmt.unused_arguments_are_evaluated(log) == "a" and log == [1, 2]


@pytest.mark.parametrize("name, args, exc", [("too_few", (1,), IndexError),
                                             ("bad_spec", (1.5,), ValueError),
                                             ("bad_method_spec", (1.5,), ValueError)])
def test_formatting_errors_are_pythons(fmt, name, args, exc):
    f = getattr(fmt, name)
    with pytest.raises(exc) as want:
        _plain(f)(*args)
    with pytest.raises(exc) as got:
        f(*args)
    assert str(got.value) == str(want.value)


def test_print_calls_the_print_python_finds_at_the_call(fmt, monkeypatch):
    """The builtin ``print`` is looked up in the builtins at each call, as Python's name
    lookup does: a program (or a tool) that replaces it sees compiled code's output too."""
    import builtins
    seen = []
    monkeypatch.setattr(builtins, "print", lambda *a, **kw: seen.append((a, kw)))
    o = fmt.Tagged(1)
    fmt.printed(255, "s", o)
    _plain(fmt.printed)(255, "s", o)
    assert len(seen) == 4 and seen[:2] == seen[2:]
    assert seen[0][1] == {"sep": "|", "end": ";\n"} and seen[0][0][3] == "[ff]"
    assert seen[1][0] == ("<1|z> 's'",)


def test_a_format_error_in_print_writes_nothing_and_raises_pythons_error(fmt):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(ValueError):
        fmt.printed(1, "s", 5)          # (``{o:z}`` of an int: Python's ValueError)
    assert out.getvalue() == "1|s|5|[1];\n"

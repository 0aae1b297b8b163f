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

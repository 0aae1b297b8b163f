"""``try``/``except``/``else``/``finally`` and ``raise`` in compiled code, differentially
against plain Python: the same results, the same exceptions (types and messages), the same
order of side effects (``finally`` on every way out: normal, exceptional, ``return``,
``break``, ``continue``), exceptions raised by callees' native code, by the runtime
(``IndexError``, ``KeyError``, ``ZeroDivisionError``, ``pk.BoundsError``) and by user
exception classes; and into images."""

import textwrap

import numpy as np
import pytest

import pkgimage as pk

SOURCE = '''
import math
import pkgimage as pk


class AppError(Exception):
    pass


class Negative(AppError):
    pass


@pk.generic
def check(x: int):
    if x < 0:
        raise Negative(f"negative {x}")
    if x == 13:
        raise AppError
    return x


@pk.generic
def safe_div(a: float, b: float):
    try:
        return a / b
    except ZeroDivisionError:
        return math.inf


@pk.generic
def parse(s: str, log: list):
    try:
        v = int(s)
    except ValueError as e:
        log.append("bad: " + str(e))
        v = -1
    else:
        log.append("ok")
        v = v * 2
    finally:
        log.append("finally " + s)
    return v


@pk.generic
def loop(n: int, log: list):
    total = 0
    for i in range(n):
        try:
            total += check(i - 2)
            if i == 6:
                return total
        except Negative:
            total += 100
            continue
        except AppError as e:
            log.append("app " + repr(e))
            break
        finally:
            total += 1
            log.append("f" + str(i))
    return total


@pk.generic
def reraise(x: int):
    try:
        return check(x)
    except AppError:
        raise


@pk.generic
def wrap(x: int):
    try:
        return check(x)
    except (KeyError, Negative) as e:
        raise ValueError("wrapped") from e


@pk.generic
def lookups(v: list, d: dict, k: int, j: str):
    out = 0
    try:
        out += v[k]
    except IndexError as e:
        out += 1000
    try:
        out += d[j]
    except KeyError:
        out += 2000
    try:
        out += 10 // (k - 1)
    except ZeroDivisionError as e:
        out += 3000
    return out


@pk.generic
def array_bounds(a: pk.Vector[pk.Float64], i: int):
    try:
        return a[i]
    except pk.BoundsError:
        return -1.0


@pk.generic
def types_change(flag: bool):
    x = 1
    try:
        x = 2.5
        if flag:
            check(-1)
        x = 3
    except Negative:
        return x * 2
    return x * 1.0


@pk.generic
def nested(x: int, log: list):
    try:
        try:
            check(x)
            log.append("inner ok")
        finally:
            log.append("inner finally")
        log.append("after inner")
    except Negative as e:
        log.append("outer " + str(e))
        try:
            check(13)
        except AppError:
            log.append("in handler")
    else:
        log.append("else")
    return len(log)


@pk.generic
def handler_raises(x: int):
    try:
        check(x)
    except Negative:
        [1, 2][x]
    return 0


@pk.generic
def unbound(flag: bool):
    try:
        if flag:
            check(-5)
        y = 7
    except Negative:
        pass
    return y


@pk.generic
def no_active():
    raise


@pk.generic
def raise_value(x: int):
    raise x


@pk.generic
def asserts(x: int):
    assert x != 0
    assert x > 0, f"bad {x}"
    return x
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("exc"), "exc_programs", SOURCE)


def outcome(f, *args):
    """(result or (exception type name, message), mutated arguments) of a call."""
    try:
        r = f(*args)
    except Exception as e:
        r = (type(e).__name__, str(e), type(e.__cause__).__name__)
    return r, args


def plain(mod, name):
    return getattr(mod, name).methods[0].pyfunc


CASES = [
    ("safe_div", (1.0, 0.0)), ("safe_div", (1.0, 4.0)),
    ("parse", ("21", [])), ("parse", ("x1", [])),
    ("loop", (3, [])), ("loop", (10, [])), ("loop", (20, [])),
    ("reraise", (-1,)), ("reraise", (13,)), ("reraise", (4,)),
    ("wrap", (-3,)), ("wrap", (13,)), ("wrap", (2,)),
    ("lookups", ([5, 6, 7], {"a": 1}, 2, "a")), ("lookups", ([5, 6, 7], {"a": 1}, 9, "b")),
    ("lookups", ([5, 6, 7], {"a": 1}, 1, "a")),
    ("types_change", (True,)), ("types_change", (False,)),
    ("nested", (1, [])), ("nested", (-1, [])),
    ("handler_raises", (5,)), ("handler_raises", (-1,)),
    ("unbound", (False,)), ("unbound", (True,)),
    ("no_active", ()), ("raise_value", (3,)),
    ("asserts", (2,)), ("asserts", (0,)), ("asserts", (-4,)),
]


@pytest.mark.parametrize("name, args", CASES, ids=[f"{n}{a[:1]}" for n, a in CASES])
def test_compiled_exceptions_behave_as_plain_python(mod, name, args):
    import copy
    want = outcome(plain(mod, name), *copy.deepcopy(args))
    got = outcome(getattr(mod, name), *copy.deepcopy(args))
    assert got == want


def test_bounds_errors_of_arrays_are_caught(mod):
    a = np.arange(3.0)
    assert mod.array_bounds(a, 2) == 2.0 and mod.array_bounds(a, 5) == -1.0


def test_the_exception_keeps_its_type_message_and_cause(mod):
    with pytest.raises(ValueError, match="wrapped") as info:
        mod.wrap(-3)
    assert isinstance(info.value.__cause__, mod.Negative)
    assert str(info.value.__cause__) == "negative -3"


def test_exceptions_in_images_load_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("exc1", "__pkgimage__ = True\n" + textwrap.dedent(SOURCE) + textwrap.dedent("""
        @pk.precompilation(__name__)
        def _workload():
            loop(10, [])
            wrap(2)
            safe_div(1.0, 0.0)
        """))
    assert proj.build("exc1").returncode == 0
    out = proj.run_json("""
import exc1
with Tripwire() as tw:
    log = []
    res = [exc1.loop(10, log), log, exc1.safe_div(1.0, 0.0) > 1e308]
    try:
        exc1.wrap(-2)
    except ValueError as e:
        res.append([str(e), type(e.__cause__).__name__, type(e.__cause__) is exc1.Negative])
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    # (plain Python: 216 -- the value ``return`` took before ``finally`` added 1 -- and f0..f6)
    assert out["res"] == [216, [f"f{i}" for i in range(7)], True,
                          ["wrapped", "Negative", True]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_the_traceback_names_the_users_file_and_line(mod):
    """Native code has no frames: the raise adds one at the user's ``raise``."""
    import traceback
    with pytest.raises(ValueError) as info:
        mod.wrap(-3)
    cause = info.value.__cause__
    frames = traceback.extract_tb(cause.__traceback__)
    last = frames[-1]
    assert last.filename == mod.__file__ and last.name == "check"
    assert last.line == 'raise Negative(f"negative {x}")'
    frames = traceback.extract_tb(info.value.__traceback__)
    assert (frames[-1].filename, frames[-1].name) == (mod.__file__, "wrap")
    assert frames[-1].line == 'raise ValueError("wrapped") from e'

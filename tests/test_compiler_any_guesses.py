"""A call with one argument of type Any (a Python callable's result) and the others known
splits on the value's likely classes -- Float64, Int64, String -- to static calls of the
methods they select, and dispatches any other value at run time
(``inference._guess_any``).  Answers must be Python's whatever the value is, and a method
whose parameter is undeclared is never compiled for a guessed type (its body may not make
sense for one: ``pkt.ident`` on a Float64 would not compile)."""

import bisect

import pytest

SOURCE = '''
import bisect
import pkgimage as pk
from pkgimage import Float64, List


@pk.generic
def place(probs: List[Float64], draw):
    x = draw()
    return bisect.bisect(probs, x)


@pk.generic
def pick(chars, draw):
    return chars[draw()]


@pk.generic
def scale(x: float, k: float):
    return x * k


@pk.generic
def times(x: int, k: float):
    return x * k + 0.5


@pk.generic
def use(draw):
    return scale(draw(), 2.0), times(3, draw())


class Packet:
    def __init__(self, ident):
        self.ident = ident


@pk.generic
def ident_of(pkt):
    return pkt.ident


@pk.generic
def via_python(make):
    return ident_of(make())
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("guesses"), "any_guess_programs", SOURCE)


@pytest.mark.parametrize("value", [0.55, 2, True, -7.5, 10 ** 3])
def test_bisect_on_a_python_callables_value_is_pythons(mod, value):
    probs = [0.1, 0.3, 0.6, 1.0]
    assert mod.place(probs, lambda: value) == bisect.bisect(probs, value)


def test_indexing_with_a_python_callables_value_is_pythons(mod):
    chars = ["a", "c", "g", "t"]
    assert mod.pick(chars, lambda: 2) == "g"
    assert mod.pick(chars, lambda: -1) == "t"
    with pytest.raises(TypeError):
        mod.pick(chars, lambda: "x")


def test_guessed_calls_give_the_declared_methods_answers(mod):
    assert mod.use(lambda: 1.5) == (3.0, 5.0)
    with pytest.raises(Exception, match="no method matching scale"):
        mod.use(lambda: "s")


def test_an_undeclared_parameter_is_not_compiled_for_a_guess(mod):
    assert mod.via_python(lambda: Packet(7)) == 7


Packet = None


@pytest.fixture(autouse=True)
def _packet(mod):
    global Packet
    Packet = mod.Packet


def test_a_base_library_submodules_method_takes_the_guesses(mod):
    """``bisect.bisect`` is ``bisect_right`` of ``pkgimage.base.bisects``: a base library
    method like those of ``pkgimage.base`` itself, written for any value, so the call on a
    Python callable's value splits on the guesses (a class test and a native call) instead
    of dispatching at run time -- which made fasta's inner loop 6x slower than CPython's."""
    import pkgimage as pk
    from pkgimage import types as T
    typed = str(pk.code_typed(mod.place, (T.list_of(T.Float64), T.Any)))
    line = next(ln for ln in typed.splitlines() if "bisect_right" in ln)
    assert "split" in line and "bisect_right(::List[Float64], ::Float64)" in line, line

"""Python's ``round`` in the base library: ``round(x)`` of a float is the nearest int, ties
to even (``round(2.5) == 2``), through LLVM's ``roundeven`` and the float-to-int conversion
that raises Python's errors for infinities and NaN; ``round(x, n)`` is CPython's own
``float.__round__``/``int.__round__`` (correctly rounded through the shortest decimal
representation, which no single machine instruction gives), called from compiled code.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import intr
from ..types import Float64, Int64, Integer, Real, Union
from . import MODULE, float_, int_
from .synth import add_synth

FUNCTIONS = {"round_": D.get_function("round_", MODULE)}
round_ = FUNCTIONS["round_"]
# builtins -> the base function a call of them in compiled code is
BUILTINS = {round: "round_"}

add_synth(round_, (Float64,), [("intrinsic", "round_roundeven"), ("call", int_)], round)


@round_.method
def _(x: Integer):
    return int_(x)


@round_.method
def _(x: Real):
    return round_(float_(x))


@round_.method
def _(x: Union[Float64, Int64], n: Integer):
    return intr.round_digits(x, int_(n))

"""``random.choice`` and ``random.shuffle`` in the base library, written as CPython's
``Random`` writes them (``seq[self._randbelow(len(seq))]``; Fisher-Yates from the end with
``_randbelow(i + 1)``), with ``randrange(n)`` -- which *is* ``_randbelow(n)`` for ``n > 0``
and draws natively from Python's own generator (``compiler/randomgen.py``).  The numbers, the
state left behind and the errors are Python's; a call from compiled code costs a few native
draws where it cost Python's whole method (a third of ``sort_records``'s time went to
``random.choice``)."""

from __future__ import annotations

from ..compiler.intrinsics import intr
from ..types import List, String, make_union
from . import len as len_
from .mathlib import PY_FUNCTIONS

random_choice = PY_FUNCTIONS["random_choice"]
random_shuffle = PY_FUNCTIONS["random_shuffle"]


@random_choice.method
def _(seq: make_union([List, String])):
    n = len_(seq)
    if n == 0:
        raise IndexError("Cannot choose from an empty sequence")
    return seq[intr.random_randrange(n)]


@random_shuffle.method
def _(x: List):
    i = len_(x) - 1
    while i > 0:
        j = intr.random_randrange(i + 1)
        x[i], x[j] = x[j], x[i]
        i -= 1
    return None

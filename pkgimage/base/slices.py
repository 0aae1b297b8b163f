"""``x[lo:hi:step] = y`` in the base library: ``setslice(x, lo, hi, step, y)``, each absent
part ``None``.

On a list it is Python's own slice assignment (``perm[:k+1] = perm[k::-1]``: a slice of
another length resizes the list, an extended slice must match, Python's errors); on an array
NumPy's assignment to a basic slice (``setview`` into the view ``x[lo:hi:step]``: a copy of
an array of its shape, or a number in each element).  A package extends ``setslice`` for its
own containers.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import intr
from ..types import Any, Array, Integer, List, Nothing
from . import MODULE, setview, to_index

setslice = D.get_function("setslice", MODULE)
slice_part = D.get_function("slice_part", MODULE)
FUNCTIONS = {"setslice": setslice}
_BIG = 9223372036854775807


@slice_part.method
def _(x: Nothing, absent: Integer):
    return absent


@slice_part.method
def _(x: Integer, absent: Integer):
    return to_index(x)


@setslice.method
def _(v: List, lo: Any, hi: Any, step: Any, xs: Any):
    intr.list_setslice(v, lo, hi, step, xs)
    return None


@setslice.method
def _(A: Array, lo: Any, hi: Any, step: Any, x: Any):
    # an absent bound is the far end for the step's direction, as Python's slicing takes it
    st = slice_part(step, 1)
    back = st < 0
    a = slice_part(lo, _BIG if back else 0)
    b = slice_part(hi, -_BIG - 1 if back else _BIG)
    setview(A[a:b:st], x)
    return None

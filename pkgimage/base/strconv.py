"""Numbers to and from strings in the base library, beyond ``str``/``int``/``float`` of
``strings.py``: ``hex(n)``, ``oct(n)``, ``bin(n)``, ``int(s, base)`` and ``s.format(...)``
(the method: ``"{:d} {:d}\\n".format(i, j)``).  Each is Python's own operation through an
intrinsic (``compiler/strintr.py``), so results and errors (``ValueError: invalid literal
for int() with base 16``) are Python's.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import intr
from ..types import Any, Integer, String
from . import MODULE, int_, to_index

NAMES = ("hex_", "oct_", "bin_", "format")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
hex_, oct_, bin_, format_ = (FUNCTIONS[n] for n in NAMES)
# builtins -> the base function a call of them in compiled code is
BUILTINS = {hex: "hex_", oct: "oct_", bin: "bin_"}


@hex_.method
def _(n: Integer):
    return intr.str_hex(to_index(n))


@oct_.method
def _(n: Integer):
    return intr.str_oct(to_index(n))


@bin_.method
def _(n: Integer):
    return intr.str_bin(to_index(n))


@int_.method
def _(s: String, base: Integer):
    return intr.str_int(s, to_index(base))


@format_.method
def _(s: String):
    return intr.str_format_method(s)


@format_.method
def _(s: String, a: Any):
    return intr.str_format_method(s, a)


@format_.method
def _(s: String, a: Any, b: Any):
    return intr.str_format_method(s, a, b)


@format_.method
def _(s: String, a: Any, b: Any, c: Any):
    return intr.str_format_method(s, a, b, c)


@format_.method
def _(s: String, a: Any, b: Any, c: Any, d: Any):
    return intr.str_format_method(s, a, b, c, d)

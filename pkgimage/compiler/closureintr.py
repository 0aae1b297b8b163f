"""The closure intrinsic: a lambda's function with the values it captured bound first.

``closure(f, v1, ..., vk)`` is ``types.Closure(f, (v1, ..., vk))``, a value of the concrete
type ``closure_type(f, (typeof(v1), ..., typeof(vk)))`` when the captured values' types are
concrete: compiled code holds the captured values unboxed and a call of the closure is a
static call of ``f`` with them first (``inference._eval_call``, ``codegen``), as Julia calls
a closure's method.  Captures of abstract types make a closure of type ``PyObject`` (called
through Python).  Python code that receives one -- ``sorted(key=...)``, a callback -- calls
it as any function.
"""

from __future__ import annotations

from types import CellType

from .. import types as T
from .intrinsics import _def


def closure_rule(ts, p):
    if not ts:
        return None
    if ts[0].__pk_kind__ == "function" and all(T.isconcrete(t) for t in ts[1:]):
        return T.closure_type(ts[0].__pk_function__, ts[1:])
    return T.PyObject


@_def("closure", closure_rule)
def closure(f, *captured):
    return T.Closure(f, captured)


# -- boxes: variables a closure shares with the function that made it ----------------------
#
# ``box_new()`` is an empty cell (Python's own cell object, type ``Box``); ``box_get(c)`` its
# value (Any) or Python's NameError when nothing was assigned yet; ``box_set(c, v)`` assigns
# it.  Native code calls CPython's ``PyCell_*`` (``codegen.BOX_EMITTERS``); these Python
# bodies are what the same operations are in Python.  Parameters: (variable name, "local" or
# "free"), for the error message.

BOX_OPS = ("box_new", "box_get", "box_set")


@_def("box_new", lambda ts, p: T.Box if not ts else None)
def box_new(*params):
    return CellType()


@_def("box_get", lambda ts, p: T.Any if len(ts) == 1 and ts[0] is T.Box else None)
def box_get(cell, name="", kind="free"):
    try:
        return cell.cell_contents
    except ValueError:
        raise unbound(name, kind) from None


@_def("box_set", lambda ts, p: T.Nothing if len(ts) == 2 and ts[0] is T.Box else None)
def box_set(cell, value, *params):
    cell.cell_contents = value


def unbound(name, kind):
    """Python's error for reading a variable that holds no value yet."""
    if kind == "local":
        return UnboundLocalError(f"cannot access local variable {name!r} where it is not "
                                 f"associated with a value")
    return NameError(f"cannot access free variable {name!r} where it is not associated "
                     f"with a value in enclosing scope")

"""``Dict[K, V]`` (Python's ``dict``) in the base library, and ``iterable``: what a ``for``
loop walks (a dict's keys, anything else itself).

``d[k]``, ``k in d``, ``len(d)`` are methods of ``getitem``, ``contains``, ``len``; ``d.get(k)``
and the other dict methods are base functions of those names (``pop``, ``clear`` and ``copy``
shared with lists).  Each does the dict operation through an intrinsic
(``compiler/dictintr.py``), so results and errors are Python's.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import intr
from ..types import Any, Dict, TypeVar
from . import contains, eq, error, getitem, ne, setitem, truth
from . import len as len_
from .lists import clear, copy, pop
from ..types import typeof

MODULE = "pkgimage.base"
NAMES = ("get", "setdefault", "keys", "values", "items", "update", "iterable")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
get, setdefault, keys, values, items, update, iterable = (FUNCTIONS[n] for n in NAMES)
K, V = TypeVar("K"), TypeVar("V")


@iterable.method
def _(x: Any):
    return x


@iterable.method
def _(d: Dict):
    return intr.dict_keys(d)          # (a snapshot of the keys: see the README)


@len_.method
def _(d: Dict):
    return intr.dict_len(d)


@truth.method
def _(d: Dict):
    return intr.dict_len(d) != 0


@getitem.method
def _(d: Dict, k: Any):
    return intr.dict_getitem(d, k)      # (any key: 1.0 finds the key 1, as in Python)


@setitem.method
def _(d: Dict[K, V], k: K, v: V):
    intr.dict_setitem(d, k, v)
    return None


@setitem.method
def _(d: Dict, k: Any, v: Any):
    error(f"cannot store a {typeof(k)} key and {typeof(v)} value in a {typeof(d)}: a dict "
          f"from Python keeps the key and value types its items had at the call")


@contains.method
def _(d: Dict, k: Any):
    return intr.dict_contains(d, k)


@eq.method
def _(a: Dict, b: Dict):
    return intr.dict_eq(a, b)


@ne.method
def _(a: Dict, b: Dict):
    return not intr.dict_eq(a, b)


@get.method
def _(d: Dict, k: Any):
    return intr.dict_get(d, k)


@get.method
def _(d: Dict, k: Any, default: Any):
    return intr.dict_get(d, k, default)


@pop.method
def _(d: Dict, k: Any):
    return intr.dict_pop(d, k)


@pop.method
def _(d: Dict, k: Any, default: Any):
    return intr.dict_pop(d, k, default)


@setdefault.method
def _(d: Dict[K, V], k: K, v: V):
    return intr.dict_setdefault(d, k, v)


@keys.method
def _(d: Dict):
    return intr.dict_keys(d)


@values.method
def _(d: Dict):
    return intr.dict_values(d)


@items.method
def _(d: Dict):
    return intr.dict_items(d)


@clear.method
def _(d: Dict):
    intr.dict_clear(d)
    return None


@copy.method
def _(d: Dict):
    return intr.dict_copy(d)


@update.method
def _(d: Dict, other: Dict):
    intr.dict_update(d, other)
    return None

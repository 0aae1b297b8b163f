"""``Dict[K, V]`` (Python's ``dict``) in the base library, and ``iterable``: what a ``for``
loop walks (a dict's keys, anything else itself).

``d[k]``, ``k in d``, ``len(d)`` are methods of ``getitem``, ``contains``, ``len``; ``d.get(k)``
and the other dict methods are base functions of those names (``pop``, ``clear`` and ``copy``
shared with lists).  Each does the dict operation through an intrinsic
(``compiler/dictintr.py``), so results and errors are Python's.
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler.intrinsics import REGISTRY, intr
from ..types import Any, Dict, TypeVar
from . import contains, eq, error, getitem, ne, setitem, truth
from . import len as len_
from .lists import clear, copy, pop
from .synth import add_synth
from ..types import typeof

MODULE = "pkgimage.base"
NAMES = ("get", "setdefault", "keys", "values", "items", "update", "iterable", "dict_from")
FUNCTIONS = {n: D.get_function(n, MODULE) for n in NAMES}
get, setdefault, keys, values, items, update, iterable, dict_from = \
    (FUNCTIONS[n] for n in NAMES)
K, V = TypeVar("K"), TypeVar("V")


@iterable.method
def _(x: Any):
    return x


# ``dict(x)``: a copy of a dict, else the dict of the key-value pairs ``x`` holds, as
# Python's ``dict(pairs)`` (``dict(zip(keys, values))``, ``dict([(k, v), ...])``)
@dict_from.method
def _(d: Dict):
    return intr.dict_copy(d)


@dict_from.method
def _(x: Any):
    d = {}
    for i, p in enumerate(x):
        if len(p) != 2:
            raise ValueError(f"dictionary update sequence element #{i} has length {len(p)}; "
                             f"2 is required")
        d[p[0]] = p[1]
    return d


@truth.method
def _(d: Dict):
    return intr.dict_len(d) != 0


@setitem.method
def _(d: Dict[K, V], k: K, v: V):
    intr.dict_setitem(d, k, v)
    return None


@setitem.method
def _(d: Dict, k: Any, v: Any):
    error(f"cannot store a {typeof(k)} key and {typeof(v)} value in a {typeof(d)}: a dict "
          f"from Python keeps the key and value types its items had at the call")


@ne.method
def _(a: Dict, b: Dict):
    return not intr.dict_eq(a, b)


@setdefault.method
def _(d: Dict[K, V], k: K, v: V):
    return intr.dict_setdefault(d, k, v)


# Methods whose body is the intrinsic alone (``synth.py``): (function, signature, intrinsic);
# ``iterable(d)`` is a snapshot of the keys (see the README), ``d[k]`` takes a key of any type
# (1.0 finds the key 1, as in Python)
_SIMPLE = ((iterable, (Dict,), "dict_keys"), (len_, (Dict,), "dict_len"),
           (getitem, (Dict, Any), "dict_getitem"), (contains, (Dict, Any), "dict_contains"),
           (eq, (Dict, Dict), "dict_eq"), (get, (Dict, Any), "dict_get"),
           (get, (Dict, Any, Any), "dict_get"), (pop, (Dict, Any), "dict_pop"),
           (pop, (Dict, Any, Any), "dict_pop"), (keys, (Dict,), "dict_keys"),
           (values, (Dict,), "dict_values"), (items, (Dict,), "dict_items"),
           (clear, (Dict,), "dict_clear"), (copy, (Dict,), "dict_copy"),
           (update, (Dict, Dict), "dict_update"))
for _f, _sig, _name in _SIMPLE:
    add_synth(_f, _sig, [("intrinsic", _name)], REGISTRY[_name].impl)

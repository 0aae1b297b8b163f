"""Where a workload's new CodeInstances are kept: the module's image, or a context image.

Julia drops compiled code that no single package "owns" (seed 001: linear algebra of
fixed-point matrices belongs to neither FixedPointNumbers nor GenericLinearAlgebra).  Here
every new instance is kept somewhere:

* in the module's image when every pkgimage module it *touched* is within the module's
  context (the module and its pkgimage dependencies);
* otherwise in a **context image** keyed by the set of pkgimage modules it touched -- the
  smallest set that covers it (seed 000's "post compilation narrowing") -- which is loaded
  automatically in any process where all of those modules are loaded, and never otherwise.

An instance *touches* the modules of its method, of the types in its signature, and of
every method, candidate and argument type of its calls, transitively through the instances
it calls statically (inlined or not).  Modules of pkgimage itself (the base library) and
plain Python modules (without ``__pkgimage__ = True``) are always available and never part
of a key.
"""

from __future__ import annotations

import sys


def _type_modules(t, out):
    from ..types import components
    for c in components(t):
        mod = getattr(c, "__pk_module__", None)
        if mod:
            out.add(mod)


def _direct(ci):
    out = {ci.mi.method.module, ci.mi.method.function.module}
    for t in ci.mi.spec_types:
        _type_modules(t, out)
    for e in ci.edges:
        out.add(e.function.module)
        for t in e.argtypes:
            _type_modules(t, out)
        if e.method is not None:
            out.add(e.method.module)
        for m in e.candidates:
            out.add(m.module)
    return out


def touched_modules(ci, memo=None):
    """Names of the modules ``ci`` depends on (see the module doc), transitively."""
    from ..compiler.inference import static_calls
    if memo is None:
        memo = {}
    hit = memo.get(id(ci))
    if hit is not None:
        return hit
    memo[id(ci)] = set()          # cycles: the cycle's members add themselves below
    out = _direct(ci)
    for info in ci.stmt_info.values():
        for call in static_calls(info):
            if call.mi.cache is not None:
                out |= touched_modules(call.mi.cache, memo)
    memo[id(ci)] = out
    return out


def is_pkgimage_module(name):
    from ..image.hook import is_pkgimage_source
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None)
    return bool(path) and path.endswith(".py") and is_pkgimage_source(path)


def context_key(ci, context, memo=None):
    """() when ``ci`` belongs in the image of the module whose context is ``context``, else
    the sorted tuple of pkgimage modules that keys its context image."""
    mods = {m for m in touched_modules(ci, memo)
            if not m.startswith("pkgimage") and is_pkgimage_module(m)}
    if mods <= set(context):
        return ()
    return tuple(sorted(mods))

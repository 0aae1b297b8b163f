"""The dispatch entry hook, without importing the compiler until something must compile.

``import pkgimage`` installs this hook; the heavy modules (inference, codegen, llvmlite) are
imported on the first call that has no native entry yet.  A process whose calls are all
served by package images never imports them (the warm path stays lean).
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler_lock import COMPILER_LOCK
from ..settings import settings as _settings
from .instances import INVALIDATION_LISTENERS, PENDING, materialise

# Native code installed by the image loader: (function, argtypes) -> (mi, NativeCode);
# its Python entry is made at the first call (``native.python_entry``).
PRELINKED: dict = {}


def entry_for(function, method, argtypes):
    """What a call from Python runs (under the compiler lock: the first calls of several
    threads may race to compile, link or take a loaded entry)."""
    with COMPILER_LOCK:
        return _entry_for(function, method, argtypes)


def _entry_for(function, method, argtypes):
    if function in PENDING:                  # (an image holds its instances as records)
        materialise(function)
    mi_native = PRELINKED.get((function, argtypes))
    if mi_native is not None:
        mi, nc = mi_native
        if mi.cache is not None and mi.method is method and mi.cache.native is nc:
            from .native import python_entry
            entry = python_entry(nc, function.name)
            if entry is not None:
                return entry
        del PRELINKED[(function, argtypes)]
    from .pipeline import entry_for as compile_entry
    return compile_entry(function, method, argtypes)


def _drop_entries(ci):
    ci.mi.method.function._pycache.clear()


INVALIDATION_LISTENERS.append(_drop_entries)

if _settings.jit:
    D.set_entry_hook(entry_for)

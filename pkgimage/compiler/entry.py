"""The dispatch entry hook, without importing the compiler until something must compile.

``import pkgimage`` installs this hook; the heavy modules (inference, codegen, llvmlite) are
imported on the first call that has no native entry yet.  A process whose calls are all
served by package images never imports them (the warm path stays lean).
"""

from __future__ import annotations

import os

from .. import dispatch as D
from .instances import INVALIDATION_LISTENERS

# Native entries installed by the image loader: (function, argtypes) -> callable
PRELINKED: dict = {}


def entry_for(function, method, argtypes):
    mi_entry = PRELINKED.get((function, argtypes))
    if mi_entry is not None:
        mi, entry = mi_entry
        if mi.cache is not None and mi.method is method and mi.cache.native is not None \
                and mi.cache.native.entry is entry:
            return entry
        del PRELINKED[(function, argtypes)]
    from .pipeline import entry_for as compile_entry
    return compile_entry(function, method, argtypes)


def _drop_entries(ci):
    ci.mi.method.function._pycache.clear()


INVALIDATION_LISTENERS.append(_drop_entries)

if os.environ.get("PKGIMAGE_JIT", "1") != "0":
    D.set_entry_hook(entry_for)

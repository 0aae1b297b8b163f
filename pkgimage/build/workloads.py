"""Precompilation workloads that run *after* the module is closed (seed 002's proposal).

``@pk.precompilation(__name__)`` registers a function as a workload of that module.  It never
runs at a normal import or an image load: only while that module's image is being built, and
then only after the module's top level has finished and its state was checkpointed, in a
sandbox (a forked child) where it may call ``__init__``-dependent functions, start threads,
open files and leave them behind.  Workloads may also live in separate files listed in the
package's ``pyproject.toml``::

    [tool.pkgimage]
    workloads = ["workloads/warmup.py"]

Those files are executed (as ``__main__``-less modules) when the build needs the workloads.
"""

from __future__ import annotations

import os
import sys
import types as pytypes

# module name -> [workload functions], in registration order
REGISTRY: dict = {}


def _modname(module):
    if isinstance(module, pytypes.ModuleType):
        return module.__name__
    if isinstance(module, str):
        return module
    raise TypeError(f"pk.precompilation expects a module or its name, got {module!r}")


def precompilation(module):
    """Decorator: register ``fn`` as a post-close workload of ``module`` (a module or its
    ``__name__``).  Returns ``fn`` unchanged; it is only called by ``pkgimage build``."""
    name = _modname(module)

    def deco(fn):
        # PKGIMAGE_REPLAY: `pkgimage verify` collects the workloads to replay them
        # (a submodule's workloads are its package's: the package's image holds it)
        from ..settings import settings
        if any(name == b or name.startswith(b + ".")
               for b in (settings.building, settings.replay) if b):
            REGISTRY.setdefault(name, []).append(fn)
        return fn
    return deco


def workload_paths(src, modname=None):
    """The workload files ``[tool.pkgimage] workloads`` of the ``pyproject.toml`` above
    ``src`` lists: for module ``modname`` when the table is keyed by module, all of them when
    ``modname`` is None.  (Shared by the build and ``pkgimage build``'s dependency scan.)"""
    import tomllib
    from ..settings import find_pyproject
    pp = find_pyproject(os.path.dirname(os.path.abspath(src)))
    if pp is None:
        return []
    with open(pp, "rb") as f:
        conf = tomllib.load(f).get("tool", {}).get("pkgimage", {})
    files = conf.get("workloads", [])
    if isinstance(files, dict):
        files = [f for m, fs in files.items() if modname is None or m == modname for f in fs]
    return [os.path.join(os.path.dirname(pp), f) for f in files]


def load_workload_files(module):
    """Execute the workload files ``pyproject.toml`` names for the package of ``module``."""
    loaded = []
    for path in workload_paths(module.__file__, module.__name__):
        modname = f"_pkgimage_workload_{module.__name__}_{len(loaded)}"
        code = compile(open(path).read(), path, "exec")
        mod = pytypes.ModuleType(modname)
        mod.__file__ = path
        sys.modules[modname] = mod
        exec(code, mod.__dict__)
        loaded.append(path)
    return loaded


def workloads_of(module):
    """The workloads of ``module`` and, for a package, of the submodules its image holds."""
    name = module.__name__
    return [fn for m, fns in REGISTRY.items() if m == name or m.startswith(name + ".")
            for fn in fns]

"""Building images: run a module to its close in this (fresh) process, checkpoint it, run its
post-close workloads in a sandbox, merge what they compiled, and write the image.

``build_module(name)`` is what ``pkgimage build`` runs in a fresh process for each module,
with ``PKGIMAGE_BUILDING`` naming it:

1. the module's top level runs from source (``pk.generating_output()`` is true, so
   ``pk.precompile`` directives and ``if pk.generating_output():`` blocks compile into the
   session); its pkgimage dependencies load from their images (built first when missing);
2. CLOSE: the module's state is serialised now (the checkpoint) and the instances it owns
   are fixed, with their symbols;
3. the workloads registered with ``@pk.precompilation`` (or listed in ``pyproject.toml``)
   run in a forked child, after ``__init__()``; the child sends back the new instances'
   records and object code (``sandbox.py``);
4. the writer stores the checkpoint plus both parts of native code in one image.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

from ..image import hook
from .workloads import precompilation  # noqa: F401  (re-exported as pk.precompilation)

# errors that mean "the cache folder cannot take the image", reported in one line
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM,
                   getattr(errno, "EDQUOT", errno.ENOSPC)}


def generating_output():
    """True only while an image is being built (PrecompileTools' ``generating_output``)."""
    return bool(os.environ.get("PKGIMAGE_BUILDING"))


def build_module(name, allow_workload_errors=None, workload_timeout=None):
    """Build ``name``'s image in this process; returns (image path, workload failures).

    Runs under the image's build lock (``image/lock.py``): when another process is building
    the same image, this one waits and then uses that image instead of building it again."""
    from ..image.lock import locked_build
    return locked_build(name, lambda: _build_module(name, allow_workload_errors,
                                                    workload_timeout))


def _build_module(name, allow_workload_errors=None, workload_timeout=None):
    from ..image.loader import LOADED
    from ..image.cache import image_path
    from ..image.writer import image_sources, module_state_bytes, write_image
    from . import sandbox, workloads
    if allow_workload_errors is None:
        allow_workload_errors = os.environ.get("PKGIMAGE_ALLOW_WORKLOAD_ERRORS") == "1"
    if workload_timeout is None:
        workload_timeout = float(os.environ.get("PKGIMAGE_WORKLOAD_TIMEOUT", "600"))
    os.environ["PKGIMAGE_BUILDING"] = name
    from ..compiler.codegen import set_symbol_owner
    set_symbol_owner(name)
    hook.install()
    module = importlib.import_module(name)
    deps = {d: LOADED[d]["build_id"] for d in hook.IMPORTED if d != name and d in LOADED}
    missing = [d for d in hook.IMPORTED if d != name and d not in LOADED]
    if missing:
        raise SystemExit(f"pkgimage: cannot build {name}: dependencies without an image: "
                         f"{', '.join(missing)}")
    # CLOSE: checkpoint the module, the instances it owns, the sources it came from (what
    # workloads import later is not what the closed module was made of) and the image's
    # path (a workload cannot redirect it by changing PKGIMAGE_CACHE).
    module_bytes, nmethods = module_state_bytes(module)
    checkpoint = sandbox.checkpoint_instances(name)
    sources = image_sources(name, os.path.abspath(module.__file__), deps)
    path = image_path(name, os.path.abspath(module.__file__))
    environ = dict(os.environ)
    workloads.load_workload_files(module)
    ws = workloads.workloads_of(module)
    parts, failures = ({}, [])
    if ws:
        parts, failures = sandbox.run(module, ws, checkpoint, allow_workload_errors,
                                      workload_timeout)
        parts = parts or {}
        for wname, tb in failures:
            print(f"pkgimage: workload {wname} of {name} failed; the image is written "
                  f"without its code (--allow-workload-errors):\n{tb}", file=sys.stderr)
    if os.environ != environ:            # (in-process workloads share this environment)
        os.environ.clear()
        os.environ.update(environ)
    path = write_image(module, deps, path=path, module_bytes=module_bytes, nmethods=nmethods,
                       extra_parts=[parts.get(())], owned=checkpoint, sources=sources)
    from ..image.context import write_context_image
    for key, part in parts.items():
        if key:
            write_context_image(key, part)
    return path, failures


def main_build_one(name, quiet=False):
    """Entry point of the build subprocess; exit status 0 on success."""
    from .sandbox import WorkloadError
    try:
        path, failures = build_module(name)
    except WorkloadError as e:
        print(f"pkgimage: building {name} failed: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # report, never a half image (the writer renames atomically)
        if isinstance(e, OSError) and e.errno in _STORAGE_ERRNOS:
            # A full disk or a read-only cache folder is not a bug of the build: one line,
            # no traceback (the writer left no temporary, and the old image in place).
            print(f"pkgimage: building {name} failed: cannot write to the cache folder: "
                  f"{e}", file=sys.stderr)
            return 1
        import traceback
        traceback.print_exc()
        print(f"pkgimage: building {name} failed: {e}", file=sys.stderr)
        return 1
    from ..store.evict import auto_gc
    auto_gc()                      # the cache folder's size limit, when one is configured
    result = os.environ.get("PKGIMAGE_BUILD_RESULT")
    if result:
        import json
        from ..image.format import atomic_write
        atomic_write(result, json.dumps({"module": name, "image": path,
                                         "workload_failures": len(failures)}).encode())
    if not quiet:
        print(path)
    return 0

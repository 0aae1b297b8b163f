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
from ..settings import settings
from .workloads import precompilation  # noqa: F401  (re-exported as pk.precompilation)

# errors that mean "the cache folder cannot take the image", reported in one line
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM,
                   getattr(errno, "EDQUOT", errno.ENOSPC)}


def generating_output():
    """True only while an image is being built (PrecompileTools' ``generating_output``)."""
    return bool(settings.building)


def build_module(name, allow_workload_errors=None, workload_timeout=None):
    """Build ``name``'s image in this process; returns (image path, workload failures).

    Runs under the image's build lock (``image/lock.py``): when another process is building
    the same image, this one waits and then uses that image instead of building it again.
    A module of a marked package is built as that package (``image/packages.py``)."""
    from ..image.lock import locked_build
    from ..image.packages import image_unit
    name = image_unit(name) or name
    return locked_build(name, lambda: _build_module(name, allow_workload_errors,
                                                    workload_timeout))


def _build_module(name, allow_workload_errors=None, workload_timeout=None):
    from ..image.loader import LOADED
    from ..image.cache import image_path
    from ..image.writer import image_sources, module_state_bytes, write_image
    from . import sandbox, workloads
    if allow_workload_errors is None:
        allow_workload_errors = settings.allow_workload_errors
    if workload_timeout is None:
        workload_timeout = settings.workload_timeout
    settings.set(building=name)
    from ..compiler.codegen import set_symbol_owner
    set_symbol_owner(name)
    hook.install()
    module = importlib.import_module(name)
    members = _import_members(module)
    deps = {d: LOADED[d]["build_id"] for d in hook.IMPORTED if d != name and d in LOADED}
    missing = [d for d in hook.IMPORTED if d != name and d not in LOADED]
    if missing:
        from ..image.serialize import BuildError
        raise BuildError(f"dependencies without an image: {', '.join(missing)}")
    # CLOSE: checkpoint the module, the instances it owns, the sources it came from (what
    # workloads import later is not what the closed module was made of) and the image's
    # path (a workload cannot redirect it by changing PKGIMAGE_CACHE).
    module_bytes, nmethods = module_state_bytes(module, members)
    checkpoint = sandbox.checkpoint_instances(name)
    sources = image_sources(name, os.path.abspath(module.__file__), deps)
    path = image_path(name, os.path.abspath(module.__file__))
    environ = dict(os.environ)
    workloads.load_workload_files(module)
    ws = workloads.workloads_of(module)
    parts, failures, own = ({}, [], {})
    if ws:
        def compile_close():
            # The close's own code does not depend on the workloads: it is compiled while
            # they run in the sandbox (and, for a spawned sandbox, is what it loads).
            from ..image.writer import compile_owned
            own["part"] = compile_owned(checkpoint)
            return own["part"]
        close = {"module_bytes": module_bytes, "nmethods": nmethods, "sources": sources,
                 "deps": deps}
        parts, failures = sandbox.run(module, ws, checkpoint, allow_workload_errors,
                                      workload_timeout, meanwhile=compile_close, close=close)
        parts = parts or {}
        for wname, tb in failures:
            print(f"pkgimage: workload {wname} of {name} failed; the image is written "
                  f"without its code (--allow-workload-errors):\n{tb}", file=sys.stderr)
    if os.environ != environ:            # (in-process workloads share this environment)
        os.environ.clear()
        os.environ.update(environ)
    path = write_image(module, deps, path=path, module_bytes=module_bytes, nmethods=nmethods,
                       extra_parts=parts.get((), []), owned=checkpoint, sources=sources,
                       own_part=own.get("part"), members=members)
    from ..image.context import write_context_image
    for key, key_parts in parts.items():
        if key:
            write_context_image(key, key_parts)
    return path, failures


def _build_one(name):
    """(0, (image path, workload failures)) or (1, the error in one line), reported on
    stderr once: what failed and where in the user's code (``PKGIMAGE_DEBUG=1`` adds the
    whole traceback)."""
    from ..errors import ImageError
    from .sandbox import WorkloadError
    try:
        return 0, build_module(name)
    except Exception as e:  # report, never a half image (the writer renames atomically)
        if isinstance(e, OSError) and e.errno in _STORAGE_ERRNOS:
            # A full disk or a read-only cache folder is not a bug of the build: one line,
            # no traceback (the writer left no temporary, and the old image in place).
            error = f"cannot write to the cache folder: {e}"
        elif isinstance(e, (WorkloadError, ImageError)):
            error = str(e)                      # says what and where already
        else:
            error = f"{type(e).__name__}: {e}{user_frame(e)}"
        if settings.debug:
            import traceback
            traceback.print_exc()
        return 1, error


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_frame(exc):
    """`` (at FILE:LINE, in FUNCTION)`` of the innermost frame of ``exc``'s traceback that is
    the user's code (not pkgimage's, not the import system's), or ""."""
    import traceback
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        f = fr.filename
        if f.startswith(_PKG_DIR) or f.startswith("<frozen") or f.endswith("runpy.py"):
            continue
        return f" (at {f}:{fr.lineno}, in {fr.name})"
    return ""


def _import_members(module):
    """The submodules a package's image holds (``image/packages.py``): those its top level
    imported, then its marked ones not imported yet; in the order they finished."""
    if os.path.basename(module.__file__ or "") != "__init__.py":
        return []
    from ..image.packages import marked_members
    for m in marked_members(module.__name__, module.__file__):
        if m not in sys.modules:
            importlib.import_module(m)
    return list(dict.fromkeys(hook.MEMBERS))


def main_build_one(name, quiet=False):
    """Entry point of the build subprocess; exit status 0 on success.

    The build child protocol: with ``PKGIMAGE_BUILD_RESULT`` set (``pkgimage build``'s
    scheduler), the outcome is written there as JSON -- ``{"module", "ok", "image",
    "workload_failures"}`` or ``{"module", "ok": false, "error"}`` -- and the scheduler
    reports it; otherwise a failure is printed here, as one line.  A background build
    (``PKGIMAGE_AUTO_LOG``) also records its failure beside the image (``auto.py``)."""
    status, outcome = _build_one(name)
    result = settings.build_result
    if status:
        if result:
            _write_result(result, {"module": name, "ok": False, "error": outcome})
        else:
            print(f"pkgimage: building {name} failed: {outcome}", file=sys.stderr)
        if settings.auto_log:
            # A background build (``auto.py``): not retried until the sources change.
            from ..image.lock import image_of
            from .auto import record_failure
            src, image = image_of(name)
            if image:
                record_failure(name, image, src, outcome)
        return status
    path, failures = outcome
    from .auto import clear_failure
    clear_failure(path)
    from ..store.evict import auto_gc
    auto_gc()                      # the cache folder's size limit, when one is configured
    if result:
        _write_result(result, {"module": name, "ok": True, "image": path,
                               "workload_failures": len(failures)})
    if not quiet:
        print(path)
    return 0


def _write_result(path, rec):
    import json
    from ..image.format import atomic_write
    atomic_write(path, json.dumps(rec).encode())

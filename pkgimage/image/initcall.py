"""``__init__()`` after the top level of a pkgimage module that the import hook did not load.

The hook's loaders run a module's ``__init__()`` after its image is loaded or its source has
run.  A pkgimage module can also start running before the hook exists: ``python mod.py`` and
``python -m mod`` (the module is ``__main__``), an import with ``PKGIMAGE_BOOT=0`` or without
the boot ``.pth``, an installed package that has no image yet.  Its top level then imports
pkgimage, which installs the hook -- too late for that module.  :func:`adopt_running_modules`
(called when the hook is installed) finds such modules on the call stack and arranges for
their ``__init__()`` to run when their top level returns normally (never after an exception,
as with an import that fails), so a module behaves the same whatever path imported it.

The return is observed without slowing anything else down: ``sys.monitoring``'s PY_RETURN
event on that one code object (Python 3.12+), or on 3.11 a trace function on that one frame
(the global trace function installed for it declines every other frame and is removed at the
return; a debugger's or coverage's tracer already in place is kept, and then nothing is
adopted on 3.11).  A return after an exception is an unwind: no ``__init__``.
"""

from __future__ import annotations

import os
import sys

_PENDING: dict = {}        # code object -> module namespace (3.12+)
_TOOL = [None]


def _marked_file(path):
    from .hook import is_pkgimage_source
    return bool(path) and path.endswith(".py") and os.path.isfile(path) \
        and is_pkgimage_source(path)


def _run(namespace):
    from ..settings import settings
    if settings.building:
        return                       # a build runs no __init__ (its state is not the image's)
    init = namespace.get("__init__")
    if callable(init):
        init()


def _hooked(namespace):
    """Did the hook's own loader run this module (it calls ``__init__`` itself)?"""
    from .hook import ImageLoader, MemberLoader
    if namespace.get("__name__") == "__main__":
        return False                 # run by runpy (``-m``), whatever its spec's loader
    spec = namespace.get("__spec__")
    return isinstance(getattr(spec, "loader", None), (ImageLoader, MemberLoader))


def adopt_running_modules():
    """Arrange ``__init__()`` for every pkgimage module whose top level is running now
    without the hook's loader (see the module doc)."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "<module>" and frame.f_globals is frame.f_locals \
                and not _hooked(frame.f_globals) and _marked_file(code.co_filename) \
                and frame.f_globals.get("__file__") is not None:
            _on_return(frame)
        frame = frame.f_back


def _on_return(frame):
    if sys.version_info >= (3, 12):
        _watch_monitoring(frame.f_code, frame.f_globals)
    else:
        _on_return_trace(frame)


def adopt_main_code(code):
    """``python -m mod``: runpy executes the code the hook's loader returned as
    ``__main__``; arrange ``__init__()`` at the end of that code's run."""
    if sys.version_info >= (3, 12):
        _watch_monitoring(code, None)
    elif sys.gettrace() is None or _TRACED or _AWAITED:
        _AWAITED.add(code)
        sys.settrace(_decline)


def _watch_monitoring(code, namespace):
    mon = sys.monitoring
    if _TOOL[0] is None:
        for tool in (5, 4, 3):
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "pkgimage")
                mon.register_callback(tool, mon.events.PY_RETURN, _returned)
                _TOOL[0] = tool
                break
        else:
            return                   # every spare tool id is taken: nothing adopted
    _PENDING[code] = namespace
    mon.set_local_events(_TOOL[0], code, mon.events.PY_RETURN)


def _returned(code, offset, retval):
    namespace = _PENDING.pop(code, None)
    if namespace is None:
        caller = sys._getframe(1)
        namespace = caller.f_globals if caller.f_code is code else None
    mon = sys.monitoring
    mon.set_local_events(_TOOL[0], code, 0)
    if not _PENDING:
        mon.free_tool_id(_TOOL[0])
        _TOOL[0] = None
    if namespace is not None:
        _run(namespace)
    return mon.DISABLE


_TRACED: set = set()       # frames whose return is awaited (3.11)
_AWAITED: set = set()      # code objects whose frame is awaited, not started yet (3.11)


def _on_return_trace(frame):
    if sys.gettrace() is not None and not (_TRACED or _AWAITED):
        return                       # a debugger or coverage traces: leave it alone
    frame.f_trace_lines = True
    frame.f_trace = _tracer_for(frame)
    sys.settrace(_decline)


def _tracer_for(frame):
    _TRACED.add(frame)
    state = {"raised": False}

    def local(fr, event, arg):
        if event == "exception":
            state["raised"] = True   # unwinding, unless a later line shows it was handled
        elif event == "line":
            state["raised"] = False
        elif event == "return":
            _TRACED.discard(fr)
            fr.f_trace = None
            if not (_TRACED or _AWAITED):
                sys.settrace(None)
            if not state["raised"]:
                _run(fr.f_globals)
            return None
        return local
    return local


def _decline(frame, event, arg):
    if _AWAITED and frame.f_code in _AWAITED:
        _AWAITED.discard(frame.f_code)
        return _tracer_for(frame)
    return None

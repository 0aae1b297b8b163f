"""The command-line tools behind ``pkgimage`` (``pkgimage/cli.py`` only parses arguments).

| module | command |
|---|---|
| ``deps.py`` | dependency discovery (import scanning) and build order, shared by build and verify |
| ``build.py`` | ``pkgimage build``: parallel builds in fresh processes, progress, summary |
| ``verify.py``, ``imagediff.py``, ``replay.py`` | ``pkgimage verify``: reproducibility and replay |
| ``show.py`` | ``pkgimage show`` and ``pkgimage tree`` |
| ``invalidations.py`` | ``pkgimage invalidations`` |
| ``snoop.py`` | ``pkgimage snoop`` |
| ``clean.py`` | ``pkgimage clean`` |

Every command reports bad input as a :class:`ToolError`: one line, non-zero exit, no traceback
(unless ``--debug``).
"""

from __future__ import annotations

import os
import sys


class ToolError(Exception):
    """A user-facing failure: printed as one line, exit status ``status``."""

    def __init__(self, msg, status=2):
        super().__init__(msg)
        self.status = status


def child_env(**extra):
    """The environment of a fresh pkgimage process (``build/child.py``), with ``extra``
    environment variables (None unsets)."""
    from ..build.child import environment
    env = environment()
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def human_size(n):
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def import_user_module(name):
    """Import module ``name`` (the import hook uses its image); ToolError when it cannot."""
    import importlib
    import traceback
    from ..image import hook
    hook.install()
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and (e.name == name or name.startswith(e.name + ".")):
            raise ToolError(f"no module named {name!r} (on sys.path: the working folder and "
                            f"PYTHONPATH)") from None
        raise ToolError(f"cannot import {name}: {e}") from e
    except ToolError:
        raise
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        tb = traceback.extract_tb(e.__traceback__)
        where = next((f"{fr.filename}:{fr.lineno}" for fr in reversed(tb)
                      if "pkgimage" not in fr.filename.split(os.sep)[-2:-1]), "")
        raise ToolError(f"cannot import {name}: {type(e).__name__}: {e}"
                        + (f" ({where})" if where else "")) from e


def run_script(script, args=()):
    """Run ``script`` as ``__main__`` (runpy), with the import hook installed; returns the
    exception it raised (None when it finished or called ``sys.exit(0)``)."""
    import runpy
    from ..image import hook
    if not os.path.isfile(script):
        raise ToolError(f"script {script} not found")
    hook.install()
    script = os.path.abspath(script)
    old_argv, old_path0 = sys.argv, sys.path[0] if sys.path else None
    sys.argv = [script] + list(args)
    sys.path.insert(0, os.path.dirname(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            return e
    except Exception as e:       # reported by the caller, which still reports what it saw
        return e
    finally:
        sys.argv = old_argv
        if sys.path and sys.path[0] == os.path.dirname(script) and \
                sys.path[0] != old_path0:
            sys.path.pop(0)
    return None


def describe_exception(e):
    """One line: the exception and the innermost frame of user code."""
    import traceback
    if isinstance(e, SystemExit):
        return f"exited with status {e.code}"
    where = ""
    for fr in reversed(traceback.extract_tb(e.__traceback__)):
        if f"{os.sep}pkgimage{os.sep}" not in fr.filename and "runpy" not in fr.filename:
            where = f" ({fr.filename}:{fr.lineno})"
            break
    return f"{type(e).__name__}: {e}{where}"

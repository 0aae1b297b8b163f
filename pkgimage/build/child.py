"""The build-child protocol: how a process asks for one image to be built in a fresh one.

Every build runs as ``python -m pkgimage build --in-process --quiet MODULE`` in a fresh
process: ``pkgimage build``'s scheduler (``tools/build.py``, in parallel), a build that
needs a dependency's image first (``image/hook.py`` through ``auto.py``), and the import's
background build (``auto.py``).  Here are the one command line and the one environment they
use, and the result: with ``PKGIMAGE_BUILD_RESULT`` set, the child writes its outcome there
as JSON (``build.main_build_one``: ``{"module", "ok", "image", "workload_failures"}`` or
``{"module", "ok": false, "error"}``), which :func:`read_result` reads -- nobody searches a
child's output for phrases.
"""

from __future__ import annotations

import json
import os
import sys


def command(name, allow_workload_errors=False, workload_timeout=None, workload_file=None):
    cmd = [sys.executable, "-m", "pkgimage", "build", "--in-process", "--quiet", name]
    if allow_workload_errors:
        cmd.append("--allow-workload-errors")
    if workload_timeout is not None:
        cmd += ["--workload-timeout", str(workload_timeout)]
    for wf in workload_file or ():
        cmd += ["--workload-file", os.path.abspath(wf)]
    return cmd


def environment(**settings_values):
    """This process's environment for a fresh pkgimage process: ``sys.path`` (absolute,
    existing entries) on ``PYTHONPATH`` so that it finds the same modules from any working
    folder, without this process's build or replay, plus ``settings_values`` (settings
    names, ``pkgimage/settings.py``; None unsets)."""
    from ..settings import settings
    env = dict(os.environ)
    paths = []
    for p in sys.path:
        p = os.path.abspath(p or os.getcwd())
        if p not in paths and os.path.exists(p):
            paths.append(p)
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    values = dict(building=None, replay=None)
    values.update(settings_values)
    for k, v in settings.environ(**values).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def read_result(path):
    """The outcome a build child wrote to ``path``, or {} (none: it ended early)."""
    try:
        with open(path) as f:
            rec = json.load(f)
        return rec if isinstance(rec, dict) else {}
    except (OSError, ValueError, TypeError):
        return {}


def run(name, **settings_values):
    """Build ``name``'s image in a fresh process and wait; returns its exit status."""
    import subprocess
    return subprocess.run(command(name), env=environment(**settings_values)).returncode

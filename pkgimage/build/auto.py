"""The auto-build policy: when an import ran a pkgimage module from source, build its image
in the background (``PKGIMAGE_AUTO=0`` turns this off) -- once, not at every import.

* The build runs detached (``python -m pkgimage build --in-process --quiet``), its output
  going to ``<image>.log`` beside the image, and skips an image another process made valid
  meanwhile (``PKGIMAGE_BUILD_IF_STALE``).
* When it fails, the build writes ``<image>.failed`` (JSON: the log's path, the error, and
  the fingerprint of the module's sources when it started).  The next import says so in one
  line naming the log, once; later imports run from source silently and start no build until
  the sources' fingerprint changes (an edit, an upgrade) or ``pkgimage build`` succeeds.
  Without this, a module whose build always fails (a global that cannot be stored, a
  crashing workload) started a failing build at every import, forever, and said nothing.

The import hook (``image/hook.py``) only calls :func:`after_source_run`; the policy lives
here, beside the scheduler.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

LOG_SUFFIX = ".log"
FAILED_SUFFIX = ".failed"


def sources_fingerprint(origin):
    """Size and modification time of the module's source, or of every ``.py`` file under
    its folder for a package (its image holds its submodules): what an edit changes."""
    if os.path.basename(origin) == "__init__.py":
        files = []
        for folder, dirs, names in os.walk(os.path.dirname(origin)):
            dirs.sort()
            files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".py")]
    else:
        files = [origin]
    h = hashlib.sha256()
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            continue
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _read_failure(path):
    try:
        with open(path + FAILED_SUFFIX) as f:
            rec = json.load(f)
        return rec if isinstance(rec, dict) else None
    except (OSError, ValueError):
        return None


def _write(path, data):
    from ..image.format import atomic_write
    try:
        atomic_write(path, data)
    except OSError:
        pass


def record_failure(name, image, origin, error):
    """Called by a background build that failed (``PKGIMAGE_AUTO_LOG`` names its log)."""
    from ..settings import settings
    rec = {"module": name, "log": settings.auto_log, "error": error,
           "sources": sources_fingerprint(origin), "reported": False}
    _write(image + FAILED_SUFFIX, json.dumps(rec).encode())


def clear_failure(image):
    """A successful build: its image replaces the record of the failed one."""
    for suffix in (FAILED_SUFFIX, LOG_SUFFIX):
        try:
            os.unlink(image + suffix)
        except OSError:
            pass


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def will_build(image, origin):
    """Would :func:`after_source_run` start a build (no failure recorded for these
    sources)?"""
    rec = _read_failure(image)
    return rec is None or rec.get("sources") != sources_fingerprint(origin)


def after_source_run(name, image, origin, announce):
    """``name`` ran from source (no valid image at ``image``): start its background build,
    unless its last one failed and its sources are unchanged (reported once).  ``announce``:
    print "Precompiling NAME" (the hook has not said anything about this module yet)."""
    rec = _read_failure(image)
    if rec is not None:
        if rec.get("sources") == sources_fingerprint(origin):
            if not rec.get("reported"):
                rec["reported"] = True
                _write(image + FAILED_SUFFIX, json.dumps(rec).encode())
                _say(f"pkgimage: the background build of {name}'s image failed "
                     f"({_one_line(rec.get('error'))}); see {rec.get('log')}. Not retried "
                     f"until its source changes (`pkgimage build {name}` retries now)")
            return False
        clear_failure(image)
    if announce:
        _say(f"Precompiling {name}")
    start(name, image)
    return True


def _one_line(msg):
    return " ".join(str(msg or "unknown error").split())[:300]


def build_dependency(name):
    """A build needs the image of its dependency ``name``: build it now, in a fresh process
    (under its build lock, skipped when valid by then); returns the exit status."""
    from .child import run
    return run(name, build_if_stale=True)


def start(name, image):
    """Start the detached background build of ``name``, its output to ``<image>.log``.
    (An auto-build builds only what is not valid when it gets the build lock: several
    processes importing the module at once each start one, and only the first builds.)"""
    from .child import command, environment
    log = image + LOG_SUFFIX
    env = environment(build_if_stale=True, auto_log=log)
    cmd = command(name)
    try:
        from ..image.cache import ensure_cache_dir
        ensure_cache_dir(os.path.dirname(image))
        out = open(log, "wb")
    except OSError:
        out = subprocess.DEVNULL
    try:
        subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        if out is not subprocess.DEVNULL:
            out.close()

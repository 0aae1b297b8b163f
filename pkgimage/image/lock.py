"""Build locks: when several processes build (or auto-build) the same image at once, one
builds it, the others wait and then use it; a lock left by a dead process is taken over at once.

Julia's pidfile locks are the counter-example: a stale lock hangs every later build, and a lock
can outlive its process.  Here:

* The lock is ``<image>.lock``, a ``filelock.FileLock`` (``flock`` on POSIX).  The kernel drops
  it when its last descriptor closes, so a process that dies normally never leaves it held.
* A lock *can* outlive its owner when a process forked by the build (the workload sandbox, a
  thread-spawned helper, a daemon a workload left behind) inherited the descriptor.  So the
  owner also writes ``<image>.lock.pid`` ("pid host start-time").  A waiter that finds the lock
  held reads it; when that process is dead (or a zombie, or the pid was reused by a process
  that started later), the waiter removes the lock file and takes a fresh one at once: the
  orphaned descriptor then locks an unlinked inode that nobody else looks at.  Owners on
  another host (a shared cache folder) are never broken, only waited for.
* Taking the lock and writing the pid file, and breaking a lock, happen under a short guard
  lock (``<image>.lock.guard``, held for microseconds), so nobody can ever observe a held lock
  with a pid file from a previous owner and break a live one.

:func:`locked_build` is what ``pkgimage.build.build_module`` runs under: when it had to wait
and the image changed meanwhile and is fresh now, the build is skipped and the new image used.
The freshness check (:func:`stale_reason`, on ``freshness.py``, which the loader uses too) and
the import-free source finder (:func:`find_source`) are shared with ``pkgimage build``'s scheduler (``pkgimage/tools``).
"""

from __future__ import annotations

import importlib.machinery
import os
import socket
import sys
import time
from contextlib import contextmanager

import filelock

from ..errors import ImageError
from . import format as F
from .cache import image_path


class LockTimeout(ImageError):
    """Waited longer than allowed for another process's build of the same image."""


# -- owners -------------------------------------------------------------------------------------

def _start_time(pid):
    """(state, start time in clock ticks) of ``pid`` from /proc, or None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = data[data.rfind(")") + 2:].split()
    try:
        return rest[0], int(rest[19])
    except (IndexError, ValueError):
        return None


def pid_alive(pid, start=None):
    """Is ``pid`` a live (non-zombie) process, and the same one that started at ``start``?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                      # exists, belongs to someone else
    st = _start_time(pid)
    if st is not None:
        state, started = st
        if state in ("Z", "X"):
            return False
        if start is not None and started != start:
            return False          # the pid was reused
    return True


def _owner_record():
    st = _start_time(os.getpid())
    return f"{os.getpid()} {socket.gethostname()} {st[1] if st else -1}\n"


def read_owner(pidfile):
    """(pid, host, start) of the recorded owner, or None."""
    try:
        with open(pidfile) as f:
            parts = f.read().split()
        pid, host, start = int(parts[0]), parts[1], int(parts[2])
    except (OSError, ValueError, IndexError):
        return None
    return pid, host, (None if start < 0 else start)


def owner_dead(owner):
    if owner is None:
        return False              # no record (yet): wait
    pid, host, start = owner
    if host != socket.gethostname():
        return False              # cannot tell across machines: wait
    return not pid_alive(pid, start)


# -- the lock -----------------------------------------------------------------------------------

class BuildLock:
    """The build lock of one image path (see the module doc)."""

    def __init__(self, target):
        self.target = target
        self.lockfile = target + ".lock"
        self.pidfile = target + ".lock.pid"
        self.guardfile = target + ".lock.guard"
        self._lock = None
        self.owner = None         # who held it at our last failed attempt
        self.broke = None         # the (pid, host, start) of a dead owner we took over from

    def _write_pid(self):
        tmp = f"{self.pidfile}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w") as f:
                f.write(_owner_record())
            os.replace(tmp, self.pidfile)
        except BaseException:
            # (a full disk: no temporary left behind, and the caller drops the lock)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _remove_dead_pid_temps(self):
        """Pid temporaries of owners killed between writing and renaming them."""
        folder, base = os.path.split(self.pidfile)
        try:
            names = os.listdir(folder or ".")
        except OSError:
            return
        for n in names:
            if n.startswith(base + ".") and n.endswith(".tmp"):
                pid = n[len(base) + 1:-len(".tmp")]
                if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                    try:
                        os.unlink(os.path.join(folder, n))
                    except OSError:
                        pass

    def try_acquire(self):
        """Take the lock without waiting: True, or False (``self.owner`` says who holds it)."""
        folder = os.path.dirname(self.target) or "."
        from .cache import ensure_cache_dir
        ensure_cache_dir(folder)
        with filelock.FileLock(self.guardfile):
            lk = filelock.FileLock(self.lockfile)
            try:
                lk.acquire(blocking=False)
            except filelock.Timeout:
                owner = read_owner(self.pidfile)
                if not owner_dead(owner):
                    self.owner = owner
                    return False
                # The owner is gone but its descriptor lives on (inherited by a child):
                # drop the name and lock a fresh file.
                for p in (self.lockfile, self.pidfile):
                    try:
                        os.unlink(p)
                    except FileNotFoundError:
                        pass
                lk = filelock.FileLock(self.lockfile)
                try:
                    lk.acquire(blocking=False)
                except filelock.Timeout:       # cannot happen with a fresh inode; be safe
                    self.owner = None
                    return False
                self.broke = owner
            try:
                self._write_pid()
            except BaseException:
                lk.release()             # a lock without its owner record: not kept
                raise
            self._lock = lk
        self._remove_dead_pid_temps()
        return True

    def acquire(self, timeout=None, poll=0.1, on_wait=None):
        """Wait for the lock; returns True when another process held it meanwhile."""
        waited = False
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.try_acquire():
            if not waited and on_wait is not None:
                on_wait(self.owner)
            waited = True
            if deadline is not None and time.monotonic() > deadline:
                raise LockTimeout(f"{self.target}: still locked by "
                                  f"{_owner_str(self.owner)} after {timeout:.0f}s")
            time.sleep(poll)
        return waited

    def release(self):
        if self._lock is None:
            return
        with filelock.FileLock(self.guardfile):
            own = read_owner(self.pidfile)
            if own is not None and own[0] == os.getpid():
                try:
                    os.unlink(self.pidfile)
                except FileNotFoundError:
                    pass
            self._lock.release()
            self._lock = None


def _owner_str(owner):
    if owner is None:
        return "another process"
    pid, host, _ = owner
    return f"process {pid}" + ("" if host == socket.gethostname() else f" on {host}")


@contextmanager
def image_lock(target, timeout=None, on_wait=None):
    """``with image_lock(path) as waited:`` hold the build lock of the image at ``path``."""
    lk = BuildLock(target)
    waited = lk.acquire(timeout=timeout, on_wait=on_wait)
    try:
        yield waited
    finally:
        lk.release()


# -- finding sources without importing, and freshness ---------------------------------------------

def find_source(name, path=None):
    """The source file of module ``name`` found like the import system would, but without
    importing (or executing) anything, parents included; None when there is none."""
    search = list(sys.path) if path is None else list(path)
    origin = None
    parts = name.split(".")
    for i, part in enumerate(parts):
        spec = importlib.machinery.PathFinder.find_spec(part, search)
        if spec is None:
            return None
        if i < len(parts) - 1:
            if not spec.submodule_search_locations:
                return None
            search = list(spec.submodule_search_locations)
        origin = spec.origin if isinstance(spec.loader, importlib.machinery.SourceFileLoader) \
            else None
    return os.path.abspath(origin) if origin else None


def image_of(name):
    """(source path, image path) of the image that holds module ``name`` (a module of a
    marked package is held by the package's image: ``packages.py``), or (None, None)."""
    from .packages import image_unit
    name = image_unit(name) or name
    src = find_source(name)
    return (src, image_path(name, src)) if src else (None, None)


def stale_reason(name, path=None, _seen=frozenset()):
    """None when ``name``'s image is up to date (intact and trusted, and runtime, CPU, source
    hashes and the build ids of the dependency images on disk all match its header, and those
    images are up to date themselves), else why not."""
    if name in _seen:
        return None                   # (a cycle is the import's to report)
    from .packages import image_unit
    name = image_unit(name) or name
    if path is None:
        _, path = image_of(name)
        if path is None:
            return f"no source found for {name}"
    if not os.path.exists(path):
        return "no image"
    # First the whole file, as the loader checks it (trust, checksum, library hash): a
    # damaged image whose header still read fine was "fresh" here -- never rebuilt by
    # ``pkgimage build`` or an auto-build while every import refused it -- and a header
    # damaged into other valid JSON could crash the checks below.
    from .loader import read_verified
    try:
        header, _ = read_verified(path)
    except FileNotFoundError:
        return "no image"
    except ImageError as e:
        return str(e)
    lib = header.get("shared_lib")
    if lib and not os.path.exists(os.path.join(os.path.dirname(path), lib["file"])):
        return f"shared library {lib['file']} is missing"      # (loads would JIT-link)

    def on_disk(dep, build_id):
        _, dpath = image_of(dep)
        try:
            dh = F.read_header(dpath) if dpath else None
        except ImageError:
            dh = None
        if dh is None:
            return f"dependency {dep} has no image"
        if dh.get("build_id") != build_id:
            return f"dependency {dep} was rebuilt"
        # A dependency whose own image is stale (its source was edited) will be rebuilt:
        # this image, compiled against the old one, is stale already.  Without this, a
        # dependent's auto-build that ran before the dependency's found itself "fresh" and
        # kept the old dependency code, and a second round of builds was needed.
        why = stale_reason(dep, dpath, _seen | {name})
        return None if why is None else f"dependency {dep} is stale ({why})"

    from .freshness import stale_reason as header_stale_reason
    return header_stale_reason(header, name, on_disk)


def _signature(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def locked_build(name, build):
    """Run ``build()`` (returning (path, failures)) under ``name``'s image build lock.

    When another process wrote the image since this one started (typically: it held the lock
    and we waited), and that image is fresh, ``build`` is not run: (path, []) is returned and the caller uses that image."""
    src, path = image_of(name)
    if path is None:
        return build()
    before = _signature(path)

    def say(owner):
        print(f"pkgimage: waiting for {_owner_str(owner)}, which is building {name}",
              file=sys.stderr, flush=True)

    from ..settings import settings
    timeout = settings.lock_timeout
    # An auto-build (the import hook sets PKGIMAGE_BUILD_IF_STALE) skips an image that is
    # valid when it holds the lock, even one written before it started: of 8 processes
    # importing a module at once, the builders that start after the first one finished
    # would otherwise build it again.
    if_stale = settings.build_if_stale
    with image_lock(path, timeout=timeout, on_wait=say):
        if (if_stale or _signature(path) != before) and stale_reason(name, path) is None:
            return path, []            # written by another process since we started
        return build()

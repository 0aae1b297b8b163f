"""Where images live: the cache folder, image paths, and the host CPU fingerprint.

The cache folder is ``PKGIMAGE_CACHE`` or the user's cache directory (platformdirs).  An
image is named ``<module>-<path><runtime>.pkgi``: 12 hex digits of its source path's hash,
so two checkouts of one module never share an image, then 8 of :func:`runtime_tag` (Python,
venv, llvmlite, pkgimage and image format versions, machine and CPU), so several Pythons,
venvs or machines sharing one cache folder each keep their own image warm instead of each
overwriting the other's at every run.

Trust model: an image is code, as a ``.pyc`` is -- whoever can write it can make every
process that loads it run anything.  Images are therefore read only from the cache folder
(never from a path an image names: its shared library must be a plain file name beside it),
and :func:`check_trusted` refuses a cache folder or an image file that another user could
write (group- or world-writable, or owned by another user than this one or root).  The
folder is created without group or world write permission whatever the umask.
"""

from __future__ import annotations

import os
import stat as _stat
import sys

from ..errors import ImageError
from .format import SUFFIX, atomic_write, hexdigest


class UntrustedImage(ImageError):
    """An image (or its cache folder) that another user could have written: not loaded."""


def cache_dir():
    from ..settings import settings
    d = settings.cache
    if not d:
        import platformdirs
        d = platformdirs.user_cache_dir("pkgimage")
    return os.path.abspath(d)


def untrusted_reason(st):
    """Why a file or folder with ``os.stat`` result ``st`` could be written by another user
    than this one (and root), or None."""
    if not hasattr(os, "getuid"):
        return None                       # no POSIX owners (Windows): nothing to check
    if st.st_uid not in (os.getuid(), 0):
        return f"is owned by another user (uid {st.st_uid})"
    if st.st_mode & (_stat.S_IWGRP | _stat.S_IWOTH):
        return f"is writable by other users (mode {_stat.S_IMODE(st.st_mode):o})"
    return None


def check_trusted(path, st=None, what="image"):
    """Raise UntrustedImage (one line naming ``path``) when the cache folder holding ``path``,
    or ``path`` itself (``st``: its stat, e.g. from ``os.fstat`` of the open file), could be
    written by another user; a symbolic link is refused too (images are read only from the
    cache folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fst = os.stat(folder)
    except OSError as e:
        raise ImageError(f"{path}: cannot read the cache folder: {e.strerror}") from None
    why = untrusted_reason(fst)
    if why is not None:
        raise UntrustedImage(f"{path}: the cache folder {folder} {why} "
                             f"(an image is code; run chmod go-w {folder})")
    if st is None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise
        except OSError as e:
            raise ImageError(f"{path}: cannot read {what}: {e.strerror}") from None
    if _stat.S_ISLNK(st.st_mode):
        raise UntrustedImage(f"{path}: the {what} is a symbolic link (images are "
                             f"read only from the cache folder)")
    why = untrusted_reason(st)
    if why is not None:
        raise UntrustedImage(f"{path}: the {what} {why} (an image is code)")


def folder_untrusted(folder=None):
    """One line saying why the cache folder must not be used, or None (also when it does not
    exist yet: it will be created private)."""
    folder = folder or cache_dir()
    try:
        st = os.stat(folder)
    except OSError:
        return None
    why = untrusted_reason(st)
    return None if why is None else f"the cache folder {folder} {why}"


def ensure_cache_dir(folder=None):
    """Create the cache folder (and parents) without group or world write permission."""
    folder = folder or cache_dir()
    os.makedirs(folder, mode=0o755, exist_ok=True)
    return folder


_TAG: list = []


def runtime_tag():
    """8 hex digits naming what an image is only valid for (see the module doc): the image
    header's runtime key, the environment (``sys.prefix``: another venv has other installed
    packages) and the CPU.  Computed once per process."""
    if not _TAG:
        from .format import runtime_key
        key = dict(runtime_key(), prefix=os.path.realpath(sys.prefix), cpu=_cpuinfo_key())
        # (strings and numbers: their ``repr`` in key order is deterministic, and a warm
        # load imports no ``json``)
        _TAG.append(hexdigest(repr(sorted(key.items())).encode())[:8])
    return _TAG[0]


def path_hash(source_path):
    """12 hex digits of the source path: the part of an image's name the boot finder
    (``_pkgimage_boot.py``) computes too, without importing pkgimage."""
    return hexdigest(os.path.abspath(source_path).encode())[:12]


def image_path(modname, source_path):
    return os.path.join(cache_dir(), f"{modname}-{path_hash(source_path)}{runtime_tag()}"
                                     f"{SUFFIX}")


def shared_lib_path(image_path_, build_id):
    return image_path_[:-len(SUFFIX)] + f"-{build_id[:16]}.so"


_CPUINFO: list = []


def _cpuinfo_key():
    if not _CPUINFO:
        _CPUINFO.append(_read_cpuinfo_key())
    return _CPUINFO[0]


def _read_cpuinfo_key():
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags", "Features",
                                                      "CPU part"))]
        text = "".join(sorted(set(lines)))
    except OSError:
        import platform
        text = platform.processor() + platform.machine()
    return hexdigest(text.encode())[:16]


def host_cpu():
    """(cpu name, features) as LLVM names them, without importing llvmlite when a build on
    this machine already recorded them (keyed by /proc/cpuinfo, so a shared cache folder on
    another machine does not reuse them)."""
    path = os.path.join(cache_dir(), host_record_name())
    try:
        with open(path, encoding="utf-8") as f:
            cpu, feats, digest, end = f.read().split("\n")
        # (checksummed: a damaged feature list that still parses would have builds emit
        # instructions this CPU lacks, and loads accept them)
        if digest == _host_digest(cpu, feats) and end == "":
            return cpu, feats
    except (OSError, ValueError):
        pass
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    cpu, feats = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    try:
        atomic_write(path, host_record_bytes(cpu, feats))
    except OSError:
        pass
    return cpu, feats


def host_record_name():
    """The file, in the cache folder, recording this machine's CPU as LLVM names it."""
    return f"host-{_cpuinfo_key()}.txt"


def host_record_bytes(cpu, feats):
    """The record's bytes: three lines, the CPU, its features and their checksum (plain
    lines, not JSON: every warm load reads it, and would import ``json`` only for that)."""
    return f"{cpu}\n{feats}\n{_host_digest(cpu, feats)}\n".encode("utf-8")


def _host_digest(cpu, feats):
    return hexdigest(f"{cpu}\n{feats}".encode())

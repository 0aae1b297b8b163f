"""``pkgimage clean [MODULE...]``: remove what pkgimage wrote in the cache folder -- images,
their shared libraries and code sidecars, the context images that involve the modules,
background-build logs and failure records, lock files of builds that are not running, host
CPU records and dead writers' temporaries.  An unknown module is an error."""

from __future__ import annotations

import glob
import os

from . import ToolError


def check_cache_writable():
    """ToolError naming the cache folder when images cannot be written there."""
    from ..image.cache import cache_dir
    d = cache_dir()
    try:
        os.makedirs(d, mode=0o755, exist_ok=True)
    except OSError as e:
        raise ToolError(f"cache folder {d} cannot be created: {e.strerror}") from None
    if not os.access(d, os.W_OK | os.X_OK):
        raise ToolError(f"cache folder {d} cannot be written (set PKGIMAGE_CACHE to another "
                        f"folder)")
    # Images there would be refused at every load (the trust model, image/cache.py): say so
    # now rather than build them.
    from ..image.cache import folder_untrusted
    why = folder_untrusted(d)
    if why is not None:
        raise ToolError(f"{why}: images there would not be loaded (an image is code; run "
                        f"chmod go-w {d})")
    return d


# What pkgimage writes in the cache folder, by name: images and their libraries, code
# sidecars, background-build logs and failure records, build locks and their owner records,
# host CPU records, temporaries of writers that died.
_OWN_SUFFIXES = (".pkgi", ".so", ".pkgi.code", ".pkgi.log", ".pkgi.failed", ".lock",
                 ".lock.pid", ".lock.guard")


def _is_pkgimage_file(name):
    if name.startswith(".tmp-"):
        return True
    if name.startswith("host-") and name.endswith((".txt", ".json")):   # (.json: its earlier form)
        return True
    return name.endswith(_OWN_SUFFIXES) or (".lock.pid." in name and name.endswith(".tmp"))


def _held(lockfile):
    """Is the build lock ``lockfile`` held now (a build is running)?"""
    import filelock
    lk = filelock.FileLock(lockfile)
    try:
        lk.acquire(blocking=False)
    except filelock.Timeout:
        return True
    lk.release()
    return False


def _module_files(d, m):
    """The files of module ``m``'s images (any runtime) and of the context images that
    involve it; ToolError when ``m`` is neither a module nor in the cache folder."""
    paths = set(glob.glob(os.path.join(d, glob.escape(m) + "-*")))
    for p in glob.glob(os.path.join(d, "ctx-*")):
        key = os.path.basename(p)[4:].rpartition("-")[0]
        if m in key.split("+"):
            paths.add(p)
    if not paths:
        from ..image.lock import find_source
        try:
            known = find_source(m) is not None
        except (ImportError, ValueError):
            known = False
        if not known:
            raise ToolError(f"no module named {m!r} and no image of it in {d}")
    return paths


def clean(modules):
    """Remove what pkgimage wrote in the cache folder: everything, or what concerns
    ``modules``.  A build lock held by a running build is left (removing its file would let
    a second build in), and said so."""
    from ..image.cache import cache_dir
    d = cache_dir()
    if not os.path.isdir(d):
        for m in modules:
            _module_files(d, m)                 # an unknown module is still an error
        print(f"removed 0 file(s) from {d}")
        return 0
    paths = set()
    if modules:
        for m in modules:
            paths.update(_module_files(d, m))
    else:
        paths.update(glob.glob(os.path.join(d, "*")) + glob.glob(os.path.join(d, ".tmp-*")))
    n, busy = 0, []
    for p in sorted(paths):
        name = os.path.basename(p)
        if not _is_pkgimage_file(name) or not os.path.isfile(p):
            continue
        lock = p if name.endswith(".lock") else \
            p[:-len(".pid")] if name.endswith(".lock.pid") else \
            p[:-len(".guard")] if name.endswith(".lock.guard") else None
        if lock is not None and os.path.exists(lock) and _held(lock):
            busy.append(name)
            continue
        try:
            os.unlink(p)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ToolError(f"cannot remove {p}: {e.strerror}") from None
        n += 1
    print(f"removed {n} file(s) from {d}")
    if busy:
        print(f"left {len(busy)} lock file(s) of builds running now: {', '.join(busy)}")
    return 0

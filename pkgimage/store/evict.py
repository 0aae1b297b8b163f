"""Size-bounded eviction of the local cache folder by last use (``pkgimage gc``).

An image's last use is its access time, which the import hook sets at every load (file
systems mounted ``relatime`` or ``noatime`` would not), or its modification time when that
is later (a build or a fetch).  An image goes with its shared libraries, its lock files and
the context images keyed by its module; the least recently used go first until the folder
holds at most the limit.  Runs by hand, and after every build or fetch when a limit is
configured (``PKGIMAGE_MAX_CACHE_SIZE`` / ``max-cache-size``).
"""

from __future__ import annotations

import os

from ..image.format import SUFFIX


def _groups(folder):
    """{image file name: [member file names]} of the cache folder."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}
    groups = {n: [n] for n in names if n.endswith(SUFFIX) and not n.startswith(".")}
    for n in names:
        if n in groups:
            continue
        for img in groups:
            base = img[:-len(SUFFIX)]
            if n.startswith(base + "-") and n.endswith(".so") or \
                    n.startswith(img + ".lock") or n == img + ".code":
                groups[img].append(n)
                break
    return groups


def usage(folder=None):
    """[(last use, total bytes, image name, [files])] of the cache folder's images."""
    from ..image.cache import cache_dir
    folder = folder or cache_dir()
    out = []
    for img, files in _groups(folder).items():
        size, last = 0, 0.0
        for n in files:
            try:
                st = os.stat(os.path.join(folder, n))
            except OSError:
                continue
            size += st.st_size
            if n == img:
                last = max(st.st_atime, st.st_mtime)
        out.append((last, size, img, files))
    return sorted(out)


def gc(max_size, folder=None, dry_run=False, keep=()):
    """Remove least recently used images until the folder's images take at most
    ``max_size`` bytes, never those named in ``keep`` (an image about to be loaded);
    (removed [(image, bytes)], bytes kept)."""
    from ..image.cache import cache_dir
    folder = folder or cache_dir()
    rows = usage(folder)
    total = sum(r[1] for r in rows)
    removed = []
    for last, size, img, files in rows:
        if total <= max_size:
            break
        if img in keep:
            continue
        if not dry_run:
            for n in [f for f in files if f != img] + [img]:     # the image last
                try:
                    os.unlink(os.path.join(folder, n))
                except OSError:
                    pass
        removed.append((img, size))
        total -= size
    return removed, total


def auto_gc():
    """Apply the configured limit, if any (never fails the caller)."""
    try:
        from . import config
        limit = config.load().max_cache_size
        if limit is not None:
            gc(limit)
    except Exception:
        pass

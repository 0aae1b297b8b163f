"""``pkgimage clean [MODULE...]``: remove images (and their shared libraries, code sidecars and
the context images that involve the modules) from the cache folder.  Lock files are left
alone: removing a held lock's file would let a second build in."""

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


def _is_image_file(p):
    return p.endswith((".pkgi", ".so", ".pkgi.code"))


def clean(modules):
    from ..image.cache import cache_dir
    d = cache_dir()
    if not os.path.isdir(d):
        print(f"removed 0 file(s) from {d}")
        return 0
    paths = set()
    if modules:
        for m in modules:
            paths.update(glob.glob(os.path.join(d, glob.escape(m) + "-*")))
            for p in glob.glob(os.path.join(d, "ctx-*")):
                key = os.path.basename(p)[4:].rpartition("-")[0]
                if m in key.split("+"):
                    paths.add(p)
    else:
        paths.update(glob.glob(os.path.join(d, "*")))
    n = 0
    for p in sorted(paths):
        if _is_image_file(p) and os.path.isfile(p):
            try:
                os.unlink(p)
            except OSError as e:
                raise ToolError(f"cannot remove {p}: {e.strerror}") from None
            n += 1
    print(f"removed {n} file(s) from {d}")
    return 0

"""Counters of the store tiers, kept in ``store-stats.json`` in the cache folder.

Per tier: hits, misses, errors (unreachable, refused entries), bytes down and up, and the
build time saved (the publisher's recorded build time of each image fetched, less the time
the fetch took).  Only the remote path updates them: a valid local image loads without
touching this file (the warm import path stays lean), so local hits are not counted; local
misses (an import that found no valid image) are.
"""

from __future__ import annotations

import json
import os

FILE = "store-stats.json"
FIELDS = ("hits", "misses", "errors", "bytes_down", "bytes_up", "published", "time_saved")


def path():
    from ..image.cache import cache_dir
    return os.path.join(cache_dir(), FILE)


def read():
    try:
        with open(path()) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record(tier, **counts):
    """Add ``counts`` to ``tier``'s counters (under a lock: builds run in parallel)."""
    import filelock
    from ..image.cache import ensure_cache_dir
    from ..image.format import atomic_write
    p = path()
    try:
        ensure_cache_dir(os.path.dirname(p))
        with filelock.FileLock(p + ".lock", timeout=5):
            data = read()
            row = data.setdefault(tier, {})
            for k, v in counts.items():
                row[k] = round(row.get(k, 0) + v, 3)
            atomic_write(p, json.dumps(data, sort_keys=True, indent=1).encode())
    except (OSError, filelock.Timeout):
        pass                 # statistics never fail an import


def reset():
    try:
        os.unlink(path())
    except OSError:
        pass

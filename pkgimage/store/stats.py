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


_PENDING: dict = {}


def record(tier, **counts):
    """Add ``counts`` to ``tier``'s counters, in memory; :func:`flush` writes them (once per
    fetch or command, and at exit: a counter is not worth a file write per event)."""
    if not _PENDING:
        import atexit
        atexit.register(flush)
    row = _PENDING.setdefault(tier, {})
    for k, v in counts.items():
        row[k] = row.get(k, 0) + v


def flush():
    """Add the pending counts to the file (under a lock: builds run in parallel).  Written
    through a temporary and a rename, without fsync: counters may lose an update in a
    power cut, never the file."""
    if not _PENDING:
        return
    import filelock
    from ..image.cache import ensure_cache_dir
    p = path()
    try:
        ensure_cache_dir(os.path.dirname(p))
        with filelock.FileLock(p + ".lock", timeout=5):
            data = read()
            for tier, counts in _PENDING.items():
                row = data.setdefault(tier, {})
                for k, v in counts.items():
                    row[k] = round(row.get(k, 0) + v, 3)
            tmp = f"{p}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                json.dump(data, f, sort_keys=True, indent=1)
            os.replace(tmp, p)
        _PENDING.clear()
    except (OSError, filelock.Timeout):
        pass                 # statistics never fail an import


"""Is an image fresh?  One answer for the loader (``loader.check_stale``, at every load) and
the build scheduler (``lock.stale_reason``, before each build), so that ``pkgimage build``
never calls "up to date" an image that the import then refuses, or the other way round.

An image is fresh when its header's runtime key (image format, pkgimage, Python, llvmlite,
machine) is this process's, it is the image of the module asked for, every source it came
from still has the recorded digest, it was built for this CPU, and each dependency image it
was compiled against is the one in use.  What "in use" means is the caller's: the loader
asks the dependency *loaded* in this process (importing it), the scheduler the dependency's
image on disk (and whether that one is fresh in turn).
"""

from __future__ import annotations

import os

from . import format as F


def stale_reason(header, modname, dependency):
    """None when the image whose header is ``header`` is fresh for module ``modname``, else
    why not (one line).  ``dependency(name, build_id)``: None when the dependency ``name``
    in use has build id ``build_id``, else why not."""
    key = F.runtime_key()
    for k, v in key.items():
        if header.get(k) != v:
            return f"{k} differs (image {header.get(k)}, this process {v})"
    if header.get("module") != modname:
        return f"image is for module {header.get('module')}"
    for src, digest in header.get("sources", {}).items():
        try:
            now = F.source_digest(src, digest)
        except OSError:
            return f"source {os.path.basename(src)} is missing"
        if now != digest:
            return f"source {os.path.basename(src)} changed"
    from .cache import host_cpu
    cpu, features = host_cpu()
    if header.get("cpu") != cpu or header.get("features") != features:
        return f"built for CPU {header.get('cpu')}, this is {cpu}"
    for dep, build_id in header.get("deps", {}).items():
        why = dependency(dep, build_id)
        if why is not None:
            return why
    return None

"""Where images live: the cache folder, image paths, and the host CPU fingerprint.

The cache folder is ``PKGIMAGE_CACHE`` or the user's cache directory (platformdirs).  An
image is named by the module and a hash of its source path, so two checkouts of one module
never share an image.
"""

from __future__ import annotations

import hashlib
import json
import os

from .format import SUFFIX, atomic_write


def cache_dir():
    d = os.environ.get("PKGIMAGE_CACHE")
    if not d:
        import platformdirs
        d = platformdirs.user_cache_dir("pkgimage")
    return os.path.abspath(d)


def image_path(modname, source_path):
    h = hashlib.sha256(os.path.abspath(source_path).encode()).hexdigest()[:12]
    return os.path.join(cache_dir(), f"{modname}-{h}{SUFFIX}")


def shared_lib_path(image_path_, build_id):
    return image_path_[:-len(SUFFIX)] + f"-{build_id[:16]}.so"


def _cpuinfo_key():
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags", "Features",
                                                      "CPU part"))]
        text = "".join(sorted(set(lines)))
    except OSError:
        import platform
        text = platform.processor() + platform.machine()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def host_cpu():
    """(cpu name, features) as LLVM names them, without importing llvmlite when a build on
    this machine already recorded them (keyed by /proc/cpuinfo, so a shared cache folder on
    another machine does not reuse them)."""
    path = os.path.join(cache_dir(), f"host-{_cpuinfo_key()}.json")
    try:
        with open(path) as f:
            d = json.load(f)
        return d["cpu"], d["features"]
    except (OSError, ValueError, KeyError):
        pass
    import llvmlite.binding as llvm
    llvm.initialize_native_target()
    cpu, feats = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    try:
        atomic_write(path, json.dumps({"cpu": cpu, "features": feats}).encode())
    except OSError:
        pass
    return cpu, feats

"""Context images: compiled code that belongs to a *set* of modules (see build/ownership.py).

A context image holds CodeInstances (records and native code, no module state) keyed by the
pkgimage modules they touched.  It is loaded automatically, after a pkgimage module load,
as soon as every module of its key is loaded in the process -- and never otherwise.  It is
stale when any key module's source changed; its instances are validated edge by edge like
any image's, so a context image can never run code that a fresh compile would not.

File name: ``ctx-<mod1>+<mod2>...-<hash>.pkgi`` in the cache folder, so finding the ones
whose modules are loaded needs one directory listing and no file reads.
"""

from __future__ import annotations

import os
import sys

from ..errors import ImageError
from . import format as F
from .cache import cache_dir, host_cpu, shared_lib_path

LOADED_CONTEXTS: dict = {}     # path -> header


def _module_source(name):
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None)
    if not path:
        # Loaded only in the sandbox that ran the workload: find it without importing it.
        import importlib.util
        spec = importlib.util.find_spec(name)
        path = spec.origin if spec is not None else None
    if not path:
        raise ImageError(f"context module {name} has no source file")
    return os.path.abspath(path)


def context_path(key):
    srcs = "|".join(f"{m}={_module_source(m)}" for m in key)
    h = F.hexdigest(srcs.encode())[:12]
    from .cache import runtime_tag            # (one image per runtime, as modules' images)
    return os.path.join(cache_dir(), f"ctx-{'+'.join(key)}-{h}{runtime_tag()}{F.SUFFIX}")


def write_context_image(key, parts):
    """Write the context image for ``key`` (sorted module names) holding ``parts`` (each
    (records, object, consts): code the sandbox compiled, code the build compiled again)."""
    from ..compiler.jit import get_jit
    from .writer import code_section, link_shared
    records = [r for p in parts for r in p[0]]
    consts = [c for p in parts for c in p[2]]
    objects = [p[1] for p in parts]
    sources = {}
    for m in key:
        src = _module_source(m)
        sources[src] = F.file_digest(src)
    names = [f"object{i}" for i in range(len(objects))]
    code_bytes = code_section(records, consts, names)
    build_id = F.hexdigest(code_bytes + b"".join(objects))[:32]
    cpu, features = host_cpu()
    header = dict(F.runtime_key())
    header.update({"module": None, "context": list(key), "sources": sources, "deps": {},
                   "build_id": build_id, "triple": get_jit().triple, "cpu": cpu,
                   "features": features,
                   "counts": {"methods": 0, "instances": len(records),
                              "object": sum(map(len, objects))}})
    path = context_path(key)
    so = link_shared(objects, shared_lib_path(path, build_id))
    header["shared_lib"] = {"file": os.path.basename(shared_lib_path(path, build_id)),
                            "checksum": F.checksum_hex(so)} if so is not None else None
    F.atomic_write(path, F.encode(header, [("code", code_bytes)] + list(zip(names, objects))))
    from .writer import remove_old_shared_libs
    remove_old_shared_libs(path, header["shared_lib"])
    return path


def _key_of(fname):
    body = fname[len("ctx-"):-len(F.SUFFIX)]
    mods, _, _ = body.rpartition("-")
    return tuple(mods.split("+")) if mods else ()


def _read_or_remove(path, read_verified):
    """``read_verified(path)``; a damaged context image is also removed (ImageError saying
    so).  Unlike a module image, nothing would ever replace it -- it is written by the build
    of whichever key module's workload compiled its code, and that module's image does not
    know about it -- so it would be reported at every start of every process loading its
    modules.  Without it that code is compiled when called (a cache miss) until the next
    such build writes it again.  An untrusted one is left alone (not ours to judge)."""
    from .cache import UntrustedImage
    try:
        before = os.stat(path)
        return read_verified(path)
    except UntrustedImage:
        raise
    except ImageError as e:
        try:
            now = os.stat(path)
            if (now.st_ino, now.st_mtime_ns) == (before.st_ino, before.st_mtime_ns):
                os.unlink(path)            # (not one renamed into place meanwhile)
                raise ImageError(f"{e}; removed") from None
        except OSError:
            pass
        raise


def load_context_images():
    """Load every context image whose modules are all loaded now (smaller keys first)."""
    from .hook import is_pkgimage_source
    from .loader import check_stale, install_code, read_verified
    d = cache_dir()
    try:
        names = [n for n in os.listdir(d) if n.startswith("ctx-") and n.endswith(F.SUFFIX)]
    except OSError:
        return
    cands = []
    for n in names:
        key = _key_of(n)
        path = os.path.join(d, n)
        if not key or path in LOADED_CONTEXTS:
            continue
        if all(m in sys.modules and getattr(sys.modules[m], "__file__", None) for m in key):
            cands.append((len(key), n, key, path))
    for _, n, key, path in sorted(cands):
        try:
            if not all(is_pkgimage_source(sys.modules[m].__file__) for m in key):
                continue
            if os.path.abspath(path) != os.path.abspath(context_path(key)):
                continue          # the same modules from another checkout
            # trusted, checksum and shared library verified before anything is unpickled
            header, sections = _read_or_remove(path, read_verified)
            check_stale(header, path, None)
            from .serialize import pickle
            codeinfo = pickle.loads(sections["code"])
            objects = [sections[s] for s in codeinfo.get("objects", ["object0"])]
            install_code("+".join(key), header, codeinfo, objects, path)
            LOADED_CONTEXTS[path] = header
        except FileNotFoundError:
            continue                  # removed since the listing (pkgimage clean, a rebuild)
        except ImageError as e:
            print(f"pkgimage: context image {path} not used: {e}", file=sys.stderr)
            LOADED_CONTEXTS[path] = None

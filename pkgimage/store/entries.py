"""The store's two key spaces and the index entry, shared by publishing and fetching.

Layout in every store (Bazel's remote cache: a content-addressed store and an action cache)::

    blobs/<sha256>                               an image file, its shared library
    index/<module>/<key hash>/<build id>.json    the index entry (signed), written last

The **key** names what an image was built *from* and for: the module, its source file (path
and SHA-256), the runtime (format, pkgimage, Python, llvmlite, machine) and the CPU with its
features -- everything a reader knows before it has the image.  Its hash chooses the folder;
the entries in it are the builds for that key, one per build id (builds are deterministic, so
two publishers of one image write the same entry and create-if-absent keeps the first).
An entry names the build ids of the dependency images it was built against; a reader uses
an entry only when its dependencies' images are (or can be made) exactly those.

The source *path* is part of the key because an image records the paths it was built from
(the loader checks each of them): two checkouts at different paths do not share images.  CI
runners and containers that check out at a fixed path share them.
"""

from __future__ import annotations

import hashlib
import json
import os

from ..image import format as F

ENTRY_FORMAT = 1


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def key_hash(fields):
    return hashlib.sha256(canonical_json(fields)).hexdigest()[:32]


def sha256(data):
    """A blob's content address in a store (SHA-256, what object stores and their tools
    check; an image's own checksums are ``format.checksum``'s)."""
    return hashlib.sha256(data).hexdigest()


def blob_key(sha):
    return f"blobs/{sha}"


def module_prefix(module):
    return f"index/{module}"


def key_prefix(module, khash):
    return f"index/{module}/{khash}"


def entry_key(module, khash, build_id):
    return f"index/{module}/{khash}/{build_id}.json"


def lookup_fields(module, src):
    """The key of ``module``'s image as this process would build it from ``src`` now."""
    from ..image.cache import host_cpu
    cpu, features = host_cpu()
    return dict(F.runtime_key(), module=module, source=os.path.abspath(src),
                source_digest=F.file_digest(src), cpu=cpu, features=features)


def header_fields(header, src):
    """The key of the image with ``header`` built from ``src`` (what the publisher sends)."""
    src = os.path.abspath(src)
    fields = {k: header.get(k) for k in F.runtime_key()}
    fields.update(module=header.get("module"), source=src,
                  source_digest=header.get("sources", {}).get(src),
                  cpu=header.get("cpu"), features=header.get("features"))
    return fields


def make_entry(header, src, files):
    """The unsigned index entry for an image; ``files``: [{role, name, sha256, size}]."""
    fields = header_fields(header, src)
    return {"format": ENTRY_FORMAT, "module": header["module"], "key": fields,
            "key_hash": key_hash(fields), "build_id": header["build_id"],
            "deps": dict(sorted(header.get("deps", {}).items())), "files": files}


def parse_entry(data, where):
    """The entry in ``data`` (bytes) or StoreError naming ``where``."""
    from .interface import StoreError
    try:
        e = json.loads(data)
    except ValueError:
        raise StoreError(f"{where}: index entry is not JSON") from None
    ok = isinstance(e, dict) and e.get("format") == ENTRY_FORMAT and \
        isinstance(e.get("key"), dict) and isinstance(e.get("files"), list) and \
        isinstance(e.get("deps"), dict) and isinstance(e.get("build_id"), str) and \
        all(isinstance(f, dict) and {"role", "name", "sha256", "size"} <= set(f)
            for f in e["files"])
    if not ok:
        raise StoreError(f"{where}: malformed index entry")
    if key_hash(e["key"]) != e.get("key_hash"):
        raise StoreError(f"{where}: index entry's key does not match its hash")
    return e


def differing_fields(a, b):
    """Names of the key fields that differ between two keys (``explain``)."""
    return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]

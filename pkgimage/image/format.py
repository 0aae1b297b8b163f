"""The package-image file format: one module used by both the writer and the reader.

Layout (all integers little-endian)::

    magic            8 bytes   b"PKGIMG\\x00\\x01"
    header length    u32
    header           JSON, UTF-8, keys sorted, no whitespace (deterministic)
    section count    u32
    per section:     u16 name length, name (ASCII), u64 length, bytes
    checksum         32 bytes  SHA-256 of everything before it

The header is readable without unpickling anything (staleness checks), and the checksum
is verified over the whole file before any section is deserialised or any native code is
mapped.  Sections: ``module`` (the closed module's state, pickled), ``code`` (CodeInstance
records, pickled) and ``object`` (relocatable object code of all its native code).  A shared
library built from that object, when a C linker was available, lives beside the image and
its SHA-256 is in the header.

Files are written to a temporary name in the same folder and renamed into place, so a
reader sees either the old image or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import struct
import sys

# (glob, json, platform, socket and tempfile are imported where used: the import hook
# imports this module at ``import pkgimage``, which must stay within a few ms of Python's
# start)

from ..errors import ImageError

MAGIC = b"PKGIMG\x00\x01"
FORMAT_VERSION = 4
SUFFIX = ".pkgi"


def pkgimage_version():
    from .. import __version__
    return __version__


def llvmlite_version():
    """llvmlite's version (it fixes the LLVM version) without importing llvmlite: from the
    name of the ``dist-info`` folder beside the package.  The package is looked for on
    ``sys.path`` by a ``stat`` per entry, as the import system finds a regular package;
    ``importlib.util.find_spec`` lists every folder on the path first (5 ms of a warm
    load), and is asked only when that finds nothing (a namespace or zipped install)."""
    site = None
    for entry in sys.path:
        if os.path.isfile(os.path.join(entry or ".", "llvmlite", "__init__.py")):
            site = entry or "."
            break
    if site is None:
        spec = importlib.util.find_spec("llvmlite")
        if spec is None or not spec.origin:
            return "none"
        site = os.path.dirname(os.path.dirname(spec.origin))
    try:
        names = os.listdir(site)
    except OSError:
        names = []
    found = sorted(n for n in names if n.startswith("llvmlite-") and n.endswith(".dist-info"))
    if found:
        return found[-1][len("llvmlite-"):-len(".dist-info")]
    return "unknown"


def _machine():
    """``platform.machine()`` without importing ``platform`` (about 5 ms of a warm load):
    on POSIX it is ``os.uname().machine``."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform
    return platform.machine()


_RUNTIME_KEY: list = []


def runtime_key():
    """What must match between the building and the loading process, besides the CPU.
    Computed once per process (the image's name and its freshness check both ask; nothing
    in it changes while a process runs)."""
    if not _RUNTIME_KEY:
        _RUNTIME_KEY.append({
            "format": FORMAT_VERSION,
            "pkgimage": pkgimage_version(),
            "python": f"{sys.implementation.name}-{sys.version_info[0]}."
                      f"{sys.version_info[1]}.{sys.version_info[2]}",
            "llvmlite": llvmlite_version(),
            "machine": _machine(),
        })
    return dict(_RUNTIME_KEY[0])


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    with open(path, "rb") as f:
        return sha256(f.read())


def file_fingerprint(path):
    """``stat:<size>:<mtime_ns>``: what identifies a file of an installed distribution (an
    upgrade rewrites it), checked at every load without reading it."""
    st = os.stat(path)
    return f"stat:{st.st_size}:{st.st_mtime_ns}"


def source_digest(path, recorded):
    """The digest of ``path`` now, in the form of ``recorded`` (a fingerprint or SHA-256)."""
    if recorded.startswith("stat:"):
        return file_fingerprint(path)
    return file_sha256(path)


def encode(header, sections):
    """Bytes of an image; ``sections`` is a list of (name, bytes) in a fixed order."""
    import json
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    parts = [MAGIC, struct.pack("<I", len(h)), h, struct.pack("<I", len(sections))]
    for name, data in sections:
        n = name.encode("ascii")
        parts += [struct.pack("<H", len(n)), n, struct.pack("<Q", len(data)), data]
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def read_header(path):
    """The header only (cheap staleness checks); raises ImageError naming the file."""
    import json
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:8] != MAGIC:
                raise ImageError(f"{path}: not a pkgimage image (bad magic)")
            (n,) = struct.unpack("<I", head[8:12])
            raw = f.read(n)
    except OSError as e:
        raise ImageError(f"{path}: cannot read image: {e}") from None
    if len(raw) != n:
        raise ImageError(f"{path}: truncated image header")
    try:
        header = json.loads(raw)
    except ValueError:
        raise ImageError(f"{path}: corrupt image header") from None
    if not isinstance(header, dict):        # (damaged into other valid JSON)
        raise ImageError(f"{path}: corrupt image header")
    return header


def decode(data, path="<image>"):
    """(header, {section name: bytes}) after verifying the checksum over all bytes."""
    import json
    if len(data) < 8 + 4 + 4 + 32 or data[:8] != MAGIC:
        raise ImageError(f"{path}: not a pkgimage image (bad magic or too short)")
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise ImageError(f"{path}: checksum mismatch (corrupt or truncated image)")
    try:
        (n,) = struct.unpack_from("<I", body, 8)
        pos = 12
        header = json.loads(body[pos:pos + n])
        pos += n
        (count,) = struct.unpack_from("<I", body, pos)
        pos += 4
        sections = {}
        for _ in range(count):
            (ln,) = struct.unpack_from("<H", body, pos)
            pos += 2
            name = body[pos:pos + ln].decode("ascii")
            pos += ln
            (sz,) = struct.unpack_from("<Q", body, pos)
            pos += 8
            if pos + sz > len(body):
                raise ValueError("section past end")
            sections[name] = body[pos:pos + sz]
            pos += sz
        if pos != len(body):
            raise ValueError("trailing bytes")
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"{path}: malformed image ({e})") from None
    return header, sections


def _temp_prefix():
    """``.tmp-<pid>@<host>-``: temporaries say who writes them, so that those of a writer
    that was killed (SIGKILL, power loss) can be told from those still being written."""
    import socket
    host = "".join(c if c.isalnum() or c in ".-" else "_" for c in socket.gethostname())
    return f".tmp-{os.getpid()}@{host}-"


def remove_dead_temporaries(folder):
    """Remove the temporaries of writers on this host that died before renaming them (a
    build killed while writing its image left them in the cache folder for good)."""
    me = _temp_prefix()
    host = me[me.index("@") + 1:-1]
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for n in names:
        if not n.startswith(".tmp-") or "@" not in n:
            continue
        pid, _, rest = n[len(".tmp-"):].partition("@")
        if not pid.isdigit() or not rest.startswith(host + "-") or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue                       # alive (or a reused pid: left alone)
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            os.unlink(os.path.join(folder, n))
        except OSError:
            pass


def atomic_write(path, data):
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    import tempfile
    folder = os.path.dirname(path) or "."
    # mode: never group- or world-writable (such a cache folder is refused at load)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(), suffix=os.path.basename(path),
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    remove_dead_temporaries(folder)

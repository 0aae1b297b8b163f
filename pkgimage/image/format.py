"""The package-image file format: one module used by both the writer and the reader.

Layout (all integers little-endian)::

    magic            8 bytes   b"PKGIMG\\x00\\x02"
    header length    u32
    header           plain data (dicts, lists, strings, numbers, None), pickled in a
                     canonical form (keys sorted; deterministic) and read back by an
                     unpickler that refuses every global: a damaged or hostile header can
                     name no class or function, so reading it runs nothing
    section count    u32
    per section:     u16 name length, name (ASCII), u64 length, bytes
    checksum         4 bytes   CRC-32 of everything before it (``checksum``)

The header is readable without deserialising any section (staleness checks), and the checksum
is verified over the whole file before any section is deserialised or any native code is
mapped.  Sections: ``module`` (the closed module's state, pickled), ``code`` (CodeInstance
records, pickled) and ``object`` (relocatable object code of all its native code).  A shared
library built from that object, when a C linker was available, lives beside the image and
its checksum is in the header.

Files are written to a temporary name in the same folder and renamed into place, so a
reader sees either the old image or the new one, never half of one.
"""

from __future__ import annotations

import os
import struct
import sys
import zlib

# (glob, json, platform, socket and tempfile are imported where used: the import hook
# imports this module at ``import pkgimage``, which must stay within a few ms of Python's
# start; a warm load imports none of them -- the header is pickled, not JSON, because the
# loader imports pickle anyway and json with its C scanner cost a warm process 3-5 ms)

from ..errors import ImageError

try:
    # (BLAKE2b from CPython's own module: ``hashlib`` loads OpenSSL at its import, 3-6 ms of
    # every warm process for one hash of the image's bytes, which BLAKE2b takes 0.6 ms for)
    from _blake2 import blake2b as _blake2b
except ImportError:                              # pragma: no cover (a Python without it)
    from hashlib import blake2b as _blake2b

try:
    # (the C pickler alone, as ``serialize`` uses it: the ``pickle`` module on top costs a
    # warm process 1.7 ms)
    from _pickle import Pickler as _Pickler
    from _pickle import Unpickler as _Unpickler
    from _pickle import UnpicklingError as _UnpicklingError
except ImportError:                              # pragma: no cover (no C accelerator)
    from pickle import Pickler as _Pickler
    from pickle import Unpickler as _Unpickler
    from pickle import UnpicklingError as _UnpicklingError

MAGIC = b"PKGIMG\x00\x02"
FORMAT_VERSION = 6               # (6: CRC-32 checksums and BLAKE2b digests, not SHA-256)
CHECKSUM_SIZE = 4
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
        import importlib.util
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


def checksum(data):
    """CRC-32 of ``data`` (4 bytes, little-endian): what an image, its code sidecar and its
    shared library are checked by for damage before anything is read from them, as Julia's
    package images carry a CRC-32c.  A damage check, not a signature (a store signs its
    entries): zlib's runs at about 4 GB/s here (a 10,000-instance image with its sidecar
    and shared library is 12 MB), 2.4x ``hashlib``'s SHA-256, which loads OpenSSL (3-6 ms
    of a warm process), and 4.5x CPython's own BLAKE2b."""
    return zlib.crc32(data).to_bytes(CHECKSUM_SIZE, "little")


def checksum_hex(data):
    """``checksum`` in hex: what a header records for a shared library."""
    return checksum(data).hex()


def file_checksum(path):
    with open(path, "rb") as f:
        return checksum_hex(f.read())


def sealed(body):
    """``body`` with its checksum after it (an image, a code sidecar)."""
    return body + checksum(body)


def unsealed(blob):
    """The body of a ``sealed`` blob, or None when it is too short or its checksum does not
    match (damaged, truncated)."""
    if len(blob) <= CHECKSUM_SIZE:
        return None
    body = blob[:-CHECKSUM_SIZE]
    return body if checksum(body) == blob[-CHECKSUM_SIZE:] else None


def hexdigest(data, size=32):
    """BLAKE2b of ``data`` in hex: what names things and tells one content from another
    (sources, build ids, image names, method tables) -- few bytes, where collisions matter."""
    return _blake2b(data, digest_size=size).hexdigest()


def file_digest(path):
    with open(path, "rb") as f:
        return hexdigest(f.read())


def file_fingerprint(path):
    """``stat:<size>:<mtime_ns>``: what identifies a file of an installed distribution (an
    upgrade rewrites it), checked at every load without reading it."""
    st = os.stat(path)
    return f"stat:{st.st_size}:{st.st_mtime_ns}"


def source_digest(path, recorded):
    """The digest of ``path`` now, in the form of ``recorded`` (a fingerprint or digest)."""
    if recorded.startswith("stat:"):
        return file_fingerprint(path)
    return file_digest(path)


def encode(header, sections):
    """Bytes of an image; ``sections`` is a list of (name, bytes) in a fixed order."""
    h = encode_header(header)
    parts = [MAGIC, struct.pack("<I", len(h)), h, struct.pack("<I", len(sections))]
    for name, data in sections:
        n = name.encode("ascii")
        parts += [struct.pack("<H", len(n)), n, struct.pack("<Q", len(data)), data]
    return sealed(b"".join(parts))


def encode_header(header):
    """The header's bytes: its canonical form (``_canonical``) pickled with protocol 4 and
    no memo (``fast``: an object met twice is written twice, never as a back-reference), so
    that equal headers are equal bytes whatever objects the caller happened to share
    (reproducible images)."""
    import io
    out = io.BytesIO()
    p = _Pickler(out, 4)
    p.fast = True
    p.dump(_canonical(header))
    return out.getvalue()


def _canonical(value):
    """``value`` as plain containers, the rules the JSON header had: dicts with string keys,
    sorted; tuples as lists; strings, numbers, booleans and None as they are."""
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise TypeError(f"image header key {k!r} is not a string")
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"image header value {value!r} is not plain data")


def decode_header(raw):
    """The header from its bytes (``encode_header``); ValueError when they are not a
    header.  The unpickler refuses every global, so no bytes can make reading a header run
    code or build anything but plain data."""
    import io
    try:
        header = _PlainData(io.BytesIO(raw)).load()
    except Exception as e:       # (any malformed pickle: the one error the callers name)
        raise ValueError(f"undecodable header ({type(e).__name__})") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a mapping")
    return header


class _PlainData(_Unpickler):
    """An unpickler of plain data: every global (class, function) is refused."""

    def find_class(self, module, name):
        raise _UnpicklingError(f"global {module}.{name} in an image header")


def read_header(path):
    """The header only (cheap staleness checks); raises ImageError naming the file."""
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
        return decode_header(raw)
    except ValueError:
        raise ImageError(f"{path}: corrupt image header") from None


def decode(data, path="<image>"):
    """(header, {section name: bytes}) after verifying the checksum over all bytes."""
    if len(data) < 8 + 4 + 4 + CHECKSUM_SIZE or data[:8] != MAGIC:
        raise ImageError(f"{path}: not a pkgimage image (bad magic or too short)")
    body = unsealed(data)
    if body is None:
        raise ImageError(f"{path}: checksum mismatch (corrupt or truncated image)")
    try:
        (n,) = struct.unpack_from("<I", body, 8)
        pos = 12
        header = decode_header(body[pos:pos + n])
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

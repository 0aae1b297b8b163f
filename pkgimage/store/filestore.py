"""A store in a local or network folder (``file:///srv/pkgimage-store`` or a plain path).

Create-if-absent is a hard link of a fully written temporary file to the key's name:
``link`` fails when the name exists, so of two publishers one creates the entry and the
other learns it lost, and a reader never sees a half-written file (a writer killed before
the link leaves only a temporary, which readers never look at).  Works on NFS and SMB
mounts too, where ``O_EXCL`` was historically unreliable and ``link`` is atomic.
"""

from __future__ import annotations

import errno
import os
import tempfile
from urllib.parse import unquote, urlparse

from .interface import Store, StoreError, check_key

_TMP = ".incoming"


def folder_of(url):
    if url.startswith("file://"):
        p = urlparse(url)
        if p.netloc not in ("", "localhost"):
            raise StoreError(f"{url}: a file:// store must be a local path (file:///path)")
        return os.path.abspath(unquote(p.path))
    return os.path.abspath(os.path.expanduser(url))


class FileStore(Store):
    def __init__(self, url):
        self.url = url
        self.root = folder_of(url)

    def _path(self, key):
        return os.path.join(self.root, *check_key(key).split("/"))

    def _fail(self, what, key, e):
        return StoreError(f"{self.url}: cannot {what} {key}: {e.strerror or e}")

    def get(self, key):
        try:
            with open(self._path(key), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise self._fail("read", key, e) from None

    def head(self, key):
        try:
            return os.stat(self._path(key)).st_size
        except FileNotFoundError:
            return None
        except OSError as e:
            raise self._fail("stat", key, e) from None

    def put_if_absent(self, key, data):
        path = self._path(key)
        tmpdir = os.path.join(self.root, _TMP)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.makedirs(tmpdir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=tmpdir, prefix=f"{os.getpid()}-")
        except OSError as e:
            raise self._fail("write", key, e) from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            except OSError as e:
                if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                # A file system without hard links (some FUSE/SMB mounts): an exclusive
                # create of the name, then the bytes (fsynced), is the best it offers.
                try:
                    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    return False
                with os.fdopen(out, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            return True
        except OSError as e:
            raise self._fail("write", key, e) from None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def list(self, prefix=""):
        base = self._path(prefix) if prefix else self.root
        out = []
        for dirpath, dirnames, filenames in os.walk(base):
            if dirpath == self.root:
                dirnames[:] = [d for d in dirnames if d != _TMP]
            rel = os.path.relpath(dirpath, self.root)
            for n in filenames:
                out.append(n if rel == "." else f"{rel.replace(os.sep, '/')}/{n}")
        return sorted(out)

    def delete(self, key):
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass
        except OSError as e:
            raise self._fail("delete", key, e) from None

"""The store interface every backend implements, and the errors they raise.

A store is a flat key space of byte strings (keys are ``/``-separated relative paths), with
the five operations a build cache needs (Bazel's remote cache, sccache):

* ``get(key)`` -> bytes, or None when absent;
* ``head(key)`` -> size in bytes, or None when absent;
* ``put_if_absent(key, data)`` -> True when this call created the key, False when it existed
  already (never overwrites: two publishers of the same image cannot clobber each other);
* ``list(prefix)`` -> the keys under ``prefix/``;
* ``delete(key)`` (absent is fine).

Every backend raises :class:`StoreUnreachable` for a store that does not answer (refused
connection, timeout, DNS) and :class:`StoreError` for every other failure, with one line
naming the store.  Nothing here imports a network library: backends are imported by
:func:`open_store` only for the URL scheme asked for.
"""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed (one line naming the store)."""


class StoreUnreachable(StoreError):
    """The store did not answer within its timeout, or refused the connection."""


class Store:
    """Base class of the backends (``filestore``, ``httpstore``, ``objstore``)."""

    url = "?"

    def get(self, key):                       # pragma: no cover - interface
        raise NotImplementedError

    def head(self, key):                      # pragma: no cover - interface
        raise NotImplementedError

    def put_if_absent(self, key, data):       # pragma: no cover - interface
        raise NotImplementedError

    def list(self, prefix=""):                # pragma: no cover - interface
        raise NotImplementedError

    def delete(self, key):                    # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.url}>"


def check_key(key):
    """Keys are relative ``/``-separated paths without ``..``: a key is never a way out of
    the store's folder or prefix."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise StoreError(f"invalid store key {key!r}")
    return key


def open_store(url, timeout=2.0):
    """The backend for ``url``: ``file://`` or a plain path, ``http(s)://`` (GET/PUT,
    WebDAV-style), or an object store URL (``s3://``, ``gs://``, ``az://``, ...) through
    ``obstore``, or ``fsspec`` when obstore is not installed or does not know the scheme."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    if scheme == "file":
        from .filestore import FileStore
        return FileStore(url)
    if scheme in ("http", "https"):
        from .httpstore import HTTPStore
        return HTTPStore(url, timeout=timeout)
    from .objstore import open_object_store
    return open_object_store(url, timeout=timeout)

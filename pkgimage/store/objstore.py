"""Object stores (S3 and S3-compatible servers, GCS, Azure) through ``obstore``, with
``fsspec`` as the fallback for schemes obstore does not know or when it is not installed.

``obstore`` (the Rust ``object_store`` crate) does conditional puts natively:
``put(..., mode="create")`` is ``If-None-Match: *`` on S3 and the equivalent on GCS and
Azure, so create-if-absent holds across machines without a lock service.  Credentials,
region and endpoint come from the usual environment variables (``AWS_ACCESS_KEY_ID``,
``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``, ``GOOGLE_APPLICATION_CREDENTIALS``, ...), as for
every other tool of that cloud.  Requests time out after the store's timeout and are not
retried for long: the import hook must not hang on a store that does not answer.

``fsspec`` has no portable create-if-absent: its fallback opens with mode ``"xb"`` where the
file system supports it and otherwise checks first (a race between two publishers of the
same image then writes the same bytes twice, which content addressing makes harmless for
blobs; the index entry of a deterministic build has the same content too).
"""

from __future__ import annotations

from .interface import Store, StoreError, StoreUnreachable, check_key

_UNREACHABLE_WORDS = ("connect", "timed out", "timeout", "dns", "refused", "unreachable",
                      "error sending request", "connection")


def _classify(url, what, key, e):
    msg = " ".join(str(e).split())
    if len(msg) > 300:
        msg = msg[:300] + "..."
    low = msg.lower()
    if any(w in low for w in _UNREACHABLE_WORDS):
        return StoreUnreachable(f"{url}: {what} {key}: unreachable ({msg})")
    return StoreError(f"{url}: {what} {key}: {msg}")


def open_object_store(url, timeout=2.0):
    try:
        import obstore  # noqa: F401
    except ImportError:
        return FsspecStore(url, timeout)
    from obstore.store import from_url
    import os
    t = timedelta(max(timeout, 0.1))
    # (client options given replace those read from the environment: keep AWS_ALLOW_HTTP)
    options = {"timeout": t, "connect_timeout": t}
    if os.environ.get("AWS_ALLOW_HTTP", "").lower() in ("1", "true", "yes"):
        options["allow_http"] = True
    try:
        store = from_url(url, client_options=options,
                         retry_config={"max_retries": 1, "retry_timeout": timedelta(timeout),
                                       "backoff": {"init_backoff": timedelta(0.05),
                                                   "max_backoff": timedelta(0.2),
                                                   "base": 2}})
    except Exception as e:
        if "scheme" in str(e).lower() or "unknown url" in str(e).lower():
            return FsspecStore(url, timeout)
        raise StoreError(f"{url}: cannot open the object store: {e}") from None
    return ObjectStore(url, store)


def timedelta(seconds):
    import datetime
    return datetime.timedelta(seconds=seconds)


class ObjectStore(Store):
    def __init__(self, url, store):
        self.url = url
        self.store = store

    def get(self, key):
        import obstore
        from obstore.exceptions import NotFoundError
        try:
            return bytes(obstore.get(self.store, check_key(key)).bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except StoreError:
            raise
        except Exception as e:
            raise _classify(self.url, "get", key, e) from None

    def head(self, key):
        import obstore
        from obstore.exceptions import NotFoundError
        try:
            return obstore.head(self.store, check_key(key))["size"]
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as e:
            raise _classify(self.url, "head", key, e) from None

    def put_if_absent(self, key, data):
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError
        try:
            obstore.put(self.store, check_key(key), data, mode="create",
                        use_multipart=False)
            return True
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return False
        except Exception as e:
            raise _classify(self.url, "put", key, e) from None

    def list(self, prefix=""):
        import obstore
        try:
            out = []
            for batch in obstore.list(self.store, prefix=prefix or None):
                out.extend(m["path"] for m in batch)
            return sorted(out)
        except Exception as e:
            raise _classify(self.url, "list", prefix or "/", e) from None

    def delete(self, key):
        import obstore
        from obstore.exceptions import NotFoundError
        try:
            obstore.delete(self.store, check_key(key))
        except (NotFoundError, FileNotFoundError):
            pass
        except Exception as e:
            raise _classify(self.url, "delete", key, e) from None


class FsspecStore(Store):
    """Any file system fsspec knows (``gcs://``, ``abfs://``, ``sftp://``, ``memory://``...)."""

    def __init__(self, url, timeout=2.0):
        try:
            import fsspec
        except ImportError:
            raise StoreError(f"{url}: this store needs obstore or fsspec (pip install "
                             f"'pkgimage[store]')") from None
        self.url = url
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url, timeout=timeout)
        except TypeError:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except Exception as e:
            raise StoreError(f"{url}: cannot open: {e}") from None
        self.root = self.root.rstrip("/")

    def _p(self, key):
        return f"{self.root}/{check_key(key)}"

    def get(self, key):
        try:
            return self.fs.cat_file(self._p(key))
        except FileNotFoundError:
            return None
        except Exception as e:
            raise _classify(self.url, "get", key, e) from None

    def head(self, key):
        try:
            return self.fs.info(self._p(key))["size"]
        except FileNotFoundError:
            return None
        except Exception as e:
            raise _classify(self.url, "head", key, e) from None

    def put_if_absent(self, key, data):
        path = self._p(key)
        try:
            parent = path.rsplit("/", 1)[0]
            self.fs.makedirs(parent, exist_ok=True)
            try:
                with self.fs.open(path, "xb") as f:
                    f.write(data)
                return True
            except FileExistsError:
                return False
            except (ValueError, NotImplementedError):
                if self.fs.exists(path):
                    return False
                self.fs.pipe_file(path, data)
                return True
        except Exception as e:
            raise _classify(self.url, "put", key, e) from None

    def list(self, prefix=""):
        base = self._p(prefix) if prefix else self.root
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        except Exception as e:
            raise _classify(self.url, "list", prefix or "/", e) from None
        root = self.root.lstrip("/")
        return sorted(p.lstrip("/")[len(root):].lstrip("/") for p in found)

    def delete(self, key):
        try:
            self.fs.rm_file(self._p(key))
        except FileNotFoundError:
            pass
        except Exception as e:
            raise _classify(self.url, "delete", key, e) from None

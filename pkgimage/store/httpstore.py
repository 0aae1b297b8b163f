"""A store on an HTTP(S) server that accepts GET/PUT/DELETE (WebDAV-style: nginx's dav
module, Apache mod_dav, WsgiDAV, or a Bazel-style cache server).

* ``put_if_absent`` is ``PUT`` with ``If-None-Match: *`` (RFC 9110): a server that has the
  key answers 412 and nothing is written.  When the parent collection is missing (409, as
  WebDAV answers), the collections are made with ``MKCOL`` and the PUT is repeated.
* ``list`` is ``PROPFIND`` with ``Depth: 1``, walked collection by collection.
* Every request has the store's timeout; a refused connection or a timeout is
  :class:`StoreUnreachable`.  The standard library's ``urllib`` is all it needs.

Credentials: ``https://user:password@host/path`` gives basic authentication; a bearer token
can be given in ``PKGIMAGE_REMOTE_TOKEN`` (read by ``config.py``).
"""

from __future__ import annotations

import base64
import socket
import urllib.error
import urllib.request
from urllib.parse import quote, unquote, urlparse, urlunparse
from xml.etree import ElementTree

from .interface import Store, StoreError, StoreUnreachable, check_key


class HTTPStore(Store):
    def __init__(self, url, timeout=2.0, token=None):
        p = urlparse(url)
        self.url = urlunparse(p._replace(netloc=p.hostname + (f":{p.port}" if p.port else "")))
        self.base = self.url.rstrip("/") + "/"
        self.timeout = timeout
        self.headers = {}
        if p.username:
            cred = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(cred).decode()
        if token is None:
            from .config import remote_token
            token = remote_token()
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    last_headers = None

    def _request(self, method, key, data=None, headers=None):
        url = key if key.startswith(("http://", "https://")) else \
            self.base + quote(check_key(key))
        req = urllib.request.Request(url, data=data, method=method,
                                     headers=dict(self.headers, **(headers or {})))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                self.last_headers = r.headers
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            self.last_headers = e.headers
            return e.code, e.read()
        except (socket.timeout, TimeoutError) as e:
            raise StoreUnreachable(f"{self.url}: no answer within {self.timeout:g}s "
                                   f"({method} {key or '/'})") from None
        except urllib.error.URLError as e:
            reason = e.reason if isinstance(e.reason, str) else \
                (getattr(e.reason, "strerror", None) or e.reason)
            if isinstance(e.reason, (OSError, socket.timeout)):
                raise StoreUnreachable(f"{self.url}: {reason}") from None
            raise StoreError(f"{self.url}: {method} {key}: {reason}") from None
        except (ConnectionError, OSError) as e:
            raise StoreUnreachable(f"{self.url}: {e.strerror or e}") from None

    def _error(self, method, key, status):
        return StoreError(f"{self.url}: {method} {key} answered HTTP {status}")

    def get(self, key):
        status, body = self._request("GET", key)
        if status == 404:
            return None
        if status != 200:
            raise self._error("GET", key, status)
        return body

    def head(self, key):
        status, _ = self._request("HEAD", key)
        if status == 404:
            return None
        if status != 200:
            raise self._error("HEAD", key, status)
        size = self.last_headers.get("Content-Length") if self.last_headers else None
        if size is None or not size.isdigit():
            body = self.get(key)
            return None if body is None else len(body)
        return int(size)

    def _mkcols(self, key):
        """Make the collections above ``key``, the store's own base path included."""
        p = urlparse(self.base)
        root = f"{p.scheme}://{p.netloc}/"
        base_parts = [x for x in p.path.split("/") if x]
        parts = base_parts + key.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            col = "/".join(parts[:i]) + "/"
            status, _ = self._request("MKCOL", root + quote(col))
            if status in (200, 201, 301, 405):            # made, or there already
                continue
            if i <= len(base_parts) and status in (403, 409):
                continue                   # above the store: not ours to make
            raise self._error("MKCOL", col, status)

    def put_if_absent(self, key, data):
        for attempt in range(2):
            status, _ = self._request("PUT", key, data=data,
                                      headers={"If-None-Match": "*",
                                               "Content-Type": "application/octet-stream"})
            if status in (200, 201, 204):
                return True
            if status == 412:
                return False
            if status in (409, 404) and attempt == 0:   # parent collection missing
                self._mkcols(key)
                continue
            raise self._error("PUT", key, status)
        raise self._error("PUT", key, status)

    def _propfind(self, col):
        status, body = self._request("PROPFIND", self.base + quote(col),
                                     headers={"Depth": "1"},
                                     data=b'<?xml version="1.0"?><propfind xmlns="DAV:">'
                                          b'<prop><resourcetype/></prop></propfind>')
        if status == 404:
            return []
        if status not in (200, 207):
            raise self._error("PROPFIND", col or "/", status)
        base_path = urlparse(self.base).path
        out = []
        for resp in ElementTree.fromstring(body).iter("{DAV:}response"):
            href = unquote(urlparse(resp.findtext("{DAV:}href") or "").path)
            if not href.startswith(base_path):
                continue
            rel = href[len(base_path):]
            is_col = resp.find(".//{DAV:}resourcetype/{DAV:}collection") is not None
            if rel.rstrip("/") == col.rstrip("/"):
                continue
            out.append((rel.rstrip("/"), is_col))
        return out

    def list(self, prefix=""):
        out, todo = [], [prefix.rstrip("/") + "/" if prefix else ""]
        while todo:
            col = todo.pop()
            for rel, is_col in self._propfind(col):
                if is_col:
                    todo.append(rel + "/")
                else:
                    out.append(rel)
        return sorted(out)

    def delete(self, key):
        status, _ = self._request("DELETE", key)
        if status not in (200, 204, 404):
            raise self._error("DELETE", key, status)

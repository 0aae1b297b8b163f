"""The tiers: the local cache folder first, then the configured stores in order.

* :meth:`Tiers.fetch` makes a module's image local: it looks the module's key up in each
  store in turn; an entry is used only when it is signed by a trusted key (or its store is
  marked ``unsigned``), when its dependencies' images are the ones it was built against
  (fetched first, recursively), and when every blob has the SHA-256 the entry names.  The
  image is written into the cache folder (shared library first, image last, each renamed
  into place), checked as the loader checks it, and copied into every faster writable store
  (sccache's backfill).
* :meth:`Tiers.publish` sends an up-to-date local image (dependencies first): blobs first,
  the signed index entry last, each created only if absent.
* A store that does not answer within the timeout is *down* for the rest of the process:
  one line says so, and the caller goes on with the local path.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from ..errors import ImageError
from ..image import format as F
from . import config, entries as E, signing, stats
from .interface import StoreError, StoreUnreachable, open_store


def _stderr(msg):
    print(msg, file=sys.stderr, flush=True)


class _Down(Exception):
    """The tier stopped answering during this operation (already reported)."""


class Tiers:
    def __init__(self, settings=None, say=_stderr, tiers=None, record_stats=True):
        self.settings = settings or config.load()
        self.tiers = list(self.settings.tiers if tiers is None else tiers)
        self.say = say
        self.record_stats = record_stats
        self._stores = {}
        self.down = {}                 # url -> one line saying why
        self.deadline = None           # time.monotonic() after which no store is asked
        self.log = []                  # (module, tier url, what happened)

    # -- plumbing ---------------------------------------------------------------------------

    def store(self, tier):
        s = self._stores.get(tier.url)
        if s is None:
            s = self._stores[tier.url] = open_store(tier.url, timeout=self.settings.timeout)
        return s

    def _call(self, tier, op, *args):
        if tier.url in self.down:
            raise _Down()
        if self.deadline is not None and time.monotonic() > self.deadline:
            self._mark_down(tier, f"pkgimage: store {tier.url} too slow (no answer within "
                                  f"the import's budget); continuing without it")
            raise _Down()
        try:
            return getattr(self.store(tier), op)(*args)
        except StoreUnreachable as e:
            self._mark_down(tier, f"pkgimage: store unreachable: {_one_line(e)}; continuing "
                                  f"without it")
            raise _Down() from None

    def _mark_down(self, tier, line):
        self.down[tier.url] = line
        self.say(line)
        self._stat(tier.url, errors=1)

    def _stat(self, url, **counts):
        if self.record_stats:
            stats.record(url, **counts)

    def writable(self):
        return [t for t in self.tiers if t.writable]

    # -- fetching ---------------------------------------------------------------------------

    def fetch(self, module, src=None, build_id=None, _seen=frozenset()):
        """Make ``module``'s image (with ``build_id`` when given) local from the first tier
        that has a usable one; its path, or None."""
        from ..image.lock import image_of
        if module in _seen:
            return None
        if src is None:
            src, _ = image_of(module)
            if src is None:
                return None
        fields = E.lookup_fields(module, src)
        khash = E.key_hash(fields)
        for i, tier in enumerate(self.tiers):
            try:
                names = self._call(tier, "list", E.key_prefix(module, khash))
            except _Down:
                continue
            except StoreError as e:
                self.say(f"pkgimage: {_one_line(e)}")
                self._stat(tier.url, errors=1)
                continue
            names = sorted(n for n in names if n.endswith(".json"))
            if build_id is not None:
                names = [n for n in names if n.endswith(f"/{build_id}.json")]
            for name in names:
                try:
                    got = self._try_entry(tier, i, module, src, name, fields, _seen)
                except _Down:
                    break
                if got is not None:
                    return got
            self._stat(tier.url, misses=1)
            self.log.append((module, tier.url, "miss"))
        return None

    def _try_entry(self, tier, index, module, src, name, fields, seen):
        t0 = time.monotonic()
        where = f"{tier.url}/{name}"
        data = self._call(tier, "get", name)
        if data is None:
            return None
        try:
            entry = E.parse_entry(data, where)
            if entry["module"] != module or entry["key"] != fields:
                raise StoreError(f"{where}: index entry is for another key "
                                 f"({', '.join(E.differing_fields(entry['key'], fields))})")
            if not tier.unsigned:
                signing.verify(entry, self.settings.trusted_keys, where)
        except StoreError as e:
            self.say(f"pkgimage: refusing {module} from the store: {_one_line(e)}")
            self._stat(tier.url, errors=1)
            self.log.append((module, tier.url, "refused"))
            return None
        # Its dependencies must be exactly the images it was built against.
        for dep, bid in entry["deps"].items():
            if local_build_id(dep) != bid and \
                    self.fetch(dep, build_id=bid, _seen=seen | {module}) is None:
                self.log.append((module, tier.url, f"dependency {dep} unavailable"))
                return None
        blobs = {}
        for f in entry["files"]:
            blob = self._call(tier, "get", E.blob_key(f["sha256"]))
            if blob is None or E.sha256(blob) != f["sha256"] or len(blob) != f["size"]:
                what = "missing" if blob is None else "does not match its SHA-256 (tampered " \
                                                      "or truncated)"
                self.say(f"pkgimage: refusing {module} from the store: {tier.url}: blob "
                         f"{f['name']} {what}")
                self._stat(tier.url, errors=1)
                self.log.append((module, tier.url, "bad blob"))
                return None
            blobs[f["sha256"]] = blob
        try:
            path = install_local(module, src, entry, blobs)
        except (ImageError, StoreError, OSError) as e:
            self.say(f"pkgimage: refusing {module} from the store: {_one_line(e)}")
            self._stat(tier.url, errors=1)
            return None
        size = sum(len(b) for b in blobs.values())
        took = time.monotonic() - t0
        self._stat(tier.url, hits=1, bytes_down=size,
                   time_saved=max(0.0, float(entry.get("build_seconds") or 0) - took))
        self.log.append((module, tier.url, "hit"))
        for faster in self.tiers[:index]:         # backfill
            if faster.writable and faster.url not in self.down:
                try:
                    self._publish_entry(faster, entry, blobs)
                except (_Down, StoreError):
                    pass
        return path

    # -- publishing -------------------------------------------------------------------------

    def publish(self, module, to=None, build_seconds=None, with_deps=True, _done=None,
                just_built=False):
        """Publish ``module``'s local image and, first (``with_deps``), its dependencies'
        to the tiers ``to`` (default: every writable tier); [(module, tier url, created?)].

        ``just_built``: this process has just written the image (a cluster task), so its
        freshness is known and not checked again -- the check walks the dependency graph
        without memo, once per path, which for a module five layers deep took longer than
        the upload (0.3-1.6 s of every task).  The image is still read and verified."""
        from ..image.loader import read_verified
        from ..image.lock import image_of, stale_reason
        targets = self.writable() if to is None else to
        if not targets:
            raise StoreError("no writable store to publish to (mark one with #rw in "
                             "PKGIMAGE_REMOTE, or writable = true in [tool.pkgimage])")
        done = {} if _done is None else _done
        if module in done:
            return []
        src, path = image_of(module)
        if src is None:
            raise StoreError(f"no module named {module!r}")
        why = None if just_built else stale_reason(module, path)
        if why is not None:
            raise StoreError(f"{module}: no up-to-date image to publish ({why}); run "
                             f"`pkgimage build {module}` first")
        header, _ = read_verified(path)
        out = []
        for dep in header.get("deps", {}) if with_deps else ():
            out += self.publish(dep, to=targets, _done=done)
        blobs, files = {}, []
        for role, p in [("image", path)] + ([("shared_lib", os.path.join(
                os.path.dirname(path), header["shared_lib"]["file"]))]
                if header.get("shared_lib") else []):
            with open(p, "rb") as f:
                data = f.read()
            sha = E.sha256(data)
            blobs[sha] = data
            files.append({"role": role, "name": os.path.basename(p), "sha256": sha,
                          "size": len(data)})
        entry = E.make_entry(header, src, files)
        if build_seconds is not None:
            entry["build_seconds"] = round(build_seconds, 3)
        entry["publisher"] = socket.gethostname()
        if self.settings.signing_key:
            entry = signing.sign(entry, self.settings.signing_key)
        done[module] = True
        for tier in targets:
            if not entry.get("signatures") and not tier.unsigned:
                raise StoreError(f"{tier.url}: no signing key (PKGIMAGE_SIGNING_KEY, made by "
                                 f"`pkgimage keygen`): readers refuse unsigned images unless "
                                 f"the store is marked #unsigned")
            try:
                created = self._publish_entry(tier, entry, blobs)
            except _Down:
                raise StoreUnreachable(self.down[tier.url]) from None
            out.append((module, tier.url, created))
        return out

    def _publish_entry(self, tier, entry, blobs):
        """Blobs first, the index entry last; True when this call created the entry."""
        sent = 0
        for sha, data in sorted(blobs.items()):
            key = E.blob_key(sha)
            have = self._call(tier, "head", key)
            if have == len(data):
                continue
            if have is not None:
                # A blob of the wrong size under its hash: the remnant of an upload that
                # died (a store without atomic puts).  Readers refuse it by its hash; replace.
                self._call(tier, "delete", key)
            if self._call(tier, "put_if_absent", key, data):
                sent += len(data)
        key = E.entry_key(entry["module"], entry["key_hash"], entry["build_id"])
        created = self._call(tier, "put_if_absent", key, E.canonical_json(entry))
        self._stat(tier.url, bytes_up=sent, published=int(bool(created)))
        return created


def local_build_id(module):
    """The build id of ``module``'s image in the cache folder, or None."""
    from ..image.lock import image_of
    _, path = image_of(module)
    if path is None:
        return None
    try:
        return F.read_header(path).get("build_id")
    except (ImageError, OSError):
        return None


def install_local(module, src, entry, blobs):
    """Write a fetched image (and its shared library) into the cache folder, under the names
    this process's loader looks for, and check it as the loader will; the image's path."""
    from ..image.cache import ensure_cache_dir, image_path, shared_lib_path
    from ..image.loader import read_verified
    path = image_path(module, src)
    ensure_cache_dir(os.path.dirname(path))
    by_role = {f["role"]: f for f in entry["files"]}
    if "image" not in by_role or set(by_role) - {"image", "shared_lib"}:
        raise StoreError(f"index entry of {module} names unexpected files")
    header, _ = F.decode(blobs[by_role["image"]["sha256"]], by_role["image"]["name"])
    if header.get("module") != module or header.get("build_id") != entry["build_id"]:
        raise StoreError(f"{module}: the image's header does not match its index entry")
    lib = by_role.get("shared_lib")
    want_lib = header.get("shared_lib")
    if (lib is None) != (want_lib is None):
        raise StoreError(f"{module}: the entry's shared library does not match the image's")
    if lib is not None:
        so = shared_lib_path(path, entry["build_id"])
        if want_lib["file"] != os.path.basename(so) or \
                want_lib["checksum"] != F.checksum_hex(blobs[lib["sha256"]]):
            raise StoreError(f"{module}: image was built as {want_lib['file']}, here it would "
                             f"be {os.path.basename(so)} (another source path)")
        F.atomic_write(so, blobs[lib["sha256"]])
    F.atomic_write(path, blobs[by_role["image"]["sha256"]])
    try:
        read_verified(path)
    except ImageError:
        for p in (path,):
            try:
                os.unlink(p)
            except OSError:
                pass
        raise
    from ..image.writer import remove_old_shared_libs
    remove_old_shared_libs(path, want_lib)
    return path


def _one_line(msg):
    return " ".join(str(msg).split())


# -- the import hook's entry point ----------------------------------------------------------

_TIERS = None


def fetch_for_import(module, src):
    """Called by the import hook when ``module`` has no valid local image, before it builds
    one: True when a store provided it.  Never raises and never waits longer than a few
    store timeouts (the first unreachable store is then skipped for the whole process)."""
    global _TIERS
    try:
        if _TIERS is None:
            _TIERS = Tiers()
        if not _TIERS.tiers:
            return False
        _TIERS.deadline = time.monotonic() + 4 * _TIERS.settings.timeout
        try:
            stats.record("local", misses=1)
            path = _TIERS.fetch(module, src)
            if path is not None and _TIERS.settings.max_cache_size is not None:
                from .evict import gc
                gc(_TIERS.settings.max_cache_size, keep={os.path.basename(path)})
            return path is not None
        finally:
            _TIERS.deadline = None
            stats.flush()
    except StoreError as e:
        _stderr(f"pkgimage: {_one_line(e)}; continuing without the store")
        return False
    except Exception as e:            # a store must never break an import
        _stderr(f"pkgimage: store lookup for {module} failed ({type(e).__name__}: "
                f"{_one_line(e)}); continuing without it")
        return False

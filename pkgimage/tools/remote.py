"""The store commands: ``push``, ``pull``, ``export``, ``import``, ``stats``, ``explain``,
``gc`` and ``keygen`` (the store itself is ``pkgimage/store``)."""

from __future__ import annotations

import json
import os
import sys

from . import ToolError, human_size


def _tiers(url=None, writable=False):
    from ..store import config
    from ..store.interface import StoreError
    from ..store.tiers import Tiers
    try:
        settings = config.load()
        if url:
            tier = config.parse_tier(url, "--store")
            if writable:
                tier = config.Tier(tier.url, True, tier.unsigned)
            return Tiers(settings, tiers=[tier])
        return Tiers(settings)
    except StoreError as e:
        raise ToolError(str(e)) from None


def _plan(modules):
    from .deps import plan
    order, _ = plan(modules)
    return order


def push(modules, store=None):
    from ..store.interface import StoreError
    t = _tiers(store, writable=True)
    if not t.writable():
        raise ToolError("no writable store: give --store URL, or mark a tier #rw in "
                        "PKGIMAGE_REMOTE (writable = true in [tool.pkgimage])")
    done = {}
    try:
        for m in _plan(modules):
            for mod, url, created in t.publish(m, _done=done):
                print(f"{'pushed' if created else 'already in store'}: {mod} -> {url}")
    except StoreError as e:
        raise ToolError(str(e), status=1) from None
    _auto_gc()
    return 0


def pull(modules, store=None):
    from ..image.lock import image_of, stale_reason
    t = _tiers(store)
    if not t.tiers:
        raise ToolError("no store configured: give --store URL or set PKGIMAGE_REMOTE")
    missing = []
    for m in _plan(modules):
        _, path = image_of(m)
        if stale_reason(m, path) is None:
            print(f"up to date: {m}")
            continue
        got = t.fetch(m)
        if got is None:
            missing.append(m)
            print(f"not in any store: {m}")
        else:
            print(f"pulled: {m} ({human_size(os.path.getsize(got))})")
    _auto_gc()
    return 1 if missing else 0


def _auto_gc():
    from ..store.evict import auto_gc
    auto_gc()


def _environment_modules():
    """The modules of every image in the cache folder whose source is still found here."""
    from ..image import format as F
    from ..image.cache import cache_dir
    from ..image.lock import image_of
    out = []
    d = cache_dir()
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else ():
        if not n.endswith(F.SUFFIX) or n.startswith("ctx-"):
            continue
        try:
            mod = F.read_header(os.path.join(d, n)).get("module")
        except Exception:
            continue
        if mod and image_of(mod)[1] == os.path.join(d, n):
            out.append(mod)
    return out


def export(file, modules=()):
    """One file (a tar of a store) with the images ``modules`` (default: every image of
    the environment in the cache folder) and their dependencies use."""
    import tarfile
    import tempfile
    from ..image.lock import image_of, stale_reason
    from ..store.config import Tier
    from ..store.interface import StoreError
    mods = list(modules) or _environment_modules()
    if not mods:
        raise ToolError("nothing to export: no images in the cache folder")
    mods = _plan(mods)
    with tempfile.TemporaryDirectory(prefix="pkgimage-export-") as tmp:
        t = _tiers()
        t.record_stats = False
        tier = Tier(tmp, writable=True, unsigned=not t.settings.signing_key)
        done, n = {}, 0
        try:
            for m in mods:
                _, path = image_of(m)
                if stale_reason(m, path) is not None:
                    print(f"skipped (no up-to-date image): {m}", file=sys.stderr)
                    continue
                n += len(t.publish(m, to=[tier], _done=done))
        except StoreError as e:
            raise ToolError(str(e), status=1) from None
        part = f"{file}.{os.getpid()}.part"
        try:
            with tarfile.open(part, "w:gz", compresslevel=1) as tar:
                for name in sorted(os.listdir(tmp)):
                    if name != ".incoming":
                        tar.add(os.path.join(tmp, name), arcname=name)
            os.replace(part, file)
        except BaseException:
            try:
                os.unlink(part)
            except OSError:
                pass
            raise
    signed = "signed" if t.settings.signing_key else "unsigned"
    print(f"exported {n} image(s) ({signed}) to {file} ({human_size(os.path.getsize(file))})")
    return 0


def import_(file, unsigned=False):
    """Install every image of an export file whose key matches this machine."""
    import tarfile
    import tempfile
    from ..store.config import Tier
    if not os.path.isfile(file):
        raise ToolError(f"{file} not found")
    with tempfile.TemporaryDirectory(prefix="pkgimage-import-") as tmp:
        try:
            with tarfile.open(file, "r:*") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as e:
            raise ToolError(f"{file}: not a pkgimage export ({e})") from None
        t = _tiers()
        t.record_stats = False
        t.tiers = [Tier(tmp, unsigned=unsigned)]
        store = t.store(t.tiers[0])
        mods = sorted({k.split("/")[1] for k in store.list("index")})
        got = missing = 0
        for m in mods:
            if t.fetch(m) is not None:
                got += 1
                print(f"imported: {m}")
            else:
                missing += 1
                print(f"not usable here: {m} (no source at the recorded path, another "
                      f"runtime or CPU, or refused)")
    print(f"imported {got} image(s) from {file}")
    return 0 if got else 1


def stats_cmd(as_json=False):
    from ..store import stats
    from ..store.evict import usage
    data = stats.read()
    rows = usage()
    local = {"images": len(rows), "bytes": sum(r[1] for r in rows)}
    if as_json:
        print(json.dumps({"tiers": data, "local_cache": local}, indent=1, sort_keys=True))
        return 0
    print(f"local cache: {local['images']} image(s), {human_size(local['bytes'])}")
    if not data:
        print("no store activity recorded")
        return 0
    head = ("tier", "hits", "misses", "errors", "down", "up", "published", "saved")
    table = [head]
    for tier, r in sorted(data.items()):
        table.append((tier, str(r.get("hits", 0)), str(r.get("misses", 0)),
                      str(r.get("errors", 0)), human_size(r.get("bytes_down", 0)),
                      human_size(r.get("bytes_up", 0)), str(r.get("published", 0)),
                      f"{r.get('time_saved', 0):.1f}s"))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    return 0


def explain(module, store=None):
    """Why ``module``'s image is (not) reused: locally, and in each store, which part of
    the key differs from the nearest published one."""
    from ..image import format as F
    from ..image.lock import image_of, stale_reason
    from ..store import entries as E
    from ..store.interface import StoreError
    from ..store.tiers import _Down
    from .deps import check_module
    src = check_module(module)
    _, path = image_of(module)
    now = E.lookup_fields(module, src)
    why = stale_reason(module, path)
    print(f"{module}: key {E.key_hash(now)} ({src})")
    if why is None:
        print(f"  local cache: reused ({path})")
    else:
        print(f"  local cache: not reused: {why}")
        if os.path.exists(path):
            try:
                h = F.read_header(path)
                diff = E.differing_fields(E.header_fields(h, src), now)
                if diff:
                    print(f"    key parts that differ: {', '.join(diff)}")
            except Exception:
                pass
    t = _tiers(store)
    for tier in t.tiers:
        try:
            names = [n for n in t._call(tier, "list", E.module_prefix(module))
                     if n.endswith(".json")]
        except _Down:
            print(f"  {tier.url}: unreachable")
            continue
        except StoreError as e:
            print(f"  {tier.url}: {e}")
            continue
        mine = [n for n in names if n.split("/")[2] == E.key_hash(now)]
        if mine:
            print(f"  {tier.url}: has this key ({len(mine)} build(s): "
                  f"{', '.join(n.rsplit('/', 1)[1][:-5][:12] for n in mine)})")
            continue
        if not names:
            print(f"  {tier.url}: no image of {module}")
            continue
        best = None
        for n in names[-20:]:
            try:
                e = json.loads(t._call(tier, "get", n) or b"{}")
                d = E.differing_fields(e.get("key", {}), now)
            except (_Down, StoreError, ValueError):
                continue
            if best is None or len(d) < len(best[0]):
                best = (d, e.get("key", {}))
        if best is None:
            print(f"  {tier.url}: {len(names)} other build(s), unreadable")
            continue
        parts = []
        for k in best[0]:
            a, b = best[1].get(k), now.get(k)
            if k in ("source_digest", "features"):
                parts.append(f"{k} (store {str(a)[:12]}, here {str(b)[:12]})")
            else:
                parts.append(f"{k} (store {a}, here {b})")
        print(f"  {tier.url}: {len(names)} build(s) of other keys; nearest differs in: "
              + "; ".join(parts))
    return 0


def gc_cmd(max_size=None, dry_run=False):
    from ..store import config
    from ..store.evict import gc
    from ..store.interface import StoreError
    try:
        limit = config.parse_size(max_size, "--max-size") if max_size else \
            config.load().max_cache_size
    except StoreError as e:
        raise ToolError(str(e)) from None
    if limit is None:
        raise ToolError("give --max-size SIZE (e.g. 2G) or configure PKGIMAGE_MAX_CACHE_SIZE")
    removed, kept = gc(limit, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for img, size in removed:
        print(f"{verb} {img} ({human_size(size)})")
    print(f"{verb} {len(removed)} image(s); {human_size(kept)} kept (limit "
          f"{human_size(limit)})")
    return 0


def keygen(name, output):
    from ..store import signing
    from ..store.interface import StoreError
    if os.path.exists(output):
        raise ToolError(f"{output} exists: not overwriting a key")
    try:
        secret, public = signing.generate(name)
        signing.write_secret(output, secret)
    except StoreError as e:
        raise ToolError(str(e)) from None
    print(f"secret key written to {output} (keep it on the publishing machine: "
          f"PKGIMAGE_SIGNING_KEY={output})")
    print(f"public key (add to PKGIMAGE_TRUSTED_KEYS / trusted-keys):\n{public}")
    return 0


def add_parsers(sub, common):
    """The store commands' arguments (kept here: ``cli.py`` only calls this)."""
    p = sub.add_parser("push", parents=[common],
                       help="publish modules' images (and their dependencies') to a store")
    p.add_argument("modules", nargs="+", metavar="MODULE")
    p.add_argument("--store", default=None, metavar="URL",
                   help="this store (default: the writable tiers of PKGIMAGE_REMOTE)")
    p = sub.add_parser("pull", parents=[common],
                       help="fetch modules' images (and their dependencies') from the stores")
    p.add_argument("modules", nargs="+", metavar="MODULE")
    p.add_argument("--store", default=None, metavar="URL")
    p = sub.add_parser("export", parents=[common],
                       help="write the images an environment uses into one file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("modules", nargs="*", metavar="MODULE",
                   help="these modules and their dependencies (default: every image of "
                        "this environment in the cache folder)")
    p = sub.add_parser("import", parents=[common], help="install the images of an export file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--unsigned", action="store_true",
                   help="accept unsigned images (only for a file you made yourself)")
    p = sub.add_parser("stats", parents=[common],
                       help="store hits, misses, bytes and time saved, per tier")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("explain", parents=[common],
                       help="why a module's image was or was not reused (which key part differs)")
    p.add_argument("module", metavar="MODULE")
    p.add_argument("--store", default=None, metavar="URL")
    p = sub.add_parser("gc", parents=[common],
                       help="evict least recently used images from the local cache")
    p.add_argument("--max-size", default=None, metavar="SIZE", help="e.g. 2G, 500M")
    p.add_argument("--dry-run", action="store_true")
    p = sub.add_parser("keygen", parents=[common],
                       help="make an Ed25519 key pair for signing published images")
    p.add_argument("name", metavar="NAME", help="the key's name, e.g. ci-1")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="where to write the secret key")
    def guarded(fn):
        def run(args):
            from ..store.interface import StoreError
            try:
                return fn(args)
            except StoreError as e:
                raise ToolError(str(e), status=1) from None
        return run
    return {name: guarded(fn) for name, fn in {
        "push": lambda a: push(a.modules, a.store),
        "pull": lambda a: pull(a.modules, a.store),
        "export": lambda a: export(a.file, a.modules),
        "import": lambda a: import_(a.file, a.unsigned),
        "stats": lambda a: stats_cmd(a.json),
        "explain": lambda a: explain(a.module, a.store),
        "gc": lambda a: gc_cmd(a.max_size, a.dry_run),
        "keygen": lambda a: keygen(a.name, a.output),
    }.items()}

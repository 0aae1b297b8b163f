"""Every setting of the store, read in this one place.

From the environment (which wins) or from ``[tool.pkgimage]`` in the ``pyproject.toml`` of
the working folder or the nearest folder above it::

    PKGIMAGE_REMOTE="https://cache.example.com/pkgimage s3://ci-bucket/pkgimage#rw"
    PKGIMAGE_TRUSTED_KEYS="ci-1:BASE64PUBLICKEY another:BASE64..."
    PKGIMAGE_SIGNING_KEY=/path/to/secret.key        # where images are published (CI)
    PKGIMAGE_REMOTE_TIMEOUT=2                        # seconds, per store operation
    PKGIMAGE_MAX_CACHE_SIZE=2G                       # automatic gc of the local cache
    PKGIMAGE_REMOTE_TOKEN=...                        # bearer token for http(s) stores

    [tool.pkgimage]
    remote = ["https://cache.example.com/pkgimage",
              {url = "s3://ci-bucket/pkgimage", writable = true}]
    trusted-keys = ["ci-1:BASE64PUBLICKEY"]
    remote-timeout = 2
    max-cache-size = "2G"

Tiers are tried in the order given, after the local cache folder (always tier 0).  A tier is
**read-only** unless ``#rw`` (or ``writable = true``) says otherwise; ``#unsigned`` (or
``unsigned = true``) accepts index entries without a trusted signature -- only for a store
the user controls.  Options in a URL follow ``#``, separated by commas (``#rw,unsigned``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..settings import find_pyproject, settings
from .interface import StoreError

DEFAULT_TIMEOUT = 2.0
_OPTIONS = {"rw": "writable", "writable": "writable", "unsigned": "unsigned",
            "ro": None, "readonly": None}


@dataclass(frozen=True)
class Tier:
    """One remote store: where, whether this process may publish there, whether its index
    entries need no signature."""
    url: str
    writable: bool = False
    unsigned: bool = False

    @property
    def name(self):
        return self.url


@dataclass
class Settings:
    tiers: list = field(default_factory=list)
    timeout: float = DEFAULT_TIMEOUT
    trusted_keys: list = field(default_factory=list)      # ["name:base64", ...]
    signing_key: str | None = None                        # path of the secret key file
    max_cache_size: int | None = None                     # bytes
    token: str | None = None
    source: str = "defaults"                              # where the tiers came from


def parse_size(text, where="size"):
    """``2G``, ``500M``, ``1.5GB``, ``12345`` -> bytes."""
    s = str(text).strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    try:
        if s and s[-1] in mult:
            return int(float(s[:-1]) * mult[s[-1]])
        return int(float(s))
    except ValueError:
        raise StoreError(f"{where}: cannot read {text!r} as a size (e.g. 2G, 500M)") from None


def parse_tier(spec, where):
    """A tier from ``URL#opt,opt`` or a TOML table ``{url=..., writable=..., unsigned=...}``."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"url", "writable", "unsigned"}
        if "url" not in spec or unknown:
            raise StoreError(f"{where}: a remote tier is a table with url (and optionally "
                             f"writable, unsigned); got keys {sorted(spec)}")
        return Tier(str(spec["url"]), bool(spec.get("writable", False)),
                    bool(spec.get("unsigned", False)))
    url, _, opts = str(spec).partition("#")
    flags = {}
    for o in filter(None, (x.strip().lower() for x in opts.split(","))):
        if o not in _OPTIONS:
            raise StoreError(f"{where}: unknown tier option {o!r} in {spec!r} "
                             f"(known: rw, unsigned)")
        if _OPTIONS[o]:
            flags[_OPTIONS[o]] = True
    if not url:
        raise StoreError(f"{where}: empty store URL in {spec!r}")
    return Tier(url, **flags)


def _pyproject_table(path):
    import tomllib
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise StoreError(f"{path}: cannot read [tool.pkgimage]: {e}") from None
    t = data.get("tool", {}).get("pkgimage", {})
    if not isinstance(t, dict):
        raise StoreError(f"{path}: [tool.pkgimage] must be a table")
    return t


def load(environ=None, start=None):
    """The settings of this process (environment over ``pyproject.toml``)."""
    env = os.environ if environ is None else environ
    s = Settings()
    pp = find_pyproject(start)
    table = _pyproject_table(pp) if pp else {}
    where = f"{pp} [tool.pkgimage]"
    if "remote" in table:
        specs = table["remote"]
        specs = [specs] if isinstance(specs, (str, dict)) else specs
        s.tiers = [parse_tier(x, f"{where} remote") for x in specs]
        s.source = pp
    if "trusted-keys" in table:
        s.trusted_keys = list(table["trusted-keys"])
    if "signing-key" in table:
        s.signing_key = os.path.join(os.path.dirname(pp), str(table["signing-key"]))
    if "remote-timeout" in table:
        s.timeout = _float(table["remote-timeout"], f"{where} remote-timeout")
    if "max-cache-size" in table:
        s.max_cache_size = parse_size(table["max-cache-size"], f"{where} max-cache-size")
    def raw(name):
        return settings.raw(name, env)
    if raw("remote") is not None:
        specs = raw("remote").replace(";", " ").split()
        s.tiers = [parse_tier(x, "PKGIMAGE_REMOTE") for x in specs]
        s.source = "PKGIMAGE_REMOTE"
    if raw("trusted_keys"):
        s.trusted_keys = raw("trusted_keys").replace(",", " ").split()
    if raw("signing_key"):
        s.signing_key = raw("signing_key")
    if raw("remote_timeout"):
        s.timeout = _float(raw("remote_timeout"), "PKGIMAGE_REMOTE_TIMEOUT")
    if raw("max_cache_size"):
        s.max_cache_size = parse_size(raw("max_cache_size"), "PKGIMAGE_MAX_CACHE_SIZE")
    s.token = raw("remote_token") or None
    return s


def _float(v, where):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise StoreError(f"{where}: expected seconds, got {v!r}") from None
    if f <= 0:
        raise StoreError(f"{where}: must be positive, got {v!r}")
    return f


def remote_configured():
    """Cheap: is any remote tier configured (without importing any backend)?"""
    remote = settings.raw("remote")
    if remote is not None:
        return bool(remote.strip())
    pp = find_pyproject()
    if pp is None:
        return False
    try:
        with open(pp, "rb") as f:
            if b"pkgimage" not in f.read():
                return False
        return bool(_pyproject_table(pp).get("remote"))
    except StoreError:
        return False


def remote_token():
    return settings.remote_token or None

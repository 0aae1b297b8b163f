"""Ed25519 signatures of index entries, as Nix's binary caches sign their ``.narinfo`` files.

Keys are written ``NAME:BASE64`` (the 32 raw key bytes): the public one goes into the
users' trusted keys (``PKGIMAGE_TRUSTED_KEYS`` / ``trusted-keys``), the secret one stays in
a file on the publishing machine (``PKGIMAGE_SIGNING_KEY``), made by ``pkgimage keygen``.
The signature covers the canonical JSON of the whole index entry except its signatures: the
module, the key it was built for, its build id and the SHA-256 of every blob -- so a
tampered blob fails its hash and a tampered entry fails its signature.

``cryptography`` is imported only here, and only when an entry is signed or checked.
"""

from __future__ import annotations

import base64
import json
import os

from .interface import StoreError


class SignatureError(StoreError):
    """An index entry without a signature by a trusted key (or with a wrong one)."""


def canonical(entry):
    body = {k: v for k, v in entry.items() if k != "signatures"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _split(text, what):
    name, sep, b64 = str(text).strip().partition(":")
    try:
        raw = base64.b64decode(b64, validate=True) if sep else b""
    except ValueError:
        raw = b""
    if not name or len(raw) != 32:
        raise StoreError(f"{what} {str(text)[:40]!r} is not NAME:BASE64 of a 32-byte "
                         f"Ed25519 key")
    return name, raw


def generate(name):
    """(secret key line, public key line) of a new key pair called ``name``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption,
                                                              PrivateFormat, PublicFormat)
    if not name or ":" in name or any(c.isspace() for c in name):
        raise StoreError(f"a key name is one word without ':' (got {name!r})")
    k = Ed25519PrivateKey.generate()
    sec = k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pub = k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (f"{name}:{base64.b64encode(sec).decode()}",
            f"{name}:{base64.b64encode(pub).decode()}")


def read_secret(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise StoreError(f"signing key {path}: {e.strerror}") from None
    return _split(text, f"signing key {path}:")


def public_of(secret_line):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    name, raw = _split(secret_line, "secret key")
    pub = Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)
    return f"{name}:{base64.b64encode(pub).decode()}"


def sign(entry, secret_path):
    """``entry`` with its ``signatures`` extended by the key in ``secret_path``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    name, raw = read_secret(secret_path)
    sig = Ed25519PrivateKey.from_private_bytes(raw).sign(canonical(entry))
    out = dict(entry)
    out["signatures"] = dict(entry.get("signatures") or {}, **{
        name: base64.b64encode(sig).decode()})
    return out


def verify(entry, trusted_keys, where):
    """Raise SignatureError (one line naming ``where``) unless a trusted key signed ``entry``."""
    sigs = entry.get("signatures") or {}
    if not isinstance(sigs, dict) or not sigs:
        raise SignatureError(f"{where}: index entry is not signed (trusted keys: "
                             f"{_names(trusted_keys)})")
    if not trusted_keys:
        raise SignatureError(f"{where}: index entry signed by {', '.join(sorted(sigs))}, "
                             f"but no key is trusted (PKGIMAGE_TRUSTED_KEYS)")
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    body = canonical(entry)
    tried = []
    for line in trusted_keys:
        name, raw = _split(line, "trusted key")
        sig = sigs.get(name)
        if sig is None:
            continue
        tried.append(name)
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(sig), body)
            return name
        except (InvalidSignature, ValueError):
            continue
    if tried:
        raise SignatureError(f"{where}: index entry has a wrong signature for "
                             f"{', '.join(tried)} (tampered, or signed for other content)")
    raise SignatureError(f"{where}: index entry signed by {', '.join(sorted(sigs))}, none "
                         f"of them trusted ({_names(trusted_keys)})")


def _names(keys):
    return ", ".join(k.split(":", 1)[0] for k in keys) or "none"


def write_secret(path, secret_line):
    """Write a secret key file readable by its owner only (never half-written: the image
    writer's atomic write, whose temporary file is created with mode 0600)."""
    from ..image.format import atomic_write
    atomic_write(path, (secret_line + "\n").encode())

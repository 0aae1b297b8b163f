"""Shared image stores: the local cache folder backed by remote tiers (a team store, a CI
store) so that each image is compiled once per team.

| module | holds |
|---|---|
| ``interface.py`` | the store interface (get, head, put-if-absent, list, delete), errors, ``open_store`` |
| ``filestore.py`` | ``file://`` and plain folders (local or network) |
| ``httpstore.py`` | HTTP(S) GET/PUT servers (WebDAV-style) |
| ``objstore.py`` | S3/GCS/Azure through ``obstore``; ``fsspec`` as the fallback |
| ``entries.py`` | the key of an image, the store layout, the index entry |
| ``signing.py`` | Ed25519 signatures of index entries |
| ``config.py`` | every setting (``PKGIMAGE_REMOTE``..., ``[tool.pkgimage]``) |
| ``tiers.py`` | fetch (with dependencies, backfill) and publish; the import hook's entry |
| ``stats.py`` | hit/miss/byte counters per tier |
| ``evict.py`` | size-bounded eviction of the local cache by last use |

Nothing here is imported by ``import pkgimage`` or by loading a valid image: the import hook
asks ``config.remote_configured()`` only when it found no valid local image, and a backend's
library (obstore, fsspec, cryptography) is imported only when a store of that kind is used.
"""

"""Store settings (environment over pyproject.toml, read in one place) and the signing of
index entries, in process."""

import pytest

from pkgimage.store import config
from pkgimage.store.interface import StoreError


def test_tiers_from_the_environment_in_order_read_only_by_default(tmp_path):
    s = config.load({"PKGIMAGE_REMOTE": "file:///a  https://h/b#rw;s3://c/d#rw,unsigned"},
                    start=tmp_path)
    assert [(t.url, t.writable, t.unsigned) for t in s.tiers] == [
        ("file:///a", False, False), ("https://h/b", True, False), ("s3://c/d", True, True)]
    assert s.timeout == config.DEFAULT_TIMEOUT and s.source == "PKGIMAGE_REMOTE"


def test_pyproject_table_and_environment_override(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pkgimage]\nremote = ["file:///team", {url = "s3://ci/x", writable = true}]\n'
        'trusted-keys = ["ci:AAAA"]\nremote-timeout = 0.5\nmax-cache-size = "1.5G"\n'
        'signing-key = "keys/ci.key"\n')
    sub = tmp_path / "pkg" / "deep"
    sub.mkdir(parents=True)
    s = config.load({}, start=sub)                      # found from a folder below
    assert [(t.url, t.writable) for t in s.tiers] == [("file:///team", False), ("s3://ci/x", True)]
    assert s.trusted_keys == ["ci:AAAA"] and s.timeout == 0.5
    assert s.max_cache_size == int(1.5 * (1 << 30))
    assert s.signing_key == str(tmp_path / "keys" / "ci.key")
    s = config.load({"PKGIMAGE_REMOTE": "file:///mine#rw", "PKGIMAGE_REMOTE_TIMEOUT": "3",
                     "PKGIMAGE_TRUSTED_KEYS": "a:x,b:y", "PKGIMAGE_MAX_CACHE_SIZE": "500M"},
                    start=sub)
    assert [t.url for t in s.tiers] == ["file:///mine"] and s.timeout == 3
    assert s.trusted_keys == ["a:x", "b:y"] and s.max_cache_size == 500 << 20


@pytest.mark.parametrize("env, message", [
    ({"PKGIMAGE_REMOTE": "file:///a#fast"}, "PKGIMAGE_REMOTE: unknown tier option 'fast'"),
    ({"PKGIMAGE_REMOTE": "#rw"}, "empty store URL"),
    ({"PKGIMAGE_REMOTE_TIMEOUT": "soon"}, "PKGIMAGE_REMOTE_TIMEOUT: expected seconds"),
    ({"PKGIMAGE_REMOTE_TIMEOUT": "-1"}, "must be positive"),
    ({"PKGIMAGE_MAX_CACHE_SIZE": "big"}, "cannot read 'big' as a size"),
])
def test_bad_settings_say_what_and_where(tmp_path, env, message):
    with pytest.raises(StoreError, match=message):
        config.load(env, start=tmp_path)


def test_bad_pyproject_tier_names_the_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.pkgimage]\nremote = [{path = "/x"}]\n')
    with pytest.raises(StoreError, match=r"pyproject.toml \[tool.pkgimage\] remote: a remote "
                                         r"tier is a table with url"):
        config.load({}, start=tmp_path)


def test_signatures_detect_any_change_of_the_entry(tmp_path):
    pytest.importorskip("cryptography", reason="needs cryptography")
    from pkgimage.store import signing
    secret, public = signing.generate("ci")
    signing.write_secret(str(tmp_path / "k"), secret)
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0          # owner only
    assert signing.public_of(secret) == public
    entry = {"module": "m", "build_id": "b" * 32, "files": [{"sha256": "1" * 64}]}
    signed = signing.sign(entry, str(tmp_path / "k"))
    assert signing.verify(signed, [public], "here") == "ci"
    for change in ({"module": "n"}, {"build_id": "c" * 32}, {"files": []}, {"extra": 1}):
        with pytest.raises(signing.SignatureError, match="wrong signature for ci"):
            signing.verify(dict(signed, **change), [public], "here")
    with pytest.raises(StoreError, match="not NAME:BASE64"):
        signing.verify(signed, ["ci:short"], "here")
    with pytest.raises(StoreError, match="a key name is one word"):
        signing.generate("two words")

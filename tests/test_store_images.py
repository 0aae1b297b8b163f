"""Images through the store, end to end, in fresh processes: built and published on one
"machine" (a cache folder), fetched by another's first import instead of compiled, with the
same results as plain Python and a fresh compile; and every way a store can fail or lie."""

import json
import os
import subprocess
import sys
import time

import pytest

from imagetools import Project
from storeservers import dav_server, moto_server, store_url  # noqa: F401  (fixtures)

pytest.importorskip("cryptography", reason="signed stores need cryptography "
                                           "(pip install 'pkgimage[store]')")

BASE = '''
__pkgimage__ = True
import pkgimage as pk
from pkgimage import Int64

@pk.generic
def scale(x: Int64):
    return 3 * x + 1

@pk.precompilation(__name__)
def _w():
    scale(2)
'''

APP = '''
__pkgimage__ = True
import pkgimage as pk
from pkgimage import Int64
import base

@pk.generic
def total(n: Int64):
    s = 0
    for i in range(n):
        s += base.scale(i)
    return s

@pk.precompilation(__name__)
def _w():
    total(5)
'''

PLAIN_TOTAL_100 = sum(3 * i + 1 for i in range(100))

PROBE = '''
import time
t = time.monotonic()
import app
import pkgimage.image.loader as L
done({"total": app.total(100), "from_image": sorted(L.LOADED), "heavy": heavy(),
      "import_s": time.monotonic() - t})
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """base and app built once into the "builder" cache, and two key pairs."""
    from pkgimage.store import signing
    root = tmp_path_factory.mktemp("storeproj")
    p = Project(root)
    p.write("base", BASE)
    p.write("app", APP)
    p.build("app")
    keys = {}
    for name in ("ci", "other"):
        secret, public = signing.generate(name)
        path = root / f"{name}.key"
        signing.write_secret(str(path), secret)
        keys[name] = (str(path), public)
    p.keys = keys
    return p


def machine(p, name):
    """A fresh cache folder: another machine (same checkout path, as CI runners have)."""
    d = p.root / "machines" / name
    d.mkdir(parents=True, exist_ok=True)
    return str(d)


def push(p, url, key="ci", **env):
    return p.cli("push", "app", "--store", url,
                 PKGIMAGE_SIGNING_KEY=p.keys[key][0] if key else None, **env)


def fetch_run(p, remote, cache, trusted=("ci",), script=PROBE, **env):
    return p.run(script, PKGIMAGE_CACHE=cache, PKGIMAGE_REMOTE=remote,
                 PKGIMAGE_TRUSTED_KEYS=" ".join(p.keys[k][1] for k in trusted), **env)


def result(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def fresh_compile(p):
    """The answer of a fresh compile: no image anywhere, no store."""
    return result(p.run(PROBE, PKGIMAGE_CACHE=machine(p, f"fresh{time.monotonic_ns()}")))


@pytest.mark.parametrize("store_url", ["file", "http", "s3"], indirect=True)
def test_first_import_fetches_from_the_store_instead_of_compiling(built, store_url):
    r = push(built, store_url)
    assert r.returncode == 0, r.stderr
    assert "pushed: base" in r.stdout and "pushed: app" in r.stdout
    out = result(fetch_run(built, store_url, machine(built, "dev1")))
    assert out["from_image"] == ["app", "base"]          # both loaded from fetched images
    # nothing compiled (llvmlite itself is imported once on a machine with an empty cache
    # folder, to learn the CPU's name and features)
    assert [m for m in out["heavy"] if m.startswith("pkgimage.compiler")] == []
    assert out["total"] == PLAIN_TOTAL_100 == fresh_compile(built)["total"]
    again = push(built, store_url)
    assert "already in store: app" in again.stdout


@pytest.mark.parametrize("store_url", ["file", "s3"], indirect=True)
def test_two_processes_publishing_the_same_image_one_wins_both_load(built, store_url):
    procs = [subprocess.Popen([sys.executable, "-m", "pkgimage", "push", "app", "--store",
                               store_url], env=built.env(PKGIMAGE_SIGNING_KEY=built.keys["ci"][0]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=built.root) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    created = sum("pushed: app" in o for o, _ in outs)
    assert created == 1, outs
    for who in ("a", "b"):
        out = result(fetch_run(built, store_url, machine(built, f"race-{who}")))
        assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100


def _file_store(p, name):
    return f"file://{p.root}/stores/{name}", p.root / "stores" / name


def test_tampered_blob_is_refused_in_one_line_and_the_import_proceeds(built):
    url, folder = _file_store(built, "tamper-blob")
    assert push(built, url).returncode == 0
    blob = max((folder / "blobs").iterdir(), key=lambda f: f.stat().st_size)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    r = fetch_run(built, url, machine(built, "tb"))
    out = result(r)
    assert out["total"] == PLAIN_TOTAL_100
    refused = [ln for ln in r.stderr.splitlines() if "refusing" in ln]
    assert refused and all("does not match its SHA-256" in ln for ln in refused), r.stderr


def test_tampered_index_entry_is_refused(built):
    url, folder = _file_store(built, "tamper-entry")
    assert push(built, url).returncode == 0
    entry = next((folder / "index" / "app").rglob("*.json"))
    e = json.loads(entry.read_text())
    e["deps"] = {k: "0" * 32 for k in e["deps"]}          # point at other dependencies
    entry.write_text(json.dumps(e))
    r = fetch_run(built, url, machine(built, "te"))
    assert result(r)["from_image"] == ["base"]            # base fetched, app refused
    lines = [ln for ln in r.stderr.splitlines() if "refusing app" in ln]
    assert len(lines) == 1 and "wrong signature for ci" in lines[0], r.stderr


def test_unsigned_entry_is_refused_unless_the_store_is_marked_unsigned(built):
    url, _ = _file_store(built, "unsigned")
    r = push(built, url, key=None)
    assert r.returncode != 0 and "no signing key" in r.stderr
    assert push(built, url + "#unsigned", key=None).returncode == 0
    r = fetch_run(built, url, machine(built, "u1"))
    assert result(r)["from_image"] == [] and "index entry is not signed" in r.stderr
    out = result(fetch_run(built, url + "#unsigned", machine(built, "u2")))
    assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100


def test_entry_signed_by_an_untrusted_key_is_refused(built):
    url, _ = _file_store(built, "other-key")
    assert push(built, url, key="other").returncode == 0
    r = fetch_run(built, url, machine(built, "ok1"), trusted=("ci",))
    assert result(r)["from_image"] == []
    assert "signed by other, none of them trusted (ci)" in r.stderr
    # a key of the same name that is not the one that signed: a wrong signature
    from pkgimage.store import signing
    _, impostor = signing.generate("other")
    r = built.run(PROBE, PKGIMAGE_CACHE=machine(built, "ok2"), PKGIMAGE_REMOTE=url,
                  PKGIMAGE_TRUSTED_KEYS=impostor)
    assert result(r)["from_image"] == [] and "wrong signature for other" in r.stderr


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_unreachable_store_import_proceeds_within_the_timeout(built, kind):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    if kind == "silent":
        sock.listen(8)                 # accepts connections, never answers
    else:
        sock.close()
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1] if kind == 'silent' else 9}/s"
        t = time.monotonic()
        r = fetch_run(built, url, machine(built, f"down-{kind}"), PKGIMAGE_REMOTE_TIMEOUT="1")
        took = time.monotonic() - t
    finally:
        sock.close()
    out = result(r)
    assert out["total"] == PLAIN_TOTAL_100
    lines = [ln for ln in r.stderr.splitlines() if "unreachable" in ln]
    assert len(lines) == 1, r.stderr          # one line, then the store is skipped
    assert out["import_s"] < 1 + 6, out       # one timeout, not one per module and call


def test_store_dying_mid_upload_leaves_nothing_partial_visible(built, tmp_path, monkeypatch):
    """The WebDAV server is killed after the blobs went up and before the index entry: the
    publish fails; after a restart nothing of the image is visible, a reader compiles, and
    the next publish (which finds a truncated blob the dying server left) completes."""
    from storeservers import start_webdav
    from pkgimage.store import config
    from pkgimage.store.httpstore import HTTPStore
    from pkgimage.store.interface import StoreUnreachable
    from pkgimage.store.tiers import Tiers
    root = tmp_path / "davroot"
    srv = start_webdav(root)
    try:
        url = f"{srv.url}/team"
        monkeypatch.setenv("PKGIMAGE_CACHE", str(built.cache))
        monkeypatch.syspath_prepend(str(built.src))
        settings = config.Settings(signing_key=built.keys["ci"][0])
        tier = config.Tier(url, writable=True)
        original = HTTPStore.put_if_absent

        def dying(self, key, data):
            if key.startswith("index/"):
                srv.kill()
            return original(self, key, data)
        monkeypatch.setattr(HTTPStore, "put_if_absent", dying)
        with pytest.raises(StoreUnreachable):
            Tiers(settings, tiers=[tier], say=lambda m: None, record_stats=False).publish("app")
        monkeypatch.setattr(HTTPStore, "put_if_absent", original)
        # what a server dying during a blob's upload leaves: a truncated blob
        blobs = sorted((root / "team" / "blobs").iterdir())
        assert blobs
        blobs[0].write_bytes(blobs[0].read_bytes()[:100])
        srv.start()
        assert not (root / "team" / "index").exists() or \
            not any(p.is_file() for p in (root / "team" / "index").rglob("*"))
        out = result(fetch_run(built, url, machine(built, "after-death")))
        assert out["from_image"] == [] and out["total"] == PLAIN_TOTAL_100
        # the next publish replaces the truncated blob, and readers get the image
        pub = Tiers(settings, tiers=[tier], say=lambda m: None, record_stats=False)
        assert all(created for _, _, created in pub.publish("app"))
        out = result(fetch_run(built, url, machine(built, "after-repair")))
        assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100
    finally:
        srv.stop()


def test_three_tier_backfill(built, dav_server, moto_server, monkeypatch):
    """folder (rw) -> WebDAV (rw) -> S3 (read-only, has the image): the import fetches from
    S3 and copies into both faster tiers; the next machine then hits the folder."""
    from storeservers import make_bucket
    make_bucket(moto_server, "pkgimage-backfill")
    env = dict(moto_server.client_env)
    s3 = "s3://pkgimage-backfill/ci"
    assert push(built, s3, **env).returncode == 0
    folder_url, folder = _file_store(built, "tier1")
    dav = f"{dav_server.url}/tier2-{os.getpid()}"
    remote = f"{folder_url}#rw {dav}#rw {s3}"
    out = result(fetch_run(built, remote, machine(built, "bf1"), **env))
    assert out["from_image"] == ["app", "base"]
    from pkgimage.store.interface import open_store
    for url in (folder_url, dav):
        keys = open_store(url, timeout=5).list("index")
        assert sorted(k.split("/")[1] for k in keys) == ["app", "base"], (url, keys)
    out = result(fetch_run(built, folder_url, machine(built, "bf2")))
    assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100
    stats = json.loads(built.cli("stats", "--json",
                                 PKGIMAGE_CACHE=machine(built, "bf1")).stdout)["tiers"]
    assert stats[s3]["hits"] == 2 and stats[folder_url]["misses"] == 2
    assert stats[folder_url]["published"] == 2 and stats[dav]["published"] == 2


def test_pull_with_dependencies_and_explain(built):
    url, _ = _file_store(built, "pull")
    assert push(built, url).returncode == 0
    cache = machine(built, "puller")
    env = dict(PKGIMAGE_CACHE=cache, PKGIMAGE_TRUSTED_KEYS=built.keys["ci"][1])
    r = built.cli("pull", "app", "--store", url, **env)
    assert r.returncode == 0 and "pulled: base" in r.stdout and "pulled: app" in r.stdout
    assert "up to date: app" in built.cli("pull", "app", "--store", url, **env).stdout
    e = built.cli("explain", "app", "--store", url, **env)
    assert "local cache: reused" in e.stdout and "has this key" in e.stdout
    e = built.cli("explain", "app", "--store", url, **dict(env, PKGIMAGE_CACHE=machine(
        built, "explainer")))
    assert "local cache: not reused: no image" in e.stdout and "has this key" in e.stdout


def test_explain_names_the_part_of_the_key_that_differs(tmp_path):
    p = Project(tmp_path)
    p.write("base", BASE)
    p.build("base")
    url = f"file://{tmp_path}/store"
    assert p.cli("push", "base", "--store", url + "#unsigned").returncode == 0
    p.write("base", BASE + "\n# edited\n")
    e = p.cli("explain", "base", "--store", url)
    assert e.returncode == 0, e.stderr
    assert "local cache: not reused: source base.py changed" in e.stdout
    assert "key parts that differ: source_digest" in e.stdout
    assert "nearest differs in: source_digest" in e.stdout


def test_export_import_one_file_warms_an_offline_cache(built):
    f = built.root / "env.pkgenv"
    r = built.cli("export", str(f), "app", PKGIMAGE_SIGNING_KEY=built.keys["ci"][0])
    assert r.returncode == 0 and "exported 2 image(s) (signed)" in r.stdout, r.stderr
    cache = machine(built, "offline")
    r = built.cli("import", str(f), PKGIMAGE_CACHE=cache,
                  PKGIMAGE_TRUSTED_KEYS=built.keys["ci"][1])
    assert r.returncode == 0 and "imported 2 image(s)" in r.stdout, r.stdout + r.stderr
    out = result(built.run(PROBE, PKGIMAGE_CACHE=cache))       # no store at all
    assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100
    r = built.cli("import", str(f), PKGIMAGE_CACHE=machine(built, "untrusting"))
    assert r.returncode == 1 and "no key is trusted" in r.stderr


def test_gc_evicts_least_recently_used_images_to_the_size_limit(built, tmp_path):
    import shutil
    cache = tmp_path / "gc-cache"
    shutil.copytree(built.cache, cache)
    images = sorted(cache.glob("*.pkgi"))
    assert len(images) == 2
    sizes = {}
    for img in images:
        sizes[img.name] = sum(f.stat().st_size for f in cache.iterdir()
                              if f.name.startswith(img.name[:-len(".pkgi")]))
    # app used long ago, base just now
    old = time.time() - 86400
    for img in images:
        t = old if img.name.startswith("app-") else time.time()
        os.utime(img, (t, old))
    limit = max(sizes.values()) + 10
    r = built.cli("gc", "--max-size", str(limit), PKGIMAGE_CACHE=str(cache))
    assert r.returncode == 0, r.stderr
    left = sorted(f.name for f in cache.glob("*.pkgi"))
    assert len(left) == 1 and left[0].startswith("base-"), (left, r.stdout)
    assert not any(f.name.startswith("app-") for f in cache.iterdir())
    assert "removed 1 image(s)" in r.stdout
    bad = built.cli("gc", "--max-size", "lots", PKGIMAGE_CACHE=str(cache))
    assert bad.returncode == 2 and "cannot read 'lots' as a size" in bad.stderr


def test_import_records_last_use_and_a_configured_limit_applies_after_pull(built, tmp_path):
    import shutil
    cache = tmp_path / "touch-cache"
    shutil.copytree(built.cache, cache)
    app = next(cache.glob("app-*.pkgi"))
    os.utime(app, (1000000, app.stat().st_mtime))
    result(built.run(PROBE, PKGIMAGE_CACHE=str(cache)))
    assert app.stat().st_atime > time.time() - 600           # the load set it
    url, _ = _file_store(built, "autogc")
    assert push(built, url).returncode == 0
    small = tmp_path / "small-cache"
    r = built.cli("pull", "app", "--store", url, PKGIMAGE_CACHE=str(small),
                  PKGIMAGE_TRUSTED_KEYS=built.keys["ci"][1], PKGIMAGE_MAX_CACHE_SIZE="1")
    assert r.returncode == 0, r.stderr
    assert not list(small.glob("*.pkgi"))                     # evicted down to the limit


def test_configuration_from_pyproject_and_bad_configuration(built, tmp_path):
    url, _ = _file_store(built, "pyproject")
    assert push(built, url).returncode == 0
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text(
        "[tool.pkgimage]\n"
        f'remote = [{{url = "{url}"}}]\n'
        f'trusted-keys = ["{built.keys["ci"][1]}"]\n'
        "remote-timeout = 3\n")
    out = result(built.run(PROBE, cwd=proj, PKGIMAGE_CACHE=str(tmp_path / "c")))
    assert out["from_image"] == ["app", "base"]
    (proj / "pyproject.toml").write_text('[tool.pkgimage]\nremote = ["file:///x#fast"]\n')
    r = subprocess.run([sys.executable, "-m", "pkgimage", "pull", "app"],
                       env=built.env(PKGIMAGE_CACHE=str(tmp_path / "c2")),
                       capture_output=True, text=True, cwd=proj)
    assert r.returncode == 2
    assert "unknown tier option 'fast'" in r.stderr and "pyproject.toml" in r.stderr


def test_warm_path_touches_no_store_and_imports_no_backend(built):
    """A valid local image loads without asking any store (even an unreachable one) and
    without importing the store code or a backend library."""
    r = built.run(PROBE.replace("done({", 'done({"mods": sorted(m for m in sys.modules if '
                                "m.split('.')[0] in ('obstore', 'distributed', 'dask', "
                                "'cryptography', 'fsspec') or m.startswith('pkgimage.store')), "),
                  PKGIMAGE_REMOTE="http://127.0.0.1:9/never")
    out = result(r)
    assert out["from_image"] == ["app", "base"] and out["mods"] == [], out
    assert "unreachable" not in r.stderr


def test_size_limit_never_evicts_the_image_an_import_just_fetched(built):
    url, _ = _file_store(built, "limit-import")
    assert push(built, url).returncode == 0
    out = result(fetch_run(built, url, machine(built, "tiny"), PKGIMAGE_MAX_CACHE_SIZE="1"))
    assert out["total"] == PLAIN_TOTAL_100 and "app" in out["from_image"]

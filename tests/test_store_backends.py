"""The store interface on every backend, against real servers: get, head, put-if-absent,
list and delete behave the same on a folder, a WebDAV server and an S3-compatible server;
create-if-absent holds between processes; an unreachable store fails fast, as one line."""

import os
import socket
import subprocess
import sys
import time

import pytest

from storeservers import dav_server, moto_server, store_url  # noqa: F401  (fixtures)

from pkgimage.store.interface import StoreError, StoreUnreachable, open_store

KINDS = ["file", "http", "s3"]


@pytest.mark.parametrize("store_url", KINDS, indirect=True)
def test_get_head_put_if_absent_list_delete(store_url):
    s = open_store(store_url, timeout=5)
    assert s.get("blobs/aa") is None and s.head("blobs/aa") is None
    assert s.put_if_absent("blobs/aa", b"first") is True
    assert s.put_if_absent("blobs/aa", b"second") is False       # never overwritten
    assert s.get("blobs/aa") == b"first" and s.head("blobs/aa") == 5
    assert s.put_if_absent("index/m/k/b.json", b"{}") is True
    assert s.list() == ["blobs/aa", "index/m/k/b.json"]
    assert s.list("index/m") == ["index/m/k/b.json"]
    assert s.list("index/other") == []
    s.delete("blobs/aa")
    s.delete("blobs/aa")                                           # absent is fine
    assert s.get("blobs/aa") is None and s.list() == ["index/m/k/b.json"]


@pytest.mark.parametrize("store_url", KINDS, indirect=True)
def test_keys_cannot_leave_the_store(store_url):
    s = open_store(store_url, timeout=5)
    for bad in ("../x", "/abs", "a//b", "a/./b", ""):
        with pytest.raises(StoreError, match="invalid store key"):
            s.get(bad)


RACE = """
import sys, time
from pkgimage.store.interface import open_store
s = open_store(sys.argv[1], timeout=10)
start = float(sys.argv[2])
while time.time() < start:
    pass
print(s.put_if_absent("index/m/k/race.json", sys.argv[3].encode()))
"""


@pytest.mark.parametrize("store_url", ["file", "s3"], indirect=True)
def test_two_processes_creating_the_same_key_one_wins(store_url):
    """Create-if-absent across processes (a hard link on a folder; If-None-Match on S3)."""
    start = time.time() + 1.5
    procs = [subprocess.Popen([sys.executable, "-c", RACE, store_url, str(start), who],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ))
             for who in ("one", "two")]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outs) == ["False", "True"], outs
    winner = ("one", "two")[outs.index("True")]
    assert open_store(store_url).get("index/m/k/race.json") == winner.encode()


def test_unreachable_http_store_fails_fast_as_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]          # closed when the block ends: nobody listens
    s = open_store(f"http://127.0.0.1:{port}/store", timeout=1)
    t = time.monotonic()
    with pytest.raises(StoreUnreachable) as e:
        s.get("blobs/aa")
    assert time.monotonic() - t < 2 and "\n" not in str(e.value)


def test_a_store_that_accepts_but_never_answers_times_out():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)                        # connections complete, nothing is ever read
        s = open_store(f"http://127.0.0.1:{sock.getsockname()[1]}/store", timeout=0.5)
        t = time.monotonic()
        with pytest.raises(StoreUnreachable, match="no answer within 0.5s"):
            s.get("blobs/aa")
        assert time.monotonic() - t < 2


def test_unreachable_s3_store_fails_fast(monkeypatch):
    pytest.importorskip("obstore", reason="needs obstore (pip install 'pkgimage[store]')")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    s = open_store("s3://nobucket/x", timeout=1)
    t = time.monotonic()
    with pytest.raises(StoreUnreachable):
        s.get("blobs/aa")
    assert time.monotonic() - t < 3


def test_fsspec_fallback_store(tmp_path):
    pytest.importorskip("fsspec", reason="needs fsspec (pip install 'pkgimage[store]')")
    from pkgimage.store.objstore import FsspecStore
    s = FsspecStore(f"memory://{tmp_path.name}/store")
    assert s.put_if_absent("blobs/x", b"1") is True
    assert s.put_if_absent("blobs/x", b"2") is False
    assert s.get("blobs/x") == b"1" and s.head("blobs/x") == 1 and s.list() == ["blobs/x"]
    s.delete("blobs/x")
    assert s.get("blobs/x") is None

"""Real store servers for the store tests, each in its own process on a free localhost port:
an S3-compatible server (moto's server mode) and a WebDAV server (WsgiDAV on cheroot).
Each helper skips the test cleanly (with the reason) when its package is not installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return                      # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server for {url} did not start within {timeout}s")


class Server:
    def __init__(self, cmd, url, probe, env=None):
        self.cmd, self.url, self.probe, self.env = cmd, url, probe, env
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                     env=self.env)
        _wait_http(self.probe, self.proc)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_webdav(root):
    """A WsgiDAV server serving ``root`` read-write, anonymously: (Server, base URL)."""
    pytest.importorskip("wsgidav", reason="WebDAV tests need wsgidav (pip install "
                                          "'pkgimage[test]')")
    pytest.importorskip("cheroot", reason="WebDAV tests need cheroot")
    port = free_port()
    os.makedirs(root, exist_ok=True)
    code = ("import sys; from wsgidav.server.server_cli import run; "
            "sys.argv=['wsgidav','--host','127.0.0.1','--port',sys.argv[1],'--root',"
            "sys.argv[2],'--auth','anonymous','-q']; run()")
    srv = Server([sys.executable, "-c", code, str(port), str(root)],
                 f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/")
    return srv


def start_moto():
    """moto's S3-compatible server: (Server, environment for clients)."""
    pytest.importorskip("moto.server", reason="S3 tests need moto[server] (pip install "
                                              "'pkgimage[test]')")
    pytest.importorskip("obstore", reason="S3 tests need obstore (pip install "
                                          "'pkgimage[store]')")
    port = free_port()
    srv = Server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                 f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/")
    srv.client_env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                      "AWS_ENDPOINT_URL": srv.url, "AWS_ALLOW_HTTP": "true",
                      "AWS_REGION": "us-east-1"}
    return srv


def make_bucket(srv, name):
    req = urllib.request.Request(f"{srv.url}/{name}", method="PUT")
    urllib.request.urlopen(req, timeout=10).read()


@pytest.fixture(scope="session")
def dav_server(tmp_path_factory):
    srv = start_webdav(tmp_path_factory.mktemp("dav"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def moto_server():
    srv = start_moto()
    yield srv
    srv.stop()


_n = [0]


@pytest.fixture
def store_url(request, tmp_path, monkeypatch):
    """A fresh, empty store of each kind: ``file``, ``http`` (WebDAV) and ``s3`` (moto)."""
    _n[0] += 1
    kind = request.param
    if kind == "file":
        return f"file://{tmp_path}/store"
    if kind == "http":
        srv = request.getfixturevalue("dav_server")
        return f"{srv.url}/store{_n[0]}"
    srv = request.getfixturevalue("moto_server")
    bucket = f"pkgimage-test-{_n[0]}-{os.getpid()}"
    make_bucket(srv, bucket)
    for k, v in srv.client_env.items():
        monkeypatch.setenv(k, v)
    return f"s3://{bucket}/images"

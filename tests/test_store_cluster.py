"""Builds across machines that share only a store: a Dask cluster (a real ``LocalCluster``
with worker processes, and a scheduler with separately started workers, one of them a
mismatched machine), and ``--shard I/N`` jobs coordinating through the store."""

import json
import os
import subprocess
import sys
import time

import pytest

from imagetools import Project
from test_store_images import APP, BASE, PLAIN_TOTAL_100, PROBE

pytest.importorskip("distributed", reason="cluster builds need dask.distributed "
                                          "(pip install 'pkgimage[cluster]')")
pytest.importorskip("cryptography", reason="signed stores need cryptography")


@pytest.fixture
def proj(tmp_path):
    from pkgimage.store import signing
    p = Project(tmp_path)
    p.write("base", BASE)
    p.write("app", APP)
    secret, public = signing.generate("ci")
    signing.write_secret(str(tmp_path / "ci.key"), secret)
    p.store = f"file://{tmp_path}/store"
    p.signed = dict(PKGIMAGE_SIGNING_KEY=str(tmp_path / "ci.key"),
                    PKGIMAGE_TRUSTED_KEYS=public, PKGIMAGE_REMOTE=p.store + "#rw")
    return p


def published(p):
    root = p.root / "store" / "index"
    return sorted(d.name for d in root.iterdir()) if root.exists() else []


def probe(p, cache=None):
    r = p.run(PROBE, **({"PKGIMAGE_CACHE": cache} if cache else {}))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


LOCAL_CLUSTER = '''
import sys
from distributed import Client, LocalCluster
from pkgimage.tools.build import build
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, env={"PKGIMAGE_CACHE": sys.argv[1]}) as c, \\
            Client(c) as client:
        rc, jobs = build(["app"], executor=client, use_rich=False)
        print({j.name: j.status for j in jobs})
        sys.exit(rc)
'''


def test_local_cluster_builds_in_dependency_order_through_the_store(proj):
    workers_cache = proj.root / "workers-cache"
    script = proj.root / "cluster_build.py"
    script.write_text(LOCAL_CLUSTER)
    r = subprocess.run([sys.executable, str(script), str(workers_cache)],
                       env=proj.env(**proj.signed), capture_output=True, text=True,
                       timeout=600, cwd=proj.root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "{'base': 'built', 'app': 'built'}" in r.stdout
    lines = r.stdout.splitlines()
    # the same progress lines as a local -j build, base before app
    assert any(ln.startswith("[1/2] built base") for ln in lines), r.stdout
    assert any(ln.startswith("[2/2] built app") for ln in lines), r.stdout
    assert published(proj) == ["app", "base"]
    assert sorted(f.name.split("-")[0] for f in workers_cache.glob("*.pkgi")) == \
        ["app", "base"]
    out = probe(proj)                                    # the client's cache has them too
    assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100


def _start(cmd, env, log):
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _fake_cpu_cache(folder):
    """A cache folder whose recorded host CPU is another one: a worker using it has
    another key than the client (as a machine with another CPU would)."""
    from pkgimage.image import cache as C
    os.makedirs(folder, exist_ok=True)
    cpu, feats = "fake-cpu", "+fake"
    with open(os.path.join(folder, f"host-{C._cpuinfo_key()}.json"), "w") as f:
        json.dump({"cpu": cpu, "features": feats, "sha256": C._host_digest(cpu, feats)}, f)


def test_cli_executor_refuses_a_mismatched_worker_and_builds_on_the_others(proj):
    sched_file = proj.root / "scheduler.json"
    log = open(proj.root / "dask.log", "w")
    env = proj.env()
    procs = [_start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                     "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                     str(sched_file)], env, log)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        addr = json.loads(sched_file.read_text())["address"]
        _fake_cpu_cache(proj.root / "odd-cache")
        for name, cache in (("good", proj.root / "good-cache"),
                            ("odd", proj.root / "odd-cache")):
            procs.append(_start([sys.executable, "-m", "distributed.cli.dask_worker", addr,
                                 "--nthreads", "1", "--no-dashboard", "--name", name],
                                dict(env, PKGIMAGE_CACHE=str(cache)), log))
        from distributed import Client
        with Client(addr, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
        r = proj.cli("build", "--executor", f"dask://{addr[len('tcp://'):]}", "app",
                     **proj.signed)
        assert r.returncode == 0, r.stdout + r.stderr
        refused = [ln for ln in r.stderr.splitlines() if "refusing worker" in ln]
        assert len(refused) == 1 and "cpu fake-cpu" in refused[0], r.stderr
        assert not list((proj.root / "odd-cache").glob("*.pkgi"))   # got no task
        assert published(proj) == ["app", "base"]
        again = proj.cli("build", "--executor", f"dask://{addr}", "app", **proj.signed)
        assert again.returncode == 0 and "up to date" in again.stdout, again.stdout
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def test_executor_errors_are_one_line(proj):
    r = proj.cli("build", "--executor", "dask://127.0.0.1:9", "app", **proj.signed)
    assert r.returncode == 2 and "cannot reach the Dask scheduler" in r.stderr
    r = proj.cli("build", "--executor", "dask://127.0.0.1:9", "app")
    assert r.returncode == 2 and "needs a store the workers publish to" in r.stderr
    r = proj.cli("build", "--shard", "3/2", "app", **proj.signed)
    assert r.returncode == 2 and "I must be between 1 and N" in r.stderr


def test_two_shards_split_the_build_and_meet_through_the_store(proj):
    procs = []
    for i in (1, 2):
        cache = proj.root / f"shard{i}"
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "pkgimage", "build", "--shard", f"{i}/2", "app"],
            env=proj.env(PKGIMAGE_CACHE=str(cache), **proj.signed), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=proj.root))
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    one, two = outs[0][0], outs[1][0]
    assert "[shard 1/2] built base" in one and "[shard 1/2] fetched app" in one, one
    assert "[shard 2/2] built app" in two and "[shard 2/2] fetched base" in two, two
    for i in (1, 2):
        out = probe(proj, str(proj.root / f"shard{i}"))
        assert out["from_image"] == ["app", "base"] and out["total"] == PLAIN_TOTAL_100


def test_a_shard_builds_what_another_shard_never_published(proj):
    r = proj.cli("build", "--shard", "2/2", "--shard-timeout", "1", "app", **proj.signed)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "base did not come within 1s: building it here" in r.stdout
    assert "[shard 2/2] built app" in r.stdout and published(proj) == ["app", "base"]

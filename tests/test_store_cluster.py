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
    with open(os.path.join(folder, C.host_record_name()), "wb") as f:
        f.write(C.host_record_bytes(cpu, feats))


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


# -- the worker's build server: each module still in a process of its own --------------------

LEAKY = '''
__pkgimage__ = True
import os
import pkgimage as pk
from pkgimage import Int64

# State a build must not carry to the next module's build on the same worker.
pk._leaked_by = "leaky"
os.environ["LEAKED_BY"] = "leaky"
# (a module's globals go into its image: no open file may stay among them)
open(os.path.join(os.environ["PID_DIR"], "leaky"), "w").write(str(os.getpid()))

@pk.generic
def one(x: Int64):
    return x + 1
'''

CLEAN = '''
__pkgimage__ = True
import os
import pkgimage as pk
from pkgimage import Int64
import leaky

if hasattr(pk, "_leaked_by") or "LEAKED_BY" in os.environ:
    raise RuntimeError("state of leaky's build leaked into clean's")
open(os.path.join(os.environ["PID_DIR"], "clean"), "w").write(str(os.getpid()))

@pk.generic
def two(x: Int64):
    return leaky.one(x) + 1
'''

CRASHY = '''
__pkgimage__ = True
import os
import signal
import pkgimage as pk

if pk.generating_output():
    os.kill(os.getpid(), signal.SIGKILL)      # the build process dies mid-task
'''

AFTER = '''
__pkgimage__ = True
import pkgimage as pk
from pkgimage import Int64

@pk.generic
def three(x: Int64):
    return x + 3
'''

ONE_WORKER = '''
import json
import sys
from distributed import Client, LocalCluster
from pkgimage.tools.build import build
if __name__ == "__main__":
    out = {}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None, env={"PKGIMAGE_CACHE": sys.argv[1]}) as c, \\
            Client(c) as client:
        for modules in (["clean", "crashy"], ["after"]):
            rc, jobs = build(modules, executor=client, use_rich=False, quiet=True)
            out.update({j.name: [j.status, j.reason, j.process] for j in jobs})
        pids = client.run(lambda: __import__("pkgimage.tools.cluster", fromlist=["x"])
                          .BuildServer._servers and
                          [s.proc.pid for s in __import__("pkgimage.tools.cluster",
                           fromlist=["x"]).BuildServer._servers.values()])
    print(json.dumps({"jobs": out, "servers": list(pids.values())[0]}))
'''


def test_forked_builds_on_one_worker_are_isolated_and_a_crash_names_its_module(proj):
    """One worker builds every module: each in its own child of the worker's build server
    (so leaky's module state, environment and process are not clean's), a child killed
    mid-build is reported with its module's name, and the server serves the next build."""
    for name, text in (("leaky", LEAKY), ("clean", CLEAN), ("crashy", CRASHY),
                       ("after", AFTER)):
        proj.write(name, text)
    pid_dir = proj.root / "pids"
    pid_dir.mkdir()
    script = proj.root / "one_worker.py"
    script.write_text(ONE_WORKER)
    r = subprocess.run([sys.executable, str(script), str(proj.root / "workers-cache")],
                       env=proj.env(PID_DIR=str(pid_dir), **proj.signed), capture_output=True,
                       text=True, timeout=600, cwd=proj.root)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    jobs = out["jobs"]
    for name in ("leaky", "clean", "after"):
        assert jobs[name][0] == "built" and jobs[name][2] == "fork", (name, jobs)
    status, reason, how = jobs["crashy"]
    assert status == "failed" and how == "fork", jobs
    assert "build process of crashy died from signal SIGKILL" in reason, reason
    pids = {n: int((pid_dir / n).read_text()) for n in ("leaky", "clean")}
    assert pids["leaky"] != pids["clean"]                # a process per module
    assert len(out["servers"]) == 1 and out["servers"][0] not in pids.values()
    assert published(proj) == ["after", "base", "clean", "leaky"] or \
        set(published(proj)) >= {"after", "clean", "leaky"}


OWN_CACHE_CLUSTER = LOCAL_CLUSTER.replace(
    'env={"PKGIMAGE_CACHE": sys.argv[1]}', 'env={"PKGIMAGE_CACHE": ""}')


def test_a_cluster_built_image_is_the_image_a_local_build_makes(proj):
    """What the build server preloads changes nothing in what is built, nor does a worker
    whose cache folder is its own empty one (the CPU record is there before the task looks
    the store up): the image and shared library a worker makes are byte for byte the ones
    ``pkgimage build`` writes locally."""
    script = proj.root / "cluster_build.py"
    script.write_text(OWN_CACHE_CLUSTER)
    r = subprocess.run([sys.executable, str(script), "-"],
                       env=proj.env(XDG_CACHE_HOME=str(proj.root / "xdg"), **proj.signed),
                       capture_output=True, text=True, timeout=600, cwd=proj.root)
    assert r.returncode == 0, r.stdout + r.stderr
    local = proj.root / "local-cache"
    proj.build("app", PKGIMAGE_CACHE=str(local))
    for name in ("base", "app"):
        mine = sorted(local.glob(f"{name}-*.pkgi")) + sorted(local.glob(f"{name}-*.so"))
        assert len(mine) == 2, mine
        for f in mine:
            theirs = proj.cache / f.name                     # fetched by the client
            assert theirs.exists() and theirs.read_bytes() == f.read_bytes(), f.name


def test_publishing_a_just_built_image_does_not_walk_its_dependencies_again(proj,
                                                                           monkeypatch):
    """A cluster task publishes the image it has just written: the freshness check (a walk
    of the dependency graph, once per path) is skipped; other publishers still check."""
    proj.build("app")
    monkeypatch.setenv("PKGIMAGE_CACHE", str(proj.cache))
    monkeypatch.setenv("PKGIMAGE_SIGNING_KEY", proj.signed["PKGIMAGE_SIGNING_KEY"])
    monkeypatch.setenv("PKGIMAGE_REMOTE", proj.signed["PKGIMAGE_REMOTE"])
    monkeypatch.syspath_prepend(str(proj.src))
    import pkgimage.image.lock as lock
    from pkgimage.store.tiers import Tiers
    walked = []
    real = lock.stale_reason
    monkeypatch.setattr(lock, "stale_reason", lambda *a: walked.append(a[0]) or real(*a))
    out = Tiers().publish("app", with_deps=False, just_built=True)
    assert [(m, c) for m, _, c in out] == [("app", True)] and walked == []
    Tiers().publish("base", with_deps=False)
    assert walked[:1] == ["base"]

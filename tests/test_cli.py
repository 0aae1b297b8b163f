"""The command line (issue 6): parallel builds, build locks, verify, show, tree,
invalidations, snoop, clean, bad input.  Every command runs in a subprocess with a tmp_path
cache and small modules written to tmp_path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 180

BASE = """\
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.generic
    def sq(x: Float64):
        return x * x

    pk.precompile(sq, (Float64,))
    """

MID = """\
    import pkgimage as pk
    from pkgimage import Float64
    import basepkg
    __pkgimage__ = True

    @pk.generic
    def quad(x: Float64):
        return basepkg.sq(basepkg.sq(x))

    @pk.precompilation(__name__)
    def _workload():
        quad(2.0)
    """

TOP = """\
    import pkgimage as pk
    import midpkg
    __pkgimage__ = True

    @pk.generic
    def top(x):
        return midpkg.quad(x) + 1.0

    pk.precompile(top, (pk.Float64,))
    """

# apkg: f calls g(::Real); bpkg adds g(::Float64) (invalidates apkg's f(::Float64)) and has a
# global whose order depends on the hash seed (not reproducible).
APKG = """\
    import pkgimage as pk
    from pkgimage import Real
    __pkgimage__ = True

    @pk.generic
    def g(x: Real):
        return x + 1.0

    @pk.generic
    def f(x: Real):
        return g(x) * 2.0

    @pk.precompilation(__name__)
    def _w():
        f(1.0)
    """

BPKG = """\
    import pkgimage as pk
    from pkgimage import Float64
    import apkg
    __pkgimage__ = True

    @apkg.g.method
    def _(x: Float64):
        return x - 1.0

    ORDER = list({"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"})
    """


class Proj:
    def __init__(self, root):
        self.root = root
        self.src = root / "src"
        self.cache = root / "cache"
        self.src.mkdir(exist_ok=True)

    def write(self, name, text):
        p = self.src / f"{name}.py"
        p.write_text(textwrap.dedent(text))
        return p

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PKGIMAGE_")}
        env.update(PKGIMAGE_CACHE=str(self.cache), PYTHONPATH=str(self.src),
                   PKGIMAGE_AUTO="0", PYTHONDONTWRITEBYTECODE="1")
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def cli(self, *args, check=None, **env):
        r = subprocess.run([sys.executable, "-m", "pkgimage", *args], env=self.env(**env),
                           capture_output=True, text=True, timeout=TIMEOUT, cwd=self.root)
        if check is not None:
            assert r.returncode == check, f"{args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def popen(self, *args, **env):
        return subprocess.Popen([sys.executable, "-m", "pkgimage", *args], env=self.env(**env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=self.root)

    def py(self, code, **env):
        r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=self.env(**env),
                           capture_output=True, text=True, timeout=TIMEOUT, cwd=self.root)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    def images(self):
        return sorted(p.name for p in self.cache.iterdir() if p.name.endswith(".pkgi")) \
            if self.cache.exists() else []


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """basepkg <- midpkg <- toppkg, built once by `pkgimage build toppkg -j 2`."""
    p = Proj(tmp_path_factory.mktemp("chain"))
    p.write("basepkg", BASE)
    p.write("midpkg", MID)
    p.write("toppkg", TOP)
    p.first = p.cli("build", "toppkg", "-j", "2", check=0)
    return p


def _status(out):
    """{module: status} from the plain summary table."""
    rows = {}
    lines = out.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.split()[:2] == ["module", "status"])
    for ln in lines[i + 1:]:
        parts = ln.split()
        if parts:
            rows[parts[0]] = " ".join(parts[1:4]) if parts[1:3] == ["up", "to"] else parts[1]
    return rows


# -- build --------------------------------------------------------------------------------------

def test_build_builds_dependencies_first_in_order(chain):
    out = chain.first.stdout
    assert _status(out) == {"basepkg": "built", "midpkg": "built", "toppkg": "built"}
    lines = out.splitlines()
    pos = {ln.split()[2]: i for i, ln in enumerate(lines) if ln.split()[1:2] == ["built"]}
    start = {ln.split()[2]: i for i, ln in enumerate(lines) if ln.split()[1:2] == ["building"]}
    assert pos["basepkg"] < start["midpkg"] and pos["midpkg"] < start["toppkg"]
    assert len(chain.images()) == 3
    # the summary has time, size and instance columns
    assert "instances" in out and "KB" in out


def test_build_skips_up_to_date_and_force_rebuilds(chain):
    r = chain.cli("build", "toppkg", check=0)
    assert set(_status(r.stdout).values()) == {"up to date"}
    r = chain.cli("build", "midpkg", "--force", check=0)
    assert _status(r.stdout) == {"basepkg": "built", "midpkg": "built"}


def test_build_rebuilds_dependents_of_a_changed_module(tmp_path):
    p = Proj(tmp_path)
    p.write("basepkg", BASE)
    p.write("midpkg", MID)
    p.cli("build", "midpkg", check=0)
    p.write("basepkg", BASE.replace("return x * x", "return x * x + 0.0"))
    r = p.cli("build", "midpkg", check=0)
    assert _status(r.stdout) == {"basepkg": "built", "midpkg": "built"}
    assert "building basepkg (source basepkg.py changed)" in r.stdout
    assert "building midpkg (dependency basepkg was rebuilt)" in r.stdout


def test_build_runs_independent_modules_in_parallel(tmp_path):
    """With ``-j 3`` the three workloads run at the same time: each records when it ran,
    and the spans overlap (compared as spans, not as a wall-clock budget, which a loaded
    machine breaks)."""
    p = Proj(tmp_path)
    slow = """\
        import os, time
        import pkgimage as pk
        __pkgimage__ = True

        @pk.generic
        def f(x: pk.Int64):
            return x + 1

        @pk.precompilation(__name__)
        def _w():
            t0 = time.time()
            time.sleep(1.5)
            f(1)
            with open(os.path.join(SPANS, __name__), "w") as fh:
                fh.write(f"{t0} {time.time()}")
        """
    spans = tmp_path / "spans"
    spans.mkdir()
    for m in ("s1", "s2", "s3"):
        p.write(m, slow.replace("SPANS", repr(str(spans))))
    r = p.cli("build", "s1", "s2", "s3", "-j", "3", check=0)
    assert _status(r.stdout) == {"s1": "built", "s2": "built", "s3": "built"}
    got = sorted(tuple(map(float, (spans / m).read_text().split())) for m in ("s1", "s2", "s3"))
    # serially each would start after the one before ended
    assert any(later[0] < earlier[1] for earlier, later in zip(got, got[1:])), got


def test_build_failure_blocks_dependents_and_is_one_clear_message(tmp_path):
    p = Proj(tmp_path)
    p.write("basepkg", BASE.replace("pk.precompile", "raise RuntimeError('boom at import')\n"
                                                    "    pk.precompile"))
    p.write("midpkg", MID)
    r = p.cli("build", "midpkg", check=1)
    assert _status(r.stdout) == {"basepkg": "failed", "midpkg": "blocked"}
    assert "RuntimeError: boom at import" in r.stderr
    assert "Traceback" not in r.stderr
    assert "basepkg.py" in r.stderr                 # where it happened
    r = p.cli("--debug", "build", "-q", "midpkg", check=1)
    assert "Traceback" in r.stderr


@pytest.mark.parametrize("args,msg", [
    (("build", "no_such_module"), "no module named 'no_such_module'"),
    (("build", "plainmod"), "plainmod"),
    (("show", "no_such_module"), "no module named 'no_such_module'"),
    (("tree", "basepkg.nothing_here"), "basepkg has no generic function 'nothing_here'"),
    (("invalidations", "missing_script.py"), "script missing_script.py not found"),
    (("snoop", "missing_script.py"), "script missing_script.py not found"),
    (("verify", "no_such_module"), "no module named 'no_such_module'"),
])
def test_bad_input_is_one_line(tmp_path, args, msg):
    p = Proj(tmp_path)
    p.write("basepkg", BASE)
    p.write("plainmod", "x = 1\n")
    r = p.cli(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert msg in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_unwritable_cache_is_one_line(tmp_path):
    p = Proj(tmp_path)
    p.write("basepkg", BASE)
    blocker = tmp_path / "afile"
    blocker.write_text("")
    r = p.cli("build", "basepkg", PKGIMAGE_CACHE=str(blocker / "cache"))
    assert r.returncode == 2 and "cache folder" in r.stderr and "Traceback" not in r.stderr


# -- the build lock -----------------------------------------------------------------------------

SLOW = """\
    import os, time
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    def _count():
        with open(os.environ["COUNT_FILE"], "a") as fh:
            fh.write("built\\n")
    _count()

    @pk.generic
    def h(x: Float64):
        return x + 1.0

    @pk.precompilation(__name__)
    def _w():
        time.sleep(1.0)
        h(1.0)
    """


def test_concurrent_builds_of_one_image_build_it_once(tmp_path):
    p = Proj(tmp_path)
    p.write("slowpkg", SLOW)
    count = tmp_path / "count"
    procs = [p.popen("build", "--in-process", "slowpkg", COUNT_FILE=count) for _ in range(3)]
    outs = [pr.communicate(timeout=TIMEOUT) for pr in procs]
    assert all(pr.returncode == 0 for pr in procs), outs
    assert count.read_text().splitlines() == ["built"]
    assert sum("waiting for process" in err for _, err in outs) >= 1
    out = p.py("import slowpkg, pkgimage.image.loader as L; print(L.STATS['loaded_instances'])",
               COUNT_FILE=count)
    assert int(out) >= 1


def test_lock_of_a_dead_process_is_taken_over_at_once(tmp_path):
    p = Proj(tmp_path)
    p.write("slowpkg", SLOW)
    count = tmp_path / "count"
    # The lock holder dies, but a child it forked keeps the locked descriptor open (what a
    # workload's leftover process would do): the flock stays held, its owner is dead.
    p.py("""
        import os, time
        from pkgimage.image.lock import BuildLock, image_of
        lk = BuildLock(image_of("slowpkg")[1])
        assert lk.try_acquire()
        pid = os.fork()
        if pid == 0:
            null = os.open(os.devnull, os.O_RDWR)   # let the parent's output pipes close
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            time.sleep(30)
            os._exit(0)
        open("orphan.pid", "w").write(str(pid))
        os._exit(0)
        """)
    orphan = int((tmp_path / "orphan.pid").read_text())
    t = time.monotonic()
    r = p.cli("build", "--in-process", "slowpkg", COUNT_FILE=count, check=0)
    assert time.monotonic() - t < 15
    assert "waiting" not in r.stderr
    assert count.read_text().splitlines() == ["built"]
    pidfile = next(p.cache.glob("*.lock.pid"), None)
    assert pidfile is None                       # released after the build
    try:
        os.kill(orphan, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- verify -------------------------------------------------------------------------------------

def test_verify_passes_and_reports_json(chain):
    r = chain.cli("verify", "midpkg", "--json", check=0)
    rep = json.loads(r.stdout)
    assert rep["ok"] and rep["reproducible"] and rep["differences"] == []
    assert rep["built"] == ["basepkg", "midpkg"]
    assert [w["name"] for w in rep["replay"]["workloads"]] == ["_workload"]
    assert rep["replay"]["compiled"] == [] and rep["replay"]["loaded_instances"] >= 3
    assert {b["PYTHONHASHSEED"] for b in rep["builds"]} == {"1", "2"}
    r = chain.cli("verify", "midpkg", check=0)
    assert r.stdout.strip().endswith("OK") and "reproducible" in r.stdout


def test_verify_names_the_difference_and_the_invalidation(tmp_path):
    p = Proj(tmp_path)
    p.write("apkg", APKG)
    p.write("bpkg", BPKG)
    r = p.cli("verify", "apkg", "bpkg", "--json", check=1)
    rep = json.loads(r.stdout)
    assert not rep["ok"] and rep["reproducible"] is False
    (d,) = rep["differences"]
    assert d["file"].startswith("bpkg-") and d["section"] == "module"
    assert "ORDER" in d["detail"]
    why = {c["instance"]: c["why"] for c in rep["replay"]["compiled"]}
    assert why["MethodInstance for f(::Float64)"].startswith("invalidated by g(x::Float64) in bpkg")
    assert why["MethodInstance for g(::Float64)"].startswith("missing")
    r = p.cli("verify", "apkg", "bpkg", check=1)
    assert "section module" in r.stdout and "FAILED" in r.stdout


# -- show, tree, invalidations, snoop, clean ------------------------------------------------------

def test_show(chain):
    r = chain.cli("show", "midpkg", check=0)
    out = r.stdout
    assert "midpkg-" in out and ".pkgi" in out
    assert "depends on  basepkg" in out and "status      up to date" in out
    assert "cached instances by function" in out
    assert "quad(::Float64)" in out and "module image" in out
    rep = json.loads(chain.cli("show", "midpkg", "--json", check=0).stdout)
    assert set(rep["deps"]) == {"basepkg"} and rep["counts"]["instances"] >= 1
    assert rep["loaded_from_image"] is True
    assert any(f["function"] == "midpkg.quad" for f in rep["functions"])


def test_tree(chain):
    r = chain.cli("tree", "basepkg.sq", "-c", "import midpkg; midpkg.quad(3.0)", check=0)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("MethodInstance for sq(::Float64)")
    assert "cached in" not in lines[0] and "module image" in lines[0]
    assert any("quad(::Float64)" in ln and ln.lstrip().startswith("└─") for ln in lines)


def test_invalidations(tmp_path):
    p = Proj(tmp_path)
    p.write("apkg", APKG)
    p.write("bpkg", BPKG)
    p.cli("build", "-q", "apkg", check=0)
    script = tmp_path / "script.py"
    script.write_text("import apkg\nprint(apkg.f(1.0))\nimport bpkg\nprint(apkg.f(1.0))\n")
    r = p.cli("invalidations", str(script), check=0)
    out = r.stdout
    assert out.splitlines()[:2] == ["4.0", "0.0"]
    assert "inserting g(x::Float64) in bpkg" in out
    assert "MethodInstance for f(::Float64)  [cached in image apkg]" in out


def test_snoop_writes_a_workload_and_builds_from_it(tmp_path):
    p = Proj(tmp_path)
    p.write("apkg", APKG.replace("f(1.0)", "pass"))
    p.write("bpkg", BPKG.replace("ORDER = list(", "ORDER = sorted("))
    p.cli("build", "-q", "bpkg", check=0)
    script = tmp_path / "script.py"
    script.write_text("import apkg, bpkg\nprint(apkg.f(1.0))\nprint(apkg.f(2))\n")
    out_file = tmp_path / "snooped.py"
    r = p.cli("snoop", str(script), "-o", str(out_file), check=0)
    text = out_file.read_text()
    # f(::Float64) now calls bpkg's g: only bpkg's image can keep it
    assert "@pk.precompilation('bpkg')" in text
    assert "pk.precompile(apkg.f, (pk.Float64,))" in text
    assert "pk.precompile(apkg.f, (pk.Int64,))" in text
    compile(text, str(out_file), "exec")
    r = p.cli("snoop", str(script), "--build", check=0)
    assert (p.src / "bpkg_snooped.py").exists()
    assert "built" in r.stdout
    probe = """
        import sys, apkg, bpkg
        apkg.f(1.0); apkg.f(2)
        pipe = sys.modules.get("pkgimage.compiler.pipeline")
        print(pipe.STATS["compiled"] if pipe else 0)
        """
    assert p.py(probe).strip() == "0"


def test_clean(chain, tmp_path):
    p = Proj(tmp_path)
    p.write("basepkg", BASE)
    p.write("midpkg", MID)
    p.cli("build", "-q", "midpkg", check=0)
    r = p.cli("clean", "midpkg", check=0)
    assert "removed" in r.stdout
    assert [n for n in p.images()] == [n for n in p.images() if n.startswith("basepkg-")]
    assert len(p.images()) == 1
    p.cli("clean", check=0)
    assert p.images() == []


LEAVES_RUNNING = """\
    import subprocess, sys, threading, time
    import pkgimage as pk
    from pkgimage import Int64
    __pkgimage__ = True

    @pk.generic
    def twice(x: Int64):
        return 2 * x

    @pk.precompilation(__name__)
    def _workload():
        threading.Thread(target=time.sleep, args=(3600,)).start()        # non-daemon
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        assert twice(21) == 42
    """


def test_verify_replay_does_not_wait_for_what_workloads_leave_running(tmp_path):
    """The replay runs the workloads again in a fresh process: a thread and a child process
    they leave behind (seed 002's leaves_tasks) must neither hang verify nor outlive it."""
    p = Proj(tmp_path)
    p.write("leaver", LEAVES_RUNNING)
    t = time.monotonic()
    r = p.cli("verify", "leaver", "--json", check=0)
    assert time.monotonic() - t < 60
    rep = json.loads(r.stdout)
    assert rep["ok"] and rep["replay"]["compiled"] == []
    left = subprocess.run(["pgrep", "-f", "import time; time.sleep(3600)"],
                          capture_output=True, text=True).stdout.split()
    for pid in left:            # (only ours could match; clean up before failing)
        os.kill(int(pid), signal.SIGKILL)
    assert left == []

"""Post-close workloads in the sandbox (issue 5): when workloads run, where they may live, what
their code becomes, and every way they can fail -- each build in a fresh process with its own
cache folder (and its own TMPDIR, so leftover temporary files are seen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 120

PRELUDE = textwrap.dedent("""\
    import json, sys
    def compiled():
        return "pkgimage.compiler.inference" in sys.modules
    def stats():
        L = sys.modules.get("pkgimage.image.loader")
        return dict(L.STATS) if L else {"loaded_instances": 0, "discarded_instances": 0}
    def done(out):
        print(json.dumps(out, default=repr))
    """)


class Proj:
    """A source folder on PYTHONPATH, a cache folder and a TMPDIR, all under ``tmp_path``."""

    def __init__(self, tmp_path):
        self.src = tmp_path / "src"
        self.cache = tmp_path / "cache"
        self.tmp = tmp_path / "tmp"
        self.root = tmp_path
        for d in (self.src, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    def write(self, rel, text):
        path = self.src / (rel if "." in os.path.basename(rel) else rel + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PKGIMAGE_")}
        env.update(PKGIMAGE_CACHE=str(self.cache), PYTHONPATH=str(self.src), PKGIMAGE_AUTO="0",
                   PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(self.tmp))
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def build(self, *args, check=True, **env):
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "pkgimage", "build", *args],
                           env=self.env(**env), capture_output=True, text=True,
                           timeout=TIMEOUT, cwd=self.root)
        r.seconds = time.monotonic() - t0
        if check:
            assert r.returncode == 0, f"build {args} failed:\n{r.stdout}\n{r.stderr}"
        return r

    def run_json(self, script, **env):
        r = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
                           env=self.env(**env), capture_output=True, text=True,
                           timeout=TIMEOUT, cwd=self.root)
        assert r.returncode == 0, f"script failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        return json.loads(r.stdout.strip().splitlines()[-1])

    def images(self):
        return sorted(p.name for p in self.cache.glob("*.pkgi")) if self.cache.exists() else []

    def assert_nothing_written(self):
        """No image, no shared library, no temporary file: in the cache nor in TMPDIR."""
        cache = sorted(p.name for p in self.cache.iterdir()) if self.cache.exists() else []
        assert [n for n in cache if n.endswith((".pkgi", ".so", ".code")) or ".tmp" in n] \
            == [], cache
        assert sorted(p.name for p in self.tmp.iterdir()) == []


def _gone_or_zombie(pid, wait=5.0):
    """True when ``pid`` has been killed: no such process, or a zombie waiting for init (the
    sandbox that spawned it is dead, so it was reparented to pid 1, which reaps it whenever it
    gets to it)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# -- a module whose workload leaves a trace --------------------------------------------------

MARKED = """\
    import os
    import pkgimage as pk
    from pkgimage import Int64, Float64
    __pkgimage__ = True

    INITS = 0

    def __init__():
        global INITS
        INITS += 1

    def _mark(what):
        with open(os.environ["MARKER"], "a") as f:
            f.write(what + "\\n")

    @pk.generic
    def poly(x: Int64):
        return 3 * x * x + 2 * x + 1

    @pk.generic
    def poly(x: Float64):
        return 3.0 * x * x + 2.0 * x + 1.0

    @pk.generic
    def sumpoly(n: Int64):
        s = 0
        for i in range(n):
            s += poly(i)
        return s

    @pk.precompilation(__name__)
    def _workload():
        _mark(f"workload inits={INITS}")
        assert sumpoly(10) == sum(3 * i * i + 2 * i + 1 for i in range(10))
        assert poly(0.5) == 2.75
    """


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    p = Proj(tmp_path_factory.mktemp("marked"))
    p.write("marked", MARKED)
    marker = p.root / "marker.txt"
    # A normal import from source (no image yet) does not run the workload.
    out = p.run_json("import marked\ndone({'inits': marked.INITS})", MARKER=marker)
    assert out["inits"] == 1
    assert not marker.exists()
    p.build("marked", MARKER=marker)
    return p, marker


def test_workload_runs_only_at_build_after_init(marked):
    p, marker = marked
    assert marker.read_text().splitlines() == ["workload inits=1"]   # once, __init__ first
    out = p.run_json("import marked\ndone({'inits': marked.INITS, 'stats': stats()})",
                     MARKER=marker)
    assert out["stats"]["loaded_instances"] > 0          # it came from the image ...
    assert out["inits"] == 1                             # ... __init__ ran at load ...
    assert marker.read_text().splitlines() == ["workload inits=1"]   # ... the workload did not


def test_workload_instances_are_in_the_image_and_used_without_compiling(marked):
    p, marker = marked
    out = p.run_json("""\
        import marked
        import pkgimage as pk
        before = stats()
        r = [marked.sumpoly(10), marked.poly(0.5)]      # what the workload called
        done({"stats": before, "r": r, "compiled": compiled(),
              "from": sorted((repr(mi), getattr(mi.cache, "image", None))
                             for f in (marked.poly, marked.sumpoly)
                             for mi in pk.methodinstances(f))})
        """, MARKER=marker)
    assert out["r"] == [sum(3 * i * i + 2 * i + 1 for i in range(10)), 2.75]
    assert out["compiled"] is False
    assert out["stats"]["discarded_instances"] == 0
    # nothing was compiled at the close: sumpoly(Int64), poly(Float64) and the poly(Int64)
    # that sumpoly calls all come from the workload, through the image
    assert [img for _, img in out["from"]] == ["marked"] * 3, out["from"]
    assert out["stats"]["loaded_instances"] >= 3


def test_workloads_listed_in_pyproject(tmp_path):
    p = Proj(tmp_path)
    p.write("pp/__init__.py", """\
        import pkgimage as pk
        from pkgimage import Float64
        __pkgimage__ = True

        @pk.generic
        def h(x: Float64):
            return x * x - 1.0
        """)
    p.write("pyproject.toml", """\
        [project]
        name = "pp"
        version = "0"

        [tool.pkgimage]
        workloads = ["warmup/pp_warmup.py"]
        """)
    p.write("warmup/pp_warmup.py", """\
        import os
        import pkgimage as pk
        import pp

        @pk.precompilation(pp)
        def _warm():
            open(os.environ["MARKER"], "a").write("warm\\n")
            assert pp.h(3.0) == 8.0
        """)
    marker = tmp_path / "marker.txt"
    p.run_json("import pp\ndone({})", MARKER=marker)
    assert not marker.exists()                  # not at a normal import
    p.build("pp", MARKER=marker)
    assert marker.read_text() == "warm\n"       # at the build
    out = p.run_json("import pp\nv = pp.h(3.0)\n"
                     "done({'v': v, 'stats': stats(), 'compiled': compiled()})", MARKER=marker)
    assert out["v"] == 8.0 and out["compiled"] is False
    assert out["stats"]["loaded_instances"] >= 1
    assert marker.read_text() == "warm\n"       # not at the load


# -- faults ------------------------------------------------------------------------------------

FAULTY = """\
    import os, sys, time, ctypes
    import pkgimage as pk
    from pkgimage import Int64
    __pkgimage__ = True

    @pk.generic
    def good(x: Int64):
        return x + 1

    @pk.generic
    def bad(x: Int64):
        return x * 7

    @pk.precompilation(__name__)
    def _good_workload():
        assert good(1) == 2

    def _explode(n):
        raise ValueError(f"boom-{{n}}")

    @pk.precompilation(__name__)
    def _bad_workload():
        bad(6)
        print("about to fail", flush=True)
        {fault}
    """

FAULTS = {
    "raises": ("_explode(42)", None),
    "segfault": ("ctypes.string_at(0)", "killed by signal SIGSEGV"),
    "os._exit": ("os._exit(3)", "exited with status 3"),
    "killed": ("os.kill(os.getpid(), 9)", "killed by signal SIGKILL"),
}


@pytest.mark.parametrize("mode", ["fork", "inprocess"])
def test_raising_workload_fails_the_build_with_its_traceback(tmp_path, mode):
    p = Proj(tmp_path)
    p.write("faulty", FAULTY.format(fault="_explode(42)"))
    r = p.build("faulty", check=False, PKGIMAGE_SANDBOX=mode)
    assert r.returncode != 0
    err = r.stderr
    assert "workload _bad_workload of faulty raised" in err, err
    assert "ValueError: boom-42" in err and "faulty.py" in err and "_explode" in err, err
    p.assert_nothing_written()
    # the build process itself (what `pkgimage build` runs per module) gives the whole
    # traceback, through the workload's frames
    r = p.build("--in-process", "faulty", check=False, PKGIMAGE_SANDBOX=mode)
    assert r.returncode != 0
    tb = r.stderr[r.stderr.index("Traceback"):]
    assert tb.index("in _bad_workload") < tb.index("in _explode") < tb.index("boom-42"), tb
    p.assert_nothing_written()


@pytest.mark.parametrize("mode", ["fork", "inprocess"])
def test_allow_workload_errors_keeps_the_image_without_the_failed_code(tmp_path, mode):
    p = Proj(tmp_path)
    p.write("faulty", FAULTY.format(fault="_explode(42)"))
    r = p.build("--allow-workload-errors", "faulty", PKGIMAGE_SANDBOX=mode)
    # it says so (the build process names the workload and why; the driver flags the module)
    assert "workload errors" in r.stdout or "without its code" in r.stderr, r.stdout + r.stderr
    r = p.build("--in-process", "--allow-workload-errors", "faulty", PKGIMAGE_SANDBOX=mode)
    assert "workload _bad_workload of faulty failed" in r.stderr, r.stderr
    assert "without its code" in r.stderr and "ValueError: boom-42" in r.stderr
    assert len(p.images()) == 1
    out = p.run_json("""\
        import faulty
        g = faulty.good(5)
        after_good = compiled()
        b = faulty.bad(6)
        done({"g": g, "b": b, "after_good": after_good, "after_bad": compiled(),
              "stats": stats()})
        """)
    assert out["g"] == 6 and out["b"] == 42
    assert out["after_good"] is False       # the good workload's code is in the image
    assert out["after_bad"] is True         # the failed one's was left out: compiled now
    assert out["stats"]["discarded_instances"] == 0


@pytest.mark.parametrize("fault", ["segfault", "os._exit", "killed"])
def test_a_child_that_dies_is_reported_with_its_status(tmp_path, fault):
    p = Proj(tmp_path)
    code, expect = FAULTS[fault]
    p.write("faulty", FAULTY.format(fault=code))
    r = p.build("faulty", check=False)
    assert r.returncode != 0
    assert "the sandbox running the workloads of faulty died" in r.stderr, r.stderr
    assert expect in r.stderr, r.stderr
    assert "about to fail" in r.stderr          # the workloads' last output is shown
    assert "Traceback" not in r.stderr          # a report, not a crash of the parent
    p.assert_nothing_written()


def test_a_hanging_workload_is_killed_at_its_time_limit(tmp_path):
    p = Proj(tmp_path)
    p.write("hangs", """\
        import threading, time
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True

        @pk.generic
        def f(x: Int64):
            return x

        @pk.precompilation(__name__)
        def _w():
            f(1)
            print("hanging now", flush=True)
            threading.Thread(target=time.sleep, args=(1000,)).start()
            while True:
                time.sleep(0.1)
        """)
    r = p.build("--workload-timeout", "2", "hangs", check=False)
    assert r.returncode != 0
    assert "ran past their time limit (2 s) and were killed" in r.stderr, r.stderr
    assert "hanging now" in r.stderr
    assert r.seconds < 2 + 15, r.seconds
    p.assert_nothing_written()


def test_a_workload_that_forks(tmp_path):
    """The forked copies go on running the workload (and one never ends): only the sandbox
    answers, the parent builds the image, and the copies die with the sandbox's group."""
    p = Proj(tmp_path)
    p.write("forks", """\
        import os, time
        import pkgimage as pk
        from pkgimage import Int64, Float64
        __pkgimage__ = True

        @pk.generic
        def f(x: Int64):
            return x * 2 + 1

        @pk.generic
        def g(x: Float64):
            return x * 2.0

        @pk.precompilation(__name__)
        def _w():
            f(3)
            pid = os.fork()              # the copy returns from the workload as well
            g(1.0)
            if pid == 0:
                raise RuntimeError("the forked copy fails")
            pid = os.fork()
            if pid == 0:                 # and this one never ends
                with open(os.environ["PIDFILE"] + ".tmp", "w") as fh:
                    fh.write(str(os.getpid()))
                os.rename(os.environ["PIDFILE"] + ".tmp", os.environ["PIDFILE"])
                time.sleep(1000)
            while not os.path.exists(os.environ["PIDFILE"]):
                time.sleep(0.01)
        """)
    pidfile = tmp_path / "pid"
    r = p.build("forks", PIDFILE=pidfile)
    assert len(p.images()) == 1
    assert _gone_or_zombie(int(pidfile.read_text()))
    out = p.run_json("import forks\nv = [forks.f(3), forks.g(1.0)]\n"
                     "done({'v': v, 'compiled': compiled()})")
    assert out == {"v": [7, 2.0], "compiled": False}


def test_a_workload_that_floods_stdout(tmp_path):
    p = Proj(tmp_path)
    p.write("floods", """\
        import sys
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True

        @pk.generic
        def f(x: Int64):
            return x - 1

        @pk.precompilation(__name__)
        def _w():
            f(1)
            block = "\\n".join(f"flood line {i}" for i in range(1000))
            for k in range(1000):                  # 10**6 lines, printed 1000 at a time
                print(block)
            sys.stderr.write("and stderr too\\n" * 1000)
        """)
    r = p.build("floods")
    # The output is passed on, capped: its tail, with a count of what was left out; no
    # temporary file holds it (600 MB of output took 600 MB of temporary space).
    assert len(r.stdout) + len(r.stderr) < 100_000
    assert "bytes of earlier output omitted" in r.stdout
    assert "and stderr too" in r.stdout and "flood line 999" in r.stdout
    assert len(p.images()) == 1
    assert sorted(p.tmp.iterdir()) == []
    out = p.run_json("import floods\ndone({'v': floods.f(1), 'compiled': compiled()})")
    assert out == {"v": 0, "compiled": False}
    # flooding then failing: the report holds the traceback, not the flood
    p.write("floods", (p.src / "floods.py").read_text() + "    raise KeyError('after flood')\n")
    r = p.build("floods", check=False)
    assert r.returncode != 0 and "KeyError: 'after flood'" in r.stderr
    assert len(r.stdout) + len(r.stderr) < 10_000
    assert sorted(p.tmp.iterdir()) == []


def test_a_failed_rebuild_leaves_the_previous_image_untouched(tmp_path):
    p = Proj(tmp_path)
    p.write("faulty", FAULTY.format(fault="pass"))
    p.build("faulty")
    [name] = p.images()
    before = (p.cache / name).read_bytes()
    files = sorted(x.name for x in p.cache.iterdir())
    p.write("faulty", FAULTY.format(fault="_explode(1)"))
    r = p.build("faulty", check=False)
    assert r.returncode != 0 and "boom-1" in r.stderr
    assert sorted(x.name for x in p.cache.iterdir()) == files    # no temporary files
    assert (p.cache / name).read_bytes() == before
    assert sorted(p.tmp.iterdir()) == []


# -- determinism -------------------------------------------------------------------------------

def test_fork_and_inprocess_sandboxes_give_byte_identical_images(tmp_path):
    src = textwrap.dedent("""\
        import pkgimage as pk
        from pkgimage import Int64, Float64, Vector
        __pkgimage__ = True

        SCALE = 2.5
        TABLE = {"a": 1, "b": (2, 3), "c": [4.0, 5.0]}

        @pk.generic
        def axpy(a: Float64, x: Vector[Float64], y: Vector[Float64]):
            for i in range(len(x)):
                y[i] = a * x[i] + y[i]
            return y

        @pk.generic
        def count(n: Int64):
            s = 0
            for i in range(n):
                if i % 3 == 0:
                    s += i
            return s

        pk.precompile(count, (Int64,))           # compiled at the close

        @pk.precompilation(__name__)
        def _w():                                # side-effect free
            import numpy as np
            axpy(SCALE, np.ones(3), np.zeros(3))
            count(10)
            pk.precompile(axpy, (Float64, Vector[Float64], Vector[Float64]))
        """)
    data = {}
    p = Proj(tmp_path)
    p.write("det", src)                 # one source file (its path is in the image) ...
    for mode, seed in (("fork", "1"), ("inprocess", "2"), ("fork", "3")):
        p.cache = tmp_path / f"cache-{mode}{seed}"      # ... built into three caches
        p.build("det", PKGIMAGE_SANDBOX=mode, PYTHONHASHSEED=seed)
        [name] = p.images()
        sos = sorted(x.name for x in p.cache.glob("*.so"))
        data[mode + seed] = ((p.cache / name).read_bytes(), sos,
                             [(p.cache / s).read_bytes() for s in sos])
    assert data["fork1"][0] == data["fork3"][0]
    assert data["fork1"][0] == data["inprocess2"][0]
    assert data["fork1"][1:] == data["inprocess2"][1:]

"""Seed 002's two problems as examples (issue 5): ``examples/needs_init`` (functions that
only work after ``__init__()``) and ``examples/leaves_tasks`` (a workload that leaves
threads, tasks, sockets, files and processes running).  Every build and load in a fresh
process, with its own cache folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEEDS_INIT = os.path.join(ROOT, "examples", "needs_init")
LEAVES_TASKS = os.path.join(ROOT, "examples", "leaves_tasks")
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

# The globals of a module as plain data: names of everything, values of data (by repr).
SNAPSHOT = textwrap.dedent("""\
    import types
    def snapshot(d):
        out = {}
        for k, v in sorted(d.items()):
            if k.startswith("__") or isinstance(v, types.ModuleType):
                continue
            if isinstance(v, (type(None), bool, int, float, str, tuple, list, dict)):
                out[k] = repr(v)
            else:
                out[k] = type(v).__name__
        return out
    """)


def _env(cache, path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKGIMAGE_")}
    env.update(PKGIMAGE_CACHE=str(cache), PYTHONPATH=str(path), PKGIMAGE_AUTO="0",
               PYTHONDONTWRITEBYTECODE="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _build(cache, path, *modules, check=True, **extra):
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", *modules],
                       env=_env(cache, path, **extra), capture_output=True, text=True,
                       timeout=TIMEOUT)
    r.seconds = time.monotonic() - t0
    if check:
        assert r.returncode == 0, f"build {modules} failed:\n{r.stdout}\n{r.stderr}"
    return r


def _run_json(cache, path, script, **extra):
    r = subprocess.run([sys.executable, "-c", PRELUDE + SNAPSHOT + textwrap.dedent(script)],
                       env=_env(cache, path, **extra), capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, f"script failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def _images(cache):
    return sorted(p.name for p in cache.glob("*.pkgi")) if cache.exists() else []


# -- needs_init --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def needs_init(tmp_path_factory):
    cache = tmp_path_factory.mktemp("needs_init_cache")
    _build(cache, NEEDS_INIT, "needs_init", "needs_init_inmodule")
    return cache


# What the loader hands to ``__init__``: patch run_init to record the module's globals just
# before it runs, i.e. exactly what came out of the image.
LOAD_PROBE = """\
    import pkgimage.image.hook as H
    seen = {}
    _run_init = H.run_init
    def run_init(module):
        seen[module.__name__] = snapshot(module.__dict__)
        _run_init(module)
    H.run_init = run_init
    import math
    import MOD as m
    before = stats()
    at_load = {"CALLS": m.CALLS, "INIT_COUNT": m.INIT_COUNT, "table": m.TABLE is not None}
    r = [m.sine(0.5), m.integral(0.0, math.pi), m.sine(7.0)]
    done({"stats": before, "image": seen.get("MOD"), "at_load": at_load, "r": r,
          "calls": m.CALLS, "compiled": compiled()})
    """

# The module as it is at its close: its top level run as the build runs it (no __init__).
CLOSE_PROBE = """\
    import os
    os.environ["PKGIMAGE_BUILDING"] = "MOD"
    import pkgimage.image.hook as H
    H.install()
    import MOD as m
    done({"closed": snapshot(m.__dict__)})
    """


@pytest.mark.parametrize("mod", ["needs_init", "needs_init_inmodule"])
def test_needs_init_image_runs_cached_code_after_init(needs_init, mod):
    import math
    assert any(n.startswith(mod + "-") for n in _images(needs_init))
    out = _run_json(needs_init, NEEDS_INIT, LOAD_PROBE.replace("MOD", mod))
    assert out["stats"]["loaded_instances"] > 0
    assert out["stats"]["discarded_instances"] == 0
    assert out["at_load"] == {"CALLS": 0, "INIT_COUNT": 1, "table": True}   # __init__ ran
    assert abs(out["r"][0] - math.sin(0.5)) < 1e-3
    assert abs(out["r"][1] - 2.0) < 1e-3
    assert abs(out["r"][2] - math.sin(7.0)) < 1e-3
    assert out["calls"] == 3
    assert out["compiled"] is False                 # the workload's code, from the image


@pytest.mark.parametrize("mod", ["needs_init", "needs_init_inmodule"])
def test_needs_init_image_globals_are_the_closed_modules(needs_init, mod):
    """The workload ran __init__ and called the functions (CALLS went up, TABLE and the lock
    were set): the image has none of it, only the module as it closed."""
    image = _run_json(needs_init, NEEDS_INIT, LOAD_PROBE.replace("MOD", mod))["image"]
    closed = _run_json(needs_init, NEEDS_INIT, CLOSE_PROBE.replace("MOD", mod))["closed"]
    assert image == closed
    assert image["CALLS"] == "0" and image["TABLE"] == "None" and image["_LOCK"] == "None"
    assert image["INIT_COUNT"] == "0" and image["N"] == "1024"


def _inmodule_variant(tmp_path, old, new):
    src = open(os.path.join(NEEDS_INIT, "needs_init_inmodule.py")).read()
    assert old in src
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "needs_init_inmodule.py").write_text(src.replace(old, new))
    return tmp_path / "src"


def test_inmodule_workload_without_init_by_hand_fails(tmp_path):
    src = _inmodule_variant(tmp_path, "    __init__()                     # the functions",
                            "    pass                           # the functions")
    r = _build(tmp_path / "cache", src, "needs_init_inmodule", check=False)
    assert r.returncode != 0
    assert "needs_init_inmodule is not initialised" in r.stderr, r.stderr
    assert _images(tmp_path / "cache") == []


def test_inmodule_workload_without_uninit_fails_on_the_lock(tmp_path):
    src = _inmodule_variant(tmp_path, "        _deinit()                  # or the lock",
                            "        pass                       # or the lock")
    r = _build(tmp_path / "cache", src, "needs_init_inmodule", check=False)
    assert r.returncode != 0
    assert "global '_LOCK'" in r.stderr and "__init__()" in r.stderr, r.stderr
    assert _images(tmp_path / "cache") == []


def test_inmodule_workload_half_uninit_leaks_runtime_state_into_the_image(tmp_path):
    """The silent failure of in-module workloads: forget to reset one global that *can* be
    stored and the workload's state is in the image.  (The post-close workload cannot.)"""
    src = _inmodule_variant(tmp_path, "    _LOCK = None\n    CALLS = 0\n    INIT_COUNT -= 1\n",
                            "    _LOCK = None\n    INIT_COUNT -= 1\n")
    _build(tmp_path / "cache", src, "needs_init_inmodule")
    out = _run_json(tmp_path / "cache", src, LOAD_PROBE.replace("MOD", "needs_init_inmodule"))
    assert out["image"]["CALLS"] == "2"             # the workload's two calls, stored
    assert out["calls"] == 3                        # (__init__ resets it at load)


# -- leaves_tasks ------------------------------------------------------------------------------

def _gone_or_zombie(pid, wait=5.0):
    """Killed: no such process, or a zombie waiting to be reaped by init (its parent, the
    sandbox, is dead)."""
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


def test_leaves_tasks_builds_promptly_kills_what_it_left_and_loads(tmp_path):
    cache, pidfile = tmp_path / "cache", tmp_path / "sleep.pid"
    r = _build(cache, LEAVES_TASKS, "leaves_tasks", LEAVES_TASKS_PIDFILE=pidfile)
    assert r.seconds < 30, r.seconds              # far below the 600 s workload limit
    assert len(_images(cache)) == 1
    pid = int(pidfile.read_text())
    assert _gone_or_zombie(pid), f"the workload's `sleep` ({pid}) survived the build"
    out = _run_json(cache, LEAVES_TASKS, """\
        import threading
        import leaves_tasks as m
        before = stats()
        r = [m.checksum(1000), m.mean3(1.0, 2.0, 3.0)]
        done({"stats": before, "r": r, "compiled": compiled(), "server": repr(m.SERVER),
              "handles": len(m.HANDLES), "threads": threading.active_count()})
        """)
    assert out["stats"]["loaded_instances"] > 0 and out["stats"]["discarded_instances"] == 0
    assert out["r"][1] == 2.0 and out["compiled"] is False
    assert out["server"] == "None" and out["handles"] == 0 and out["threads"] == 1

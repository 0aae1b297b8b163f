"""Concurrency and interruption (issue 8): concurrent importers, killed builders, a full disk
and a read-only cache folder.

* 8 processes import the same image-less module at once with auto-build on: each runs it
  from source and starts a build; one build runs (the module's top level counts builds in a
  log), all 8 get the right results, and one valid image is left.
* A builder (``python -m pkgimage build --in-process``, what auto-build runs) is killed with
  SIGKILL at random moments of its build and write (each time from a new source version, so
  every write changes the image), and at each step of the write by an injected self-kill:
  the image in place is always absent or valid, the build lock is free at once, nothing of
  the build is left running, and the next import gives the right result.
* A full disk or a read-only cache folder, before or during a build: the module imports and
  runs from source with one line on stderr, the build fails with one line (no traceback),
  and no partial file is left (an older image stays in place, valid).

Failures are injected by a ``sitecustomize`` on ``PYTHONPATH`` (``PKGIMAGE_TEST_INJECT``):
it wraps ``os.open``/``os.fsync``/``os.replace`` for paths in the cache folder.  As root, a
real full disk and a real read-only folder are tiny tmpfs mounts (skipped elsewhere;
without root a read-only folder is ``chmod 555``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from imagetools import TIMEOUT, Project
from pkgimage.image import format as F

# (processes are found through /proc; kills, flock and PR_SET_PDEATHSIG are Linux's)
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

MOD = """
    import os
    import time
    import pkgimage as pk
    from pkgimage import Int64, Float64
    __pkgimage__ = True
    K = {k}

    @pk.struct
    class P:
        a: Int64
        b: Float64

    @pk.generic
    def f(x: Int64):
        return x * 3 + K

    @pk.generic
    def g(p: P):
        return p.a + p.b * 2.0

    @pk.generic
    def h(x: Float64, n: Int64):
        s = 0.0
        for i in range(n):
            s += x * i
        return s

    def _note_build():
        path = os.environ.get("REL_BUILD_LOG")
        if path:
            with open(path, "a") as fh:
                fh.write(f"{{os.getpid()}}\\n")

    pk.precompile(f, (Int64,))
    pk.precompile(g, (P,))
    if pk.generating_output():
        _note_build()

    @pk.precompilation(__name__)
    def _workload():
        h(1.5, 10)
        time.sleep({sleep})
"""

PROBE = "import relmod\ndone({'f': relmod.f(4), 'g': relmod.g(relmod.P(1, 2.5)), " \
        "'h': relmod.h(1.5, 10), 'stats': stats()})"


def expected(k):
    return {"f": 12 + k, "g": 6.0, "h": 67.5}


def results(out):
    return {k: out[k] for k in ("f", "g", "h")}


SITECUSTOMIZE = r'''
"""Test-only failure injection for the files of the cache folder (see the test module)."""
import errno
import os
import signal

_MODE = os.environ.get("PKGIMAGE_TEST_INJECT", "")
_CACHE = os.environ.get("PKGIMAGE_CACHE", "")
if _MODE and _CACHE:
    _CACHE = os.path.abspath(_CACHE) + os.sep
    _open, _fsync, _replace = os.open, os.fsync, os.replace
    _KIND, _, _SUFFIX = _MODE.partition(":")

    def _active():
        # "build": only once the build proper runs (the build lock is already held)
        if os.environ.get("PKGIMAGE_TEST_INJECT_WHEN", "always") == "build":
            return bool(os.environ.get("PKGIMAGE_BUILDING"))
        return True

    def _in_cache(p):
        try:
            return os.path.abspath(os.fsdecode(p)).startswith(_CACHE)
        except (TypeError, ValueError):
            return False

    def _err(code, p=None):
        return OSError(code, os.strerror(code), p)

    def _die():
        os.kill(os.getpid(), signal.SIGKILL)

    def open_(path, flags, *a, **k):
        if _KIND == "erofs" and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) \
                and _in_cache(path) and _active():
            raise _err(errno.EROFS, path)
        return _open(path, flags, *a, **k)

    def fsync(fd):
        try:
            p = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            p = ""
        if p and _in_cache(p) and _active():
            if _KIND == "enospc":
                raise _err(errno.ENOSPC)
            if _KIND == "kill-fsync" and p.endswith(_SUFFIX):
                _die()
        return _fsync(fd)

    def replace(src, dst, *a, **k):
        hit = _in_cache(dst) and _active() and os.fsdecode(dst).endswith(_SUFFIX)
        if _in_cache(dst) and _active() and _KIND == "erofs":
            raise _err(errno.EROFS, dst)
        if hit and _KIND == "kill-before-replace":
            _die()
        r = _replace(src, dst, *a, **k)
        if hit and _KIND == "kill-after-replace":
            _die()
        return r

    os.open, os.fsync, os.replace = open_, fsync, replace
'''


class Rel(Project):
    """A project with ``relmod`` and the failure-injecting sitecustomize on its path."""

    def __init__(self, tmp_path, k=1, sleep=0.2):
        super().__init__(tmp_path)
        self.inject = tmp_path / "inject"
        self.inject.mkdir()
        (self.inject / "sitecustomize.py").write_text(SITECUSTOMIZE)
        self.log = tmp_path / "builds.log"
        self.sleep = sleep
        self.set_version(k)

    def set_version(self, k):
        self.k = k
        self.write("relmod", MOD.format(k=k, sleep=self.sleep))

    def env(self, **extra):
        env = super().env(**extra)
        if "PYTHONPATH" not in extra:
            env["PYTHONPATH"] = os.pathsep.join([str(self.inject), env["PYTHONPATH"]])
        env.setdefault("REL_BUILD_LOG", str(self.log))
        return env

    def builder(self, **env):
        """A build as the import hook starts it, not waited for."""
        return subprocess.Popen([sys.executable, "-m", "pkgimage", "build", "--quiet",
                                 "--in-process", "relmod"], env=self.env(**env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=self.root)

    def build_now(self, **env):
        """Build relmod's image in one process (no scheduler); returns the seconds it took."""
        t0 = time.monotonic()
        pr = self.builder(**env)
        _, err = pr.communicate(timeout=TIMEOUT)
        assert pr.returncode == 0, err
        return time.monotonic() - t0

    def builds(self):
        return len(self.log.read_text().split()) if self.log.exists() else 0

    def image_path(self):
        from pkgimage.image.cache import image_path
        old = os.environ.get("PKGIMAGE_CACHE")
        os.environ["PKGIMAGE_CACHE"] = str(self.cache)
        try:
            return image_path("relmod", str(self.src / "relmod.py"))
        finally:
            if old is None:
                del os.environ["PKGIMAGE_CACHE"]
            else:
                os.environ["PKGIMAGE_CACHE"] = old

    def image_state(self):
        """None when there is no image, else the verified header (AssertionError when an
        image is in place that is not valid)."""
        from pkgimage.image import loader
        path = self.image_path()
        if not os.path.exists(path):
            return None
        header, _ = loader.read_verified(path)      # raises on a partial or damaged image
        lib = header.get("shared_lib")
        assert lib is None or os.path.exists(os.path.join(self.cache, lib["file"])), \
            f"the image in place names a missing library: {os.listdir(self.cache)}"
        return header

    def temporaries(self):
        return [n for n in self.files() if n.startswith(".tmp") or n.endswith(".tmp")]


def _processes_on(cache):
    """Pids of processes (builders, their sandboxes) whose environment names ``cache``."""
    key = f"PKGIMAGE_CACHE={cache}\0".encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{d}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if key in env and state not in (b"Z", b"X"):
            out.append(int(d))
    return out


def wait_quiet(cache, timeout=90, settle=0.3):
    time.sleep(settle)
    deadline = time.monotonic() + timeout
    while _processes_on(cache):
        assert time.monotonic() < deadline, f"processes still running on {cache}"
        time.sleep(0.05)


def lock_is_free(path):
    """The build lock of ``path`` can be taken at once (then released)."""
    from pkgimage.image.lock import BuildLock
    lk = BuildLock(path)
    t0 = time.monotonic()
    ok = lk.try_acquire()
    if ok:
        lk.release()
    return ok, time.monotonic() - t0


# -- concurrent importers ---------------------------------------------------------------------

IMPORTER = """
    import os, time
    go = os.environ["REL_GO"]
    while not os.path.exists(go):
        time.sleep(0.002)
""" + PROBE


def test_eight_concurrent_importers_one_build(tmp_path):
    p = Rel(tmp_path, k=5, sleep=0.0)
    go = tmp_path / "go"
    script = textwrap.dedent(IMPORTER)
    from imagetools import PRELUDE
    procs = [subprocess.Popen([sys.executable, "-c", PRELUDE + script],
                              env=p.env(PKGIMAGE_AUTO=None, REL_GO=str(go)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=p.root) for _ in range(8)]
    time.sleep(0.5)                   # all started (interpreters up), waiting on the file
    go.touch()
    outs = []
    for pr in procs:
        stdout, stderr = pr.communicate(timeout=TIMEOUT)
        assert pr.returncode == 0, stderr
        out = json.loads(stdout.strip().splitlines()[-1])
        out["_stderr"] = stderr
        outs.append(out)
    for out in outs:
        assert results(out) == expected(5)
        # from source (and a build started) or, for a late one, from the image just written
        assert out["_stderr"] in ("Precompiling relmod\n", ""), out["_stderr"]
        assert out["_stderr"] or out["stats"]["loaded_instances"] > 0
    starters = sum(1 for o in outs if o["_stderr"])
    assert starters >= 2, "the importers did not overlap"
    wait_quiet(p.cache)
    assert p.builds() == 1, f"{p.builds()} builds for {starters} importers that started one"
    assert len(p.images("relmod")) == 1 and p.image_state() is not None
    assert len([n for n in p.files() if n.endswith(".so")]) == 1, p.files()
    assert p.temporaries() == []
    out = p.run_json(PROBE)
    assert results(out) == expected(5) and out["_stderr"] == ""
    assert out["stats"]["loaded_instances"] > 0
    print(f"\n8 concurrent importers: {starters} started a build, 1 built")


# -- killed builders --------------------------------------------------------------------------

def _after_kill(p, what):
    """The checks after a builder was killed: no partial or invalid image in place, the lock
    free at once, nothing left running, and the next import right."""
    state = p.image_state()
    wait_quiet(p.cache, timeout=10, settle=0.0)
    ok, took = lock_is_free(p.image_path())
    assert ok and took < 1.0, (what, took)
    out = p.run_json(PROBE)
    assert results(out) == expected(p.k), what
    fresh = state is not None and state["sources"].get(str(p.src / "relmod.py")) == \
        F.file_digest(str(p.src / "relmod.py"))
    if fresh:
        assert out["_stderr"] == "" and out["stats"]["loaded_instances"] > 0, (what, out)
    elif state is not None:
        assert out["_stderr"] == ("pkgimage: stale image for relmod: source relmod.py "
                                  "changed; running from source (not rebuilt: "
                                  "PKGIMAGE_AUTO=0)\n"), (what, out["_stderr"])
    else:
        assert out["_stderr"] == "", (what, out["_stderr"])
    return "valid" if fresh else ("older" if state is not None else "none")


def test_fuzz_builder_killed_at_random_moments(tmp_path):
    """(22 kills; 60 with ``PKGIMAGE_FUZZ=long``, which ``make fuzz`` sets)"""
    p = Rel(tmp_path, sleep=0.1)
    full = p.build_now()
    rng = random.Random(int(os.environ.get("PKGIMAGE_FUZZ_SEED", "8")))
    reps = 60 if os.environ.get("PKGIMAGE_FUZZ") == "long" else 22
    seen = {}
    for i in range(reps):
        p.set_version(100 + i)
        pr = p.builder()
        delay = rng.uniform(0.05, full * 1.25)
        time.sleep(delay)
        pr.send_signal(signal.SIGKILL)
        pr.communicate(timeout=TIMEOUT)
        state = _after_kill(p, f"killed after {delay:.2f}s")
        seen[state] = seen.get(state, 0) + 1
    # the temporaries of killed writers go at the next write
    p.set_version(999)
    p.build_now()
    assert p.temporaries() == [], p.files()
    assert p.image_state() is not None
    print(f"\n{reps} builders killed at random moments (build {full:.2f}s): "
          f"image afterwards {seen}")


WRITE_STEPS = ["kill-fsync:.so", "kill-before-replace:.so", "kill-after-replace:.so",
               "kill-fsync:.pkgi", "kill-before-replace:.pkgi", "kill-after-replace:.pkgi"]


def test_builder_killed_at_each_step_of_the_write(tmp_path):
    """Killed with the library's temporary written, before and after its rename, with the
    image's temporary written, before and after its rename: the image in place is the older
    one (valid) until the new one is renamed over it."""
    p = Rel(tmp_path, sleep=0.0)
    p.build_now()
    for i, point in enumerate(WRITE_STEPS):
        before = p.image_state()
        p.set_version(2 + i)
        pr = p.builder(PKGIMAGE_TEST_INJECT=point)
        pr.communicate(timeout=TIMEOUT)
        assert pr.returncode == -signal.SIGKILL, (point, pr.returncode)
        state = _after_kill(p, point)
        assert state == ("valid" if point == "kill-after-replace:.pkgi" else "older"), point
        if state == "older":
            assert p.image_state()["build_id"] == before["build_id"], point
    p.set_version(99)
    p.build_now()
    assert p.temporaries() == [] and p.image_state() is not None
    # (the libraries of earlier builds go when an image is written: one left)
    assert len([n for n in p.files() if n.endswith(".so")]) == 1, p.files()


# -- a full disk, a read-only cache folder ---------------------------------------------------

def _one_line_build_failure(r, why):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("pkgimage: building relmod failed: cannot write to the cache "
                               "folder: "), lines
    assert why in lines[0], lines


@pytest.mark.parametrize("mode", ["enospc", "erofs"])
def test_disk_full_or_read_only_during_a_build(tmp_path, mode):
    """The failure hits the build after it started (it holds the lock): the importing
    process runs the module from source with one line; the build fails with one line; no
    partial file, the older image stays in place and valid."""
    why = {"enospc": "No space left on device", "erofs": "Read-only file system"}[mode]
    p = Rel(tmp_path, sleep=0.0)
    inject = dict(PKGIMAGE_TEST_INJECT=mode, PKGIMAGE_TEST_INJECT_WHEN="build")
    # no image yet: an auto-build that fails
    out = p.run_json(PROBE, PKGIMAGE_AUTO=None, **inject)
    assert results(out) == expected(1)
    assert out["_stderr"] == "Precompiling relmod\n"
    wait_quiet(p.cache)
    assert p.images() == [] and p.temporaries() == [], p.files()
    assert not [n for n in p.files() if n.endswith((".so", ".code"))], p.files()
    # the same build run by hand says why, in one line
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", "--in-process", "relmod"],
                       env=p.env(**inject), capture_output=True, text=True, timeout=TIMEOUT)
    _one_line_build_failure(r, why)
    # an older image is left in place, valid, when its rebuild fails
    p.build_now()
    old = p.image_state()
    p.set_version(2)
    out = p.run_json(PROBE, PKGIMAGE_AUTO=None, **inject)
    assert results(out) == expected(2)
    assert out["_stderr"] == "Recompiling stale image for relmod: source relmod.py changed\n"
    wait_quiet(p.cache)
    assert p.image_state()["build_id"] == old["build_id"] and p.temporaries() == []
    ok, _ = lock_is_free(p.image_path())
    assert ok


def test_read_only_cache_folder_before_import_injected(tmp_path):
    """(everywhere, by injection) A cache folder that cannot be written: one warning, the
    module runs from source, no build is started."""
    p = Rel(tmp_path, sleep=0.0)
    p.cache.mkdir()
    out = p.run_json(PROBE, PKGIMAGE_AUTO=None, PKGIMAGE_TEST_INJECT="erofs")
    assert results(out) == expected(1)
    assert out["_stderr"].splitlines() == [
        f"pkgimage: not building an image for relmod: the cache folder {p.cache} cannot be "
        f"written (Read-only file system); running from source"]
    wait_quiet(p.cache)
    assert p.builds() == 0 and p.files() == []


@pytest.fixture
def mount_tmpfs(tmp_path):
    """``mount_tmpfs(path, size_kb, ro=False)``: mount a real tmpfs there and return True, or
    return False where that is impossible (not root, no mount permission in a container, or
    ``PKGIMAGE_TEST_NO_MOUNT=1``): the test then injects the same failure instead of
    skipping, so it always asserts the behaviour."""
    mounted = []

    def mount(path, size_kb, ro=False):
        path.mkdir(exist_ok=True)
        if os.geteuid() != 0 or os.environ.get("PKGIMAGE_TEST_NO_MOUNT") == "1":
            return False
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=755",
                            "tmpfs", str(path)], capture_output=True, text=True)
        if r.returncode != 0:
            return False
        mounted.append(path)
        if ro:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        return True

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_read_only_cache_folder_for_real(tmp_path, mount_tmpfs):
    p = Rel(tmp_path, sleep=0.0)
    inject = {}
    if not mount_tmpfs(p.cache, 256, ro=True):
        if os.geteuid() == 0:              # root writes through mode bits: inject EROFS
            inject = {"PKGIMAGE_TEST_INJECT": "erofs"}
        else:
            p.cache.chmod(0o555)
    real_ro = os.geteuid() == 0
    out = p.run_json(PROBE, PKGIMAGE_AUTO=None, **inject)
    assert results(out) == expected(1)
    lines = out["_stderr"].splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"pkgimage: not building an image for relmod: the cache folder {p.cache} cannot be "
        f"written ("), lines
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", "--in-process", "relmod"],
                       env=p.env(**inject), capture_output=True, text=True, timeout=TIMEOUT)
    _one_line_build_failure(r, "Read-only file system" if real_ro else "Permission denied")


@pytest.mark.parametrize("free_kb", [12, 0])
def test_disk_full_for_real(tmp_path, mount_tmpfs, free_kb):
    """A tmpfs with room for the lock files but not for the image (12 KB free), or with no
    room at all (the build lock's owner record cannot be written)."""
    p = Rel(tmp_path, sleep=0.0)
    inject = {}
    if mount_tmpfs(p.cache, 64):
        filler = p.cache / "filler"
        with open(filler, "wb", buffering=0) as f:      # fill it up, then give some back
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        with open(filler, "r+b") as f:
            f.truncate(max(0, os.path.getsize(filler) - free_kb * 1024))
    else:
        # No tmpfs here: every write of the build proper fails with ENOSPC instead.
        inject = {"PKGIMAGE_TEST_INJECT": "enospc", "PKGIMAGE_TEST_INJECT_WHEN": "build"}
    out = p.run_json(PROBE, PKGIMAGE_AUTO=None, **inject)
    assert results(out) == expected(1)
    assert out["_stderr"] == "Precompiling relmod\n"
    wait_quiet(p.cache)
    assert p.images() == [] and p.temporaries() == [], p.files()
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", "--in-process", "relmod"],
                       env=p.env(**inject), capture_output=True, text=True, timeout=TIMEOUT)
    _one_line_build_failure(r, "No space left on device")
    assert p.images() == [] and p.temporaries() == [], p.files()
    out = p.run_json(PROBE)
    assert results(out) == expected(1)

"""Building images (issue 4): globals that cannot live in an image, deterministic bytes,
auto-build on import, atomic writes, ``pkgimage clean`` and old shared libraries."""

import time

import pytest

from imagetools import Project
from pkgimage.image import format as F

SIMPLE = """
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.generic
    def f(x: Float64, y: Float64):
        return x + y

    pk.precompile(f, (Float64, Float64))
"""

PROBE_F = "import {mod}\ndone({{'value': {mod}.f(1.0, 2.0), 'stats': stats()}})"


def _leftovers(p):
    """Files a failed or finished build must not leave: temporaries and half images."""
    return [n for n in p.files() if n.startswith(".tmp") or ".tmp" in n]


def _image_file(n):
    return n.endswith((".pkgi", ".so", ".pkgi.code"))


# -- globals that cannot live in an image ------------------------------------------------------

BAD = """
    import socket, threading
    import pkgimage as pk
    from pkgimage import Int64
    __pkgimage__ = True

    @pk.generic
    def f(x: Int64):
        return x + 1

    pk.precompile(f, (Int64,))
    {name} = {value}
"""


@pytest.mark.parametrize("name,value", [
    ("LOCK", "threading.Lock()"),
    ("SOCK", "socket.socket()"),
    ("LOGFILE", "open(__file__)"),
    ("WORKER", "threading.Thread(target=print)"),
    ("CONFIG", "{'retries': 3, 'guard': threading.RLock()}"),
])
def test_global_that_cannot_live_in_an_image_fails_the_build(tmp_path, name, value):
    p = Project(tmp_path)
    p.write("badmod", BAD.format(name=name, value=value))
    r = p.build("badmod", check=False)
    assert r.returncode != 0
    assert f"'{name}'" in r.stderr, r.stderr
    assert "__init__()" in r.stderr
    assert "badmod" in r.stderr
    assert not [n for n in p.files() if n.startswith("badmod-")
                and n.endswith((".pkgi", ".so"))], p.files()
    assert _leftovers(p) == []


# -- deterministic bytes -----------------------------------------------------------------------

DET = """
    import numpy as np
    import pkgimage as pk
    from pkgimage import Int64, Float64, Vector
    __pkgimage__ = True

    WORDS = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
    FROZEN = frozenset({"x", "y", "z", "w", "v"})
    NESTED = {frozenset({"p", "q", "r"}): {"u", "v", "w"}, "k": {1, 2, 3}}
    SETS_OF_SETS = {frozenset({"a", "b"}), frozenset({"c", "d"}), frozenset({"e", "f"})}
    SAME = [WORDS, WORDS]
    ARR = np.linspace(0.0, 1.0, 11)

    class Config:
        names = {"one", "two", "three", "four"}

    CFG = Config()
    CFG.tags = {"t1", "t2", "t3", "t4", "t5"}

    @pk.struct
    class P:
        a: Int64
        b: Float64

    @pk.generic
    def norm1(p: P):
        return p.a + p.b

    @pk.generic
    def total(v: Vector[Float64]):
        s = 0.0
        for x in v:
            s += x
        return s

    pk.precompile(norm1, (P,))
    if pk.generating_output():
        total(ARR)
"""


def test_builds_are_byte_identical_whatever_the_hash_seed_and_folder(tmp_path):
    p = Project(tmp_path)
    p.write("detmod", DET)
    caches = []
    for seed in ("1", "2"):
        cache = tmp_path / f"cache{seed}"
        wd = tmp_path / f"wd{seed}"
        wd.mkdir()
        p.build("detmod", cwd=wd, PYTHONHASHSEED=seed, PKGIMAGE_CACHE=cache)
        caches.append(cache)
    names = [sorted(n.name for n in c.iterdir() if n.suffix in (".pkgi", ".so")) for c in caches]
    assert names[0] == names[1] and any(n.endswith(".pkgi") for n in names[0]), names
    for n in names[0]:
        assert (caches[0] / n).read_bytes() == (caches[1] / n).read_bytes(), n
    # and the image loads back with the same values (sets are still sets, shared once)
    out = p.run_json("import detmod\n"
                     "done({'words': sorted(detmod.WORDS), 'same': detmod.SAME[0] is "
                     "detmod.SAME[1] is detmod.WORDS, 'frozen': type(detmod.FROZEN).__name__,"
                     " 'nested': sorted(map(sorted, detmod.NESTED)), 'tags': "
                     "sorted(detmod.CFG.tags), 'names': sorted(detmod.Config.names), "
                     "'sos': sorted(map(sorted, detmod.SETS_OF_SETS)), "
                     "'norm1': detmod.norm1(detmod.P(1, 2.5)), 'stats': stats()})",
                     PKGIMAGE_CACHE=caches[0])
    assert out["words"] == sorted(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
                                   "theta"])
    assert out["same"] is True and out["frozen"] == "frozenset"
    assert out["nested"] == [["k"], ["p", "q", "r"]] or out["nested"] == [["p", "q", "r"], ["k"]]
    assert out["tags"] == ["t1", "t2", "t3", "t4", "t5"]
    assert out["names"] == ["four", "one", "three", "two"]
    assert out["sos"] == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert out["norm1"] == 3.5 and out["stats"]["loaded_instances"] > 0


# -- auto-build and atomic writes --------------------------------------------------------------

def _wait_for_image(p, mod, timeout=90, not_this=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = p.images(mod)
        if found:
            path = p.cache / found[0]
            data = path.read_bytes()
            if data != not_this:
                try:
                    F.decode(data, str(path))
                    return path
                except Exception:
                    pass
        time.sleep(0.2)
    raise AssertionError(f"no image for {mod} after {timeout}s: {p.files()}")


def test_import_without_image_precompiles_in_the_background(tmp_path):
    p = Project(tmp_path)
    path = p.write("automod", SIMPLE)
    out = p.run_json(PROBE_F.format(mod="automod"), PKGIMAGE_AUTO=None)
    assert out["value"] == 3.0
    assert out["_stderr"].splitlines() == ["Precompiling automod"]
    img = _wait_for_image(p, "automod")
    out = p.run_json(PROBE_F.format(mod="automod"), PKGIMAGE_AUTO=None)
    assert out["value"] == 3.0 and out["_stderr"] == ""
    assert out["stats"]["loaded_instances"] > 0
    # a stale image: one line, the new source's result, and a rebuilt image
    old = img.read_bytes()
    path.write_text(path.read_text().replace("x + y", "x * y"))
    out = p.run_json(PROBE_F.format(mod="automod"), PKGIMAGE_AUTO=None)
    assert out["value"] == 2.0
    assert out["_stderr"].splitlines() == ["Recompiling stale image for automod: "
                                           "source automod.py changed"]
    _wait_for_image(p, "automod", not_this=old)
    deadline = time.monotonic() + 60
    while True:
        out = p.run_json(PROBE_F.format(mod="automod"), PKGIMAGE_AUTO=None)
        if out["_stderr"] == "" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert out["value"] == 2.0 and out["_stderr"] == ""
    assert out["stats"]["loaded_instances"] > 0
    time.sleep(0.5)
    assert _leftovers(p) == []
    assert len([n for n in p.files() if n.startswith("automod-") and n.endswith(".so")]) <= 1


def test_no_temporary_files_are_left_after_builds(tmp_path):
    p = Project(tmp_path)
    p.write("A", SIMPLE)
    p.write("B", SIMPLE.replace("x + y", "x - y"))
    p.build("A", "B")
    p.build("A", PKGIMAGE_NO_SHARED=1)
    assert _leftovers(p) == []
    assert len(p.images()) == 2


# -- pkgimage clean and old shared libraries -----------------------------------------------

def test_rebuild_removes_the_old_shared_library(tmp_path):
    p = Project(tmp_path)
    path = p.write("A", SIMPLE)
    p.build("A")
    sos = [n for n in p.files() if n.startswith("A-") and n.endswith(".so")]
    assert len(sos) == 1
    path.write_text(path.read_text().replace("x + y", "x * y"))
    p.build("A")
    header = F.read_header(str(p.image("A")))
    sos = [n for n in p.files() if n.startswith("A-") and n.endswith(".so")]
    assert sos == [header["shared_lib"]["file"]]
    path.write_text(path.read_text() + "\n# edited\n")
    p.build("A", PKGIMAGE_NO_SHARED=1)
    assert F.read_header(str(p.image("A")))["shared_lib"] is None
    assert [n for n in p.files() if n.startswith("A-") and n.endswith(".so")] == []
    assert p.run_json(PROBE_F.format(mod="A"))["value"] == 2.0


def test_clean_removes_images(tmp_path):
    p = Project(tmp_path)
    p.write("A", SIMPLE)
    p.write("B", SIMPLE.replace("x + y", "x - y"))
    p.build("A", "B")
    p.run_json(PROBE_F.format(mod="A"))        # loading may leave a code sidecar
    p.run_json(PROBE_F.format(mod="B"))
    r = p.cli("clean", "B")
    assert r.returncode == 0, r.stderr
    assert not [n for n in p.files() if n.startswith("B-") and _image_file(n)], p.files()
    assert p.images("A")
    r = p.cli("clean")
    assert r.returncode == 0, r.stderr
    assert not [n for n in p.files() if _image_file(n)], p.files()
    out = p.run_json(PROBE_F.format(mod="A"))
    assert out["value"] == 3.0 and out["stats"]["loaded_instances"] == 0

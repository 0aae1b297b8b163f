"""Staleness and corruption (issue 4): a changed source, a rebuilt dependency, another
runtime or CPU, or a damaged file makes an image unusable -- one line on stderr, the module
runs from source, never stale code and never a crash.  Includes numba's issue 1833."""

import json
import os
import pickle
import sys
import shutil

import pytest

from imagetools import PRELUDE, Project
from pkgimage.image import format as F

A = """
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.generic
    def f(x: Float64, y: Float64):
        return x + y

    pk.precompile(f, (Float64, Float64))
"""

# numba issue 1833: B's cached code calls a function of A; A's function is edited.
NA = """
    import pkgimage as pk
    from pkgimage import Float64
    __pkgimage__ = True

    @pk.generic
    def g(x: Float64):
        return x + 1.0

    pk.precompile(g, (Float64,))
"""

NB = """
    import pkgimage as pk
    from pkgimage import Float64
    import {dep}
    __pkgimage__ = True

    @pk.generic
    def h(x: Float64):
        return {dep}.g(x) * 2.0

    pk.precompile(h, (Float64,))
"""

# the same A as a plain module (no image of its own): its methods live in B's image
PLAIN_A = NA.replace("    __pkgimage__ = True\n", "")

PROBE_F = "import A\ndone({'value': A.f(1.0, 2.0), 'stats': stats()})"
PROBE_H = "import NB\ndone({'value': NB.h(1.0), 'stats': stats()})"


# what the import says of a stale image that nothing rebuilds (the tests' PKGIMAGE_AUTO=0)
NOT_REBUILT = "; running from source (not rebuilt: PKGIMAGE_AUTO=0)"


def _stderr_lines(out):
    return [ln for ln in out["_stderr"].splitlines() if ln.strip()]


def test_edited_source_makes_the_image_stale(tmp_path):
    p = Project(tmp_path)
    path = p.write("A", A)
    p.build("A")
    assert p.run_json(PROBE_F)["value"] == 3.0
    path.write_text(path.read_text().replace("x + y", "x - y"))
    out = p.run_json(PROBE_F)
    assert out["value"] == -1.0
    assert _stderr_lines(out) == [f"pkgimage: stale image for A: source A.py changed{NOT_REBUILT}"]
    assert out["stats"]["loaded_instances"] == 0


def test_numba_1833_dependency_rebuilt(tmp_path):
    """A edited and its image rebuilt: B's image records A's old build id, so it is stale."""
    p = Project(tmp_path)
    a = p.write("NA", NA)
    p.write("NB", NB.format(dep="NA"))
    p.build("NA", "NB")
    assert p.run_json(PROBE_H)["value"] == 4.0
    a.write_text(a.read_text().replace("x + 1.0", "x + 100.0"))
    p.build("NA")
    out = p.run_json(PROBE_H)
    assert out["value"] == 202.0
    assert _stderr_lines(out) == [f"pkgimage: stale image for NB: dependency NA was "
                                  f"rebuilt{NOT_REBUILT}"]


def test_numba_1833_dependency_edited_not_rebuilt(tmp_path):
    """A edited, no rebuild: A runs from source, so B's dependency is not the image it was
    built against: B runs from source too."""
    p = Project(tmp_path)
    a = p.write("NA", NA)
    p.write("NB", NB.format(dep="NA"))
    p.build("NA", "NB")
    a.write_text(a.read_text().replace("x + 1.0", "x + 100.0"))
    out = p.run_json(PROBE_H)
    assert out["value"] == 202.0
    lines = _stderr_lines(out)
    assert lines[0] == f"pkgimage: stale image for NA: source NA.py changed{NOT_REBUILT}"
    assert len(lines) == 2 and lines[1].startswith("pkgimage: stale image for NB: "), lines
    # and once both are rebuilt, both images are used again, with the new code
    p.build("NA", "NB")
    out = p.run_json(PROBE_H)
    assert out["value"] == 202.0 and out["_stderr"] == ""
    assert out["stats"]["loaded_instances"] > 0 and out["stats"]["discarded_instances"] == 0


def test_numba_1833_plain_module_dependency(tmp_path):
    """A is a plain module (no image): B's image holds the code of A's method.  Editing A's
    body (same signature) must make B's image stale, not return the old result."""
    p = Project(tmp_path)
    a = p.write("PA", PLAIN_A)
    p.write("NB", NB.format(dep="PA"))
    p.build("NB")
    out = p.run_json(PROBE_H)
    assert out["value"] == 4.0 and out["stats"]["loaded_instances"] > 0
    a.write_text(a.read_text().replace("x + 1.0", "x + 100.0"))
    out = p.run_json(PROBE_H)
    assert out["value"] == 202.0
    assert _stderr_lines(out) == [f"pkgimage: stale image for NB: source PA.py "
                                  f"changed{NOT_REBUILT}"]


# -- damaged images ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def _built_a_once(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("built_a"))
    p.write("A", A)
    p.build("A")
    return p


@pytest.fixture
def built_a(_built_a_once, tmp_path):
    """A fresh copy of one build of A (same source path, so the image is valid for it)."""
    p = _built_a_once
    cache = tmp_path / "cache"
    shutil.copytree(p.cache, cache)
    q = Project.__new__(Project)
    q.root, q.src, q.cache = tmp_path, p.src, cache
    return q


def _flip(data):
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage", "trailing"])
def test_corrupt_image_falls_back_to_source(built_a, damage):
    img = built_a.image("A")
    data = img.read_bytes()
    new = {"flip": lambda d: _flip(d), "truncate": lambda d: d[: len(d) // 3],
           "empty": lambda d: b"", "garbage": lambda d: b"not an image at all" * 10,
           "trailing": lambda d: d + b"\0"}[damage](data)
    img.write_bytes(new)
    out = built_a.run_json(PROBE_F)
    assert out["value"] == 3.0
    lines = _stderr_lines(out)
    assert len(lines) == 1, lines
    assert str(img) in lines[0] and "A" in lines[0]
    assert "Traceback" not in out["_stderr"]
    assert out["stats"]["loaded_instances"] == 0


def test_checksum_is_verified_before_anything_is_unpickled(built_a, tmp_path):
    """A damaged image whose module section would run code when unpickled: the checksum
    fails first, so the code never runs."""
    img = built_a.image("A")
    header, sections = F.decode(img.read_bytes(), str(img))
    marker = tmp_path / "unpickled-marker"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    sections = dict(sections, module=pickle.dumps(Evil(), protocol=5))
    order = ["module", "code"] + sorted(n for n in sections if n.startswith("object"))
    data = F.encode(header, [(n, sections[n]) for n in order])
    img.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))        # checksum no longer matches
    out = built_a.run_json(PROBE_F)
    assert out["value"] == 3.0
    assert not marker.exists()
    assert "checksum" in out["_stderr"]


def test_undecodable_module_section_with_valid_checksum_falls_back(built_a):
    img = built_a.image("A")
    header, sections = F.decode(img.read_bytes(), str(img))
    sections = dict(sections, module=b"\x80\x05not a pickle")
    order = ["module", "code"] + sorted(n for n in sections if n.startswith("object"))
    img.write_bytes(F.encode(header, [(n, sections[n]) for n in order]))
    out = built_a.run_json(PROBE_F)
    assert out["value"] == 3.0
    lines = _stderr_lines(out)
    assert len(lines) == 1 and str(img) in lines[0], lines


@pytest.mark.parametrize("field,value,reason", [
    ("python", "cpython-2.7.18", "python differs"),
    ("llvmlite", "0.0.1", "llvmlite differs"),
    ("pkgimage", "0.0.0", "pkgimage differs"),
    ("cpu", "i486", "built for CPU i486"),
    ("format", 0, "format differs"),
])
def test_other_runtime_or_cpu_makes_the_image_stale(built_a, field, value, reason):
    img = built_a.image("A")
    header, sections = F.decode(img.read_bytes(), str(img))
    header = dict(header, **{field: value})
    order = ["module", "code"] + sorted(n for n in sections if n.startswith("object"))
    img.write_bytes(F.encode(header, [(n, sections[n]) for n in order]))
    out = built_a.run_json(PROBE_F)
    assert out["value"] == 3.0
    lines = _stderr_lines(out)
    assert len(lines) == 1 and lines[0].startswith("pkgimage: stale image for A: "), lines
    assert reason in lines[0]


def test_code_records_of_another_layout_fall_back_to_source(built_a):
    """An image written by another development state of pkgimage with the same version
    (its code records laid out differently) is reported and skipped, not a crash."""
    img = built_a.image("A")
    header, sections = F.decode(img.read_bytes(), str(img))
    codeinfo = pickle.loads(sections["code"])
    for r in codeinfo["records"]:
        r["callees"] = ((("func", "A", "f"), ()),)          # an older, shorter tuple
    sections = dict(sections, code=pickle.dumps(codeinfo, protocol=5))
    order = ["module", "code"] + sorted(n for n in sections if n.startswith("object"))
    img.write_bytes(F.encode(header, [(n, sections[n]) for n in order]))
    out = built_a.run_json(PROBE_F)
    assert out["value"] == 3.0
    lines = _stderr_lines(out)
    assert len(lines) == 1 and str(img) in lines[0], lines


def test_one_cache_folder_keeps_an_image_warm_for_each_runtime(tmp_path):
    """Two environments (here: this interpreter and a venv of it, another ``sys.prefix``)
    sharing one cache folder each keep their own image: neither sees the other's as stale
    and rebuilds it over the other's at every run."""
    import subprocess
    import sysconfig
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("warmmod", """
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x * 3
        pk.precompile(f, (Int64,))
    """)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    other = str(venv / "bin" / "python")
    site = sysconfig.get_paths()["purelib"]         # llvmlite & co. for the venv
    env = proj.env()
    env["PYTHONPATH"] += os.pathsep + site
    # (the venv has no boot hook: pkgimage is imported first)
    probe = PRELUDE + ("import pkgimage\nimport warmmod\n"
                       "done({'v': warmmod.f(4), 'stats': stats()})")
    for py in (sys.executable, other):
        r = subprocess.run([py, "-m", "pkgimage", "build", "warmmod"], env=env,
                           capture_output=True, text=True, timeout=240, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
    assert len(proj.images("warmmod")) == 2, proj.files()
    for _ in range(2):
        for py in (sys.executable, other):
            r = subprocess.run([py, "-c", probe], env=env, capture_output=True, text=True,
                               timeout=240, cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            out = json.loads(r.stdout.strip().splitlines()[-1])
            assert out["v"] == 12 and out["stats"]["loaded_instances"] > 0, (py, out)
            assert "stale" not in r.stderr, (py, r.stderr)

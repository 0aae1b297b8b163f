"""The command line refuses values that make no sense, says what to do, and ``clean``
removes everything pkgimage wrote."""

from __future__ import annotations

import pytest

from imagetools import Project

MOD = """
import pkgimage as pk
from pkgimage import Int64, Float64
__pkgimage__ = True
@pk.generic
def f(x: Int64):
    return x + 1
@pk.generic
def g(x: Float64):
    return x * 2.0
pk.precompile(f, (Int64,))
"""


@pytest.fixture
def proj(tmp_path):
    p = Project(tmp_path)
    p.write("climod", MOD)
    return p


@pytest.mark.parametrize("args, what", [
    (["-j", "0"], "-j/--jobs: must be at least 1"),
    (["-j", "-2"], "-j/--jobs: must be at least 1"),
    (["-j", "many"], "-j/--jobs: expected a whole number"),
    (["--workload-timeout", "0"], "--workload-timeout: must be a number of seconds"),
    (["--workload-timeout", "-5"], "--workload-timeout: must be a number of seconds"),
    (["--workload-timeout", "nan"], "--workload-timeout: must be a number of seconds"),
    (["--workload-timeout", "inf"], "--workload-timeout: must be a number of seconds"),
    (["--workload-timeout", "soon"], "--workload-timeout: expected a number of seconds"),
])
def test_build_rejects_nonsense_values(proj, args, what):
    r = proj.cli("build", *args, "climod")
    assert r.returncode == 2 and what in r.stderr, r.stderr
    assert proj.images() == []


def test_bare_command_prints_usage(proj):
    r = proj.cli()
    assert r.returncode == 2
    assert r.stdout.startswith("usage: pkgimage") and "build" in r.stdout


def test_workload_file_on_an_up_to_date_image_builds_it_in(proj, tmp_path):
    proj.build("climod")
    wf = tmp_path / "extra_workload.py"
    wf.write_text("import pkgimage as pk\nimport climod\n"
                  "@pk.precompilation('climod')\ndef _w():\n    climod.g(1.5)\n")
    probe = ("import climod\nfrom pkgimage import Float64\n"
             "done({'n': stats()['loaded_instances'], 'g': climod.g(2.0)})")
    before = proj.run_json(probe)
    r = proj.cli("build", "--workload-file", str(wf), "climod")
    assert r.returncode == 0, r.stderr
    assert "building climod (--workload-file)" in r.stdout, r.stdout
    after = proj.run_json(probe)
    assert after["g"] == before["g"] == 4.0 and after["n"] > before["n"], (before, after)


def test_clean_removes_everything_pkgimage_wrote(proj):
    proj.build("climod")
    proj.run_json("import climod\ndone({})")           # a code sidecar
    names = proj.files()
    assert any(n.endswith(".lock") for n in names) and any(n.startswith("host-")
                                                           for n in names), names
    r = proj.cli("clean")
    assert r.returncode == 0, r.stderr
    assert proj.files() == [], proj.files()


def test_clean_of_one_module_leaves_the_others(proj):
    proj.write("othermod", MOD)
    proj.build("climod", "othermod")
    r = proj.cli("clean", "climod")
    assert r.returncode == 0, r.stderr
    assert not [n for n in proj.files() if n.startswith("climod-")], proj.files()
    assert proj.images("othermod")


def test_clean_of_an_unknown_module_is_an_error(proj):
    proj.build("climod")
    r = proj.cli("clean", "nosuchmodule")
    assert r.returncode == 2 and "no module named 'nosuchmodule'" in r.stderr, r.stderr
    assert proj.images("climod")

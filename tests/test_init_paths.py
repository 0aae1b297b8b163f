"""``__init__()`` of a pkgimage module runs once after every load, image or source, whatever
path started it: ``python mod.py``, ``python -m mod``, an import without the boot hook
(``PKGIMAGE_BOOT=0``), an import through the hook; never after a top level that raised, and
never while the module's image is built (``pkgimage/image/initcall.py``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imagetools import TIMEOUT, Project

MOD = """
import pkgimage as pk
__pkgimage__ = True
print("top level")
CALLS = []
def __init__():
    CALLS.append(__name__)
    print("init", __name__)
if __name__ == "__main__":
    print("main block")
"""


def _python(proj, args, **env):
    r = subprocess.run([sys.executable, *args], env=proj.env(**env), capture_output=True,
                       text=True, timeout=TIMEOUT, cwd=proj.src)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@pytest.fixture
def proj(tmp_path):
    p = Project(tmp_path)
    p.write("initmod", MOD)
    return p


def test_init_runs_after_the_top_level_of_a_script(proj):
    assert _python(proj, ["initmod.py"]) == ["top level", "main block", "init __main__"]


def test_init_runs_after_the_top_level_of_python_dash_m(proj):
    assert _python(proj, ["-m", "initmod"]) == ["top level", "main block", "init __main__"]


@pytest.mark.parametrize("boot", ["0", "1"])
def test_init_runs_once_for_an_import_with_or_without_the_boot_hook(proj, boot):
    out = _python(proj, ["-c", "import initmod; print(initmod.CALLS)"], PKGIMAGE_BOOT=boot)
    assert out == ["top level", "init initmod", "['initmod']"]


@pytest.mark.parametrize("boot", ["0", "1"])
def test_init_runs_once_when_the_image_is_loaded(proj, boot):
    proj.build("initmod")
    out = _python(proj, ["-c", "import initmod; print(initmod.CALLS)"], PKGIMAGE_BOOT=boot)
    assert out[-2:] == ["init initmod", "['initmod']"], out


def test_init_does_not_run_after_a_top_level_that_raised(proj):
    proj.write("initbad", """
        import pkgimage as pk
        __pkgimage__ = True
        def __init__():
            print("init (wrong)")
        try:
            raise KeyError("handled")
        except KeyError:
            pass
        raise ValueError("boom")
    """)
    for boot in ("0", "1"):
        r = subprocess.run([sys.executable, "-c", "import initbad"], env=proj.env(
            PKGIMAGE_BOOT=boot), capture_output=True, text=True, timeout=TIMEOUT, cwd=proj.src)
        assert r.returncode != 0 and "boom" in r.stderr
        assert "init (wrong)" not in r.stdout, (boot, r.stdout)

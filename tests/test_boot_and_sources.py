"""Real installs, never stale (issue 15): the boot finder can never break the interpreter,
packages installed in site-packages get their images and notice their upgrades, and an
image records the source that was actually executed, even when it is edited mid-build."""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from imagetools import ROOT, Project


def _python(args, env=None, cwd=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def test_boot_finder_loaded_before_importlib_machinery_does_not_recurse(tmp_path):
    """As after ``pip install .`` (not editable): the ``.pth`` imports the boot module before
    anything imported ``importlib.machinery``; every later import went through a finder that
    imported it from inside ``find_spec`` and recursed until RecursionError."""
    code = textwrap.dedent(f"""
        import sys
        assert "importlib.machinery" not in sys.modules
        sys.path.insert(0, {ROOT!r})
        import _pkgimage_boot
        import json, email.mime.text, decimal
        print("ok", _pkgimage_boot._FINDER in sys.meta_path)
    """)
    r = _python(["-S", "-c", code], env=dict(os.environ, PYTHONPATH=""))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["ok", "True"]


def test_boot_finder_that_outlives_pkgimage_removes_itself_silently(tmp_path):
    """pkgimage uninstalled, the ``.pth`` left behind: no error at any start, imports work."""
    (tmp_path / "marked.py").write_text("__pkgimage__ = True\nX = 1\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        import _pkgimage_boot
        sys.modules["pkgimage"] = None           # as if not installed
        sys.path.insert(0, {str(tmp_path)!r})
        import marked
        print(marked.X, _pkgimage_boot._FINDER in sys.meta_path)
    """)
    r = _python(["-c", code])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.split() == ["1", "False"]


def test_boot_and_loader_agree_on_image_paths(tmp_path, monkeypatch):
    sys.path.insert(0, ROOT)
    try:
        import _pkgimage_boot as boot
    finally:
        sys.path.remove(ROOT)
    from pkgimage.image.cache import image_path
    monkeypatch.setenv("PKGIMAGE_CACHE", str(tmp_path))
    monkeypatch.setattr(boot, "_LISTING", [])
    src = str(tmp_path / "site-packages" / "m.py")
    assert not boot.has_image("m", src)
    open(image_path("m", src), "w").close()
    monkeypatch.setattr(boot, "_LISTING", [])
    assert boot.has_image("m", src) and not boot.has_image("m", src + "x")


INSTALLED = """
    import pkgimage as pk
    from pkgimage import Int64
    from . import helpers
    __pkgimage__ = True

    @pk.generic
    def f(x: Int64):
        return helpers.scale(x) + helpers.OFFSET

    pk.precompile(f, (Int64,))
"""


@pytest.fixture
def site_packages():
    """This interpreter's own site-packages (under ``sys.prefix``, where ``pip install``
    puts packages), with the test package removed afterwards."""
    site = Path(sysconfig.get_paths()["purelib"])
    yield site
    shutil.rmtree(site / "instpkg", ignore_errors=True)


def _installed_package(site, offset):
    pkg = site / "instpkg"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(INSTALLED))
    (pkg / "helpers.py").write_text(textwrap.dedent(f"""
        import pkgimage as pk
        from pkgimage import Int64
        OFFSET = {offset}
        @pk.generic
        def scale(x: Int64):
            return x * 2
    """))
    return site


def test_installed_package_uses_its_image_and_notices_an_upgrade(tmp_path, site_packages):
    site = _installed_package(site_packages, 5)
    proj = Project(tmp_path)
    env = {}
    r = proj.build("instpkg", **env)
    assert r.returncode == 0, r.stdout + r.stderr
    probe = ("import sys\nimport instpkg\n"
             "done({'v': instpkg.f(10), 'heavy': heavy(), 'stats': stats(),"
             " 'pk_first': 'pkgimage.image.loader' in sys.modules})")
    out = proj.run_json(probe, **env)
    assert out["v"] == 25
    assert out["stats"]["loaded_instances"] > 0 and out["heavy"] == [], out
    # ``pip install --upgrade``: the submodule changes under site-packages
    (site / "instpkg" / "helpers.py").write_text(textwrap.dedent("""
        import pkgimage as pk
        from pkgimage import Int64
        OFFSET = 1000
        @pk.generic
        def scale(x: Int64):
            return x * 3
    """))
    r = proj.run(probe.replace("import sys\n", "import sys\n"), **env)
    assert r.returncode == 0, r.stderr
    import json
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["v"] == 1030, out
    assert "stale" in r.stderr and "helpers.py" in r.stderr, r.stderr


def test_source_edited_while_its_image_builds_is_not_cached_under_the_new_hash(tmp_path):
    """The module's top level saves a new version of its own file mid-build (an editor save
    while ``pkgimage build`` runs): the image must hold the executed version's hash, so the
    next import sees it as stale and runs the new code."""
    proj = Project(tmp_path)
    new = textwrap.dedent("""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x + 2
    """)
    proj.write("editme", f"""
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x + 1
        pk.precompile(f, (Int64,))
        if pk.generating_output():
            with open(__file__, "w") as fh:
                fh.write({new!r})
            del fh
    """)
    r = proj.build("editme")
    assert r.returncode == 0, r.stdout + r.stderr
    r = proj.run("import editme\nprint(editme.f(1))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "3", (r.stdout, r.stderr)


def test_marker_inside_a_docstring_does_not_make_a_pkgimage_module(tmp_path):
    proj = Project(tmp_path)
    proj.write("docmod", '''
        """How to opt in: put this line at the top level of your module:

        __pkgimage__ = True
        """
        X = 1
    ''')
    proj.write("realmod", '''
        """A real one."""
        __pkgimage__ = True
        X = 2
    ''')
    from pkgimage.image.hook import is_pkgimage_source
    assert not is_pkgimage_source(str(proj.src / "docmod.py"))
    assert is_pkgimage_source(str(proj.src / "realmod.py"))
    r = proj.run("import docmod, sys\nprint(docmod.X, 'pkgimage' in sys.modules)",
                 PKGIMAGE_AUTO="1")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.split() == ["1", "False"]


def test_pkgimage_without_its_boot_module_says_how_to_fix_it(tmp_path):
    """The hook's marker check is the boot module's: a copy of the package folder alone (no
    ``_pkgimage_boot.py`` beside it) fails to import with one line saying what is missing."""
    shutil.copytree(Path(ROOT) / "pkgimage", tmp_path / "pkgimage",
                    ignore=shutil.ignore_patterns("__pycache__"))
    # (-S and no PYTHONPATH: neither the installed package nor the checkout's boot module)
    r = subprocess.run([sys.executable, "-S", "-c", "import pkgimage"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1] == (
        "ImportError: pkgimage is installed without its _pkgimage_boot module (installed "
        "beside the package by pip); reinstall it with pip install"), r.stderr

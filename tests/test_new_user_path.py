"""The scripted new-user path (issue 15), on every supported Python found on this machine:
a fresh venv, ``pip install`` of a built wheel of pkgimage (no make, no extra step), a
src-layout package with a subpackage installed with ``pip install``, ``pkgimage build``, an
import in a fresh process (image used, ``__init__`` run), an upgrade of the package, and an
import again (stale noticed, the new answer)."""

import glob
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from imagetools import ROOT

# The running Python; pyenv's others too with PKGIMAGE_OTHER_PYTHONS=1.  ``.ci/run`` runs
# this file under each of 3.11 (the whole suite), 3.12 and 3.13, each testing a fresh venv of
# its own version, which keeps the default suite near its time budget.
PYTHONS = {f"{sys.version_info[0]}.{sys.version_info[1]}": sys.executable}
for _v in ("3.11", "3.12", "3.13"):
    if _v in PYTHONS or os.environ.get("PKGIMAGE_OTHER_PYTHONS") != "1":
        continue
    _found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{_v}*/bin/python{_v}")))
    if _found:
        PYTHONS[_v] = _found[-1]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), ROOT])
    (whl,) = glob.glob(str(out / "pkgimage-*.whl"))
    return whl


def _package(root, version, factor):
    src = root / f"userpkg-{version}"
    pkg = src / "src" / "userpkg"
    (pkg / "sub").mkdir(parents=True, exist_ok=True)
    (src / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "userpkg"
        version = "{version}"
    """))
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import pkgimage as pk
        from pkgimage import Int64
        from userpkg.sub import scale
        __pkgimage__ = True

        def __init__():
            print("userpkg init")

        @pk.generic
        def f(x: Int64):
            return scale.times(x) + 1

        pk.precompile(f, (Int64,))
    """))
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "scale.py").write_text(textwrap.dedent(f"""
        import pkgimage as pk
        from pkgimage import Int64

        @pk.generic
        def times(x: Int64):
            return x * {factor}
    """))
    return src


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_new_user_path_in_a_fresh_venv(tmp_path, wheel, version):
    py = PYTHONS[version]
    venv = tmp_path / "venv"
    _run([py, "-m", "venv", str(venv)])
    vpy = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PKGIMAGE_", "PYTHON", "VIRTUAL_ENV"))}
    env["PKGIMAGE_CACHE"] = str(tmp_path / "cache")
    env["PKGIMAGE_AUTO"] = "0"
    _run([vpy, "-m", "pip", "install", "-q", wheel], env=env)
    _run([vpy, "-m", "pip", "install", "-q", str(_package(tmp_path, "1.0", 2))], env=env)
    _run([str(venv / "bin" / "pkgimage"), "build", "userpkg"], env=env, cwd=tmp_path)
    probe = ("import sys, userpkg; print(userpkg.f(5), 'llvmlite' in sys.modules)")
    r = _run([vpy, "-c", probe], env=env, cwd=tmp_path)
    assert r.stdout.split() == ["userpkg", "init", "11", "False"], (r.stdout, r.stderr)
    assert r.stderr == "", r.stderr
    # upgrade: the submodule changes under site-packages
    _run([vpy, "-m", "pip", "install", "-q", str(_package(tmp_path, "2.0", 3))], env=env)
    r = _run([vpy, "-c", probe], env=env, cwd=tmp_path)
    assert r.stdout.split()[:3] == ["userpkg", "init", "16"], (r.stdout, r.stderr)
    assert "stale" in r.stderr, r.stderr
    shutil.rmtree(venv, ignore_errors=True)


def test_readme_ci_snippet_runs_as_written(tmp_path, wheel):
    """The README's CI snippet, line for line, in a package's checkout (only ``pkgimage`` is
    the built wheel, ``mypkg`` this test's package)."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    block = readme.split("<!-- ci-snippet -->", 1)[1].split("<!-- /ci-snippet -->", 1)[0]
    script = block.split("```sh\n", 1)[1].split("```", 1)[0]
    assert "pip install pkgimage ." in script
    script = script.replace("pip install pkgimage .", f"pip install -q {wheel} .")
    script = script.replace("mypkg", "userpkg")
    checkout = _package(tmp_path, "1.0", 2)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PKGIMAGE_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    r = _run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=checkout)
    assert "OK" in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith("userpkg init"), r.stdout   # the image's __init__
    assert "Precompiling" not in r.stderr and "stale" not in r.stderr, r.stderr

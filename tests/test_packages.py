"""Images of packages (``pkgimage/image/packages.py``): a marked package's image holds the
package and its submodules, whatever is marked, subpackages included; builds of packages
never wait on themselves, the build order has no false import cycles, and loading the image
runs no submodule's top level but every restored module's ``__init__()``."""

from __future__ import annotations

import time

from imagetools import Project

# A package with a subpackage; every file prints when its top level runs and counts its
# ``__init__()`` calls in a list ``pkg.INITS`` (the order the modules were initialised).
INIT = """
import pkgimage as pk
from pkgimage import Int64
{mark}
print("top:pkg")
INITS = []
from .core import double
from .sub import inner
from . import plain
def __init__():
    INITS.append("pkg")
@pk.generic
def quad(x: Int64):
    return double(double(x)) + plain.K
"""
CORE = """
import pkgimage as pk
from pkgimage import Int64
{mark}
print("top:core")
from . import INITS
def __init__():
    INITS.append("core")
@pk.generic
def double(x: Int64):
    return 2 * x
"""
SUB_INIT = """
import pkgimage as pk
{mark}
print("top:sub")
from .. import INITS
from .inner import triple
def __init__():
    INITS.append("sub")
"""
INNER = """
import pkgimage as pk
from pkgimage import Int64
{mark}
print("top:inner")
from .. import core          # a relative import of the parent package's module
@pk.generic
def triple(x: Int64):
    return core.double(x) + x
@pk.precompilation(__name__)
def _workload():
    triple(5)
"""
PLAIN = """
print("top:plain")
K = 7
"""
PROBE = """
import pkg
from pkg.sub import inner
done({'quad': pkg.quad(3), 'triple': inner.triple(4), 'inits': pkg.INITS,
      'stats': stats(), 'same': inner.core is pkg.core})
"""
EXPECTED = {"quad": 3 * 4 + 7, "triple": 12}


def _package(proj, marked=("init", "core", "sub", "inner")):
    mark = "__pkgimage__ = True"
    files = {"init": ("pkg/__init__", INIT), "core": ("pkg/core", CORE),
             "sub": ("pkg/sub/__init__", SUB_INIT), "inner": ("pkg/sub/inner", INNER)}
    for key, (path, text) in files.items():
        proj.write(path, text.format(mark=mark if key in marked else ""))
    proj.write("pkg/plain", PLAIN)


def _tops(out):
    return [ln for ln in out["_stdout"] if ln.startswith("top:")]


def test_package_with_every_file_marked_builds_and_loads_without_running_top_levels(tmp_path):
    proj = Project(tmp_path)
    _package(proj)
    source = proj.run_json(PROBE, PKGIMAGE_AUTO="0")          # plain Python: the reference
    r = proj.build("pkg")
    assert proj.images() == [proj.image("pkg").name], proj.images()   # one image: the package
    out = proj.run_json(PROBE)
    assert {k: out[k] for k in EXPECTED} == EXPECTED == {k: source[k] for k in EXPECTED}
    assert _tops(out) == [], out["_stdout"]           # no top level ran, not even plain.py's
    assert out["stats"]["loaded_instances"] > 0 and out["stats"]["discarded_instances"] == 0
    assert out["same"] is True
    # every restored module's __init__ ran, submodules first, as when run from source
    assert sorted(out["inits"]) == sorted(source["inits"]) == ["core", "pkg", "sub"]
    assert out["inits"][-1] == "pkg" == source["inits"][-1]
    assert "top:plain" in r.stdout


def test_package_with_only_its_init_marked_holds_its_submodules(tmp_path):
    proj = Project(tmp_path)
    _package(proj, marked=("init",))
    proj.build("pkg")
    out = proj.run_json(PROBE)
    assert {k: out[k] for k in EXPECTED} == EXPECTED
    assert _tops(out) == [], out["_stdout"]
    assert sorted(out["inits"]) == ["core", "pkg", "sub"]


def test_editing_a_submodule_makes_the_package_image_stale(tmp_path):
    proj = Project(tmp_path)
    _package(proj)
    proj.build("pkg")
    text = (proj.src / "pkg" / "sub" / "inner.py").read_text()
    proj.write("pkg/sub/inner", text.replace("core.double(x) + x", "core.double(x) + 2 * x"))
    r = proj.run(PROBE)
    assert r.returncode == 0, r.stderr
    assert "stale image for pkg" in r.stderr and "inner.py" in r.stderr, r.stderr
    assert '"triple": 16' in r.stdout
    proj.build("pkg")
    fresh = proj.run_json(PROBE)
    assert fresh["triple"] == 16 and _tops(fresh) == []


def test_building_a_submodule_builds_its_package(tmp_path):
    proj = Project(tmp_path)
    _package(proj)
    r = proj.build("pkg.sub.inner")
    assert "built pkg " in r.stdout or "built pkg\n" in r.stdout or " pkg " in r.stdout, r.stdout
    assert len(proj.images()) == 1 and proj.images()[0].startswith("pkg-")
    r = proj.build("pkg.core")
    assert "up to date: pkg" in r.stdout, r.stdout


def test_importing_a_submodule_first_uses_the_package_image(tmp_path):
    proj = Project(tmp_path)
    _package(proj)
    proj.build("pkg")
    out = proj.run_json("from pkg.sub.inner import triple\nimport pkg\n"
                        "done({'t': triple(2), 'inits': pkg.INITS, 'stats': stats()})")
    assert out["t"] == 6 and _tops(out) == [] and out["stats"]["loaded_instances"] > 0
    assert sorted(out["inits"]) == ["core", "pkg", "sub"]


def test_auto_build_of_a_package_finishes_and_is_used(tmp_path):
    """The import starts a background build of the package (today it deadlocked on its own
    submodules' locks); the next process uses it."""
    proj = Project(tmp_path)
    _package(proj)
    first = proj.run_json(PROBE, PKGIMAGE_AUTO="1")
    assert {k: first[k] for k in EXPECTED} == EXPECTED
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not proj.images("pkg"):
        time.sleep(0.2)
    assert proj.images("pkg"), "the background build of the package never finished"
    time.sleep(0.5)
    out = proj.run_json(PROBE, PKGIMAGE_AUTO="1")
    assert {k: out[k] for k in EXPECTED} == EXPECTED and _tops(out) == []
    assert not [n for n in proj.files() if n.endswith(".lock.pid")]


def test_a_dependent_module_of_a_submodule_depends_on_the_package_image(tmp_path):
    proj = Project(tmp_path)
    _package(proj)
    proj.write("user", """
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        from pkg.sub.inner import triple
        @pk.generic
        def use(x: Int64):
            return triple(x) + 1
        pk.precompile(use, (Int64,))
    """)
    r = proj.build("user")
    assert "building pkg" in r.stdout and "building user" in r.stdout, r.stdout
    out = proj.run_json("import user\ndone({'v': user.use(3), 'stats': stats()})")
    assert out["v"] == 10 and _tops(out) == [] and out["stats"]["discarded_instances"] == 0


def test_marked_submodules_of_an_unmarked_package_have_images_of_their_own(tmp_path):
    """No false import cycle: ``b`` imports its sibling through the (unmarked) parent."""
    proj = Project(tmp_path)
    proj.write("loose/__init__", "")
    proj.write("loose/a", """
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        @pk.generic
        def f(x: Int64):
            return x + 1
    """)
    proj.write("loose/b", """
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        from . import a
        @pk.generic
        def g(x: Int64):
            return a.f(x) * 2
        pk.precompile(g, (Int64,))
    """)
    proj.build("loose.b")
    assert len(proj.images("loose.a")) == 1 and len(proj.images("loose.b")) == 1
    out = proj.run_json("from loose import b\ndone({'v': b.g(4), 'stats': stats()})")
    assert out["v"] == 10 and out["stats"]["loaded_instances"] > 0

"""Context images (issue 5, "Ownership beyond Julia"): seed 001's FixedPointNumbers x
GenericLinearAlgebra case, as examples/fixedpoint and examples/genericlinalg."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FP = os.path.join(ROOT, "examples", "fixedpoint")
GLA = os.path.join(ROOT, "examples", "genericlinalg")


def _env(cache):
    return dict(os.environ, PKGIMAGE_CACHE=str(cache), PKGIMAGE_AUTO="0",
                PYTHONPATH=os.pathsep.join([FP, GLA, ROOT]))


def _py(code, env):
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = tmp_path_factory.mktemp("ctxcache")
    env = _env(cache)
    r = subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet", "genericlinalg",
                        "fixedpoint"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return cache, env


PROBE = """
import json, sys
{imports}
import pkgimage.image.loader as L, pkgimage.image.context as C
out = {{"contexts": [h["context"] for h in C.LOADED_CONTEXTS.values() if h],
        "loaded": L.STATS["loaded_instances"], "discarded": L.STATS["discarded_instances"]}}
{calls}
out["compiled"] = "pkgimage.compiler.inference" in sys.modules
print(json.dumps(out))
"""


def test_context_image_is_written_for_code_touching_both_packages(built):
    cache, _ = built
    names = sorted(os.listdir(cache))
    assert any(n.startswith("ctx-fixedpoint+genericlinalg-") and n.endswith(".pkgi")
               for n in names), names


def test_with_both_packages_loaded_the_workload_compiles_nothing(built):
    _, env = built
    out = json.loads(_py(PROBE.format(
        imports="import fixedpoint as fp, genericlinalg as gla",
        calls="x = fp.fixed(2)\nout['value'] = fp.tofloat(gla.dot3(x, x, x, x, x, x))"),
        env).splitlines()[-1])
    assert out["value"] == 12.0
    assert out["contexts"] == [["fixedpoint", "genericlinalg"]]
    assert out["compiled"] is False
    assert out["discarded"] == 0


def test_with_only_one_package_loaded_the_context_image_is_not_loaded(built):
    _, env = built
    for mod in ("fixedpoint", "genericlinalg"):
        out = json.loads(_py(PROBE.format(imports=f"import {mod}", calls=""),
                             env).splitlines()[-1])
        assert out["contexts"] == [], mod


def test_loading_the_second_package_later_brings_the_context_image(built):
    _, env = built
    out = json.loads(_py(PROBE.format(
        imports="import fixedpoint as fp\nimport genericlinalg as gla",
        calls="x = fp.fixed(1)\nout['value'] = fp.tofloat(gla.dot3(x, x, x, x, x, x))"),
        env).splitlines()[-1])
    assert out["value"] == 3.0 and out["contexts"] and out["compiled"] is False


def test_context_image_code_is_discarded_when_a_package_changes_its_methods(built, tmp_path):
    """Validation still applies: a session method that changes what the cached code calls
    makes it be recompiled, never run stale."""
    _, env = built
    code = PROBE.format(
        imports="import fixedpoint as fp, genericlinalg as gla\nimport pkgimage as pk",
        calls="x = fp.fixed(2)\n"
              "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), {})\n"
              "out['value'] = fp.tofloat(gla.dot3(x, x, x, x, x, x))")
    patch = tmp_path / "patch.py"
    patch.write_text("import pkgimage as pk\nimport fixedpoint as fp\n"
                     "@pk.base.mul.method\ndef _(a: fp.Fixed, b: fp.Fixed):\n"
                     "    return fp.Fixed(0)\n")
    r = subprocess.run([sys.executable, "-c", code, str(patch)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["value"] == 0.0

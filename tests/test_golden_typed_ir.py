"""Golden tests of the typed IR (mypyc's ``irbuild-*.test`` idea): for a few programs, the
text of ``pk.code_typed`` is kept in ``tests/golden/<module>.typed``, so a change in the
frontend or in inference shows as a readable diff.  After an intended change, regenerate
with ``PKGIMAGE_GOLDEN_UPDATE=1 make test`` and review the diff."""

import importlib.util
import os
from pathlib import Path

import pytest

import pkgimage as pk

HERE = Path(__file__).parent / "golden"
MODULES = sorted(p.stem for p in HERE.glob("typed_*.py"))


def _load(name):
    spec = importlib.util.spec_from_file_location(f"golden_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _render(mod):
    out = []
    for fname, types in mod.GOLDEN:
        if types == (None,):
            types = mod.golden_types(fname)
        text = pk.code_typed(getattr(mod, fname), types)
        out.append(text.replace(str(HERE), "<golden>"))
    return "\n\n".join(out) + "\n"


@pytest.mark.parametrize("name", MODULES)
def test_typed_ir_matches_the_golden_file(name):
    got = _render(_load(name))
    path = HERE / f"{name}.typed"
    if os.environ.get("PKGIMAGE_GOLDEN_UPDATE") == "1" or not path.exists():
        path.write_text(got)
    assert got == path.read_text(), f"typed IR of {name} changed; see the diff above"


def test_golden_modules_exist():
    assert len(MODULES) >= 3

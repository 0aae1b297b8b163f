"""The whole programs of ``tests/programs`` (the Benchmarks Game's, Julia's micro-benchmarks,
Monte Carlo and Black-Scholes, k-means, the ray tracer, Richards, binary trees...) go into
package images and load without compiling (issues 13 and 14: "their images load without
compiling").  Each program becomes a module with ``__pkgimage__ = True`` and a post-close
workload calling its entry at a small size; a fresh process then imports every one from its
image (the compiler not imported) and calls each entry under a tripwire that counts
compiles.  What each prints and
returns is what plain Python prints and returns for the same source.  fasta, which keeps a
running generator in a module global, has no image: its build says why."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from imagetools import Project
from test_language_programs import _plain_source

PROGRAMS = Path(__file__).parent / "programs"
# program, entry, arguments (those of the build's workload and of the fresh process);
# k-nucleotide reads fasta's output from a file ("{input}": made by the fixture)
CASES = [("nbody_game", "main", (50,)), ("spectral_norm", "spectral", (12,)),
         ("binary_trees", "run", (4,)), ("raytrace", "render", (6, 3)),
         ("mandelbrot", "repeat", (1,)), ("monte_carlo", "run", (200,)),
         ("kmeans", "main", (40,)), ("fannkuch_redux", "main", (6,)),
         ("k_nucleotide", "main", ("{input}",)), ("parse_integers", "run", (20,)),
         ("printfd", "run", (20,)), ("randmatstat", "run", (10,)),
         ("richards", "main", (1,)), ("integrate", "run", (10,)),
         ("sort_records", "run", (20,)), ("float_points", "main", (10,))]

WORKLOAD = '''

__pkgimage__ = True


@pk.precompilation(__name__)
def _pkgimage_workload():
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()):
        {entry}(*{args!r})
'''

PROBE = """
import contextlib, importlib, io, json, sys
from pkgimage.image import loader
cases = json.loads(sys.argv[1])
mods = {name: importlib.import_module("img_" + name) for name, _, _ in cases}
heavy_after_import = heavy()
out, compiled = {}, {}
for name, entry, args in cases:
    m = mods[name]
    with Tripwire() as tw:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            r = getattr(m, entry)(*args)
    out[name] = [repr(r), buf.getvalue(), "img_" + name in loader.LOADED]
    if tw.total:
        compiled[name] = [tw.calls, tw.imported[:5]]
done({"out": out, "compiled": compiled, "heavy": heavy_after_import, "stats": stats()})
"""


def _plain(name, entry, args):
    """(repr of the result, printed text) of the program run as plain Python."""
    import sys
    import types
    mod = types.ModuleType(f"plain_{name}")     # (a module: dataclasses look theirs up)
    sys.modules[mod.__name__] = mod
    try:
        exec(compile(_plain_source(PROGRAMS / f"{name}.py"), f"{name}.py", "exec"),
             mod.__dict__)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            r = getattr(mod, entry)(*args)
    finally:
        del sys.modules[mod.__name__]
    return [repr(r), buf.getvalue()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    proj = Project(tmp_path_factory.mktemp("programs"))
    path = proj.root / "fasta-500.txt"
    path.write_text(_plain("fasta", "main", (500,))[1])
    cases = [(n, e, tuple(str(path) if a == "{input}" else a for a in args))
             for n, e, args in CASES]
    for name, entry, args in cases:
        text = (PROGRAMS / f"{name}.py").read_text()
        proj.write(f"img_{name}", text + WORKLOAD.format(entry=entry, args=args))
    proj.build(*(f"img_{name}" for name, _, _ in cases))
    return proj, cases


def test_every_program_loads_from_its_image_and_runs_without_compiling(built):
    proj, cases = built
    r = proj.run(PROBE, args=[json.dumps(cases)])
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["stats"]["discarded"] == [], got["stats"]
    assert got["heavy"] == [] and got["compiled"] == {}, (got["heavy"], got["compiled"])
    assert got["stats"]["discarded"] == [], got["stats"]
    for name, entry, args in cases:
        ret, printed, loaded = got["out"][name]
        assert loaded, name
        assert [ret, printed] == _plain(name, entry, args), name


def test_a_program_keeping_a_generator_in_a_global_says_why_it_has_no_image(tmp_path):
    """fasta keeps a running generator in a module global (``Random = genRandom()``); a
    generator's state cannot be stored, so the build names the global and says where to
    create it instead -- and the module still imports from source and runs."""
    proj = Project(tmp_path)
    proj.write("img_fasta", (PROGRAMS / "fasta.py").read_text() +
               WORKLOAD.format(entry="main", args=(100,)))
    r = proj.build("img_fasta", check=False)
    assert r.returncode != 0
    assert "global 'Random' (a builtins.generator) cannot be stored in a package image" in \
        r.stderr and "create it in __init__()" in r.stderr, r.stderr
    out = proj.run_json("""
import contextlib, io
import img_fasta
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    img_fasta.main(100)
done({"text": buf.getvalue()})
""")
    assert out["text"] == _plain("fasta", "main", (100,))[1]

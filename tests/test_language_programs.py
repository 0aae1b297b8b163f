"""Other people's programs, as published, with only pkgimage's decorators and annotations
added (``tests/programs``): each must compile and print what plain Python prints."""

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"


def _plain_source(path):
    """The program without pkgimage: its decorators made plain Python's (functions as they
    are, structs as frozen dataclasses, mutable structs as dataclasses with identity)."""
    return path.read_text().replace(
        "import pkgimage as pk",
        "import dataclasses, types\n"
        "class _Ann:\n"
        "    def __getitem__(self, k):\n"
        "        return None\n"
        "pk = types.SimpleNamespace(generic=lambda f: f, abstract=lambda c: c,\n"
        "    struct=dataclasses.dataclass(frozen=True), mutable=dataclasses.dataclass(eq=False),\n"
        "    Matrix=_Ann(), Vector=_Ann(), Float64=float, Int64=int)"
    ).replace("from pkgimage import List, Tuple, Float64, Int64", "")


@pytest.mark.parametrize("name,args", [("nbody_game", ["2000"]), ("spectral_norm", ["30"]),
                                       ("binary_trees", ["8"]), ("raytrace", ["30"]),
                                       ("mandelbrot", ["2"]), ("monte_carlo", ["20000"]),
                                       ("kmeans", ["2000"]), ("fannkuch_redux", ["7"]),
                                       ("fasta", ["1000"]), ("k_nucleotide", ["2000"]),
                                       ("parse_integers", ["1000"]), ("printfd", ["200"]),
                                       ("randmatstat", ["200"]), ("richards", ["3"]),
                                       ("integrate", ["200"]), ("sort_records", ["300"]),
                                       ("float_points", ["1000"])])
def test_published_program_prints_what_plain_python_prints(tmp_path, name, args):
    path = PROGRAMS / f"{name}.py"
    plain = tmp_path / f"{name}_plain.py"
    plain.write_text(_plain_source(path))
    env = {"PKGIMAGE_AUTO": "0", "PKGIMAGE_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(Path(__file__).parent.parent), "PATH": "/usr/bin:/bin"}
    got = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                         env=env, timeout=600)
    want = subprocess.run([sys.executable, str(plain), *args], capture_output=True, text=True,
                          env=env, timeout=600)
    assert got.returncode == 0, got.stderr[-3000:]
    assert want.returncode == 0, want.stderr[-3000:]
    assert got.stdout == want.stdout and got.stdout.strip()

"""Helpers for the package-image tests: every check runs in a fresh process.

``Project(tmp_path)`` is a folder of modules (``tmp_path/src`` on ``PYTHONPATH``) with its own
cache folder (``tmp_path/cache``).  ``write`` adds modules, ``build`` runs
``python -m pkgimage build`` and ``run`` runs a script in a fresh interpreter; both return a
``subprocess.CompletedProcess`` with text ``stdout``/``stderr``.  ``run_json`` runs a script
whose last stdout line is JSON and returns it decoded (asserting a zero exit status).

``PKGIMAGE_AUTO=0`` is set unless a test asks otherwise, so nothing builds behind its back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 240

# Prelude for probe scripts: what the warm path must not have imported, and the loader's
# statistics.  A probe ends with ``done(out)``, which prints ``out`` as JSON.
PRELUDE = textwrap.dedent(r'''
    import json, sys
    def heavy():
        return sorted(m for m in ("pkgimage.compiler.inference", "pkgimage.compiler.pipeline",
                                  "pkgimage.compiler.codegen", "pkgimage.compiler.jit",
                                  "llvmlite.binding", "llvmlite") if m in sys.modules)
    def stats():
        L = sys.modules.get("pkgimage.image.loader")
        if L is None:
            return {"loaded_instances": 0, "discarded_instances": 0, "discarded": []}
        return dict(L.STATS, discarded=[list(map(str, d)) for d in L.DISCARDED])
    def done(out):
        print(json.dumps(out, default=repr))
    class Tripwire:
        """Counts what runs the compiler inside a ``with`` block: Python calls into
        inference, codegen, the JIT and the pipeline, and modules of the compiler or
        llvmlite imported meanwhile (a warm image call must show none of either)."""
        FILES = ("inference.py", "codegen.py", "jit.py", "pipeline.py")
        def __enter__(self):
            self.calls = {}
            self._before = set(sys.modules)
            def prof(frame, event, arg):
                if event == "call":
                    fn = frame.f_code.co_filename.replace("\\", "/")
                    base = fn.rsplit("/", 1)[-1]
                    if "/pkgimage/compiler/" in fn and base in self.FILES:
                        self.calls[base] = self.calls.get(base, 0) + 1
            sys.setprofile(prof)
            return self
        # (the registries of intrinsics the base library's own import brings: no compiler
        # stage; a first ``a + b`` from Python may import the library meanwhile)
        LIBRARY = {"pkgimage.compiler." + m for m in (
            "intrinsics", "closureintr", "dictintr", "excintr", "fieldintr", "listintr",
            "npbuild", "npintr", "pyintr", "setintr", "strintr")}
        def __exit__(self, *exc):
            sys.setprofile(None)
            new = set(sys.modules) - self._before
            skip = self.LIBRARY if "pkgimage.base" in new else set()
            self.imported = sorted(m for m in new - skip
                                   if m.startswith(("pkgimage.compiler", "llvmlite")))
        @property
        def total(self):
            return sum(self.calls.values()) + len(self.imported)
    ''')


class Project:
    def __init__(self, tmp_path):
        self.root = tmp_path
        self.src = tmp_path / "src"
        self.cache = tmp_path / "cache"
        self.src.mkdir(exist_ok=True)

    # -- files --------------------------------------------------------------------------------
    def write(self, name, text):
        """Write module ``name`` (``pkg/mod`` paths allowed) with dedented ``text``."""
        path = self.src / (name if name.endswith(".py") else name + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def images(self, module=None):
        if not self.cache.exists():
            return []
        return sorted(p.name for p in self.cache.iterdir() if p.name.endswith(".pkgi")
                      and (module is None or p.name.startswith(module + "-")))

    def image(self, module):
        found = self.images(module)
        assert len(found) == 1, (module, found)
        return self.cache / found[0]

    def files(self):
        return sorted(p.name for p in self.cache.iterdir()) if self.cache.exists() else []

    # -- processes ----------------------------------------------------------------------------
    def env(self, **extra):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("PKGIMAGE_"):
                del env[k]
        # the modules, then the checkout these tests belong to (also when it is not the
        # one installed in the interpreter)
        env.update(PKGIMAGE_CACHE=str(self.cache),
                   PYTHONPATH=os.pathsep.join([str(self.src), ROOT]),
                   PKGIMAGE_AUTO="0", PYTHONDONTWRITEBYTECODE="1")
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def build(self, *modules, check=True, cwd=None, **env):
        r = subprocess.run([sys.executable, "-m", "pkgimage", "build", *modules],
                           env=self.env(**env), capture_output=True, text=True,
                           timeout=TIMEOUT, cwd=cwd or self.root)
        if check:
            assert r.returncode == 0, f"build {modules} failed:\n{r.stdout}\n{r.stderr}"
        return r

    def run(self, script, args=(), cwd=None, **env):
        return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(script), *args],
                              env=self.env(**env), capture_output=True, text=True,
                              timeout=TIMEOUT, cwd=cwd or self.root)

    def run_json(self, script, **env):
        r = self.run(script, **env)
        assert r.returncode == 0, f"script failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        lines = r.stdout.strip().splitlines()
        assert lines, r.stderr
        out = json.loads(lines[-1])
        out["_stdout"] = lines[:-1]
        out["_stderr"] = r.stderr
        return out

    def cli(self, *args, **env):
        return subprocess.run([sys.executable, "-m", "pkgimage", *args], env=self.env(**env),
                              capture_output=True, text=True, timeout=TIMEOUT, cwd=self.root)

"""Differential fuzzing of whole programs (issue 8, "Differential testing").

Hypothesis draws the shape of random programs (a seed, 2-4 modules, how many structs,
abstract types, functions and extended operators); ``fuzzgen`` writes them: structs, abstract
types, generic functions over Int64/Float64/Real/Any/user types, methods extending other
modules' functions and ``pkgimage.base``'s ``add``/``sub``/``mul``/``neg``, constants,
``pk.precompile`` and build-time calls, in random definition orders, with random import
orders and calls interleaved (calls made before every module is loaded see fewer methods,
and later imports invalidate what they compiled).  Each program's results must be identical
(values bit for bit, error kinds) across:

(a) the same sources run as plain Python against ``fuzzref`` (a pure-Python model of the API
    with its own dispatch), in this process;
(b) fresh JIT processes (``fuzzdriver.py``), 50 programs per process, two processes at once;
(c) a process that loads images built by ``pkgimage build -j2`` -- each module built in its
    own process where only its dependencies are loaded, compiled by its precompile calls and
    build-time workloads -- in another import order, next to the modules of every other
    program of the sample (which extend the same base operators).

Some modules carry a post-close workload that mutates the program's state (issue 16, see
``fuzzgen.mutating_workload``); the reference ignores it, so (c) checks that none of it reached
an image.  About 30% of the programs are built with ``PKGIMAGE_SANDBOX=inprocess``: there the
modules whose workloads define methods must fail with "cannot undo" (their dependents are
blocked) and nothing else may fail.

Default (``make test``): 120 programs through (a)/(b), and a sample of 12 of them (about 27
modules, all built in one ``pkgimage build -j2`` call) through (c): building costs 0.3-0.5 s
per module, so (c) gets the smaller sample (sized so that the whole default suite stays near
ten minutes; ``make fuzz`` is the deep run).  ``PKGIMAGE_FUZZ=long`` (``make fuzz``): 3000
programs through (a)/(b) and 300 through (c), with fresh random draws each run (default mode
is derandomized, so CI is deterministic).  A failure prints each failing program's sources,
steps and both results; ``PKGIMAGE_FUZZ_KEEP=DIR`` keeps the generated sources there and
``PKGIMAGE_FUZZ_PROGRAMS=N`` changes the number of programs (``PKGIMAGE_FUZZ_IMAGES=N`` the
size of the image sample).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import fuzzdriver
import fuzzgen
import fuzzref
from imagetools import Project

LONG = os.environ.get("PKGIMAGE_FUZZ") == "long"
N_JIT = int(os.environ.get("PKGIMAGE_FUZZ_PROGRAMS", 3000 if LONG else 120))
N_IMG = min(N_JIT, int(os.environ.get("PKGIMAGE_FUZZ_IMAGES", 300 if LONG else 12)))
BATCH = 50
PARALLEL = 2
HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "fuzzdriver.py")
TIMEOUT = 1800 if LONG else 300

PARAMS = st.fixed_dictionaries({
    "seed": st.integers(0, 2 ** 63 - 1),
    "nmod": st.integers(2, 4),
    "nstruct": st.integers(1, 5),
    "nabs": st.integers(0, 3),
    "nfn": st.integers(2, 6),
    "ops": st.integers(0, 3),
})


@functools.lru_cache(maxsize=None)
def programs(n):
    """``n`` generated programs: hypothesis draws their parameters (derandomized unless in
    long mode), ``fuzzgen`` writes them."""
    drawn = []

    @settings(max_examples=n, derandomize=not LONG, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(PARAMS)
    def collect(params):
        drawn.append(params)

    collect()
    # hypothesis may stop early when it finds no new examples: top up with derived seeds
    i = 0
    while len(drawn) < n:
        p = dict(drawn[i % len(drawn)])
        p["seed"] = (p["seed"] * 6364136223846793005 + 1442695040888963407 + i) % 2 ** 63
        drawn.append(p)
        i += 1
    return [fuzzgen.generate(i, p) for i, p in enumerate(drawn[:n])]


# -- the reference: the same sources as plain Python -------------------------------------------

class _RefFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the reference flavour of a program's modules (``import fuzzref as pk``)."""

    def __init__(self, sources):
        self.sources = sources

    def find_spec(self, name, path, target=None):
        if name in self.sources:
            return importlib.util.spec_from_loader(name, self, origin=f"<fuzzref {name}>")
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        src = self.sources[module.__name__]
        exec(compile(src, f"<fuzzref {module.__name__}>", "exec", dont_inherit=True),
             module.__dict__)
        init = module.__dict__.get("__init__")
        if callable(init):
            init()                    # as pkgimage runs it at every load


def reference(P, key):
    sources = {P.modname(k): P.source(k, reference=True) for k in range(P.nmod)}
    sources.update(P.extra_sources())
    finder = _RefFinder(sources)
    sys.meta_path.insert(0, finder)
    try:
        return fuzzdriver.run_program(P.steps[key], fuzzref)
    finally:
        sys.meta_path.remove(finder)
        for name in sources:
            sys.modules.pop(name, None)


def check_reference(P, key, res):
    """The reference's own results say nothing wrong about the generator: no import error,
    no Python error outside the categories, no integer past Int64."""
    bad = [r for r in res if r[0] in ("importerr", "argerr")
           or (r[0] == "err" and r[1].startswith("other:")) or "overflow" in json.dumps(r)]
    assert not bad, f"generator bug in {P.pid} (steps {key}): {bad}\n{describe(P, key)}"


def describe(P, key, got=None, expected=None):
    out = [f"=== program {P.pid} ==="]
    for k in range(P.nmod):
        out.append(f"--- {P.modname(k)}.py ---")
        out.append(P.source(k))
    for name, src in P.extra_sources().items():
        out.append(f"--- {name}.py ---")
        out.append(src)
    out.append(f"--- steps ({key}) ---")
    out.extend(json.dumps(s) for s in P.steps[key])
    if got is not None:
        for i, (g, e) in enumerate(zip(got, expected)):
            mark = "   " if g == e else "!!!"
            out.append(f"{mark} result {i}: pkgimage {json.dumps(g)}  python {json.dumps(e)}")
        if len(got) != len(expected):
            out.append(f"!!! pkgimage gave {len(got)} results, python {len(expected)}")
    return "\n".join(out)


# -- pkgimage processes ------------------------------------------------------------------------

def write_sources(proj, progs):
    for P in progs:
        for k in range(P.nmod):
            proj.write(P.modname(k), P.source(k))
        for name, src in P.extra_sources().items():
            proj.write(name, src)
    keep = os.environ.get("PKGIMAGE_FUZZ_KEEP")
    if keep:
        shutil.copytree(proj.src, keep, dirs_exist_ok=True)


def start(proj, progs, key, tag):
    path = proj.root / f"{tag}.json"
    path.write_text(json.dumps([{"pid": P.pid, "steps": P.steps[key]} for P in progs]))
    out = open(proj.root / f"{tag}.out", "w+")
    err = open(proj.root / f"{tag}.err", "w+")
    proc = subprocess.Popen([sys.executable, DRIVER, str(path)], env=proj.env(), stdout=out,
                            stderr=err, cwd=proj.root, text=True)
    return proc, out, err


def finish(job, progs, key):
    """Wait for a driver process; its results by program id, its loader statistics, and a
    description of how it ended when it did not end well (the program it was running)."""
    proc, out, err = job
    trouble = None
    try:
        proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        trouble = "timed out"
    out.seek(0)
    err.seek(0)
    results, stats = {}, None
    for line in out.read().splitlines():
        if line.startswith("R "):
            pid, res = json.loads(line[2:])
            results[pid] = res
        elif line.startswith("S "):
            stats = json.loads(line[2:])
    if trouble is None and proc.returncode != 0:
        trouble = f"exit status {proc.returncode}"
    if trouble:
        culprit = next((P for P in progs if P.pid not in results), None)
        what = describe(culprit, key) if culprit else ""
        trouble = f"driver process {trouble} while running {culprit and culprit.pid}:\n" \
                  f"{err.read()[-4000:]}\n{what}"
    out.close()
    err.close()
    return results, stats, trouble


def compare(progs, key, results, expected):
    bad = []
    for P in progs:
        got = results.get(P.pid)
        if got != expected[P.pid]:
            bad.append(describe(P, key, got or [], expected[P.pid]))
    return bad


def report(bad, total, what):
    if bad:
        head = f"{len(bad)} of {total} programs differ ({what}); the first ones:\n"
        pytest.fail(head + "\n\n".join(bad[:3]), pytrace=False)


# -- tests -------------------------------------------------------------------------------------

def test_fuzz_programs_jit_process_matches_plain_python(tmp_path):
    """(a) against (b) for every program: the bodies as plain Python, and fresh processes
    compiling them (calls interleaved with imports, so later modules invalidate code)."""
    progs = programs(N_JIT)
    expected = {}
    for P in progs:
        expected[P.pid] = reference(P, "a")
        check_reference(P, "a", expected[P.pid])
    proj = Project(tmp_path)
    write_sources(proj, progs)
    pending = [progs[i:i + BATCH] for i in range(0, len(progs), BATCH)]
    results, troubles, running = {}, [], []
    t0 = time.monotonic()
    while pending or running:
        while pending and len(running) < PARALLEL:
            batch = pending.pop(0)
            running.append((start(proj, batch, "a", f"jit{len(pending)}"), batch))
        job, batch = running.pop(0)
        res, _, trouble = finish(job, batch, "a")
        results.update(res)
        if trouble:
            troubles.append(trouble)
    assert not troubles, "\n\n".join(troubles)
    report(compare(progs, "a", results, expected), len(progs), "JIT process vs plain Python")
    calls = sum(1 for P in progs for s in P.steps["a"] if s[0] == "call")
    print(f"\nfuzz: {len(progs)} programs, {calls} calls, JIT {time.monotonic() - t0:.1f}s")


def test_fuzz_programs_images_built_elsewhere_match_plain_python(tmp_path):
    """(a) against (c) for a sample: images built module by module (each build process
    sees only the module's dependencies), loaded in another order next to other programs."""
    progs = programs(N_JIT)[:N_IMG]
    expected = {}
    for P in progs:
        expected[P.pid] = reference(P, "b")
        check_reference(P, "b", expected[P.pid])
    proj = Project(tmp_path)
    write_sources(proj, progs)
    mods = [P.modname(k) for P in progs for k in range(P.nmod) if k not in P.plain]
    outcome = {}
    for P in progs:
        outcome.update(build_outcomes(P))
    t0 = time.monotonic()
    # the programs' images in the fork sandbox (the default), then a fraction of the programs
    # in the in-process sandbox, which refuses the workloads that define methods
    fork = [m for P in progs if P.sandbox == "fork" for m in P.modnames_built()]
    inproc = [m for P in progs if P.sandbox == "inprocess" for m in P.modnames_built()]
    r = build(proj, fork)
    assert r.returncode == 0, f"build failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    if inproc:
        r = build(proj, inproc, PKGIMAGE_SANDBOX="inprocess")
        check_inprocess_build(r, {m: outcome[m] for m in inproc}, progs)
    t_build = time.monotonic() - t0
    res, stats, trouble = finish(start(proj, progs, "b", "img"), progs, "b")
    assert not trouble, trouble
    err = (proj.root / "img.err").read_text()
    assert "Recompiling" not in err and "unusable" not in err, err[-3000:]
    built = {m for m in mods if outcome[m] == "built"}
    missing = sorted(built - set(stats["loaded"]))
    assert not missing, f"modules not loaded from their images: {missing}"
    report(compare(progs, "b", res, expected), len(progs), "images built elsewhere vs plain Python")
    nmut = sum(len(P.mutators) for P in progs)
    print(f"\nfuzz images: {len(progs)} programs, {len(built)} images built in {t_build:.1f}s "
          f"({len(inproc)} modules in-process, {len(mods) - len(built)} refused or blocked; "
          f"{nmut} mutating workloads); {stats['loaded_instances']} instances loaded, "
          f"{stats['discarded_instances']} discarded, {stats['compiled']} compiled at run time")


def build(proj, mods, **env):
    """``pkgimage build -j2 MODS`` (``Project.build`` with the fuzz test's time limit: a large
    sample takes minutes)."""
    return subprocess.run([sys.executable, "-m", "pkgimage", "build", "-j2", *mods],
                          env=proj.env(**env), capture_output=True, text=True,
                          timeout=TIMEOUT + 10 * len(mods), cwd=proj.root)


def build_outcomes(P):
    """What building the program's pkgimage modules must give, by module name: "built";
    "refused" where the in-process sandbox meets a workload that defines or replaces methods;
    "blocked" where a dependency was refused or blocked."""
    out = {}
    for k in range(P.nmod):
        if k in P.plain:
            continue
        deps = [P.modname(j) for j in P.vis[k] - {k} if j not in P.plain]
        if any(out[d] != "built" for d in deps):
            out[P.modname(k)] = "blocked"
        elif P.sandbox == "inprocess" and k in P.defines:
            out[P.modname(k)] = "refused"
        else:
            out[P.modname(k)] = "built"
    return out


def check_inprocess_build(r, outcome, progs):
    """The in-process build fails exactly where a workload defines methods, with the message
    that the in-process sandbox cannot undo them, and blocks exactly their dependents."""
    failed = set(re.findall(r"\] FAILED (\S+) after", r.stdout))
    blocked = set(re.findall(r"\] skipped (\S+): dependency", r.stdout))
    want_failed = {m for m, o in outcome.items() if o == "refused"}
    want_blocked = {m for m, o in outcome.items() if o == "blocked"}
    where = f"\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    messages = dict(re.findall(r"^pkgimage: building (\S+) failed: (.*)$", r.stderr, flags=re.M))
    wrong = sorted(m for m in failed if "cannot undo" not in messages.get(m, ""))
    culprits = sorted((failed ^ want_failed) | set(wrong) | (blocked ^ want_blocked))
    if culprits:
        pids = {m.rsplit("_", 1)[0] for m in culprits}
        shown = "\n\n".join(describe(P, "b") for P in progs if P.pid in pids)
        pytest.fail(f"in-process build: failed {sorted(failed)} (expected {sorted(want_failed)}),"
                    f" blocked {sorted(blocked)} (expected {sorted(want_blocked)}), failed "
                    f"without 'cannot undo': {wrong}{where}\n{shown[:20000]}", pytrace=False)
    assert (r.returncode != 0) == bool(want_failed), where


# -- regressions found by the fuzzer, reduced ---------------------------------------------------

def test_fuzz_found_workload_calling_unowned_instance_compiled_at_top_level(tmp_path):
    """Top-level code compiled another module's method for another module's types (owned by
    no image), whose callee ``mod(Float64, Int64)`` a post-close workload then called: the
    build failed with "called natively but owned by no image"."""
    proj = Project(tmp_path)
    proj.write("fzr_a", """
        import pkgimage as pk
        from pkgimage import Float64
        __pkgimage__ = True

        @pk.struct
        class S2:
            p: Float64

        @pk.base.mul.method
        def _(n: S2, m: Float64):
            m %= (-1000)
            return m
    """)
    proj.write("fzr_b", """
        import pkgimage as pk
        from pkgimage import Float64
        __pkgimage__ = True
        from fzr_a import S2

        @pk.struct
        class S3:
            p: Float64

        @pk.generic
        def f0(n: S3):
            t2 = n.p
            t2 %= (-97)
            return t2

        pk.precompile(pk.base.mul, (S2, Float64))

        @pk.precompilation(__name__)
        def _workload():
            f0(S3(0.1))
    """)
    proj.build("fzr_b")
    out = proj.run_json("""
        import fzr_a, fzr_b, pkgimage as pk
        from pkgimage.compiler import pipeline
        f0 = fzr_b.f0(fzr_b.S3(5.5))
        compiled = pipeline.STATS["compiled"]
        done({"f0": f0, "mul": pk.base.mul(fzr_a.S2(1.0), 2500.5), "stats": stats(),
              "compiled": compiled})
    """)
    assert out["f0"] == 5.5 % -97 and out["mul"] == 2500.5 % -1000
    assert out["stats"]["loaded_instances"] > 0 and out["compiled"] == 0

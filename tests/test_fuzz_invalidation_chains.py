"""Random call chains across package images, invalidated after the load: differential.

The shape of the held-caller defect (fixed in ``0457741``): an image holds some instances as
records and makes others (called early, or made at load); a method defined after the load
changes what a call deep in another image's code resolves to; invalidation must then reach
every caller through backedges, whether it was made or is still held, and a caller made
afterwards must not run its callees' old code.

Each case draws a random DAG of functions spread over three image modules (each body a loop,
so that nothing is inlined and every call is a native call through a symbol), a random set
of them precompiled into the images, a random set called from Python before the change, the
change itself (a narrower method of the leaf function ``g``, in a module imported later) and
then every function called in a random order.  The expected values follow from the DAG: a
function returns ``reps * (sum of its callees' values) + const`` and ``g(::Int64)`` is 1
before the change and 2 after.  A case is checked against those values and, once, against
the same modules run without images.  In half the cases ``g``'s value comes from a method the
first module adds to the base library's ``add`` (a struct's ``__add__``), which the change
replaces: a load that does not import the library holds that method for its import."""

from __future__ import annotations

import json
import random

import pytest

from imagetools import Project

MODS = ("fza", "fzb", "fzc")


def _case(seed):
    """A random case that has the shape at least once (drawn again until it does): a
    precompiled function not called before the change, calling neither ``g`` nor another
    module's functions itself (an image holds it as a record), whose callee in its own
    module is called before the change and reaches ``g`` through a function another module's
    image holds."""
    rng = random.Random(seed)
    while True:
        case = _draw(rng)
        if _has_shape(*case):
            return case


def _reaches_g(funcs, j, seen):
    if j in seen:
        return False
    seen.add(j)
    return funcs[j][5] or any(_reaches_g(funcs, c, seen) for c in funcs[j][4])


def _has_shape(funcs, pre, early, late):
    for a, f in enumerate(funcs):
        if a not in pre or a in early:
            continue
        # A's callees in its own module, transitively: none may call g itself (held
        # instances that call g are made, with their callers, when g gains a method)
        part, stack = {a}, [a]
        while stack:
            for c in funcs[stack.pop()][4]:
                if funcs[c][1] == f[1] and c not in part:
                    part.add(c)
                    stack.append(c)
        if any(funcs[j][5] for j in part) or \
                any(funcs[c][1] != f[1] for c in f[4]):
            continue
        # B, called before the change, reaches g through X: a function of another module
        # precompiled into that module's image (an instance outside A's part)
        for b in part:
            if b != a and b in early and any(
                    funcs[x][1] != f[1] and x in pre and _reaches_g(funcs, x, set())
                    for x in _callees(funcs, b)):
                return True
    return False


def _callees(funcs, j):
    seen, stack = set(), [j]
    while stack:
        for c in funcs[stack.pop()][4]:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def _draw(rng):
    n = rng.randint(5, 9)
    funcs = []                        # (name, module index, reps, const, callees)
    for i in range(n):
        k = rng.randrange(len(MODS))
        # callees: functions defined before (a DAG), in the same module or one before
        pool = [j for j in range(i) if funcs[j][1] <= k]
        callees = rng.sample(pool, min(len(pool), rng.randint(0, 2)))
        calls_g = not callees or rng.random() < 0.3
        funcs.append((f"h{i}", k, rng.randint(1, 3), rng.randint(0, 9), callees, calls_g))
    pre = {i for i in range(n) if rng.random() < 0.6}
    early = [i for i in range(n) if rng.random() < 0.35]
    rng.shuffle(early)
    late = list(range(n))
    rng.shuffle(late)
    return funcs, pre, early, late


# ``g`` through a method of the base library's ``add`` that the first module adds (a
# struct's ``__add__``: held for the library's import when a load does not import it,
# ``loader.restore_methods``), which the change then replaces
_LIB_G = ["@pk.struct", "class One:", "    v: Int64", "",
          "    def __add__(self, o: 'One'):", "        return One(1)", "",
          "@pk.generic", "def g(x: Real):", "    return (One(1) + One(1)).v", ""]
_LIB_CHANGE = (f"import pkgimage as pk\nimport {MODS[0]}\n\n@pk.base.add.method\n"
               f"def _(a: {MODS[0]}.One, b: {MODS[0]}.One):\n    return {MODS[0]}.One(2)\n")


def _sources(funcs, pre, lib=False):
    """The modules' sources; ``lib``: ``g``'s value comes from a method of the base
    library's ``add`` (``_LIB_G``), and the change replaces that method."""
    out = {}
    for k, mod in enumerate(MODS):
        lines = ["import pkgimage as pk", "from pkgimage import Int64, Real"]
        lines += [f"import {m}" for m in MODS[:k]]
        lines += ["", "__pkgimage__ = True", ""]
        if k == 0:
            lines += _LIB_G if lib else ["@pk.generic", "def g(x: Real):", "    return 1", ""]
        mine = [i for i, f in enumerate(funcs) if f[1] == k]
        for i in mine:
            name, _, reps, const, callees, calls_g = funcs[i]
            terms = [f"{MODS[funcs[j][1]]}.{funcs[j][0]}(x)" if funcs[j][1] != k
                     else f"{funcs[j][0]}(x)" for j in callees]
            if calls_g:
                terms.append("g(x)" if k == 0 else f"{MODS[0]}.g(x)")
            lines += ["@pk.generic", f"def {name}(x: Int64):", "    t = 0",
                      f"    for _ in range({reps}):", f"        t += {' + '.join(terms)}",
                      f"    return t + {const}", ""]
        pres = [funcs[i][0] for i in mine if i in pre]
        if pres:
            lines += ["if pk.generating_output():"]
            lines += [f"    pk.precompile({p}, (Int64,))" for p in pres]
        out[mod] = "\n".join(lines) + "\n"
    out["fzchange"] = _LIB_CHANGE if lib else (
        f"import {MODS[0]}\nfrom pkgimage import Int64\n\n"
        f"@{MODS[0]}.g.method\ndef _(x: Int64):\n    return 2\n")
    return out


def _expected(funcs, gval):
    vals = []
    for name, k, reps, const, callees, calls_g in funcs:
        s = sum(vals[j] for j in callees) + (gval if calls_g else 0)
        vals.append(reps * s + const)
    return vals


def _script(funcs, early, late, base_at=0):
    """``base_at``: where the base library is imported -- 0: only when something compiles
    (the loads take its tables on trust, ``tables.deferrable``, and check them then), 1:
    before the images are loaded, 2: between the early calls and the change."""
    ref = [f"{MODS[f[1]]}.{f[0]}" for f in funcs]
    return (("import pkgimage.base\n" if base_at == 1 else "") +
            f"import {', '.join(MODS)}\n"
            f"early = [{', '.join(ref[i] + '(3)' for i in early)}]\n" +
            ("import pkgimage.base\n" if base_at == 2 else "") +
            "import fzchange\n"
            f"late = {{{', '.join(f'{i}: ' + ref[i] + '(3)' for i in late)}}}\n"
            "done({'early': early, 'late': {str(k): v for k, v in late.items()}, "
            "'stats': stats()})\n")


def _run(p, funcs, early, late, base_at=0):
    out = p.run_json(_script(funcs, early, late, base_at))
    return out["early"], [out["late"][str(i)] for i in range(len(funcs))], out["stats"]


@pytest.mark.parametrize("seed", range(4))
def test_random_chains_across_images_answer_as_plain_python_after_a_later_method(seed,
                                                                                tmp_path):
    funcs, pre, early, late = _case(seed)
    lib = seed % 2 == 1               # (seed 3: the library not imported before the change)
    p = Project(tmp_path)
    for mod, text in _sources(funcs, pre, lib).items():
        p.write(mod, text)
    r = p.build(*MODS)
    assert r.returncode == 0, r.stderr[-3000:]
    got_early, got_late, st = _run(p, funcs, early, late, base_at=seed % 3)
    before, after = _expected(funcs, 1), _expected(funcs, 2)
    what = json.dumps({"funcs": funcs, "pre": sorted(pre), "early": early, "late": late,
                       "lib": lib})
    assert got_early == [before[i] for i in early], what
    assert got_late == after, what
    assert st["discarded_instances"] == 0 and st["loaded_instances"] >= len(pre), (st, what)
    if seed in (0, 3):
        # a fresh compile (no images) agrees
        (tmp_path / "cold").mkdir()
        cold = Project(tmp_path / "cold")
        for mod, text in _sources(funcs, pre, lib).items():
            cold.write(mod, text)
        c_early, c_late, c_st = _run(cold, funcs, early, late)
        assert (c_early, c_late) == (got_early, got_late) and c_st["loaded_instances"] == 0

"""Runs the step lists of generated programs (issue 8's differential fuzz test).

Used in three places: in the test process against ``fuzzref`` (the plain-Python reference),
and as the script of the JIT and image processes against pkgimage
(``python fuzzdriver.py PROGRAMS.json``: one ``R [pid, results]`` line per program, flushed,
so that a crash or hang is pinned on the program that caused it; a final ``S {...}`` line with
what the image loader did).

A step is ``["import", module]``, ``["call", fnref, argspecs]`` or ``["set", module, name,
argspec]`` (rebind a module global from Python); ``fnref`` is
``["fn", module, name]`` or ``["op", name]`` (an operator of ``pk.base``).  Results are
JSON-able: ``["ok", value]`` with ints, floats (hex, bit for bit) and structs (name and
fields) encoded, or ``["err", category]`` where the categories are what both sides must agree
on (``ZeroDivisionError`` covers pkgimage's ``DivideError``); anything else is
``other:Type: message`` and never matches.

Argument specs: ``["i", int]``, ``["f", hex]``, ``["s", module, name, [fields]]`` (a parametric
struct's name carries its parameter: ``"P3[Int64]"``), ``["t", [elements]]`` (a tuple) and
``["m", "Int64" | "Float64", rows]`` (a 2-D array: a NumPy array for pkgimage, a
``fuzzref.RefMatrix`` for the reference).  A call that takes arrays also reports their contents
afterwards (``["ok", value, [arrays]]``): the writes a method made through them.
"""

import importlib
import json
import sys


def build(spec, pkmod):
    kind = spec[0]
    if kind == "i":
        return spec[1]
    if kind == "f":
        return float.fromhex(spec[1])
    if kind == "t":
        return tuple(build(s, pkmod) for s in spec[1])
    if kind == "m":
        rows = [[build(x, pkmod) for x in row] for row in spec[2]]
        if getattr(pkmod, "RefMatrix", None) is not None:
            return pkmod.RefMatrix(getattr(pkmod, spec[1]), rows)
        import numpy as np
        return np.array(rows, dtype=np.int64 if spec[1] == "Int64" else np.float64)
    name = spec[2]
    if "[" in name:
        base, param = name[:-1].split("[")
        cls = getattr(sys.modules[spec[1]], base)[getattr(pkmod, param)]
    else:
        cls = getattr(sys.modules[spec[1]], name)
    return cls(*[build(s, pkmod) for s in spec[3]])


def is_array(v):
    return type(v).__name__ in ("ndarray", "RefMatrix")


def enc(v):
    t = type(v)
    if t is bool:
        return ["b", v]
    if t is int:
        return ["i", v] if -2 ** 63 <= v < 2 ** 63 else ["overflow", str(v)]
    if t is float:
        return ["f", "nan" if v != v else v.hex()]
    if v is None:
        return ["none"]
    if t is tuple:
        return ["t", [enc(x) for x in v]]
    if is_array(v):
        return ["a", list(v.shape), [[enc(x) for x in row] for row in v.tolist()]]
    names = getattr(t, "__rfields__", None)
    if names is None and hasattr(t, "__pk_fields__"):
        names = [n for n, _ in t.__pk_fields__]
    if names is not None:
        return ["s", t.__name__, [enc(getattr(v, n)) for n in names]]
    return ["?", t.__name__, repr(v)[:200]]


def category(e):
    name = type(e).__name__
    if isinstance(e, ZeroDivisionError):
        return "ZeroDivisionError"
    if isinstance(e, IndexError):
        return "BoundsError"
    if name in ("MethodError", "AmbiguityError", "InexactError", "BoundsError"):
        return name
    if name == "ErrorException":
        return f"ErrorException: {e}"
    msg = " ".join(str(e).split())[:400]
    return f"other:{name}: {msg}"


def run_program(steps, pkmod):
    out = []
    for step in steps:
        if step[0] == "import":
            try:
                importlib.import_module(step[1])
            except Exception as e:
                out.append(["importerr", step[1], category(e)])
                break
            continue
        if step[0] == "set":
            # rebinding a module global from Python between calls
            setattr(sys.modules[step[1]], step[2], build(step[3], pkmod))
            continue
        fnref, argspecs = step[1], step[2]
        if fnref[0] == "op":
            f = getattr(pkmod.base, fnref[1])
        else:
            f = getattr(sys.modules[fnref[1]], fnref[2])
        try:
            args = [build(a, pkmod) for a in argspecs]
        except Exception as e:
            out.append(["argerr", category(e)])
            continue
        try:
            r = ["ok", enc(f(*args))]
            arrays = [enc(a) for a in args if is_array(a)]
            out.append(r + [arrays] if arrays else r)
        except Exception as e:
            out.append(["err", category(e)])
    return out


def main(path):
    import pkgimage
    with open(path) as fh:
        progs = json.load(fh)
    for p in progs:
        res = run_program(p["steps"], pkgimage)
        print("R " + json.dumps([p["pid"], res]), flush=True)
    loader = sys.modules.get("pkgimage.image.loader")
    stats = {"loaded": sorted(getattr(loader, "LOADED", {})) if loader else [],
             "loaded_instances": loader.STATS["loaded_instances"] if loader else 0,
             "discarded_instances": loader.STATS["discarded_instances"] if loader else 0}
    pipeline = sys.modules.get("pkgimage.compiler.pipeline")
    stats["compiled"] = pipeline.STATS.get("compiled", 0) if pipeline else 0
    print("S " + json.dumps(stats), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

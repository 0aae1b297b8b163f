"""``pkgimage show MODULE`` (what an image holds) and ``pkgimage tree MODULE.FUNCTION``
(MethodInstances with their backedge trees, MethodAnalysis' ``print_tree``)."""

from __future__ import annotations

import json
import os

from ..image import format as F
from ..image.lock import image_of, stale_reason
from . import ToolError, human_size, import_user_module


def _context_images(name):
    """[(path, header)] of the context images whose key includes ``name``."""
    from ..image.cache import cache_dir
    d = cache_dir()
    out = []
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return out
    for n in names:
        if n.startswith("ctx-") and n.endswith(F.SUFFIX):
            key = n[4:-len(F.SUFFIX)].rpartition("-")[0].split("+")
            if name in key:
                try:
                    out.append((os.path.join(d, n), F.read_header(os.path.join(d, n))))
                except Exception:  # noqa: BLE001
                    pass
    return out


def _records(path):
    import pickle
    try:
        with open(path, "rb") as f:
            _, sections = F.decode(f.read(), path)
        return pickle.loads(sections["code"]).get("records", [])
    except Exception:  # noqa: BLE001 -- shown as no records; the load reports the problem
        return []


def _short_type(ref):
    from ..types import ref_repr
    return ref_repr(ref, short=True)


def _record_names(rec):
    """(function as module.name, instance as f(::T, ...)) of a code record."""
    from .imagediff import func_str
    fref = rec["method"][0]
    full = func_str(fref)
    short = _short_type(fref[1]) if fref[0] == "ctor" else full.rpartition(".")[2]
    return full, f"{short}(" + ", ".join("::" + _short_type(t) for t in rec["spec"]) + ")"


def _owner_label(ci, name):
    if ci is None:
        return "not compiled"
    img = ci.image
    if img == name:
        return "module image"
    if img and "+" in img:
        return f"context image {img}"
    if img:
        return f"image of {img}"
    if ci.native is None:
        return "inferred in this process"
    return "compiled in this process"


def show(name, as_json=False):
    os.environ.setdefault("PKGIMAGE_AUTO", "0")
    from .deps import check_module
    src = check_module(name)
    _, path = image_of(name)
    if not os.path.exists(path):
        raise ToolError(f"{name} has no image in {os.path.dirname(path)} "
                        f"(run `pkgimage build {name}`)", status=1)
    header = F.read_header(path)
    lib = header.get("shared_lib")
    so = os.path.join(os.path.dirname(path), lib["file"]) if lib else None
    info = {"module": name, "source": src, "image": path, "size": os.path.getsize(path),
            "shared_lib": so, "shared_lib_size": os.path.getsize(so) if so and
            os.path.exists(so) else None,
            "build_id": header.get("build_id"), "deps": header.get("deps", {}),
            "counts": header.get("counts", {}), "stale": stale_reason(name, path),
            "python": header.get("python"), "pkgimage": header.get("pkgimage"),
            "llvmlite": header.get("llvmlite"), "cpu": header.get("cpu"),
            "context_images": [], "functions": []}
    for p, h in _context_images(name):
        info["context_images"].append({"image": p, "modules": h.get("context"),
                                       "instances": h.get("counts", {}).get("instances"),
                                       "size": os.path.getsize(p)})
    # What each function has, from the records of the module image and its context images;
    # then load the image here to see whether every record is still valid.
    groups = {}
    for label, p in [("module image", path)] + [(f"context image {'+'.join(c['modules'])}",
                                                   c["image"]) for c in info["context_images"]]:
        for rec in _records(p):
            fname, inst = _record_names(rec)
            groups.setdefault(fname, []).append({"instance": inst, "owner": label})
    import_user_module(name)
    from ..image.loader import DISCARDED, LOADED
    info["loaded_from_image"] = name in LOADED
    dropped = {str(w): y for _, w, y in DISCARDED}
    for fname in sorted(groups):
        for e in groups[fname]:
            why = dropped.get("MethodInstance for " + e["instance"])
            if why:
                e["discarded"] = why
        info["functions"].append({"function": fname, "instances": groups[fname]})
    info["discarded"] = [{"image": m, "instance": str(w), "why": y} for m, w, y in DISCARDED]
    if as_json:
        print(json.dumps(info, indent=2, default=repr))
        return 0
    c = info["counts"]
    print(f"{name}  ({src})")
    print(f"  image       {path}")
    print(f"  size        {human_size(info['size'])}"
          + (f" + shared library {human_size(info['shared_lib_size'])}"
             f" ({os.path.basename(so)})" if so else " (no shared library: ORC-linked at load)"))
    print(f"  build id    {info['build_id']}")
    print(f"  built for   Python {info['python']}, pkgimage {info['pkgimage']}, "
          f"llvmlite {info['llvmlite']}, CPU {info['cpu']}")
    print("  status      " + ("up to date" if info["stale"] is None else
                                f"STALE: {info['stale']}"))
    deps = info["deps"]
    print("  depends on  " + (", ".join(f"{d} ({b[:12]})" for d, b in deps.items())
                              if deps else "no pkgimage modules"))
    print(f"  holds       {c.get('methods', 0)} methods, {c.get('instances', 0)} cached "
          f"instances, {human_size(c.get('object'))} of native code")
    for ctx in info["context_images"]:
        print(f"  context     {'+'.join(ctx['modules'])}: {ctx['instances']} instances "
              f"({os.path.basename(ctx['image'])})")
    if not info["loaded_from_image"]:
        print("  (the image did not load in this process; see the message above)")
    print("  cached instances by function (owner):")
    for fe in info["functions"]:
        print(f"    {fe['function']}")
        for e in fe["instances"]:
            print(f"      {e['instance']:<44} {e['owner']}"
                  + (f"  (DISCARDED at load: {e['discarded']})" if e.get("discarded") else ""))
    for d in info["discarded"]:
        print(f"  discarded at load: {d['instance']} ({d['image']}): {d['why']}")
    return 0


def resolve_function(spec):
    """``MODULE.FUNCTION`` (or ``pkg.mod.FUNCTION``) -> (module, GenericFunction)."""
    from .. import dispatch as D
    modname, _, fname = spec.rpartition(".")
    if not modname or not fname:
        raise ToolError(f"expected MODULE.FUNCTION, got {spec!r}")
    mod = import_user_module(modname)
    f = getattr(mod, fname, None)
    if not isinstance(f, D.GenericFunction):
        f = D.FUNCTIONS.get((modname, fname))
    if f is None:
        names = sorted(q for (m, q) in D.FUNCTIONS if m == modname)
        raise ToolError(f"{modname} has no generic function {fname!r}"
                        + (f" (it has: {', '.join(names)})" if names else ""))
    return mod, f


def tree(spec, code=None):
    os.environ.setdefault("PKGIMAGE_AUTO", "0")
    from ..compiler import instances as INS
    mod, f = resolve_function(spec)
    if code:
        try:
            exec(compile(code, "<pkgimage tree -c>", "exec"), mod.__dict__)
        except Exception as e:  # noqa: BLE001
            from . import describe_exception
            raise ToolError(f"-c code raised {describe_exception(e)}", status=1) from None
    mis = INS.methodinstances(f)
    if not mis:
        print(f"{f.name}: no MethodInstances yet ({len(f.methods)} method"
              f"{'s' if len(f.methods) != 1 else ''}); call it, or pass -c CODE")
        return 0
    for mi in mis:
        ci = mi.cache
        state = _owner_label(ci, mod.__name__)
        lines = INS.format_tree(mi).split("\n")
        lines[0] += f"    [{state}]"
        print("\n".join(lines))
    return 0

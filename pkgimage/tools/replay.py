"""Replay modules' workloads on their images and report everything that had to be compiled
(``pkgimage verify``'s second check; run as ``python -m pkgimage.tools.replay MODULE...`` in a
fresh process, it prints one JSON report on its last stdout line).

The workloads are the functions the build ran after the close: ``@pk.precompilation``
functions of the module and of the workload files ``pyproject.toml`` lists.  An image load does
not run the module's top level, so the decorated definitions are found in the source (module
level, also inside ``if``/``try``/``with`` blocks) and executed again, decorators included,
in the loaded module's namespace with ``PKGIMAGE_REPLAY`` naming the module (which makes
``pk.precompilation`` register them); the global they bind is then restored.

For each CodeInstance this process inferred (none should be: the images should hold them all)
the report says why: *invalidated* by which method definition (an invalidation listener
records every invalidated instance and its trigger), *discarded* at an image load and why
(``loader.DISCARDED``), or *missing* from every loaded image.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import traceback

_MISSING = object()


def _decorated_workloads(tree):
    out = []

    def walk(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in node.decorator_list:
                    if "precompilation" in ast.unparse(d):
                        out.append(node)
                        break
            elif isinstance(node, ast.If):
                walk(node.body)
                walk(node.orelse)
            elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                walk(node.body)
                walk(node.orelse)
                walk(node.finalbody)
                for h in node.handlers:
                    walk(h.body)
            elif isinstance(node, ast.With):
                walk(node.body)
    walk(tree.body)
    return out


def collect_workloads(module):
    """The workload functions of ``module`` (loaded from its image), in registration order."""
    from ..build import workloads as W
    name = module.__name__
    from ..settings import settings
    old = settings.replay
    settings.set(replay=name)
    W.REGISTRY.pop(name, None)
    try:
        src = module.__file__
        with open(src, "rb") as f:
            tree = ast.parse(f.read(), src)
        for node in _decorated_workloads(tree):
            saved = module.__dict__.get(node.name, _MISSING)
            code = compile(ast.Module(body=[node], type_ignores=[]), src, "exec")
            try:
                exec(code, module.__dict__)
            finally:
                if saved is _MISSING:
                    module.__dict__.pop(node.name, None)
                else:
                    module.__dict__[node.name] = saved
        W.load_workload_files(module)
        return list(W.REGISTRY.get(name, []))
    finally:
        settings.set(replay=old)


def replay(modules):
    import importlib
    import pkgimage  # noqa: F401
    from ..compiler import instances as INS
    from ..image import loader as L
    report = {"modules": list(modules), "import_errors": [], "not_from_image": [],
              "workloads": [], "compiled": [], "discarded": [], "invalidated": []}
    invalidated = {}

    def listener(ci):
        trig = ci.invalidated_by
        invalidated.setdefault(id(ci.mi), (ci.mi, repr(trig), ci.image))
    INS.INVALIDATION_LISTENERS.append(listener)
    loaded = []
    for m in modules:
        try:
            loaded.append(importlib.import_module(m))
        except BaseException as e:  # noqa: BLE001
            report["import_errors"].append({"module": m, "error": f"{type(e).__name__}: {e}"})
    from ..image.loader import LOADED
    report["not_from_image"] = sorted(m for m in modules if m not in LOADED
                                      and m in sys.modules)
    for mod in loaded:
        try:
            fns = collect_workloads(mod)
        except BaseException as e:  # noqa: BLE001
            report["workloads"].append({"module": mod.__name__, "name": "<collect>",
                                        "ok": False, "error": f"{type(e).__name__}: {e}"})
            continue
        for fn in fns:
            entry = {"module": mod.__name__, "name": getattr(fn, "__qualname__", repr(fn)),
                     "ok": True}
            try:
                fn()
            except BaseException as e:  # noqa: BLE001
                entry.update(ok=False, error=f"{type(e).__name__}: {e}",
                             traceback=traceback.format_exc())
            report["workloads"].append(entry)
    discarded = {}
    for mod, what, why in L.DISCARDED:
        discarded.setdefault(str(what), (mod, why))
        report["discarded"].append({"image": mod, "instance": str(what), "why": why})
    for mi, trig, image in invalidated.values():
        report["invalidated"].append({"instance": repr(mi), "by": trig, "image": image})
    for ci in sorted(_all_inferred(INS), key=lambda c: repr(c.mi)):
        mi = ci.mi
        if id(mi) in invalidated:
            _, trig, image = invalidated[id(mi)]
            why = f"invalidated by {trig}" + (f" (was cached in image {image})" if image else "")
        elif repr(mi) in discarded:
            mod, reason = discarded[repr(mi)]
            why = f"discarded when image {mod} was loaded: {reason}"
        else:
            why = "missing: no loaded image holds it"
        report["compiled"].append({"instance": repr(mi), "why": why,
                                   "native": ci.native is not None})
    pipe = sys.modules.get("pkgimage.compiler.pipeline")
    report["compiled_count"] = pipe.STATS["compiled"] if pipe else 0
    report["loaded_instances"] = L.STATS["loaded_instances"]
    report["images"] = sorted(LOADED)
    ctx = sys.modules.get("pkgimage.image.context")
    report["context_images"] = sorted("+".join(h["context"]) for h in
                                      (ctx.LOADED_CONTEXTS.values() if ctx else []) if h)
    report["ok"] = not (report["import_errors"] or report["not_from_image"] or
                        report["compiled"] or report["compiled_count"] or
                        any(not w["ok"] for w in report["workloads"]))
    return report


def _all_inferred(INS):
    """Every valid CodeInstance this process inferred itself (not loaded from an image)."""
    yield from INS.code_instances(inferred_here=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("PKGIMAGE_AUTO", "0")
    report = replay(argv)
    sys.stdout.flush()
    print(json.dumps(report, default=repr), flush=True)
    sys.stderr.flush()
    # Workloads may leave threads and processes running (seed 002's leaves_tasks does, on
    # purpose): the report is out, so end here instead of waiting for them at shutdown.
    os._exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    sys.exit(main())

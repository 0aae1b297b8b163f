"""``pkgimage verify MODULE... [--json]``: the CI reproducibility check.

1. **Reproducible bytes.**  The modules (and their pkgimage dependencies) are built twice, at
   the same time, by two fresh ``pkgimage build`` processes that differ in everything that
   must not matter: ``PYTHONHASHSEED`` (1 and 2), the working folder and the cache folder (two
   new temporary folders).  Every image, context image and shared library of the two caches is
   compared byte for byte; for a difference the report names the file, the section and the
   first differing object (``imagediff.py``).
2. **Complete images.**  A third fresh process loads the images of the first build and replays
   the modules' workloads (``replay.py``); anything it has to compile is listed with the
   reason: missing from the images, discarded at load, or invalidated by which method.

Exit status 0 only when both hold; 1 when a check fails; 2 for bad input.  ``--json`` prints
the whole report as one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import child_env
from .deps import plan
from .imagediff import diff_image

SEEDS = ("1", "2")


def _image_files(cache):
    try:
        names = os.listdir(cache)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith((".pkgi", ".so")))


def _pair_key(fname):
    """``mod-<src hash>.pkgi`` stays; ``mod-<src hash>-<build id>.so`` loses its build id."""
    if fname.endswith(".so"):
        return fname.rpartition("-")[0] + ".so"
    return fname


def _order_key(order):
    rank = {m: i for i, m in enumerate(order)}

    def key(fname):
        mod = fname.rpartition("-")[0] if fname.endswith(".pkgi") else fname
        base = mod.split("-")[0] if not fname.startswith("ctx-") else None
        return (fname.startswith("ctx-"), rank.get(base, len(rank)), fname)
    return key


def verify(modules, as_json=False, jobs=None, keep=False, workload_timeout=None):
    order, _ = plan(modules)            # ToolError for unknown modules, before any work
    root = tempfile.mkdtemp(prefix="pkgimage-verify-")
    report = {"modules": list(modules), "built": order, "reproducible": None,
              "differences": [], "builds": [], "replay": None, "ok": False}
    t0 = time.monotonic()
    try:
        runs = []
        for tag, seed in zip("ab", SEEDS):
            work = os.path.join(root, f"work-{tag}")
            cache = os.path.join(root, f"cache-{tag}")
            os.makedirs(work)
            env = child_env(PKGIMAGE_CACHE=cache, PYTHONHASHSEED=seed)
            cmd = [sys.executable, "-m", "pkgimage", "build", "--quiet", *modules]
            if jobs:
                cmd += ["-j", str(jobs)]
            if workload_timeout is not None:
                cmd += ["--workload-timeout", str(workload_timeout)]
            p = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            runs.append((tag, seed, work, cache, p))
        failed = False
        for tag, seed, work, cache, p in runs:
            out, err = p.communicate()
            entry = {"run": tag, "PYTHONHASHSEED": seed, "cwd": work, "cache": cache,
                     "returncode": p.returncode}
            if p.returncode != 0:
                entry["stderr"] = err[-4000:]
                failed = True
            report["builds"].append(entry)
        report["build_time"] = round(time.monotonic() - t0, 2)
        if failed:
            report["error"] = "a build failed"
        else:
            ca, cb = runs[0][3], runs[1][3]
            fa, fb = _image_files(ca), _image_files(cb)
            # shared libraries are named by build id: pair them by image instead
            ka, kb = {_pair_key(n): n for n in fa}, {_pair_key(n): n for n in fb}
            names = sorted(set(ka) | set(kb), key=_order_key(order))
            for k in names:
                if k not in ka or k not in kb:
                    n = ka.get(k) or kb.get(k)
                    report["differences"].append(
                        {"file": n, "section": "file", "what": "file",
                         "detail": f"only in the {'first' if k in ka else 'second'} build"})
                    continue
                with open(os.path.join(ca, ka[k]), "rb") as f:
                    a = f.read()
                with open(os.path.join(cb, kb[k]), "rb") as f:
                    b = f.read()
                d = diff_image(a, b, ka[k])
                if d is not None:
                    report["differences"].append(d)
            report["files_compared"] = len(names)
            report["reproducible"] = not report["differences"]
            t1 = time.monotonic()
            r = _run_replay(order, child_env(PKGIMAGE_CACHE=ca, PKGIMAGE_AUTO="0",
                                             PYTHONHASHSEED="3"),
                            runs[0][2], workload_timeout)
            lines = r.stdout.strip().splitlines()
            try:
                report["replay"] = json.loads(lines[-1])
            except (IndexError, ValueError):
                report["replay"] = {"ok": False, "error": "the replay process failed",
                                    "stderr": r.stderr[-4000:], "returncode": r.returncode}
            report["replay"]["stderr_lines"] = [ln for ln in r.stderr.splitlines()
                                                if ln.strip()][-20:]
            report["replay_time"] = round(time.monotonic() - t1, 2)
        report["ok"] = bool(report["reproducible"] and report["replay"]
                            and report["replay"].get("ok"))
    finally:
        if keep:
            report["kept"] = root
        else:
            shutil.rmtree(root, ignore_errors=True)
    if as_json:
        print(json.dumps(report, indent=2, default=repr))
    else:
        print_report(report)
    return 0 if report["ok"] else 1


def print_report(r):
    mods = ", ".join(r["modules"])
    extra = [m for m in r["built"] if m not in r["modules"]]
    print(f"pkgimage verify {mods}" + (f" (with dependencies {', '.join(extra)})" if extra
                                       else ""))
    if r.get("error"):
        for b in r["builds"]:
            if b["returncode"] != 0:
                print(f"  build {b['run']} (PYTHONHASHSEED={b['PYTHONHASHSEED']}) failed:")
                for ln in b.get("stderr", "").rstrip().splitlines()[-20:]:
                    print("    " + ln)
        print("FAILED: could not build")
        if r.get("kept"):
            print(f"  build folders kept in {r['kept']}")
        return
    seeds = " and ".join(b["PYTHONHASHSEED"] for b in r["builds"])
    if r["reproducible"]:
        print(f"  reproducible: {r['files_compared']} file(s) byte-identical across two builds "
              f"(PYTHONHASHSEED {seeds}, different working and cache folders)")
    else:
        print(f"  NOT reproducible: {len(r['differences'])} file(s) differ between two builds "
              f"(PYTHONHASHSEED {seeds}):")
        for d in r["differences"]:
            print(f"    {d['file']}: section {d['section']}: {d['what']}: {d['detail']}")
    rp = r["replay"] or {}
    if rp.get("error"):
        print(f"  replay failed: {rp['error']}")
        for ln in rp.get("stderr", "").rstrip().splitlines()[-10:]:
            print("    " + ln)
    else:
        nw = len(rp.get("workloads", []))
        for e in rp.get("import_errors", []):
            print(f"  cannot import {e['module']}: {e['error']}")
        for m in rp.get("not_from_image", []):
            print(f"  {m} was not loaded from its image")
        for w in rp.get("workloads", []):
            if not w["ok"]:
                print(f"  workload {w['module']}.{w['name']} raised {w['error']}")
        if rp.get("compiled"):
            print(f"  replay compiled {len(rp['compiled'])} instance(s) the images should "
                  f"have held:")
            for c in rp["compiled"]:
                print(f"    {c['instance']}: {c['why']}")
        elif rp.get("ok"):
            ctx = rp.get("context_images") or []
            print(f"  replay: {nw} workload(s) ran on the images "
                  f"({rp.get('loaded_instances', 0)} cached instances loaded"
                  + (f", context images {', '.join(ctx)}" if ctx else "")
                  + "), nothing compiled")
    print("OK" if r["ok"] else "FAILED")
    if r.get("kept"):
        print(f"  build folders kept in {r['kept']}")


def _run_replay(order, env, cwd, timeout=None):
    """Run the replay process in its own session, its output in files (not pipes: a process
    a workload left behind would keep a pipe open), and kill whatever it left running."""
    import signal
    from types import SimpleNamespace
    from ..settings import settings
    timeout = timeout or settings.workload_timeout
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([sys.executable, "-m", "pkgimage.tools.replay", *order], env=env,
                             cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             text=True, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        if rc is None:
            rc = p.wait()
            print(f"pkgimage verify: the replay ran past {timeout:.0f}s and was killed",
                  file=sys.stderr)
        out.seek(0)
        err.seek(0)
        return SimpleNamespace(stdout=out.read(), stderr=err.read(), returncode=rc)

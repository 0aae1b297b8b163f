"""The spawned sandbox: the workloads run in a fresh interpreter that loads the checkpoint the
way a user's process loads an image.

A forked sandbox inherits the build process's memory, including the locks its other threads
held at the fork (a thread of a library the module imported, in the middle of logging or
allocating): the workloads then wait forever for a lock nobody will release.  When the build
process has other threads alive, the sandbox is a new ``python`` process instead:

1. the parent writes the checkpoint -- the closed module's state and the close's own code,
   which the build compiles anyway -- as an image in a private temporary folder (the same
   encoder as the real image, without a shared library);
2. the child imports the module's dependencies from their images (their build ids must be
   the parent's), loads the module from the checkpoint image (``loader.load_into``: the
   state a user's process sees, with no thread but its own), rebuilds the workloads from
   the module's code (they are pickled as the image pickles the module's functions; those
   of ``pyproject.toml`` files are executed again) and runs ``__init__`` and the workloads;
3. it sends back what the forked sandbox sends (``sandbox.sandbox_parts``), through a pipe
   of its own; its output goes through another pipe, capped as in fork mode.

The parent validates the parts as for the forked sandbox.  Only what the checkpoint image
cannot carry differs: code the child compiled that calls natively a close instance that the
image keeps only inline (its callers inline it) is inferred again by the parent.

Starting an interpreter, importing pkgimage and llvmlite and loading the checkpoint costs
more than a fork (``workloads/bench_sandbox.py`` measures both), so the fork stays the
sandbox when no other thread is alive; ``PKGIMAGE_SANDBOX=spawn`` forces this one.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import time
import traceback


def spawn_sandbox(module, workloads, checkpoint, close, allow_errors, timeout, own_part):
    """Run the workloads in a fresh interpreter; returns (its pickled answer or None if it
    died first, its exit status, its output).  ``close``: the module at the close
    (``module_bytes``, ``nmethods``, ``sources``, ``deps``); ``own_part``: the close's code."""
    from ..image.serialize import dumps_state
    from ..image.writer import encode_image
    from . import sandbox as S
    modname = module.__name__
    own_ws = [w for w in workloads if getattr(w, "__module__", None) == modname]
    try:
        ws_bytes = dumps_state(modname, own_ws)
    except Exception as e:  # noqa: BLE001 -- named in the error
        raise S.WorkloadError(f"the workloads of {modname} cannot be run in a fresh "
                              f"interpreter (they cannot be rebuilt from the module's code: "
                              f"{e})") from None
    with tempfile.TemporaryDirectory(prefix="pkgimage-checkpoint-") as d:
        os.chmod(d, 0o700)
        image = os.path.join(d, f"{modname}.pkgi")
        _, data = encode_image(modname, close["deps"], close["module_bytes"],
                               close["nmethods"], [own_part], close["sources"])
        with open(image, "wb") as f:
            f.write(data)
        request = {"module": modname, "source": os.path.abspath(module.__file__),
                   "image": image, "deps": close["deps"], "workloads": ws_bytes,
                   "symbols": sorted(c.symbol for c in checkpoint),
                   "context": sorted(S._context(modname)), "allow_errors": allow_errors,
                   "parent": os.getpid()}
        req_path = os.path.join(d, "request.pickle")
        with open(req_path, "wb") as f:
            pickle.dump(request, f, protocol=5)
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env["PKGIMAGE_BUILDING"] = modname
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pkgimage.build.spawned", req_path, str(res_w)],
                stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, pass_fds=(res_w,),
                env=env, start_new_session=True)
        finally:
            os.close(res_w)
            os.close(out_w)
        output = S._OutputTail(out_r)
        payload = None
        try:
            payload = S.read_answer(res_r, start + timeout, lambda: proc.poll() is None,
                                    lambda: S.WorkloadError(
                f"workloads of {modname} ran past their time limit ({timeout:g} s) and "
                f"were killed{output.tail()}"))
        finally:
            os.close(res_r)
            if payload is not None:
                try:
                    proc.wait(5)           # it kills what it started, then exits
                except subprocess.TimeoutExpired:
                    pass
            S._kill_group_pid(proc.pid)        # what it left running, if it did not
            proc.wait()
    return payload, proc.returncode, output


# -- the child ----------------------------------------------------------------------------------

def _load_checkpoint(req):
    """The closed module, loaded from the checkpoint image as a user's process loads it."""
    import importlib
    import importlib.machinery
    import importlib.util
    from ..image import hook
    from ..image.loader import LOADED, load_into
    modname = req["module"]
    for dep, build_id in req["deps"].items():
        importlib.import_module(dep)
        got = LOADED.get(dep, {}).get("build_id")
        if got != build_id:
            raise RuntimeError(f"dependency {dep} is not the image the build loaded "
                               f"(build id {got}, the build's {build_id}): it was rebuilt "
                               f"meanwhile; build again")
    parent, _, _ = modname.rpartition(".")
    path = importlib.import_module(parent).__path__ if parent else None
    spec = importlib.machinery.PathFinder.find_spec(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    hook.IMPORTED.append(modname)
    load_into(module, req["image"], req["source"])
    return module


def child_main(req_path, result_fd):
    from . import sandbox as S
    with open(req_path, "rb") as f:
        req = pickle.load(f)
    S._die_with_parent(req["parent"])
    S._become_subreaper()
    modname = req["module"]
    try:
        from ..compiler.codegen import set_symbol_owner
        from ..image import hook
        from ..image.loader import LOADED, module_code
        from ..image.serialize import loads_state
        from . import workloads as W
        set_symbol_owner(modname)
        hook.install()
        module = _load_checkpoint(req)
        code = module_code(req["image"], modname, req["source"], LOADED[modname])
        ws = loads_state(req["workloads"], module, code)
        W.load_workload_files(module)
        ws += W.workloads_of(module)
        ids = S._instance_ids()
        symbols, context = set(req["symbols"]), set(req["context"])
    except BaseException:  # noqa: BLE001
        S.send_answer(result_fd, ("failed", [("<sandbox>", traceback.format_exc())], None))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    S._sandbox_main(module, ws, req["allow_errors"], result_fd,
                    lambda world, bad: S.sandbox_parts(world, ids, symbols, context, bad))


if __name__ == "__main__":
    child_main(sys.argv[1], int(sys.argv[2]))

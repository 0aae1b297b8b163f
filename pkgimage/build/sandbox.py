"""Running post-close workloads in a sandbox and bringing back only their compiled code.

Fork mode (the default where ``fork`` exists): a child forked with ``multiprocess`` becomes
the leader of its own process group, runs the module's ``__init__()`` and then each workload.
Workloads may start threads and asyncio tasks, open files and sockets, spawn subprocesses and
mutate globals; none of it reaches the parent.  At the end the child sends back, as data
through a pipe, only the *signatures* of the CodeInstances created after the checkpoint; the
parent kills the child's whole process group, so nothing it left running survives.

Only code that holds in the checkpoint's world may enter the image (seed 002's proposal made
exact).  A workload may have rebound a global that compiled code captured, redefined a method
with the same signature, redefined an operator for the module's struct, or created a global
the closed module lacks; code the child compiled against that state is wrong for the closed
module.  So the parent -- whose state *is* the checkpoint, untouched by the workloads --
compiles each signature itself (:func:`compile_signatures`): what it builds is by
construction what a fresh process loading the closed module would compile.  A signature
that does not compile there (its method was defined by the workload, a global it reads does
not exist at the close) is dropped and the build says which and why.  The alternative,
validating the child's instances in the parent edge by edge and global by global, needs the
child to record every captured value and method identity and still trusts code compiled in a
world the image will never see; compiling in the parent costs the parent re-inferring the
new instances (measured in workloads/bench_sandbox.py) and is exact.

In-process mode (``PKGIMAGE_SANDBOX=inprocess``, or no fork): the module's globals are
checkpointed with ``copy.deepcopy`` and restored after the workloads, the instances the
workloads compiled are discarded, and the signatures compiled again after the restore, as
in fork mode.  Method definitions cannot be undone in-process: a workload that defines or
replaces a method is refused with a message that says so (the fork sandbox takes it).  For a
workload without side effects both modes give byte-identical images.

Faults are reported precisely and never leave a half image: a workload that raises gives its
traceback (or, with ``allow_errors``, its code is left out and the build says so); a child
that dies is reported with its exit status or signal; a child that runs past ``timeout`` is
killed and reported.
"""

from __future__ import annotations

import copy
import os
import pickle
import signal
import sys
import time
import traceback

from .. import types as T
from ..compiler import instances as INS
from ..errors import ImageError


class WorkloadError(ImageError):
    """A workload failed (raised, crashed, or ran past its time limit)."""


def _owned_candidates(modname):
    from ..image.writer import owned_instances
    return owned_instances(modname)


def checkpoint_instances(modname):
    """The instances the image owns at the close; their symbols are fixed now so that code a
    workload compiles later calls them by the same names."""
    from ..image.writer import assign_symbols
    owned = _owned_candidates(modname)
    assign_symbols(owned)
    return owned


def _new_parts(modname, existed, checkpoint_symbols, context, exclude_ids=(), entries=()):
    """Compile every instance created after the checkpoint, grouped by where it is kept:
    {(): part of the module's image, (mod, ...): part of that context image}."""
    from ..compiler import codegen
    from ..image.writer import compile_owned
    from .ownership import context_key
    groups = {}
    memo = {}
    for ci in INS.code_instances(inferred_here=True, concrete=True):
        if id(ci) in existed or id(ci) in exclude_ids:
            continue
        if codegen.symbol_for(ci, 0) in checkpoint_symbols:
            continue    # the same instance as at the close, recompiled: keep the close's
        groups.setdefault(context_key(ci, context, memo), []).append(ci)
    _add_unowned_callees(groups, existed, checkpoint_symbols)
    known = set(checkpoint_symbols)
    for cis in groups.values():
        known |= {codegen.symbol_for(c, 0) for c in cis}
    return {key: compile_owned(cis, known_externals=known, entries=entries)
            for key, cis in sorted(groups.items())}


def _add_unowned_callees(groups, existed, checkpoint_symbols):
    """New code may call natively an instance that existed at the close but that no image
    owns: top-level code compiled another module's method for another module's types (say
    ``pk.precompile(pk.base.mul, (dep.S, Float64))``, whose callee ``mod(Float64, Int64)``
    a workload's code then calls too).  Neither is in the checkpoint, so the new code would
    call a symbol no image defines (the build failed with "called natively but owned by no
    image", found by tests/test_fuzz_programs.py).  Such callees go, transitively, into the
    module's own part, like the callees of the instances the close owns: they were compiled
    in this process before any workload ran, so they touch only the module's context."""
    from ..compiler import codegen
    from ..image.writer import _static_callees
    if not groups:
        return
    seen = {id(c) for cis in groups.values() for c in cis}
    stack = [c for cis in groups.values() for c in cis]
    while stack:
        for callee in _static_callees(stack.pop()):
            if id(callee) in seen or id(callee) not in existed or not callee.valid \
                    or callee.image \
                    or codegen.symbol_for(callee, 0) in checkpoint_symbols:
                continue
            seen.add(id(callee))
            groups.setdefault((), []).append(callee)
            stack.append(callee)


def _run_workloads(module, workloads, allow_errors):
    """Run ``__init__`` and the workloads here; returns (failures, ids of instances created
    by failed workloads)."""
    from ..image.hook import run_init
    failures = []
    bad_ids = set()
    run_init(module)
    for w in workloads:
        before = _instance_ids()
        try:
            w()
        except BaseException as e:  # noqa: BLE001 -- reported, with the traceback
            tb = traceback.format_exc()
            failures.append((getattr(w, "__qualname__", repr(w)), tb))
            bad_ids |= _instance_ids() - before
            if not allow_errors:
                break
            if isinstance(e, KeyboardInterrupt):
                break
    return failures, bad_ids


def _instance_ids():
    return {id(mi.cache) for table in INS.SPECIALIZATIONS.values() for mi in table.values()
            if mi.cache is not None}


def new_signatures(existed, exclude_ids=()):
    """Portable signatures (function ref, argument type refs) of the concrete instances
    inferred after the checkpoint, in a deterministic order."""
    from ..image.serialize import func_ref
    out = set()
    for ci in INS.code_instances(inferred_here=True, concrete=True):
        if id(ci) in existed or id(ci) in exclude_ids:
            continue
        mi = ci.mi
        out.add((func_ref(mi.method.function), tuple(T.type_ref(t) for t in mi.spec_types)))
    return sorted(out, key=repr)


def compile_signatures(modname, sigs):
    """Infer each signature in this process's (the checkpoint's) world (the image writer
    generates its code, all in one batch); returns (ids of the signatures' instances, the
    list of (signature text, reason) of those dropped)."""
    from ..compiler.pipeline import infer_instance
    from ..errors import PkError
    from ..image.serialize import func_from_ref
    dropped, roots = [], set()
    for fref, trefs in sigs:
        fname = f"{fref[1]}.{fref[2]}" if fref[0] == "func" else repr(fref)
        what = f"{fname}(" + ", ".join("::" + T.ref_repr(r, short=True) for r in trefs) + ")"
        try:
            f = func_from_ref(fref)
        except (LookupError, ImportError, AttributeError):
            dropped.append((what, "the function was defined by the workload"))
            continue
        try:
            types_ = tuple(T.type_from_ref(r) for r in trefs)
            what = T.sig_repr(f.name, types_)
            roots.add(id(infer_instance(f, types_)))
        except (PkError, LookupError, ImportError, AttributeError, TypeError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            dropped.append((what, reason))
    for what, reason in dropped:
        print(f"pkgimage: {modname}: workload code for {what} is not kept: it does not "
              f"compile in the closed module's world ({reason})", file=sys.stderr, flush=True)
    return roots, dropped


def _method_tables():
    from .. import dispatch as D
    return {id(f): (f, list(f.methods)) for f in list(D.FUNCTIONS.values())}


def _methods_changed(before):
    """Methods a workload defined or replaced (synthesised default constructors of new
    parametric instantiations excepted), as descriptions."""
    from .. import dispatch as D
    out = []
    for f in list(D.FUNCTIONS.values()):
        old = before.get(id(f), (f, []))[1]
        for m in f.methods:
            if not any(m is o for o in old) and not hasattr(m.pyfunc, "__pk_synth_ir__"):
                out.append(f"{m.sigstr()} at {m.location}")
    return out


def _context(modname):
    """The module and the pkgimage modules loaded when it closed (its dependencies)."""
    from ..image.hook import IMPORTED, MEMBERS
    return {modname, *IMPORTED, *MEMBERS}


def _snapshot_globals(module):
    """A ``copy.deepcopy`` of the module's globals in which what is a definition rather than
    state -- modules, generic functions and their methods (classes and functions already are)
    -- is kept by identity; a value that cannot be copied is kept by reference."""
    from .. import dispatch as D
    memo = {}
    for m in list(sys.modules.values()):
        if m is not None:
            memo[id(m)] = m
    for f in list(D.FUNCTIONS.values()):
        memo[id(f)] = f
        for m in f.methods:
            memo[id(m)] = m
    saved = {}
    for k, v in module.__dict__.items():
        try:
            saved[k] = copy.deepcopy(v, memo)
        except Exception:  # noqa: BLE001 -- not copyable: the same object comes back
            saved[k] = v
    return saved


def _snapshot_bindings(skip):
    """Every other module's bindings (a shallow copy): compiled code captures module globals
    of any module it reads (``helper.BASE``), so what a workload rebinds there must be put
    back before the parent compiles in the checkpoint's world."""
    return {name: (mod, dict(mod.__dict__)) for name, mod in list(sys.modules.items())
            if mod is not None and name != skip and hasattr(mod, "__dict__")}


_IMMUTABLE = (int, float, complex, str, bytes, bool, tuple, type(None), frozenset)


def _restore_bindings(saved):
    import types as pytypes
    for name, (mod, old) in saved.items():
        d = mod.__dict__
        for k, v in list(d.items()):
            if k in old:
                if old[k] is not v and not isinstance(v, pytypes.ModuleType):
                    d[k] = old[k]
            elif isinstance(v, _IMMUTABLE):
                del d[k]             # a global the workload created (``helper.LATE = 42``)


def _run_with_timeout(module, workloads, allow_errors, timeout):
    """The in-process workloads on a thread of their own, waited for at most ``timeout``
    seconds: past it the build fails (the thread cannot be stopped, but it is a daemon, so
    the build process still exits)."""
    import threading
    box = {}

    def target():
        try:
            box["result"] = _run_workloads(module, workloads, allow_errors)
        except BaseException as e:  # noqa: BLE001 -- handed to the waiting thread
            box["error"] = e

    t = threading.Thread(target=target, name=f"pkgimage-workloads-{module.__name__}",
                         daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise WorkloadError(f"workloads of {module.__name__} ran past their time limit "
                            f"({timeout:g} s) in the in-process sandbox, which cannot stop "
                            f"them (the fork sandbox kills them)")
    if "error" in box:
        raise box["error"]
    return box["result"]


def run_inprocess(module, workloads, checkpoint, allow_errors=False, timeout=600.0):
    modname = module.__name__
    saved = _snapshot_globals(module)
    others = _snapshot_bindings(modname)
    ids = _instance_ids()
    syms = {c.symbol for c in checkpoint}
    context = _context(modname)
    tables = _method_tables()
    import threading
    threads = set(threading.enumerate())
    _become_subreaper()
    children = set(_children(os.getpid()))
    try:
        failures, bad = _run_with_timeout(module, workloads, allow_errors, timeout)
        _kill_new_children(children)
        _warn_left_running(modname, threads)
        if failures and not allow_errors:
            name, tb = failures[0]
            raise WorkloadError(f"workload {name} of {modname} raised:\n{tb}")
        changed = _methods_changed(tables)
        if changed:
            raise WorkloadError(
                f"the workloads of {modname} define or replace methods "
                f"({'; '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}), which the "
                f"in-process sandbox (PKGIMAGE_SANDBOX=inprocess) cannot undo; use the fork "
                f"sandbox (the default), or define them in the module")
        sigs = new_signatures(ids, bad)
    finally:
        module.__dict__.clear()
        module.__dict__.update(saved)
        _restore_bindings(others)
    _discard_new_instances(ids)
    return _parts_from_signatures(modname, sigs, ids, syms, context), failures


def _kill_new_children(before):
    """Processes the in-process workloads started (and, the build process being their
    subreaper meanwhile, those they orphaned) do not outlive them."""
    new = [p for p in _children(os.getpid()) if p not in before]
    for p in _below(new):
        try:
            os.kill(p, signal.SIGKILL)
            os.waitpid(p, 0) if p in new else None
        except OSError:
            pass


def _discard_new_instances(existed):
    """Forget the code the workloads compiled in this process: it was compiled against
    their state, which the restore has just undone."""
    from .. import dispatch as D
    from ..compiler.inference import forget_ir
    world = D.world_counter()
    for ci in list(INS.code_instances()):
        if id(ci) not in existed:
            INS.invalidate(ci, world + 1, "in-process sandbox restore")
    forget_ir()


def _parts_from_signatures(modname, sigs, existed, syms, context):
    """Compile the workloads' signatures here (the checkpoint's world) and group the new
    instances into the image's parts, as data (the same pickle round trip in both modes, so
    that the image's pickled records share objects exactly as they would from a child)."""
    roots, _ = compile_signatures(modname, sigs)
    part = _new_parts(modname, existed, syms, context, entries=roots)
    return pickle.loads(pickle.dumps(part, protocol=5))


def _warn_left_running(modname, threads_before):
    """In-process, nothing can stop what a workload left running: say so (a non-daemon
    thread keeps this build process from exiting)."""
    import threading
    left = [t.name for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not t.daemon]
    if left:
        print(f"pkgimage: warning: the workloads of {modname} left {len(left)} non-daemon "
              f"thread(s) running ({', '.join(sorted(left))}); the in-process sandbox cannot "
              f"stop them and this build process will not exit before they end (the forked "
              f"sandbox kills them)", file=sys.stderr, flush=True)


LOG_CAP = 64 << 10          # bytes of the workloads' output kept and passed on (the tail)


class _OutputTail:
    """The workloads' output, read from a pipe by a thread of the build process: the last
    ``LOG_CAP`` bytes are kept (600 MB of output used to fill a temporary file), the count
    of the rest is remembered; it is passed on after a successful run and quoted in the
    error of a failed one."""

    def __init__(self, fd):
        import collections
        import threading
        self.fd = fd
        self.chunks = collections.deque()
        self.kept = 0
        self.dropped = 0
        self.thread = threading.Thread(target=self._read, name="pkgimage-workload-output",
                                       daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            if not data:
                break
            self.chunks.append(data)
            self.kept += len(data)
            while self.kept - len(self.chunks[0]) >= LOG_CAP:
                self.dropped += len(self.chunks[0])
                self.kept -= len(self.chunks.popleft())
        os.close(self.fd)

    def text(self):
        self.thread.join(2)
        out = b"".join(self.chunks).decode("utf-8", "replace")
        if self.dropped:
            out = f"[... {self.dropped} bytes of earlier output omitted ...]\n" + out
        return out

    def tail(self, n=20):
        lines = self.text().splitlines()[-n:]
        if not lines:
            return ""
        return "\nlast output of the workloads:\n  " + "\n  ".join(lines)


def _threads_at_fork():
    """Other threads of the build process, alive when the sandbox forks: a lock one of them
    holds (logging's, an allocator's, a library's) is held forever in the child."""
    import threading
    return sorted(t.name for t in threading.enumerate()
                  if t is not threading.current_thread() and t.is_alive())


def run_forked(module, workloads, checkpoint, allow_errors=False, timeout=600.0):
    import multiprocess as mp
    modname = module.__name__
    ids = _instance_ids()
    syms = {c.symbol for c in checkpoint}
    context = _context(modname)
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    others = _threads_at_fork()
    if others:
        print(f"pkgimage: warning: the build process of {modname} has {len(others)} other "
              f"thread(s) running ({', '.join(others)}) when the sandbox forks; a lock one "
              f"of them holds stays held in the workloads' process and may hang it",
              file=sys.stderr, flush=True)
    out_r, out_w = os.pipe()

    parent = os.getpid()

    def child():
        os.setsid()                       # its own process group: killed as a whole
        _die_with_parent(parent)
        _become_subreaper()               # orphans of its descendants come back to it
        me = os.getpid()
        os.close(out_r)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        os.close(out_w)
        try:
            failures, bad = _run_workloads(module, workloads, allow_errors)
            if os.getpid() != me:
                os._exit(0)
            if failures and not allow_errors:
                payload = ("failed", failures, None)
            else:
                payload = ("ok", failures, new_signatures(ids, bad))
        except BaseException:  # noqa: BLE001
            payload = ("failed", [("<sandbox>", traceback.format_exc())], None)
        try:
            if os.getpid() == me:         # not a process the workload forked: only the
                send.send_bytes(pickle.dumps(payload, protocol=5))   # sandbox answers
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            if os.getpid() == me:
                _kill_descendants()       # daemonised grandchildren included
            os._exit(0)

    proc = ctx.Process(target=child, daemon=False)
    start = time.monotonic()
    proc.start()
    send.close()
    os.close(out_w)
    output = _OutputTail(out_r)
    payload = None
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                _kill_group(proc)
                raise WorkloadError(f"workloads of {modname} ran past their time limit "
                                    f"({timeout:g} s) and were killed"
                                    f"{_threads_note(others)}{output.tail()}")
            if recv.poll(min(left, 0.2)):
                try:
                    payload = pickle.loads(recv.recv_bytes())
                except Exception:  # noqa: BLE001 -- closed pipe or garbled results
                    payload = None
                break
            if not proc.is_alive():
                if recv.poll(0):
                    continue
                break
    finally:
        if payload is not None:
            # The sandbox answered: let it kill what it started (its descendants, daemons
            # included, are found only from inside it) and exit, then kill what is left.
            proc.join(5)
        _kill_group(proc)
        proc.join(5)
    if payload is None:
        code = proc.exitcode
        if code is not None and code < 0:
            how = f"killed by signal {signal.Signals(-code).name}"
        else:
            how = f"exited with status {code}"
        raise WorkloadError(f"the sandbox running the workloads of {modname} died ({how}) "
                            f"before sending its results{output.tail()}")
    status, failures, sigs = payload
    text = output.text()
    if status == "ok" and text:
        # The workloads' own output is the user's, as the module's top level's is.
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    if status == "failed":
        name, tb = failures[0]
        raise WorkloadError(f"workload {name} of {modname} raised:\n{tb}")
    return _parts_from_signatures(modname, sigs, ids, syms, context), failures


def _threads_note(others):
    if not others:
        return ""
    return (f" (the build process had other threads when the sandbox forked: "
            f"{', '.join(others)}; a lock held by one of them may be what it waited on)")


PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper():
    """Linux: processes the workloads start and orphan -- a daemon made by a double fork and
    ``setsid``, which leaves the sandbox's process group -- are re-parented to the sandbox
    instead of init, so :func:`_kill_descendants` finds and kills them too."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def _below(pids):
    """``pids`` and every process below them."""
    stack, seen = list(pids), set()
    while stack:
        p = stack.pop()
        if p not in seen:
            seen.add(p)
            stack.extend(_children(p))
    return seen


def _kill_descendants():
    """SIGKILL every process below this one (Linux ``/proc``), repeatedly, since killing a
    process re-parents its own children to this subreaper."""
    for _ in range(20):
        seen = _below(_children(os.getpid()))
        if not seen:
            return
        for p in seen:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        for p in seen:
            try:
                os.waitpid(p, os.WNOHANG)
            except OSError:
                pass
        time.sleep(0.01)


def _die_with_parent(parent):
    """Linux: the sandbox is killed when the build process dies (a build killed with SIGKILL
    would otherwise leave it running its workloads, holding the build lock's inherited
    descriptor, with nobody to read its results)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:            # died before prctl took effect
        os._exit(1)


def _kill_group(proc):
    pid = proc.pid
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(module, workloads, checkpoint, allow_errors=False, timeout=600.0):
    from ..settings import settings
    mode = settings.sandbox
    if mode == "inprocess" or not hasattr(os, "fork"):
        return run_inprocess(module, workloads, checkpoint, allow_errors, timeout)
    return run_forked(module, workloads, checkpoint, allow_errors, timeout)


__all__ = ["run", "run_forked", "run_inprocess", "checkpoint_instances", "WorkloadError", "T"]

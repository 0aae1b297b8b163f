"""Running post-close workloads in a sandbox and bringing back only their compiled code.

Fork mode (the default where ``fork`` exists): a forked child becomes the leader of its own
process group, runs the module's ``__init__()`` and then each workload.
Workloads may start threads and asyncio tasks, open files and sockets, spawn subprocesses and
mutate globals; none of it reaches the parent.  At the end the child compiles the
CodeInstances created after the checkpoint and sends them back, as data through a pipe
(records and object code, as in an image); the parent kills the child's whole process group,
so nothing it left running survives.

Only code that holds in the checkpoint's world may enter the image (seed 002's proposal made
exact).  A workload may have rebound a global that compiled code captured, redefined a method
with the same signature, redefined an operator for the module's struct, or created a global
the closed module lacks; code the child compiled against that state is wrong for the closed
module.  So each new instance is checked twice, in one pipeline with the image loader:

* in the child, where the objects it was compiled against are alive (``world.py``): its own
  method and every method its edges resolved to existed at the close (a redefinition has
  the signature of the method it replaces, so methods are told apart by the world they were
  defined in), and every binding lowering compiled in as a constant (module globals of any
  module, builtins, closure cells) is still the very object the close had;
* in the parent, whose state *is* the checkpoint, untouched by the workloads: the records
  are validated exactly as the loader validates an image's cached instances
  (``loader.validate_records``: every edge resolves to the same method here, every callee
  holds).

What holds is kept as the child compiled it; the signatures of the rest are inferred again by
the parent in the checkpoint's world (:func:`compile_signatures`), what does not compile
there is dropped and the build says which and why.  Compiling everything in the parent (the
design before) was exact too but cost the parent a second inference and code generation of
every workload instance, after the child had finished (+230 ms of wall clock over the same
workload run in-module).  Now the parent only validates, and compiles the close's own code
while the workloads run; ``workloads/bench_sandbox.py`` measures both the wall clock and
the CPU time (on a machine at load 8-10 the wall clock was noise; CPU cost over in-module:
+127 ms forked, +70 ms in-process, +477 ms spawned).

In-process mode (``PKGIMAGE_SANDBOX=inprocess``, or no fork): the module's globals are
checkpointed with ``copy.deepcopy`` and restored after the workloads, the instances the
workloads compiled are discarded, and their signatures compiled again after the restore
(the restore copies values, so the bindings the workloads' code read are not the close's
objects any more and nothing could be kept).  Method definitions cannot be undone in-process: a workload that defines or
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
from .world import CloseWorld


# Of the last build's workload instances: how many the sandbox compiled and the parent kept
# (they hold in the checkpoint's world), how many signatures the parent inferred again.
STATS = {"accepted": 0, "reinferred": 0}


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


def _new_instances(existed, checkpoint_symbols, exclude_ids=()):
    """The concrete instances inferred after the checkpoint (but not by a failed workload),
    except those that are the close's instances compiled again."""
    from ..compiler import codegen
    out = []
    for ci in INS.code_instances(inferred_here=True, concrete=True):
        if id(ci) in existed or id(ci) in exclude_ids:
            continue
        if codegen.symbol_for(ci, 0) in checkpoint_symbols:
            continue    # the same instance as at the close, recompiled: keep the close's
        out.append(ci)
    return out


def _compile_parts(cis, existed, checkpoint_symbols, context, entries=()):
    """Compile ``cis`` grouped by where they are kept: {(): [part of the module's image],
    (mod, ...): [part of that context image]}.  ``checkpoint_symbols``: symbols defined by
    other parts of the image (the close's, code accepted from the sandbox)."""
    from ..compiler import codegen
    from ..image.writer import compile_owned
    from .ownership import context_key
    groups = {}
    memo = {}
    for ci in cis:
        groups.setdefault(context_key(ci, context, memo), []).append(ci)
    _add_unowned_callees(groups, existed, checkpoint_symbols)
    known = set(checkpoint_symbols)
    for cis in groups.values():
        known |= {codegen.symbol_for(c, 0) for c in cis}
    return {key: [compile_owned(cis, known_externals=known, entries=entries)]
            for key, cis in sorted(groups.items())}


def _new_parts(modname, existed, checkpoint_symbols, context, exclude_ids=(), entries=()):
    """Compile every instance created after the checkpoint into the image's parts."""
    return _compile_parts(_new_instances(existed, checkpoint_symbols, exclude_ids), existed,
                          checkpoint_symbols, context, entries)


def _add_unowned_callees(groups, existed, checkpoint_symbols):
    """New code may call natively an instance that existed at the close but that no image
    owns: top-level code compiled another module's method for another module's types (say
    ``pk.precompile(pk.base.mul, (dep.S, Float64))``, whose callee ``mod(Float64, Int64)``
    a workload's code then calls too).  Neither is in the checkpoint, so the new code would
    call a symbol no image defines (the build failed with "called natively but owned by no
    image", found by tests/test_fuzz_programs.py).  Such callees go, transitively, into the
    module's own part, like the callees of the instances the close owns: they were compiled
    in this process before any workload ran, so they touch only the module's context.  A
    callee the workloads made goes into its caller's part."""
    from ..compiler import codegen
    from ..image.writer import _static_callees
    if not groups:
        return
    seen = {id(c) for cis in groups.values() for c in cis}
    stack = [(key, c) for key, cis in groups.items() for c in cis]
    while stack:
        key, caller = stack.pop()
        for callee in _static_callees(caller):
            if id(callee) in seen or not callee.valid or callee.image \
                    or codegen.symbol_for(callee, 0) in checkpoint_symbols:
                continue
            # (a callee made by the workload that is no new instance of its own -- one
            # specialised on a union, ``fn(::WorkTask, ::Union[Nothing, Packet], ...)``, is
            # not concrete -- goes with its caller: Richards' image failed to build)
            where = () if id(callee) in existed else key
            seen.add(id(callee))
            groups.setdefault(where, []).append(callee)
            stack.append((where, callee))


def _run_workloads(module, workloads, allow_errors):
    """Run ``__init__`` and the workloads here; returns (failures, ids of instances created
    by failed workloads)."""
    from ..image.hook import run_init
    failures = []
    bad_ids = {}
    run_init(module)
    for w in workloads:
        before = _instance_ids()
        try:
            w()
        except BaseException as e:  # noqa: BLE001 -- reported, with the traceback
            tb = traceback.format_exc()
            failures.append((getattr(w, "__qualname__", repr(w)), tb))
            bad_ids.update((k, ci) for k, ci in _instance_ids().items() if k not in before)
            if not allow_errors:
                break
            if isinstance(e, KeyboardInterrupt):
                break
    return failures, bad_ids


def _instance_ids():
    """{id: instance} of every cached instance now.  Membership is asked by id (``id(ci)
    in existed``), and the dict holds the instances themselves so that those ids stay
    theirs: an instance replaced later (a loaded one inferred again for its IR) is freed,
    and a set of bare ids then took the next instance allocated at its address -- a
    workload's new ``first_x`` where ``mul`` had been -- for one that existed, and left it
    out of the image."""
    INS.materialise_all()
    return {id(mi.cache): mi.cache for table in INS.SPECIALIZATIONS.values()
            for mi in table.values() if mi.cache is not None}


def _signature(ci):
    """The portable signature (function ref, argument type refs, called from Python) of an
    instance: one called from Python keeps a Python entry in the image even when small
    (others that small are only inlined into their callers, as at the close)."""
    from ..image.serialize import func_ref
    mi = ci.mi
    return (func_ref(mi.method.function), tuple(T.type_ref(t) for t in mi.spec_types),
            bool(ci.native and ci.native.has_entry))


def new_signatures(existed, exclude_ids=()):
    """Portable signatures (``_signature``) of the concrete instances inferred after the
    checkpoint, in a deterministic order."""
    out = {_signature(ci) for ci in INS.code_instances(inferred_here=True, concrete=True)
           if id(ci) not in existed and id(ci) not in exclude_ids}
    return sorted(out, key=repr)


def sandbox_parts(world, existed, checkpoint_symbols, context, exclude_ids=()):
    """In the sandbox, after the workloads: the new instances that hold in the close's
    ``world`` (build/world.py) compiled into the image's parts, and the signatures of those
    that do not (for the parent to infer in the checkpoint's world)."""
    from ..image.writer import _static_callees
    from .world import split_holding
    new = _new_instances(existed, checkpoint_symbols, exclude_ids)
    good, bad = split_holding(world, new, _static_callees)
    parts = _compile_parts(good, existed, checkpoint_symbols, context) if good else {}
    redo = sorted({_signature(c) for c in new if id(c) in bad}, key=repr)
    return parts, redo


def accept_parts(modname, parts, redo, existed, checkpoint_symbols, context, own_part=None):
    """In the parent (the checkpoint's world): keep the sandbox's parts whose every instance
    holds here -- checked as the loader checks an image's cached instances
    (``loader.validate_records``) -- and infer the rest here, with ``redo`` (signatures the
    sandbox found did not hold).  A part with one instance that does not hold is inferred
    again whole (its object defines that instance's symbol).  ``own_part``: the close's
    compiled code, whose inline-only instances cannot be called natively.  Returns the
    image's parts."""
    from ..image.loader import _callee_valid, validate_records
    parts = {k: list(ps) for k, ps in parts.items()}
    redo = set(redo)
    inline_only = {r["symbol"] for r in own_part[0] if r["inline_only"]} if own_part else set()

    def callee_ok(mref, specrefs, csym, inlined):
        if csym in checkpoint_symbols:
            return inlined or csym not in inline_only
        return _callee_valid(mref, specrefs, csym, inlined)
    while True:
        records = [r for ps in parts.values() for p in ps for r in p[0]]
        entries, reasons = validate_records(records, callee_ok)
        if not reasons:
            break
        for key, ps in list(parts.items()):
            for p in list(ps):
                if any(r["symbol"] in reasons for r in p[0]):
                    ps.remove(p)
                    redo |= {(r["method"][0], r["spec"], not r["inline_only"])
                             for r in p[0]}
            if not ps:
                del parts[key]
    if redo:
        # Code inferred here may call, natively, instances that an accepted part also
        # defines under symbols of its own (a constructor both compiled): mixing them left
        # calls to symbols no part defined ("called natively but owned by no image", the
        # context images of examples/ring_context).  When anything must be inferred again,
        # everything is -- the exact path, as before the sandbox's code was trusted.
        redo |= {(r["method"][0], r["spec"], not r["inline_only"])
                 for ps in parts.values() for p in ps for r in p[0]}
        parts = {}
    accepted = {r["symbol"] for ps in parts.values() for p in ps for r in p[0]}
    STATS.update(accepted=len(accepted), reinferred=len(redo))
    if redo:
        roots, _ = compile_signatures(modname, sorted(redo, key=repr))
        more = _new_parts(modname, existed, set(checkpoint_symbols) | accepted, context,
                          entries=roots)
        for key, ps in more.items():
            parts.setdefault(key, []).extend(ps)
    return pickle.loads(pickle.dumps(parts, protocol=5))


def compile_signatures(modname, sigs):
    """Infer each signature in this process's (the checkpoint's) world (the image writer
    generates its code, all in one batch); returns (ids of the instances that need a Python
    entry, the list of (signature text, reason) of those dropped)."""
    from ..compiler.pipeline import infer_instance
    from ..errors import PkError
    from ..image.serialize import func_from_ref
    dropped, roots = [], set()
    for fref, trefs, entry in sigs:
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
            ci = infer_instance(f, types_)
            if entry:
                roots.add(id(ci))
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
        data = b"".join(self.chunks)
        if len(data) > LOG_CAP:                  # (whole chunks are kept while reading)
            self.dropped += len(data) - LOG_CAP
            data = data[-LOG_CAP:]
            self.chunks.clear()
            self.chunks.append(data)
            self.kept = len(data)
        out = data.decode("utf-8", "replace")
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


def run_forked(module, workloads, checkpoint, allow_errors=False, timeout=600.0,
               meanwhile=None):
    modname = module.__name__
    ids = _instance_ids()
    syms = {c.symbol for c in checkpoint}
    context = _context(modname)
    others = _threads_at_fork()
    res_r, res_w = os.pipe()
    out_r, out_w = os.pipe()
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:                          # the sandbox
        try:
            os.setsid()                   # its own process group: killed as a whole
            _die_with_parent(parent)
            _become_subreaper()           # orphans of its descendants come back to it
            os.close(res_r)
            os.close(out_r)
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            os.close(out_w)
            _sandbox_main(module, workloads, allow_errors, res_w,
                          lambda world, bad: sandbox_parts(world, ids, syms, context, bad))
        finally:
            os._exit(1)
    os.close(res_w)
    os.close(out_w)
    output = _OutputTail(out_r)
    own = None
    status = [None]

    def alive():
        if status[0] is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status[0] = os.waitstatus_to_exitcode(st)
        return status[0] is None
    payload = None
    try:
        if meanwhile is not None:
            own = meanwhile()
        payload = read_answer(res_r, start + timeout, alive, lambda: WorkloadError(
            f"workloads of {modname} ran past their time limit ({timeout:g} s) and were "
            f"killed{_threads_note(others)}{output.tail()}"))
    finally:
        os.close(res_r)
        if payload is not None:
            # The sandbox answered: let it kill what it started (its descendants, daemons
            # included, are found only from inside it) and exit, then kill what is left.
            deadline = time.monotonic() + 5
            while alive() and time.monotonic() < deadline:
                time.sleep(0.005)
        _kill_group_pid(pid)
        if status[0] is None:
            status[0] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    parts, redo, failures = sandbox_results(modname, payload, status[0], output)
    return accept_parts(modname, parts, redo, ids, syms, context, own), failures


def _sandbox_main(module, workloads, allow_errors, result_fd, compile_parts):
    """The sandbox's work, forked or spawned: ``__init__`` and the workloads, then its
    answer on ``result_fd`` (``compile_parts(world, ids of failed workloads' instances)``
    makes the parts); never returns."""
    me = os.getpid()
    try:
        world = CloseWorld()              # the close's bindings, before __init__ runs
        failures, bad = _run_workloads(module, workloads, allow_errors)
        if os.getpid() != me:             # a process the workload forked: only the
            os._exit(0)                   # sandbox answers
        if failures and not allow_errors:
            payload = ("failed", failures, None)
        else:
            payload = ("ok", failures, compile_parts(world, bad))
    except BaseException:  # noqa: BLE001
        if os.getpid() != me:
            os._exit(0)
        payload = ("failed", [("<sandbox>", traceback.format_exc())], None)
    try:
        send_answer(result_fd, payload)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        _kill_descendants()               # daemonised grandchildren included
        os._exit(0)


def send_answer(fd, payload):
    """The sandbox's answer: its length (8 bytes), then the pickle.  Framed, because the
    processes a workload started may hold the pipe open: the end is not an end of file."""
    data = pickle.dumps(payload, protocol=5)
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def read_answer(fd, deadline, alive, timed_out):
    """The sandbox's answer read from ``fd`` (None when it ended without a whole one, or a
    garbled one); past ``deadline`` (monotonic) the exception ``timed_out()`` is raised."""
    import selectors
    buf = bytearray()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise timed_out()
            if sel.select(min(left, 0.2)):
                data = os.read(fd, 1 << 20)
                if not data:
                    break
                buf += data
                if len(buf) >= 8 and len(buf) >= 8 + int.from_bytes(buf[:8], "little"):
                    break
            elif not alive():
                break
    n = int.from_bytes(buf[:8], "little") if len(buf) >= 8 else -1
    if n < 0 or len(buf) < 8 + n:
        return None
    try:
        return pickle.loads(bytes(buf[8:8 + n]))
    except Exception:  # noqa: BLE001 -- garbled results: as if it died
        return None


def sandbox_results(modname, payload, exitcode, output):
    """(parts, signatures to infer again, failures) from a sandbox's answer; WorkloadError
    if it died before answering or a workload failed.  A successful run's output is passed
    on (it is the user's, as the module's top level's is)."""
    if payload is None:
        if exitcode is not None and exitcode < 0:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        else:
            how = f"exited with status {exitcode}"
        raise WorkloadError(f"the sandbox running the workloads of {modname} died ({how}) "
                            f"before sending its results{output.tail()}")
    status, failures, result = payload
    text = output.text()
    if status == "ok" and text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    if status == "failed":
        name, tb = failures[0]
        raise WorkloadError(f"workload {name} of {modname} raised:\n{tb}")
    parts, redo = result
    return parts, redo, failures


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


def _kill_group_pid(pid):
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(module, workloads, checkpoint, allow_errors=False, timeout=600.0, meanwhile=None,
        close=None):
    """Run the workloads in the sandbox; returns ({key: [part]}, failures).  ``meanwhile``:
    the build's work that does not depend on the workloads (compiling the close's own
    code), done while they run; it returns that part.  ``close``: the module's state at the
    close, for a sandbox that loads it as an image (``spawned.py``).

    The sandbox is forked, unless the build process has other threads alive (a lock one of
    them holds would stay held in the forked child: the workloads would hang until their
    time limit) or ``PKGIMAGE_SANDBOX=spawn``: then a fresh interpreter loads the checkpoint
    and runs them."""
    from ..settings import settings
    mode = settings.sandbox
    if mode == "inprocess" or not hasattr(os, "fork"):
        result = run_inprocess(module, workloads, checkpoint, allow_errors, timeout)
        if meanwhile is not None:
            meanwhile()
        return result
    others = _threads_at_fork()
    if close is not None and meanwhile is not None and (mode == "spawn" or others):
        if others:
            print(f"pkgimage: the build process of {module.__name__} has {len(others)} "
                  f"other thread(s) running ({', '.join(others)}): its workloads run in a "
                  f"fresh interpreter that loads the closed module (a forked one would "
                  f"inherit the locks they hold)", file=sys.stderr, flush=True)
        return run_spawned(module, workloads, checkpoint, allow_errors, timeout, meanwhile,
                           close)
    return run_forked(module, workloads, checkpoint, allow_errors, timeout, meanwhile)


def run_spawned(module, workloads, checkpoint, allow_errors, timeout, meanwhile, close):
    from .spawned import spawn_sandbox
    modname = module.__name__
    ids = _instance_ids()
    syms = {c.symbol for c in checkpoint}
    own = meanwhile()
    payload, exitcode, output = spawn_sandbox(module, workloads, checkpoint, close,
                                              allow_errors, timeout, own)
    parts, redo, failures = sandbox_results(modname, payload, exitcode, output)
    return accept_parts(modname, parts, redo, ids, syms, _context(modname), own), failures


__all__ = ["run", "run_forked", "run_inprocess", "checkpoint_instances", "WorkloadError", "T"]

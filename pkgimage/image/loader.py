"""Loading a package image into a module object.

Order matters and follows Julia:

1. verify the checksum over all bytes (nothing is unpickled or mapped before), then check
   staleness: runtime versions, CPU, source hashes, the build ids of dependency images;
2. rebuild the module's state without running its top level (types, functions, globals);
3. insert its methods into their functions -- this may invalidate code already compiled in
   the session, exactly as defining them would;
4. check every cached CodeInstance's edges against today's method tables; discard those whose
   calls would resolve differently and, transitively, their callers (also across images);
5. link the native code of the valid ones (shared library through the dynamic loader, or the
   object through the ORC JIT when no shared library was built) and install them;
6. run ``__init__()``.

Steps 1-6 import neither llvmlite nor inference when a shared library exists.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import pickle
import sys

from .. import dispatch as D
from .. import types as T
from ..compiler import instances as INS
from ..errors import ImageError
from . import format as F
from .cache import host_cpu
from .serialize import func_from_ref, loads_state, method_from_ref

# module name -> header of the image it was loaded from
LOADED: dict = {}
# (module, instance, reason) of every cached instance discarded at load
DISCARDED: list = []
STATS = {"loaded_instances": 0, "discarded_instances": 0}


class StaleImage(ImageError):
    """The image does not match this process or the current sources; ``reason`` says why."""

    def __init__(self, path, module, reason):
        super().__init__(f"{path}: stale image for {module}: {reason}")
        self.reason = reason
        self.module = module


def check_stale(header, path, modname):
    key = F.runtime_key()
    for k in ("format", "pkgimage", "python", "llvmlite", "machine"):
        if header.get(k) != key[k]:
            raise StaleImage(path, modname, f"{k} differs (image {header.get(k)}, "
                                            f"this process {key[k]})")
    if header.get("module") != modname:
        raise StaleImage(path, modname, f"image is for module {header.get('module')}")
    for src, digest in header.get("sources", {}).items():
        try:
            now = F.file_sha256(src)
        except OSError:
            raise StaleImage(path, modname, f"source {os.path.basename(src)} is missing") from None
        if now != digest:
            raise StaleImage(path, modname, f"source {os.path.basename(src)} changed")
    cpu, features = host_cpu()
    if header.get("cpu") != cpu or header.get("features") != features:
        raise StaleImage(path, modname, f"built for CPU {header.get('cpu')}, this is {cpu}")
    for dep, build_id in header.get("deps", {}).items():
        if dep not in sys.modules:
            importlib.import_module(dep)
        loaded = LOADED.get(dep)
        if loaded is None:
            raise StaleImage(path, modname, f"dependency {dep} is not loaded from an image")
        if loaded["build_id"] != build_id:
            raise StaleImage(path, modname, f"dependency {dep} was rebuilt")


def read_image(path, modname):
    """(header, sections) of a valid, fresh image, or raise ImageError / StaleImage."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise ImageError(f"{path}: cannot read image: {e}") from None
    header, sections = F.decode(data, path)
    for name in ("module", "code", "object0"):
        if name not in sections:
            raise ImageError(f"{path}: section {name} missing")
    check_stale(header, path, modname)
    return header, sections


def load_into(module, path, source_path):
    """Fill ``module`` from the image at ``path`` (see the module doc for the steps)."""
    modname = module.__name__
    header, sections = read_image(path, modname)
    code = module_code(path, modname, source_path, header)
    try:
        state = loads_state(sections["module"], module, code)
        codeinfo = pickle.loads(sections["code"])
    except ImageError:
        raise
    except Exception as e:
        raise ImageError(f"{path}: cannot restore module {modname}: {e}") from None
    module.__dict__.update(state["globals"])
    for f, sig, pyfunc, file, line, argnames, context in state["methods"]:
        D.insert_method(f, D.Method(f, tuple(sig), pyfunc, modname, file, line, tuple(argnames),
                                    context=context))
    if state.get("contexts"):
        from ..contexts import restore_module_state
        restore_module_state(modname, state["contexts"])
    objects = [sections[n] for n in codeinfo.get("objects", ["object0"]) if n in sections]
    try:
        install_code(modname, header, codeinfo, objects, path)
    except ImageError:
        raise
    except Exception as e:
        # Records of another layout (an image of an earlier development version with the
        # same version number), a library that does not link: the import falls back to
        # the source with one line saying why, instead of failing.
        raise ImageError(f"{path}: cannot install its code ({type(e).__name__}: {e})") \
            from None
    LOADED[modname] = header
    return header


def module_code(path, modname, source_path, header):
    """The module's code object, from a marshalled sidecar of the image when its source hash
    matches (CPython's ``__pycache__`` may be disabled), else compiled and cached there."""
    import marshal
    digest = header["sources"].get(os.path.abspath(source_path), "")
    side = path + ".code"
    try:
        with open(side, "rb") as f:
            blob = f.read()
        if blob[:64].decode("ascii") == digest:
            return marshal.loads(blob[64:])
    except (OSError, ValueError, EOFError, TypeError, UnicodeDecodeError):
        pass
    code = importlib.machinery.SourceFileLoader(modname, source_path).get_code(modname)
    try:
        F.atomic_write(side, digest.encode("ascii") + marshal.dumps(code))
    except OSError:
        pass
    return code


# -- validation -------------------------------------------------------------------------------

_MEMO: dict = {}      # reference -> resolved object, for one install_code call


def _resolve_types(refs):
    hit = _MEMO.get(("types", refs))
    if hit is None:
        hit = _MEMO[("types", refs)] = tuple(T.type_from_ref(r) for r in refs)
    return hit


def _method(ref):
    key = ("method", ref)
    if key not in _MEMO:
        _MEMO[key] = method_from_ref(ref)
    return _MEMO[key]


def _func(ref):
    key = ("func", ref)
    hit = _MEMO.get(key)
    if hit is None:
        hit = _MEMO[key] = func_from_ref(ref)
    return hit


def _edge_from_record(rec):
    kind, fref, argrefs, mref, cands = rec
    f = _func(fref)
    argtypes = _resolve_types(argrefs)
    m = _method(mref) if mref is not None else None
    if mref is not None and m is None:
        raise LookupError(f"method of {f.name} it called no longer exists")
    cm = []
    for c in cands:
        mm = _method(c)
        if mm is None:
            raise LookupError(f"a candidate method of {f.name} no longer exists")
        cm.append(mm)
    return INS.Edge(kind, f, argtypes, m, cm)


def _describe_edge(e):
    now = "no method"
    try:
        now = repr(e.function._lookup(e.argtypes))
    except D.MethodError as err:
        now = type(err).__name__
    return f"call {T.sig_repr(e.function.name, e.argtypes)} now resolves to {now}"


def _describe_record(r):
    """``MethodInstance for f(::T, ...)`` of a record whose method cannot be resolved (for
    DISCARDED and ``pkgimage invalidations``), without failing on what no longer exists."""
    fref = r["method"][0]
    name = fref[2] if fref[0] == "func" else str(fref[1][-1])
    try:
        sig = T.sig_repr(name, _resolve_types(r["spec"]))
    except Exception:
        sig = f"{name}{r['spec']!r}"
    return f"MethodInstance for {sig}"


def install_code(modname, header, codeinfo, objects, path):
    _MEMO.clear()
    try:
        _install_code(modname, header, codeinfo, objects, path)
    finally:
        _MEMO.clear()


def _install_code(modname, header, codeinfo, objects, path):
    records = codeinfo["records"]
    world = D.world_counter()
    entries = {}                     # symbol -> (record, mi, edges)
    reasons = {}
    for r in records:
        sym = r["symbol"]
        try:
            m = _method(r["method"])
            if m is None:
                raise LookupError("its method no longer exists")
            spec = _resolve_types(r["spec"])
            edges = [_edge_from_record(e) for e in r["edges"]]
        except (LookupError, KeyError, ImportError, AttributeError) as e:
            reasons[sym] = (_describe_record(r), str(e))
            continue
        mi = INS.method_instance(m, spec)
        bad = next((e for e in edges if not INS.edge_valid(e)), None)
        if bad is not None:
            reasons[sym] = (repr(mi), _describe_edge(bad))
            continue
        entries[sym] = (r, mi, edges)
    # Callers of discarded instances are discarded too (to a fixed point, across images).
    changed = True
    while changed:
        changed = False
        for sym, (r, mi, edges) in list(entries.items()):
            for mref, specrefs, csym, inlined in r["callees"]:
                if csym in entries:
                    continue
                callee = None
                m = _method(mref)
                if m is not None:
                    cmi = INS.SPECIALIZATIONS.get(m, {}).get(_resolve_types(specrefs))
                    callee = cmi.cache if cmi is not None else None
                # An inlined callee must still be valid here; a called one must also have
                # its native code under the symbol this code calls.
                if callee is None or not callee.valid or (not inlined and (
                        callee.native is None or callee.native.symbol != csym
                        or not callee.native.exported)):
                    reasons[sym] = (repr(mi), f"callee {csym} is not valid here")
                    del entries[sym]
                    changed = True
                    break
    for sym, (what, why) in reasons.items():
        DISCARDED.append((modname, what, why))
    STATS["discarded_instances"] += len(reasons)
    if not entries:
        return
    addresses = _link(header, codeinfo, objects, path, entries)
    from ..compiler.entry import PRELINKED
    from ..compiler.native import make_pycfunction
    installed = []
    for sym, (r, mi, edges) in sorted(entries.items()):
        if mi.cache is not None and mi.cache.valid:
            continue                 # compiled in this session already: keep that one
        ci = INS.CodeInstance(mi, None, world)
        ci.rettype = T.type_from_ref(r["rettype"])
        ci.edges = edges
        ci.vartypes = {v: T.type_from_ref(t) for v, t in r["vartypes"]}
        ci.needs_native = True
        ci.symbol = sym
        ci.image = modname
        mi.cache = ci
        INS.register_edges(ci)
        if not r.get("inline_only"):
            ci.native = INS.NativeCode(sym, addresses[sym], "image:" + modname)
            ci.native.entry = make_pycfunction(addresses[r["wrapper"]],
                                               mi.method.function.name)
            PRELINKED[(mi.method.function, mi.spec_types)] = (mi, ci.native.entry)
        # (an inline-only instance has no code: it is installed for its edges and backedges,
        # and compiled afresh if something ever needs to call it natively)
        mi.method.function._pycache.clear()
        installed.append((ci, r))
    for ci, r in installed:
        ci.callee_mis = []
        for mref, specrefs, csym, inlined in r["callees"]:
            m = _method(mref)
            cmi = INS.SPECIALIZATIONS.get(m, {}).get(_resolve_types(specrefs)) if m else None
            if cmi is not None:
                cmi.add_backedge(ci.mi)
                ci.callee_mis.append(cmi)
    if any(getattr(ci.mi.method.function, "context", None) is not None for ci, _ in installed):
        from ..contexts import note_loaded
        for ci, _ in installed:
            note_loaded(ci)
    STATS["loaded_instances"] += len(installed)


def _unreachable_address():
    """Address given to calls of instances that are not valid here (their callers are
    discarded, so it is never reached): libc's ``abort``."""
    import ctypes
    return ctypes.cast(ctypes.CDLL(None).abort, ctypes.c_void_p).value


def _link(header, codeinfo, objects, path, entries):
    """Addresses of the valid instances' symbols, their wrappers and the constant slots."""
    from ..compiler import native
    consts = codeinfo["consts"]
    want = set()
    for sym, (r, mi, edges) in entries.items():
        if not r.get("inline_only"):
            want.add(sym)
            want.add(r["wrapper"])
    lib = header.get("shared_lib")
    if lib is not None:
        so = os.path.join(os.path.dirname(path), lib["file"])
        try:
            ok = F.file_sha256(so) == lib["sha256"]
        except OSError:
            ok = False
        if ok:
            try:
                shared = native.SharedLibrary(so)
            except OSError:
                # It calls a symbol of another image that is not available by name: that
                # image stored object code (PKGIMAGE_NO_SHARED) or none of its code was
                # valid here.  Link the object through ORC, where imports are explicit.
                shared = None
            if shared is not None:
                addrs = {s: shared.address(s) for s in want}
                slots = {name: shared.address(name) for name, _ in consts}
                native.fill_const_slots(slots, consts)
                return addrs
    # No usable shared library: link the object through the ORC JIT (imports llvmlite).
    from ..compiler.jit import get_jit
    own = {r["symbol"] for r in codeinfo["records"]}
    imports = {}
    for r in codeinfo["records"]:
        for mref, specrefs, csym, inlined in r["callees"]:
            if inlined or csym in own or csym in imports:
                continue
            m = _method(mref)
            cmi = INS.SPECIALIZATIONS.get(m, {}).get(_resolve_types(specrefs)) if m else None
            if cmi is not None and cmi.cache is not None and cmi.cache.native is not None \
                    and cmi.cache.native.exported and cmi.cache.native.symbol == csym:
                imports[csym] = cmi.cache.native.address
            else:
                # Its callers were discarded above and are never called; the object still
                # needs every symbol defined to be linked.
                imports[csym] = _unreachable_address()
    return get_jit().link(objects, sorted(want), imports, consts)

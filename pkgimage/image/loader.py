"""Loading a package image into a module object.

Order matters and follows Julia:

1. check the image is trusted (in the cache folder, which like the file no other user can
   write), verify its checksum over all bytes and its shared library's (nothing is
   unpickled, unmarshalled or mapped before), then check staleness: runtime versions, CPU,
   source hashes, the build ids of dependency images;
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

import errno
import gc
import importlib
import importlib.machinery
# (CPython's bytecode magic, as ``importlib.util`` re-exports it: that module imports
# ``contextlib``, ``functools`` and ``collections``, which a warm load does not need)
from importlib._bootstrap_external import MAGIC_NUMBER
import os
import sys

from .. import dispatch as D
from .. import types as T
from ..compiler import instances as INS
from ..compiler_lock import COMPILER_LOCK
from ..errors import ImageError
from . import format as F
from .cache import UntrustedImage, check_trusted, untrusted_reason
from .serialize import binding_from_ref, func_from_ref, loads_state, method_from_ref, pickle
from .pending import LIBRARY_IMPORTED, LIBRARY_METHODS, UNVERIFIED, HeldPart
from .tables import deferrable, find_method, fresh_table_holds, method_key, table_digest

# module name -> header of the image it was loaded from
LOADED: dict = {}
# (module, instance, reason) of every cached instance discarded at load
DISCARDED: list = []
# edges_by_table: edges taken as holding because their function's method table was the one
# the image recorded; edges_checked: edges checked one by one (``instances.edge_valid``)
# loaded_instances: valid at load; held_instances: of those, kept as records (``pending.py``);
# made_instances: held ones made since, when something asked for them
STATS = {"loaded_instances": 0, "discarded_instances": 0, "edges_by_table": 0,
         "edges_checked": 0, "held_instances": 0, "made_instances": 0}


class StaleImage(ImageError):
    """The image does not match this process or the current sources; ``reason`` says why."""

    def __init__(self, path, module, reason):
        super().__init__(f"{path}: stale image for {module}: {reason}")
        self.reason = reason
        self.module = module


def check_stale(header, path, modname):
    """Raise StaleImage unless the image is fresh (``freshness.py``), its dependencies
    being the images loaded in this process (imported now when they are not)."""
    from .freshness import stale_reason
    why = stale_reason(header, modname, _loaded_dependency)
    if why is not None:
        raise StaleImage(path, modname, why)


def _loaded_dependency(dep, build_id):
    if dep not in sys.modules:
        importlib.import_module(dep)
    loaded = LOADED.get(dep)
    if loaded is None:
        return f"dependency {dep} is not loaded from an image"
    if loaded["build_id"] != build_id:
        return f"dependency {dep} was rebuilt"
    return None


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_trusted(path, what):
    """(bytes, stat) of the file at ``path`` after checking that no other user can write it
    or its folder (``cache.check_trusted``); a symbolic link is refused (O_NOFOLLOW)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UntrustedImage(f"{path}: the {what} is a symbolic link (images "
                                 f"are read only from the cache folder)") from None
        raise ImageError(f"{path}: cannot read {what}: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        check_trusted(path, st, what)
        try:
            return f.read(), st
        except OSError as e:
            raise ImageError(f"{path}: cannot read {what}: {e.strerror}") from None


# shared library path -> (inode, mtime, size, checksum) when read_verified checked it
_VERIFIED_LIBS: dict = {}


def shared_lib_path_verified(header, path):
    """The verified path of the image's shared library; None when it has none, or when it is
    missing (a concurrent rebuild removed it: the object code is linked instead).

    Its name must be a plain file name beside the image (never a path the header chooses),
    it must be trusted like the image, and its checksum must be the one the (checksummed)
    header records -- all before the dynamic loader maps it.  The header vouched for the
    library's hash from the start, but before this check a damaged library was only noticed
    after the module's state had been unpickled, and then silently replaced by JIT linking
    (and never rebuilt)."""
    lib = header.get("shared_lib")
    if lib is None:
        return None
    name = lib.get("file") if isinstance(lib, dict) else None
    base = os.path.basename(path)[:-len(F.SUFFIX)]
    if not isinstance(name, str) or not _library_name_of(name, base):
        raise UntrustedImage(f"{path}: its shared library {name!r} is not a file "
                             f"of this image in the cache folder")
    so = os.path.join(os.path.dirname(path), name)
    try:
        data, st = _open_trusted(so, "shared library")
    except FileNotFoundError:
        return None
    except ImageError as e:                  # named after the image, as every load error
        raise type(e)(f"{path}: {e}") from None
    if F.checksum_hex(data) != lib.get("checksum"):
        raise ImageError(f"{path}: its shared library {name} does not match the checksum in "
                         f"the image (corrupt or truncated)")
    _VERIFIED_LIBS[so] = (st.st_ino, st.st_mtime_ns, st.st_size, lib["checksum"])
    return so


_HEX = frozenset("0123456789abcdef")


def _library_name_of(name, base):
    """Is ``name`` the file name of a shared library of the image named ``base``: ``base``,
    a dash, 16 lowercase hex digits, ``.so`` -- a plain name, never a path?  (Compared
    character by character: a pattern with the image's name in it was compiled afresh by
    every load.)"""
    tail = name[len(base):]
    return name.startswith(base) and len(tail) == 20 and tail[0] == "-" and \
        tail.endswith(".so") and _HEX.issuperset(tail[1:17])


def _still_verified(so, crc):
    """Is the shared library at ``so`` the one verified by ``shared_lib_path_verified``
    (same file, unchanged), or is its checksum ``crc`` now?"""
    try:
        st = os.stat(so)
    except OSError:
        return False
    if _VERIFIED_LIBS.get(so) == (st.st_ino, st.st_mtime_ns, st.st_size, crc):
        return True
    try:
        return F.file_checksum(so) == crc
    except OSError:
        return False


def read_verified(path):
    """(header, sections) of the image at ``path``: trusted, checksum and shared library
    verified; nothing is deserialised (or mapped) before this returns.  ImageError (one line
    starting with ``path``) otherwise."""
    data, _ = _open_trusted(path, "image")
    header, sections = F.decode(data, path)
    if not isinstance(header, dict):        # (only a deliberate writer gets here)
        raise ImageError(f"{path}: malformed image (header is not an object)")
    shared_lib_path_verified(header, path)
    return header, sections


def read_image(path, modname):
    """(header, sections) of a valid, fresh image, or raise ImageError / StaleImage."""
    header, sections = read_verified(path)
    for name in ("module", "code", "object0"):
        if name not in sections:
            raise ImageError(f"{path}: section {name} missing")
    check_stale(header, path, modname)
    return header, sections


def load_into(module, path, source_path):
    """Fill ``module`` from the image at ``path`` (see the module doc for the steps).

    The cyclic garbage collector is paused meanwhile: a load allocates thousands of
    long-lived objects (methods, instances, entries) and no garbage cycles, and the
    collections those allocations trigger cost a third of the load time.  After a load, the
    objects it made are moved out of the collector's way for good (``gc.freeze``, as Julia
    1.13 stopped walking image objects in every collection): they live as long as the
    process, and every later full collection would otherwise walk all of them again (a
    DemoPkg N=1000 load makes about 60,000; ``workloads/bench_warm.py`` measures a full
    collection with and without).  What was allocated before the load is frozen with them:
    at worst a cycle that was already garbage then is never freed."""
    enabled = gc.isenabled()
    gc.disable()
    created = []
    try:
        _load_into(module, path, source_path, created)
    except BaseException:
        for name in created:          # a package's submodules: not left half-restored
            sys.modules.pop(name, None)
        raise
    finally:
        if enabled:
            gc.enable()
    if enabled:
        gc.freeze()


def _member_modules(header, path, modname):
    """{name: (module, code)} of the package's submodules the image holds, created empty
    and entered in ``sys.modules`` (the package's state refers to them)."""
    out = {}
    members = header.get("members", ())
    if members:
        import importlib.util      # (a package's image: a module's has no members)
    for name, src in members:
        if not (isinstance(name, str) and name.startswith(modname + ".")):
            raise ImageError(f"{path}: member {name!r} is not a submodule of {modname}")
        is_pkg = os.path.basename(src) == "__init__.py"
        spec = importlib.util.spec_from_file_location(
            name, src, submodule_search_locations=[os.path.dirname(src)] if is_pkg else None)
        mod = importlib.util.module_from_spec(spec)
        side = path[:-len(F.SUFFIX)] + f".{name}{F.SUFFIX}.code"
        out[name] = (mod, module_code(path, name, src, header, side=side))
    for name, (mod, _) in out.items():
        sys.modules[name] = mod
    return out


def _load_into(module, path, source_path, created):
    global _FRESH
    modname = module.__name__
    header, sections = read_image(path, modname)
    saved, _FRESH = _FRESH, _Fresh((modname, *(n for n, _ in header.get("members", ()))),
                                   set(D.FUNCTIONS))
    try:
        return _load_fresh(module, path, source_path, created, header, sections)
    finally:
        _FRESH = saved


def _as_executed(module):
    """The module's namespace with ``__builtins__`` in it, as executing its source leaves
    it: C code called from its functions looks the name up in the caller's globals
    (``PyImport_Import`` does, so NumPy's ``a.mean()`` raised ``KeyError: '__builtins__'``
    from a function of a module loaded from an image)."""
    import builtins
    module.__dict__.setdefault("__builtins__", builtins.__dict__)
    return module.__dict__


def _load_fresh(module, path, source_path, created, header, sections):
    modname = module.__name__
    code = module_code(path, modname, source_path, header)
    try:
        members = _member_modules(header, path, modname)
        created.extend(members)
        state = loads_state(sections["module"], module, code, members)
        codeinfo = pickle.loads(sections["code"])
    except ImageError:
        raise
    except Exception as e:
        raise ImageError(f"{path}: cannot restore module {modname}: {e}") from None
    _as_executed(module).update(state["globals"])
    restore_methods(modname, state["methods"])
    for name, gl, records in state.get("members", ()):
        sub = members[name][0]
        _as_executed(sub).update(gl)
        restore_methods(name, records)
        parent, _, child = name.rpartition(".")
        setattr(sys.modules.get(parent, module), child, sub)
    if any(state.get("contexts", {}).values()):
        # (a module without context methods, exports or fused modules has nothing to
        # restore there: ``contexts`` is not imported for it)
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


def restore_methods(modname, methods):
    """Insert the module's methods into their functions, as defining them would (this may
    invalidate code compiled in the session): in their order, each run of methods of one
    function in one call (``dispatch.insert_methods``).  The methods of a base library
    function (named by reference, ``dispatch.FunctionRef``) wait for the library to be
    imported when it is not (``_hold_library_run``)."""
    run, runf = [], None
    for rec in methods:
        f, pyfunc = rec[0], rec[2]
        if f is not runf and run:
            _restore_run(modname, runf, run)
            run = []
        runf = f
        run.append(rec)
        if getattr(pyfunc, "__defaults__", None) or getattr(pyfunc, "__kwdefaults__", None):
            # the shorter methods of default parameter values (keyword-only ones too) are
            # made again, not stored, after the method
            f = _restore_run(modname, f, run)
            run = []
            from ..defaults import add_default_methods
            add_default_methods(f, pyfunc, tuple(rec[5]), rec[1], modname, rec[7])
    if run:
        _restore_run(modname, runf, run)


def _restore_run(modname, f, run):
    """Insert the methods ``run`` of ``f``; the function they went into."""
    if type(f) is D.FunctionRef:
        if _hold_library_run(modname, f, run):
            return f
        f = f.resolve()
    D.insert_methods(f, [D.Method(f, sig, pyfunc, modname, file, line, tuple(argnames),
                                  context=context, boundscheck=boundscheck)
                         for _, sig, pyfunc, file, line, argnames, context, boundscheck
                         in run])
    return f


def _hold_library_run(modname, ref, run):
    """Keep the methods ``run`` of the base library function ``ref`` for the library's
    import (``pending.LIBRARY_METHODS``; ``verify_deferred`` inserts them) when it is not
    imported: a module that gives its struct an ``__add__`` extends the library's ``add``,
    and importing the library's thirty modules for it cost more than the rest of such a
    load.  The function does not exist yet, so nothing can depend on its table meanwhile;
    records whose code calls it take its table as recorded when it is the library's and
    exactly the methods held for it (``tables.deferrable``).  Methods with default values
    are inserted now (their shorter methods are made by the definition)."""
    if any(rec[2].__defaults__ or rec[2].__kwdefaults__ for rec in run):
        return False
    fref = ("func", ref.module, ref.qualname)
    keys = [method_key(T.as_sigtype(rec[1]), modname) for rec in run]
    # (checked and held under the lock ``verify_deferred`` takes what is held under: a
    # library imported meanwhile by another thread is in ``sys.modules`` from its start;
    # and not when an earlier load took the function's table on trust as the library's
    # alone: the methods go in now, after that load's check, and invalidate what they
    # change, as when the library is imported)
    with COMPILER_LOCK:
        return D.LIBRARY not in sys.modules and fref not in UNVERIFIED and \
            LIBRARY_METHODS.add(modname, fref, run, keys, _FRESH)


def _insert_library_methods():
    """Insert the methods loads held for the base library's functions (it is imported)."""
    for modname, fref, run in LIBRARY_METHODS.take():
        _restore_run(modname, func_from_ref(fref), run)


_SIDECAR_MAGIC = b"PKGCODE1"


def _hex64(data):
    """Are ``data`` 64 lowercase hex digits (the sidecar's earlier layout began so)?"""
    return len(data) == 64 and not data.translate(None, b"0123456789abcdef")


def _sidecar_prefix(digest):
    return _SIDECAR_MAGIC + MAGIC_NUMBER + digest.encode("ascii")


def sidecar_bytes(digest, code):
    """The code sidecar: magic, CPython's bytecode magic, the source's digest, the
    marshalled code, and a checksum of all that (``format.checksum``)."""
    import marshal
    body = _sidecar_prefix(digest) + marshal.dumps(code)
    return F.sealed(body)


def module_code(path, modname, source_path, header, side=None):
    """The module's code object, from a marshalled sidecar of the image when its source hash
    matches (CPython's ``__pycache__`` may be disabled), else compiled and cached there.

    The sidecar is code too, and unmarshalling damaged bytes can crash the interpreter, so it
    carries its own checksum (checked first) and CPython's bytecode magic (a sidecar written by
    another Python is replaced, never unmarshalled: the image's runtime check does not cover
    it, it is keyed by the source only).  A damaged or untrusted sidecar is reported in one
    line and rewritten from the source; one of another source or Python, or of the earlier
    layout (64 hex digits, then the code), is replaced silently."""
    import marshal
    digest = header["sources"].get(os.path.abspath(source_path), "")
    side = side or path + ".code"
    problem = None
    try:
        fd = os.open(side, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        fd = None
    except OSError as e:
        fd, problem = None, ("it is a symbolic link" if e.errno == errno.ELOOP
                             else f"cannot read it ({e.strerror})")
    if fd is not None:
        with os.fdopen(fd, "rb") as f:
            why = untrusted_reason(os.fstat(f.fileno()))
            blob = b"" if why else f.read()
        if why:
            problem = f"it {why}"
        elif (body := F.unsealed(blob)) is not None:
            prefix = _sidecar_prefix(digest)
            if body.startswith(prefix):
                try:
                    return marshal.loads(body[len(prefix):])
                except (ValueError, EOFError, TypeError):
                    problem = "undecodable code"
        elif not _hex64(blob[:64]):
            problem = "checksum mismatch (corrupt or truncated)"
    if problem:
        print(f"pkgimage: code sidecar {side} of image {path}: {problem}; recompiled from "
              f"source", file=sys.stderr, flush=True)
    code = importlib.machinery.SourceFileLoader(modname, source_path).get_code(modname)
    try:
        F.atomic_write(side, sidecar_bytes(digest, code))
    except OSError:
        pass
    return code


# -- validation -------------------------------------------------------------------------------


class _Memo:
    """What one ``install_code`` (or ``validate_records``) call resolved, by reference.

    The writer makes equal references one object (``writer.code_section``) and unpickling
    keeps them shared, so a reference that recurs across an image's records -- a method, its
    function, a tuple of argument types -- is the same object each time: it is found here by
    its id, without hashing its nested tuples again (a copy of it is resolved again, to the
    same answer).  Each entry holds its reference, so that no id is reused meanwhile."""

    __slots__ = ("types", "type", "method", "func", "held", "bindings", "moddicts", "active")

    def __init__(self):
        self.clear()

    def clear(self):
        self.types: dict = {}        # id(refs) -> (refs, tuple of types)
        self.type: dict = {}         # id(ref) -> (ref, type)
        self.method: dict = {}       # id(ref) -> (ref, Method or None)
        self.func: dict = {}         # id(ref) -> (ref, GenericFunction)
        self.held: dict = {}         # id(tables) -> (tables, {id(fref): (fref, digest holds)})
        self.bindings: dict = {}     # id(bindings refs) -> (refs, (bindings, why not))
        self.moddicts: dict = {}     # module name -> its globals (while bindings are checked)
        self.active = False


_MEMO = _Memo()


class _UsingMemo:
    """Resolve with ``memo`` (a held part's own, kept while it holds records: its records'
    shared references are found by identity again when they are made) instead of the
    load's."""

    __slots__ = ("memo", "saved")

    def __init__(self, memo):
        self.memo = memo

    def __enter__(self):
        global _MEMO
        self.saved, _MEMO = _MEMO, self.memo
        _MEMO.active = True

    def __exit__(self, *exc):
        global _MEMO
        _MEMO = self.saved


def _resolve_types(refs):
    hit = _MEMO.types.get(id(refs))
    if hit is not None and hit[0] is refs:
        return hit[1]
    value = tuple(T.type_from_ref(r) for r in refs)
    _MEMO.types[id(refs)] = (refs, value)
    return value


def _type(ref):
    hit = _MEMO.type.get(id(ref))
    if hit is not None and hit[0] is ref:
        return hit[1]
    value = T.type_from_ref(ref)
    _MEMO.type[id(ref)] = (ref, value)
    return value


def _method(ref):
    """The method ``ref`` names now, or None.  Found by its key among its function's methods
    (``tables.find_method``: the key ``method_ref`` wrote, so no signature is resolved or
    compared), else by ``method_from_ref``'s resolution and comparison."""
    hit = _MEMO.method.get(id(ref))
    if hit is not None and hit[0] is ref:
        return hit[1]
    _import_defining_module(ref[2])
    m = None
    if ref[0][0] in ("func", "ctor"):
        try:
            f = _func(ref[0])
        except (LookupError, ImportError, AttributeError, KeyError):
            f = None
        if f is not None:
            m = find_method(f, ref[1], ref[2])
    if m is None:
        m = method_from_ref(ref)
    _MEMO.method[id(ref)] = (ref, m)
    return m


def _import_defining_module(name):
    """Import pkgimage's own module that defined a method an image names, if nothing has
    yet: ``import pkgimage`` used to import the base library, and is lazy now, so
    ``pkgimage.base``, whose methods extend the primitive types' constructors, may not be
    imported when an image needs its methods.  Only pkgimage's modules: importing a user's
    module because an image names it would add its methods to this process's world (a
    method the image's build saw and this program never imported is not found, and the
    instance that called it is discarded, as always)."""
    if not name.startswith("pkgimage.") or name in sys.modules or name in _NOT_MODULES:
        return
    try:
        importlib.import_module(name)
    except ImportError:
        _NOT_MODULES.add(name)               # (a context view's pseudo-module)


_NOT_MODULES: set = set()


def _tables_hold(record):
    """Does every edge of ``record`` go to a function whose method table has the digest the
    image recorded for it (``tables.py``)?  Then every edge holds and none is checked.
    Each function is compared once per load, and each tuple of edges answered once (the
    answers kept per table of digests, by the identity of the reference or tuple: the
    records of one part of an image share their table and equal tuples of edges)."""
    edges = record["edges"]
    if not edges:
        return True
    tables = record.get("tables")
    if not tables:
        return False
    held = _held_answers(tables)
    hit = held.get(id(edges))
    if hit is not None and hit[0] is edges:
        return hit[1]
    ok = True
    for e in edges:
        if not _function_holds(tables, e[1], held):
            ok = False
            break
    held[id(edges)] = (edges, ok)
    return ok


def _held_answers(tables):
    """The load's answers for one table of digests: {id(reference or tuple of edges):
    (it, holds)}."""
    per = _MEMO.held.get(id(tables))
    if per is None or per[0] is not tables:
        per = _MEMO.held[id(tables)] = (tables, {})
    return per[1]


def _function_holds(tables, fref, held):
    """``_table_holds(tables, fref)``, answered once per function reference and load."""
    fhit = held.get(id(fref))
    if fhit is None or fhit[0] is not fref:
        fhit = held[id(fref)] = (fref, _table_holds(tables, fref))
    return fhit[1]


def _table_holds(tables, fref):
    """Is the method table of the function ``fref`` names the one ``tables`` recorded
    (digest, method count, sole module: ``tables.digests_for``)?  A function this load
    created, all of whose methods the loading image's modules define, is compared by its
    count (``tables.fresh_table_holds``), any other by its digest."""
    want = tables.get(fref)
    if want is None:
        return False
    if deferrable(fref, want):
        _defer(fref, want)
        return True
    try:
        f = _func(fref)
        if want[2] is not None and want[2] in _FRESH.modules and \
                (f.module, f.qualname) not in _FRESH.before and fresh_table_holds(f, want):
            return True
        return table_digest(f) == want[0]
    except (LookupError, ImportError, AttributeError, KeyError):
        return False


def _defer(fref, want):
    """Take the table of ``fref``'s function (the base library's, not imported) as the
    recorded ``want`` until the library is imported (``tables.deferrable``)."""
    UNVERIFIED.setdefault(fref, set()).add((want, _FRESH.modules))


def verify_deferred(name):
    """The base library has been imported: compare each table a load took on trust with the
    one recorded.  Any that differs throws away the code of the images that trusted it --
    their held records, and the instances made from them (invalidated, so a call compiles
    afresh) -- as a load would have discarded them.  The held records of its methods are
    indexed by their functions now."""
    with COMPILER_LOCK:
        LIBRARY_IMPORTED[0] = True
        # (the methods images added to its functions first: the tables taken on trust
        # had them; their insertion leaves the records on trust alone, ``UNVERIFIED``)
        _insert_library_methods()
        if not UNVERIFIED:
            return
        bad = {}
        for fref in list(UNVERIFIED):
            wants = UNVERIFIED.pop(fref)
            try:
                digest = table_digest(func_from_ref(fref))
            except (LookupError, ImportError, AttributeError, KeyError):
                digest = None
            for want, modules in wants:
                if digest is None or digest != want[0]:
                    for mod in modules:
                        bad.setdefault(mod, fref)
        for h in list(INS.PENDING_HOLDERS):
            h.bind_functions()
        for mod, fref in sorted(bad.items()):
            _throw_away(mod, f"the methods of {_describe_ref(fref)} are not those the "
                             f"image was built with")


def _describe_ref(fref):
    return f"{fref[1]}.{fref[2]}" if fref[0] == "func" else \
        f"the constructor of {fref[1][-1]}"


def _throw_away(modname, why):
    """Discard the code the image of ``modname`` installed: its held records, and its
    instances made since (invalidated)."""
    for h in list(INS.PENDING_HOLDERS):
        if h.module == modname:
            for sym in h.discard_all():
                DISCARDED.append((modname, _describe_record(h.entries[sym][0]), why))
                STATS["discarded_instances"] += 1
    INS.invalidate_roots([mi.cache for table in list(INS.SPECIALIZATIONS.values())
                          for mi in list(table.values()) if mi.cache is not None
                          and mi.cache.valid and mi.cache.image == modname], why)


D.on_library_loaded(verify_deferred)


class _Fresh:
    """The load in progress: its image's modules, and the keys of the generic functions
    that existed before it started (any other was created by the load)."""

    __slots__ = ("modules", "before")

    def __init__(self, modules=(), before=frozenset()):
        self.modules = frozenset(modules)
        self.before = before


_FRESH = _Fresh()


def _func(ref):
    hit = _MEMO.func.get(id(ref))
    if hit is not None and hit[0] is ref:
        return hit[1]
    value = func_from_ref(ref)
    _MEMO.func[id(ref)] = (ref, value)
    return value


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


def _bindings_from_record(r):
    """(bindings, None) if every module global the instance's code took as a constant
    still has that value here, else (None, why).  Equal tuples of references are one object
    in an image (``writer._canonical``) and globals do not change while a load checks its
    records: each distinct one is checked once per load (DemoPkg's 2,002 records share a
    few)."""
    refs = r.get("bindings", ())
    if not refs:
        return (), None
    hit = _MEMO.bindings.get(id(refs))
    if hit is not None and hit[0] is refs:
        return hit[1]
    value = _MEMO.bindings[id(refs)] = (refs, _check_bindings(refs))
    return value[1]


def _check_bindings(refs):
    out = []
    for mod, name, ref in refs:
        if ref[0] == "type":
            # (a type global, the usual kind: resolved through the load's memo of type
            # references, compared by identity as ``same_binding`` does)
            try:
                then = _type(ref[1])
            except (LookupError, ImportError, AttributeError, KeyError):
                return None, f"global {mod}.{name} is not what the code was compiled with"
            g = _module_dict(mod)
            if g is None or g.get(name, _MISSING) is not then:
                return None, f"global {mod}.{name} is not what the code was compiled with"
            out.append((mod, name, then))
            continue
        ok, then = binding_from_ref(ref)
        entry = (mod, name, then)
        if not ok or not INS.binding_holds(entry):
            return None, f"global {mod}.{name} is not what the code was compiled with"
        out.append(entry)
    return tuple(out), None


_MISSING = object()


def _module_dict(mod):
    """``instances.module_globals(mod)``, looked up once per module and load (the memo is
    emptied when the load's bindings have been checked)."""
    hit = _MEMO.moddicts.get(mod, _MISSING)
    if hit is _MISSING:
        hit = _MEMO.moddicts[mod] = INS.module_globals(mod)
    return hit


def _closed_hold(r):
    """None if no mutable struct the instance's code took as concrete has been subclassed
    in this process (``instances.type_opened``), else why not."""
    if INS.OPENED:
        for ref in r.get("closed", ()):
            if ref in INS.OPENED:
                return f"mutable struct {ref[-1]} was subclassed after the code was compiled"
    return None


def _describe_edge(e):
    if e.candidates:
        # (a call on abstract types, inferred from the methods that could apply: say which
        # were added or went -- "now resolves to MethodError" told nothing)
        try:
            now_apply = set(INS.intersecting(e.function, e.argtypes))   # (``edge_valid``'s)
            then_apply = set(e.candidates)
        except Exception:             # noqa: BLE001 (the generic description below)
            now_apply = then_apply = None
        if now_apply != then_apply:
            parts = [f"+{m.sigstr()} from {m.module}" for m in sorted(now_apply - then_apply)]
            parts += [f"-{m.sigstr()} from {m.module}" for m in sorted(then_apply - now_apply)]
            return (f"the methods that may apply to {T.sig_repr(e.function.name, e.argtypes)} "
                    f"changed ({', '.join(parts[:4])}{', ...' if len(parts) > 4 else ''})")
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
    with COMPILER_LOCK:
        _MEMO.clear()
        _MEMO.active = True
        try:
            _install_code(modname, header, codeinfo, objects, path)
        finally:
            _MEMO.clear()


def validate_records(records, callee_ok=None):
    """Which cached instances hold in this process: ({symbol: (record, MethodInstance,
    edges)} of those whose method exists, whose every edge resolves as it did when they were
    inferred and whose callees hold, {symbol: (what, why)} of the others).  ``callee_ok(mref,
    specrefs, symbol, inlined)`` judges a callee outside ``records`` (by default: a valid
    instance of this process with native code under that symbol, unless inlined).  The one
    check of cached code, for images at load and for the sandbox's instances at a build."""
    with COMPILER_LOCK:
        outer = _MEMO.active
        _MEMO.active = True
        try:
            entries, reasons = _validate_records(records, callee_ok or _callee_valid)
            return ({s: (r, INS.method_instance(m, spec), (edges, b))
                     for s, (r, m, spec, edges, b, _) in entries.items()}, reasons)
        finally:
            if not outer:
                _MEMO.clear()


def _callee_valid(mref, specrefs, csym, inlined):
    callee = None
    m = _method(mref)
    if m is not None:
        cmi = INS.existing_instance(m, _resolve_types(specrefs))
        callee = cmi.cache if cmi is not None else None
    # An inlined callee must still be valid here; a called one must also have its native
    # code under the symbol this code calls.
    return callee is not None and callee.valid and (inlined or (
        callee.native is not None and callee.native.symbol == csym
        and callee.native.exported))


def _validate_records(records, callee_ok, hold=False):
    """({symbol: (record, method, spec types, edges, bindings, function)}, {symbol: (what,
    why)}).

    ``hold``: a record every edge of which goes through a function whose method table has
    the digest the image recorded holds without any edge being resolved (its ``edges`` are
    None: they are resolved when the instance is made, ``pending.py``); and when its own
    method's function is one the load created with the table the image recorded, neither
    is its method nor are its argument types (``method`` and ``spec`` are None: the method
    exists, the image restored it, and it is found when the instance is made).  Otherwise
    every edge is resolved and checked here."""
    entries, reasons = (_held_records if hold else _checked_records)(records)
    _discard_callers(entries, reasons, callee_ok)
    return entries, reasons


def _checked_records(records):
    """Every record's method, argument types and edges resolved, every edge checked."""
    entries = {}
    reasons = {}
    # First resolve every reference, which may import the modules they name (and so add
    # methods: those of ``pkgimage.base`` to the primitive types' constructors, say), and
    # only then check anything against the method tables, which no longer change.
    resolved = []
    for r in records:
        try:
            m = _method(r["method"])
            if m is None:
                raise LookupError("its method no longer exists")
            spec = _resolve_types(r["spec"])
            edges = [_edge_from_record(e) for e in r["edges"]]
        except (LookupError, KeyError, ImportError, AttributeError) as e:
            reasons[r["symbol"]] = (_describe_record(r), str(e))
            continue
        resolved.append((r, m, spec, edges))
    for r, m, spec, edges in resolved:
        if _tables_hold(r):
            STATS["edges_by_table"] += len(r["edges"])
        elif not _edges_hold(reasons, r, m, spec, edges):
            continue
        _enter(entries, reasons, r, m, spec, edges, m.function)
    return entries, reasons


def _edges_hold(reasons, r, m, spec, edges):
    """Does every one of the record's resolved ``edges`` still hold (``instances.edge_valid``)?
    If not, the record's reason names the first that does not."""
    STATS["edges_checked"] += len(edges)
    bad = next((e for e in edges if not INS.edge_valid(e)), None)
    if bad is not None:
        reasons[r["symbol"]] = (_describe(m, spec), _describe_edge(bad))
    return bad is None


def _held_records(records):
    """``_checked_records`` for records the load may hold: their tables compared a function
    at a time, their edges resolved only where a table differs.  The common case -- every
    function's table the recorded one -- is a few dictionary lookups per record, answered
    by the identity of the references records share (``_MEMO``)."""
    entries = {}
    reasons = {}
    modules, before = _FRESH.modules, _FRESH.before
    # As in ``_checked_records``: every reference resolved (and what it names imported)
    # before anything is checked.
    resolved = []
    seen_edges = set()
    for r in records:
        try:
            mref = r["method"]
            fref = mref[0]
            tables = r.get("tables")
            want = None
            trusted = bool(tables) and deferrable(fref, tables.get(fref))
            if not trusted and mref[2] in modules and tables:
                # (a function the load created, of the image's modules, whose table the
                # part recorded: its table is checked below, its method not resolved)
                want = tables.get(fref)
                if want is not None:
                    f = _func(fref)
                    if want[2] not in modules or (f.module, f.qualname) in before:
                        want = None
            if trusted:
                # (a method of a base library function, not imported -- the library's or
                # one an image added to it: its table taken on trust, its function found
                # when the library is imported)
                want = tables[fref]
                _defer(fref, want)
                m = spec = f = None
            elif want is None:
                m = _method(mref)
                if m is None:
                    raise LookupError("its method no longer exists")
                spec = _resolve_types(r["spec"])
                f = m.function
            else:
                m = spec = None
            es = r["edges"]
            if id(es) not in seen_edges:       # (equal tuples are one object; the
                seen_edges.add(id(es))         # records keep them alive meanwhile)
                for e in es:
                    if (e[3] is not None and e[3][2].startswith("pkgimage.") or e[4]) and \
                            not (tables and deferrable(e[1], tables.get(e[1]))):
                        _import_methods_of_edge(e)
        except (LookupError, KeyError, ImportError, AttributeError) as e:
            reasons[r["symbol"]] = (_describe_record(r), str(e))
            continue
        resolved.append((r, m, spec, f, want))
    by_table = 0
    last, answers = None, None
    for r, m, spec, f, want in resolved:
        tables = r.get("tables")
        if tables is not last:
            last, answers = tables, (_held_answers(tables) if tables else None)
        if m is None and f is not None and not fresh_table_holds(f, want):
            # (its own function's table is not the one the part recorded: its method is
            # resolved, found or not)
            m = _method(r["method"])
            if m is None:
                reasons[r["symbol"]] = (_describe_record(r), "its method no longer exists")
                continue
            spec = _resolve_types(r["spec"])
        es = r["edges"]
        if not es:
            holds = True
        elif answers is None:
            holds = False
        else:
            hit = answers.get(id(es))
            holds = hit[1] if hit is not None and hit[0] is es else _tables_hold(r)
        if holds:
            by_table += len(es)
            _enter(entries, reasons, r, m, spec, None, f)
            continue
        if m is None:
            m, spec = _method(r["method"]), _resolve_types(r["spec"])
        try:
            edges = [_edge_from_record(e) for e in es]
        except (LookupError, KeyError, ImportError, AttributeError) as e:
            reasons[r["symbol"]] = (_describe_record(r), str(e))
            continue
        if _edges_hold(reasons, r, m, spec, edges):
            _enter(entries, reasons, r, m, spec, edges, f)
    STATS["edges_by_table"] += by_table
    return entries, reasons


def _enter(entries, reasons, r, m, spec, edges, f):
    """Enter a record whose edges hold, unless a global its code took as a constant is not
    that value now or a mutable struct it took as concrete has been subclassed."""
    bindings, why = _bindings_from_record(r) if r.get("bindings") else ((), None)
    if why is None and INS.OPENED:
        why = _closed_hold(r)
    if why is not None:
        reasons[r["symbol"]] = (_describe_record(r), why)
    else:
        entries[r["symbol"]] = (r, m, spec, edges, bindings, f)


def _discard_callers(entries, reasons, callee_ok):
    """Discard the callers of discarded instances, to a fixed point (across images: a
    callee outside the records must be valid here, ``callee_ok``).

    A callee outside the records is judged once per reference: nothing it depends on
    changes meanwhile, and a thousand instances calling one base method asked a thousand
    times.  By its method and argument-type references -- equal ones are one object in an
    image, and the records keep them alive meanwhile -- not by its symbol alone: an inlined
    callee compiled in the session may have none."""
    outside = {}

    def outside_ok(mref, specrefs, csym, inlined):
        key = (id(mref), id(specrefs), csym, inlined)
        hit = outside.get(key)
        if hit is None:
            hit = outside[key] = callee_ok(mref, specrefs, csym, inlined)
        return hit

    changed = True
    while changed:
        changed = False
        for sym, e in list(entries.items()):
            for mref, specrefs, csym, inlined in e[0]["callees"]:
                if csym not in entries and not outside_ok(mref, specrefs, csym, inlined):
                    reasons[sym] = (_describe_record(e[0]), f"callee {csym} is not valid here")
                    del entries[sym]
                    changed = True
                    break


def _import_methods_of_edge(e):
    """Import pkgimage's modules that defined the methods an edge names (``_method`` does
    when it resolves them; a held record's are resolved only when it is made)."""
    mref = e[3]
    if mref is not None:
        _import_defining_module(mref[2])
    for c in e[4]:
        _import_defining_module(c[2])


def _describe(m, spec):
    return "MethodInstance for " + T.sig_repr(m.function.name, spec)


def _install_code(modname, header, codeinfo, objects, path):
    global _MEMO
    world = D.world_counter()
    records = codeinfo["records"]
    # Held as records until asked for (``pending.py``), unless the image has context
    # dispatch (its instances are adopted into contexts as they are installed).
    hold = not any(r["method"][0][0] == "view" for r in records)
    entries, reasons = _validate_records(records, _callee_valid, hold=hold)
    _MEMO.bindings.clear()            # (globals may change once the load is over)
    _MEMO.moddicts.clear()
    for sym, (what, why) in reasons.items():
        DISCARDED.append((modname, what, why))
    STATS["discarded_instances"] += len(reasons)
    if not entries:
        return
    address, shared = _link(header, codeinfo, objects, path, entries)
    from ..compiler import entry  # noqa: F401  (what the first call runs: imported with the load)
    held, now, outside = {}, [], {}
    # (each tuple of callees -- one object for equal ones -- split once into those outside
    # the part and whether each of them has a MethodInstance here)
    split = {}
    for sym, (r, m, spec, edges, bindings, f) in entries.items():
        # Made now: what was checked edge by edge (its edges are resolved already), and
        # what calls an instance outside the part that has no MethodInstance here (an
        # inlined callee compiled in no process).  The others are held; a callee's
        # backedges name its held callers through ``MethodInstance.hold_caller``.
        if edges is None:
            cs = r["callees"]
            hit = split.get(id(cs))
            if hit is None or hit[0] is not cs:
                out = tuple(c for c in cs if c[2] not in entries)
                hit = split[id(cs)] = (cs, out, all(_outside_callee(c, outside) is not None
                                                    for c in out))
            if hit[2]:
                held[sym] = f
                continue
        now.append((sym, r, m, spec, bindings, edges))
    STATS["loaded_instances"] += len(entries)
    make = _Maker(modname, world, address, shared, set(held))
    part = None
    if held:
        part = make.part = HeldPart(modname, held, entries, make.held_made, make.finish)
        for sym in held:
            for c in split[id(entries[sym][0]["callees"])][1]:
                _outside_callee(c, outside).hold_caller(part, sym)
    if now:
        make.install(sorted(now, key=_first))
    if part is not None:
        # (what the load resolved stays resolved for the held records: the part keeps the
        # load's memo, and the next load gets a new one)
        make.memo, _MEMO = _MEMO, _Memo()
        part.register()
        STATS["held_instances"] += len(held)


def _first(item):
    return item[0]


def _outside_callee(c, memo):
    """The MethodInstance of this process a record's callee ``c`` outside its part names
    (validated already: ``_callee_valid``), or None; ``memo``: by the callee's references,
    shared objects in an image (a thousand records calling one base method)."""
    mref, specrefs = c[0], c[1]
    key = (id(mref), id(specrefs))
    hit = memo.get(key)
    if hit is None:
        m = _method(mref)
        cmi = INS.existing_instance(m, _resolve_types(specrefs)) if m is not None else None
        hit = memo[key] = (mref, specrefs, cmi)
    return hit[2]


class _Maker:
    """Makes a part's valid records into installed CodeInstances: at load, and for a
    held part (``pending.py``) whenever it is asked for some of them (with the part's own
    resolution memo, kept from the load)."""

    __slots__ = ("modname", "world", "address", "shared", "held", "memo", "part")

    def __init__(self, modname, world, address, shared, held):
        self.modname = modname
        self.world = world
        self.address = address        # symbol -> its address
        self.shared = shared
        self.held = held              # symbols of the part held as records
        self.memo = None
        self.part = None              # the HeldPart of the held ones, if any

    def held_made(self, items, lazy):
        """Make held records when asked for them; ``lazy``: without their edges and
        callees (``finish``)."""
        with _UsingMemo(self.memo):
            self.install([(s, r, None, None, b, None) for s, r, b in items], lazy=lazy)
        STATS["made_instances"] += len(items)

    def finish(self, items):
        """Complete ``[(symbol, CodeInstance, record)]`` made by ``held_made``: their edges
        resolved and registered, their callees' backedges filled in."""
        with _UsingMemo(self.memo):
            for _, ci, r in items:
                ci.edges = [_edge_from_record(e) for e in r["edges"]]
            for _, ci, r in items:
                self._link_callees(ci, r)
            # (complete from here on: a reader that does not take the compiler lock sees
            # ``pending`` set -- and waits for the lock -- until edges and callees are in)
            for _, ci, r in items:
                ci.pending = None
                INS.register_edges(ci)

    def _attach_native(self, mi, m, spec, sym, r, prelinked):
        """``mi``'s instance runs this image's code for ``sym`` (its entry made at the first
        call from Python)."""
        ci = mi.cache
        ci.native = INS.NativeCode(sym, self.address(sym), "image:" + self.modname)
        ci.native.wrapper = self.address(r["wrapper"]) if self.shared is None \
            else (self.shared, r["wrapper"])
        prelinked[(m.function, spec)] = (mi, ci.native)

    def install(self, items, lazy=False):
        """Install ``[(symbol, record, method, spec, bindings, edges)]``; ``lazy``: leave
        each one's edges and callees in its record for ``finish`` (the part's ``lazy``)."""
        from ..compiler.entry import PRELINKED
        installed = []
        for sym, r, m, spec, bindings, edges in items:
            self.held.discard(sym)
            if m is None:             # (held without being resolved: ``_validate_records``)
                m, spec = _method(r["method"]), _resolve_types(r["spec"])
            mi = INS.method_instance_here(m, spec)
            if mi.cache is not None and mi.cache.valid:
                # compiled in this session already, or loaded from another image: keep that
                # one -- given this image's code when it has none (another image held it
                # inline-only; a call from Python compiled it afresh)
                if mi.cache.native is None and not r.get("inline_only"):
                    self._attach_native(mi, m, spec, sym, r, PRELINKED)
                continue
            ci = INS.CodeInstance(mi, None, self.world)
            ci.rettype = _type(r["rettype"])
            ci.bindings = bindings
            ci.vartypes = {v: _type(t) for v, t in r["vartypes"]}
            ci.needs_native = True
            ci.symbol = sym
            ci.image = self.modname
            mi.cache = ci
            if lazy:
                ci.pending = self.part
                self.part.lazy[sym] = ci
            else:
                ci.edges = edges if edges is not None else \
                    [_edge_from_record(e) for e in r["edges"]]
                INS.register_edges(ci)
                installed.append((ci, r))
            if not r.get("inline_only"):
                self._attach_native(mi, m, spec, sym, r, PRELINKED)
            # (an inline-only instance has no code: it is installed for its edges and
            # backedges, and compiled afresh if something ever needs to call it natively)
            m.function._pycache.clear()
            if lazy:
                installed.append((ci, None))
        for ci, r in installed:
            if r is not None:
                self._link_callees(ci, r)
            # (its callers the part still holds, or made without their callees: made or
            # completed before anything walks its backedges, so that invalidating it
            # reaches them)
            if self.part is not None:
                for caller in self.part.held_callers_of(ci.symbol):
                    ci.mi.hold_caller(self.part, caller)
        if any(getattr(ci.mi.method.function, "context", None) is not None
               for ci, _ in installed):
            from ..contexts import note_loaded
            for ci, _ in installed:
                note_loaded(ci)


    def _link_callees(self, ci, r):
        callees = []
        for mref, specrefs, csym, inlined in r["callees"]:
            cm = _method(mref)
            if cm is None:
                continue
            cspec = _resolve_types(specrefs)
            # (a callee the part still holds: its MethodInstance, made empty, filled when
            # the callee is made)
            cmi = INS.method_instance_here(cm, cspec) if csym in self.held \
                else INS.existing_instance(cm, cspec)
            if cmi is not None:
                cmi.add_backedge(ci.mi)
                callees.append(cmi)
        ci.callees = callees


def _unreachable_address():
    """Address given to calls of instances that are not valid here (their callers are
    discarded, so it is never reached): libc's ``abort``."""
    import ctypes
    return ctypes.cast(ctypes.CDLL(None).abort, ctypes.c_void_p).value


def _names_library(ref):
    """Does the constant-slot reference ``ref`` name a function of the base library (which
    filling the slot would import)?"""
    return ref[0] in ("func", "typed_call") and \
        (ref[1] == D.LIBRARY or ref[1].startswith(D.LIBRARY + "."))


def _link(header, codeinfo, objects, path, entries):
    """(the address of a valid instance's symbol, the SharedLibrary or None).

    Through the shared library, symbols are looked up when an instance is made, wrappers at
    their first call from Python (most instances are only ever called natively, many never
    made); through ORC, all at once."""
    from ..compiler import native
    consts = codeinfo["consts"]
    want = set()
    for sym, e in entries.items():
        if not e[0].get("inline_only"):
            want.add(sym)
    lib = header.get("shared_lib")
    if lib is not None:
        so = os.path.join(os.path.dirname(path), lib["file"])
        # (verified before anything was unpickled; changed since, it is not used)
        if _still_verified(so, lib["checksum"]):
            try:
                shared = native.SharedLibrary(so)
            except OSError:
                # It calls a symbol of another image that is not available by name: that
                # image stored object code (PKGIMAGE_NO_SHARED) or none of its code was
                # valid here.  Link the object through ORC, where imports are explicit.
                shared = None
            if shared is not None:
                shared.fill_slots(consts, None if D.LIBRARY in sys.modules
                                  else _names_library)
                return shared.address, shared
    # No usable shared library: link the object through the ORC JIT (imports llvmlite).
    from ..compiler.jit import get_jit
    own = {r["symbol"] for r in codeinfo["records"]}
    imports = {}
    for r in codeinfo["records"]:
        for mref, specrefs, csym, inlined in r["callees"]:
            if inlined or csym in own or csym in imports:
                continue
            m = _method(mref)
            cmi = INS.existing_instance(m, _resolve_types(specrefs)) if m else None
            if cmi is not None and cmi.cache is not None and cmi.cache.native is not None \
                    and cmi.cache.native.exported and cmi.cache.native.symbol == csym:
                imports[csym] = cmi.cache.native.address
            else:
                # Its callers were discarded above and are never called; the object still
                # needs every symbol defined to be linked.
                imports[csym] = _unreachable_address()
    wrappers = {entries[s][0]["wrapper"] for s in want}
    return get_jit().link(objects, sorted(want | wrappers), imports, consts).__getitem__, None

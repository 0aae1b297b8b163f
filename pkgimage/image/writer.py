"""Writing a closed module's image.

Ownership follows Julia: the image keeps the CodeInstances of the module's own methods
(including those it added to other modules' functions), the instances whose signature names
one of its types (so ``pk.precompile(base.setitem, (Vector[MyType], ...))`` is cached, seed
004's quiz case), and every instance those call statically that no dependency image owns.

All owned instances are generated again, together, as one LLVM module with exported symbols
and Python entry wrappers (the same codegen and object emission as the JIT: one pipeline),
and emitted as one object.  When a C compiler is available the object is also linked into a
shared library beside the image, which the loader opens with the dynamic loader.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import tempfile

from .. import dispatch as D
from .. import types as T
from ..compiler import instances as INS
from . import format as F
from .cache import image_path, shared_lib_path
from .serialize import (BuildError, binding_ref, check_globals, dumps_state, func_ref,
                        method_ref, module_globals, own_methods)


def _mentions(t, own_types):
    return any(c in own_types or (c.__pk_typename__ is not None and
                                  c.__pk_typename__.wrapper in own_types)
               for c in T.components(t))


def owned_instances(modname):
    """The valid, concrete CodeInstances this module's image keeps (see the module doc); a
    package's image keeps those of the submodules it holds too (``packages.py``)."""
    from .hook import MEMBERS
    mods = {modname, *MEMBERS}
    own_types = {t for t in T.USER_TYPES.values()
                 if getattr(t, "__pk_module__", None) in mods or
                 (isinstance(t, T.UnionAll) and T.typename_of(t).module in mods)}
    roots = []
    for f in D.FUNCTIONS.values():
        for ci in INS.code_instances(inferred_here=True, concrete=True, methods=f.methods):
            if ci.mi.method.module in mods or \
                    any(_mentions(t, own_types) for t in ci.mi.spec_types):
                roots.append(ci)
    owned, seen, stack = [], set(), list(roots)
    from ..compiler.inference import static_calls
    while stack:
        ci = stack.pop()
        if id(ci) in seen or ci.image:
            continue
        seen.add(id(ci))
        owned.append(ci)
        for info in ci.stmt_info.values():
            for call in static_calls(info):
                if call.mi.cache is not None:
                    stack.append(call.mi.cache)
    return owned


def _static_callees(ci):
    from ..compiler.inference import static_calls
    out = []
    for info in ci.stmt_info.values():
        for call in static_calls(info):
            if call.mi.cache is not None and call.mi not in [c.mi for c in out]:
                out.append(call.mi.cache)
    return out


_REFS: dict = {}      # object -> its (shared) reference tuple while records are written


def _shared(key, make):
    """One tuple per referenced object, so pickle writes each reference once (smaller images,
    faster loads)."""
    hit = _REFS.get(key)
    if hit is None:
        hit = _REFS[key] = make()
    return hit


def _types(ts):
    return _shared(("types", ts), lambda: tuple(T.type_ref(t) for t in ts))


def _mref(m):
    return _shared(("method", id(m)), lambda: method_ref(m))


def _fref(f):
    return _shared(("func", id(f)), lambda: func_ref(f))


def _edge_record(e):
    return (e.kind, _fref(e.function), _types(e.argtypes),
            _mref(e.method) if e.method is not None else None,
            tuple(_mref(m) for m in e.candidates))


def assign_symbols(owned):
    """Image symbols are generation 0: the same instance always gets the same name."""
    from ..compiler import codegen
    for ci in owned:
        ci.symbol = codegen.symbol_for(ci, 0)


def compile_owned(owned, known_externals=(), entries=()):
    """One part of an image: (records, object bytes, constant slots) for ``owned``.

    Calls to instances outside ``owned`` must go to dependency images or to
    ``known_externals`` (symbols of another part of the same image).  Instances in
    ``entries`` (ids) get a Python entry even when small (calls from Python reach them)."""
    from ..compiler import codegen
    from ..compiler.jit import get_jit
    from ..compiler.pipeline import drop_llvm_ir
    assign_symbols(owned)
    owned = sorted(owned, key=lambda c: c.symbol)
    mg = codegen.ModuleGen("image")
    mg.own_ids = {id(ci) for ci in owned}
    wrappers = {}
    inline_only = set()
    for ci in owned:
        if codegen.inline_size(ci) is not None and not (ci.native and ci.native.has_entry) \
                and id(ci) not in entries and \
                not getattr(ci.mi.method.pyfunc, "__pk_struct_method__", False):
            # Small and never called from Python: every caller inlines it, so it needs no
            # function of its own -- only its record, whose edges callers' validity uses.
            inline_only.add(ci.symbol)
            continue
        mg.add_function(ci)
    for ci in owned:
        if ci.symbol not in inline_only:
            wrappers[ci.symbol] = mg.add_wrapper(ci)
    for sym, ext in mg.externals.items():
        if not getattr(ext, "image", None) and sym not in known_externals:
            raise BuildError(f"internal: {ext!r} is called natively but owned by no image")
    obj = get_jit().emit_object(mg.module, blocks=mg.blocks_estimate())
    drop_llvm_ir(mg.module)           # (freed now, not by a collection in the workload)
    tables = _table_digests(owned)
    records = []
    _REFS.clear()
    for ci in owned:
        records.append({
            "method": _mref(ci.mi.method),
            "spec": _types(ci.mi.spec_types),
            "rettype": T.type_ref(ci.rettype),
            "symbol": ci.symbol,
            "inline_only": ci.symbol in inline_only,
            "wrapper": wrappers.get(ci.symbol),
            "edges": tuple(_edge_record(e) for e in ci.edges),
            "bindings": tuple((mod, name, binding_ref(v, mod, name))
                              for mod, name, v in ci.bindings),
            "callees": tuple((_mref(c.mi.method), _types(c.mi.spec_types),
                              mg.called_symbol(c), codegen.inline_size(c) is not None)
                             for c in _static_callees(ci)),
            "vartypes": tuple((v, _types((t,))[0]) for v, t in ci.vartypes.items()),
            # (the mutable structs its code took as concrete: a subclass of one defined
            # where the image loads makes it stale, ``loader._closed_hold``)
            "closed": tuple(sorted((T.type_ref(t) for t in INS.closed_mutables(ci)), key=repr)),
            # (one dict object for the whole part: pickled once)
            "tables": tables,
        })
    _REFS.clear()
    return records, obj, list(mg.consts)


def _table_digests(owned):
    """{function reference: (method-table digest, count, module)} of the functions ``owned``
    calls and of their own methods' functions, as their tables are now (see ``tables.py``): the loader takes every edge through a function whose
    table is the same at load as holding.  A function through which some edge does not hold
    now (which a valid instance should never have) gets no digest, so that the loader checks
    its edges one by one, exactly as without fingerprints."""
    from .tables import digests_for
    functions, broken = {}, set()
    for ci in owned:
        # (the function of the instance's own method too: a held record of a function the
        # load created with this table is not resolved at load, ``loader._validate_records``)
        f = ci.mi.method.function
        functions.setdefault(id(f), f)
        for e in ci.edges:
            functions[id(e.function)] = e.function
            if id(e.function) not in broken and not INS.edge_valid(e):
                broken.add(id(e.function))
    return digests_for(f for k, f in functions.items() if k not in broken)


def link_shared(objects, out_path):
    """Link object code into one shared library with the system C compiler, if there is one."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    from ..settings import settings
    if cc is None or settings.no_shared:
        return None
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, obj in enumerate(objects):
            o = os.path.join(d, f"part{i}.o")
            with open(o, "wb") as f:
                f.write(obj)
            paths.append(o)
        so = os.path.join(d, "image.so")
        r = subprocess.run([cc, "-shared", "-nostdlib", "-o", so] + paths +
                           ["-Wl,--build-id=none"], capture_output=True, text=True)
        if r.returncode != 0:
            return None
        with open(so, "rb") as f:
            data = f.read()
    F.atomic_write(out_path, data)
    return data


def _method_records(methods):
    """(function, signature, Python function, file, line, argument names, context, bounds
    checking) of each method; a base library function by reference (``FunctionRef``: a
    load inserts the method when the library is imported, ``loader.restore_methods``)."""
    return [(D.library_ref(m.function), m.sig, m.pyfunc, m.file, m.line, m.argnames,
             m.context, m.boundscheck)
            for m in methods if m.context is None]


def module_state_bytes(module, members=()):
    """The pickled closed module (globals and methods) and, for a package, those of the
    submodules ``members`` its image holds, in one pickle (they refer to each other's
    objects); BuildError names what cannot be kept."""
    import sys
    modname = module.__name__
    gl = module_globals(module)
    check_globals(modname, gl, members)
    methods = own_methods(modname)
    from ..contexts import module_state as context_state
    state = {"globals": gl,
             "methods": _method_records(methods),
             "contexts": context_state(modname)}
    if members:
        state["members"] = []
        for name in members:
            mgl = module_globals(sys.modules[name])
            check_globals(name, mgl, [modname, *members])
            mmethods = own_methods(name)
            methods = methods + mmethods
            state["members"].append((name, mgl, _method_records(mmethods)))
    try:
        return dumps_state(modname, state, members), len(methods)
    except BuildError:
        raise
    except Exception as e:
        raise BuildError(f"module {modname}: cannot be stored in an image: {e}") from None


def _outside_interpreter(path):
    import sys
    prefixes = {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix,
                                                        sys.exec_prefix)}
    real = os.path.realpath(path)
    return not any(real.startswith(p) for p in prefixes)


_INSTALLED = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def image_sources(modname, src, deps):
    """{source path: digest} of everything the image's content came from: the module's own
    source and every module loaded at the close that has no image of its own (their method
    bodies are compiled into this image and their globals captured as constants: numba's
    issue 1833 is the same function edited in such a module), installed packages included
    (an upgrade must make the image stale).  Modules with an image are covered by their
    build id in ``deps``; pkgimage itself by its version; the standard library by the
    Python version.

    The module's own digest is that of the bytes the build executed (``hook.EXECUTED``);
    another module's is its file's now, after checking that its compiled code still matches
    the file (the ``.pyc`` header's source size and time), so an edit during the build fails
    the build instead of being recorded as built.  Files of other installed distributions
    are fingerprinted by size and modification time (``stat:...``, cheap to check at every
    load); those of the module's own top-level package by digest (``format.file_digest``)."""
    import sys
    from .hook import EXECUTED
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    top = modname.split(".")[0]
    out = {src: EXECUTED.get(src) or F.file_digest(src)}
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if not path or name == modname or name in deps or name == "__main__" \
                or not path.endswith(".py") or not os.path.isfile(path):
            continue
        path = os.path.abspath(path)
        if path.startswith(pkg_root) or name == "_pkgimage_boot":
            continue
        installed = any(m in path for m in _INSTALLED)
        if not installed and not _outside_interpreter(path):
            continue                                  # the standard library
        if path in EXECUTED:
            out[path] = EXECUTED[path]
            continue
        _check_unchanged_since_import(mod, path)
        if installed and name.split(".")[0] != top:
            out[path] = F.file_fingerprint(path)
        else:
            out[path] = F.file_digest(path)
    return dict(sorted(out.items()))


def _check_unchanged_since_import(mod, path):
    """BuildError when ``path`` changed after the module was imported (its ``.pyc`` records
    the source size and time the running code came from)."""
    import struct
    cached = getattr(mod, "__cached__", None)
    try:
        with open(cached, "rb") as f:
            head = f.read(16)
        st = os.stat(path)
    except (OSError, TypeError):
        return
    if len(head) < 16 or struct.unpack("<I", head[4:8])[0] != 0:
        return                                        # hash-based .pyc: nothing to compare
    mtime, size = struct.unpack("<II", head[8:16])
    if (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF) != (mtime, size):
        raise BuildError(f"{path} changed while the image was being built (its running "
                         f"code is of the previous version); build again")


def write_image(module, deps, path=None, module_bytes=None, nmethods=None, extra_parts=(),
                owned=None, sources=None, own_part=None, members=()):
    """Serialise the closed ``module`` (already executed) into its image; returns the path.

    ``module_bytes``: the module state captured at the close (the default captures it now);
    ``extra_parts``: (records, object, consts) compiled elsewhere, e.g. by a sandboxed
    workload, merged into the same image and the same shared library; ``owned``: the
    instances this process contributes (default: all it owns now); ``own_part``: those
    already compiled (``compile_owned(owned)``, done while the workloads ran); ``members``:
    the package's submodules held by the image, in the order they finished (their state is
    in ``module_bytes``)."""
    modname = module.__name__
    src = os.path.abspath(module.__file__)
    path = path or image_path(modname, src)
    if module_bytes is None:
        module_bytes, nmethods = module_state_bytes(module)
    if own_part is None:
        own_part = compile_owned(owned_instances(modname) if owned is None else owned)
    if sources is None:
        sources = image_sources(modname, src, deps)
    header, data = encode_image(
        modname, deps, module_bytes, nmethods, [own_part] + list(extra_parts), sources,
        shared_lib=lambda objects, build_id: _linked(objects, shared_lib_path(path, build_id)),
        members=members)
    F.atomic_write(path, data)
    remove_old_shared_libs(path, header["shared_lib"])
    return path


def code_section(records, consts, objects):
    """The pickled code records of an image.  Equal references are made one object first:
    pickle writes a shared object once and a copy again, so records that came through
    another process (the sandbox's, a spawned one) would otherwise give other bytes.  A dict
    shared by several records stays shared (the memo holds it by identity, and keeps it
    alive so that its id is not reused meanwhile)."""
    memo = {}
    return pickle.dumps({"records": _canonical(records, memo),
                         "consts": _canonical(consts, memo), "objects": objects}, protocol=5)


def _canonical(x, memo):
    t = type(x)
    if t is str:
        return memo.setdefault(("s", x), x)
    if t is tuple:
        x = tuple(_canonical(e, memo) for e in x)
        return memo.setdefault(("t", repr(x)), x)
    if t is list:
        return [_canonical(e, memo) for e in x]
    if t is dict:
        # One dict shared by many records (a part's method-table digests, ``tables``) stays
        # one object, written once: copied per record, DemoPkg N=1000's code section was
        # 14 MB instead of 0.4 MB, and unpickling it was most of the image's load time.
        hit = memo.get(("d", id(x)))
        if hit is None:
            hit = memo[("d", id(x))] = (x, {k: _canonical(v, memo) for k, v in x.items()})
        return hit[1]
    return x


def _linked(objects, so_path):
    data = link_shared(objects, so_path)
    return None if data is None else (os.path.basename(so_path), data)


def encode_image(modname, deps, module_bytes, nmethods, parts, sources, shared_lib=None,
                 members=()):
    """(header, bytes) of the image of a closed module: its state, the parts of its code
    ((records, object, consts) each), and where its content came from.  ``shared_lib(objects,
    build_id)`` links the objects into a shared library beside the image and returns its
    (file name, bytes), or None; without one the loader links the objects itself."""
    from .cache import host_cpu
    records, consts, objects = [], [], []
    seen = set()
    for recs, obj, cs in (p for p in parts if p is not None):
        for r in recs:
            if r["symbol"] not in seen:       # an instance compiled in two parts: keep one
                seen.add(r["symbol"])
                records.append(r)
        consts.extend(cs)
        objects.append(obj)
    code_bytes = code_section(records, consts, [f"object{i}" for i in range(len(objects))])
    # The build id names everything a dependent may have compiled against: the module's
    # state and code, and also its sources and its dependencies' ids (a method body edited
    # without any instance of this image changing is still compiled into dependents' images;
    # their images must then see this dependency as rebuilt).
    provenance = json.dumps([sorted(sources.values()), sorted(deps.items())]).encode()
    build_id = F.hexdigest(module_bytes + code_bytes + b"".join(objects) + provenance)[:32]
    cpu, features = host_cpu()
    from ..compiler.jit import get_jit
    header = dict(F.runtime_key())
    header.update({
        "module": modname,
        "sources": sources,
        "deps": dict(sorted(deps.items())),
        "build_id": build_id,
        "triple": get_jit().triple,
        "cpu": cpu,
        "features": features,
        "counts": {"methods": nmethods, "instances": len(records),
                   "object": sum(len(o) for o in objects)},
        "shared_lib": None,
    })
    if members:
        import sys
        header["members"] = [[n, os.path.abspath(sys.modules[n].__file__)] for n in members]
    so = shared_lib(objects, build_id) if shared_lib is not None else None
    if so is not None:
        header["shared_lib"] = {"file": so[0], "checksum": F.checksum_hex(so[1])}
    data = F.encode(header, [("module", module_bytes), ("code", code_bytes)] +
                    [(f"object{i}", o) for i, o in enumerate(objects)])
    return header, data


def remove_old_shared_libs(path, keep):
    """Remove the shared libraries of earlier builds of the image at ``path`` (each build's
    library is named by its build id).  Called after the new image is in place: a process
    that read the old header and then misses its library falls back to the object code."""
    import re
    folder, base = os.path.split(path)
    pat = re.compile(re.escape(base[:-len(F.SUFFIX)]) + r"-[0-9a-f]{16}\.so$")
    keep_file = keep["file"] if keep else None
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for n in names:
        if n != keep_file and pat.match(n):
            try:
                os.unlink(os.path.join(folder, n))
            except OSError:
                pass

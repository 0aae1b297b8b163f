"""Where two builds of an image differ: the section and the first differing object.

* ``header``: the keys that differ (``build_id`` and ``shared_lib`` follow from the sections,
  so they are named only when nothing else differs).
* ``code`` (CodeInstance records; plain data): records are matched by symbol; an instance only
  in one build, or the first field that differs (edges, callees, return type, ...) of the first
  instance that differs, named by its method and signature; then the order, then the constant
  slots.
* ``module`` (the closed module, pickled with references that only load inside a module):
  compared without unpickling -- the two opcode streams (``pickletools.genops``) side by side,
  the first op that differs, with the strings just before it (global names, qualnames, field
  names) to say which global, method or type it is in.
* ``object<N>`` and shared libraries (ELF): the first differing byte, mapped to its ELF
  section and symbol (the instance's native code, a constant slot, ...).
"""

from __future__ import annotations

import pickle
import pickletools
import struct

from ..image import format as F


def type_str(ref):
    from ..types import ref_repr
    try:
        return ref_repr(ref)
    except (TypeError, IndexError, KeyError):
        return repr(ref)


def func_str(ref):
    try:
        if ref[0] == "ctor":
            return type_str(ref[1])
        if ref[0] == "func":
            return f"{ref[1]}.{ref[2]}"
        if ref[0] == "view":
            return f"{ref[1]} (context view)"
    except (TypeError, IndexError):
        pass
    return repr(ref)


def instance_str(rec):
    try:
        mref = rec["method"]
        spec = rec["spec"]
        return f"{func_str(mref[0])}(" + ", ".join("::" + type_str(t) for t in spec) + \
            f") [method of {mref[2]}, symbol {rec['symbol']}]"
    except (KeyError, TypeError, IndexError):
        return repr(rec.get("symbol")) if isinstance(rec, dict) else repr(rec)


def _short(x, n=160):
    s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


# -- sections -----------------------------------------------------------------------------------

def diff_code(a, b):
    try:
        ca, cb = pickle.loads(a), pickle.loads(b)
    except Exception as e:   # noqa: BLE001
        return {"what": "code section", "detail": f"cannot decode: {e}"}
    ra = {r["symbol"]: r for r in ca.get("records", [])}
    rb = {r["symbol"]: r for r in cb.get("records", [])}
    only_a = sorted(set(ra) - set(rb))
    only_b = sorted(set(rb) - set(ra))
    if only_a or only_b:
        r = ra[only_a[0]] if only_a else rb[only_b[0]]
        side = "first" if only_a else "second"
        return {"what": f"instance {instance_str(r)}",
                "detail": f"only in the {side} build ({len(only_a)} instance(s) only in the "
                          f"first, {len(only_b)} only in the second)"}
    for sym in [r["symbol"] for r in ca.get("records", [])]:
        x, y = ra[sym], rb[sym]
        if x != y:
            for k in sorted(set(x) | set(y)):
                if x.get(k) != y.get(k):
                    return {"what": f"instance {instance_str(x)}",
                            "detail": f"field {k!r} differs: {_first_diff(x.get(k), y.get(k))}"}
    if [r["symbol"] for r in ca["records"]] != [r["symbol"] for r in cb["records"]]:
        i = next(i for i, (x, y) in enumerate(zip(ca["records"], cb["records"]))
                 if x["symbol"] != y["symbol"])
        return {"what": f"instance {instance_str(ca['records'][i])}",
                "detail": f"record order differs at position {i} (second build has "
                          f"{instance_str(cb['records'][i])})"}
    for key in ("consts", "objects"):
        xa, xb = ca.get(key), cb.get(key)
        if xa != xb:
            return {"what": f"{key}", "detail": _first_diff(xa, xb)}
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            return {"what": key, "detail": _first_diff(ca.get(key), cb.get(key))}
    return {"what": "code section", "detail": "same data, different pickle bytes"}


def _first_diff(x, y, path=""):
    """Where two plain data values first differ, as 'path: a != b'."""
    if type(x) is not type(y):
        return f"{path or 'value'}: {_short(x)} != {_short(y)}"
    if isinstance(x, (list, tuple)):
        for i, (p, q) in enumerate(zip(x, y)):
            if p != q:
                return _first_diff(p, q, f"{path}[{i}]")
        return f"{path or 'value'}: length {len(x)} != {len(y)}"
    if isinstance(x, dict):
        for k in sorted(set(x) | set(y), key=repr):
            if x.get(k) != y.get(k):
                return _first_diff(x.get(k), y.get(k), f"{path}[{k!r}]")
    return f"{path or 'value'}: {_short(x)} != {_short(y)}"


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
               "BINSTRING", "STRING", "GLOBAL", "STACK_GLOBAL"}


def _ops(data):
    try:
        for op, arg, pos in pickletools.genops(data):
            yield op.name, arg, pos
    except Exception as e:   # noqa: BLE001 -- a truncated stream still compares up to here
        yield "ERROR", str(e), -1


def diff_pickle(a, b):
    """First differing op of two pickles (no unpickling), with the strings just before it."""
    recent = []
    for i, (x, y) in enumerate(zip(_ops(a), _ops(b))):
        if (x[0], x[1]) != (y[0], y[1]):
            ctx = ", ".join(repr(s) for s in recent[-6:])
            return {"what": f"op #{i} at byte {x[2]}",
                    "detail": f"{x[0]} {_short(x[1], 80)} != {y[0]} {_short(y[1], 80)}"
                              + (f"; just after the strings {ctx}" if ctx else ""),
                    "near": recent[-6:]}
        if x[0] in _STRING_OPS and isinstance(x[1], str):
            recent.append(x[1])
    return {"what": "pickle", "detail": "one stream is a prefix of the other"}


# -- ELF ----------------------------------------------------------------------------------------

def elf_symbol_at(data, offset):
    """(section name, symbol name or None) of file offset ``offset`` in ELF64 ``data``."""
    try:
        if data[:4] != b"\x7fELF" or data[4] != 2:
            return None
        end = "<" if data[5] == 1 else ">"
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        secs = []
        for i in range(shnum):
            (name, typ, flags, addr, off, size, link, info, align, entsize) = \
                struct.unpack_from(end + "IIQQQQIIQQ", data, shoff + i * shentsize)
            secs.append((name, typ, addr, off, size, link, entsize))
        strtab = secs[shstrndx]

        def sname(i):
            o = strtab[3] + secs[i][0]
            return data[o:data.index(b"\0", o)].decode("ascii", "replace")
        hit = next((i for i, s in enumerate(secs) if s[1] != 8 and s[3] <= offset < s[3] + s[4]),
                   None)
        if hit is None:
            return ("ELF headers", None)
        rel = offset - secs[hit][3]
        best = None
        for s in secs:
            if s[1] not in (2, 11):            # SYMTAB, DYNSYM
                continue
            names = secs[s[5]]
            for k in range(s[4] // (s[6] or 24)):
                st_name, st_info, st_other, st_shndx, st_value, st_size = \
                    struct.unpack_from(end + "IBBHQQ", data, s[3] + k * (s[6] or 24))
                if st_shndx != hit or not st_name:
                    continue
                start = st_value - secs[hit][2] if secs[hit][2] else st_value
                if start <= rel < start + max(st_size, 1):
                    o = names[3] + st_name
                    best = data[o:data.index(b"\0", o)].decode("ascii", "replace")
                    break
            if best:
                break
        return (sname(hit), best)
    except (struct.error, ValueError, IndexError):
        return None


def diff_native(a, b):
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    where = elf_symbol_at(a, n) if n < len(a) else None
    what = f"byte {n}"
    if where:
        sec, sym = where
        what += f" in section {sec}" + (f", symbol {sym}" if sym else "")
    detail = f"sizes {len(a)} and {len(b)}" if len(a) != len(b) else f"same size {len(a)}"
    return {"what": what, "detail": detail, "symbol": where[1] if where else None}


# -- images -------------------------------------------------------------------------------------

def diff_image(a, b, name="<image>"):
    """None when equal, else {"file", "section", "what", "detail"}."""
    if a == b:
        return None
    if not name.endswith(F.SUFFIX):
        return dict(file=name, section="shared library", **diff_native(a, b))
    try:
        ha, sa = F.decode(a, name)
        hb, sb = F.decode(b, name)
    except Exception as e:  # noqa: BLE001
        return {"file": name, "section": "file", "what": "image", "detail": str(e)}
    for sec in list(dict.fromkeys(list(sa) + list(sb))):
        if sec not in sa or sec not in sb:
            return {"file": name, "section": sec, "what": "section",
                    "detail": f"only in the {'first' if sec in sa else 'second'} build"}
        if sa[sec] == sb[sec]:
            continue
        if sec == "code":
            d = diff_code(sa[sec], sb[sec])
        elif sec.startswith("object"):
            d = diff_native(sa[sec], sb[sec])
        else:
            d = diff_pickle(sa[sec], sb[sec])
        return dict(file=name, section=sec, **d)
    keys = [k for k in sorted(set(ha) | set(hb)) if ha.get(k) != hb.get(k)]
    primary = [k for k in keys if k not in ("build_id", "shared_lib")] or keys
    k = primary[0]
    return {"file": name, "section": "header", "what": f"key {k!r}",
            "detail": _first_diff(ha.get(k), hb.get(k))}

"""Which pkgimage modules a module depends on, found by scanning sources (nothing is imported).

``pkgimage build A`` must build A's pkgimage dependencies first.  They are found by reading
sources, not by a first import pass: parsing is cheap (milliseconds per module), needs no
process per module, never runs a module's top level, and works when images are missing.

* Each ``import x.y``, ``from x import y`` (``y`` counts when it is a submodule), relative
  import, and ``importlib.import_module("x")`` / ``__import__("x")`` with a literal name is
  resolved with the import system's path finder, without importing anything.
* Imports executed at import time (module level, class bodies, ``if``/``try`` blocks) are
  *hard* dependencies: the build imports them, so their images must exist first.  Imports
  inside functions (workloads importing another package, seed 001's fixedpoint x
  genericlinalg) and in the workload files ``pyproject.toml`` lists are *soft*: they only
  order the builds (the workload then finds an image instead of triggering a nested build)
  and are dropped when they would close a cycle.
* Non-pkgimage modules of the user's own code are scanned through (A imports helper.py which
  imports pkgimage module B: A depends on B); the standard library and installed packages
  (site-packages) are not scanned.

The image header's ``deps`` (what the build really imported) remain the truth for staleness;
a dependency this scan cannot see (a computed import name) is still built correctly, by the
import hook inside the build, under the same build lock.
"""

from __future__ import annotations

import ast
import os
import sys
import sysconfig

from ..image.hook import is_pkgimage_source
from ..image.lock import find_source
from . import ToolError

_SOURCES: dict = {}


def source_of(name):
    if name not in _SOURCES:
        try:
            _SOURCES[name] = find_source(name)
        except (ImportError, ValueError, OSError):
            _SOURCES[name] = None
    return _SOURCES[name]


def _system_roots():
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            roots.add(os.path.abspath(p))
    for p in sys.path:
        if p and ("site-packages" in p or "dist-packages" in p):
            roots.add(os.path.abspath(p))
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # pkgimage itself
    return tuple(sorted(roots))


_ROOTS = None


def is_user_source(path):
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _system_roots()
    path = os.path.abspath(path)
    return not any(path == r or path.startswith(r + os.sep) for r in _ROOTS)


def imported_names(src, modname, is_pkg=False):
    """[(dotted name, hard, certain)] imported by the source file ``src`` of ``modname``.

    ``certain`` is False for ``from x import y``'s ``x.y``, which may be an attribute."""
    try:
        with open(src, "rb") as f:
            tree = ast.parse(f.read(), src)
    except (OSError, SyntaxError, ValueError):
        return []
    package = modname if is_pkg else modname.rpartition(".")[0]
    out = []

    def add(name, hard, certain=True):
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            out.append((".".join(parts[:i]), hard, certain or i < len(parts)))

    def resolve(module, level):
        if not level:
            return module
        base = package.split(".") if package else []
        if level - 1 > len(base):
            return None
        base = base[:len(base) - (level - 1)]
        return ".".join(base + ([module] if module else [])) or None

    def visit(node, hard):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
                continue
            if isinstance(child, ast.Import):
                for a in child.names:
                    add(a.name, hard)
            elif isinstance(child, ast.ImportFrom):
                base = resolve(child.module, child.level)
                if base:
                    add(base, hard)
                    for a in child.names:
                        if a.name != "*":
                            add(f"{base}.{a.name}", hard, certain=False)
            elif isinstance(child, ast.Call):
                fn = child.func
                fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
                if fname in ("import_module", "__import__") and child.args and \
                        isinstance(child.args[0], ast.Constant) and \
                        isinstance(child.args[0].value, str):
                    add(child.args[0].value, False)
            visit(child, hard)
    visit(tree, True)
    return out


def workload_files(src):
    """The workload files ``pyproject.toml`` lists for the package of ``src`` (an unreadable
    ``pyproject.toml`` adds none: the build itself will say what is wrong with it)."""
    from ..build.workloads import workload_paths
    try:
        return workload_paths(src)
    except (OSError, ValueError):
        return []


def direct_deps(name):
    """{image unit: hard?} that the image of ``name`` (an image unit: ``image/packages.py``)
    depends on (see the module doc).  A package's image holds the submodules its build
    imports, so their imports are the package's, and an import of one of them (``from .
    import x`` in a submodule) is no dependency at all."""
    src = source_of(name)
    found = {}
    seen = set()
    todo = [(src, name, os.path.basename(src) == "__init__.py", True)]
    if os.path.basename(src) == "__init__.py":
        from ..image.packages import marked_members
        for m in marked_members(name, src):
            todo.append((source_of(m), m, os.path.basename(source_of(m)) == "__init__.py",
                         True))
    todo += [(wf, "", False, False) for wf in workload_files(src)]
    while todo:
        path, modname, is_pkg, hard = todo.pop()
        if (path, hard) in seen:
            continue
        seen.add((path, hard))
        for imp, h, _certain in imported_names(path, modname, is_pkg):
            h = h and hard
            if imp == name or imp == "pkgimage" or imp.startswith("pkgimage."):
                continue
            isrc = source_of(imp)
            if isrc is None:
                continue
            unit = unit_of(imp)
            if unit == name:
                todo.append((isrc, imp, os.path.basename(isrc) == "__init__.py", h))
            elif unit is not None:
                found[unit] = found.get(unit, False) or h
            elif is_user_source(isrc):
                todo.append((isrc, imp, os.path.basename(isrc) == "__init__.py", h))
    return found


_UNITS: dict = {}


def unit_of(name):
    """The image unit holding module ``name`` (``image/packages.py``), or None."""
    if name not in _UNITS:
        from ..image.packages import image_unit
        src = source_of(name)
        _UNITS[name] = image_unit(name, src) if src else None
    return _UNITS[name]


def check_module(name):
    src = source_of(name)
    if src is None:
        raise ToolError(f"no module named {name!r} (searched the working folder and PYTHONPATH)")
    if unit_of(name) not in (None, name):
        return src                               # built as its package (unit_of)
    if not is_pkgimage_source(src):
        raise ToolError(f"{name} ({src}) is not a pkgimage module: it has no "
                        f"`__pkgimage__ = True` at its top level")
    return src


def _reaches(graph, a, b):
    """Is ``b`` reachable from ``a`` following ``graph`` (name -> set of deps)?"""
    stack, seen = [a], set()
    while stack:
        x = stack.pop()
        if x == b:
            return True
        if x in seen:
            continue
        seen.add(x)
        stack.extend(graph.get(x, ()))
    return False


def plan(modules):
    """(build order, {module: set of modules it waits for}) for ``modules`` and, transitively,
    their pkgimage dependencies; ToolError on unknown modules or a cycle of hard imports."""
    for m in modules:
        check_module(m)
    modules = [unit_of(m) for m in modules]
    found, todo = {}, list(dict.fromkeys(modules))
    while todo:
        m = todo.pop()
        if m in found:
            continue
        found[m] = direct_deps(m)
        todo.extend(d for d in found[m] if d not in found)
    graph = {m: set() for m in found}
    for m in sorted(found):
        for d, hard in sorted(found[m].items()):
            if hard:
                graph[m].add(d)
    for m in sorted(graph):
        for d in sorted(graph[m]):
            if _reaches(graph, d, m):
                cycle = _cycle(graph, m)
                raise ToolError("import cycle between pkgimage modules: " + " -> ".join(cycle))
    for m in sorted(found):                      # soft edges, unless they close a cycle
        for d, hard in sorted(found[m].items()):
            if not hard and not _reaches(graph, d, m):
                graph[m].add(d)
    order, done = [], set()
    while len(order) < len(graph):
        ready = sorted(m for m in graph if m not in done and graph[m] <= done)
        order.extend(ready)
        done.update(ready)
    return order, graph


def _cycle(graph, start):
    path = [start]

    def walk(x, seen):
        for d in sorted(graph[x]):
            if d == start:
                return path + [start]
            if d not in seen:
                seen.add(d)
                path.append(d)
                r = walk(d, seen)
                if r:
                    return r
                path.pop()
        return None
    return walk(start, {start}) or [start, start]

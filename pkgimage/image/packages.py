"""Which image holds a module: a package's image holds the package *and its submodules*.

Python runs a package's ``__init__.py`` before any of its submodules, and most packages'
``__init__.py`` imports its submodules: a package and its submodules import each other.
Separate images per submodule therefore cannot be built one after the other (each build
would need the other's image first -- builds waiting on each other's locks), so the unit of
an image is the package, as in Julia, where a package is one module and its files are
``include``d into one image:

* the *image unit* of a module is its top-most enclosing package whose ``__init__.py`` says
  ``__pkgimage__ = True``; failing that, the module itself when it says so; else it has none;
* the image of a package holds its ``__init__`` and every module under it that the build
  imported: those its ``__init__`` imports (marked or not) and every marked module under it
  (imported after the ``__init__`` ran, in name order).  Loading the image restores all of
  them without running their top levels, and runs each one's ``__init__()``;
* a module under a marked package that the image does not hold (an unmarked submodule only
  imported later) runs from source when imported, as any plain module does;
* a marked submodule of an *unmarked* package is its own unit, with its own image.

Everything here is decided without importing the modules (``lock.find_source``), so the
build scheduler and the import hook agree.
"""

from __future__ import annotations

import os
import sys


def _source(name):
    """The source file of ``name``: the loaded module's when it is loaded, else found
    without importing anything."""
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None) if mod is not None else None
    if path:
        return path
    from .lock import find_source
    try:
        return find_source(name)
    except (ImportError, ValueError, OSError):
        return None


def _marked(path):
    from .hook import is_pkgimage_source
    return bool(path) and path.endswith(".py") and is_pkgimage_source(path)


def package_owner(name):
    """The top-most enclosing package of ``name`` whose ``__init__.py`` is marked, or None
    (``name`` itself is not considered)."""
    parts = name.split(".")
    for i in range(1, len(parts)):
        anc = ".".join(parts[:i])
        src = _source(anc)
        if src and os.path.basename(src) == "__init__.py" and _marked(src):
            return anc
    return None


def image_unit(name, source=None):
    """The module whose image holds ``name`` (see the module doc), or None."""
    owner = package_owner(name)
    if owner is not None:
        return owner
    src = source or _source(name)
    return name if _marked(src) else None


def marked_members(package, init_path):
    """Dotted names of the marked modules under the package whose ``__init__.py`` is
    ``init_path`` (subpackages included, through folders that have an ``__init__.py``), in
    name order: the build imports them so that the package's image holds them."""
    root = os.path.dirname(os.path.abspath(init_path))
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if os.path.isfile(os.path.join(folder, d,
                                                                          "__init__.py")))
        rel = os.path.relpath(folder, root)
        prefix = package if rel == "." else package + "." + rel.replace(os.sep, ".")
        for f in sorted(files):
            if not f.endswith(".py") or not f[:-3].isidentifier():
                continue
            path = os.path.join(folder, f)
            name = prefix if f == "__init__.py" else f"{prefix}.{f[:-3]}"
            if name != package and _marked(path):
                out.append(name)
    return sorted(out)

"""Installed through ``pkgimage-boot.pth`` so that ``import mymod`` uses mymod's package image
even when nothing has imported pkgimage yet (the first import of a process).

This finder is cheap and can never break the interpreter: it imports nothing while finding
(``importlib.machinery`` is imported here, when the ``.pth`` runs, never from inside
``find_spec``, which an import of its own would re-enter), it guards against re-entry, it
skips the standard library, and it turns any error of its own into "not mine".  A source
module outside the interpreter's folders that says ``__pkgimage__ = True`` imports pkgimage,
whose real finder takes over; so does a module installed in site-packages that has an image
in the cache folder (``pkgimage build pkg`` made one: the part of its file name that names
the source path is computed here the way ``pkgimage.image.cache.path_hash`` does, a test
checks that they agree, and the cache folder is listed once per process).  If pkgimage
is uninstalled while this file stays, the finder removes itself silently.
"""

import os
import sys
from _thread import _local
from importlib.machinery import PathFinder, SourceFileLoader

# This file runs in *every* process of the environment (``python -c pass`` too), so it
# imports only what the interpreter has already loaded: ``re`` (about 6 ms with its
# dependencies), ``hashlib`` (5 ms: OpenSSL) and ``threading`` (2 ms) cost every process
# 13 ms when they were imported here.  None of them is imported at all now: the marker is
# scanned by hand, and the path hash is CPython's own BLAKE2b (``_blake2``), imported
# when an installed module is checked and the cache folder holds any image.
_PREFIXES = tuple({os.path.realpath(p) + os.sep
                   for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
_INSTALLED = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)
_SUFFIX = ".pkgi"
_busy = _local()             # (``threading.local`` is this C type)


_NAME = b"__pkgimage__"
_SPACE = frozenset(b" \t\n\r\f\v")          # (``\s`` of a bytes pattern)
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _skip(data, i, chars):
    n = len(data)
    while i < n and data[i] in chars:
        i += 1
    return i


def _candidates(data):
    """(start, end) of each ``__pkgimage__ [: annotation] = True`` at the start of a line
    and followed by nothing but a comment or another statement (``;``): what the source
    up to that line's end is compiled to confirm.  Scanned by hand: ``re`` and the
    modules it imports (``enum``, its parser and compiler) cost a process 5-9 ms."""
    i = data.find(_NAME)
    while i >= 0:
        if i == 0 or data[i - 1] == 10:                       # (at a line's start)
            j = _skip(data, i + len(_NAME), _SPACE)
            if data[j:j + 1] == b":":                          # (an annotation)
                k = _skip(data, j + 1, _SPACE)
                w = _skip(data, k, _WORD)
                j = _skip(data, w, _SPACE) if w > k else -1
            if j >= 0 and data[j:j + 1] == b"=":
                j = _skip(data, j + 1, _SPACE)
                if data.startswith(b"True", j):
                    t = _skip(data, j + 4, b" \t\f")
                    if t == len(data) or data[t] in b"#;\r\n":
                        yield i, j + 4
        i = data.find(_NAME, i + 1)


def marked(data):
    """Does the module whose source bytes are ``data`` say ``__pkgimage__ = True`` in its
    code (a top-level assignment), not merely in a string or docstring that has such a
    line?  The scan (``_candidates``) only screens: a hit at the start of a line, followed
    by nothing but a comment or another statement (``;``), is the statement
    ``__pkgimage__ = True`` when the source *up to the end of that line* compiles (a line
    inside a string, brackets or a block does not end a prefix that compiles; a line that
    continues the one before through a backslash ends one, but then the prefix before it
    does not compile, which is checked).  Only that prefix is compiled (a whole-file parse
    of a 1,000-type module took tens of ms), and compiling imports nothing (``ast``, which
    this used to parse with, cost every process importing a pkgimage module several ms)."""
    for start, stop in _candidates(data):
        end = data.find(b"\n", stop)
        end = len(data) if end < 0 else end + 1
        before = data[:start]
        if before.endswith((b"\\\n", b"\\\r\n", b"\\\r")) and not _compiles(before):
            continue                 # the line continues the statement before it
        if _compiles(data[:end]):
            return True
    return False


def _compiles(src):
    """Does ``src`` compile as a module?  Compiling source does not import ``ast``."""
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # (the module's own, on its own import)
            compile(src, "<marker>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


_LISTING = []


def _cache_names():
    """The file names in the cache folder (listed once: installed packages import many
    modules, and each is checked here)."""
    if not _LISTING:
        d = os.environ.get("PKGIMAGE_CACHE")
        if not d:
            import platformdirs
            d = platformdirs.user_cache_dir("pkgimage")
        try:
            names = os.listdir(d)
        except OSError:
            names = []
        _LISTING.append(frozenset(n[:n.rindex("-") + 13] for n in names
                                  if n.endswith(_SUFFIX) and "-" in n))
    return _LISTING[0]


def has_image(modname, source_path):
    """Is there an image of ``modname`` from ``source_path`` in the cache folder, for any
    runtime (``pkgimage.image.cache.image_path``: ``<module>-<path hash><runtime tag>``)?
    The real finder then picks this runtime's, or says why there is none."""
    names = _cache_names()
    if not names:
        return False                 # (no image at all: nothing to hash the path for)
    try:
        from _blake2 import blake2b              # (``hashlib`` would load OpenSSL: 3-6 ms)
    except ImportError:                          # pragma: no cover
        from hashlib import blake2b
    h = blake2b(os.path.abspath(source_path).encode(), digest_size=32).hexdigest()[:12]
    return f"{modname}-{h}" in names


class _BootFinder:
    def find_spec(self, name, path, target=None):
        if getattr(_busy, "on", False):
            return None                      # re-entered by an import of our own
        _busy.on = True
        try:
            return self._find_spec(name, path, target)
        except Exception:                    # noqa: BLE001 -- never break an import
            return None
        finally:
            _busy.on = False

    def _find_spec(self, name, path, target):
        if "pkgimage.image.hook" in sys.modules:
            uninstall()
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or not isinstance(spec.loader, SourceFileLoader):
            return None
        origin = os.path.realpath(spec.origin)
        if any(m in origin for m in _INSTALLED):
            if not has_image(name, spec.origin):
                return None                  # an installed module without an image
        elif origin.startswith(_PREFIXES):
            return None                      # the standard library
        else:
            try:
                with open(origin, "rb") as f:
                    if not marked(f.read()):
                        return None
            except OSError:
                return None
        try:
            import pkgimage.image.hook as hook   # installs the real finder
        except ImportError:
            uninstall()                      # pkgimage was uninstalled; this file stayed
            return None
        uninstall()
        hook.install()
        return hook.ImageFinder().find_spec(name, path, target)


_FINDER = _BootFinder()


def install():
    if os.environ.get("PKGIMAGE_BOOT", "1") != "0" and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall():
    try:
        sys.meta_path.remove(_FINDER)
    except ValueError:
        pass


install()

"""Installed through ``pkgimage-boot.pth`` so that ``import mymod`` uses mymod's package image
even when nothing has imported pkgimage yet (the first import of a process).

This finder is cheap: it imports nothing heavy, skips modules under the interpreter's own
prefixes (stdlib, site-packages), and only for a source module that says
``__pkgimage__ = True`` imports pkgimage, whose real finder then takes over.
"""

import os
import re
import sys

_MARKER = re.compile(rb"^__pkgimage__\s*(:\s*\w+\s*)?=\s*True", re.M)
_PREFIXES = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


class _BootFinder:
    def find_spec(self, name, path, target=None):
        if "pkgimage.image.hook" in sys.modules:
            uninstall()
            return None
        from importlib.machinery import PathFinder, SourceFileLoader
        spec = PathFinder.find_spec(name, path)
        if spec is None or not isinstance(spec.loader, SourceFileLoader):
            return None
        origin = os.path.realpath(spec.origin)
        if origin.startswith(_PREFIXES):
            return None
        try:
            with open(origin, "rb") as f:
                if not _MARKER.search(f.read()):
                    return None
        except OSError:
            return None
        uninstall()
        import pkgimage.image.hook as hook   # installs the real finder
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

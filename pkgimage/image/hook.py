"""The import hook: ``import mymod`` uses mymod's image when it is valid.

A *pkgimage module* is a source module that says ``__pkgimage__ = True`` at its top level.
The finder (first on ``sys.meta_path``) lets CPython's path finder locate the source, and
when it is a pkgimage module, wraps the loader: the module is filled from its image when the
image is valid, and otherwise runs from source -- with one line on stderr saying why
("Recompiling stale image for X: source x.py changed") -- after which, unless
``PKGIMAGE_AUTO=0``, its image is built in a separate process ("Precompiling X").  A damaged
image is one line too ("unusable image"), and its rebuild replaces it; an image or cache
folder another user could write is refused ("refusing image", see ``cache.py``'s trust
model) and nothing is built there; a cache folder that cannot be written (read-only, no
permission) gets one line and no build.

While an image is being built (``PKGIMAGE_BUILDING`` names the module), that module runs
from source and does not run ``__init__`` (its runtime state must not reach the image);
its pkgimage dependencies load from their images, built first when missing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import time

from ..errors import ImageError
from .cache import image_path

_MARKER = re.compile(rb"^__pkgimage__\s*(:\s*\w+\s*)?=\s*True", re.M)
_MARKED: dict = {}


def marked(data):
    """Does the module whose source bytes are ``data`` say ``__pkgimage__ = True`` in its
    code (a top-level assignment), not merely in a string or docstring that has such a
    line?  The regular expression only screens: a hit is confirmed on the syntax tree."""
    if not _MARKER.search(data):
        return False
    import ast
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__pkgimage__" for t in targets) and \
                isinstance(value, ast.Constant) and value.value is True:
            return True
    return False

# pkgimage modules imported in this process, in order (the build records them as deps)
IMPORTED: list = []


def is_pkgimage_source(path):
    try:
        st = os.stat(path)
    except OSError:
        return False
    key = (path, st.st_mtime_ns, st.st_size)
    hit = _MARKED.get(key)
    if hit is None:
        with open(path, "rb") as f:
            hit = marked(f.read())
        _MARKED[key] = hit
    return hit


def building():
    return os.environ.get("PKGIMAGE_BUILDING")


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


class ImageFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None
        if not is_pkgimage_source(spec.origin):
            return None
        spec.loader = ImageLoader(name, spec.origin, spec.loader)
        return spec


class ImageLoader(importlib.abc.Loader):
    def __init__(self, name, origin, source_loader):
        self.name = name
        self.origin = origin
        self.source_loader = source_loader

    def create_module(self, spec):
        return None

    def get_code(self, fullname):
        return self.source_loader.get_code(fullname)

    def get_source(self, fullname):
        return self.source_loader.get_source(fullname)

    _depth = 0      # pkgimage modules being executed or loaded right now (nested imports)

    def exec_module(self, module):
        # Context images are loaded only when the outermost pkgimage import is complete: a
        # module image loading its dependencies imports them *during* its own load, and a
        # context image keyed by such a dependency may call code of the image still being
        # installed (found invalid, it would be discarded: a cache miss for nothing).
        ImageLoader._depth += 1
        try:
            self._exec_module(module)
        finally:
            ImageLoader._depth -= 1
        if not building() and ImageLoader._depth == 0:
            from .context import load_context_images
            load_context_images()

    def _exec_module(self, module):
        from .cache import UntrustedImage, folder_untrusted
        from .loader import StaleImage, load_into
        name = module.__name__
        IMPORTED.append(name)
        if building() == name:
            exec_recorded(module, self.origin)          # the build: no __init__
            return
        path = image_path(name, self.origin)
        why = None
        untrusted = False
        auto = os.environ.get("PKGIMAGE_AUTO", "1") != "0"
        if os.path.exists(path):
            try:
                load_into(module, path, self.origin)
                _touch(path)
                run_init(module)
                return
            except StaleImage as e:
                why = e.reason
                _say(f"Recompiling stale image for {name}: {_one_line(e.reason)}")
            except UntrustedImage as e:
                why = str(e)
                _say(f"pkgimage: refusing image for {name}: {_one_line(e)}; running from "
                     f"source")
                auto = False             # an image written there would be refused too
                untrusted = True
            except FileNotFoundError:
                pass                     # removed since (pkgimage clean): as if never there
            except ImageError as e:
                why = str(e)
                _say(f"pkgimage: unusable image for {name}: {_one_line(e)}; running from "
                     f"source")
            _reset(module)
        if not untrusted and _from_store(name, self.origin):
            try:
                load_into(module, path, self.origin)
                run_init(module)
                return
            except ImageError as e:
                _say(f"pkgimage: cannot load the image fetched for {name}: {_one_line(e)}")
                _reset(module)
        if auto:
            # No image will be written where it cannot be, or would not be trusted: say so
            # once instead of starting a build that fails behind the import's back.
            bad = folder_untrusted() or _cache_unwritable()
            if bad is not None:
                auto = False
                if why is None:
                    _say(f"pkgimage: not building an image for {name}: {bad}; running from "
                         f"source")
        if building() and auto:
            # A dependency of the module being built: build its image first, then load it.
            if build_in_subprocess(name, wait=True) == 0:
                try:
                    load_into(module, path, self.origin)
                    run_init(module)
                    return
                except ImageError as e:
                    _say(f"pkgimage: cannot load the image just built for {name}: {e}")
                    _reset(module)
        self.source_loader.exec_module(module)
        run_init(module)
        if not building() and auto:
            if why is None:
                _say(f"Precompiling {name}")
            build_in_subprocess(name, wait=False)


def _from_store(name, origin):
    """Fetch ``name``'s image from the configured stores (``pkgimage/store``) before
    building it here: True when one is now in the cache folder.  Without a store configured
    this costs an environment look-up and no import."""
    from ..store.config import remote_configured
    if not remote_configured():
        return False
    from ..store.tiers import fetch_for_import
    return fetch_for_import(name, origin)


def _touch(path):
    """Record the image's last use in its access time (``pkgimage gc`` evicts by it), the
    modification time kept: file systems mounted ``relatime`` update it once a day only."""
    try:
        os.utime(path, ns=(time.time_ns(), os.stat(path).st_mtime_ns))
    except OSError:
        pass


def _one_line(msg):
    """Messages of the import are one line each (a reason may quote a multi-line error)."""
    return " ".join(str(msg).split("\n"))


def _cache_unwritable():
    """Why no image can be written to the cache folder (read-only, no permission, no space
    for a new file), or None: probed by creating and removing a file there."""
    import tempfile
    from . import format as F
    from .cache import cache_dir, ensure_cache_dir
    d = cache_dir()
    try:
        ensure_cache_dir(d)
        fd, tmp = tempfile.mkstemp(prefix=F._temp_prefix() + "probe-", dir=d)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        return f"the cache folder {d} cannot be written ({e.strerror or e})"
    return None


def _reset(module):
    keep = {k: module.__dict__[k] for k in ("__name__", "__spec__", "__loader__", "__file__",
                                            "__cached__", "__package__", "__path__",
                                            "__builtins__") if k in module.__dict__}
    module.__dict__.clear()
    module.__dict__.update(keep)


# The SHA-256 of each source file as the build read and executed it (path -> digest): the
# image records these, not a hash taken later, so a file saved while the build runs is not
# vouched for by an image that holds the code of its previous version.
EXECUTED: dict = {}


def exec_recorded(module, origin):
    """Execute ``module`` from the bytes of ``origin`` read once: those bytes are hashed
    (for the image header) and handed to linecache (the compiler lowers method bodies from
    the very text that ran, not from the file as it may be by then)."""
    import hashlib
    import linecache
    with open(origin, "rb") as f:
        data = f.read()
    EXECUTED[os.path.abspath(origin)] = hashlib.sha256(data).hexdigest()
    text = importlib.util.decode_source(data)
    linecache.cache[origin] = (len(text), None, text.splitlines(keepends=True), origin)
    from ..compiler import frontend
    frontend.register_source(origin, text)
    code = compile(data, origin, "exec", dont_inherit=True)
    exec(code, module.__dict__)


def run_init(module):
    init = module.__dict__.get("__init__")
    if callable(init):
        init()


def _child_env():
    env = dict(os.environ)
    paths = [p for p in sys.path if p]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("PKGIMAGE_BUILDING", None)
    # An auto-build builds only what is not valid when it gets the build lock: several
    # processes importing the module at once each start one, and only the first builds.
    env["PKGIMAGE_BUILD_IF_STALE"] = "1"
    return env


def build_in_subprocess(name, wait=True):
    """Build ``name``'s image in a fresh process (``python -m pkgimage build``)."""
    cmd = [sys.executable, "-m", "pkgimage", "build", "--quiet", "--in-process", name]
    if wait:
        return subprocess.run(cmd, env=_child_env()).returncode
    subprocess.Popen(cmd, env=_child_env(), stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    return None


_FINDER = ImageFinder()


def install():
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)

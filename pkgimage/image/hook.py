"""The import hook: ``import mymod`` uses mymod's image when it is valid.

A *pkgimage module* is a source module that says ``__pkgimage__ = True`` at its top level.
The finder (first on ``sys.meta_path``) lets CPython's path finder locate the source, and
when it is a pkgimage module, wraps the loader: the module is filled from its image when the
image is valid, and otherwise runs from source -- with one line on stderr saying why
("Recompiling stale image for X: source x.py changed") -- after which, unless
``PKGIMAGE_AUTO=0``, its image is built in a separate process ("Precompiling X"; when and
how is ``build/auto.py``'s policy, not this module's).  A module of a marked package is
restored with its package's image (``packages.py``) and only reaches this finder when it
runs from source (``MemberLoader``).  A damaged
image is one line too ("unusable image"), and its rebuild replaces it; an image or cache
folder another user could write is refused ("refusing image", see ``cache.py``'s trust
model) and nothing is built there; a cache folder that cannot be written (read-only, no
permission) gets one line and no build.

While an image is being built (``PKGIMAGE_BUILDING`` names the module), that module runs
from source and does not run ``__init__`` (its runtime state must not reach the image);
its pkgimage dependencies load from their images, built first when missing.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from _thread import _local as _thread_local   # (``threading.local``, without ``threading``)
import time

from ..errors import ImageError
from ..settings import settings
from .packages import package_owner

# The marker check is the boot finder's (one implementation: it must work before pkgimage can
# be imported, and ``_pkgimage_boot`` is installed beside the package by every install)
try:
    from _pkgimage_boot import marked
except ImportError:                      # (the package folder copied without its top level)
    raise ImportError("pkgimage is installed without its _pkgimage_boot module (installed "
                      "beside the package by pip); reinstall it with pip install") from None

_MARKED: dict = {}

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
    return settings.building


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


# set while the finder checks a source: an import made meanwhile (the package owner's lookup,
# ``warnings`` in ``marked``) must not come back here
_FINDING = _thread_local()

# Modules of the package being built that its build executed, in the order they finished
# (``packages.py``: the package's image holds them).
MEMBERS: list = []


# Modules no image is ever made of: pkgimage's own, and the standard library's (by the
# folder of its source; a package installed in ``site-packages`` may well be marked).
_NEVER_MARKED = ("pkgimage.",)
_STDLIB = os.path.join(os.path.dirname(os.__file__), "")
_SITE = os.path.join(_STDLIB, "site-packages", "")     # (under it when not in a venv)


class ImageFinder:
    """A ``sys.meta_path`` finder (duck-typed: ``importlib.abc`` costs ``import pkgimage``
    about 15 ms of imports it never uses)."""

    def find_spec(self, name, path, target=None):
        if getattr(_FINDING, "on", False):
            return None          # an import made by the check below: not ours
        if name.startswith(_NEVER_MARKED):
            # (pkgimage's own modules: an image load imports about 25 of them, the base
            # library 30 more, and each was looked up and its source read and scanned)
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader) \
                or spec.origin.startswith(_STDLIB) and not spec.origin.startswith(_SITE):
            return None
        _FINDING.on = True
        try:
            if "." in name:
                owner = package_owner(name)
                if owner is not None:
                    # Part of a marked package's image: restored with the package when its
                    # image is loaded, so only reached when it runs from source.
                    spec.loader = MemberLoader(name, spec.origin, spec.loader, owner)
                    return spec
            mine = is_pkgimage_source(spec.origin)
        finally:
            _FINDING.on = False
        if not mine:
            return None
        spec.loader = ImageLoader(name, spec.origin, spec.loader)
        return spec


class MemberLoader:
    """A module of a marked package, run from source: recorded for the package's image
    while the package is built, else run with its ``__init__()``, as the image would."""

    def __init__(self, name, origin, source_loader, owner):
        self.name = name
        self.origin = origin
        self.source_loader = source_loader
        self.owner = owner

    def create_module(self, spec):
        return None

    def get_code(self, fullname):
        return self.source_loader.get_code(fullname)

    def get_source(self, fullname):
        return self.source_loader.get_source(fullname)

    def exec_module(self, module):
        if building() == self.owner:
            exec_recorded(module, self.origin)
            MEMBERS.append(module.__name__)
            return
        self.source_loader.exec_module(module)
        run_init(module)


class ImageLoader:
    def __init__(self, name, origin, source_loader):
        self.name = name
        self.origin = origin
        self.source_loader = source_loader

    def create_module(self, spec):
        return None

    def get_code(self, fullname):
        code = self.source_loader.get_code(fullname)
        if sys._getframe(1).f_globals.get("__name__") == "runpy":
            # ``python -m`` runs it as __main__, not through exec_module: its __init__()
            # runs at the end of its top level all the same.
            from .initcall import adopt_main_code
            adopt_main_code(code)
        return code

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
        # (imported here, not with the hook: ``import pkgimage`` installs the hook, and a
        # process that never imports a pkgimage module needs neither)
        from .cache import UntrustedImage, folder_untrusted, image_path
        from .loader import StaleImage, load_into
        name = module.__name__
        IMPORTED.append(name)
        if building() == name:
            exec_recorded(module, self.origin)          # the build: no __init__
            return
        path = image_path(name, self.origin)
        why = stale = None
        untrusted = False
        auto = settings.auto
        if os.path.exists(path):
            try:
                load_into(module, path, self.origin)
                _touch(path)
                run_inits(module)
                return
            except StaleImage as e:
                why = stale = e.reason          # (said below: is it being recompiled?)
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
            if self._load_new(module, path, "fetched"):
                return
        if auto:
            # No image will be written where it cannot be, or would not be trusted: say so
            # once instead of starting a build that fails behind the import's back.
            bad = folder_untrusted() or _cache_unwritable()
            if bad is not None:
                auto = False
                if why is None:
                    _say(f"pkgimage: not building an image for {name}: {bad}; running from "
                         f"source")
        if stale is not None:
            from ..build.auto import will_build
            if auto and (building() or will_build(path, self.origin)):
                _say(f"Recompiling stale image for {name}: {_one_line(stale)}")
            else:
                _say(f"pkgimage: stale image for {name}: {_one_line(stale)}; running from "
                     f"source" + ("" if auto else " (not rebuilt: PKGIMAGE_AUTO=0)"
                                  if not settings.auto else ""))
        if building() and auto:
            # A dependency of the module being built: build its image first, then load it.
            from ..build.auto import build_dependency
            if build_dependency(name) == 0 and self._load_new(module, path, "just built"):
                return
        self.source_loader.exec_module(module)
        run_init(module)
        if not building() and auto:
            from ..build.auto import after_source_run
            after_source_run(name, path, self.origin, announce=why is None)

    def _load_new(self, module, path, how):
        """Load the image just fetched or built for ``module``; False (said, and the module
        reset) when even that one cannot be used."""
        from .loader import load_into
        try:
            load_into(module, path, self.origin)
            run_inits(module)
            return True
        except ImageError as e:
            _say(f"pkgimage: cannot load the image {how} for {module.__name__}: "
                 f"{_one_line(e)}")
            _reset(module)
            return False


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


# The digest of each source file as the build read and executed it (path -> digest): the
# image records these, not a hash taken later, so a file saved while the build runs is not
# vouched for by an image that holds the code of its previous version.
EXECUTED: dict = {}


def exec_recorded(module, origin):
    """Execute ``module`` from the bytes of ``origin`` read once: those bytes are hashed
    (for the image header) and handed to linecache (the compiler lowers method bodies from
    the very text that ran, not from the file as it may be by then)."""
    from .format import hexdigest
    import linecache
    with open(origin, "rb") as f:
        data = f.read()
    EXECUTED[os.path.abspath(origin)] = hexdigest(data)
    import importlib.util
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


def run_inits(module):
    """``__init__()`` of the modules an image restored: the package's submodules first (in
    the order their top levels finished when it was built, as a run from source calls
    them), then the module's."""
    from .loader import LOADED
    for name, _src in (LOADED.get(module.__name__) or {}).get("members", ()):
        sub = sys.modules.get(name)
        if sub is not None:
            run_init(sub)
    run_init(module)


_FINDER = ImageFinder()


def install():
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
        # pkgimage modules already running without this hook (``python mod.py``, no boot
        # hook) get their __init__() at the end of their top level all the same.
        from .initcall import adopt_running_modules
        adopt_running_modules()

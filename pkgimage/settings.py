"""Every ``PKGIMAGE_*`` environment variable, read and parsed in one place.

numba's ``core/config.py`` is the model: one table says each variable's name, type, default
and meaning, and the rest of pkgimage asks :data:`settings` (``settings.auto``,
``settings.workload_timeout``) instead of reading ``os.environ`` itself.  Unlike numba's,
values are read at each access, not once at import: some change during a process on
purpose (a build sets ``PKGIMAGE_BUILDING`` for its own imports and for the processes it
starts; ``pkgimage verify``'s replay sets ``PKGIMAGE_REPLAY``), and child processes inherit
the environment, which therefore stays the one place the values live.  A reading costs a
dictionary lookup.

A value that cannot mean anything (``PKGIMAGE_WORKLOAD_TIMEOUT=soon``) raises
:class:`SettingsError` naming the variable and what it expects.

The boot finder (``_pkgimage_boot.py``) runs before pkgimage can be imported and reads
``PKGIMAGE_BOOT`` and ``PKGIMAGE_CACHE`` itself, with the same meaning.
"""

from __future__ import annotations

import os


class SettingsError(ValueError):
    """An environment variable with a value that makes no sense (the message names it)."""


class Variable:
    """One variable of the table (a plain class, not a dataclass: ``import pkgimage``
    imports this module, and ``dataclasses`` brought ``inspect`` along, about 10 ms)."""

    __slots__ = ("name", "env", "kind", "default", "doc")

    def __init__(self, name, env, kind, default, doc):
        self.name = name            # the attribute of ``settings``
        self.env = env              # the environment variable
        self.kind = kind            # "flag_on" (on unless "0"), "flag" (on when "1"), "str", "seconds"
        self.default = default
        self.doc = doc

    def __repr__(self):
        return f"Variable({self.name!r}, {self.env!r}, {self.kind!r}, {self.default!r})"


VARIABLES = (
    Variable("cache", "PKGIMAGE_CACHE", "str", None,
             "the cache folder (default: the user cache directory, platformdirs)"),
    Variable("auto", "PKGIMAGE_AUTO", "flag_on", True,
             "build a module's image in the background when an import ran it from source"),
    Variable("boot", "PKGIMAGE_BOOT", "flag_on", True,
             "the boot finder of pkgimage-boot.pth (read by _pkgimage_boot.py)"),
    Variable("jit", "PKGIMAGE_JIT", "flag_on", True,
             "compile generic functions on their first call from Python"),
    Variable("debug", "PKGIMAGE_DEBUG", "flag", False,
             "show tracebacks of command-line and build failures"),
    Variable("no_shared", "PKGIMAGE_NO_SHARED", "flag", False,
             "store object code in images instead of linking a shared library"),
    Variable("sandbox", "PKGIMAGE_SANDBOX", "str", "fork",
             "how post-close workloads are isolated: fork or inprocess"),
    Variable("workload_timeout", "PKGIMAGE_WORKLOAD_TIMEOUT", "seconds", 600.0,
             "seconds a module's workloads may run (pkgimage build --workload-timeout)"),
    Variable("allow_workload_errors", "PKGIMAGE_ALLOW_WORKLOAD_ERRORS", "flag", False,
             "write the image without the code of workloads that fail"),
    Variable("lock_timeout", "PKGIMAGE_LOCK_TIMEOUT", "seconds", None,
             "seconds to wait for another process's build of the same image (default: "
             "no limit)"),
    # shared image stores (``pkgimage/store``; read by ``store/config.py``, which merges
    # them over ``[tool.pkgimage]`` of pyproject.toml and says where a bad value came from)
    Variable("remote", "PKGIMAGE_REMOTE", "str", None,
             "the store tiers, nearest first: URL[#rw][,unsigned] separated by spaces or ;"),
    Variable("remote_token", "PKGIMAGE_REMOTE_TOKEN", "str", None,
             "a bearer token for HTTP(S)/WebDAV stores"),
    Variable("trusted_keys", "PKGIMAGE_TRUSTED_KEYS", "str", None,
             "public keys whose signed store entries are trusted (NAME:BASE64, space or ,)"),
    Variable("signing_key", "PKGIMAGE_SIGNING_KEY", "str", None,
             "the secret key file this machine signs published entries with"),
    Variable("remote_timeout", "PKGIMAGE_REMOTE_TIMEOUT", "str", None,
             "seconds a store request may take before the store is skipped"),
    Variable("max_cache_size", "PKGIMAGE_MAX_CACHE_SIZE", "str", None,
             "the cache folder's size limit (e.g. 2G), applied after builds and fetches"),
    # set by pkgimage for the processes it starts (not for users)
    Variable("building", "PKGIMAGE_BUILDING", "str", None,
             "the image unit this process is building"),
    Variable("replay", "PKGIMAGE_REPLAY", "str", None,
             "the module whose workloads pkgimage verify replays"),
    Variable("build_child", "PKGIMAGE_BUILD_CHILD", "flag", False,
             "this pkgimage build is a build child: one module, in this process"),
    Variable("build_result", "PKGIMAGE_BUILD_RESULT", "str", None,
             "where a build child writes its outcome (JSON) for the scheduler"),
    Variable("build_if_stale", "PKGIMAGE_BUILD_IF_STALE", "flag", False,
             "skip the build when the image is valid once the build lock is held"),
    Variable("auto_log", "PKGIMAGE_AUTO_LOG", "str", None,
             "a background build's log (its failure is recorded beside the image)"),
    Variable("build_trace", "PKGIMAGE_BUILD_TRACE", "str", None,
             "where a cluster build writes each task's timestamps (JSON; the benchmark)"),
)

_BY_NAME = {v.name: v for v in VARIABLES}


def _parse(var, raw):
    if raw is None or raw == "":
        return var.default
    if var.kind == "flag_on":
        return raw != "0"
    if var.kind == "flag":
        return raw == "1"
    if var.kind == "seconds":
        try:
            x = float(raw)
        except ValueError:
            x = float("nan")
        if not (0 < x < float("inf")):
            raise SettingsError(f"{var.env}={raw!r}: expected a number of seconds greater "
                                f"than 0 ({var.doc})")
        return x
    return raw


class Settings:
    """``settings.<name>``: the parsed value of the variable ``VARIABLES`` names so (read
    now); ``settings.environ(name=value, ...)``: those variables as environment entries, for
    a child process or for this one."""

    __slots__ = ()

    def __getattr__(self, name):
        var = _BY_NAME.get(name)
        if var is None:
            raise AttributeError(f"no pkgimage setting {name!r}")
        return _parse(var, os.environ.get(var.env))

    def raw(self, name, environ=None):
        """The variable's text as set in ``environ`` (default: this process's), unparsed;
        for settings parsed together with another source (``store/config.py``)."""
        env = os.environ if environ is None else environ
        return env.get(_BY_NAME[name].env)

    def env_name(self, name):
        return _BY_NAME[name].env

    def environ(self, **values):
        """{environment variable: text} for ``values`` by setting name (None: unset)."""
        out = {}
        for name, value in values.items():
            var = _BY_NAME[name]
            if value is None:
                out[var.env] = None
            elif isinstance(value, bool):
                out[var.env] = "1" if value else "0"
            else:
                out[var.env] = str(value)
        return out

    def set(self, **values):
        """Set (or, with None, unset) variables in this process's environment, which the
        processes it starts inherit."""
        for env, text in self.environ(**values).items():
            if text is None:
                os.environ.pop(env, None)
            else:
                os.environ[env] = text


settings = Settings()


def find_pyproject(start=None):
    """The ``pyproject.toml`` in folder ``start`` (default: the working directory) or the
    nearest folder above it, or None: where ``[tool.pkgimage]`` settings are read from (the
    store's tiers and keys, a package's workload files)."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p):
            return p
        up = os.path.dirname(d)
        if up == d:
            return None
        d = up

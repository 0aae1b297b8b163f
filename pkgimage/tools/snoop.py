"""``pkgimage snoop SCRIPT [-o FILE] [--build]``: run a script and write a workload covering the
concrete MethodInstances it compiled (SnoopCompile's ``parcel`` + ``write``).

* What counts: every valid CodeInstance with a concrete signature that this process inferred
  itself (not loaded from an image).  Only the *roots* get a directive: instances that another
  compiled instance calls statically are compiled again with their caller.
* Grouping ("parcel"), by the build's own ownership rule (``build/ownership.py``): an
  instance touched a set T of pkgimage modules (its method's, its argument types', and those
  of everything it calls); it goes to the workload of the module of T whose context (itself
  and its dependencies) covers T -- so code invalidated and recompiled because a dependent
  package added a method goes to that package, where it stays valid; when no module of T
  covers T, to its method's module, whose build then writes it into the context image keyed
  by T.  Instances touching no pkgimage module (methods defined in the script, base methods
  on base types) cannot live in any image and are listed as comments.
* The file has one ``@pk.precompilation("MODULE")`` workload per owning module, each a list of
  ``pk.precompile(f, (types...))`` directives; registration by *name* and imports inside the
  function keep the file loadable anywhere: ``[tool.pkgimage] workloads = [...]`` in
  ``pyproject.toml`` or ``pkgimage build --workload-file FILE``.
* ``--build`` writes one such file per owning module next to that module's source
  (``<module>_snooped.py``; or the one ``-o FILE``) and runs ``pkgimage build --force`` on
  the owning modules with those files as workloads -- so the instances that touch other
  packages land in context images exactly as a hand-written workload's would.  It then
  prints the ``pyproject.toml`` lines that make the workloads permanent.
"""

from __future__ import annotations

import os
import sys
import types as pytypes

from . import ToolError, describe_exception, run_script


def load_workload_file(path, modname):
    """Execute workload file ``path`` for the build of ``modname`` (in the build process):
    its ``@pk.precompilation`` for ``modname`` registers."""
    if not os.path.isfile(path):
        raise SystemExit(f"pkgimage: workload file {path} not found")
    from ..settings import settings
    settings.set(building=modname)
    name = f"_pkgimage_workload_file_{len(sys.modules)}"
    mod = pytypes.ModuleType(name)
    mod.__file__ = path
    sys.modules[name] = mod
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), mod.__dict__)


# -- Python expressions for functions and types -----------------------------------------------

class Exprs:
    def __init__(self):
        self.imports = set()
        self.helpers = set()

    def module_attr(self, modname, qualname, obj):
        import importlib
        try:
            m = importlib.import_module(modname)
            o = m
            for part in qualname.split("."):
                o = getattr(o, part)
        except Exception:
            return None
        if o is not obj:
            return None
        self.imports.add(modname)
        return f"{modname}.{qualname}"

    def type(self, t):
        import pkgimage as pk
        from .. import types as T
        k = t.__pk_kind__
        if k == "union":
            return "pk.Union[" + ", ".join(self.type(m) for m in t.__pk_members__) + "]"
        ref = T.type_ref(t)
        if ref[0] == "builtin" and getattr(pk, ref[1], None) is t:
            return f"pk.{ref[1]}"
        if ref[0] == "user":
            e = self.module_attr(ref[1], ref[2], t)
            if e:
                return e
        self.helpers.add("from pkgimage.types import type_from_ref as _type")
        return f"_type({ref!r})"

    def function(self, f):
        ctor = getattr(f, "constructs", None)
        if ctor is not None:
            return f"pk.constructors.constructor({self.type(ctor)})"
        if f.module == "pkgimage.base" or f.module.startswith("pkgimage.base."):
            import pkgimage as pk
            if getattr(pk.base, f.qualname, None) is f:
                return f"pk.base.{f.qualname}"
        e = self.module_attr(f.module, f.qualname, f)
        if e:
            return e
        self.imports.add(f.module)
        self.helpers.add("from pkgimage.dispatch import lookup_function as _function")
        return f"_function({f.module!r}, {f.qualname!r})"


# -- what was compiled, and who owns it --------------------------------------------------------

def _is_pkgimage_module(name):
    from ..image.hook import is_pkgimage_source
    m = sys.modules.get(name)
    f = getattr(m, "__file__", None)
    return bool(f) and f.endswith(".py") and is_pkgimage_source(f)


_CONTEXTS: dict = {}


def _context(mod):
    """``mod`` and the pkgimage modules it depends on (from its image header when it was
    loaded from one, else from the source scan)."""
    hit = _CONTEXTS.get(mod)
    if hit is None:
        from ..image.loader import LOADED
        if mod in LOADED:
            hit = {mod, *LOADED[mod].get("deps", {})}
        else:
            from .deps import plan
            try:
                hit = set(plan([mod])[0])
            except Exception:  # noqa: BLE001
                hit = {mod}
        _CONTEXTS[mod] = hit
    return hit


def owner_of(ci):
    """(module whose build keeps ``ci``, context-image key or None); (None, None) when no
    image can keep it.  Like the build's ownership rule (build/ownership.py): the instance
    touched a set T of pkgimage modules; a module of T whose context covers T keeps it in its
    own image; otherwise it goes to the context image keyed by T, built from the workload of
    its method's module (or T's first module)."""
    from ..build.ownership import touched_modules
    touched = sorted(m for m in touched_modules(ci) if not m.startswith("pkgimage")
                     and _is_pkgimage_module(m))
    if not touched:
        return None, None
    covering = [m for m in touched if set(touched) <= _context(m)]
    if covering:
        return covering[0], None
    m = ci.mi.method.module
    return (m if m in touched else touched[0]), "+".join(touched)


def compiled_instances(exclude=()):
    """Valid, concrete CodeInstances inferred in this process (not loaded from an image)."""
    from ..compiler import instances as INS
    out = [ci for ci in INS.code_instances(inferred_here=True, concrete=True)
           if id(ci) not in exclude]
    out.sort(key=lambda c: repr(c.mi))
    return out


def roots_of(cis):
    mis = {id(c.mi) for c in cis}
    return [c for c in cis if not any(id(b) in mis for b in c.mi.backedges)]


def render(groups, unowned, script, contexts=None):
    """The workload file for ``groups`` ({module: [CodeInstance]})."""
    lines = [f'"""Workload written by `pkgimage snoop {os.path.basename(script)}`: the method '
             f'instances it compiled',
             "that no image had, grouped by the module whose image owns them.  Use it with",
             "`pkgimage build --workload-file THIS_FILE MODULE`, or list it in pyproject.toml",
             '([tool.pkgimage] workloads = [...])."""',
             "import pkgimage as pk"]
    body = []
    helpers = set()
    for mod in sorted(groups):
        ex = Exprs()
        calls = []
        for ci in groups[mod]:
            mi = ci.mi
            try:
                f = ex.function(mi.method.function)
                ts = [ex.type(t) for t in mi.spec_types]
            except Exception as e:      # noqa: BLE001 -- keep the others
                calls.append(f"    # {mi!r}: cannot be named ({e})")
                continue
            tup = "(" + ", ".join(ts) + ("," if len(ts) == 1 else "") + ")"
            ctx = (contexts or {}).get(id(ci))
            calls.append(f"    pk.precompile({f}, {tup})"
                         + (f"  # context image {ctx}" if ctx else ""))
        helpers |= ex.helpers
        ident = "".join(c if c.isalnum() else "_" for c in mod)
        body += ["", "", f"@pk.precompilation({mod!r})", f"def _snooped_{ident}():"]
        body += [f"    import {m}" for m in sorted(ex.imports) if m != "pkgimage"]
        body += calls
    if unowned:
        body += ["", "", "# Compiled, but owned by no pkgimage module (defined in the script, or",
                 "# only base methods on base types), so no image can keep them:"]
        body += [f"#   {ci.mi!r}" for ci in unowned]
    return "\n".join(lines + sorted(helpers) + body) + "\n"


def snoop(script, args, output=None, build=False, jobs=None):
    os.environ.setdefault("PKGIMAGE_AUTO", "0")
    if not os.path.isfile(script):
        raise ToolError(f"script {script} not found")
    import pkgimage  # noqa: F401  (installs the hook and the compiler)
    before = {id(c) for c in compiled_instances()}
    err = run_script(script, args)
    if err is not None:
        print(f"pkgimage snoop: {script} failed: {describe_exception(err)}", file=sys.stderr)
    cis = compiled_instances(exclude=before)
    roots = roots_of(cis)
    groups, unowned, contexts = {}, [], {}
    for ci in roots:
        o, ctx = owner_of(ci)
        if o is None:
            unowned.append(ci)
        else:
            contexts[id(ci)] = ctx
            groups.setdefault(o, []).append(ci)
    print(f"pkgimage snoop: {script} compiled {len(cis)} instance(s); {len(roots)} root(s) in "
          f"{len(groups)} module(s)" + (f", {len(unowned)} owned by no image" if unowned
                                         else ""), file=sys.stderr)
    if not build:
        text = render(groups, unowned, script, contexts)
        if output:
            with open(output, "w") as f:
                f.write(text)
            print(f"wrote {output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 1 if err is not None else 0
    if not groups:
        print("pkgimage snoop: nothing to build", file=sys.stderr)
        return 1 if err is not None else 0
    files = []
    if output:
        with open(output, "w") as f:
            f.write(render(groups, unowned, script, contexts))
        files.append(output)
    else:
        for mod in sorted(groups):
            src = sys.modules[mod].__file__
            path = os.path.join(os.path.dirname(src), f"{mod.rpartition('.')[2]}_snooped.py")
            with open(path, "w") as f:
                f.write(render({mod: groups[mod]}, [], script, contexts))
            files.append(path)
    for p in files:
        print(f"wrote {p}", file=sys.stderr)
    from .build import build as run_build
    status, _ = run_build(sorted(groups), jobs=jobs, force=set(groups),
                          workload_file=files)
    print("To run these workloads in every build, list them in pyproject.toml:\n"
          "  [tool.pkgimage]\n  workloads = [" +
          ", ".join(repr(os.path.relpath(p)) for p in files) + "]\n"
          "(paths relative to the folder of pyproject.toml)", file=sys.stderr)
    return status or (1 if err is not None else 0)

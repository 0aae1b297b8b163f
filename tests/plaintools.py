"""The same source run by plain Python: pkgimage's decorators replaced by plain Python's
(generic functions as the functions they are, structs as frozen dataclasses, mutable structs
as dataclasses with identity), so that a compiled answer is compared with what Python itself
gives for the very same text."""

import dataclasses
import sys
import types

PLAIN_PK = types.SimpleNamespace(
    generic=lambda f: f, abstract=lambda c: c,
    struct=dataclasses.dataclass(frozen=True), mutable=dataclasses.dataclass(eq=False))


def import_plain(folder, modname, text):
    """Run ``text`` as module ``modname`` with ``pk`` the plain namespace above (its
    ``import pkgimage as pk`` line is dropped)."""
    path = folder / f"{modname}.py"
    path.write_text(text.replace("import pkgimage as pk", "pk = PLAIN_PK"))
    mod = types.ModuleType(modname)
    mod.__file__ = str(path)
    mod.PLAIN_PK = PLAIN_PK
    sys.modules[modname] = mod
    exec(compile(path.read_text(), str(path), "exec"), mod.__dict__)
    return mod


def compiled_and_plain(folder, modname, text):
    """The module ``text`` twice: compiled by pkgimage (as ``modname``) and run by plain
    Python (as ``modname_plain``), for tests that compare the two answers."""
    from conftest import import_source
    return (import_source(folder, modname, text),
            import_plain(folder, f"{modname}_plain", text))


def typed(v):
    """A value with the types of its parts, so that ``True`` and ``1`` (or ``1`` and
    ``1.0``) compare different."""
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, tuple(typed(x) for x in v))
    return (type(v).__name__, v)

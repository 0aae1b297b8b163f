import itertools
import sys
import textwrap
import types

import pytest

import pkgimage as pk

_counter = itertools.count()


@pytest.fixture
def load_module():
    """``load_module(source, name=None, filename=None)``: run ``source`` as a fresh, throwaway
    module (``types.ModuleType`` + exec) and return it.  Each call gets a new module name, so
    generic functions and types never leak between tests; ``filename`` is what error
    messages and ``Method.file`` report."""
    created = []

    def load(source, name=None, filename=None):
        name = name or f"_pk_throwaway_{next(_counter)}"
        mod = types.ModuleType(name)
        mod.__file__ = filename or f"/virtual/{name}.py"
        sys.modules[name] = mod
        created.append(name)
        source = textwrap.dedent(source)
        pk.register_source(mod.__file__, source)   # so the compiler can read exec'd methods
        exec(compile(source, mod.__file__, "exec"), mod.__dict__)
        return mod

    yield load
    for name in created:
        sys.modules.pop(name, None)


def import_source(folder, modname, text):
    """Write ``text`` to ``folder/modname.py`` and import it as ``modname`` (a real file, so
    compiled code finds its source; for module-scoped fixtures of test programs)."""
    import importlib.util
    path = folder / f"{modname}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod

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

"""pkgimage: Julia-style generic functions for Python, compiled with LLVM and cached in
package images.  See DESIGN.md (shared) and README.md for the map; this module only gathers
the stable public API.

``import pkgimage`` is lazy (PEP 562): it imports the exceptions and installs the import
hook, nothing else.  Each public name resolves to its module at its first use, so that a
process that only loads package images pays for the type system, dispatch and the loader --
never for the compiler's frontend, inference or codegen -- and ``import pkgimage`` costs a
few milliseconds over the interpreter's own start.  ``from pkgimage import Int64``,
``pk.generic``, ``from pkgimage import *`` and ``dir(pkgimage)`` work as before.
"""

__version__ = "0.1.0"

from .errors import (AmbiguityError, BoundsError, CompileError, DivideError, ErrorException,
                     ImageError, InexactError, MethodError, PkError)

# public name -> (module relative to this package, attribute there; None: the module itself)
_LAZY = {}
for _mod, _names in {
    ".types": ("AbstractFloat", "Any", "Array", "Bool", "Bottom", "Dict", "Function", "Float32", "Float64", "Int8",
               "Int16", "Int32", "Int64", "Integer", "List", "Matrix", "Nothing", "Number",
               "PyObject", "Real", "Set", "Signed", "String", "Tuple", "TypeVar", "UInt8", "UInt16", "UInt32",
               "UInt64", "Union", "UnionAll", "Unsigned", "Vararg", "Vector", "isa",
               "isconcrete", "issubtype", "typeintersect", "typeof"),
    ".typedefs": ("Generic", "abstract", "struct"),
    ".mutables": ("mutable",),
    ".dispatch": ("GenericFunction", "Method", "detect_ambiguities", "function", "generic",
                  "methods", "which", "world_counter"),
    ".constructors": ("constructor",),
    ".base": ("Rational", "error"),
    ".compiler.frontend": ("register_source",),
    ".compiler.instances": ("methodinstance", "methodinstances"),
    ".build": ("generating_output", "precompilation"),
    ".contexts": ("fexport", "fusing", "mf"),
}.items():
    for _n in _names:
        _LAZY[_n] = (_mod, _n)
_LAZY["base"] = (".base", None)
del _mod, _names, _n

__all__ = sorted(["AmbiguityError", "BoundsError", "CompileError", "DivideError",
                  "ErrorException", "ImageError", "InexactError", "MethodError", "PkError",
                  "precompile", "print_tree", "code_typed", "code_llvm", *_LAZY])


def __getattr__(name):
    """Resolve a public name at its first use (and keep it, so the next use is a plain
    attribute).  Any public name brings the core along (types, dispatch, constructors, the
    compile-on-call hook), so the language behaves the same whichever name a program
    touches first."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'pkgimage' has no attribute {name!r}")
    import importlib
    _core()
    mod = importlib.import_module(where[0], __name__)
    value = mod if where[1] is None else getattr(mod, where[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def _core():
    """The language's core modules: the type system, dispatch and its default constructors,
    and the context dispatch's frontend registration.

    Not the base library (thirty modules, about 850 methods: tens of milliseconds), which
    is imported by what needs it: anything that compiles (the frontend names its
    functions), a struct with operator methods (``structmethods``), a primitive type's
    constructor function (``constructors.constructor``: its methods are the library's), a
    function it defines named by reference (``dispatch.lookup_function``: an image, a
    constant slot) and ``pk.base``.  A program that names ``pk.Int64`` and runs code from
    images pays for none of it (``image/tables.deferrable``)."""
    import importlib
    # (by name: ``from . import base`` would ask this module's ``__getattr__`` for ``base``)
    for m in ("types", "typedefs", "dispatch", "constructors", "contexts",
              "compiler.entry"):         # compiler.entry installs the compile-on-call hook
        importlib.import_module(f"{__name__}.{m}")


def precompile(f, types):
    """Infer and generate native code for ``f(types...)`` now: True on success, False when
    no (unique) method applies."""
    from .compiler.pipeline import precompile as _precompile
    return _precompile(f, types)


def print_tree(mi, file=None):
    """The backedge tree of a MethodInstance, as MethodAnalysis' ``print_tree`` shows it."""
    from .compiler.instances import format_tree
    print(format_tree(mi), file=file)


def code_typed(f, types):
    """The inferred IR of ``f`` for ``types``: each statement with its type and resolution."""
    from .compiler.introspect import code_typed as _code_typed
    return _code_typed(f, types)


def code_llvm(f, types):
    """The LLVM IR generated for ``f`` for ``types`` (before optimisation)."""
    from .compiler.introspect import code_llvm as _code_llvm
    return _code_llvm(f, types)


from .image import hook as _hook  # noqa: E402

_hook.install()

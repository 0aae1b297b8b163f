"""pkgimage: Julia-style generic functions for Python, compiled with LLVM and cached in
package images.  See DESIGN.md (shared) and README.md for the map; this module only gathers
the stable public API."""

__version__ = "0.1.0"

from .errors import (AmbiguityError, BoundsError, CompileError, DivideError, ErrorException,
                     ImageError, InexactError, MethodError, PkError)
from .types import (AbstractFloat, Any, Array, Bool, Bottom, Float32, Float64, Int8, Int16,
                    Int32, Int64, Integer, Matrix, Nothing, Number, PyObject, Real, Signed, Tuple,
                    TypeVar, UInt8, UInt16, UInt32, UInt64, Union, UnionAll, Unsigned, Vararg,
                    Vector, isa, isconcrete, issubtype, typeintersect, typeof)
from .typedefs import Generic, abstract, struct
from .dispatch import (GenericFunction, Method, detect_ambiguities, function, generic, methods,
                       which, world_counter)
from .constructors import constructor
from . import base
from .base import Rational, error
from .compiler.frontend import register_source
from .compiler import entry as _entry  # noqa: F401  (installs the compile-on-call hook)
from .compiler.instances import methodinstance, methodinstances


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


from .build import generating_output, precompilation  # noqa: E402
from .contexts import fexport, fusing, mf  # noqa: E402
from .image import hook as _hook  # noqa: E402

_hook.install()

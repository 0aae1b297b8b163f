"""pkgimage: Julia-style generic functions for Python, compiled with LLVM and cached in
package images.  See DESIGN.md (shared) and README.md for the map; this module only gathers
the stable public API."""

__version__ = "0.1.0"

from .errors import (AmbiguityError, BoundsError, CompileError, DivideError, ErrorException,
                     ImageError, InexactError, MethodError, PkError)
from .types import (AbstractFloat, Any, Bool, Bottom, Float32, Float64, Int8, Int16, Int32,
                    Int64, Integer, Number, PyObject, Real, Signed, UInt8, UInt16, UInt32, UInt64,
                    Union, Unsigned, Vector, isa, isconcrete, issubtype, typeintersect, typeof)
from .typedefs import abstract, struct
from .dispatch import (GenericFunction, Method, detect_ambiguities, function, generic, methods,
                       which, world_counter)


def error(message):
    """Raise ``pk.ErrorException(message)``; compiled code lowers it to the same exception."""
    raise ErrorException(message)

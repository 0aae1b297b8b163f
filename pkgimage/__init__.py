"""pkgimage: Julia-style generic functions for Python, compiled with LLVM and cached in
package images.  See DESIGN.md (shared) and README.md for the map; this module only gathers
the stable public API."""

__version__ = "0.1.0"

from .errors import (AmbiguityError, BoundsError, CompileError, DivideError, ErrorException,
                     ImageError, InexactError, MethodError, PkError)
from .types import (AbstractFloat, Any, Bool, Bottom, Float32, Float64, Int8, Int16, Int32,
                    Int64, Integer, Nothing, Number, PyObject, Real, Signed, UInt8, UInt16, UInt32, UInt64,
                    Union, Unsigned, Vector, isa, isconcrete, issubtype, typeintersect, typeof)
from .typedefs import abstract, struct
from .dispatch import (GenericFunction, Method, detect_ambiguities, function, generic, methods,
                       which, world_counter)
from .constructors import constructor
from . import base
from .base import Rational, error
from .compiler.frontend import register_source
from .compiler.pipeline import precompile
from .compiler.introspect import (code_llvm, code_typed, methodinstance, methodinstances,
                                  print_tree)

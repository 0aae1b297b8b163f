"""Exceptions of pkgimage's public API.

They live in one leaf module (no imports from the rest of the package) so that every stage,
from the type system to the image loader, can raise them without import cycles.
"""


class PkError(Exception):
    """Base class of every error pkgimage raises on purpose."""


class MethodError(PkError, TypeError):
    """No method of a generic function applies to the argument types.

    It is a ``TypeError`` too, because that is what a Python caller expects from a call with
    arguments of the wrong types.
    """

    def __init__(self, message, function=None, argtypes=None):
        super().__init__(message)
        self.function = function
        self.argtypes = argtypes


class AmbiguityError(MethodError):
    """Several applicable methods, none more specific than all the others (Julia's rule)."""

    def __init__(self, message, function=None, argtypes=None, candidates=()):
        super().__init__(message, function, argtypes)
        self.candidates = tuple(candidates)


class CompileError(PkError):
    """Source the compiler cannot handle; the message starts with ``file:line:col``."""

    def __init__(self, message, filename=None, line=None, col=None, construct=None):
        loc = f"{filename}:{line}:{col}: " if filename is not None else ""
        super().__init__(loc + message)
        self.filename = filename
        self.line = line
        self.col = col
        self.construct = construct


class ErrorException(PkError):
    """Raised by ``pk.error("message")`` inside compiled (or interpreted) code."""


class DivideError(PkError, ZeroDivisionError):
    """Integer division by zero inside compiled code (Julia's ``DivideError``)."""


class BoundsError(PkError, IndexError):
    """Index out of range inside compiled code (Julia's ``BoundsError``)."""


class InexactError(PkError, ValueError):
    """A value that cannot be converted exactly to the requested type."""


class ImageError(PkError):
    """A package image that cannot be used; the message names the image path and the reason."""

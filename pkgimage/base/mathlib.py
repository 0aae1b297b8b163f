"""Python's ``math`` module in compiled code, as generic functions of the base library.

``math.sqrt(x)`` in a method body is a call of ``pkgimage.base.sqrt`` (as ``x + y`` is one of
``pkgimage.base.add``), so a package extends it for its own types
(``@pk.base.sqrt.method def _(x: MyNumber): ...``) and the call dispatches, inlines, is
cached in images and invalidated like user code.  Each function has a method on ``Float64``
(the C library function, through an intrinsic with CPython's errors) and one on ``Real``
that converts to ``Float64`` first, because Python's ``math`` computes in double whatever
number it is given (``math.sqrt(4)`` is ``2.0``, ``math.floor(2.5)`` the int ``2``).
"""

from __future__ import annotations

import math

from .. import dispatch as D
from ..compiler.intrinsics import LIBM1, LIBM2
from .synth import add_synth as _add
from ..types import Bool, Float64, Real

MODULE = "pkgimage.base"

_BOOL_TESTS = ("isnan", "isinf", "isfinite")
_ROUNDING = ("floor", "ceil", "trunc")
NAMES = tuple(LIBM1) + LIBM2 + _BOOL_TESTS + _ROUNDING + ("fabs",)


# ``math.pow`` is not ``**`` (``0.0 ** -1.0`` raises ZeroDivisionError, ``math.pow(0.0, -1.0)``
# ValueError): its base function has a name of its own.
BASE_NAME = {"pow": "math_pow"}


def _define():
    float_, int_ = D.get_function("float_", MODULE), D.get_function("int_", MODULE)
    out = {}
    for name in NAMES:
        f = out[BASE_NAME.get(name, name)] = D.get_function(BASE_NAME.get(name, name), MODULE)
        py = getattr(math, name)
        n = 2 if name in LIBM2 else 1
        if name == "fabs":
            native = [("intrinsic", "abs_float")]
        elif name in _ROUNDING:
            native = [("intrinsic", f"round_{name}"), ("call", int_)]
        elif name in _BOOL_TESTS:
            native = [("intrinsic", f"m_{name}")]
        else:
            native = [("intrinsic", f"m_{name}")]
        _add(f, (Float64,) * n, native, lambda *a, _py=py: _py(*a))
        # any other real number: to Float64 first, as Python's math does
        _add(f, (Real,) * n, [("each", float_), ("call", f)], lambda *a, _py=py: _py(*a))
    return out


FUNCTIONS = _define()


def _has_method(f, args):
    from ..types import as_sigtype
    sig = as_sigtype(tuple(args))
    return any(D.sig_equal(m.sig, sig) for m in f.methods)


def _define_python_ones():
    """``math.gamma``, ``math.hypot``, ``math.gcd`` and the others CPython computes itself,
    and ``random.random`` & co.: base functions whose methods call CPython's own code
    (``intrinsics.PYMATH``, ``intrinsics.RANDOM``), on the types it takes, and on any real
    number converted to Float64 first where it takes floats."""
    from ..compiler.intrinsics import PYMATH, RANDOM, REGISTRY
    from ..types import Int64, Integer
    float_ = D.get_function("float_", MODULE)
    out, py = {}, {}
    for name, (args, _) in PYMATH.items():
        fname = BASE_NAME.get(name, name if name != "log" else "log")
        f = out[fname] = D.get_function(fname, MODULE)
        impl = getattr(math, name)
        if not _has_method(f, args):
            # (not over a native method the base library already has: ``gcd(Int64,
            # Int64)``, Euclid's loop that Rational[Int64] normalises with -- a call into
            # CPython there made Rational arithmetic 8x slower)
            _add(f, args, [("intrinsic", f"pymath_{name}")], lambda *a, _py=impl: _py(*a))
        if all(t is Float64 for t in args):
            _add(f, (Real,) * len(args), [("each", float_), ("call", f)],
                 lambda *a, _py=impl: _py(*a))
        elif all(t is Int64 for t in args):
            pass
        py[impl] = fname
    for name, (n, rule) in RANDOM.items():
        fname = f"random_{name}"
        f = out[fname] = D.get_function(fname, MODULE)
        sigs = {"random": [()], "uniform": [(Real, Real)], "gauss": [(Real, Real)],
                "normalvariate": [(Real, Real)], "expovariate": [(Real,)],
                "randint": [(Int64, Int64)], "randrange": [(Int64,), (Int64, Int64),
                                                           (Int64, Int64, Int64)],
                "seed": [(), (Integer,)], "choice": [], "shuffle": []}[name]
        if name not in ("choice", "shuffle"):     # (``randoms.py``: written in the language)
            for sig in sigs:
                _add(f, sig, [("intrinsic", fname)], REGISTRY[fname].impl)
        py[("random", name)] = fname          # (``random`` imported when the frontend is)
    return out, py


PY_FUNCTIONS, _PY_NAMES = _define_python_ones()


def register_in_frontend(base, math_funcs):
    """Name the functions to the frontend (called by it when it is first imported, through
    ``base.register_in_frontend``: this module does not import the frontend, so that loading
    an image that calls the base library does not).  ``math.sqrt`` and ``from math import
    sqrt`` name the same object: calls of it are calls of the base function."""
    base.update(FUNCTIONS)
    math_funcs.update({getattr(math, n): BASE_NAME.get(n, n) for n in NAMES})
    base.update(PY_FUNCTIONS)
    import random
    math_funcs.update({(getattr(random, k[1]) if isinstance(k, tuple) else k): v
                       for k, v in _PY_NAMES.items()})

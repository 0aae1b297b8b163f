"""``ring_fma`` and the fallbacks of seed 003's Ring_fma (context methods).

Plain reals multiply with ``*`` (so ``mulxy(3.2, 2.3)`` works), but nothing adds them with
``addxy``: ``ring_fma(2.2, 3.2, 2.3)`` raises "addxy unimplemented in context for args
(Float64, Float64)", the error seed 003 expects.
"""
import pkgimage as pk
from pkgimage import Real

__pkgimage__ = True


@pk.mf
def addxy(x, y):
    pk.error(f"addxy unimplemented in context for args ({pk.typeof(x)}, {pk.typeof(y)})")


@pk.mf
def mulxy(x, y):
    pk.error(f"mulxy unimplemented in context for args ({pk.typeof(x)}, {pk.typeof(y)})")


@pk.mf
def mulxy(x: Real, y: Real):
    return x * y


@pk.mf
def ring_fma(x, y, z):
    return addxy(x, mulxy(y, z))


pk.fexport(addxy)
pk.fexport(mulxy)
pk.fexport(ring_fma)


@pk.precompilation(__name__)
def _workload():
    """Fuse the rings here (in the build's sandbox only) and run ring_fma on each: the code
    touches all three modules, so it goes to their context image."""
    from ring_context import Ring_int, Ring_Q
    pk.fusing(Ring_int)
    pk.fusing(Ring_Q)
    R = pk.Rational[pk.Int64]
    assert ring_fma(Ring_int.foo_int(3), Ring_int.foo_int(2), Ring_int.foo_int(5)) == \
        Ring_int.foo_int(13)
    assert ring_fma(Ring_Q.foo_Q(R(3, 1)), Ring_Q.foo_Q(R(2, 1)), Ring_Q.foo_Q(R(5, 1))) == \
        Ring_Q.foo_Q(R(13, 1))

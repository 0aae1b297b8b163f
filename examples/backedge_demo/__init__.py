"""BackedgeDemo (seed 004): three tiny methods whose MethodInstances and backedges show how
inference success or failure shapes the call graph.

Julia::

    double(x::Real) = 2x
    calldouble(container) = double(container[1])
    calldouble2(container) = calldouble(container)

Python indexes from 0, so ``container[1]`` becomes ``container[0]``.  Calling ``calldouble2``
on a ``Vector[Float64]`` infers the whole chain concretely (``double(::Float64)`` gets a
backedge to ``calldouble(::Vector[Float64])``, which gets one to ``calldouble2``); on a
``Vector[AbstractFloat]`` the element type is abstract, so ``double`` is called through
run-time dispatch: ``double(::AbstractFloat)`` is inferred (no backedge) and
``double(::Float32)`` is compiled when the call actually happens (no backedge either).
"""

import pkgimage as pk
from pkgimage import Real


@pk.generic
def double(x: Real):
    return 2 * x


@pk.generic
def calldouble(container):
    return double(container[0])


@pk.generic
def calldouble2(container):
    return calldouble(container)

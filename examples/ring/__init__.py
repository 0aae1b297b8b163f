"""The Ring modules of seed 003, with ordinary (global) dispatch.

* ``Ring_base`` owns the generic functions ``addxy`` and ``mulxy`` (no methods);
* ``Ring_int`` defines ``foo_int(x: Int64)`` and adds its methods to ``Ring_base.addxy``/``mulxy``;
* ``Ring_Q`` defines ``foo_Q(x: Rational[Int64])`` and does the same;
* ``Ring_fma`` defines ``ring_fma(x, y, z) = addxy(x, mulxy(y, z))`` and fallback methods on
  ``Any`` that raise ``pk.error("addxy unimplemented in context for args (T1, T2)")``.

As in Julia (and unlike the seed's MultiFunctions proposal), every module adds methods to the
one global method table of ``Ring_base.addxy``, so the order of imports does not matter and
``ring_fma`` sees every ring's methods::

    from ring import ring_fma, foo_int, foo_Q
    ring_fma(foo_int(3), foo_int(2), foo_int(5))        # foo_int(x=13)
    ring_fma(foo_Q(3), foo_Q(2), foo_Q(5))              # foo_Q(x=13//1)
    ring_fma(2.2, 3.2, 2.3)   # ErrorException: mulxy unimplemented in context for args (Float64, Float64)
"""

from . import Ring_base, Ring_fma, Ring_int, Ring_Q
from .Ring_base import addxy, mulxy
from .Ring_fma import ring_fma
from .Ring_int import foo_int
from .Ring_Q import foo_Q

__all__ = ["Ring_base", "Ring_int", "Ring_Q", "Ring_fma", "addxy", "mulxy", "ring_fma",
           "foo_int", "foo_Q"]

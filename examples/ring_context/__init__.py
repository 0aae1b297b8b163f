"""Seed 003's Ring example with context dispatch (MultiFunctions), as written there.

Each ring module defines its ``addxy``/``mulxy`` as *context methods* (``@pk.mf``) and exports
them; ``Ring_fma`` defines ``ring_fma`` and fallbacks; a program ``pk.fusing``-s the modules
it wants, and ``ring_fma`` then dispatches in that program's context::

    import pkgimage as pk
    from ring_context import Ring_int, Ring_Q, Ring_fma
    pk.fusing(Ring_int); pk.fusing(Ring_Q); pk.fusing(Ring_fma)
    ring_fma(foo_int(3), foo_int(2), foo_int(5))     # foo_int(x=13)
    ring_fma(2.2, 3.2, 2.3)     # ErrorException: addxy unimplemented in context for args (Float64, Float64)

No global method table is touched: ``addxy`` has no global generic function at all.
"""

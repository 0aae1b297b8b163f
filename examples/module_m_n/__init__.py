"""Modules M and N of seed 003: adding a method to ``pkgimage.base.add`` in one module changes
what already compiled code in another module computes, and invalidates it.

Julia::

    module M
    f(x::Float64, y::Float64) = x + y
    end
    M.f(1.0, 2.0)   # 3.0

    module N
    import Base.+
    (+)(x::Float64, y::Float64) = 0
    end
    M.f(1.0, 2.0)   # 0

Import ``module_m_n.M`` first, call ``M.f(1.0, 2.0)``, then import ``module_m_n.N``: the new
``add(::Float64, ::Float64)`` method replaces the base one, ``f(::Float64, ::Float64)`` is
invalidated through its edge to ``add`` and recompiled on the next call.  Importing N changes
``+`` on Float64 for every compiled function in the process, so try it in a separate process.

This package deliberately imports neither module.
"""

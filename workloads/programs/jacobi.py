"""2-D Jacobi relaxation: ``iters`` sweeps of the 4-neighbour average over the interior,
boundary held fixed, each sweep into a fresh ``np.zeros_like`` array.  The textbook version
with pkgimage's decorators and annotations added (``jacobi_plain.py``: without them,
``jacobi_numba.py``: the same bodies under ``@numba.njit``)."""

import numpy as np

import pkgimage as pk

__pkgimage__ = True


@pk.generic
def sweep(u: pk.Matrix[pk.Float64]):
    n, m = u.shape
    v = np.zeros_like(u)
    v[0, :] = u[0, :]
    v[-1, :] = u[-1, :]
    v[:, 0] = u[:, 0]
    v[:, -1] = u[:, -1]
    for i in range(1, n - 1):
        for j in range(1, m - 1):
            v[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])
    return v


@pk.generic
def jacobi(u: pk.Matrix[pk.Float64], iters: int):
    for it in range(iters):
        u = sweep(u)
    return u


@pk.precompilation(__name__)
def _workload():
    u = np.zeros((8, 8))
    u[0, :] = 1.0
    jacobi(u, 2)

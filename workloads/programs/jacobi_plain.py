"""``jacobi.py`` as plain Python: the same code without pkgimage's decorators and
annotations (the reference answer and the CPython timing)."""

import numpy as np


def sweep(u):
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


def jacobi(u, iters):
    for it in range(iters):
        u = sweep(u)
    return u

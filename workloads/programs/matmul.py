"""Matrix multiply, the naive triple loop into ``np.zeros((n, m))``.  The textbook version
with pkgimage's decorators and annotations added (``matmul_plain.py``: without them,
``matmul_numba.py``: the same body under ``@numba.njit``)."""

import numpy as np

import pkgimage as pk

__pkgimage__ = True


@pk.generic
def matmul(A: pk.Matrix[pk.Float64], B: pk.Matrix[pk.Float64]):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            s = 0.0
            for p in range(k):
                s += A[i, p] * B[p, j]
            C[i, j] = s
    return C


@pk.precompilation(__name__)
def _workload():
    A = np.ones((3, 4))
    matmul(A, A.T.copy())

"""``matmul.py`` under numba: the same body, ``@numba.njit`` instead of ``@pk.generic``,
no annotations."""

import numba
import numpy as np


@numba.njit
def matmul(A, B):
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

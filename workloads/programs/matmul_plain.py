"""``matmul.py`` as plain Python: the same code without pkgimage's decorators and
annotations (the reference answer and the CPython timing)."""

import numpy as np


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

"""Julia's micro-benchmark randmatstat, as a Python programmer writes Julia's
``test/perf/micro/perf.py`` version today, with ``@pk.generic`` added: statistics of random
matrices on NumPy arrays (``np.random.randn``, ``np.hstack``/``np.vstack``, ``P.T @ P`` in
place of the deprecated ``numpy.matrix``'s ``*``, ``np.linalg.matrix_power``, ``np.trace``,
``np.std``/``np.mean``).  ``run`` seeds NumPy's generator and prints the two ratios."""

import sys

import numpy as np

import pkgimage as pk


@pk.generic
def randmatstat(t):
    n = 5
    v = np.zeros(t)
    w = np.zeros(t)
    for i in range(1, t):
        a = np.random.randn(n, n)
        b = np.random.randn(n, n)
        c = np.random.randn(n, n)
        d = np.random.randn(n, n)
        P = np.hstack((a, b, c, d))
        Q = np.vstack((np.hstack((a, b)), np.hstack((c, d))))
        v[i] = np.trace(np.linalg.matrix_power(P.T @ P, 4))
        w[i] = np.trace(np.linalg.matrix_power(Q.T @ Q, 4))
    return (np.std(v) / np.mean(v), np.std(w) / np.mean(w))


def run(t):
    np.random.seed(1)
    s1, s2 = randmatstat(t)
    print("randmatstat %.12f %.12f" % (s1, s2))


if __name__ == "__main__":
    run(int(sys.argv[1]))

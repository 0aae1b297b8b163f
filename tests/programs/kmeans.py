"""Lloyd's k-means on NumPy arrays: assign each point to its nearest centre (explicit loops
over a float matrix), move each centre to the mean of its points, repeat; seeded data."""

import math
import sys

import numpy as np

import pkgimage as pk


@pk.generic
def assign(X: pk.Matrix[pk.Float64], C: pk.Matrix[pk.Float64], labels: pk.Vector[pk.Int64]):
    n, d = X.shape
    k = C.shape[0]
    moved = 0
    for i in range(n):
        best = math.inf
        bj = 0
        for j in range(k):
            dist = 0.0
            for c in range(d):
                diff = X[i, c] - C[j, c]
                dist += diff * diff
            if dist < best:
                best = dist
                bj = j
        if labels[i] != bj:
            moved += 1
            labels[i] = bj
    return moved


@pk.generic
def update(X: pk.Matrix[pk.Float64], labels: pk.Vector[pk.Int64], k: int):
    n, d = X.shape
    C = np.zeros((k, d))
    counts = np.zeros(k, dtype=np.int64)
    for i in range(n):
        j = labels[i]
        counts[j] += 1
        for c in range(d):
            C[j, c] += X[i, c]
    for j in range(k):
        for c in range(d):
            C[j, c] = C[j, c] / counts[j] if counts[j] > 0 else 0.0
    return C


@pk.generic
def kmeans(X: pk.Matrix[pk.Float64], k: int, iters: int):
    C = X[:k, :].copy()
    labels = np.full(X.shape[0], -1, dtype=np.int64)
    for it in range(iters):
        if assign(X, C, labels) == 0:
            return C, labels, it
        C = update(X, labels, k)
    return C, labels, iters


def main(n, k=4, iters=50):
    rng = np.random.default_rng(7)
    centres = rng.uniform(-10, 10, size=(k, 2))
    X = np.concatenate([c + rng.normal(0, 1.5, size=(n // k, 2)) for c in centres])
    C, labels, it = kmeans(X, k, iters)
    order = np.argsort(C[:, 0])
    print(f"converged after {it} iterations")
    for j in order:
        print(f"centre ({C[j, 0]:.6f}, {C[j, 1]:.6f}) with {int((labels == j).sum())} points")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

"""Golden typed IR: arrays of rank 2 (shape unpacking, indexing, a view, arrays made in
compiled code)."""
import numpy as np
import pkgimage as pk
from pkgimage import Int64, Float64

GOLDEN = [("trace", (pk.Matrix[Float64],)), ("inner", (pk.Matrix[Float64],)),
          ("ramp", (Int64,))]


@pk.generic
def trace(A: pk.Matrix[Float64]):
    n, m = A.shape
    s = 0.0
    for i in range(min(n, m)):
        s += A[i, i]
    return s


@pk.generic
def inner(A: pk.Matrix[Float64]):
    return A[1:-1, ::2]


@pk.generic
def ramp(n: Int64):
    v = np.zeros(n)
    for i in range(n):
        v[i] = i
    return v

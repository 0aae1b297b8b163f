"""The Computer Language Benchmarks Game's spectral-norm (the plain Python 3 program by
Sebastien Loisel, Isaac Gouy, Josh Goldfoot, Simon Descarpentries and Vadim Zelenin, without
its multiprocessing pool), with ``@pk.generic`` added to its functions: ints that become floats
(``partial_sum = 0`` then ``+= float``), enumerate and zip, list comprehensions, and ``%``
formatting, as written."""
import sys
from math import sqrt
import pkgimage as pk


@pk.generic
def eval_A(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


@pk.generic
def eval_A_times_u(u):
    return [part_A_times_u(i, u) for i in range(len(u))]


@pk.generic
def eval_At_times_u(u):
    return [part_At_times_u(i, u) for i in range(len(u))]


@pk.generic
def eval_AtA_times_u(u):
    return eval_At_times_u(eval_A_times_u(u))


@pk.generic
def part_A_times_u(i, u):
    partial_sum = 0
    for j, u_j in enumerate(u):
        partial_sum += eval_A(i, j) * u_j
    return partial_sum


@pk.generic
def part_At_times_u(i, u):
    partial_sum = 0
    for j, u_j in enumerate(u):
        partial_sum += eval_A(j, i) * u_j
    return partial_sum


@pk.generic
def spectral(n: int):
    u = [1] * n
    for dummy in range(10):
        v = eval_AtA_times_u(u)
        u = eval_AtA_times_u(v)
    vBv = vv = 0
    for ue, ve in zip(u, v):
        vBv += ue * ve
        vv += ve * ve
    return "%0.9f" % (sqrt(vBv / vv))


if __name__ == "__main__":
    print(spectral(int(sys.argv[1])))

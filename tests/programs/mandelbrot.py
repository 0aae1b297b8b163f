"""Julia's ``mandel``/``mandelperf`` micro-benchmark on Python's complex numbers: escape
times of the points of a 26 x 21 grid, summed (Julia's checksum is 14791)."""

import sys

import pkgimage as pk


@pk.generic
def mandel(z: complex) -> int:
    c = z
    maxiter = 80
    for n in range(maxiter):
        if abs(z) > 2.0:
            return n
        z = z * z + c
    return maxiter


@pk.generic
def mandelperf():
    r1 = [-2.0 + 0.1 * i for i in range(26)]
    r2 = [-1.0 + 0.1 * i for i in range(21)]
    return [mandel(complex(r, i)) for r in r1 for i in r2]


@pk.generic
def repeat(n: int):
    total = 0
    for _ in range(n):
        total += sum(mandelperf())
    return total


if __name__ == "__main__":
    print(repeat(int(sys.argv[1]) if len(sys.argv) > 1 else 1))

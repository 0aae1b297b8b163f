"""Numerical integration with functions passed as values: the trapezoid rule and Simpson's
rule ``integrate(f, a, b, n)`` over ``math`` functions, lambdas and closures that capture a
parameter, then an adaptive Simpson on a few of them and a table of the errors against the
known integrals."""

import math
import sys

import pkgimage as pk


@pk.generic
def trapezoid(f, a: float, b: float, n: int) -> float:
    h = (b - a) / n
    total = 0.5 * (f(a) + f(b))
    for i in range(1, n):
        total += f(a + i * h)
    return total * h


@pk.generic
def simpson(f, a: float, b: float, n: int) -> float:
    if n % 2 == 1:
        n += 1
    h = (b - a) / n
    total = f(a) + f(b)
    for i in range(1, n):
        x = a + i * h
        total += 4.0 * f(x) if i % 2 == 1 else 2.0 * f(x)
    return total * h / 3.0


@pk.generic
def integrate(f, a: float, b: float, n: int, rule=simpson) -> float:
    return rule(f, a, b, n)


@pk.generic
def adaptive(f, a: float, b: float, tol: float = 1e-10, depth: int = 40) -> float:
    c = 0.5 * (a + b)
    whole = simpson(f, a, b, 2)
    left = simpson(f, a, c, 2)
    right = simpson(f, c, b, 2)
    if depth <= 0 or abs(left + right - whole) <= 15.0 * tol:
        return left + right + (left + right - whole) / 15.0
    return adaptive(f, a, c, tol / 2.0, depth - 1) + adaptive(f, c, b, tol / 2.0, depth - 1)


@pk.generic
def gaussian(sigma: float):
    norm = 1.0 / (sigma * math.sqrt(2.0 * math.pi))
    return lambda x: norm * math.exp(-0.5 * (x / sigma) ** 2)


@pk.generic
def power(k: int):
    def f(x):
        return x ** k
    return f


@pk.generic
def wave(k: int):
    return lambda x: math.cos(k * x)


@pk.generic
def moments(n: int):
    results = []
    for k in range(4):
        results.append(integrate(power(k), 0.0, 2.0, n))
    return results


@pk.generic
def run(n: int):
    cases = [("sin", math.sin, 0.0, math.pi, 2.0),
             ("cos", math.cos, 0.0, math.pi / 2, 1.0),
             ("exp", math.exp, 0.0, 1.0, math.e - 1.0),
             ("sqrt", math.sqrt, 1.0, 4.0, 14.0 / 3.0),
             ("log", math.log, 1.0, math.e, 1.0),
             ("x^2", lambda x: x * x, 0.0, 3.0, 9.0),
             ("1/(1+x^2)", lambda x: 1.0 / (1.0 + x * x), 0.0, 1.0, math.pi / 4)]
    for name, f, a, b, exact in cases:
        t = integrate(f, a, b, n, trapezoid)
        s = integrate(f, a, b, n)
        print(f"{name:>10}  trapezoid {t:.12f} ({abs(t - exact):.2e})  "
              f"simpson {s:.12f} ({abs(s - exact):.2e})")
    for sigma in (0.5, 1.0, 2.0):
        g = gaussian(sigma)
        p = integrate(g, -3.0 * sigma, 3.0 * sigma, n)
        print(f"gaussian sigma={sigma}: P(|x| < 3 sigma) = {p:.10f}")
    print("moments of x^k on [0, 2]:", ", ".join(f"{m:.6f}" for m in moments(n)))
    offset = 0.25
    shifted = lambda x: math.sin(x + offset)
    print(f"adaptive sin(x + {offset}) on [0, pi]: {adaptive(shifted, 0.0, math.pi):.12f}")
    print(f"adaptive sqrt on [0, 1]: {adaptive(math.sqrt, 0.0, 1.0, 1e-8):.10f}")
    total = sum(integrate(wave(k), 0.0, 1.0, n) for k in range(1, 5))
    print(f"sum of the integrals of cos(kx) for k = 1..4: {total:.12f}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

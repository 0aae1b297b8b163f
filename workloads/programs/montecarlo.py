"""Monte Carlo, seeded: pi from random points in the unit square, and a European call
priced by simulating the stock at expiry (``random.gauss``) next to Black-Scholes' closed
form (``math.erf``): the textbook versions with pkgimage's decorators and annotations added
(``montecarlo_plain.py`` is the same code without them, ``montecarlo_numba.py`` the same
bodies under ``@numba.njit``, which draws from numba's own generator: its numbers are not
Python's, so its answers agree only statistically)."""

import math
import random

import pkgimage as pk

__pkgimage__ = True


@pk.generic
def estimate_pi(n: int) -> float:
    inside = 0
    for _ in range(n):
        x = random.random()
        y = random.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4.0 * inside / n


@pk.generic
def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


@pk.generic
def black_scholes(s: float, k: float, t: float, r: float, sigma: float) -> float:
    d1 = (math.log(s / k) + (r + 0.5 * sigma * sigma) * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    return s * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)


@pk.generic
def simulate_call(s: float, k: float, t: float, r: float, sigma: float, n: int) -> float:
    total = 0.0
    drift = (r - 0.5 * sigma * sigma) * t
    vol = sigma * math.sqrt(t)
    for _ in range(n):
        st = s * math.exp(drift + vol * random.gauss(0.0, 1.0))
        total += max(st - k, 0.0)
    return math.exp(-r * t) * total / n


@pk.generic
def price(seed: int, n: int):
    random.seed(seed)
    return (estimate_pi(n), black_scholes(100.0, 105.0, 1.0, 0.05, 0.2),
            simulate_call(100.0, 105.0, 1.0, 0.05, 0.2, n))


@pk.precompilation(__name__)
def _workload():
    price(1, 10)

"""Monte Carlo estimates, seeded: pi from random points in the unit square, and a European
call option priced by simulating the stock at expiry, next to Black-Scholes' closed form
(``math.exp``, ``math.log``, ``math.sqrt``, ``math.erf``)."""

import math
import random
import sys

import pkgimage as pk


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
def run(n: int):
    random.seed(12345)
    print(f"pi ~ {estimate_pi(n):.6f}")
    exact = black_scholes(100.0, 105.0, 1.0, 0.05, 0.2)
    print(f"black-scholes call {exact:.10f}")
    print(f"monte carlo call   {simulate_call(100.0, 105.0, 1.0, 0.05, 0.2, n):.10f}")
    strikes = [80.0 + 5.0 * i for i in range(9)]
    prices = [black_scholes(100.0, k, 0.5, 0.03, 0.25) for k in strikes]
    print(" ".join(f"{p:.4f}" for p in prices))


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 100000)

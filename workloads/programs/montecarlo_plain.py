"""``montecarlo.py`` without pkgimage: the same code, no decorators or annotations."""

import math
import random


def estimate_pi(n):
    inside = 0
    for _ in range(n):
        x = random.random()
        y = random.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4.0 * inside / n


def norm_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(s, k, t, r, sigma):
    d1 = (math.log(s / k) + (r + 0.5 * sigma * sigma) * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    return s * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)


def simulate_call(s, k, t, r, sigma, n):
    total = 0.0
    drift = (r - 0.5 * sigma * sigma) * t
    vol = sigma * math.sqrt(t)
    for _ in range(n):
        st = s * math.exp(drift + vol * random.gauss(0.0, 1.0))
        total += max(st - k, 0.0)
    return math.exp(-r * t) * total / n


def price(seed, n):
    random.seed(seed)
    return (estimate_pi(n), black_scholes(100.0, 105.0, 1.0, 0.05, 0.2),
            simulate_call(100.0, 105.0, 1.0, 0.05, 0.2, n))

"""Seed 002, problem 1, as it is without post-close workloads: the same module as
``needs_init.py`` with its workload *in the module*, at top level under
``if pk.generating_output():``.

The top level runs before the module is closed, and ``__init__()`` does not run at build time
(its runtime state must not reach the image).  The functions need that state, so the workload
has to initialise by hand, run, and then un-initialise everything it touched -- the table, the
lock (which cannot be stored: forgetting it fails the build) and the call counter (which can:
forgetting it silently stores the workload's count in the image).  "Obviously tricky and error
prone", as the seed says; ``needs_init.py`` does the same with a post-close workload that just
calls the functions.
"""

import math
import threading

import numpy as np

import pkgimage as pk
from pkgimage import Float64, Int64, Vector

__pkgimage__ = True

N = 1024
TABLE = None
_LOCK = None
CALLS = 0
INIT_COUNT = 0


def __init__():
    global TABLE, _LOCK, CALLS, INIT_COUNT
    TABLE = np.sin(np.linspace(0.0, 2.0 * math.pi, N + 1))
    _LOCK = threading.Lock()
    CALLS = 0
    INIT_COUNT += 1


def _deinit():
    """Undo ``__init__()`` (and what the calls changed): only the in-module workload needs it."""
    global TABLE, _LOCK, CALLS, INIT_COUNT
    TABLE = None
    _LOCK = None
    CALLS = 0
    INIT_COUNT -= 1


@pk.generic
def interp(t: Vector[Float64], x: Float64):
    """Linear interpolation in a table sampling one period [0, 2pi) of a function."""
    n = len(t) - 1
    u = x / 6.283185307179586
    u = u - float(int(u))
    if u < 0.0:
        u = u + 1.0
    p = u * n
    i = int(p)
    if i >= n:
        i = n - 1
    f = p - i
    return t[i] * (1.0 - f) + t[i + 1] * f


@pk.generic
def trapz(t: Vector[Float64], a: Float64, b: Float64, steps: Int64):
    """Trapezoidal integral over [a, b] of the tabulated function."""
    h = (b - a) / steps
    s = 0.5 * (interp(t, a) + interp(t, b))
    for k in range(1, steps):
        s += interp(t, a + k * h)
    return s * h


def _table():
    global CALLS
    if TABLE is None or _LOCK is None:
        raise RuntimeError("needs_init_inmodule is not initialised: __init__() has not run")
    with _LOCK:
        CALLS += 1
    return TABLE


def sine(x):
    return interp(_table(), float(x))


def integral(a, b, steps=256):
    return trapz(_table(), float(a), float(b), int(steps))


# -- the in-module workload: init by hand, run, un-init -----------------------------------------

if pk.generating_output():
    __init__()                     # the functions need the table and the lock
    try:
        assert abs(sine(0.5) - math.sin(0.5)) < 1e-3
        assert abs(integral(0.0, math.pi) - 2.0) < 1e-3
    finally:
        _deinit()                  # or the lock fails the build and CALLS leaks into the image

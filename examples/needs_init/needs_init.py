"""Seed 002, problem 1, solved: functions that only work after ``__init__()``.

``__init__()`` creates this module's runtime state: a lookup table (a NumPy array computed
when the module is loaded) and a handle (a lock guarding a call counter).  Neither belongs in
the image -- the table is runtime data, the lock cannot even be stored -- so the module's top
level leaves them unset, and ``sine``/``integral`` refuse to run before ``__init__()``.

The workload is registered with ``@pk.precompilation(__name__)``: it runs only while the
image is built, *after* the module is closed and checkpointed, in a forked sandbox where
``__init__()`` has already run.  So it just calls the functions.  Whatever it leaves behind
(the table, the lock, ``CALLS`` counting its calls) stays in the sandbox; the image holds the
module as it was at its close, and every load runs ``__init__()`` afresh.

Compare ``needs_init_inmodule.py``: the same module with the workload at top level under
``if pk.generating_output():``, which has to initialise by hand and un-initialise afterwards.
"""

import math
import threading

import numpy as np

import pkgimage as pk
from pkgimage import Float64, Int64, Vector

__pkgimage__ = True

N = 1024                 # table resolution (plain data: stored in the image)
TABLE = None             # runtime state, created by __init__()
_LOCK = None             # a handle: cannot live in an image
CALLS = 0                # how many lookups ran since __init__()
INIT_COUNT = 0           # how many times __init__() ran in this process


def __init__():
    global TABLE, _LOCK, CALLS, INIT_COUNT
    TABLE = np.sin(np.linspace(0.0, 2.0 * math.pi, N + 1))
    _LOCK = threading.Lock()
    CALLS = 0
    INIT_COUNT += 1


# -- compiled kernels: they take the table as an argument ---------------------------------------

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


# -- the public API: needs __init__() ----------------------------------------------------------

def _table():
    global CALLS
    if TABLE is None or _LOCK is None:
        raise RuntimeError("needs_init is not initialised: __init__() has not run")
    with _LOCK:
        CALLS += 1
    return TABLE


def sine(x):
    """sin(x) from the table."""
    return interp(_table(), float(x))


def integral(a, b, steps=256):
    """Integral of sin over [a, b] from the table."""
    return trapz(_table(), float(a), float(b), int(steps))


# -- the post-close workload -------------------------------------------------------------------

@pk.precompilation(__name__)
def _workload():
    # __init__() has run in the sandbox: just call the functions.
    assert abs(sine(0.5) - math.sin(0.5)) < 1e-3
    assert abs(integral(0.0, math.pi) - 2.0) < 1e-3

"""Quicksort, Hoare partition, recursive, tuple swaps: the textbook version with pkgimage's
decorators and annotations added (``quicksort_plain.py`` is the same code without them,
``quicksort_numba.py`` the same bodies under ``@numba.njit``)."""

import numpy as np

import pkgimage as pk

__pkgimage__ = True


@pk.generic
def partition(a: pk.Vector[pk.Float64], lo: int, hi: int):
    pivot = a[(lo + hi) // 2]
    i = lo - 1
    j = hi + 1
    while True:
        i += 1
        while a[i] < pivot:
            i += 1
        j -= 1
        while a[j] > pivot:
            j -= 1
        if i >= j:
            return j
        a[i], a[j] = a[j], a[i]


@pk.generic
def quicksort(a: pk.Vector[pk.Float64], lo: int, hi: int):
    if lo < hi:
        p = partition(a, lo, hi)
        quicksort(a, lo, p)
        quicksort(a, p + 1, hi)


@pk.generic
def sort(a: pk.Vector[pk.Float64]):
    quicksort(a, 0, len(a) - 1)
    return a


@pk.precompilation(__name__)
def _workload():
    sort(np.random.default_rng(0).random(100))

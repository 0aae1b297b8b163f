"""``quicksort.py`` as plain Python: the same code without pkgimage's decorators and
annotations (the reference answer and the CPython timing)."""


def partition(a, lo, hi):
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


def quicksort(a, lo, hi):
    if lo < hi:
        p = partition(a, lo, hi)
        quicksort(a, lo, p)
        quicksort(a, p + 1, hi)


def sort(a):
    quicksort(a, 0, len(a) - 1)
    return a

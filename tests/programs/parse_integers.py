"""Julia's micro-benchmark parse_integers, as the Python version in Julia's
``test/perf/micro/perf.py`` writes it, with ``@pk.generic`` added: ``hex`` and
``int(s, 16)`` of random 32-bit integers (``random.randint``), checked with an ``assert``.
``run`` seeds Python's generator and prints what ``parse_int`` returns."""

import random
import sys

import pkgimage as pk


@pk.generic
def parse_int(t):
    for i in range(1, t):
        n = random.randint(0, 2**32 - 1)
        s = hex(n)
        if s[-1] == 'L':
            s = s[0:-1]
        m = int(s, 16)
        assert m == n
    return n


def run(t):
    random.seed(1)
    print("parse_int", parse_int(t))


if __name__ == "__main__":
    run(int(sys.argv[1]))

"""Julia's micro-benchmark printfd, as the Python version in Julia's
``test/perf/micro/perf.py`` writes it, with ``@pk.generic`` added: ``"{:d} {:d}\\n".format``
of each pair written to a file the function opens and closes (``os.devnull``, as Julia's
writes ``/dev/null``).  ``run`` then prints the first lines to standard output
(``printfd_stdout``, the same formatting) so that a test sees them."""

import os
import sys

import pkgimage as pk


@pk.generic
def printfd(t):
    f = open(os.devnull, "w")
    for i in range(1, t):
        f.write("{:d} {:d}\n".format(i, i + 1))
    f.close()


@pk.generic
def printfd_stdout(t):
    for i in range(1, t):
        print("{:d} {:d}".format(i, i + 1))


def run(t):
    printfd(t)
    printfd_stdout(min(t, 50))


if __name__ == "__main__":
    run(int(sys.argv[1]))

"""The Computer Language Benchmarks Game's k-nucleotide (the plain Python 3 program by Ian
Osgood, modified by Sokolov Yura and bearophile), with ``@pk.generic`` added to its
functions: string slices as dict keys, ``dict.clear``/``get`` with a default, ``sorted`` of
the items with a key and ``reverse=True``, a generator joined with ``'\\n'.join``, ``%``
formatting, ``str.upper``/``split``.  The input is the third sequence of the Benchmarks
Game's fasta output: ``main`` reads it from a file named on the command line (the published
program reads standard input; ``fasta.py N > input`` makes one), else from the fasta output
that ``tests/programs/fasta.py`` computes for ``N``."""
import sys
import pkgimage as pk


@pk.generic
def gen_freq(seq, frame, frequences):
    ns = len(seq) + 1 - frame
    frequences.clear()
    for ii in range(ns):
        nucleo = seq[ii:ii + frame]
        if nucleo in frequences:
            frequences[nucleo] += 1
        else:
            frequences[nucleo] = 1
    return ns, frequences


@pk.generic
def sort_seq(seq, length, frequences):
    n, frequences = gen_freq(seq, length, frequences)

    l = sorted(list(frequences.items()), reverse=True, key=lambda seq_freq: (seq_freq[1],seq_freq[0]))

    print('\n'.join("%s %.3f" % (st, 100.0*fr/n) for st,fr in l))
    print()


@pk.generic
def find_seq(seq, s, frequences):
    n,t = gen_freq(seq, len(s), frequences)
    print("%d\t%s" % (t.get(s, 0), s))


@pk.generic
def main_text(lines):
    frequences = {}
    k = 0
    for line in lines:
        k += 1
        if line[0:3] == ">TH":
            break
    seq = []
    for line in lines[k:]:
        if line[0] in ">;":
            break
        seq.append( line[:-1] )
    sequence = "".join(seq).upper()

    for nl in 1,2:
        sort_seq(sequence, nl, frequences)

    for se in "GGT GGTA GGTATT GGTATTTTAATT GGTATTTTAATTTATAGT".split():
        find_seq(sequence, se, frequences)


_INPUTS = {}


def fasta_output(n):
    """The Benchmarks Game fasta program's output for ``n`` (made once per process)."""
    if n not in _INPUTS:
        import contextlib, io, os, runpy
        here = [os.path.dirname(os.path.abspath(__file__))] if "__file__" in globals() else []
        path = next(p for p in (os.path.join(d, "fasta.py") for d in here + [
            os.path.join(e, "tests", "programs") for e in sys.path]) if os.path.exists(p))
        fasta = runpy.run_path(path, run_name="fasta")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            fasta["main"](n)
        _INPUTS[n] = out.getvalue()
    return _INPUTS[n]


def main(arg):
    if str(arg).isdigit():
        text = fasta_output(int(arg))
    else:
        with open(arg) as f:
            text = f.read()
    main_text(text.splitlines(keepends=True))


if __name__ == "__main__":
    main(sys.argv[1])

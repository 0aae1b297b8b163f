"""Python dicts in compiled code (``Dict[K, V]``, the ``dict`` object itself): literals,
``{}`` and comprehensions whose key and value types grow with what is stored, ``d[k]``,
``d[k] = v``, ``in``, ``len``, iteration over keys and ``items()``, ``get``/``pop``/
``setdefault``/``update``/``copy``/``clear``.  Each program runs compiled and as plain Python
(the same bodies) and must give the same answer and raise the same errors.  One documented
difference: ``keys()``, ``values()`` and ``items()`` are lists (snapshots), not views."""

import textwrap

import pytest

SOURCE = '''
import pkgimage as pk
from pkgimage import Dict, Float64, Int64, List, String


@pk.generic
def freq(words: List[String]):
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    best = ""
    n = 0
    for w, c in counts.items():
        if c > n:
            best, n = w, c
    return counts, best, n


@pk.generic
def shapes(n: int):
    sq = {i: i * i for i in range(n) if i != 2}
    inv = {}
    for k in sq:
        inv[sq[k]] = k
    d = {"a": 1.5}
    d.setdefault("b", 2.5)
    d.setdefault("a", 9.0)
    e = d.copy()
    e.update({"c": 0.5})
    tally = {}
    for i in range(n):
        tally[i % 3] = tally.get(i % 3, 0) + i
    tally[0] += 100
    return (sq, inv, len(d), "a" in d, "z" not in d, d.get("z"), d.get("a"),
            sorted(d.keys()), sum(d.values()), d.pop("a"), d.pop("q", -1.0), d, e, tally,
            list(e), dict(e) == e, bool({}))


@pk.generic
def lookup(d: Dict[String, Int64], k: str):
    return d[k]


@pk.generic
def bump(d: Dict[String, Int64], k: str):
    d[k] = d.get(k, 0) + 1
    return None
'''

CASES = [("freq", ("the cat and the dog and the bird".split(),)), ("freq", ([],)),
         ("shapes", (7,)), ("shapes", (1,))]


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    from conftest import import_source
    return import_source(tmp_path_factory.mktemp("dicts"), "dict_programs", SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[f"{n}{a}"[:40] for n, a in CASES])
def test_dict_programs_give_plain_pythons_answer(mod, name, args):
    fn = getattr(mod, name)
    got, want = fn(*args), fn.methods[0].pyfunc(*args)
    assert got == want
    assert [type(x) for x in got] == [type(x) for x in want]


def test_a_dict_passed_in_is_the_callers_dict(mod):
    d = {"x": 1}
    mod.bump(d, "x")
    mod.bump(d, "y")
    assert d == {"x": 2, "y": 1}


def test_missing_key_is_pythons_key_error(mod):
    with pytest.raises(KeyError, match="'nope'"):
        mod.lookup({"a": 1}, "nope")
    assert mod.lookup({"a": 1}, "a") == 1


def test_dict_code_loads_from_an_image_without_compiling(tmp_path):
    from imagetools import Project
    proj = Project(tmp_path)
    proj.write("dicts1", "__pkgimage__ = True\n" + textwrap.dedent("""
        import pkgimage as pk

        @pk.generic
        def histogram(text: str):
            h = {}
            for ch in text:
                if ch.isalpha():
                    h[ch] = h.get(ch, 0) + 1
            return sorted([(c, n) for c, n in h.items()])

        @pk.precompilation(__name__)
        def _workload():
            histogram("abba")
        """))
    assert proj.build("dicts1").returncode == 0
    out = proj.run_json("""
import dicts1
with Tripwire() as tw:
    res = dicts1.histogram("hello, world")
done({"res": res, "compiles": tw.total, "stats": stats()})
""")
    assert out["res"] == [["d", 1], ["e", 1], ["h", 1], ["l", 3], ["o", 2], ["r", 1],
                          ["w", 1]], out
    assert out["compiles"] == 0 and out["stats"]["discarded_instances"] == 0, out["stats"]


def test_dict_reads_and_writes_are_cpythons_dict_functions_in_native_code(load_module):
    """``d[k]``, ``d[k] = v``, ``k in d`` and ``len(d)`` call CPython's dict functions from
    native code (not the intrinsics' Python bodies), with Python's results and KeyError."""
    import pkgimage as pk
    from pkgimage import types as T
    m = load_module('''
import pkgimage as pk

@pk.generic
def count(words):
    d = {}
    for w in words:
        if w in d:
            d[w] += 1
        else:
            d[w] = 1
    return d, len(d), d[words[0]]
''')
    words = ["a", "b", "a", "c", "a"]
    assert m.count(words) == m.count.methods[0].pyfunc(words)
    llvm = pk.code_llvm(m.count, (T.list_of(T.String),))
    for fn in ("PyDict_GetItemWithError", "PyDict_SetItem", "PyDict_Contains", "PyDict_Size"):
        assert fn in llvm
    with pytest.raises(IndexError):
        m.count([])


DYNAMIC = '''
import pkgimage as pk

@pk.generic
def put(d, k, x):
    if k in d:
        d[k] += x
    else:
        d[k] = x
    return None

@pk.generic
def mixed():
    d = {}
    put(d, "a", 1)
    put(d, "a", 0.5)
    put(d, "b", 2)
    return d

@pk.generic
def gen_freq(seq, frame, freqs):
    freqs.clear()
    for i in range(len(seq) + 1 - frame):
        key = seq[i:i + frame]
        if key in freqs:
            freqs[key] += 1
        else:
            freqs[key] = 1
    return freqs

@pk.generic
def count(seq, frame):
    freqs = {}
    return gen_freq(seq, frame, freqs)
'''


def test_a_dict_filled_through_calls_takes_what_python_takes(load_module):
    # ``d = {}`` passed to ``put`` is a Dict[Any, Any]; ``d[k] += x`` on it is a run-time
    # call: dispatched as the Dict[Any, Any] the code holds, not as the type of the items
    # it has so far (a Dict[String, Int64] refused the float: a wrong error)
    # (plain Python's answer: the bodies' own, without pkgimage)
    m = load_module(DYNAMIC)
    assert m.mixed() == {"a": 1.5, "b": 2}


def test_a_dict_filled_through_run_time_calls_is_not_walked_per_call(load_module, monkeypatch):
    # (its type was computed from its items at every ``d[k] += 1``: quadratic, the
    # Benchmarks Game's k-nucleotide ran for tens of minutes)
    from pkgimage import types as T
    m = load_module(DYNAMIC)
    seq = "GATTACA" * 300
    want = {}
    for i in range(len(seq) - 1):
        want[seq[i:i + 2]] = want.get(seq[i:i + 2], 0) + 1
    assert m.count(seq[:20], 2) is not None          # (compiled first)
    walked = []
    inner = T._elements_type
    monkeypatch.setattr(T, "_elements_type", lambda *a, **k: walked.append(1) or inner(*a, **k))
    assert m.count(seq, 2) == want
    assert len(walked) <= 2, len(walked)

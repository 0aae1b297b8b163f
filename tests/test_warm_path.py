"""The warm path: a lazy ``import pkgimage``, image loads that import no compiler stage, and
image validation by method-table fingerprint that stays exact.

Every check runs in a fresh process (``imagetools.Project``).  The fingerprint tests are
differential: the answer a loaded image gives after a method changed what one of its calls
resolves to is the answer plain Python gives and the answer a fresh compile gives."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import pytest

from imagetools import ROOT, Project

COMPILER = ("pkgimage.compiler.frontend", "pkgimage.compiler.ir",
            "pkgimage.compiler.inference", "pkgimage.compiler.codegen",
            "pkgimage.compiler.jit", "pkgimage.compiler.pipeline", "llvmlite")


def _python(code, tmp_path):
    """Run ``code`` as a script file (the compiler reads method bodies from their file) in
    a fresh interpreter; its last stdout line is JSON."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120, cwd=ROOT, env=Project(tmp_path).env())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


# -- import pkgimage -----------------------------------------------------------------------


def test_import_pkgimage_imports_only_the_exceptions_and_the_import_hook(tmp_path):
    out = _python("""
        import json, sys
        import pkgimage
        print(json.dumps(sorted(m for m in sys.modules if m.startswith(("pkgimage", "llvmlite",
                                                                        "numpy")))))
    """, tmp_path)
    # the hook and what it needs to decide: settings, which package owns a module, the
    # __init__ of modules already running without the hook
    # (the cache folder's and the image format's modules come with the first pkgimage
    # module imported, not with the hook)
    assert set(out) <= {"pkgimage", "pkgimage.errors", "pkgimage.image",
                        "pkgimage.image.hook", "pkgimage.settings",
                        "pkgimage.image.packages", "pkgimage.image.initcall"}, out


def test_import_pkgimage_imports_no_heavy_standard_module(tmp_path):
    # dataclasses (and inspect with it) came with the settings table, struct and the image
    # format with the hook: each a few ms of a process that may never load an image
    out = _python("""
        import json, sys
        before = set(sys.modules)
        import pkgimage
        print(json.dumps(sorted(set(sys.modules) - before)))
    """, tmp_path)
    heavy = {"dataclasses", "inspect", "ast", "pickle", "struct", "platform", "glob", "ctypes",
             "typing", "pathlib", "tempfile"}
    assert not heavy & set(out), sorted(heavy & set(out))


def test_public_names_resolve_lazily_and_behave_as_before(tmp_path):
    out = _python("""
        import json, sys
        import pkgimage as pk
        from pkgimage import Int64, Float64, Real, Vector, Union, Rational
        @pk.abstract
        class Shape: ...
        @pk.struct
        class Sq(Shape):
            s: Float64
        @pk.generic
        def area(x: Sq):
            return x.s * x.s
        ns = {}
        exec("from pkgimage import *", ns)
        print(json.dumps({
            "area": area(Sq(3.0)), "rat": repr(Rational[Int64](3, 6)),
            "star": sorted(set(pk.__all__) - set(ns)), "dir": sorted(set(pk.__all__) - set(dir(pk))),
            "base": repr(pk.base.add).split(" (")[0], "which": repr(pk.which(area, (Sq,))).split(" in ")[0],
            "isa": pk.isa(3, Real), "entry": "pkgimage.compiler.entry" in sys.modules}))
    """, tmp_path)
    assert out["area"] == 9.0 and out["rat"] == "1//2"
    assert out["star"] == [] and out["dir"] == []        # every public name, also by *
    assert out["base"] == "add" and out["which"] == "area(x::Sq)" and out["isa"] is True
    assert out["entry"] is True             # the compile-on-call hook came with the core


def test_unknown_attribute_is_an_attribute_error_naming_it():
    import pkgimage
    with pytest.raises(AttributeError, match="no_such_name"):
        pkgimage.no_such_name  # noqa: B018


def test_first_call_installs_the_compile_on_call_hook_without_import_pkgimage_core(tmp_path):
    # A program that imports a submodule directly (no public name touched) still compiles
    # its calls: dispatch imports the hook at the first call.
    out = _python("""
        import json, sys
        from pkgimage.dispatch import generic
        from pkgimage.types import Int64
        from pkgimage.compiler.frontend import register_source
        src = "def inc(x: Int64):\\n    return x + 1\\n"
        register_source("<inc>", src)
        ns = {"Int64": Int64, "__name__": "incmod"}
        exec(compile(src, "<inc>", "exec"), ns)
        f = generic(ns["inc"])
        r = f(41)
        from pkgimage.compiler import pipeline
        print(json.dumps([r, pipeline.STATS["compiled"] > 0]))
    """, tmp_path)
    assert out == [42, True]


# -- the __pkgimage__ marker ---------------------------------------------------------------


MARKER_CASES = [
    (b"__pkgimage__ = True\n", True),
    (b'"""doc\n__pkgimage__ = True\n"""\nX = 1\n', False),
    (b'"""doc\n__pkgimage__ = True\n"""\n__pkgimage__ = True\n', True),
    (b"f(\n__pkgimage__ = True)\n", False),
    (b"__pkgimage__ = True if X else False\n", False),
    (b"__pkgimage__: bool = True  # opt in\nimport os\n", True),
    (b"import os\n" + b"x = 1\n" * 20000 + b"__pkgimage__ = True\n", True),
    (b"s = '''\n__pkgimage__ = True\n'''\n", False),
    (b"__pkgimage__ = False\n", False),
    # (confirmed by compiling the prefix: a continued line, a comment, another statement)
    (b"y = \\\n__pkgimage__ = True\n", False),
    (b"# a comment ending in a backslash \\\n__pkgimage__ = True\n", True),
    (b"__pkgimage__ = True; import os\n", True),
    (b"__pkgimage__ = Truely\n", False),
    (b"__pkgimage__ = True.real\n", False),
    (b"if X:\n__pkgimage__ = True\n", False),
    (b"__pkgimage__ = True", True),
    (b"__pkgimage__=True\r\nimport os\r\n", True),
    (b"__pkgimage__\t:\tbool\t=\tTrue\t# opt in\n", True),
    (b"__pkgimage__ : typing.Final = True\n", False),      # (a dotted annotation: not screened)
    (b"__pkgimage__: = True\n", False),
    (b"x = 1\n  __pkgimage__ = True\n", False),            # (indented: not at a line's start)
    (b"__pkgimage__ = True\x0c\n", True),
    (b"__pkgimage__ == True\n", False),
    (b"__pkgimage__ = True)\n", False),
    (b"#__pkgimage__ = True\n", False),
    (b"__pkgimage__ = False\n__pkgimage__ = True\n", True),
]


@pytest.mark.parametrize("src,expected", MARKER_CASES)
def test_marker_is_confirmed_on_the_code_up_to_its_line(src, expected):
    from pkgimage.image.hook import marked
    assert marked(src) is expected


def test_the_marker_check_imports_no_parser(tmp_path):
    # ``ast`` cost every process that imports a pkgimage module several ms
    out = _python("""
        import json, sys
        from pkgimage.image.hook import marked
        import _pkgimage_boot
        r = [marked(b"import os\\n__pkgimage__ = True\\n"),
             _pkgimage_boot.marked(b"import os\\n__pkgimage__ = True\\n")]
        print(json.dumps([r, "ast" in sys.modules]))
    """, tmp_path)
    assert out == [[True, True], False]


def test_the_boot_file_imports_nothing_the_interpreter_has_not_loaded(tmp_path):
    """``pkgimage-boot.pth`` runs ``_pkgimage_boot`` in every process of the environment:
    ``re``, ``hashlib`` and ``threading`` cost ``python -c pass`` 13 ms there.  Without
    ``site`` (which an editable install's own finder may make import ``re``), importing it
    imports none of them, and checking a marker does not either (``re`` with ``enum`` cost
    every process importing a source module 5-9 ms)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import _pkgimage_boot as b; "
            "before = [m in sys.modules for m in ('re', 'hashlib', 'threading')]; "
            "hit = b.marked(b'__pkgimage__ = True\\n'); "
            "after = [m in sys.modules for m in ('re', 'hashlib', 'threading')]; "
            "import json; print(json.dumps([before, hit, after]))")
    r = subprocess.run([sys.executable, "-S", "-c", code, str(ROOT)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [[False, False, False], True, [False, False, False]]


@pytest.mark.parametrize("src,expected", MARKER_CASES)
def test_boot_finder_and_hook_agree_on_the_marker(src, expected):
    boot = importlib.import_module("_pkgimage_boot")
    assert boot.marked(src) is expected


# -- warm loads ----------------------------------------------------------------------------


WARM = """
    import pkgimage as pk
    from pkgimage import Int64, Float64, Real

    __pkgimage__ = True

    @pk.abstract
    class AbstractPoint: ...

    @pk.struct
    class P(AbstractPoint):
        x: Int64
        y: Float64

    @pk.generic
    def norm1(p: P):
        return p.x + abs(p.y)

    @pk.generic
    def total(n: Int64):
        s = 0.0
        for i in range(n):
            s += norm1(P(i, -0.5))
        return s

    if pk.generating_output():
        pk.precompile(total, (Int64,))
"""


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("warm"))
    p.write("warmmod", WARM)
    p.build("warmmod")
    return p


def test_warm_load_imports_neither_frontend_inference_codegen_nor_llvmlite(warm):
    out = warm.run_json("""
        import warmmod
        r = warmmod.total(10)
        done({"r": r, "mods": sorted(m for m in sys.modules if m.startswith(%r)),
              "stats": stats()})
    """ % (COMPILER,))
    assert out["r"] == sum(i + 0.5 for i in range(10))
    assert out["mods"] == [], out["mods"]
    assert out["stats"]["loaded_instances"] > 0 and out["stats"]["discarded_instances"] == 0


def test_warm_load_imports_neither_json_nor_the_pickle_module(warm):
    """The header is read by the C unpickler alone and the CPU record is plain lines: json
    (with its C scanner) and the ``pickle`` module on top of the C one cost a warm process
    several milliseconds.  (A plain interpreter, not the probes' prelude, which uses json.)"""
    import subprocess
    code = ("import sys, warmmod\nr = warmmod.total(10)\n"
            "print(r, sorted(m for m in ('json', '_json', 'pickle') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], env=warm.env(), capture_output=True,
                       text=True, timeout=120, cwd=warm.root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(sum(i + 0.5 for i in range(10))), "[]"], r.stdout



def test_warm_load_imports_neither_re_hashlib_threading_nor_importlib_util(warm):
    """What a plain ``python -c "import warmmod"`` did import through pkgimage: ``re`` with
    ``enum`` for the marker (5-9 ms), ``hashlib`` loading OpenSSL for the checksums (3-6
    ms), ``threading`` for a lock, ``importlib.util`` with ``contextlib``."""
    import subprocess
    mods = ("re", "enum", "hashlib", "_hashlib", "threading", "importlib.util", "contextlib")
    code = ("import sys\nbefore = set(sys.modules)\nimport warmmod\nr = warmmod.total(10)\n"
            f"print(r, sorted(m for m in {mods!r} if m in sys.modules and m not in before))")
    r = subprocess.run([sys.executable, "-c", code], env=warm.env(), capture_output=True,
                       text=True, timeout=120, cwd=warm.root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(sum(i + 0.5 for i in range(10))), "[]"], r.stdout

def test_image_header_is_plain_data_in_canonical_bytes():
    """Encoded headers that are equal are equal bytes, whatever objects they share; tuples
    come back as lists (the JSON header's rules); a header naming any global is refused."""
    import pickle
    from pkgimage.image import format as F
    s = "x" * 20
    a = {"b": [s, s, (1, 2.5)], "a": {"z": None, "y": True}}
    b = {"a": {"y": True, "z": None}, "b": ["x" * 20, "x" * 20, [1, 2.5]]}
    assert F.encode_header(a) == F.encode_header(b)
    assert F.decode_header(F.encode_header(a)) == b
    with pytest.raises(ValueError):
        F.decode_header(pickle.dumps({"a": pickle.loads}, 4))
    with pytest.raises(ValueError):
        F.decode_header(F.encode_header(a)[:-3])
    with pytest.raises(TypeError):
        F.encode_header({"a": object()})


def test_warm_load_validates_by_fingerprint_only(warm):
    out = warm.run_json("""
        import warmmod
        done(stats())
    """)
    assert out["edges_by_table"] > 0 and out["edges_checked"] == 0, out


def test_objects_of_a_load_are_frozen_out_of_the_collector(warm):
    out = warm.run_json("""
        import gc
        before = gc.get_freeze_count()
        import warmmod
        done({"before": before, "after": gc.get_freeze_count()})
    """)
    assert out["before"] == 0 and out["after"] > 1000


def test_records_of_one_part_share_one_table_of_digests(warm):
    # The method-table digests are one dict per part of the image: written once, not once
    # per record (copied per record, DemoPkg N=1000's image was 14 MB and its load spent
    # half a second unpickling them).
    out = warm.run_json("""
        import pickle
        from pkgimage.image import loader
        header, sections = loader.read_verified(%r)
        recs = pickle.loads(sections["code"])["records"]
        tables = {id(r["tables"]) for r in recs}
        done({"records": len(recs), "tables": len(tables),
              "size": len(pickle.dumps(recs[0]["tables"]))})
    """ % (str(warm.image("warmmod")),))
    assert out["records"] > 1 and out["tables"] == 1, out


# -- functions the load creates: their tables taken from the method count ---------------------

FRESH = """
    import pkgimage as pk
    from pkgimage import Int64, Float64, Real

    __pkgimage__ = True

    @pk.abstract
    class Shape: ...

    @pk.struct
    class Sq(Shape):
        side: Float64
        def area(self):
            return self.side * self.side
        def __add__(self, o):
            return Sq(self.side + o.side)

    @pk.struct
    class Pos(Shape):
        v: Int64
        def __init__(self, v: Int64):
            self.v = v if v > 0 else -v

    @pk.struct
    class Pair:
        a: Int64
        b: Float64

    @pk.generic
    def scale(x: Float64, k=2.0, *, shift=0.0):
        return x * k + shift

    @pk.generic
    def area(s: Pos):
        return Float64(s.v)

    @pk.generic
    def run(n: Int64):
        t = 0.0
        for i in range(n):
            t += (Sq(1.0) + Sq(float(i))).area() + area(Pos(-i)) + scale(1.5)
            t += Pair(i, 0.5).b + scale(1.0, 3.0, shift=1.0)
        return t

    if pk.generating_output():
        pk.precompile(run, (Int64,))
"""


def test_tables_of_functions_the_load_creates_are_the_recorded_ones(tmp_path):
    # A function the load creates, whose every method the image's module defines, is taken
    # to have the recorded table from its method count (no digest computed); pin that its
    # digest agrees every time, over structs with methods, an inner constructor, default
    # constructors, default and keyword arguments
    p = Project(tmp_path)
    p.write("freshmod", FRESH)
    p.build("freshmod")
    out = p.run_json("""
        from pkgimage.image import loader, tables
        seen = []
        inner = loader.fresh_table_holds
        def check(f, want):
            r = inner(f, want)
            if r:
                seen.append([f.name, tables.table_digest(f) == want[0]])
            return r
        loader.fresh_table_holds = check
        import freshmod
        done({"seen": seen, "run": freshmod.run(7), "stats": stats()})
    """)
    assert len(out["seen"]) >= 5, out
    assert all(ok for _, ok in out["seen"]), out["seen"]
    st = out["stats"]
    assert st["discarded_instances"] == 0 and st["edges_checked"] == 0, st
    (tmp_path / "cold").mkdir()
    cold = Project(tmp_path / "cold")
    cold.write("freshmod", FRESH)
    assert cold.run_json("import freshmod\ndone({'run': freshmod.run(7)})")["run"] == out["run"]


# -- default constructors deferred until their table is read ----------------------------------


def test_a_load_defers_default_constructors_until_their_table_is_read(warm):
    out = warm.run_json("""
        import pkgimage as pk
        from pkgimage import dispatch as D
        from pkgimage.constructors import constructor
        import warmmod
        ctor = constructor(warmmod.P)
        world = D.world_counter()
        deferred = D.table_parts(ctor)[1]
        p = warmmod.P(3, 2)                   # from Python: the converting constructor
        r = warmmod.total(10)
        ms = pk.methods(ctor)
        done({"deferred": deferred, "r": r, "p": [p.x, p.y],
              "after_python": D.table_parts(ctor)[1], "n": len(ms),
              "worlds": [m.primary_world for m in ms], "world": world,
              "synth": [hasattr(m.pyfunc, "__pk_synth_ir__") for m in ms],
              "stats": stats()})
    """)
    assert out["deferred"] == 2, out
    assert out["r"] == sum(i + 0.5 for i in range(10))
    assert out["p"] == [3, 2.0] and out["after_python"] == 0
    # made on request, they are in the table from the worlds reserved at the load
    assert out["n"] == 2 and all(out["synth"]), out
    assert len(set(out["worlds"])) == 2 and all(w <= out["world"] for w in out["worlds"])
    assert out["stats"]["discarded_instances"] == 0


# a constructor method of another module replacing P's exact default constructor, after the
# load: the loaded code that built P through it must be invalidated and recompiled
REDEFINE_CTOR = """
import warmmod
from pkgimage import Int64, Float64
from pkgimage.constructors import constructor

@constructor(warmmod.P).method
def _(x: Int64, y: Float64):
    return warmmod.P(Float64(x * 2), y)     # (the converting default constructor)
"""


def test_replacing_a_deferred_default_constructor_invalidates_the_code_that_called_it(warm):
    warm.write("redefctor", REDEFINE_CTOR)
    out = warm.run_json("""
        from pkgimage.compiler import instances as INS
        from pkgimage import dispatch as D
        from pkgimage.constructors import constructor
        import warmmod
        before = warmmod.total(3)
        import redefctor
        log = [(repr(m), sorted(repr(ci.mi) for ci in roots)) for m, roots in
               INS.INVALIDATION_LOG]
        ms = D.methods(constructor(warmmod.P))
        done({"before": before, "after": warmmod.total(3), "log": log, "n": len(ms),
              "direct": warmmod.P(1, 0.5).x})
    """)
    assert out["before"] == sum(i + 0.5 for i in range(3))
    # plain Python: norm1(P(2i, -0.5)) = 2i + 0.5
    assert out["after"] == sum(2 * i + 0.5 for i in range(3)), out
    assert any("total" in r for _, rs in out["log"] for r in rs), out["log"]
    assert out["n"] == 2 and out["direct"] == 2       # replaced, not added


# -- fingerprint mismatch: the full per-edge check, exact ------------------------------------

DEP = """
    import pkgimage as pk
    from pkgimage import Int64, Float64, Real

    __pkgimage__ = True

    @pk.generic
    def g(x: Real):
        return 1
"""

USER = """
    import pkgimage as pk
    from pkgimage import Int64

    import fpdep

    __pkgimage__ = True

    @pk.generic
    def h(x: Int64):
        return fpdep.g(x) + 10

    @pk.generic
    def k(x: Int64):
        return x * 2

    if pk.generating_output():
        pk.precompile(h, (Int64,))
        pk.precompile(k, (Int64,))
"""

# modules the loading process imports before the image of ``fpuser`` loads (a method defined
# there: in a file, since the compiler reads method bodies from their source)
CHANGES = {
    "none": "",
    # a more specific method for h's call: h's instance must be discarded and recompiled
    "int64": "@fpdep.g.method\ndef _(x: Int64):\n    return 2\n",
    # a method that does not apply to h's call: the table differs, every edge through g is
    # checked, and h's instance is kept
    "float64": "@fpdep.g.method\ndef _(x: Float64):\n    return 3\n",
}


def _project(root):
    p = Project(root)
    p.write("fpdep", DEP)
    p.write("fpuser", USER)
    for name, text in CHANGES.items():
        p.write(f"fpchange_{name}", "import fpdep\nfrom pkgimage import Int64, Float64\n"
                + text)
    return p


@pytest.fixture(scope="module")
def fp(tmp_path_factory):
    p = _project(tmp_path_factory.mktemp("fp"))
    p.build("fpdep", "fpuser")
    assert p.images("fpdep") and p.images("fpuser")
    return p


def _script(change):
    return (f"import fpdep, fpchange_{change}\n"
            "import fpuser\n"
            "done({'h': fpuser.h(5), 'k': fpuser.k(4), 'stats': stats()})\n")


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_changed_table_falls_back_to_edge_checks_and_answers_as_plain_python(fp, change,
                                                                           tmp_path):
    out = fp.run_json(_script(change))
    st = out["stats"]
    # plain Python: the same definitions, g dispatching by hand
    plain = {"none": 11, "int64": 12, "float64": 11}[change]
    assert out["h"] == plain and out["k"] == 8
    # a fresh compile (no image at all) agrees
    fresh = _project(tmp_path)
    cold = fresh.run_json(_script(change))
    assert cold["stats"]["loaded_instances"] == 0
    assert (cold["h"], cold["k"]) == (out["h"], out["k"])
    if change == "none":
        assert st["edges_checked"] == 0 and st["discarded_instances"] == 0
    else:
        # g's table differs from the image's record: its edges were checked one by one,
        # while k's instance (no call to g) still took the fingerprint
        assert st["edges_checked"] > 0 and st["edges_by_table"] > 0, st
    if change == "int64":
        assert st["discarded_instances"] >= 1
        assert any("h(::Int64)" in d[1] for d in st["discarded"]), st["discarded"]
    else:
        assert st["discarded_instances"] == 0, st["discarded"]


def test_an_edge_that_does_not_hold_at_write_time_gets_no_fingerprint():
    # (the writer's safety net: a function through which some edge fails now is left out
    # of the digests, so the loader checks it edge by edge)
    import pkgimage as pk
    from pkgimage import Int64
    from pkgimage.compiler import instances as INS
    from pkgimage.image.serialize import func_ref
    from pkgimage.image.writer import _table_digests

    ns = {}
    src = ("def wp_a(x: Int64):\n    return 1\n"
           "def wp_b(x: Int64):\n    return 2\n")
    pk.register_source("<wp>", src)
    exec(compile(src, "<wp>", "exec"), {"Int64": Int64, "__name__": "wpmod"}, ns)
    a = pk.generic(ns["wp_a"])
    b = pk.generic(ns["wp_b"])
    m = pk.which(a, (Int64,))
    good = INS.Edge("static", a, (Int64,), m)
    stale = INS.Edge("static", b, (Int64,), m)        # b does not resolve to a's method

    class FakeCI:
        edges = [good, stale]
        mi = INS.MethodInstance(m, (Int64,))
    digests = _table_digests([FakeCI()])
    assert func_ref(a) in digests and func_ref(b) not in digests


def test_table_digest_names_the_methods_and_changes_with_them():
    import pkgimage as pk
    from pkgimage import Float64, Int64
    from pkgimage.image.tables import method_index, table_digest

    ns = {}
    src = ("def td_f(x: Int64):\n    return 1\n"
           "def td_g(x: Float64):\n    return 2\n")
    pk.register_source("<td>", src)
    exec(compile(src, "<td>", "exec"), {"Int64": Int64, "Float64": Float64,
                                        "__name__": "tdmod"}, ns)
    f = pk.generic(ns["td_f"])
    d1 = table_digest(f)
    assert d1 is not None and table_digest(f) == d1           # cached, same
    assert [m.sig for m in method_index(f).values()] == [m.sig for m in f.methods]
    ns["td_g"].__name__ = "td_f"
    f.method(ns["td_g"])                                      # a second method
    d2 = table_digest(f)
    assert d2 != d1 and len(method_index(f)) == 2
    # the digest depends on the methods (signature and module), not on the function or
    # the order they were added in
    other = {}
    exec(compile(src, "<td>", "exec"), {"Int64": Int64, "Float64": Float64,
                                        "__name__": "tdmod"}, other)
    other["td_f"].__name__ = other["td_g"].__name__ = "td_h"
    h = pk.function("td_h", module="tdmod")
    h.method(other["td_g"])
    h.method(other["td_f"])
    assert table_digest(h) == d2
    third = {}
    exec(compile(src, "<td>", "exec"), {"Int64": Int64, "Float64": Float64,
                                        "__name__": "tdmod3"}, third)
    third["td_f"].__name__ = "td_k"
    k = pk.function("td_k", module="tdmod")
    k.method(third["td_f"])
    assert table_digest(k) != d1          # the same signature, from another module


def test_table_digest_is_the_digest_of_its_sorted_key_reprs():
    # The digest is made from each signature reference's repr computed once per signature
    # type; it must stay the digest of the sorted reprs of the index keys, which images
    # written before record (no format change).
    import hashlib
    import pkgimage as pk
    from pkgimage import Float64, Int64
    from pkgimage.image.tables import method_index, table_digest
    f = pk.function("tdr_f", module="tdrmod")
    ns = {"Int64": Int64, "Float64": Float64, "__name__": "tdrmod"}
    exec("def a(x: Int64):\n    return x\ndef b(x: Float64, y: Int64):\n    return x\n",
         ns)
    f.method(ns["a"])
    f.method(ns["b"])
    keys = sorted(map(repr, method_index(f)))
    assert len(keys) == 2
    want = hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()
    assert table_digest(f) == want


def test_bindings_of_records_sharing_one_tuple_are_checked_once_per_load(monkeypatch):
    # Equal binding tuples are one object in an image: the loader checks each once per
    # load, and still exactly (a global that changed fails every record naming it).
    import types
    from pkgimage.image import loader, serialize
    mod = types.ModuleType("bindmemo_mod")
    mod.K = 3
    monkeypatch.setitem(sys.modules, "bindmemo_mod", mod)
    refs = (("bindmemo_mod", "K", serialize.binding_ref(3)),)
    calls = []
    inner = loader.binding_from_ref
    monkeypatch.setattr(loader, "binding_from_ref", lambda r: calls.append(r) or inner(r))
    loader._MEMO.clear()
    try:
        first = loader._bindings_from_record({"bindings": refs})
        second = loader._bindings_from_record({"bindings": refs})
        assert first == second and first[1] is None and first[0][0][:2] == ("bindmemo_mod", "K")
        assert len(calls) == 1
        loader._MEMO.clear()                 # (the next load)
        mod.K = 4
        bindings, why = loader._bindings_from_record({"bindings": refs})
        assert bindings is None and "bindmemo_mod.K" in why
    finally:
        loader._MEMO.clear()


def test_code_index_finds_each_function_as_a_full_index_would():
    # The loader's index of a module's code objects computes the column of a code object's
    # key only for the candidates a lookup names (scanning the module code's positions took
    # tens of ms); it must answer as a dict of every code object's full key (first kept).
    import types
    from pkgimage.image.serialize import _code_index, code_key
    src = ("def f(x):\n    return x\n"
           "g = (lambda a: a + 1), (lambda b: lambda c: b * c)\n"
           "class K:\n    def m(self):\n        return [y for y in range(3)]\n")
    code = compile(src, "<mod>", "exec")
    full, stack = {}, [code]
    while stack:
        c = stack.pop()
        full.setdefault(code_key(c), c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    index = _code_index(code)
    assert len(full) >= 7
    for key, c in full.items():
        assert index.get(key) is c and index.get(list(key)) is c
    assert index.get(("nothing", 1, 0)) is None
    # two code objects of one name on one line (the lambdas): the column tells them apart,
    # and a column neither has finds neither
    assert index.get(("<lambda>", 3, 99)) is None


def test_code_index_takes_a_lone_candidate_without_comparing_its_column():
    # A function alone with its name on its first line is the one the image named: its
    # code's positions are not scanned (the module's code is the image's source's, whose
    # hash the header pins), so any column finds it.
    from pkgimage.image.serialize import _code_index
    code = compile("def f(x):\n    return x\n", "<mod>", "exec")
    f = next(c for c in code.co_consts if hasattr(c, "co_qualname"))
    index = _code_index(code)
    assert index.get(("f", 1, 99)) is f and index.get(("f", 1, 0)) is f
    assert index.get(("f", 2, 0)) is None


# -- instances held as records until asked for (image/pending.py) ----------------------------

LZDEP = """
    import pkgimage as pk
    from pkgimage import Int64, Real

    __pkgimage__ = True

    @pk.generic
    def g(x: Real):
        return 1
"""

LZUSER = """
    import pkgimage as pk
    from pkgimage import Int64

    import lzdep

    __pkgimage__ = True

    @pk.generic
    def inner(x: Int64):
        return lzdep.g(x) + 1

    @pk.generic
    def outer(x: Int64):
        return inner(x) * 10

    @pk.generic
    def other(x: Int64):
        return x - 1

    if pk.generating_output():
        pk.precompile(outer, (Int64,))
        pk.precompile(other, (Int64,))
"""

# defined after the image of lzuser is loaded: a more specific method for inner's call
LZCHANGE = "import lzdep\nfrom pkgimage import Int64\n\n" \
           "@lzdep.g.method\ndef _(x: Int64):\n    return 2\n"


@pytest.fixture(scope="module")
def lz(tmp_path_factory):
    p = Project(tmp_path_factory.mktemp("lz"))
    p.write("lzdep", LZDEP)
    p.write("lzuser", LZUSER)
    p.write("lzchange", LZCHANGE)
    p.build("lzdep", "lzuser")
    assert p.images("lzuser")
    return p


def test_a_load_holds_valid_instances_as_records_until_one_is_called(lz):
    out = lz.run_json("""
        from pkgimage.image import loader
        import lzuser
        after_load = dict(loader.STATS)
        r = lzuser.other(5)
        done({"load": after_load, "call": dict(loader.STATS), "r": r})
    """)
    load, call = out["load"], out["call"]
    assert out["r"] == 4
    assert load["loaded_instances"] >= 3 and load["discarded_instances"] == 0, load
    assert load["held_instances"] == load["loaded_instances"] and load["made_instances"] == 0
    # calling other makes other's instance only
    assert call["made_instances"] == 1, call


def test_method_defined_after_load_invalidates_held_instances_and_their_held_callers(lz,
                                                                                   tmp_path):
    script = """
        from pkgimage.compiler import instances as INS
        from pkgimage.image import loader
        import lzuser
        import lzchange                      # g(::Int64) defined after the load
        log = [(repr(m), sorted(repr(ci.mi) for ci in roots)) for m, roots in INS.INVALIDATION_LOG]
        done({"outer": lzuser.outer(5), "inner": lzuser.inner(5), "other": lzuser.other(5),
              "log": log, "stats": dict(loader.STATS)})
    """
    out = lz.run_json(script)
    # plain Python: g(5) is now 2
    assert (out["outer"], out["inner"], out["other"]) == (30, 3, 4), out
    roots = [r for _, rs in out["log"] for r in rs]
    assert "MethodInstance for inner(::Int64)" in roots, out["log"]
    assert out["stats"]["discarded_instances"] == 0
    # a fresh compile (no image) agrees
    fresh = Project(tmp_path)
    fresh.write("lzdep", LZDEP)
    fresh.write("lzuser", LZUSER)
    fresh.write("lzchange", LZCHANGE)
    cold = fresh.run_json(script)
    assert (cold["outer"], cold["inner"], cold["other"]) == (30, 3, 4)
    assert cold["stats"]["loaded_instances"] == 0


def test_invalidations_command_lists_held_instances_a_later_method_invalidates(lz):
    path = lz.src / "inval_script.py"
    path.write_text("import lzuser\nimport lzchange\n")
    out = lz.cli("invalidations", str(path)).stdout
    assert "inserting g(x::Int64)" in out, out
    assert "MethodInstance for inner(::Int64)" in out, out
    assert "MethodInstance for outer(::Int64)" in out, out       # its caller, in the tree
    assert "cached in image lzuser" in out, out


def test_listing_a_function_makes_its_held_instances_with_their_backedges(lz):
    out = lz.run_json("""
        import pkgimage as pk
        from pkgimage.image import loader
        import lzuser
        before = loader.STATS["made_instances"]
        mis = pk.methodinstances(lzuser.inner)
        done({"before": before, "mis": [repr(mi) for mi in mis],
              "valid": [mi.cache is not None and mi.cache.valid for mi in mis],
              "backedges": [repr(b) for mi in mis for b in mi.backedges],
              "tree": pk.methodinstance(lzuser.inner, (pk.Int64,)) is not None})
    """)
    assert out["before"] == 0
    assert out["mis"] == ["MethodInstance for inner(::Int64)"] and out["valid"] == [True]
    assert out["backedges"] == ["MethodInstance for outer(::Int64)"], out
    assert out["tree"]


def test_rebinding_a_global_a_held_instance_read_invalidates_it(tmp_path):
    p = Project(tmp_path)
    p.write("lzglob", """
        import pkgimage as pk
        from pkgimage import Int64

        __pkgimage__ = True

        K = 3

        @pk.generic
        def addk(x: Int64):
            return x + K

        @pk.generic
        def twice(x: Int64):
            return addk(x) * 2

        if pk.generating_output():
            pk.precompile(twice, (Int64,))
    """)
    p.build("lzglob")
    out = p.run_json("""
        from pkgimage.image import loader
        import lzglob
        held = loader.STATS["held_instances"]
        lzglob.K = 100                     # before anything was made
        done({"held": held, "twice": lzglob.twice(1), "addk": lzglob.addk(1)})
    """)
    assert out["held"] >= 2
    # plain Python: K is 100 now
    assert (out["twice"], out["addk"]) == (202, 101), out


def test_callees_outside_the_records_are_judged_each_by_its_own_reference(monkeypatch):
    # Each callee outside the records is judged once per load, keyed by its method and
    # argument-type references: inlined callees compiled in the session may share one
    # symbol (none), and keyed by the symbol the first one's answer stood for all of them
    # (an instance whose inlined callee is no longer valid was kept)
    from pkgimage.image import loader
    good, bad = ("m-good",), ("m-bad",)
    records = [{"symbol": s, "method": (("func", "mod", s), "sig", "mod"), "spec": (),
                "edges": (), "callees": ((mref, (), None, True),)}
               for s, mref in (("a", good), ("b", bad), ("c", good))]
    asked = []

    def callee_ok(mref, specrefs, csym, inlined):
        asked.append(mref)
        return mref is good

    fake = type("FakeMethod", (), {"function": None})()
    monkeypatch.setattr(loader, "_method", lambda ref: fake)
    monkeypatch.setattr(loader, "_resolve_types", lambda refs: ())
    monkeypatch.setattr(loader, "_describe_record", lambda r: r["symbol"])
    entries, reasons = loader._validate_records(records, callee_ok)
    assert sorted(entries) == ["a", "c"] and list(reasons) == ["b"], (entries, reasons)
    assert sorted(asked, key=repr) == [bad, good]        # (once per reference)


# -- a held caller of an instance invalidated through backedges ------------------------------
#
# B calls X of another image (not inlined: loops), A calls B: a method defined after the
# load invalidates X through its edge on g, and B and A through backedges.  A held as a
# record when that happens must be reached too (made, then invalidated), never made later as
# valid code calling B's old code.

CHAINDEP = """
    import pkgimage as pk
    from pkgimage import Int64, Real

    __pkgimage__ = True

    @pk.generic
    def g(x: Real):
        return 1

    @pk.generic
    def X(x: Int64):
        s = 0
        for i in range(x):
            s += g(i)
        return s

    if pk.generating_output():
        pk.precompile(X, (Int64,))
"""

CHAINUSER = """
    import pkgimage as pk
    from pkgimage import Int64

    import chaindep

    __pkgimage__ = True

    @pk.generic
    def B(x: Int64):
        t = 0
        for i in range(2):
            t += chaindep.X(x)
        return t

    @pk.generic
    def A(x: Int64):
        t = 0
        for i in range(1):
            t += B(x) + 100
        return t

    if pk.generating_output():
        pk.precompile(A, (Int64,))
"""

CHAINCHANGE = "import chaindep\nfrom pkgimage import Int64\n\n" \
              "@chaindep.g.method\ndef _(x: Int64):\n    return 2\n"

CHAINSCRIPT = """
    import chaindep, chainuser
    {before}
    import chainchange
    done({{"A": chainuser.A(5), "B": chainuser.B(5), "X": chaindep.X(5), "stats": stats()}})
"""


@pytest.mark.parametrize("before", ["", "chainuser.B(5)", "chaindep.X(5)"])
def test_a_held_caller_is_invalidated_through_the_backedges_of_an_outside_callee(before,
                                                                                tmp_path):
    p = Project(tmp_path)
    p.write("chaindep", CHAINDEP)
    p.write("chainuser", CHAINUSER)
    p.write("chainchange", CHAINCHANGE)
    p.build("chaindep", "chainuser")
    assert p.images("chainuser")
    out = p.run_json(CHAINSCRIPT.format(before=before))
    # plain Python: g(i) is 2 for every Int64 now: X(5) = 10, B = 20, A = 120
    assert (out["X"], out["B"], out["A"]) == (10, 20, 120), out
    assert out["stats"]["loaded_instances"] >= 3 and out["stats"]["discarded_instances"] == 0
    (tmp_path / "cold").mkdir()
    cold = Project(tmp_path / "cold")
    cold.write("chaindep", CHAINDEP)
    cold.write("chainuser", CHAINUSER)
    cold.write("chainchange", CHAINCHANGE)
    c = cold.run_json(CHAINSCRIPT.format(before=before))
    assert (c["X"], c["B"], c["A"]) == (10, 20, 120)


# -- a loaded method replaced by a definition of another module -------------------------------

REDEFINE_NORM = """
import warmmod
from pkgimage import Float64

@warmmod.norm1.method
def _(p: warmmod.P):
    return p.y * 2.0
"""


def test_a_method_redefined_after_the_load_replaces_the_loaded_one_and_its_code(warm):
    warm.write("redefnorm", REDEFINE_NORM)
    out = warm.run_json("""
        from pkgimage import dispatch as D
        import warmmod
        first = warmmod.total(4)
        import redefnorm
        done({"first": first,
              "second": warmmod.total(4), "n": len(warmmod.norm1.methods),
              "p": warmmod.norm1(warmmod.P(1, -0.5)), "stats": stats()})
    """)
    assert out["first"] == sum(i + 0.5 for i in range(4))
    # plain Python: norm1 replaced by p.y * 2.0, -1.0 for each i
    assert out["second"] == -4.0 and out["n"] == 1 and out["p"] == -1.0, out
    assert out["stats"]["discarded_instances"] == 0


def _marked_by_pattern(data):
    """The marker check as it was screened with ``re`` until the scan replaced it (the
    reference the hand-written scan is held to)."""
    import re
    from _pkgimage_boot import _compiles
    tail = re.compile(rb"[ \t\f]*(?:[#;\r\n]|\Z)")
    for hit in re.finditer(rb"^__pkgimage__\s*(:\s*\w+\s*)?=\s*True", data, re.M):
        if not tail.match(data, hit.end()):
            continue
        end = data.find(b"\n", hit.end())
        end = len(data) if end < 0 else end + 1
        before = data[:hit.start()]
        if before.endswith((b"\\\n", b"\\\r\n", b"\\\r")) and not _compiles(before):
            continue
        if _compiles(data[:end]):
            return True
    return False


def test_the_marker_scan_agrees_with_the_pattern_it_replaced_on_random_sources():
    import random
    boot = importlib.import_module("_pkgimage_boot")
    from pkgimage.image.hook import marked
    pieces = [b"__pkgimage__", b" ", b"\t", b"\n", b"\r\n", b"\x0c", b":", b"bool", b"=",
              b"==", b"True", b"False", b"#", b";", b"x", b"(", b")", b'"""', b"'", b"\\",
              b"if X:", b"import os", b"1", b".real"]
    rng = random.Random(1717)
    for _ in range(3000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        want = _marked_by_pattern(data)
        assert marked(data) is want, data
        assert boot.marked(data) is want, data

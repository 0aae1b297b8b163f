"""Frontend fuzz (issue 8, "Bad source input"): whatever Python a method body holds, the
compiler answers with ``pk.CompileError`` naming ``file:line:col`` (or compiles it), never
another exception type and never a crash.  In-process (a crash would take pytest down).

Host bodies are valid methods written by ``fuzzgen`` (single-module programs: structs,
abstract types, loops, calls, recursion), so constructs are tried in many surroundings: at
any statement position, in nested blocks, in unreachable code.  Three kinds of cases:

* **catalog**: an unsupported construct (lambda, with, try, try-star, yield, comprehensions,
  global, f-strings, starred, walrus, slicing, dict/set/list/tuple literals, attribute calls
  on non-structs, nested def/async def/class, imports, del, assert, raise, match, for-else,
  bit operators, ``is``/``in``, attribute assignment, bad calls of builtins and of pkgimage's
  API, types used as values, ...) inserted before a random statement of a random method; the
  first call of the method (or ``pk.precompile``, alternately) must raise CompileError whose
  file, line and column are those of the inserted construct.  Constructs that are wrong only
  for the types at hand (a missing field) must be a CompileError at that line or compile
  (unreachable code is not inferred, as in Julia); calls no method matches may also compile
  to a run-time MethodError (Julia's rule) -- never anything else.
* **mutation**: a random AST mutation of a valid body (operators, constants, names, calls,
  attributes, statements replaced, deleted, duplicated or swapped, expressions replaced by
  random ones); ``pk.precompile`` of the mutated method must succeed or raise a CompileError
  located inside the method.  Mutants are not run (a mutated loop may never end).
* **random**: bodies made of random statements and expressions from the whole Python grammar,
  same rule.

Default: 300 catalog cases, 300 mutations and 150 random bodies with fixed seeds;
``PKGIMAGE_FUZZ=long`` (``make fuzz``): 3000, 3000 and 1500 with a seed printed on failure.
"""

from __future__ import annotations

import ast
import itertools
import os
import random
import sys
import types
import warnings

import pytest

import fuzzgen
import pkgimage as pk
from pkgimage import Float64, Int64

LONG = os.environ.get("PKGIMAGE_FUZZ") == "long"
SCALE = 10 if LONG else 1
SEED = int(os.environ.get("PKGIMAGE_FUZZ_SEED", random.randrange(2 ** 32) if LONG else 8))
DIR = "/virtual/fuzz_frontend"


# -- hosts: valid single-module programs -----------------------------------------------------

_hosts: dict = {}


def host(i):
    """A valid single-module program (no operator methods: they would stay in pkgimage.base's
    global tables after the test) with at least one method body."""
    if i not in _hosts:
        rng = random.Random(SEED * 7919 + i)
        params = {"seed": rng.randrange(2 ** 63), "nmod": 1, "nstruct": rng.randint(1, 4),
                  "nabs": rng.randint(0, 2), "nfn": rng.randint(2, 5), "ops": 0}
        # (single modules checked in this process: no helper module, no build-time
        # workloads or __init__ globals, which the program fuzzer covers)
        off = ("helper_module", "late_globals", "mutating_workloads", "inprocess_sandbox")
        saved = {k: fuzzgen.FEATURES.get(k) for k in off}
        fuzzgen.FEATURES.update({k: False for k in off if k in fuzzgen.FEATURES})
        try:
            _hosts[i] = fuzzgen.generate(10 ** 6 + i, params)
        finally:
            fuzzgen.FEATURES.update({k: v for k, v in saved.items() if v is not None})
    return _hosts[i]


_COUNT = itertools.count(1)


class Loaded:
    """Throwaway modules: each case gets a fresh module (and fresh types and functions: a
    module name is never reused, since generic functions are keyed by module and name)."""

    def __init__(self):
        self.names = []

    def load(self, text):
        name = f"_pk_fzfe_{next(_COUNT)}"
        filename = f"{DIR}/{name}.py"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # SyntaxWarnings of random code
            code = compile(text, filename, "exec", dont_inherit=True)   # SyntaxError: skip
        mod = types.ModuleType(name)
        mod.__file__ = filename
        sys.modules[name] = mod
        self.names.append(name)
        pk.register_source(filename, text)
        exec(code, mod.__dict__)
        return mod

    def close(self):
        for n in self.names:
            sys.modules.pop(n, None)


@pytest.fixture
def loaded():
    ld = Loaded()
    yield ld
    ld.close()


def concrete_call(P, m, mod, rng):
    """Concrete argument types (pkgimage types) and values for which ``m`` is the method a
    call runs, or None."""
    for _ in range(20):
        ctypes = []
        for T in m.sig:
            cs = sorted(P.conc(T))
            if not cs:
                break
            ctypes.append(rng.choice(cs))
        else:
            if any(not (c in (fuzzgen.INT, fuzzgen.FLT) or str(c).isidentifier())
                   for c in ctypes):
                continue      # tuples, matrices, parametric structs: the program fuzzer's
            if P.resolve(m.fn, tuple(ctypes)) is m:
                tys = tuple(Int64 if c == fuzzgen.INT else Float64 if c == fuzzgen.FLT
                            else getattr(mod, c) for c in ctypes)
                vals = [_value(fuzzgen.value_spec(P, c, rng), mod) for c in ctypes]
                return tys, vals
    return None


def _value(spec, mod):
    if spec[0] == "i":
        return spec[1]
    if spec[0] == "f":
        return float.fromhex(spec[1])
    return getattr(mod, spec[2])(*[_value(s, mod) for s in spec[3]])


def def_line(text, marker):
    lines = text.splitlines()
    for i, ln in enumerate(lines, 1):
        if marker in ln:
            return i
    raise AssertionError(marker)


def located(e, filename, first, last):
    """A CompileError whose location is ``filename``:line:col with line in [first, last]."""
    if not isinstance(e, pk.CompileError):
        return False
    prefix = f"{e.filename}:{e.line}:{e.col}: "
    return (e.filename == filename and isinstance(e.line, int) and first <= e.line <= last
            and isinstance(e.col, int) and e.col >= 1 and str(e).startswith(prefix)
            and "internal" not in str(e))


# -- the catalog -------------------------------------------------------------------------------

# (template, line offset of the construct, kind); {x} is a parameter of the method.
# kind "compile": a CompileError at that line; "static": that or success (unreachable code);
# "dispatch": that, success, or a MethodError at the call (or Python's AttributeError for a
# method called on a value whose type compiled code does not know, as Python raises it).
CATALOG = [
    ("t_ = lambda q: q", 0, "static"),
    ("t_ = lambda q, *r: q", 0, "compile"),
    ("with {x}:\n    pass", 0, "compile"),
    ("with {x} as w_, {x}:\n    t_ = 1", 0, "compile"),
    ("try:\n    t_ = 1\nexcept Exception:\n    pass", 0, "static"),
    ("try:\n    t_ = 1\nfinally:\n    pass", 0, "static"),
    ("try:\n    t_ = {x}\nexcept (ValueError, KeyError) as e_:\n    raise\nelse:\n    pass",
     0, "static"),
    ("try:\n    t_ = 1\nexcept {x}:\n    pass", 0, "static"),
    ("try:\n    t_ = 1\nexcept* ValueError:\n    pass", 0, "compile"),
    ("yield {x}", 0, "compile"),
    ("t_ = (yield)", 0, "compile"),
    ("yield from {x}", 0, "compile"),
    ("t_ = [q for q in range(3)]", 0, "static"),
    ("t_ = [q for q in {x} if q]", 0, "dispatch"),
    ("t_ = {{q for q in range(3)}}", 0, "static"),
    ("t_ = {{q: q for q in range(3)}}", 0, "static"),
    ("t_ = sum(q for q in range(3))", 0, "static"),
    ("t_ = max(q for q in range(3))", 0, "static"),
    ("global G_", 0, "static"),
    ("t_ = f'{{{x}}}'", 0, "static"),
    ("t_ = f'a{{{x}!r}}b'", 0, "static"),
    ("t_ = f'{{{x}:{{{x}}}}}'", 0, "compile"),
    ("pk.error(f'{{{x}!r}}')", 0, "compile"),
    ("pk.error(f'{{{x}:>5}}')", 0, "compile"),
    ("pk.error('a', 'b')", 0, "compile"),
    ("pk.error()", 0, "compile"),
    ("t_ = [*{x}]", 0, "compile"),
    ("t_ = abs(*{x})", 0, "compile"),
    ("a_, *b_ = {x}", 0, "compile"),
    ("print(*{x})", 0, "compile"),
    ("t_ = (w_ := {x})", 0, "compile"),
    ("if (w_ := {x}):\n    pass", 0, "compile"),
    ("t_ = {x}[1:2]", 0, "dispatch"),
    ("t_ = {x}[::2]", 0, "dispatch"),
    ("{x}[1:] = {x}", 0, "dispatch"),
    ("t_ = {{1: {x}}}", 0, "static"),
    ("t_ = {{**{x}}}", 0, "compile"),
    ("t_ = {{*{x}}}", 0, "compile"),
    ("t_ = {{{x}}}", 0, "static"),
    ("t_ = {{}}", 0, "static"),
    ("t_ = [{x}]", 0, "static"),
    ("t_ = []\nt_.append({x})", 0, "static"),
    ("t_ = {x}.append(1)", 0, "dispatch"),
    ("t_ = ({x}, {x})", 0, "static"),
    ("t_ = ()", 0, "static"),
    ("a_, b_ = 1, 2", 0, "static"),
    ("t_ = {x}.bit_length()", 0, "dispatch"),
    ("t_ = (3).bit_length()", 0, "compile"),
    ("t_ = 'abc'.upper()", 0, "static"),
    ("t_ = 'abc'.encode()", 0, "compile"),
    ("t_ = {x}.real.conjugate()", 0, "static"),
    ("def g_():\n    return 1", 0, "static"),
    ("def g_(q):\n    return q + {x}\nt_ = g_(1)", 0, "dispatch"),
    ("@staticmethod\ndef g_():\n    return 1", 1, "compile"),
    ("async def g_():\n    return 1", 0, "compile"),
    ("class C_:\n    pass", 0, "compile"),
    ("@pk.generic\ndef g_(q):\n    return q", 1, "compile"),       # (a def's line)
    ("print({x})", 0, "static"),
    ("print({x}, sep={x})", 0, "compile"),
    ("t_ = {x}(1)", 0, "static"),
    ("t_ = no_such_name_(1)", 0, "compile"),
    ("t_ = no_such_name_", 0, "compile"),
    ("t_ = abs({x}=1)", 0, "compile"),
    ("t_ = abs(**{{}})", 0, "compile"),
    ("t_ = isinstance({x}, int)", 0, "static"),
    ("t_ = isinstance({x}, {x})", 0, "compile"),
    ("t_ = pk.methods({x})", 0, "compile"),
    ("t_ = pk.typeof({x}, {x})", 0, "compile"),
    ("t_ = pk.error", 0, "compile"),
    ("t_ = pk.nosuchattribute_", 0, "compile"),
    ("t_ = pk", 0, "compile"),
    ("t_ = range(3)", 0, "static"),
    ("t_ = open('f')", 0, "static"),
    ("t_ = exec('1')", 0, "compile"),
    ("t_ = __import__('os')", 0, "compile"),
    ("t_ = super()", 0, "compile"),
    ("t_ = 'abc'", 0, "static"),
    ("t_ = b'abc'", 0, "compile"),
    ("t_ = 1j", 0, "static"),
    ("t_ = ...", 0, "compile"),
    ("t_ = 100000000000000000000000", 0, "compile"),
    ("t_ = -100000000000000000000000", 0, "compile"),
    ("import os", 0, "compile"),
    ("from os import path", 0, "compile"),
    ("del {x}", 0, "compile"),
    ("assert {x}", 0, "static"),
    ("raise ValueError", 0, "static"),
    ("raise", 0, "static"),
    ("raise {x} from {x}", 0, "static"),
    ("match {x}:\n    case 1:\n        pass", 0, "compile"),
    ("for q_ in range(2):\n    pass\nelse:\n    pass", 0, "static"),
    ("while False:\n    pass\nelse:\n    pass", 0, "static"),
    ("for a_, b_ in {x}:\n    pass", 0, "dispatch"),
    ("for a_, b_ in enumerate({x}, 1, 2):\n    pass", 0, "compile"),
    ("for q_ in range(1, 2, 3, 4):\n    pass", 0, "compile"),
    ("for q_ in range():\n    pass", 0, "compile"),
    ("for q_ in range(stop=3):\n    pass", 0, "compile"),
    ("t_ = {x} & 1", 0, "dispatch"),
    ("t_ = {x} | 1", 0, "dispatch"),
    ("t_ = {x} ^ 1", 0, "dispatch"),
    ("t_ = {x} << 1", 0, "compile"),
    ("t_ = {x} >> 1", 0, "compile"),
    ("t_ = ~{x}", 0, "compile"),
    ("t_ = {x} @ {x}", 0, "dispatch"),
    ("t_ = {x} is None", 0, "static"),
    ("t_ = {x} is not {x}", 0, "static"),
    ("t_ = {x} in {x}", 0, "dispatch"),
    ("t_ = {x} not in {x}", 0, "dispatch"),
    ("t_ = 1 < {x} in {x}", 0, "dispatch"),
    ("{x} |= 1", 0, "dispatch"),
    ("{x} <<= 2", 0, "compile"),
    ("{x} @= {x}", 0, "dispatch"),
    ("{x}.y_ = 1", 0, "dispatch"),
    ("{x}.y_ += 1", 0, "dispatch"),
    ("t_ = Int64", 0, "compile"),
    ("t_ = Real(1)", 0, "compile"),
    ("t_ = Any(1)", 0, "compile"),
    ("t_ = 1\nt_ = t_ if t_ else 'x'", 1, "static"),
    ("if {x}:\n    t_ = [1]", 1, "static"),
    ("if {x}:\n    t_ = 1j", 1, "static"),
    ("if {x}:\n    t_ = b'x'", 1, "compile"),
    ("while {x} != {x}:\n    t_ = {{*{x}}}", 1, "compile"),
    ("for q_ in range(2):\n    if q_:\n        t_ = lambda: q_", 2, "static"),   # (a cell)
    ("t_ = {x}.nofield_", 0, "static"),
    ("t_ = {x}.__class__", 0, "static"),
    ("t_ = {x}.nofield_.other_", 0, "static"),
    ("t_ = ({x} if {x} else 1.5).nofield_", 0, "static"),
    ("t_ = abs({x}, {x})", 0, "dispatch"),
    ("t_ = len({x})", 0, "dispatch"),
    ("t_ = min({x})", 0, "dispatch"),
    ("t_ = max()", 0, "dispatch"),
    ("t_ = {x}[0]", 0, "dispatch"),
    ("{x}[0] = 1", 0, "dispatch"),
    ("{x}[0] += 1", 0, "dispatch"),
    ("for q_ in {x}:\n    pass", 0, "dispatch"),
    ("for q_ in range({x}):\n    pass", 0, "dispatch"),
    ("t_ = int({x}, 2)", 0, "dispatch"),
    ("t_ = float()", 0, "dispatch"),
]


def _insert(P, m, rng, template):
    """The module text with ``template`` inserted before a random statement of ``m`` (the
    first inserted line carries a marker comment), or None when no position fits."""
    positions = [i for i, ln in enumerate(m.body)
                 if not ln.strip().startswith(("elif", "else"))]
    if not positions or not m.pnames:
        return None          # (a varargs-only method has no parameter to name)
    i = rng.choice(positions)
    indent = m.body[i][:len(m.body[i]) - len(m.body[i].lstrip())]
    snippet = template.format(x=rng.choice(m.pnames)).split("\n")
    snippet[0] += "  # FUZZMARK"
    saved = m.body
    m.body = saved[:i] + [indent + ln for ln in snippet] + saved[i:]
    try:
        text = P.source(0, tail=False)
    finally:
        m.body = saved
    return text


def _methods(P):
    # (not the shorter methods a method's defaults make: they are not written in the text)
    return [m for fn in P.fns for m in fn.methods if not m.synth]


def _def_line_of(text, m, P):
    """The line of ``m``'s ``def`` in ``text``: its rendered header is unique once its
    decorator and signature are known."""
    header = P.render(0, ("meth", m))[:2]
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        if lines[i] == header[0] and lines[i + 1] == header[1]:
            return i + 2
    raise AssertionError(header)


def run_catalog_case(ld, case, rng):
    template, offset, kind = CATALOG[case % len(CATALOG)]
    for attempt in range(10):
        P = host(rng.randrange(60 * SCALE))
        m = rng.choice(_methods(P))
        text = _insert(P, m, rng, template)
        if text is None:
            continue
        try:
            mod = ld.load(text)
        except SyntaxError:
            continue           # Python refuses this combination (say `global` after a use)
        call = concrete_call(P, m, mod, rng)
        if call is None:
            continue
        break
    else:
        return "skipped", None
    filename = mod.__file__
    mark = def_line(text, "# FUZZMARK")
    line = mark + offset
    tys, vals = call
    f = getattr(mod, m.fn.name)
    by_call = kind == "compile" and case % 2 == 0
    try:
        if by_call:
            f(*vals)
        else:
            pk.precompile(f, tys)
    except pk.CompileError as e:
        width = len(text.splitlines()[line - 1]) + 1
        if located(e, filename, line, line) and e.col <= width:
            return "ok", None
        return "bad", f"wrong location (want {filename}:{line}): {e}"
    except (pk.MethodError, AttributeError) as e:
        if kind == "dispatch":
            return "ok", None
        return "bad", f"{type(e).__name__} instead of a CompileError: {e}"
    except Exception as e:
        return "bad", f"{type(e).__name__} instead of a CompileError: {e}"
    if kind == "compile":
        return "bad", "no CompileError" + (" (called)" if by_call else " (precompile)")
    return "ok", None


@pytest.mark.parametrize("part", range(3))
def test_fuzz_frontend_catalog_constructs_are_located_compile_errors(loaded, part):
    """Catalog constructs inserted at random places of random valid methods."""
    n = 100 * SCALE
    rng = random.Random(SEED * 31 + part)
    bad, outcomes = [], {}
    for case in range(part * n, (part + 1) * n):
        status, msg = run_catalog_case(loaded, case, rng)
        outcomes[status] = outcomes.get(status, 0) + 1
        if status == "bad":
            template = CATALOG[case % len(CATALOG)][0]
            bad.append(f"[{template!r}] {msg}\n--- module ---\n"
                       f"{sys.modules[loaded.names[-1]].__file__}\n"
                       + linecache_text(loaded.names[-1]))
    assert not bad, f"seed {SEED}: {len(bad)} of {n} cases wrong; first:\n" + "\n\n".join(bad[:3])
    assert outcomes.get("ok", 0) >= n * 0.9, outcomes
    print(f"\nfuzz frontend (catalog): {outcomes}")


def linecache_text(modname):
    import linecache
    return "".join(linecache.getlines(sys.modules[modname].__file__))


# -- random Python: expressions and statements from the whole grammar ----------------------------

BUILTIN_NAMES = ["print", "len", "range", "abs", "int", "float", "bool", "str", "list", "min",
                 "max", "sum", "type", "object", "isinstance", "iter", "next", "divmod"]
PK_NAMES = ["pk", "Int64", "Float64", "Real", "Any", "pk.error", "pk.typeof", "pk.base.add",
            "pk.precompile", "pk.Vector", "pk.Rational"]
ATTRS = ["p", "q", "r", "u", "v", "z", "real", "imag", "x", "__class__", "nofield", "append"]
BINOPS = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
          ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.MatMult]
UNOPS = [ast.UAdd, ast.USub, ast.Not, ast.Invert]
CMPOPS = [ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
          ast.NotIn]


def _name_expr(dotted, ctx=None):
    parts = dotted.split(".")
    node = ast.Name(id=parts[0], ctx=ast.Load())
    for p in parts[1:]:
        node = ast.Attribute(value=node, attr=p, ctx=ast.Load())
    if ctx is not None:
        node.ctx = ctx
    return node


def _args(*names):
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in names], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])


class Gen:
    """Random AST pieces.  ``names`` are what a body may mention (its locals and parameters,
    the module's globals); ``undefined`` names are thrown in too."""

    def __init__(self, rng, names):
        self.rng = rng
        self.names = list(names) + BUILTIN_NAMES + PK_NAMES + ["zz_undefined"]
        self.fresh = itertools.count()

    def chance(self, p):
        return self.rng.random() < p

    def const(self):
        r = self.rng
        return ast.Constant(value=r.choice([
            0, 1, -1, 7, 2 ** 62, 2 ** 63, 10 ** 30, 0.5, -2.5, 1e308, True, False, None,
            "s", b"b", 1j, ..., r.randint(-100, 100), r.uniform(-10, 10)]))

    def name(self):
        return _name_expr(self.rng.choice(self.names))

    def expr(self, d=2):
        r = self.rng
        if d <= 0 or self.chance(0.3):
            return self.const() if self.chance(0.4) else self.name()
        k = r.randrange(24)
        e = lambda: self.expr(d - 1)       # noqa: E731
        if k == 0:
            return ast.BinOp(left=e(), op=r.choice(BINOPS)(), right=e())
        if k == 1:
            return ast.UnaryOp(op=r.choice(UNOPS)(), operand=e())
        if k == 2:
            n = r.randint(1, 3)
            return ast.Compare(left=e(), ops=[r.choice(CMPOPS)() for _ in range(n)],
                               comparators=[e() for _ in range(n)])
        if k == 3:
            return ast.BoolOp(op=r.choice([ast.And, ast.Or])(), values=[e(), e()])
        if k == 4:
            return ast.IfExp(test=e(), body=e(), orelse=e())
        if k in (5, 6, 7):
            args = [e() for _ in range(r.randint(0, 3))]
            if self.chance(0.1):
                args.append(ast.Starred(value=e(), ctx=ast.Load()))
            kws = [ast.keyword(arg=r.choice(["x", "y", None]) if self.chance(0.9) else "z",
                               value=e())] if self.chance(0.15) else []
            kws = [k_ for k_ in kws if k_.arg is not None] or \
                ([ast.keyword(arg=None, value=e())] if kws else [])
            return ast.Call(func=e() if self.chance(0.2) else self.name(), args=args,
                            keywords=kws)
        if k == 8:
            return ast.Attribute(value=e(), attr=r.choice(ATTRS), ctx=ast.Load())
        if k == 9:
            sl = ast.Slice(lower=e() if self.chance(0.5) else None,
                           upper=e() if self.chance(0.5) else None,
                           step=e() if self.chance(0.3) else None) if self.chance(0.3) else e()
            return ast.Subscript(value=e(), slice=sl, ctx=ast.Load())
        if k == 10:
            return ast.Lambda(args=_args("l0"), body=e())
        if k == 11:
            gen = [ast.comprehension(target=ast.Name(id="c0", ctx=ast.Store()), iter=e(),
                                     ifs=[], is_async=0)]
            kind = r.choice([ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp])
            if kind is ast.DictComp:
                return ast.DictComp(key=e(), value=e(), generators=gen)
            return kind(elt=e(), generators=gen)
        if k == 12:
            return ast.List(elts=[e() for _ in range(r.randint(0, 2))], ctx=ast.Load())
        if k == 13:
            return ast.Tuple(elts=[e() for _ in range(r.randint(0, 2))], ctx=ast.Load())
        if k == 14:
            return ast.Set(elts=[e() for _ in range(r.randint(1, 2))])
        if k == 15:
            return ast.Dict(keys=[e()], values=[e()])
        if k == 16:
            return ast.JoinedStr(values=[ast.Constant(value="a"), ast.FormattedValue(
                value=e(), conversion=r.choice([-1, 115, 114, 97]),
                format_spec=ast.JoinedStr(values=[ast.Constant(value=">4")])
                if self.chance(0.3) else None)])
        if k == 17:
            return ast.NamedExpr(target=ast.Name(id=f"nw{next(self.fresh)}", ctx=ast.Store()),
                                 value=e())
        if k == 18:
            return ast.Yield(value=e() if self.chance(0.7) else None)
        if k == 19:
            return ast.YieldFrom(value=e())
        if k == 20:
            return ast.Call(func=_name_expr("pk.error"), args=[self.fstring_or_const(d)],
                            keywords=[])
        return self.const() if self.chance(0.5) else self.name()

    def fstring_or_const(self, d):
        if self.chance(0.5):
            return ast.Constant(value="msg")
        return ast.JoinedStr(values=[ast.Constant(value="v="), ast.FormattedValue(
            value=self.expr(d - 1), conversion=-1, format_spec=None)])

    def target(self):
        r = self.rng.randrange(10)
        if r < 6:
            return ast.Name(id=self.rng.choice([f"s{next(self.fresh)}"] + self.names[:6]),
                            ctx=ast.Store())
        if r == 6:
            return ast.Attribute(value=self.name(), attr=self.rng.choice(ATTRS),
                                 ctx=ast.Store())
        if r == 7:
            return ast.Subscript(value=self.name(), slice=self.expr(1), ctx=ast.Store())
        return ast.Tuple(elts=[ast.Name(id=f"s{next(self.fresh)}", ctx=ast.Store()),
                               ast.Starred(value=ast.Name(id="st", ctx=ast.Store()),
                                           ctx=ast.Store())], ctx=ast.Store())

    def body(self, d):
        return [self.stmt(d - 1) for _ in range(self.rng.randint(1, 2))]

    def stmt(self, d=2):
        r = self.rng
        k = r.randrange(26) if d > 0 else r.randrange(8)
        e = lambda: self.expr(2)            # noqa: E731
        if k in (0, 1, 2):
            return ast.Assign(targets=[self.target()], value=e(), lineno=0)
        if k == 3:
            return ast.AugAssign(target=self.target(), op=r.choice(BINOPS)(), value=e())
        if k == 4:
            return ast.AnnAssign(target=ast.Name(id=f"s{next(self.fresh)}", ctx=ast.Store()),
                                 annotation=self.name(), value=e() if self.chance(0.8) else None,
                                 simple=1)
        if k == 5:
            return ast.Expr(value=e())
        if k == 6:
            return ast.Return(value=e() if self.chance(0.8) else None)
        if k == 7:
            return ast.Pass()
        if k == 8:
            return ast.If(test=e(), body=self.body(d),
                          orelse=self.body(d) if self.chance(0.4) else [])
        if k == 9:
            return ast.While(test=e(), body=self.body(d) + [ast.Break()],
                             orelse=self.body(d) if self.chance(0.1) else [])
        if k == 10:
            it = ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                          args=[e() for _ in range(r.randint(0, 4))], keywords=[]) \
                if self.chance(0.6) else e()
            return ast.For(target=self.target() if self.chance(0.2) else
                           ast.Name(id=f"s{next(self.fresh)}", ctx=ast.Store()),
                           iter=it, body=self.body(d) + [r.choice([ast.Break(), ast.Continue(),
                                                                    ast.Pass()])],
                           orelse=self.body(d) if self.chance(0.1) else [], type_comment=None)
        if k == 11:
            return ast.Try(body=self.body(d), handlers=[ast.ExceptHandler(
                type=ast.Name(id="Exception", ctx=ast.Load()), name=None, body=self.body(d))],
                orelse=[], finalbody=self.body(d) if self.chance(0.3) else [])
        if k == 12:
            return ast.With(items=[ast.withitem(context_expr=e(), optional_vars=None)],
                            body=self.body(d), type_comment=None)
        if k == 13:
            return ast.Raise(exc=e() if self.chance(0.7) else None, cause=None)
        if k == 14:
            return ast.Assert(test=e(), msg=None)
        if k == 15:
            return ast.Delete(targets=[ast.Name(id=r.choice(self.names[:6] or ["zz"]),
                                                ctx=ast.Del())])
        if k == 16:
            return ast.Global(names=[f"g{next(self.fresh)}"])
        if k == 17:
            return ast.Import(names=[ast.alias(name="math", asname=None)])
        if k == 18:
            return ast.FunctionDef(name=f"nf{next(self.fresh)}", args=_args("a0"),
                                   body=self.body(d), decorator_list=[], returns=None,
                                   type_comment=None)
        if k == 19:
            return ast.AsyncFunctionDef(name=f"na{next(self.fresh)}", args=_args(),
                                        body=self.body(d), decorator_list=[], returns=None,
                                        type_comment=None)
        if k == 20:
            return ast.ClassDef(name=f"NC{next(self.fresh)}", bases=[], keywords=[],
                                body=[ast.Pass()], decorator_list=[])
        if k == 21:
            return ast.Match(subject=e(), cases=[ast.match_case(
                pattern=ast.MatchValue(value=ast.Constant(value=1)), guard=None,
                body=self.body(d))])
        if k == 22:
            return ast.Nonlocal(names=["zz"])
        if k == 23:
            return ast.ImportFrom(module="os", names=[ast.alias(name="path", asname=None)],
                                  level=0)
        return ast.Expr(value=ast.Call(func=self.name(), args=[e()], keywords=[]))


def _parents(root):
    out = {}
    for node in ast.walk(root):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = (node, child)
    return out


def _replace(parent, old, new):
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return True
        if isinstance(value, list):
            for i, v in enumerate(value):
                if v is old:
                    value[i] = new
                    return True
    return False


def _stmt_lists(fdef):
    out = []
    for node in ast.walk(fdef):
        for field in ("body", "orelse", "finalbody"):
            lst = getattr(node, field, None)
            if isinstance(lst, list) and lst and isinstance(lst[0], ast.stmt):
                out.append(lst)
    return out


def mutate(fdef, g):
    """One random mutation of the body of ``fdef`` (in place)."""
    r = g.rng
    body_nodes = [n for s in fdef.body for n in ast.walk(s)]
    exprs = [n for n in body_nodes if isinstance(n, ast.expr)
             and not isinstance(getattr(n, "ctx", None), (ast.Store, ast.Del))]
    parents = _parents(fdef)
    kind = r.randrange(12)
    if kind <= 2 and exprs:                         # an expression replaced
        old = r.choice(exprs)
        parent = parents[id(old)][0]
        new = g.expr(2) if kind == 0 else \
            ast.UnaryOp(op=r.choice(UNOPS)(), operand=old) if kind == 1 else \
            ast.BinOp(left=old, op=r.choice(BINOPS)(), right=g.expr(1))
        _replace(parent, old, new)
    elif kind == 3:                                  # operators
        ops = [n for n in body_nodes if isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Compare,
                                                       ast.BoolOp, ast.AugAssign))]
        if ops:
            n = r.choice(ops)
            if isinstance(n, (ast.BinOp, ast.AugAssign)):
                n.op = r.choice(BINOPS)()
            elif isinstance(n, ast.UnaryOp):
                n.op = r.choice(UNOPS)()
            elif isinstance(n, ast.Compare):
                n.ops[r.randrange(len(n.ops))] = r.choice(CMPOPS)()
            else:
                n.op = ast.And() if isinstance(n.op, ast.Or) else ast.Or()
    elif kind == 4:                                  # constants
        cs = [n for n in body_nodes if isinstance(n, ast.Constant)]
        if cs:
            r.choice(cs).value = g.const().value
    elif kind == 5:                                  # names
        ns = [n for n in body_nodes if isinstance(n, ast.Name)]
        if ns:
            r.choice(ns).id = r.choice(g.names).split(".")[0]
    elif kind == 6:                                  # calls
        calls = [n for n in body_nodes if isinstance(n, ast.Call)]
        if calls:
            c = r.choice(calls)
            how = r.randrange(4)
            if how == 0 and c.args:
                c.args.pop(r.randrange(len(c.args)))
            elif how == 1:
                c.args.insert(r.randint(0, len(c.args)), g.expr(1))
            elif how == 2:
                c.keywords.append(ast.keyword(arg="kw", value=g.expr(1)))
            else:
                c.func = g.name()
    elif kind == 7:                                  # attributes
        ats = [n for n in body_nodes if isinstance(n, ast.Attribute)]
        if ats:
            r.choice(ats).attr = r.choice(ATTRS)
    else:                                            # statements
        lists = _stmt_lists(fdef)
        lst = r.choice(lists)
        i = r.randrange(len(lst))
        how = kind - 8
        if how == 0:
            lst[i] = g.stmt(2)
        elif how == 1:
            if len(lst) > 1:
                lst.pop(i)
            else:
                lst[i] = ast.Pass()
        elif how == 2:
            lst.insert(i, g.stmt(2) if r.random() < 0.6 else lst[r.randrange(len(lst))])
        else:
            j = r.randrange(len(lst))
            lst[i], lst[j] = lst[j], lst[i]


class Timeout(Exception):
    pass


def _with_timeout(seconds, fn, *args):
    import signal

    def on_alarm(signum, frame):
        raise Timeout(f"no answer after {seconds} s")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _local_names(fdef):
    names = {a.arg for a in fdef.args.args}
    for n in ast.walk(fdef):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    return sorted(names)


def run_mutant_case(ld, rng, whole_body):
    """Mutate (or, with ``whole_body``, replace) one method's body; precompile it."""
    for _ in range(20):
        P = host(rng.randrange(60 * SCALE))
        m = rng.choice(_methods(P))
        text = P.source(0, tail=False)
        line = _def_line_of(text, m, P)
        tree = ast.parse(text)
        fdef = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                    and n.lineno == line)
        globs = [t.name for t in P.types.values()] + [f.name for f in P.fns] + \
                [c[0] for c in P.consts]
        g = Gen(rng, _local_names(fdef) + globs)
        if whole_body:
            fdef.body = [g.stmt(2) for _ in range(rng.randint(1, 6))]
        else:
            for _ in range(rng.choice([1, 1, 2, 3])):
                mutate(fdef, g)
        try:
            new = ast.unparse(ast.fix_missing_locations(tree))
            mod = ld.load(new)
        except (SyntaxError, ValueError, TypeError, RecursionError):
            continue           # not Python (unparse/compile refuse it): not a case
        call = concrete_call(P, m, mod, rng)
        if call is None:
            continue
        break
    else:
        return "skipped", None, None
    spans = [(n.lineno, n.end_lineno) for n in ast.walk(ast.parse(new))
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    f = getattr(mod, m.fn.name)
    try:
        ok = _with_timeout(60, pk.precompile, f, call[0])
    except pk.CompileError as e:
        if any(located(e, mod.__file__, a, b) for a, b in spans):
            return "compile_error", None, None
        return "bad", f"CompileError not located in a method of the module: {e}", new
    except Exception as e:
        return "bad", f"{type(e).__name__}: {e}", new
    return ("compiled" if ok else "no_method"), None, None


def _run_mutants(loaded, n, seed, whole_body):
    rng = random.Random(seed)
    bad, outcomes = [], {}
    for _ in range(n):
        status, msg, text = run_mutant_case(loaded, rng, whole_body)
        outcomes[status] = outcomes.get(status, 0) + 1
        if status == "bad":
            bad.append(f"{msg}\n--- module ---\n{text}")
    assert not bad, (f"seed {SEED}: {len(bad)} of {n} cases wrong ({outcomes}); first:\n"
                     + "\n\n".join(bad[:2]))
    assert outcomes.get("skipped", 0) < n * 0.1, outcomes
    print(f"\nfuzz frontend ({'random bodies' if whole_body else 'mutations'}): {outcomes}")
    return outcomes


@pytest.mark.parametrize("part", range(3))
def test_fuzz_frontend_mutated_bodies_compile_or_raise_located_compile_errors(loaded, part):
    """Random AST mutations of valid method bodies."""
    out = _run_mutants(loaded, 100 * SCALE, SEED * 131 + part, whole_body=False)
    assert out.get("compiled", 0) and out.get("compile_error", 0), out


@pytest.mark.parametrize("part", range(3))
def test_fuzz_frontend_random_bodies_compile_or_raise_located_compile_errors(loaded, part):
    """Method bodies made of random statements of the whole Python grammar."""
    out = _run_mutants(loaded, 50 * SCALE, SEED * 977 + part, whole_body=True)
    assert out.get("compile_error", 0), out


# -- fixed cases the host bodies cannot hold ----------------------------------------------------

SPECIAL = [
    ("""
import pkgimage as pk
from pkgimage import Int64
def make():
    cnt = 0
    @pk.generic
    def fsp(x: Int64):
        nonlocal cnt  # FUZZMARK
        return x
    return fsp
fsp = make()
""", 0),
    ("""
import pkgimage as pk
from pkgimage import Int64
@pk.generic
async def fsp(x: Int64):  # FUZZMARK
    return x
""", 0),
    ("""
import pkgimage as pk
from pkgimage import Int64
@pk.generic
def fsp(x: Int64):
    return x if x else (yield x)  # FUZZMARK
""", 0),
    ("""
import pkgimage as pk
from pkgimage import Int64
@pk.struct
class Pt:
    p: Int64
K = Pt(1)
@pk.generic
def fsp(x: Int64):
    return K.p + K.real  # FUZZMARK
""", 0),
    ("""
import pkgimage as pk
from pkgimage import Int64
@pk.generic
def fsp(x: Int64):
    y = x if x > 0 else 1.5
    return y.p  # FUZZMARK
""", 0),
]


@pytest.mark.parametrize("i", range(len(SPECIAL)))
@pytest.mark.parametrize("how", ["call", "precompile"])
def test_fuzz_frontend_special_constructs(loaded, i, how):
    """``nonlocal`` in a method whose enclosing function is not compiled, ``async def``
    methods, generators, a missing field of a global struct constant or of a union (a
    closure over a comprehension's variable was one too: it now lives in a cell,
    tests/test_language_closures.py): located CompileErrors at the first call or at
    pk.precompile (an ``async def`` method used to run its body; the constant raised
    AttributeError at compile time, the union at run time)."""
    text, offset = SPECIAL[i]
    mod = loaded.load(text)
    line = def_line(text, "# FUZZMARK") + offset
    with pytest.raises(pk.CompileError) as info:
        mod.fsp(1) if how == "call" else pk.precompile(mod.fsp, (Int64,))
    assert located(info.value, mod.__file__, line, line), str(info.value)

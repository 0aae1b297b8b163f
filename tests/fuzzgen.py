"""Random multi-module pkgimage programs for the differential fuzz test (issue 8).

A program is 2-4 modules (``<pid>_0`` .. ``<pid>_3``, each importing some earlier ones) holding
abstract types, structs, generic functions over ``Int64``/``Float64``/``Real``/``Any``/user
types, methods that extend other modules' functions and pkgimage.base's operators (``add``,
``sub``, ``mul``, ``neg`` on structs), module constants, ``pk.precompile`` calls and
build-time calls, in a random definition order.  With it come two *step lists* (random import
orders with calls interleaved: some before every module is loaded, most after) whose results
are compared across the reference (``fuzzref``), a JIT process and an image process.

The generator is type-directed so that every body is valid Python *and* in the compiled
subset, and so that the reference and pkgimage must agree bit for bit:

* every expression has a static set of concrete types (``{Int64}``, ``{Int64, Float64}`` for a
  ``Real``, struct names); calls are generated only where every combination of argument types
  has a unique most specific method once all modules are loaded (before that, ``MethodError``
  and ``AmbiguityError`` are legitimate outcomes, identical on both sides);
* every function returns one concrete type whichever of its methods runs, so call results
  have a known type even under run-time dispatch (an operator's methods all return one
  struct);
* integers never leave Int64 (Python's do not wrap): every integer expression carries a
  bound on its magnitude; a combination that could pass 2**40 has its operands reduced with
  ``% m`` first, and parameters, fields, returns and reassigned variables keep declared bounds;
  floats are bounded the same way (so ``int(x)`` is exact and no inf/NaN appears);
* Julia's choices that differ from Python on purpose are avoided: ``/`` by non-zero
  literals or by integer expressions (a zero one raises ZeroDivisionError on both sides), no
  negative integer exponents and no float ``**``,
  ``min``/``max`` only on operands of one type (Julia promotes);
* functions are ranked; a body calls only lower-ranked functions, except a guarded self
  recursion on ``n // 2``; a cost model keeps every call's work small.

Newer parts of the language, each behind a flag of ``FEATURES`` (all on):

* ``tuples``: tuple literals, packing/unpacking (swaps, nested targets), functions returning
  several values, constant and (homogeneous) variable indices, ``len``, ``for x in t``, ``==`` /
  ``<`` on tuples, ``pk.Tuple[...]`` parameters dispatched on their element types (``Real``
  elements next to concrete ones), tuples passed from and returned to Python;
* ``parametric``: a parametric struct ``P<i>(pk.Generic[T])`` (fields ``x: T, y: T`` and maybe a
  fixed one), sometimes under a parametric abstract type ``A<j>(pk.Generic[T])``; its
  specialisations ``P<i>[Int64]``/``P<i>[Float64]`` are ordinary concrete struct types of the
  model (fields, constants, driver values, ``P<i>[Int64](..)`` converting constructors and
  ``P<i>(..)`` inferring ones), and methods are declared on ``P<i>[T]``, ``A<j>[T]`` and the
  specialisations; the static parameter is used in bodies (``T(..)``, ``P<i>[T](..)``);
* ``diagonal``: methods ``(x: T, y: T)`` (Julia's diagonal rule) next to ``(Real, Real)`` and
  concrete pairs;
* ``varargs``: functions with ``(*xs: Int64)`` / ``(*xs: Real)`` methods next to fixed ones,
  called with 0-3 arguments; bodies loop over ``xs`` and take ``len(xs)``;
* ``matrices``: ``pk.Matrix[Float64]``/``pk.Matrix[Int64]`` parameters, ``n, m = A.shape``,
  nested loops reading and writing ``A[i, j]``, ``np.zeros((n, m))``, ``np.zeros_like(A)``,
  slices ``A[1:, :]`` (views); the driver reports the arrays' contents after each call.

Post-close workloads that change state (issue 16), behind ``mutating_workloads``,
``late_globals``, ``helper_module`` and ``inprocess_sandbox``: some pkgimage modules get a
``@pk.precompilation`` workload ``_mutate`` (``mutating_workload``) that rebinds globals (the
module's, other modules' through ``m<j>.K``, a plain helper module's ``hlp.H<i>``, globals its
``__init__()`` creates; to other values, other types, odd ones), rebinds names of generic
functions (to lower-ranked functions, so no call can loop), redefines methods and operator
methods with their own signatures (``@f.method``, ``global f`` + ``@pk.generic``,
``@pk.base.add.method``), adds methods with new signatures and a function of its own, and calls
code before and after.  The reference never runs it: the images must answer as if it had not
run.  ``P.defines`` are the modules whose workload defines methods; ``P.sandbox`` says whether
the image test builds the program with ``PKGIMAGE_SANDBOX=inprocess`` (which refuses those).

Methods involving a type variable or a Vararg are only added where every overlap with the
function's other methods is nested (one signature a subtype of the other): where they cross,
Julia's specificity has heuristics beyond subtyping that the reference does not model.

``generate(index, params)`` is deterministic in ``params`` (drawn by hypothesis).
"""

from __future__ import annotations

import itertools
import random

INT, FLT, REAL, ANY = "Int64", "Float64", "Real", "Any"
NUM = frozenset([INT, FLT])
LIMIT = 2 ** 40               # bound on every intermediate integer / float magnitude
IFACE = 2 ** 30               # bound on parameters, fields, returns, constants
BUDGET = 4000                 # work units per method (statements times loop counts)
OPS = {"add": "+", "sub": "-", "mul": "*", "neg": "-"}
FEATURES = {"tuples": True, "parametric": True, "diagonal": True, "varargs": True,
            "matrices": True,
            # a parametric struct whose parametric abstract parent is defined in another module
            # (its image could not be restored until the pickler kept TypeVars as objects in
            # other modules' parametric types)
            "cross_module_parametric_parent": True,
            # post-close workloads (issue 16) that rebind the program's globals (its own, other
            # modules', a plain helper module's), rebind names of generic functions, redefine
            # methods and operator methods with their signatures, add methods and functions,
            # and then call code: the image must answer as the source without them
            "mutating_workloads": True,
            # globals created by ``__init__()`` (absent at the close) and read by compiled code
            "late_globals": True,
            # a plain (non-pkgimage) helper module of constants that bodies read as
            # ``hlp.H0`` and workloads set
            "helper_module": True,
            # a fraction of the programs' images built with PKGIMAGE_SANDBOX=inprocess
            # (workloads that define methods are refused there with "cannot undo")
            "inprocess_sandbox": True,
            # after the calls, a driver step rebinds constants the bodies read (``m0.K1 =
            # ...`` from Python, issue 14's binding invalidation) and every call runs again
            "runtime_rebind": True,
            # ``/`` by an integer expression that may be zero (``1.0 / 0`` raises
            # ZeroDivisionError in compiled code as in Python, issue 13)
            "float_zero_division": True,
            # list, dict and set comprehensions with sum/len/max (sets with | - ^ &),
            # str()/f-strings measured by len
            # (issue 13's containers and strings, compared with plain Python's answers);
            # lists grown with ``+=``/``*=`` through a second name bound to them (in place)
            "containers": True,
            # issue 14: try/except/else/finally around integer divisions that may be by
            # zero (ZeroDivisionError caught, finally run on every way out), lambdas called
            # in place, map() with a lambda reading locals, closures made once and called,
            # a @pk.mutable struct per module made and updated in place; accumulators that
            # start as int 0 and turn float in a loop, and None-until-set variables (small
            # unions of bits types, held unboxed in compiled code)
            "functional": True,
            # (with ``functional``) a function with one method may get default parameter
            # values (``def f3(a: Int64, b: Int64 = 3, c: Float64 = 0.5)``: Julia's shorter
            # methods ``f3(a)``, ``f3(a, b)``, which the model's dispatch sees as methods),
            # called with fewer arguments and with keywords (``f3(x, c=y)``, ``f3(b=y,
            # a=x)``); and calls that splat a tuple (``f(x, *t)``, ``f(*(a, b))``)
            "defaults": True}
TV = "T"                      # the module-level TypeVar (bound Real) of every module
MATS = ["Mat[Float64]", "Mat[Int64]"]
TUPS = ["(Int64,Int64)", "(Int64,Float64)", "(Float64,Int64)", "(Float64,Float64)",
        "(Int64,Float64,Int64)"]
DECL_TUPS = ["(Int64,Float64)", "(Int64,Int64)", "(Real,Real)", "(Float64,Real)",
             "(Real,Int64)"]


def is_tup(n):
    return isinstance(n, str) and n.startswith("(")


def tup_elems(n):
    return n[1:-1].split(",")


def mk_tup(elems):
    return "(" + ",".join(elems) + ")"


def is_mat(n):
    return isinstance(n, str) and n.startswith("Mat[")


def mat_elem(n):
    return n[4:-1]


def is_fam(n):
    """A family (UnionAll) type ``P3[T]``."""
    return isinstance(n, str) and n.endswith("[T]")


def fam_base(n):
    return n.split("[")[0]


class Fail(Exception):
    """This choice cannot be made here; the caller tries another one."""


class Ty:
    def __init__(self, name, kind, module, parent, fields=()):
        self.name, self.kind, self.module, self.parent = name, kind, module, parent
        self.fields = list(fields)     # [(field name, declared type name)]
        self.family = None             # "P3" for P3[Int64] (and for the base P3 itself)
        self.param = None              # Int64 / Float64 for a specialisation
        self.pparent = None            # a family's parametric parent family


class Fn:
    def __init__(self, name, owner, arity, ret, op=None):
        self.name, self.owner, self.arity, self.ret, self.op = name, owner, arity, ret, op
        self.va = False                # a function with Vararg methods
        self.dflt = None               # (its one method with defaults, index of the first)
        self.methods = []
        self.rank = 0
        self.cost = 1
        self.late = False              # some method reads (perhaps through a callee) a global
                                       # that only ``__init__()`` creates


class Meth:
    def __init__(self, fn, module, sig, pnames):
        self.fn, self.module, self.sig, self.pnames = fn, module, tuple(sig), list(pnames)
        self.style = "generic"
        self.body = ["return 0"]
        self.recursive = False
        self.cost = 1
        self.va = None                 # the element type of a ``*xs`` parameter
        self.defaults = ()             # source of the trailing parameters' default values
        self.synth = False             # a shorter method that defaults make (not written)
        self.dtypes = ()               # the types of the default values

    def at(self, n):
        """The declared types for a call with ``n`` arguments, or None."""
        if self.va is None:
            return self.sig if n == len(self.sig) else None
        if n < len(self.sig):
            return None
        return self.sig + (self.va,) * (n - len(self.sig))

    def special(self):
        return self.va is not None or any(
            T == TV or is_fam(T) or (isinstance(T, str) and "[" in T and not is_mat(T))
            for T in self.sig)


class Var:
    def __init__(self, name, tset, bound=None, assignable=True):
        self.name, self.tset, self.bound, self.assignable = name, frozenset(tset), bound, assignable


class Ex:
    def __init__(self, code, tset, bound=0):
        self.code, self.tset, self.bound = code, frozenset(tset), bound


# -- literals ------------------------------------------------------------------------------

INT_LITS = [0, 1, -1, 2, 3, 5, 7, 10, -3, 100, -100, 12345, 2 ** 20, -(2 ** 20), 999983]
FLT_LITS = [0.0, -0.0, 0.5, 1.5, -2.25, 3.0, 0.1, 1000.0, -7.75, 0.001, 250000.0, 1e-7, 6.5]
MODULI = [7, 97, 1000, 65521, 1000003, 2 ** 20 + 7, -97, -1000]
FMODULI = [7.5, 1000.0, 4096.25, 1e6 + 0.5, -97.0]


def int_src(v):
    return f"({v})" if v < 0 else str(v)


def flt_src(v):
    s = repr(float(v))
    return f"({s})" if s.startswith("-") else s


class Program:
    def __init__(self, pid, nmod):
        self.pid = pid
        self.nmod = nmod
        self.deps = [set() for _ in range(nmod)]
        self.vis = [set() for _ in range(nmod)]
        self.types = {}                 # name -> Ty, in creation order
        self.fns = []
        self.ops = {}                   # op name -> Fn
        self.consts = []                # (name, module, concrete type, source spec, bound)
        self.style = {}                 # (k, j) -> "alias" | "from"
        self.plain = set()              # modules that are not pkgimage modules
        self.order = [[] for _ in range(nmod)]     # per module: items in definition order
        self.tail = [[] for _ in range(nmod)]      # per module: lines after the definitions
        self.calls = []                 # driver calls: (fnref, argspecs, required modules)
        self.steps = {}                 # "a" / "b" -> list of steps
        self.uses_np = False
        self.uses_tv = False
        self.late = {}                  # module -> [(name, module, type, spec, bound)]: globals
                                        # its ``__init__()`` creates
        self.hconsts = []               # the helper module's constants (same shape)
        self.hmods = set()              # modules that ``import <pid>_h as hlp``
        self.mutators = {}              # module -> lines of its mutating workload
        self.defines = set()            # modules whose workloads define or replace methods
        self.sandbox = "fork"           # how the image test builds this program's images

    # -- names and visibility -------------------------------------------------------------
    def modname(self, k):
        return f"{self.pid}_{k}"

    def ref(self, k, j, name):
        if j == k:
            return name
        return f"m{j}.{name}" if self.style[(k, j)] == "alias" else name

    def tref(self, k, tname):
        if tname in (INT, FLT, REAL, ANY, TV):
            return tname
        if is_tup(tname):
            return f"pk.Tuple[{', '.join(self.tref(k, e) for e in tup_elems(tname))}]"
        if is_mat(tname):
            return f"pk.Matrix[{mat_elem(tname)}]"
        if "[" in tname:
            b, prm = tname[:-1].split("[")
            return f"{self.ref(k, self.types[b].module, b)}[{prm}]"
        return self.ref(k, self.types[tname].module, tname)

    def fnref(self, k, fn):
        if fn.op:
            return f"pk.base.{fn.op}"
        return self.ref(k, fn.owner, fn.name)

    def structs(self):
        return [t for t in self.types.values() if t.kind == "struct"]

    def visible_structs(self, k):
        return [t.name for t in self.structs() if t.module in self.vis[k]]

    def visible_abstracts(self, k):
        return [t.name for t in self.types.values()
                if t.kind == "abstract" and t.module in self.vis[k]]

    def ancestors(self, tname):
        out = []
        t = self.types[tname]
        while t.parent is not None:
            out.append(t.parent)
            t = self.types[t.parent]
        return out

    # -- the type lattice of the model -------------------------------------------------------
    def conc(self, T):
        if T == INT or T == FLT:
            return frozenset([T])
        if T == REAL or T == TV:
            return NUM
        if is_mat(T):
            return frozenset([T])
        if is_tup(T):
            return frozenset(mk_tup(c) for c in
                             itertools.product(*[sorted(self.conc(e)) for e in tup_elems(T)]))
        if is_fam(T):
            return frozenset(s.name for s in self.structs() if self.dsub(s.name, T))
        if T == ANY:
            return NUM | frozenset(s.name for s in self.structs())
        t = self.types[T]
        if t.kind == "struct":
            return frozenset([T])
        return frozenset(s.name for s in self.structs() if T in self.ancestors(s.name))

    def dsub(self, a, b):
        """Declared type ``a`` is a subtype of declared type ``b`` (the type variable alone,
        outside the diagonal check of ``sig_sub``, stands for its bound ``Real``)."""
        if a == b or b == ANY:
            return True
        if a == TV:
            a = REAL
        if b == TV:
            b = REAL
        if a == b:
            return True
        if is_tup(a) or is_tup(b):
            return is_tup(a) and is_tup(b) and len(tup_elems(a)) == len(tup_elems(b)) and \
                all(self.dsub(x, y) for x, y in zip(tup_elems(a), tup_elems(b)))
        if is_mat(a) or is_mat(b):
            return False
        if b == REAL:
            return a in (INT, FLT, REAL)
        if is_fam(b):
            fb = fam_base(b)
            if is_fam(a):
                f = fam_base(a)
                while f is not None and f != fb:
                    f = self.types[f].pparent
                return f is not None
            if a in (INT, FLT, REAL, ANY):
                return False
            return any(self.types[x].family == fb for x in [a] + self.ancestors(a))
        if is_fam(a):
            return False
        if a in (INT, FLT, REAL, ANY) or b in (INT, FLT):
            return False
        return b in self.ancestors(a)

    def applies(self, m, ctypes):
        ps = m.at(len(ctypes))
        if ps is None:
            return False
        diag = [c for c, p in zip(ctypes, ps) if p == TV]
        if diag and (len(set(diag)) != 1 or diag[0] not in NUM):
            return False
        return all(self.dsub(c, p) for c, p in zip(ctypes, ps) if p != TV)

    def sig_sub(self, a, b, n):
        """At ``n`` arguments, method ``a``'s signature is a subtype of ``b``'s (``T`` is
        diagonal wherever it occurs: twice, covariantly)."""
        pa, pb = a.at(n), b.at(n)
        if pa is None or pb is None:
            return False
        if not all(self.dsub(x, y) for x, y in zip(pa, pb) if y != TV):
            return False
        xs = [x for x, y in zip(pa, pb) if y == TV]
        return not xs or all(x == TV for x in xs) or (len(set(xs)) == 1 and xs[0] in NUM)

    def whole_sub(self, a, b):
        if a.va is not None and b.va is None:
            return False
        top = max(len(a.sig), len(b.sig)) + 3
        return all(self.sig_sub(a, b, n) for n in range(top) if a.at(n) is not None)

    def more(self, a, b):
        """Method ``a`` is more specific than ``b`` (strict subtyping of whole signatures;
        Varargs: compared at the argument counts both take)."""
        if self.whole_sub(a, b):
            return not self.whole_sub(b, a)
        if self.whole_sub(b, a) or (a.va is None and b.va is None):
            return False
        strict = False
        for n in range(max(len(a.sig), len(b.sig)) + 3):
            if a.at(n) is None or b.at(n) is None:
                continue
            if not self.sig_sub(a, b, n):
                return False
            strict = strict or not self.sig_sub(b, a, n)
        return strict

    def overlap(self, a, b, n):
        pa, pb = a.at(n), b.at(n)
        if pa is None or pb is None:
            return False
        cands = [self.conc(x) & self.conc(y) for x, y in zip(pa, pb)]
        if not all(cands):
            return False
        for ps in (pa, pb):
            pos = [i for i, x in enumerate(ps) if x == TV]
            if pos and not frozenset.intersection(*[cands[i] for i in pos]) & NUM:
                return False
        return True

    def crossing(self, a, b):
        """Methods ``a`` and ``b`` take a call in common at some argument count without one
        signature being a subtype of the other there."""
        for n in range(max(len(a.sig), len(b.sig)) + 4):
            if self.overlap(a, b, n) and not (self.sig_sub(a, b, n) or self.sig_sub(b, a, n)):
                return True
        return False

    def resolve(self, fn, ctypes):
        """The method a call with these concrete types runs once every module is loaded, or
        None (no method, or an ambiguity)."""
        app = [m for m in fn.methods if self.applies(m, ctypes)]
        if not app:
            return None
        best = [m for m in app if not any(o is not m and self.more(o, m) for o in app)]
        return best[0] if len(best) == 1 else None

    def all_resolve(self, fn, sets):
        return all(self.resolve(fn, combo) is not None for combo in itertools.product(*sets))

    # -- rendering -------------------------------------------------------------------------------
    def public_names(self, j):
        names = [t.name for t in self.types.values() if t.module == j and "[" not in t.name]
        names += [f.name for f in self.fns if f.owner == j]
        names += [c[0] for c in self.consts if c[1] == j]
        return names

    def value_src(self, k, spec):
        kind = spec[0]
        if kind == "i":
            return int_src(spec[1])
        if kind == "f":
            return flt_src(float.fromhex(spec[1]))
        if kind == "t":
            return f"({', '.join(self.value_src(k, s) for s in spec[1])})"
        if kind == "m":
            rows = ", ".join("[" + ", ".join(self.value_src(k, x) for x in r) + "]"
                             for r in spec[2])
            return f"np.array([{rows}], dtype=np.{spec[1].lower()})"
        return f"{self.tref(k, spec[2])}({', '.join(self.value_src(k, s) for s in spec[3])})"

    def source(self, k, reference=False, tail=True):
        lines = []
        if reference:
            lines += ["import fuzzref as pk", "from fuzzref import Int64, Float64, Real, Any"]
            if self.uses_np:
                lines.append("from fuzzref import np")
        else:
            lines += ["import pkgimage as pk", "from pkgimage import Int64, Float64, Real, Any"]
            if self.uses_np:
                lines.append("import numpy as np")
        if self.uses_tv:
            lines.append(f'{TV} = pk.TypeVar("{TV}", bound=Real)')
        if k not in self.plain:
            lines.append("__pkgimage__ = True")
        for j in sorted(self.vis[k] - {k}):
            if self.style[(k, j)] == "alias" or not self.public_names(j):
                lines.append(f"import {self.modname(j)} as m{j}")
            else:
                lines.append(f"from {self.modname(j)} import {', '.join(self.public_names(j))}")
        if k in self.hmods:
            lines.append(f"import {self.helpername()} as hlp")
        lines.append("")
        if FEATURES["functional"]:
            # a mutable struct the bodies may make and update (``st_mutable``)
            lines += ["@pk.mutable", f"class MB{k}:", "    v: Int64", "    w: Float64", ""]
            # a struct whose values are called (``__call__``, Julia's functor: ``i_lam``)
            lines += ["@pk.struct", f"class CA{k}:", "    a: Int64", "    b: Int64", "",
                      "    def __call__(self, x: Int64):",
                      "        return self.a * x + self.b", ""]
        if FEATURES["containers"]:
            # a dict made empty and filled through calls (a ``Dict[Any, Any]``) with ints,
            # then floats added to them (``i_container``): ``d[k] += x`` is a run-time call
            # that must take what Python takes (it refused the float once)
            # (plain functions in the reference: Python's own answer)
            deco = [] if reference else ["@pk.generic"]
            lines += deco + [f"def fzput{k}(d, key, x):", "    if key in d:",
                             "        d[key] += x", "    else:", "        d[key] = x",
                             "    return None", ""]
            lines += deco + [f"def fzfill{k}(n, a, b):", "    d = {}",
                             "    for qc in range(n):", f"        fzput{k}(d, qc % 3, a)",
                             f"        fzput{k}(d, qc % 2, b)", "    return d", ""]
        if self.late.get(k):
            lines += ["def __init__():",
                      f"    global {', '.join(c[0] for c in self.late[k])}"]
            lines += [f"    {c[0]} = {self.value_src(k, c[3])}" for c in self.late[k]]
            lines.append("")
        for item in self.order[k]:
            lines += self.render(k, item)
            lines.append("")
        if tail:
            lines += self.tail[k]
            lines += self.mutators.get(k, [])
        return "\n".join(lines) + "\n"

    def modnames_built(self):
        """The program's pkgimage modules (those an image is built for)."""
        return [self.modname(k) for k in range(self.nmod) if k not in self.plain]

    def helpername(self):
        return f"{self.pid}_h"

    def extra_sources(self):
        """Modules of the program besides ``modname(0..nmod-1)``: the plain helper module
        (name -> source, the same for the reference)."""
        if not self.hconsts:
            return {}
        lines = ['"""A plain helper module: constants that pkgimage code reads."""']
        lines += [f"{c[0]} = {self.value_src(0, c[3])}" for c in self.hconsts]
        return {self.helpername(): "\n".join(lines) + "\n"}

    def render(self, k, item):
        kind, obj = item
        if kind == "type" and t_is_family(obj):
            t = obj
            par = f"{self.ref(k, self.types[t.pparent].module, t.pparent)}[{TV}]" \
                if t.pparent else f"pk.Generic[{TV}]"
            head = f"class {t.name}({par}):"
            if t.kind == "pabstract":
                return ["@pk.abstract", head, "    pass"]
            return ["@pk.struct", head] + [f"    {fname}: {self.tref(k, ft)}"
                                           for fname, ft in t.fields]
        if kind == "type":
            t = obj
            head = f"class {t.name}({self.tref(k, t.parent)}):" if t.parent else f"class {t.name}:"
            if t.kind == "abstract":
                return ["@pk.abstract", head, "    ..."]
            body = [f"    {fname}: {self.tref(k, ft)}" for fname, ft in t.fields] or ["    pass"]
            return ["@pk.struct", head] + body
        if kind == "const":
            name, _, _, spec, _ = obj
            return [f"{name} = {self.value_src(k, spec)}"]
        if kind == "decl":
            return [f'{obj.name} = pk.function("{obj.name}")']
        m = obj
        params = []
        for p, T in zip(m.pnames, m.sig):
            if T == ANY and sum(map(ord, self.pid + m.fn.name + p)) % 4 == 0:
                params.append(p)                   # unannotated means Any
            else:
                params.append(f"{p}: {self.tref(k, T)}")
        for i, d in enumerate(m.defaults):
            params[len(params) - len(m.defaults) + i] += f" = {d}"
        if m.va is not None:
            params.append(f"*xs: {self.tref(k, m.va)}")
        if m.fn.op:
            deco, name = f"@pk.base.{m.fn.op}.method", "_"
        elif m.style == "generic":
            deco, name = "@pk.generic", m.fn.name
        else:
            deco, name = f"@{self.fnref(k, m.fn)}.method", "_"
        return [deco, f"def {name}({', '.join(params)}):"] + ["    " + ln for ln in m.body]


def t_is_family(t):
    return t.kind in ("pstruct", "pabstract")


# ------------------------------------------------------------------------------------------
# Method bodies


class Body:
    def __init__(self, P, m, rng):
        self.P, self.m, self.rng = P, m, rng
        self.k = m.module
        self.fn = m.fn
        self.scopes = [{}]
        for p, T in zip(m.pnames, m.sig):
            cs = P.conc(T)
            tup = any(is_tup(c) for c in cs)
            self.scopes[0][p] = Var(p, cs, IFACE if (cs & NUM or tup) else None,
                                    assignable=not any(is_mat(c) for c in cs))
        if m.va is not None:
            self.scopes[0]["xs"] = Var("xs", {f"Tup*[{m.va}]"}, IFACE, assignable=False)
        # the static parameter T, where a method has one (``x: T, y: T`` or ``P3[T]``)
        self.tv = any(T == TV or is_fam(T) for T in m.sig)
        self.tfams = [t.name for t in P.types.values()
                      if t.kind == "pstruct" and t.module in P.vis[m.module]] if self.tv else []
        self.mctx = []                  # (matrix var, row index var, column index var)
        self.lines = []
        self.indent = 0
        self.mult = 1
        self.cost = 0
        self.loops = 0
        self.ids = itertools.count(1)
        self.dead = []
        self.late = False
        self.stmts_left = rng.choice([0, 1, 2, 3, 4, 5, 6])

    # -- helpers ----------------------------------------------------------------------------
    def emit(self, line):
        self.lines.append("    " * self.indent + line)

    def chance(self, p):
        return self.rng.random() < p

    def vars(self, pred=lambda v: True):
        seen = {}
        for sc in self.scopes:
            for n, v in sc.items():
                seen[n] = v
        return [v for v in seen.values() if pred(v)]

    def visible_names(self):
        return {v.name for v in self.vars()}

    def fresh_names(self, n):
        """``n`` different fresh names for one statement's variables (``fresh`` alone may
        give the same dead name twice: ``box = MB(..); box = box.v`` broke the next line)."""
        names = [self.fresh("t") for _ in range(n)]
        if len(set(names)) < n:
            raise Fail
        return names

    def fresh(self, prefix):
        if self.dead and self.chance(0.3):
            cands = [n for n in self.dead if n not in self.visible_names()]
            if cands:
                return self.rng.choice(cands)
        return f"{prefix}{next(self.ids)}"

    def declare(self, v):
        self.scopes[-1][v.name] = v

    def push(self):
        self.scopes.append({})

    def pop(self):
        sc = self.scopes.pop()
        self.dead.extend(n for n in sc if n not in self.m.pnames)

    def generatable(self):
        out = [INT, FLT] + self.P.visible_structs(self.k)
        if FEATURES["tuples"]:
            out += TUPS
        if FEATURES["matrices"]:
            out += MATS
        return out

    # bounds -------------------------------------------------------------------------------
    def wrap(self, e, maxb):
        """``e`` with magnitude at most ``maxb`` (``% m`` when its bound is larger)."""
        if e.bound <= maxb:
            return e
        if e.tset == {FLT}:
            mods = [m for m in FMODULI if abs(m) <= maxb] or [float(int(maxb)) or 1.0]
        else:
            mods = [m for m in MODULI if 2 <= abs(m) <= maxb] or [max(2, int(maxb))]
        mod = self.rng.choice(mods)
        src = flt_src(mod) if isinstance(mod, float) else int_src(mod)
        return Ex(f"({e.code} % {src})", e.tset, abs(mod))

    # -- numbers ------------------------------------------------------------------------------
    def e_int(self, d):
        opts = ["lit", "lit", "var", "var", "var", "const", "fieldvar"]
        if d > 0:
            opts += ["bin"] * 4 + ["div", "mod", "un", "minmax", "pow", "conv", "call", "call",
                                   "field", "ifexp", "andor"]
        opts += ["tupidx", "tupidx", "len", "matel", "matel", "container", "lam"]
        for _ in range(8):
            try:
                return getattr(self, "i_" + self.rng.choice(opts))(d)
            except Fail:
                pass
        return self.i_lit(d)

    def i_lit(self, d):
        v = self.rng.choice(INT_LITS) if self.chance(0.7) else self.rng.randint(-5000, 5000)
        return Ex(int_src(v), {INT}, abs(v))

    def _var(self, tset):
        vs = self.vars(lambda v: v.tset == frozenset(tset))
        if not vs:
            raise Fail
        v = self.rng.choice(vs)
        return Ex(v.name, v.tset, v.bound or 0)

    def i_var(self, d):
        return self._var({INT})

    def _const(self, ctype):
        cs = [(self.P.ref(self.k, c[1], c[0]), c[4], False) for c in self.P.consts
              if c[2] == ctype and c[1] in self.P.vis[self.k]]
        cs += [(c[0], c[4], True) for c in self.P.late.get(self.k, ()) if c[2] == ctype]
        if self.k in self.P.hmods:
            cs += [(f"hlp.{c[0]}", c[4], False) for c in self.P.hconsts if c[2] == ctype]
        if not cs:
            raise Fail
        code, bound, late = self.rng.choice(cs)
        self.late = self.late or late
        return Ex(code, {ctype}, bound or 0)

    def i_const(self, d):
        return self._const(INT)

    def _field(self, ftype, d, from_var):
        cands = []
        for s in self.P.structs():
            for fname, ft in s.fields:
                if ft == ftype:
                    cands.append((s.name, fname))
        self.rng.shuffle(cands)
        for sname, fname in cands:
            if from_var:
                vs = self.vars(lambda v: v.tset == {sname})
                if vs:
                    return f"{self.rng.choice(vs).name}.{fname}"
            elif sname in self.P.visible_structs(self.k) or self.vars(lambda v: v.tset == {sname}):
                e = self.e_struct(sname, d - 1)
                return f"{e.code}.{fname}"
        raise Fail

    def i_fieldvar(self, d):
        return Ex(self._field(INT, d, True), {INT}, IFACE)

    def i_field(self, d):
        return Ex(self._field(INT, d, False), {INT}, IFACE)

    def i_bin(self, d):
        op = self.rng.choice("+-*")
        a, b = self.e_int(d - 1), self.e_int(d - 1)
        if op == "*":
            if a.bound * b.bound > LIMIT:
                a, b = self.wrap(a, 2 ** 20), self.wrap(b, 2 ** 20)
            bound = a.bound * b.bound
        else:
            if a.bound + b.bound > LIMIT:
                a, b = self.wrap(a, LIMIT // 2), self.wrap(b, LIMIT // 2)
            bound = a.bound + b.bound
        return Ex(f"({a.code} {op} {b.code})", {INT}, bound)

    def i_div(self, d):
        a = self.e_int(d - 1)
        if self.chance(0.75):
            c = self.rng.choice([2, 3, 7, 10, -2, -3, 1000])
            return Ex(f"({a.code} // {int_src(c)})", {INT}, a.bound // abs(c) + 1)
        b = self.e_int(d - 1)           # may be zero: ZeroDivisionError on both sides
        return Ex(f"({a.code} // {b.code})", {INT}, a.bound + 1)

    def i_mod(self, d):
        a = self.e_int(d - 1)
        if self.chance(0.75):
            c = self.rng.choice([2, 3, 7, 10, -2, -3, 1000, 65536])
            return Ex(f"({a.code} % {int_src(c)})", {INT}, abs(c))
        b = self.e_int(d - 1)
        return Ex(f"({a.code} % {b.code})", {INT}, b.bound)

    def i_un(self, d):
        a = self.e_int(d - 1)
        if self.chance(0.5):
            return Ex(f"(-{a.code})", {INT}, a.bound)
        return Ex(f"abs({a.code})", {INT}, a.bound)

    def i_minmax(self, d):
        a, b = self.e_int(d - 1), self.e_int(d - 1)
        return Ex(f"{self.rng.choice(['min', 'max'])}({a.code}, {b.code})", {INT},
                  max(a.bound, b.bound))

    def i_pow(self, d):
        k = self.rng.choice([0, 1, 2, 2, 3])
        a = self.e_int(d - 1)
        if k == 3:
            a = self.wrap(a, 2 ** 13)
        elif k == 2:
            a = self.wrap(a, 2 ** 20)
        return Ex(f"({a.code} ** {k})", {INT}, max(1, a.bound ** k))

    def i_conv(self, d):
        a = self.e_float(d - 1) if self.chance(0.6) else self.e_num(d - 1)
        return Ex(f"int({a.code})", {INT}, int(a.bound) + 1)

    def _call(self, ret, d):
        fns = [f for f in self.P.fns if f.ret == ret and not f.op and f.rank < self.fn.rank
               and f.owner in self.P.vis[self.k]]
        if not fns:
            raise Fail
        fns += [f for f in fns if f.dflt is not None] * 3      # (their calls vary most)
        fn = self.rng.choice(fns)
        if self.cost + self.mult * fn.cost > BUDGET:
            raise Fail
        if fn.dflt is not None and FEATURES["defaults"] and self.chance(0.6):
            return self._keyword_call(fn, ret, d)
        for _ in range(3):
            m = self.rng.choice(fn.methods)
            ps = m.at(len(m.sig) + self.rng.randint(0, 3)) if m.va is not None else m.sig
            if FEATURES["defaults"] and ps and self.chance(0.15):
                got = self._splat_call(fn, ps, d)
                if got is not None:
                    self.cost += self.mult * fn.cost
                    self.late = self.late or fn.late
                    return Ex(got, {ret}, IFACE)
                continue
            args = [self.e_decl(T, d - 1) for T in ps]
            if self.P.all_resolve(fn, [a.tset for a in args]):
                self.cost += self.mult * fn.cost
                self.late = self.late or fn.late
                return Ex(f"{self.P.fnref(self.k, fn)}({', '.join(a.code for a in args)})",
                          {ret}, IFACE)
        raise Fail

    def _keyword_call(self, fn, ret, d):
        """A call of a function with default parameter values (``defaults``): the first
        arguments positional, some of the others by name in any order, the rest left to
        their defaults (a required parameter may be named too)."""
        m, first = fn.dflt
        n = len(m.sig)
        npos = self.rng.randint(0 if self.chance(0.2) else first, n)
        named = [i for i in range(npos, n) if i < first or self.chance(0.5)]
        self.rng.shuffle(named)
        pos = [self.e_decl(T, d - 1) for T in m.sig[:npos]]
        kw = [(i, self.e_decl(m.sig[i], d - 1)) for i in named]
        given = dict(kw)
        sets = [a.tset for a in pos] + [given[i].tset if i in given else
                                        {m.dtypes[i - first]} for i in range(npos, n)]
        if not self.P.all_resolve(fn, sets):
            raise Fail
        self.cost += self.mult * fn.cost
        self.late = self.late or fn.late
        args = [a.code for a in pos] + [f"{m.pnames[i]}={a.code}" for i, a in kw]
        return Ex(f"{self.P.fnref(self.k, fn)}({', '.join(args)})", {ret}, IFACE)

    def _splat_call(self, fn, ps, d):
        """``f(a, *t)`` with a tuple variable whose elements fit the last parameters, or
        ``f(*(a, b))`` with a tuple written in place (``defaults``); None if none fits."""
        cands = []
        for v in self._tupvars():
            els = tup_elems(next(iter(v.tset)))
            if len(els) <= len(ps) and all(
                    e in self.P.conc(T) for e, T in zip(els, ps[len(ps) - len(els):])):
                cands.append((v.name, els))
        if cands and self.chance(0.7):
            name, els = self.rng.choice(cands)
            head = [self.e_decl(T, d - 1) for T in ps[:len(ps) - len(els)]]
            sets = [a.tset for a in head] + [{e} for e in els]
            code = [a.code for a in head] + [f"*{name}"]
        else:
            args = [self.e_decl(T, d - 1) for T in ps]
            cut = self.rng.randrange(len(args))
            sets = [a.tset for a in args]
            code = [a.code for a in args[:cut]] + \
                [f"*({', '.join(a.code for a in args[cut:])},)"]
        if not self.P.all_resolve(fn, sets):
            return None
        return f"{self.P.fnref(self.k, fn)}({', '.join(code)})"

    def i_call(self, d):
        return self._call(INT, d)

    def i_ifexp(self, d):
        c = self.cond(d - 1)
        a, b = self.e_int(d - 1), self.e_int(d - 1)
        return Ex(f"({a.code} if {c} else {b.code})", {INT}, max(a.bound, b.bound))

    def i_andor(self, d):
        a, b = self.e_int(d - 1), self.e_int(d - 1)
        return Ex(f"({a.code} {self.rng.choice(['and', 'or'])} {b.code})", {INT},
                  max(a.bound, b.bound))

    def e_float(self, d):
        opts = ["lit", "lit", "var", "var", "var", "const", "fieldvar"]
        if d > 0:
            opts += ["bin"] * 4 + ["div", "div", "fmod", "un", "minmax", "conv", "call", "call",
                                   "field", "ifexp"]
        opts += ["tupidx", "tupidx", "matel", "matel", "container"]
        for _ in range(8):
            try:
                return getattr(self, "f_" + self.rng.choice(opts))(d)
            except Fail:
                pass
        return self.f_lit(d)

    def f_lit(self, d):
        v = self.rng.choice(FLT_LITS) if self.chance(0.7) else \
            round(self.rng.uniform(-1000, 1000), self.rng.choice([0, 1, 3, 6]))
        return Ex(flt_src(v), {FLT}, abs(v))

    def f_var(self, d):
        return self._var({FLT})

    def f_const(self, d):
        return self._const(FLT)

    def f_fieldvar(self, d):
        return Ex(self._field(FLT, d, True), {FLT}, IFACE)

    def f_field(self, d):
        return Ex(self._field(FLT, d, False), {FLT}, IFACE)

    def f_bin(self, d):
        op = self.rng.choice("+-*")
        a = self.e_float(d - 1)
        b = self.rng.choice([self.e_float, self.e_int, self.e_num])(d - 1)
        if self.chance(0.5):
            a, b = b, a
        if op == "*":
            if a.bound * b.bound > LIMIT:
                a, b = self.wrap(a, 2 ** 20), self.wrap(b, 2 ** 20)
            bound = a.bound * b.bound
        else:
            if a.bound + b.bound > LIMIT:
                a, b = self.wrap(a, LIMIT // 2), self.wrap(b, LIMIT // 2)
            bound = a.bound + b.bound
        return Ex(f"({a.code} {op} {b.code})", {FLT}, bound)

    def f_div(self, d):
        a = self.rng.choice([self.e_float, self.e_int, self.e_num])(d - 1)
        if FEATURES["float_zero_division"] and self.chance(0.15):
            # by an integer expression that may be zero: |a / e| <= |a| otherwise, and a
            # zero raises ZeroDivisionError compiled as in Python
            b = self.e_int(d - 1)
            return Ex(f"({a.code} / {b.code})", {FLT}, a.bound + 1)
        c = self.rng.choice([2, 4, 3, -8, 10, 0.5, 2.5, -4.0, 7])
        src = flt_src(c) if isinstance(c, float) else int_src(c)
        return Ex(f"({a.code} / {src})", {FLT}, a.bound / abs(c) + 1)

    def f_fmod(self, d):
        a = self.e_float(d - 1)
        c = self.rng.choice([2.0, 0.5, 3, -1.5, 10.0, 7])
        src = flt_src(c) if isinstance(c, float) else int_src(c)
        if self.chance(0.5):
            return Ex(f"({a.code} // {src})", {FLT}, a.bound / abs(c) + 1)
        return Ex(f"({a.code} % {src})", {FLT}, abs(c))

    def f_un(self, d):
        a = self.e_float(d - 1)
        if self.chance(0.5):
            return Ex(f"(-{a.code})", {FLT}, a.bound)
        return Ex(f"abs({a.code})", {FLT}, a.bound)

    def f_minmax(self, d):
        a, b = self.e_float(d - 1), self.e_float(d - 1)
        return Ex(f"{self.rng.choice(['min', 'max'])}({a.code}, {b.code})", {FLT},
                  max(a.bound, b.bound))

    def f_conv(self, d):
        a = self.e_int(d - 1) if self.chance(0.6) else self.e_num(d - 1)
        return Ex(f"float({a.code})", {FLT}, a.bound)

    def f_call(self, d):
        return self._call(FLT, d)

    def f_ifexp(self, d):
        c = self.cond(d - 1)
        a, b = self.e_float(d - 1), self.e_float(d - 1)
        return Ex(f"({a.code} if {c} else {b.code})", {FLT}, max(a.bound, b.bound))

    def e_num(self, d):
        """An expression whose values are Int64 or Float64 (possibly either at run time)."""
        opts = ["var", "var", "int", "float"]
        if d > 0:
            opts += ["ifexp", "ifexp", "bin", "bin", "un", "divmod", "field"]
        opts += ["tconv", "tconv", "ufield", "ufield", "vidx"]
        for _ in range(8):
            try:
                return getattr(self, "n_" + self.rng.choice(opts))(d)
            except Fail:
                pass
        return self.e_int(d)

    def n_var(self, d):
        vs = self.vars(lambda v: v.tset and v.tset <= NUM)
        if not vs:
            raise Fail
        v = self.rng.choice(vs)
        return Ex(v.name, v.tset, v.bound)

    def n_int(self, d):
        return self.e_int(d)

    def n_float(self, d):
        return self.e_float(d)

    def n_ifexp(self, d):
        c = self.cond(d - 1)
        a, b = self.e_int(d - 1), self.e_float(d - 1)
        if self.chance(0.5):
            a, b = b, a
        return Ex(f"({a.code} if {c} else {b.code})", NUM, max(a.bound, b.bound))

    @staticmethod
    def arith_set(a, b):
        out = set()
        if INT in a and INT in b:
            out.add(INT)
        if FLT in a or FLT in b:
            out.add(FLT)
        return out

    def n_bin(self, d):
        op = self.rng.choice("+-*")
        a, b = self.e_num(d - 1), self.e_num(d - 1)
        if op == "*":
            if a.bound * b.bound > LIMIT:
                a, b = self.wrap(a, 2 ** 20), self.wrap(b, 2 ** 20)
            bound = a.bound * b.bound
        else:
            if a.bound + b.bound > LIMIT:
                a, b = self.wrap(a, LIMIT // 2), self.wrap(b, LIMIT // 2)
            bound = a.bound + b.bound
        return Ex(f"({a.code} {op} {b.code})", self.arith_set(a.tset, b.tset), bound)

    def n_un(self, d):
        a = self.e_num(d - 1)
        if self.chance(0.5):
            return Ex(f"(-{a.code})", a.tset, a.bound)
        return Ex(f"abs({a.code})", a.tset, a.bound)

    def n_divmod(self, d):
        a = self.e_num(d - 1)
        c = self.rng.choice([2, 3, 10, -7])
        if self.chance(0.5):
            return Ex(f"({a.code} // {int_src(c)})", a.tset, a.bound / abs(c) + 1)
        return Ex(f"({a.code} % {int_src(c)})", a.tset, abs(c))

    def n_field(self, d):
        if self.chance(0.5):
            return Ex(self._field(REAL, d, True), NUM, IFACE)
        return Ex(self._field(REAL, d, False), NUM, IFACE)

    # -- structs ------------------------------------------------------------------------------
    def e_struct(self, sname, d):
        opts = ["var", "var", "ctor", "ctor", "const"]
        if d > 0:
            opts += ["call", "call", "op", "op", "field", "ifexp"]
        for _ in range(8):
            try:
                return getattr(self, "s_" + self.rng.choice(opts))(sname, d)
            except Fail:
                pass
        return self.s_ctor(sname, d)

    def s_var(self, sname, d):
        return self._var({sname})

    def s_const(self, sname, d):
        return self._const(sname)

    def s_ctor(self, sname, d):
        if sname not in self.P.visible_structs(self.k):
            raise Fail
        t = self.P.types[sname]
        args = []
        for _, ft in t.fields:
            args.append(self.field_arg(ft, d - 1).code)
        return Ex(f"{self.P.tref(self.k, sname)}({', '.join(args)})", {sname})

    def field_arg(self, ft, d):
        if ft == INT:
            return self.wrap(self.e_int(d), IFACE)
        if ft == FLT:
            # now and then an Int64 for a Float64 field: the constructor converts it
            e = self.e_int(d) if self.chance(0.15) else self.e_float(d)
            return self.wrap(e, IFACE)
        if ft == REAL:
            return self.wrap(self.e_num(d), IFACE)
        return self.e_struct(ft, d)

    def s_call(self, sname, d):
        return self._call(sname, d)

    def s_op(self, sname, d):
        ops = [f for f in self.P.ops.values() if f.ret == sname and f.rank < self.fn.rank]
        if not ops:
            raise Fail
        fn = self.rng.choice(ops)
        if self.cost + self.mult * fn.cost > BUDGET:
            raise Fail
        gen = self.generatable()
        combos = [c for c in itertools.product(gen, repeat=fn.arity)
                  if any(x not in NUM for x in c) and self.P.resolve(fn, c) is not None]
        if not combos:
            raise Fail
        combo = self.rng.choice(combos)
        args = [self.e_exact(c, d - 1) for c in combo]
        args = [self.wrap(a, IFACE) if a.tset <= NUM else a for a in args]
        self.cost += self.mult * fn.cost
        self.late = self.late or fn.late
        if fn.arity == 1:
            return Ex(f"(-{args[0].code})", {sname})
        return Ex(f"({args[0].code} {OPS[fn.op]} {args[1].code})", {sname})

    def s_field(self, sname, d):
        return Ex(self._field(sname, d, self.chance(0.5)), {sname})

    def s_ifexp(self, sname, d):
        c = self.cond(d - 1)
        a, b = self.e_struct(sname, d - 1), self.e_struct(sname, d - 1)
        return Ex(f"({a.code} if {c} else {b.code})", {sname})

    def e_exact(self, c, d):
        if c == INT:
            return self.e_int(d)
        if c == FLT:
            return self.e_float(d)
        if is_tup(c):
            return self.e_tup(c, d)
        if is_mat(c):
            return self.e_mat(c, d)
        return self.e_struct(c, d)

    # -- tuples -------------------------------------------------------------------------------
    def e_tup(self, c, d):
        """An expression of concrete tuple type ``c`` (elements within IFACE)."""
        r = self.rng.random()
        vs = self.vars(lambda v: v.tset == {c})
        if vs and r < 0.3:
            return Ex(self.rng.choice(vs).name, {c}, IFACE)
        if r < 0.45 and d > 0:
            try:
                return self._call(c, d)
            except Fail:
                pass
        if r < 0.55 and d > 0:
            a = self.e_tup(c, d - 1)
            b = self.e_tup(c, d - 1)
            return Ex(f"({a.code} if {self.cond(d - 1)} else {b.code})", {c}, IFACE)
        els = [self.wrap(self.e_exact(e, d - 1), IFACE).code for e in tup_elems(c)]
        return Ex(f"({', '.join(els)})", {c}, IFACE)

    def _tupvars(self):
        return [v for v in self.vars(lambda v: len(v.tset) == 1 and is_tup(next(iter(v.tset))))]

    def _tupidx(self, want, d):
        """``t[i]`` of a tuple variable whose element there is of type ``want``."""
        cands = []
        for v in self._tupvars():
            els = tup_elems(next(iter(v.tset)))
            for i, e in enumerate(els):
                if e == want:
                    cands.append(f"{v.name}[{self.rng.choice([i, i - len(els)])}]")
            if len(set(els)) == 1 and els[0] == want and d > 0:
                cands.append(f"{v.name}[{self.wrap(self.e_int(d - 1), 50).code} % {len(els)}]")
        if not cands:
            raise Fail
        return Ex(self.rng.choice(cands), {want}, IFACE)

    def i_tupidx(self, d):
        return self._tupidx(INT, d)

    def f_tupidx(self, d):
        return self._tupidx(FLT, d)

    def n_vidx(self, d):
        """An element of a homogeneous tuple at a variable index, or of a Real varargs tuple."""
        vs = [v for v in self.vars(lambda v: len(v.tset) == 1)
              if next(iter(v.tset)) == f"Tup*[{INT}]"]
        if not vs or d <= 0:
            raise Fail
        v = self.rng.choice(vs)
        return Ex(f"({v.name}[{self.wrap(self.e_int(d - 1), 50).code} % len({v.name})] "
                  f"if len({v.name}) > 0 else {self.e_exact(INT, 0).code})",
                  {INT}, IFACE)

    def i_container(self, d):
        """An int from a list, dict or set comprehension or a string (``containers``)."""
        if not FEATURES["containers"] or d <= 0:
            raise Fail
        a = self.wrap(self.e_int(d - 1), 2 ** 20)
        k = self.rng.randint(0, 4)
        r = self.rng.random()
        if r < 0.3:
            return Ex(f"sum([qc * {a.code} for qc in range({k})])", {INT},
                      k * k * a.bound + 1)
        if r < 0.45:
            return Ex(f"len([qc for qc in range({k}) if qc % 2 == {self.rng.randint(0, 1)}])",
                      {INT}, k)
        if r < 0.6 and k > 0:
            return Ex(f"{self.rng.choice(['max', 'min'])}([{a.code} - qc for qc in "
                      f"range({k})])", {INT}, a.bound + k)
        if r < 0.65:
            return Ex(f"len({{qc % 3: {a.code} for qc in range({k})}})", {INT}, 3)
        if r < 0.7:
            # sets: comprehensions, literals, ``set(range(k))`` and the operators between them
            form = self.rng.randint(0, 3)
            if form == 0:
                return Ex(f"len({{qc % 3 for qc in range({k})}} | {{{a.code} % 2}})", {INT}, 3)
            if form == 1:
                return Ex(f"sum({{qc * {a.code} for qc in range({k})}} - {{{a.code}}})", {INT},
                          k * k * a.bound + 1)
            if form == 2:
                return Ex(f"len(set(range({k})) ^ {{qc + 1 for qc in range({k})}})", {INT},
                          2 * k + 1)
            return Ex(f"sum(sorted({{{a.code} % 5, {k}}} & set(range(6))))", {INT}, 10)
        if r < 0.8:
            # ``dict(pairs)`` / ``dict(zip(...))`` (it was lowered as a copy of the list):
            # the value at a key that the later pairs overwrite
            m = self.rng.randint(1, 3)
            pairs = self.rng.choice([f"[(qc % {m}, qc * {a.code}) for qc in range({k + 1})]",
                                     f"zip([qc % {m} for qc in range({k + 1})], "
                                     f"[qc - {a.code} for qc in range({k + 1})])"])
            return Ex(f"dict({pairs})[0]", {INT}, (k + 1) * a.bound + k + 1)
        if r < 0.83:
            # (``fzfill``: ints, then a float added, in a dict filled through calls)
            return Ex(f"int(sum(fzfill{self.k}({k + 1}, {a.code}, 0.5).values()))", {INT},
                      2 * (k + 1) * (a.bound + 1))
        if r < 0.84:
            # a list of ints and floats (``List[Union[Float64, Int64]]``): its elements read
            # by a loop and by index (an element once came back as a new object)
            lst = f"[qc * 0.5 if qc % 2 else qc for qc in range({k + 1})]"
            if self.chance(0.5):
                return Ex(f"int(2 * sum({lst}))", {INT}, (k + 1) * (k + 1))
            return Ex(f"int(2 * {lst}[({a.code}) % {k + 1}])", {INT}, 2 * k + 2)
        if r < 0.85:
            return Ex(f"len(str({a.code}))", {INT}, 30)
        if r < 0.93:
            # list slices with steps (negative too) of ``list(range(k))``: the sum of a slice;
            # bounds constant, absent, None or computed (adjusted in native code), and a
            # string slice's length
            def bound():
                c = self.rng.random()
                if c < 0.2:
                    return ""
                if c < 0.3:
                    return "None"
                if c < 0.55:
                    return f"(({a.code}) % {k + 3} - {k // 2 + 1})"
                return str(self.rng.randint(-k - 1, k + 1))
            lo, hi = bound(), bound()
            st = self.rng.choice(["", "-3", "-2", "-1", "1", "2", "3"])
            if self.chance(0.25):
                return Ex(f"len('abcdefg'[{lo}:{hi}])", {INT}, 8)
            return Ex(f"sum(list(range({k}))[{lo}:{hi}:{st}])", {INT}, k * k + 1)
        if r < 0.96:
            # integers formatted in native code: an f-string and a literal ``str.format``
            return Ex(self.rng.choice([f'int(f"{{{a.code}}}")', f'int("{{}}".format({a.code}))',
                                       f'int("{{:d}}".format({a.code}))']), {INT}, a.bound)
        return Ex(f"int(str({a.code}))", {INT}, a.bound)

    def i_lam(self, d):
        """An int from a lambda called in place, ``map`` with a lambda reading a local, or a
        struct value called (``functional``)."""
        if not FEATURES["functional"] or d <= 0:
            raise Fail
        a = self.wrap(self.e_int(d - 1), 2 ** 20)
        vs = self.vars(lambda v: v.tset == {INT} and v.bound is not None and v.bound <= 2 ** 20)
        r = self.rng.random()
        if r < 0.5 or not vs:
            if r < 0.2:
                # a struct value called (``CA0(2, -1)(x)``: its ``__call__``); its constants
                # come from the draw already made, so the rest of the program is the one
                # the seed made before this form existed
                c1, c2 = int(r * 35) % 7 - 3, int(r * 175) % 7 - 3
                return Ex(f"CA{self.k}({c1}, {c2})({a.code})", {INT}, 3 * a.bound + 3)
            return Ex(f"(lambda ql: ql * 3 - {a.code})({a.code})", {INT}, 4 * a.bound)
        v = self.rng.choice(vs)
        k = self.rng.randint(0, 4)
        return Ex(f"sum(map(lambda qm: qm * {v.name} + {a.code}, range({k})))", {INT},
                  k * (k * v.bound + a.bound) + 1)

    def st_kwlambda(self, d):
        """A lambda with default values, kept in a variable and called with keywords --
        either default given, or both (a call of a value with keywords: bound to the
        lambda's parameters at inference, a left-out default taken from the tuple of them
        the closure holds) -- outside loops (``functional``)."""
        if not FEATURES["functional"] or self.loops:
            raise Fail
        a = self.wrap(self.e_int(self.depth()), 2 ** 20)
        k, j, c = (self.rng.randint(-3, 3) for _ in range(3))
        fn, got = self.fresh_names(2)
        self.emit(f"{fn} = lambda ql, qk={k}, qj={c}: ql * qk + qj")
        call = self.rng.choice([f"{fn}({a.code}, qk={j})", f"{fn}({a.code}, qj={j}, qk={k})",
                                f"{fn}(qk={j}, ql={a.code})", f"{fn}({a.code}, {j}, qj={c})",
                                f"{fn}({a.code}, qj={j})"])      # (``qk`` left out)
        self.emit(f"{got} = {call}")
        self.declare(Var(got, {INT}, 3 * a.bound + 3, assignable=False))

    def st_try(self, d):
        """``try``/``except ZeroDivisionError``/``else``/``finally`` around an integer
        division whose divisor may be zero; the ``finally`` counts into a fresh variable
        (``functional``)."""
        if not FEATURES["functional"]:
            raise Fail
        a = self.wrap(self.e_int(self.depth()), 2 ** 20)
        z = self.wrap(self.e_int(self.depth()), 3)
        c = self.wrap(self.e_int(self.depth()), 2 ** 20)
        name, cnt = self.fresh_names(2)
        self.emit(f"{cnt} = 0")
        self.emit("try:")
        op = self.rng.choice(["//", "%"])
        self.emit(f"    {name} = {a.code} {op} {z.code}")
        self.emit("except ZeroDivisionError as qe:")
        # (the message's length: compiled code's error says what Python's says)
        self.emit(f"    {name} = {c.code} + len(str(qe))")
        self.emit("else:")
        self.emit(f"    {name} += 1")
        self.emit("finally:")
        self.emit(f"    {cnt} += 1")
        self.declare(Var(name, {INT}, max(a.bound, c.bound) + 40))
        self.declare(Var(cnt, {INT}, 1, assignable=False))

    def st_mutable(self, d):
        """A mutable struct made, its fields updated in place (``+=``, an Int64 into the
        Float64 field: converted), read back (``functional``)."""
        if not FEATURES["functional"]:
            raise Fail
        a = self.wrap(self.e_int(self.depth()), 2 ** 20)
        b = self.wrap(self.e_float(self.depth()), 2 ** 20)
        c = self.wrap(self.e_int(self.depth()), 2 ** 20)
        box, iv, fv = self.fresh_names(3)
        self.emit(f"{box} = MB{self.k}({a.code}, {b.code})")
        self.emit(f"{box}.v += {c.code}")
        self.emit(f"{box}.w = {box}.w * 0.5 + {box}.v")
        self.emit(f"{iv} = {box}.v")
        self.emit(f"{fv} = {box}.w")
        self.declare(Var(iv, {INT}, a.bound + c.bound))
        self.declare(Var(fv, {FLT}, b.bound + a.bound + c.bound))

    def st_accum(self, d):
        """An accumulator that starts as the int 0 and turns float once the loop runs
        (``s = 0; for ...: s += x * 0.5``), and a variable that is None until a test in the
        loop gives it the index: variables of small unions of bits types, which compiled
        code holds unboxed (``functional``)."""
        if not FEATURES["functional"]:
            raise Fail
        n = self.wrap(self.e_int(self.depth()), 6)
        x = self.wrap(self.rng.choice([self.e_int, self.e_float])(self.depth()), 2 ** 20)
        acc, last, i, got = self.fresh_names(4)
        self.emit(f"{acc} = 0")
        self.emit(f"{last} = None")
        self.emit(f"for {i} in range({n.code}):")
        self.emit(f"    {acc} += {x.code} * 0.5")
        self.emit(f"    if {self.cond(self.depth())}:")
        self.emit(f"        {last} = {i}")
        self.emit(f"{got} = {last} if {last} is not None else -1")
        self.declare(Var(acc, {INT, FLT}, 6 * 2 ** 19 + 1))
        self.declare(Var(got, {INT}, 6, assignable=False))

    def st_alias(self, d):
        """A list grown through another name bound to it (``p = q; p += [x]``, ``p *= 2``):
        ``+=`` changes the list in place, so ``q`` sees every element (``containers``)."""
        if not FEATURES["containers"]:
            raise Fail
        n = self.wrap(self.e_int(self.depth()), 4)
        x = self.wrap(self.rng.choice([self.e_int, self.e_float])(self.depth()), 2 ** 20)
        q, p, i, got = self.fresh_names(4)
        self.emit(f"{q} = []")
        self.emit(f"{p} = {q}")
        self.emit(f"for {i} in range({n.code}):")
        self.emit(f"    {p} += [{x.code}, {i}]")
        if self.chance(0.5):
            self.emit(f"{p} *= 2")
        self.emit(f"{got} = len({q}) + sum({q})")
        self.declare(Var(got, {INT, FLT}, 16 * (2 ** 20 + 4) + 16, assignable=False))

    def st_closure(self, d):
        """A closure over a variable assigned just before, outside loops, made once and
        called; the variable may be assigned again after, or changed by a nested ``def``
        through ``nonlocal`` (``functional``)."""
        if not FEATURES["functional"] or self.loops:
            raise Fail
        a = self.wrap(self.e_int(self.depth()), 2 ** 20)
        b = self.wrap(self.e_int(self.depth()), 2 ** 20)
        # (the captured variable's name is unique in the method: a later statement reusing
        # a name of an ended scope would be a store after the closure, which is refused)
        self.P.ncaptures = getattr(self.P, "ncaptures", 0) + 1
        cap = f"qk{self.P.ncaptures}"
        fn, name = self.fresh_names(2)
        self.emit(f"{cap} = {a.code}")
        how = self.rng.random()
        if how < 0.5:
            self.emit(f"{fn} = lambda qc: qc - {cap}")
            self.emit(f"{name} = {fn}({b.code}) + {fn}(1)")
        elif how < 0.75:
            # assigned again after the closure is made: the closure reads the new value
            # (a cell shared with the method: Julia's Core.Box)
            c = self.wrap(self.e_int(self.depth()), 2 ** 20)
            self.emit(f"{fn} = lambda qc: qc - {cap}")
            self.emit(f"{name} = {fn}({b.code})")
            self.emit(f"{cap} = {c.code}")
            self.emit(f"{name} = {name} + {fn}(1)")
            a = Ex(a.code, a.tset, max(a.bound, c.bound))
        else:
            # a nested def changing it (``nonlocal``): the method sees the change
            self.emit(f"def {fn}(qc):")
            self.emit(f"    nonlocal {cap}")
            self.emit(f"    {cap} += qc")
            self.emit(f"    return {cap}")
            self.emit(f"{name} = {fn}({b.code}) + {fn}(1) + {cap}")
            a = Ex(a.code, a.tset, 2 * (a.bound + b.bound + 1))
        # (``cap`` is not declared: a declared name is reused once its scope ends)
        self.declare(Var(name, {INT}, 2 * (a.bound + b.bound) + 2))

    def f_container(self, d):
        """A float from a list comprehension or an f-string (``containers``)."""
        if not FEATURES["containers"] or d <= 0:
            raise Fail
        a = self.wrap(self.e_float(d - 1), 2 ** 20)
        k = self.rng.randint(1, 4)
        if self.chance(0.6):
            return Ex(f"sum([{a.code} * qc for qc in range({k})])", {FLT},
                      k * k * a.bound + 1)
        if "f'" in a.code:                 # (no f-string inside another before Python 3.12)
            return Ex(f"float(len(str({a.code})))", {FLT}, 60)
        return Ex(f"float(len(f'{{{a.code}:.3f}}'))", {FLT}, 60)

    def i_len(self, d):
        vs = [v for v in self.vars(lambda v: len(v.tset) == 1)
              if is_tup(next(iter(v.tset))) or next(iter(v.tset)).startswith("Tup*")]
        if not vs:
            raise Fail
        return Ex(f"len({self.rng.choice(vs).name})", {INT}, 10)

    def st_unpack(self, d):
        if not FEATURES["tuples"]:
            raise Fail
        r = self.rng.random()
        if r < 0.3:                                       # swap two variables of one type
            vs = self.vars(lambda v: v.assignable and v.tset and v.tset <= NUM | set(TUPS))
            pairs = [(a, b) for a in vs for b in vs
                     if a is not b and a.tset == b.tset and a.bound == b.bound]
            if not pairs:
                raise Fail
            a, b = self.rng.choice(pairs)
            self.emit(f"{a.name}, {b.name} = {b.name}, {a.name}")
            return
        if r < 0.6:                                      # unpack a tuple value
            c = self.rng.choice(TUPS)
            e = self.e_tup(c, self.depth())
            names = [self.fresh("t") for _ in tup_elems(c)]
            if len(set(names)) != len(names):
                raise Fail
            self.emit(f"{', '.join(names)} = {e.code}")
            for n, el in zip(names, tup_elems(c)):
                self.declare(Var(n, {el}, IFACE))
            return
        # several values at once, nested targets now and then
        n = self.rng.choice([2, 3])
        es = [self.wrap(self.any_num(self.depth()), IFACE) for _ in range(n)]
        names = [self.fresh("t") for _ in range(n)]
        if len(set(names)) != n:
            raise Fail
        if n == 3 and self.chance(0.5):
            self.emit(f"{names[0]}, ({names[1]}, {names[2]}) = "
                      f"{es[0].code}, ({es[1].code}, {es[2].code})")
        else:
            self.emit(f"{', '.join(names)} = {', '.join(e.code for e in es)}")
        for nm, e in zip(names, es):
            self.declare(Var(nm, e.tset, max(e.bound, 1000)))

    def any_num(self, d):
        return self.rng.choice([self.e_int, self.e_float, self.e_num])(d)

    def st_tfor(self, d):
        """``for x in t`` over a tuple variable or varargs."""
        vs = [v for v in self.vars(lambda v: len(v.tset) == 1)
              if is_tup(next(iter(v.tset))) or next(iter(v.tset)).startswith("Tup*")]
        if not vs:
            raise Fail
        v = self.rng.choice(vs)
        c = next(iter(v.tset))
        els = set(tup_elems(c)) if is_tup(c) else ({INT, FLT} if c == f"Tup*[{REAL}]"
                                                   else {c[5:-1]})
        name = self.fresh("e")
        if self.chance(0.5):
            # ``for k, e in enumerate(t)``: each part of the target assigned directly (no
            # tuple of the index and a union element is made)
            k = self.fresh("k")
            self.loop(f"for {k}, {name} in enumerate({v.name}):", 4, d,
                      [Var(name, els, IFACE, assignable=False),
                       Var(k, {INT}, 16, assignable=False)])
            return
        self.loop(f"for {name} in {v.name}:", 4, d, Var(name, els, IFACE, assignable=False))

    # -- the static parameter -------------------------------------------------------------------
    def n_tconv(self, d):
        if not self.tv:
            raise Fail
        e = self.wrap(self.e_int(d - 1), IFACE) if self.chance(0.8) else \
            self.wrap(self.e_num(d - 1), IFACE)      # a fraction converts inexactly to Int64
        return Ex(f"{TV}({e.code})", NUM, max(e.bound, 1))

    def n_ufield(self, d):
        """A field of a variable that holds one of several struct types with that field
        (``p.x`` of a ``P3[T]``)."""
        cands = []
        for v in self.vars(lambda v: len(v.tset) > 1 and all(c in self.P.types for c in v.tset)):
            fs = [dict(self.P.types[c].fields) for c in v.tset]
            for fname in fs[0]:
                if all(fname in f for f in fs):
                    ts = frozenset(f[fname] for f in fs)
                    if ts <= NUM:
                        cands.append((f"{v.name}.{fname}", ts))
        if not cands:
            raise Fail
        code, ts = self.rng.choice(cands)
        return Ex(code, ts, IFACE)

    def st_tstruct(self, d):
        """``P3[T](..)``: a struct of the static parameter's type."""
        if not self.tfams:
            raise Fail
        fam = self.rng.choice(self.tfams)
        t = self.P.types[fam]
        args = []
        for _, ft in t.fields:
            if ft == TV:
                e = self.wrap(self.e_int(self.depth() - 1), IFACE)
                args.append(f"{TV}({e.code})" if self.chance(0.5) else e.code)
            else:
                args.append(self.field_arg(ft, self.depth() - 1).code)
        name = self.fresh("t")
        self.emit(f"{name} = {self.P.tref(self.k, fam)}[{TV}]({', '.join(args)})")
        self.declare(Var(name, {f"{fam}[{INT}]", f"{fam}[{FLT}]"}, None))

    # -- matrices -------------------------------------------------------------------------------
    def e_mat(self, c, d):
        vs = self.vars(lambda v: v.tset == {c})
        if vs and self.chance(0.6):
            v = self.rng.choice(vs)
            if self.chance(0.25):
                return Ex(f"np.zeros_like({v.name})", {c})
            return Ex(v.name, {c})
        n, m = self.rng.randint(1, 3), self.rng.randint(1, 3)
        dt = ", dtype=np.int64" if mat_elem(c) == INT else ""
        return Ex(f"np.zeros(({n}, {m}){dt})", {c})

    def _matel(self, want):
        cands = [(mv, i, j) for mv, i, j in self.mctx if mat_elem(next(iter(mv.tset))) == want]
        if cands:
            mv, i, j = self.rng.choice(cands)
            return Ex(f"{mv.name}[{i}, {j}]", {want}, IFACE)
        vs = self.vars(lambda v: v.tset == {f"Mat[{want}]"})
        if not vs or not self.chance(0.2):
            raise Fail
        # a constant index: a BoundsError where the matrix is too small (both sides agree)
        v = self.rng.choice(vs)
        return Ex(f"{v.name}[{self.rng.choice([0, -1, 1])}, {self.rng.choice([0, -1, 2])}]",
                  {want}, IFACE)

    def i_matel(self, d):
        return self._matel(INT)

    def f_matel(self, d):
        return self._matel(FLT)

    def st_matview(self, d):
        vs = self.vars(lambda v: len(v.tset) == 1 and is_mat(next(iter(v.tset))))
        if not vs:
            raise Fail
        v = self.rng.choice(vs)
        sl = self.rng.choice(["1:, :", ":, 1:", "1:, 1:", ":-1, :", "::2, :", ":, ::-1"])
        name = self.fresh("V")
        self.emit(f"{name} = {v.name}[{sl}]")
        self.declare(Var(name, v.tset, None, assignable=False))

    def st_matnew(self, d):
        if not FEATURES["matrices"]:
            raise Fail
        c = self.rng.choice(MATS)
        e = self.e_mat(c, d)
        name = self.fresh("M")
        self.emit(f"{name} = {e.code}")
        self.declare(Var(name, {c}, None, assignable=False))

    def st_matloop(self, d):
        """``n, m = A.shape`` and a nested loop over it reading and writing ``A[i, j]``."""
        vs = self.vars(lambda v: len(v.tset) == 1 and is_mat(next(iter(v.tset))))
        if not vs or self.loops > 0 or self.mult > 4:
            raise Fail
        v = self.rng.choice(vs)
        el = mat_elem(next(iter(v.tset)))
        # (the column count is not named m<k>: that is how modules are imported, ``m2``)
        n, m, i, j = self.fresh("n"), self.fresh("c"), self.fresh("i"), self.fresh("j")
        if len({n, m, i, j}) != 4:
            raise Fail
        self.emit(f"{n}, {m} = {v.name}.shape")
        self.declare(Var(n, {INT}, 16, assignable=False))
        self.declare(Var(m, {INT}, 16, assignable=False))
        self.emit(f"for {i} in range({n}):")
        self.indent += 1
        self.push()
        self.declare(Var(i, {INT}, 16, assignable=False))
        self.emit(f"for {j} in range({m}):")
        self.indent += 1
        self.push()
        self.declare(Var(j, {INT}, 16, assignable=False))
        saved = self.mult
        self.mult *= 12
        self.loops += 2
        self.mctx.append((v, i, j))
        if self.chance(0.5):
            self.block(d - 1)
        e = self.wrap(self.e_exact(el, self.depth()), IFACE)
        if el == FLT and self.chance(0.2):
            e = self.wrap(self.e_int(self.depth()), IFACE)     # converted on the way in
        op = "=" if el == INT or self.chance(0.7) else self.rng.choice(["+=", "-="])
        if op != "=":
            e = self.wrap(e, IFACE // 2)
            self.emit(f"{v.name}[{i}, {j}] = ({v.name}[{i}, {j}] % {flt_src(2.0 ** 29)})")
        self.emit(f"{v.name}[{i}, {j}] {op} {e.code}")
        self.mctx.pop()
        self.loops -= 2
        self.mult = saved
        self.pop()
        self.indent -= 1
        self.pop()
        self.indent -= 1

    def e_decl(self, T, d):
        """An argument for a parameter declared ``T``: its static type set lies in T."""
        allowed = self.P.conc(T)
        vs = self.vars(lambda v: v.tset and v.tset <= allowed)
        if vs and self.chance(0.35):
            v = self.rng.choice(vs)
            e = Ex(v.name, v.tset, v.bound or 0)
        else:
            gen = [c for c in self.generatable() if c in allowed]
            if not gen:
                if not vs:
                    raise Fail
                v = self.rng.choice(vs)
                e = Ex(v.name, v.tset, v.bound or 0)
            elif len(gen) > 1 and d > 0 and self.chance(0.25):
                c1, c2 = self.rng.sample(gen, 2)
                a, b = self.e_exact(c1, d - 1), self.e_exact(c2, d - 1)
                a, b = [self.wrap(x, IFACE) if x.tset <= NUM else x for x in (a, b)]
                e = Ex(f"({a.code} if {self.cond(d - 1)} else {b.code})", {c1, c2},
                       max(a.bound, b.bound))
            elif T == REAL and self.chance(0.3):
                e = self.e_num(d)
            else:
                e = self.e_exact(self.rng.choice(gen), d)
        if e.tset <= NUM:
            e = self.wrap(e, IFACE)     # (numbers in a set with structs are wrapped apiece)
        return e

    # -- conditions ---------------------------------------------------------------------------
    def cond(self, d):
        r = self.rng.random()
        if d <= 0 or r < 0.55:
            a, b = self.e_num(d - 1), self.e_num(d - 1)
            return f"({a.code} {self.rng.choice(['<', '<=', '>', '>=', '==', '!='])} {b.code})"
        if r < 0.65:
            a, b, c = self.e_num(d - 1), self.e_num(d - 1), self.e_num(d - 1)
            o1, o2 = self.rng.choice(["<", "<="]), self.rng.choice(["<", "<=", "!="])
            return f"({a.code} {o1} {b.code} {o2} {c.code})"
        if r < 0.7:
            return f"(not {self.cond(d - 1)})"
        if r < 0.75:
            structs = self.P.visible_structs(self.k)      # struct equality: field by field
            if structs:
                a = self.e_struct(self.rng.choice(structs), d - 1)
                b = self.e_struct(self.rng.choice(structs), d - 1)
                return f"({a.code} {self.rng.choice(['==', '!='])} {b.code})"
            return f"(not {self.cond(d - 1)})"
        if r < 0.8 and FEATURES["tuples"]:               # tuples compare lexicographically
            c = self.rng.choice(TUPS)
            a, b = self.e_tup(c, d - 1), self.e_tup(c, d - 1)
            return f"({a.code} {self.rng.choice(['==', '!=', '<', '<=', '>', '>='])} {b.code})"
        if r < 0.9:
            return f"({self.cond(d - 1)} {self.rng.choice(['and', 'or'])} {self.cond(d - 1)})"
        return self.e_num(d - 1).code           # truthiness of a number

    # -- statements -----------------------------------------------------------------------------
    def depth(self):
        return self.rng.choice([1, 2, 2, 3])

    def block(self, d):
        """At least one statement at the current indentation, in a new scope."""
        self.push()
        n = self.rng.randint(1, 3)
        emitted = len(self.lines)
        for _ in range(n):
            if self.stmts_left <= 0 and len(self.lines) > emitted:
                break
            self.stmt(d)
        if len(self.lines) == emitted:
            self.emit("pass")
        self.pop()

    def stmt(self, d):
        self.stmts_left -= 1
        self.cost += self.mult
        kinds = ["assign"] * 4 + ["reassign"] * 2 + ["aug"] * 2 + ["exprstmt"]
        if d > 0:
            kinds += ["if"] * 3 + ["early_return"]
            if self.loops < 2 and self.mult < 50:
                kinds += ["for"] * 2 + ["while"]
        if self.loops:
            kinds += ["brk"]
        if FEATURES["tuples"]:
            kinds += ["unpack"] * 2 + (["tfor"] if d > 0 and self.loops < 2 else [])
        if self.tfams:
            kinds += ["tstruct"] * 2
        if FEATURES["matrices"] and d > 0 and any(
                len(v.tset) == 1 and is_mat(next(iter(v.tset))) for v in self.vars()):
            kinds += ["matloop"] * 4 + ["matview", "matnew"]
        if FEATURES["functional"]:
            kinds += ["try", "closure", "mutable", "accum", "kwlambda"]
        if FEATURES["containers"]:
            kinds += ["alias"]
        if self.chance(0.012):
            kinds = ["error"]
        for _ in range(6):
            try:
                getattr(self, "st_" + self.rng.choice(kinds))(d)
                return
            except Fail:
                pass
        self.st_assign(0)

    def any_expr(self, d):
        r = self.rng.random()
        if r < 0.3:
            return self.e_int(d)
        if r < 0.55:
            return self.e_float(d)
        if r < 0.65:
            return self.e_num(d)
        structs = self.P.visible_structs(self.k)
        if r < 0.72 and FEATURES["tuples"]:
            return self.e_tup(self.rng.choice(TUPS), d)
        if r < 0.9 and structs:
            return self.e_struct(self.rng.choice(structs), d)
        decl = [a for a in self.P.visible_abstracts(self.k) if self.P.conc(a)] + [REAL]
        return self.e_decl(self.rng.choice(decl), d)

    def st_assign(self, d):
        e = self.any_expr(self.depth())
        name = self.fresh("t")
        self.emit(f"{name} = {e.code}")
        # numbers in a set with structs are all within IFACE (e_decl), and stay so
        bound = max(e.bound, 1000) if e.tset <= NUM else IFACE if e.tset & NUM else None
        self.declare(Var(name, e.tset, bound))

    def value_for(self, v, d):
        ts = v.tset
        if ts == {INT}:
            e = self.e_int(d)
        elif ts == {FLT}:
            e = self.e_float(d)
        elif ts <= NUM:
            e = self.rng.choice([self.e_int, self.e_float, self.e_num])(d)
        else:
            gen = [c for c in self.generatable() if c in ts]
            vs = self.vars(lambda w: w.tset and w.tset <= ts and w is not v)
            if gen and (not vs or self.chance(0.7)):
                e = self.e_exact(self.rng.choice(gen), d)
                if e.tset <= NUM:
                    e = self.wrap(e, IFACE)
            elif vs:
                w = self.rng.choice(vs)
                e = Ex(w.name, w.tset, w.bound or 0)
            else:
                raise Fail
        if e.tset <= NUM:
            e = self.wrap(e, v.bound)
        return e

    def st_reassign(self, d):
        vs = self.vars(lambda v: v.assignable)
        if not vs:
            raise Fail
        v = self.rng.choice(vs)
        e = self.value_for(v, self.depth())
        self.emit(f"{v.name} = {e.code}")

    def st_aug(self, d):
        vs = self.vars(lambda v: v.assignable and v.tset and v.tset <= NUM)
        if not vs:
            raise Fail
        v = self.rng.choice(vs)
        op = self.rng.choice(["+=", "-=", "*="] + (["/="] if v.tset == {FLT} else []))
        if op == "/=":
            c = self.rng.choice([2, 4.0, -8, 0.5])
            self.emit(f"{v.name} /= {flt_src(c) if isinstance(c, float) else int_src(c)}")
            newb = v.bound / abs(c)
        else:
            e = self.e_int(self.depth()) if INT in v.tset and v.tset == {INT} else \
                self.rng.choice([self.e_int, self.e_float])(self.depth())
            if op == "*=":
                e = self.wrap(e, max(1, LIMIT // max(1, v.bound)))
                newb = v.bound * e.bound
            else:
                e = self.wrap(e, LIMIT // 2)
                newb = v.bound + e.bound
            if not (e.tset <= v.tset):       # int var += float: its type would change
                raise Fail
            self.emit(f"{v.name} {op} {e.code}")
        if newb > v.bound:
            mods = [m for m in MODULI if 2 <= abs(m) <= v.bound] or [2]
            mod = self.rng.choice(mods)
            self.emit(f"{v.name} %= {int_src(mod)}")

    def st_exprstmt(self, d):
        ret = self.rng.choice([INT, FLT] + self.P.visible_structs(self.k))
        e = self._call(ret, self.depth())
        self.emit(e.code)

    def st_if(self, d):
        self.emit(f"if {self.cond(self.depth())}:")
        self.indent += 1
        self.block(d - 1)
        self.indent -= 1
        while self.chance(0.3):
            self.emit(f"elif {self.cond(self.depth())}:")
            self.indent += 1
            self.block(d - 1)
            self.indent -= 1
        if self.chance(0.5):
            self.emit("else:")
            self.indent += 1
            self.block(d - 1)
            self.indent -= 1

    def loop(self, header, iters, d, loopvar=None, pre=None):
        self.emit(header)
        self.indent += 1
        self.push()
        for lv in (loopvar if isinstance(loopvar, list) else [loopvar]):
            if lv is not None:
                self.declare(lv)
        if pre:
            self.emit(pre)
        saved = self.mult
        self.mult *= max(1, iters)
        self.loops += 1
        self.block(d - 1)
        self.loops -= 1
        self.mult = saved
        self.pop()
        self.indent -= 1

    def st_for(self, d):
        name = self.fresh("i")
        r = self.rng.random()
        if r < 0.35:
            n = self.rng.randint(0, 12)
            args, iters, bound = str(n), n, n
        elif r < 0.6:
            a = self.rng.randint(-6, 6)
            b = a + self.rng.randint(-2, 12)
            args, iters, bound = f"{int_src(a)}, {int_src(b)}", max(0, b - a), max(abs(a), abs(b))
        elif r < 0.8:
            a, b = self.rng.randint(-10, 10), self.rng.randint(-10, 10)
            s = self.rng.choice([1, 2, 3, -1, -2, -4])
            args, iters, bound = f"{int_src(a)}, {int_src(b)}, {int_src(s)}", 20, 10
        else:
            k = self.rng.randint(2, 12)
            e = self.e_int(1)
            args, iters, bound = f"{e.code} % {k}", k, k
        self.loop(f"for {name} in range({args}):", iters, d, Var(name, {INT}, max(bound, 1)))

    def st_while(self, d):
        w = self.fresh("w")
        k = self.rng.randint(0, 10)
        self.emit(f"{w} = 0")
        self.declare(Var(w, {INT}, k, assignable=False))
        extra = f" and {self.cond(1)}" if self.chance(0.3) else ""
        self.loop(f"while {w} < {k}{extra}:", k, d, pre=f"{w} += 1")

    def ret_expr(self, d):
        ret = self.fn.ret
        e = self.e_exact(ret, d)
        if ret in NUM:
            e = self.wrap(e, IFACE)
        return e

    def st_early_return(self, d):
        self.emit(f"if {self.cond(self.depth())}:")
        self.indent += 1
        self.emit(f"return {self.ret_expr(self.depth()).code}")
        self.indent -= 1

    def st_brk(self, d):
        self.emit(f"if {self.cond(self.depth())}:")
        self.indent += 1
        self.emit(self.rng.choice(["break", "continue"]))
        self.indent -= 1

    def st_error(self, d):
        self.emit(f"if {self.cond(self.depth())}:")
        self.indent += 1
        vs = self.vars(lambda v: v.tset in ({INT}, {FLT}))
        if vs and self.chance(0.6):
            v = self.rng.choice(vs)
            self.emit(f'pk.error(f"fuzz error {self.fn.name} {{{v.name}}} end")')
        else:
            self.emit(f'pk.error("fuzz error in {self.fn.name}")')
        self.indent -= 1

    # -- whole body -------------------------------------------------------------------------
    def generate(self):
        m = self.m
        if m.recursive:
            n = m.pnames[0]
            self.scopes[0][n].assignable = False
            self.emit(f"if {n} <= 0:")
            self.indent += 1
            self.emit(f"return {self.ret_expr(1).code}")
            self.indent -= 1
        d = self.rng.choice([1, 2, 3])
        while self.stmts_left > 0:
            self.stmt(d)
        if m.recursive:
            for _ in range(4):
                args = [Ex(f"({m.pnames[0]} // 2)", {INT})] + \
                       [self.e_decl(T, 1) for T in m.sig[1:]]
                if self.P.all_resolve(self.fn, [a.tset for a in args]):
                    r = self.fresh("r")
                    self.emit(f"{r} = {self.P.fnref(self.k, self.fn)}"
                              f"({', '.join(a.code for a in args)})")
                    self.declare(Var(r, {self.fn.ret}, IFACE if self.fn.ret in NUM else None))
                    break
            else:
                m.recursive = False
        self.emit(f"return {self.ret_expr(self.rng.choice([1, 2, 3])).code}")
        return self.lines


# ------------------------------------------------------------------------------------------
# Whole programs


def _topo_shuffle(items, deps, rng):
    """A random order of ``items`` in which each comes after the items it depends on."""
    left = list(items)
    done, out = set(), []
    while left:
        ready = [it for it in left if all(d in done for d in deps(it))]
        it = rng.choice(ready)
        left.remove(it)
        done.add(id(it[1]))
        out.append(it)
    return out


def value_spec(P, c, rng, depth=0):
    if c == INT:
        v = rng.choice(INT_LITS + [rng.randint(-2 ** 20, 2 ** 20), rng.randint(-50, 50)])
        return ["i", v]
    if c == FLT:
        v = rng.choice(FLT_LITS + [round(rng.uniform(-1e6, 1e6), rng.choice([0, 2, 9])),
                                   rng.uniform(-10, 10)])
        return ["f", float(v).hex()]
    if c == REAL:
        return value_spec(P, rng.choice([INT, FLT]), rng)
    if is_tup(c):
        return ["t", [value_spec(P, e, rng) for e in tup_elems(c)]]
    if is_mat(c):
        el = mat_elem(c)
        nr, nc = rng.randint(1, 3), rng.randint(1, 4)
        return ["m", el, [[value_spec(P, el, rng) for _ in range(nc)] for _ in range(nr)]]
    t = P.types[c]
    return ["s", P.modname(t.module), c, [value_spec(P, ft, rng, depth + 1) for _, ft in t.fields]]


def spec_modules(P, spec):
    if spec[0] == "s":
        return {P.types[spec[2]].module} | set().union(*[spec_modules(P, s) for s in spec[3]])
    return set()


def generate(index, params):
    rng = random.Random(params["seed"])
    P = Program(f"fz{params['seed'] % 10 ** 6:06d}x{index}", params["nmod"])
    n = P.nmod
    for k in range(1, n):
        if rng.random() < 0.12:
            continue                        # an independent module: only base operators shared
        P.deps[k] = {rng.randrange(k)} | {j for j in range(k) if rng.random() < 0.3}
    for k in range(n):
        stack, seen = [k], set()
        while stack:
            j = stack.pop()
            if j not in seen:
                seen.add(j)
                stack.extend(P.deps[j])
        P.vis[k] = seen
        for j in seen - {k}:
            P.style[(k, j)] = rng.choice(["alias", "from"])
    P.plain = {k for k in range(n) if rng.random() < 0.12}

    # types
    kinds = ["abstract"] * params["nabs"] + ["struct"] * params["nstruct"]
    rng.shuffle(kinds)
    if "struct" not in kinds[:1] and kinds.count("struct") and rng.random() < 0.5:
        kinds.remove("struct")
        kinds.insert(0, "struct")
    for i, kind in enumerate(kinds):
        k = rng.randrange(n)
        absv = P.visible_abstracts(k)
        parent = rng.choice(absv) if absv and rng.random() < 0.75 else None
        name = f"{'A' if kind == 'abstract' else 'S'}{i}"
        t = Ty(name, kind, k, parent)
        if kind == "struct":
            nf = rng.choice([0, 1, 1, 2, 2, 2, 3])
            structs = P.visible_structs(k)
            for fi in range(nf):
                r = rng.random()
                if r < 0.4:
                    ft = INT
                elif r < 0.75:
                    ft = FLT
                elif structs:         # (fields of abstract types such as Real are refused)
                    ft = rng.choice(structs)
                else:
                    ft = INT
                t.fields.append(("pqruvz"[fi], ft))
        P.types[name] = t

    # parametric types: a struct family P<i>[T], sometimes under an abstract family A<j>[T]
    if FEATURES["parametric"] and rng.random() < 0.45:
        i = len(kinds)
        k = rng.randrange(n)
        pparent = None
        if rng.random() < 0.5:
            j = rng.choice(sorted(P.vis[k])) if FEATURES["cross_module_parametric_parent"] \
                else k
            a = Ty(f"A{i}", "pabstract", j, None)
            a.family = a.name
            P.types[a.name] = a
            for X in (INT, FLT):
                sp = Ty(f"{a.name}[{X}]", "abstract", j, None)
                sp.family, sp.param = a.name, X
                P.types[sp.name] = sp
            pparent = a.name
            i += 1
        t = Ty(f"P{i}", "pstruct", k, None, [("x", TV), ("y", TV)])
        if rng.random() < 0.4:
            t.fields.append(("z", rng.choice([INT, FLT])))
        t.family, t.pparent = t.name, pparent
        P.types[t.name] = t
        for X in (INT, FLT):
            sp = Ty(f"{t.name}[{X}]", "struct", k, f"{pparent}[{X}]" if pparent else None,
                    [(f, X if ft == TV else ft) for f, ft in t.fields])
            sp.family, sp.param = t.name, X
            P.types[sp.name] = sp
        P.uses_tv = True

    # constants
    for i in range(rng.randint(0, 3)):
        k = rng.randrange(n)
        c = rng.choice([INT, FLT] + P.visible_structs(k))
        spec = value_spec(P, c, rng)
        bound = abs(spec[1]) if c == INT else abs(float.fromhex(spec[1])) if c == FLT else None
        P.consts.append((f"K{i}", k, c, spec, bound))

    # globals created late (by ``__init__()``) and a plain helper module: drawn from a generator
    # of their own, so that programs without them are the ones drawn before they existed
    wrng = random.Random(params["seed"] ^ 0x16)
    if FEATURES["late_globals"]:
        for k in range(n):
            if k not in P.plain and wrng.random() < 0.25:
                P.late[k] = []
                for i in range(wrng.randint(1, 2)):
                    c = wrng.choice([INT, FLT])
                    spec = value_spec(P, c, wrng)
                    bound = abs(spec[1]) if c == INT else abs(float.fromhex(spec[1]))
                    P.late[k].append((f"L{k}_{i}", k, c, spec, bound))
    if FEATURES["helper_module"] and wrng.random() < 0.3:
        for i in range(wrng.randint(1, 3)):
            c = wrng.choice([INT, FLT])
            spec = value_spec(P, c, wrng)
            bound = abs(spec[1]) if c == INT else abs(float.fromhex(spec[1]))
            P.hconsts.append((f"H{i}", None, c, spec, bound))
        P.hmods = {k for k in range(n) if wrng.random() < 0.6} or {wrng.randrange(n)}

    # functions and operators
    for i in range(params["nfn"]):
        k = rng.randrange(n)
        rets = [INT, INT, FLT, FLT] + P.visible_structs(k)
        if FEATURES["tuples"] and rng.random() < 0.2:
            rets = TUPS[:4]                 # returning several values
        fn = Fn(f"f{i}", k, rng.choice([1, 1, 2, 2, 2, 3]), rng.choice(rets))
        if FEATURES["varargs"] and rng.random() < 0.12:
            fn.va, fn.arity = True, 0
        P.fns.append(fn)
    structs = [s.name for s in P.structs()]
    if structs:
        for op in rng.sample(["add", "sub", "mul", "neg"], min(4, params["ops"])):
            fn = Fn(op, None, 1 if op == "neg" else 2, rng.choice(structs), op=op)
            P.ops[op] = fn
            P.fns.append(fn)
    order = list(P.fns)
    rng.shuffle(order)
    for r, fn in enumerate(order):
        fn.rank = r

    def decl_choices(k, op=False):
        out = [INT] * 3 + [FLT] * 3 + [REAL] * 2 + [ANY]
        out += [a for a in P.visible_abstracts(k) if P.conc(a)] * 2
        out += P.visible_structs(k) * 2
        fams = [t.name for t in P.types.values() if t_is_family(t) and t.module in P.vis[k]]
        out += [f"{f}[{TV}]" for f in fams] * 3
        if not op:
            if FEATURES["tuples"]:
                out += DECL_TUPS
            if FEATURES["matrices"]:
                out += MATS
        return out

    def addable(fn, m):
        """A method involving a type variable or a Vararg is added only where its overlaps
        with the others are nested."""
        return not any((m.special() or o.special()) and P.crossing(m, o) for o in fn.methods)

    names = [("a", "b", "c"), ("x", "y", "z"), ("n", "m", "k"), ("u", "v", "w")]
    for fn in P.fns:
        if fn.op:
            mods = [k for k in range(n) if P.types[fn.ret].module in P.vis[k]]
        else:
            mods = [k for k in range(n) if fn.owner in P.vis[k]]
        want = rng.choice([1, 1, 2, 2, 3])
        if fn.va:
            # Vararg methods (*xs: Int64 / Real) next to fixed ones nested in them
            for _ in range(12):
                if len(fn.methods) >= want + 1:
                    break
                k = rng.choice(mods)
                m = Meth(fn, k, (), [])
                r = rng.random()
                if r < 0.5:
                    m.va = rng.choice([INT, REAL])
                elif r < 0.65:
                    m.sig, m.va, m.pnames = (INT,), INT, ["a"]
                else:
                    m.sig = tuple(rng.choice([INT, FLT, REAL]) for _ in range(rng.choice([1, 2])))
                    m.pnames = ["a", "b"][:len(m.sig)]
                if any(o.sig == m.sig and o.va == m.va for o in fn.methods) \
                        or not addable(fn, m):
                    continue
                fn.methods.append(m)
            if not any(m.va for m in fn.methods):
                m = Meth(fn, rng.choice(mods), (), [])
                m.va = INT
                fn.methods = [o for o in fn.methods if not P.crossing(m, o)] + [m]
            continue
        for _ in range(want * 6):
            if len(fn.methods) >= want:
                break
            k = rng.choice(mods)
            sig = tuple(rng.choice(decl_choices(k, fn.op)) for _ in range(fn.arity))
            if fn.arity == 2 and FEATURES["diagonal"] and not fn.op and rng.random() < 0.12:
                sig = (TV, TV)
            elif fn.arity == 2 and not fn.op and any(m.sig == (TV, TV) for m in fn.methods) \
                    and rng.random() < 0.6:
                sig = rng.choice([(REAL, REAL), (INT, INT), (FLT, FLT), (INT, FLT), (ANY, REAL)])
            if fn.methods and rng.random() < 0.35 and TV not in sig:
                # a narrower method in a module loaded later, where possible: importing it
                # changes what earlier compiled calls resolve to
                base = rng.choice([m for m in fn.methods if TV not in m.sig] or fn.methods)
                later = [j for j in mods if j > base.module and base.module in P.vis[j]] \
                    or [base.module]
                k2 = rng.choice(later)
                i = rng.randrange(fn.arity)
                narrower = [T for T in decl_choices(k2) if T != base.sig[i]
                            and P.dsub(T, base.sig[i]) and P.conc(T)]
                if narrower:
                    k = k2
                    sig = base.sig[:i] + (rng.choice(narrower),) + base.sig[i + 1:]
            if fn.op and all(T in (INT, FLT, REAL, ANY) for T in sig):
                continue
            if any(m.sig == sig for m in fn.methods):
                continue
            if sig != (TV, TV) and sum(T == TV or is_fam(T) for T in sig) > 1:
                continue        # one type variable per signature (shared only diagonally)
            m = Meth(fn, k, sig, rng.choice(names)[:fn.arity])
            if not addable(fn, m):
                continue
            if sig[0] == INT and not fn.op and rng.random() < 0.25:
                m.recursive = True
                m.pnames[0] = "n"
                m.pnames[1:] = [p for p in ("x", "y") if p != "n"][:fn.arity - 1]
            fn.methods.append(m)
        if not fn.methods:
            k = rng.choice(mods)
            sig = tuple(rng.choice(P.visible_structs(k)) if fn.op else INT
                        for _ in range(fn.arity))
            fn.methods.append(Meth(fn, k, sig, ["a", "b", "c"][:fn.arity]))

    # default parameter values: a function with one method of Int64/Float64 parameters may
    # get defaults for its last ones; the shorter methods they make (Julia's rule) are
    # methods of the model (dispatch, driver calls) but not written
    if FEATURES["functional"] and FEATURES["defaults"]:
        drng = random.Random(params["seed"] ^ 0xDF)
        for fn in P.fns:
            if fn.op or fn.va or fn.arity < 2 or len(fn.methods) != 1 or \
                    drng.random() > 0.6:
                continue
            m = fn.methods[0]
            first = fn.arity
            while first > 1 and m.sig[first - 1] in (INT, FLT, REAL) and \
                    (first == fn.arity or drng.random() < 0.5):
                first -= 1
            if m.va is not None or first == fn.arity:
                continue
            m.dtypes = tuple(drng.choice([INT, FLT]) if T == REAL else T
                             for T in m.sig[first:])
            m.defaults = tuple(int_src(drng.choice(INT_LITS)) if T == INT else
                               flt_src(drng.choice(FLT_LITS)) for T in m.dtypes)
            fn.dflt = (m, first)
            for j in range(first, fn.arity):
                sm = Meth(fn, m.module, m.sig[:j], m.pnames[:j])
                sm.synth = True
                fn.methods.append(sm)

    # bodies, lowest rank first (callees' costs are known when their callers are written)
    for fn in sorted(P.fns, key=lambda f: f.rank):
        for m in fn.methods:
            if m.synth:
                continue
            b = Body(P, m, rng)
            try:
                m.body = b.generate()
            except Fail:
                b = Body(P, m, rng)
                b.stmts_left = 0
                m.recursive = False
                m.body = [f"return {b.ret_expr(0).code}"]
            m.cost = max(1, b.cost) * (32 if m.recursive else 1)
            fn.late = fn.late or b.late
        for m in fn.methods:
            if m.synth:
                m.cost = fn.dflt[0].cost
        fn.cost = max(m.cost for m in fn.methods)

    # definition order per module
    for k in range(n):
        items = [("type", t) for t in P.types.values() if t.module == k and "[" not in t.name]
        items += [("const", c) for c in P.consts if c[1] == k]
        owned = {}
        for fn in P.fns:
            ms = [m for m in fn.methods if m.module == k and not m.synth]
            if not fn.op and fn.owner == k and not ms:
                items.append(("decl", fn))
            for m in ms:
                items.append(("meth", m))
                if not fn.op and fn.owner == k:
                    owned.setdefault(fn.name, []).append(m)
        tnames = {t.name: ("type", t) for t in P.types.values()
                  if t.module == k and "[" not in t.name}

        def deps(item, tnames=tnames):
            kind, obj = item
            out = []
            if kind == "type":
                refs = ([obj.parent] if obj.parent else []) + [ft for _, ft in obj.fields]
                refs += [obj.pparent] if obj.pparent else []
            elif kind == "const":
                refs = [obj[2]] + list(_spec_types(obj[3]))
            elif kind == "meth":
                refs = list(obj.sig) + ([obj.va] if obj.va else [])
            else:
                refs = []
            for r in refs:
                r = r.split("[")[0]
                if r in tnames:
                    out.append(id(tnames[r][1]))
            return out

        ordered = _topo_shuffle(items, deps, rng)
        # the first method its owner defines creates the function: @pk.generic; later ones
        # use @pk.generic again or @f.method
        firsts = set()
        for kind, obj in ordered:
            if kind == "meth" and not obj.fn.op:
                if obj.fn.owner == k:
                    obj.style = "generic" if obj.fn.name not in firsts or rng.random() < 0.6 \
                        else "method"
                    firsts.add(obj.fn.name)
                else:
                    obj.style = "method"
        P.order[k] = ordered

    # driver calls
    callable_fns = [f for f in P.fns if f.methods]
    for _ in range(rng.randint(4, 10)):
        fn = rng.choice(callable_fns)
        if rng.random() < 0.85:
            m = rng.choice(fn.methods)
            ps = m.at(len(m.sig) + rng.randint(0, 3)) if m.va is not None else m.sig
            ctypes = [rng.choice(sorted(P.conc(T))) if P.conc(T) else INT for T in ps]
            if TV in ps and rng.random() < 0.7:       # mostly calls the diagonal can take
                c = rng.choice([INT, FLT])
                ctypes = [c if T == TV else x for x, T in zip(ctypes, ps)]
        else:
            ctypes = [rng.choice([INT, FLT] + structs) for _ in range(
                rng.randint(0, 3) if fn.va else fn.arity)]
        if fn.op and all(c in NUM for c in ctypes):
            continue                       # plain arithmetic: not what is being tested
        args = [value_spec(P, c, rng) for c in ctypes]
        need = set().union(*[spec_modules(P, a) for a in args]) if args else set()
        if not fn.op:
            need.add(fn.owner)
        ref = ["op", fn.op] if fn.op else ["fn", P.modname(fn.owner), fn.name]
        P.calls.append((ref, args, need, fn))

    # build-time work: precompile exact signatures; call, at build time (generating_output
    # or a post-close workload), exact signatures and the driver's calls that the module can
    # make with only its dependencies loaded (their code goes into the image, compiled in a
    # context without the modules loaded later)
    for k in range(n):
        exact = [m for fn in P.fns for m in fn.methods
                 if m.module in P.vis[k] and m.va is None and all(
                     T in (INT, FLT) or (T in P.types and P.types[T].kind == "struct")
                     or (is_tup(T) and T in TUPS) or is_mat(T) for T in m.sig)
                 and (fn.op or fn.owner in P.vis[k])]
        tail = []
        for m in rng.sample(exact, min(len(exact), rng.randint(0, 2))):
            if m.fn.late:
                continue    # it cannot compile before ``__init__()`` created the global
            tys = ", ".join(P.tref(k, T) for T in m.sig)
            tail.append(f"pk.precompile({P.fnref(k, m.fn)}, ({tys},))")
        calls = [(m.fn, ", ".join(P.value_src(k, value_spec(P, T, rng)) for T in m.sig))
                 for m in rng.sample(exact, min(len(exact), rng.randint(0, 1)))]
        for ref, args, need, fn in P.calls:
            home = max(need) if need else (fn.owner if not fn.op else rng.randrange(n))
            if home == k and need <= P.vis[k] and rng.random() < 0.8:
                calls.append((fn, ", ".join(P.value_src(k, a) for a in args)))
        if calls:
            body = []
            for fn, args in calls:
                body += ["try:", f"    {P.fnref(k, fn)}({args})", "except Exception:",
                         "    pass"]
            if rng.random() < 0.75:
                tail += ["if pk.generating_output():"] + ["    " + ln for ln in body]
            else:
                tail += ["@pk.precompilation(__name__)", "def _workload():"] + \
                        ["    " + ln for ln in body]
        P.tail[k] = tail

    if FEATURES["inprocess_sandbox"] and wrng.random() < 0.3:
        P.sandbox = "inprocess"
    if FEATURES["mutating_workloads"]:
        # in-process, half the programs' workloads only rebind (what that sandbox can undo)
        rebind_only = P.sandbox == "inprocess" and wrng.random() < 0.5
        for k in range(n):
            if k not in P.plain and wrng.random() < 0.4:
                P.mutators[k] = mutating_workload(P, k, wrng, rebind_only)

    P.uses_tv = P.uses_tv or any(TV in m.sig for fn in P.fns for m in fn.methods)
    P.uses_np = any(is_mat(T) for fn in P.fns for m in fn.methods for T in m.sig) or \
        any("np." in ln for fn in P.fns for m in fn.methods for ln in m.body) or \
        any("np." in ln for lines in P.mutators.values() for ln in lines)
    for key in ("a", "b"):
        P.steps[key] = make_steps(P, rng)
    return P


def _visible_type(P, k, T):
    if T in (INT, FLT, REAL, ANY, TV) or is_tup(T) or is_mat(T):
        return True
    base = T.split("[")[0]
    return base not in P.types or P.types[base].module in P.vis[k]


def _new_body(P, m, rng):
    b = Body(P, m, rng)
    try:
        return b.generate()
    except Fail:
        b = Body(P, m, rng)
        b.stmts_left = 0
        return [f"return {b.ret_expr(0).code}"]


def mutating_workload(P, k, rng, rebind_only=False):
    """A post-close workload of module ``k`` (issue 16) that changes the program's state -- its
    globals (own, other modules', the helper's, late ones), the names of its generic
    functions, its methods and operator methods (same signatures), new methods and functions
    -- and calls code before and after.  None of it may reach the image: the reference ignores
    it.  Definitions come before rebindings, and a function's name is only ever rebound to a
    lower-ranked function, so no call chain can loop (bodies call lower ranks only)."""
    vis = P.vis[k]
    globs, defs, rebinds = [], [], []

    def target(j, name):
        """How module ``k`` rebinds the global ``name`` it reads from module ``j``."""
        if j == k or (P.style[(k, j)] == "from" and P.public_names(j)):
            if name not in globs:
                globs.append(name)
            return name
        return f"m{j}.{name}"

    def value(c):
        r = rng.random()
        if r < 0.55:
            return P.value_src(k, value_spec(P, c, rng))
        if r < 0.85:
            return P.value_src(k, value_spec(P, rng.choice([INT, FLT] + P.visible_structs(k)),
                                             rng))
        return rng.choice(["None", "2 ** 70", "'text'", "(1, 2.5)", "True", "-(2 ** 63)",
                           "float('nan')", "1e300"])

    fns = [f for f in P.fns if (f.op or f.owner in vis) and f.methods]
    writable = [f for f in fns if _visible_type(P, k, f.ret)]    # bodies build the result
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["const", "const", "const", "fn", "fn"] + ([] if rebind_only else
                          ["redefine", "redefine", "op", "newmeth", "newfn"]))
        if kind == "const":
            cands = [(c[1], c[0], c[2]) for c in P.consts if c[1] in vis]
            cands += [(k, c[0], c[2]) for c in P.late.get(k, ())]
            cands += [("h", c[0], c[2]) for c in P.hconsts] if k in P.hmods else []
            if not cands:
                continue
            j, name, c = rng.choice(cands)
            tgt = f"hlp.{name}" if j == "h" else target(j, name)
            rebinds.append(f"{tgt} = {value(c)}")
        elif kind == "fn":
            pairs = [(a, b) for a in fns for b in fns if not a.op and not b.op
                     and b.rank < a.rank]
            if not pairs:
                continue
            a, b = rng.choice(pairs)
            tgt = target(a.owner, a.name)
            src = f'pk.function("{a.name}")' if rng.random() < 0.15 else P.fnref(k, b)
            rebinds.append(f"{tgt} = {src}")
        elif kind in ("redefine", "op"):
            ms = [m for f in writable if bool(f.op) == (kind == "op") for m in f.methods
                  if all(_visible_type(P, k, T) for T in m.sig + ((m.va,) if m.va else ()))]
            if not ms:
                continue
            m = rng.choice(ms)
            m2 = Meth(m.fn, k, m.sig, m.pnames)
            m2.va = m.va
            if not m.fn.op and m.fn.owner == k and rng.random() < 0.5:
                m2.style = "generic"          # ``global f`` makes it the module's ``f``
                if m.fn.name not in globs:
                    globs.append(m.fn.name)
            else:
                m2.style = "method"
            m2.body = _new_body(P, m2, rng)
            defs += P.render(k, ("meth", m2))
        elif kind == "newmeth":
            cands = [f for f in writable if not f.va]
            if not cands:
                continue
            fn = rng.choice(cands)
            choices = [INT, FLT, REAL, ANY] + P.visible_structs(k)
            sig = tuple(rng.choice(choices) for _ in range(fn.arity))
            if any(m.sig == sig for m in fn.methods) or \
                    (fn.op and all(T in (INT, FLT, REAL, ANY) for T in sig)):
                continue
            m2 = Meth(fn, k, sig, ["a", "b", "c"][:fn.arity])
            m2.style = "method"
            m2.body = _new_body(P, m2, rng)
            defs += P.render(k, ("meth", m2))
        else:
            defs += ["@pk.generic", "def fresh(x: Int64):", "    return x * 3"]
            defs += ["fresh(2)"]
    if defs:
        P.defines.add(k)

    def calls(n):
        out = []
        exact = [m for fn in fns for m in fn.methods if m.va is None and all(
            T in (INT, FLT) or (T in P.types and P.types[T].kind == "struct")
            or (is_tup(T) and T in TUPS) or is_mat(T) for T in m.sig)
            and all(_visible_type(P, k, T) for T in m.sig)]
        for m in rng.sample(exact, min(len(exact), n)):
            args = ", ".join(P.value_src(k, value_spec(P, T, rng)) for T in m.sig)
            out += ["try:", f"    {P.fnref(k, m.fn)}({args})", "except Exception:", "    pass"]
        return out

    body = ([f"global {', '.join(globs)}"] if globs else []) + calls(rng.choice([0, 0, 1]))
    body += defs + rebinds + calls(rng.randint(1, 4))
    body = body or ["pass"]
    return ["", "@pk.precompilation(__name__)", "def _mutate():"] + ["    " + ln for ln in body]


def _spec_types(spec):
    if spec[0] == "s":
        yield spec[2]
        for s in spec[3]:
            yield from _spec_types(s)


def make_steps(P, rng):
    mods = list(range(P.nmod))
    rng.shuffle(mods)
    loaded, steps, pending, early = set(), [], list(P.calls), []
    rng.shuffle(pending)
    for k in mods:
        if k in loaded:
            continue
        steps.append(["import", P.modname(k)])
        loaded |= P.vis[k]
        for c in list(pending):
            if c[2] <= loaded and rng.random() < 0.25:
                steps.append(["call", c[0], c[1]])
                pending.remove(c)
                early.append(c)
    # every call, and again those made before the last import: code compiled then must not
    # be reused where the modules loaded since changed what it calls
    for c in pending + early:
        steps.append(["call", c[0], c[1]])
    if FEATURES["runtime_rebind"] and P.consts and rng.random() < 0.4:
        for name, k, c, spec, bound in rng.sample(P.consts, rng.randint(1, len(P.consts))):
            steps.append(["set", P.modname(k), name, _rebound_value(P, c, bound, rng)])
        steps += [["call", c[0], c[1]] for c in P.calls]
    return steps


def _rebound_value(P, c, bound, rng):
    """Another value for a constant, within the magnitude the bodies were generated for."""
    if c == INT:
        return ["i", rng.randint(-bound, bound)]
    if c == FLT:
        return ["f", rng.choice([-bound, bound, rng.uniform(-bound, bound), 0.0]).hex()]
    return value_spec(P, c, rng)

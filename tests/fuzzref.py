"""A pure-Python model of the part of pkgimage's API the fuzzed programs use (issue 8).

The differential fuzz test runs each generated program's modules a second time with
``import fuzzref as pk`` in place of ``import pkgimage as pk``: method bodies are then plain
Python (operators on numbers are Python's, on structs they go through ``__add__`` & co. to the
model's ``base.add``), and dispatch is this module's own few lines of Julia's rule (the most
specific applicable method by subclassing, otherwise ``MethodError`` / ``AmbiguityError``),
written independently of ``pkgimage.dispatch``.  Nothing here imports pkgimage.

Types are Python classes: ``Any > Number > Real > {Integer > Signed > Int64, AbstractFloat >
Float64}``; ``@abstract`` and ``@struct`` rebuild the class under its declared parent (or
``Any``); struct constructors convert like Julia's default constructors (an ``Int64`` into a
``Float64`` field becomes a float, a non-integral float into an ``Int64`` field is an
``InexactError``); structs compare field by field.  ``precompile``, ``generating_output``
and ``precompilation`` do nothing: they are the compile-time side of pkgimage, which a
plain-Python run does not have.

The language's newer parts are modelled too: tuples (``Tuple[...]`` annotations, covariant in
their elements), parametric structs and abstract types (``TypeVar``, ``Generic[T]``,
``Point[Float64]`` classes made on demand, invariant in their parameter; ``Point(1, 2)``
infers the parameter), methods with static parameters (a ``TypeVar`` annotation or
``Point[T]``; the value of ``T`` is bound in the body's globals for the call; Julia's diagonal
rule: a variable met more than once, only covariantly, must be one concrete type), varargs
(``*xs: Int64``), and 2-D arrays (``Matrix[Float64]``: ``RefMatrix`` holds Python numbers, so
reads give Python's ``int``/``float``; ``np.zeros``/``np.zeros_like`` make them).  Specificity is
strict subtyping of whole signatures, decided by the few forms the generator writes.
"""

import operator
import types as _types


class MethodError(TypeError):
    pass


class AmbiguityError(MethodError):
    pass


class InexactError(ValueError):
    pass


class ErrorException(Exception):
    pass


class Any:
    pass


class Number(Any):
    pass


class Real(Number):
    pass


class Integer(Real):
    pass


class Signed(Integer):
    pass


class _IntMeta(type):
    def __call__(cls, v):
        if type(v) is float:
            if v != v or v in (float("inf"), float("-inf")) or not v.is_integer():
                raise InexactError(f"Int64({v})")
        return int(v)


class _FloatMeta(type):
    def __call__(cls, v):
        return float(v)


class Int64(Signed, metaclass=_IntMeta):
    __rconcrete__ = True


class Bool(Integer):
    __rconcrete__ = True


class AbstractFloat(Real):
    pass


class Float64(AbstractFloat, metaclass=_FloatMeta):
    __rconcrete__ = True


class TypeVar:
    def __init__(self, name, bound=None):
        self.name, self.bound = name, bound or Any

    def __repr__(self):
        return self.name


class _Apply:
    """``Base[T]`` for a TypeVar ``T``: a base class in a class statement (``__mro_entries__``)
    and, as an annotation, the UnionAll ``Base[T] where T``."""

    def __init__(self, base, var):
        self.base, self.var = base, var

    def __mro_entries__(self, bases):
        return (object,)


class Generic:
    """``Generic[T]``: the marker a parametric type's class statement lists."""

    def __class_getitem__(cls, var):
        return _Apply(None, var)


class TupleT:
    def __init__(self, elems):
        self.elems = tuple(elems)

    def __eq__(self, other):
        return isinstance(other, TupleT) and other.elems == self.elems

    def __hash__(self):
        return hash(self.elems)

    def __repr__(self):
        return f"Tuple{list(self.elems)}"


class Vararg:
    def __init__(self, elem):
        self.elem = elem


class _TupleMaker:
    def __getitem__(self, items):
        items = items if isinstance(items, tuple) else (items,)
        return TupleT(items)


Tuple = _TupleMaker()


class MatrixT:
    def __init__(self, elem):
        self.elem = elem

    def __eq__(self, other):
        return isinstance(other, MatrixT) and other.elem is self.elem

    def __hash__(self):
        return hash(("matrix", self.elem))


class _MatrixMaker:
    def __getitem__(self, elem):
        return MatrixT(elem)


Matrix = _MatrixMaker()


class RefMatrix:
    """A 2-D array of Python numbers (a view: rows/cols are ranges into shared storage)."""

    def __init__(self, elem, data, rows=None, cols=None):
        self.elem, self.data = elem, data
        self.rows = range(len(data)) if rows is None else rows
        self.cols = range(len(data[0]) if data else 0) if cols is None else cols

    @property
    def shape(self):
        return (len(self.rows), len(self.cols))

    def __len__(self):
        return len(self.rows)

    def _ix(self, r, i):
        if not isinstance(i, int) or type(i) is bool:
            raise TypeError("fuzzref: matrix index")
        return r[i]                  # IndexError out of range, negative from the end

    def __getitem__(self, key):
        i, j = key
        if isinstance(i, slice) or isinstance(j, slice):
            rows = self.rows[i] if isinstance(i, slice) else self.rows[i:i + 1]
            cols = self.cols[j] if isinstance(j, slice) else self.cols[j:j + 1]
            return RefMatrix(self.elem, self.data, rows, cols)
        return self.data[self._ix(self.rows, i)][self._ix(self.cols, j)]

    def __setitem__(self, key, v):
        i, j = key
        self.data[self._ix(self.rows, i)][self._ix(self.cols, j)] = _convert(self.elem, v)

    def tolist(self):
        return [[self.data[r][c] for c in self.cols] for r in self.rows]


class _NP:
    int64 = "int64"
    float64 = "float64"

    @staticmethod
    def zeros(shape, dtype=None):
        n, m = shape
        elem = Int64 if dtype == "int64" else Float64
        z = 0 if elem is Int64 else 0.0
        return RefMatrix(elem, [[z] * m for _ in range(n)])

    @staticmethod
    def zeros_like(a):
        n, m = a.shape
        z = 0 if a.elem is Int64 else 0.0
        return RefMatrix(a.elem, [[z] * m for _ in range(n)])


np = _NP()


def typeof(v):
    t = type(v)
    if t is bool:
        return Bool
    if t is int:
        return Int64
    if t is float:
        return Float64
    if t is tuple:
        return TupleT(typeof(x) for x in v)
    if t is RefMatrix:
        return MatrixT(v.elem)
    if hasattr(t, "__rfields__"):
        return t
    raise TypeError(f"fuzzref: no type for {v!r}")


# -- subtyping and dispatch ---------------------------------------------------------------------

def _isconcrete(t):
    if isinstance(t, TupleT):
        return all(_isconcrete(e) for e in t.elems)
    if isinstance(t, MatrixT):
        return True
    return isinstance(t, type) and t.__dict__.get("__rconcrete__", False)


def _specialization(cls, base):
    """The parameter of ``base`` that class ``cls`` (a specialised parametric class or a
    subclass of one) carries, or None."""
    if not isinstance(cls, type):
        return None
    for c in cls.__mro__:
        if c.__dict__.get("__rbase__") is base:
            return c.__dict__["__rparam__"]
    return None


def _sub(a, b):
    """Declared type ``a`` <: declared type ``b`` (no type variables shared across positions:
    ``Base[T]`` is the UnionAll, which holds every specialisation of ``Base``)."""
    if b is Any:
        return True
    if isinstance(b, TypeVar):
        return _sub(a, b.bound) if not isinstance(a, TypeVar) else _sub(a.bound, b.bound)
    if isinstance(a, TypeVar):
        return _sub(a.bound, b)
    if isinstance(b, TupleT):
        return isinstance(a, TupleT) and len(a.elems) == len(b.elems) and \
            all(_sub(x, y) for x, y in zip(a.elems, b.elems))
    if isinstance(b, MatrixT):
        return a == b
    if isinstance(b, _Apply):
        if isinstance(a, _Apply):
            c = a.base
            while c is not None and c is not b.base:
                c = c.__dict__.get("__rpbase__")
            return c is not None
        return _specialization(a, b.base) is not None
    if isinstance(a, (TupleT, MatrixT)):
        return False
    if isinstance(a, _Apply):
        return issubclass(a.base, b) if isinstance(b, type) else False
    return issubclass(a, b)


class Sig:
    def __init__(self, params, va=None):
        self.params, self.va = tuple(params), va
        counts = {}
        for p in self.params + ((va,) if va is not None else ()):
            if isinstance(p, TypeVar):
                counts[p] = counts.get(p, 0) + (2 if p is va else 1)
        self.diag = {v for v, c in counts.items() if c >= 2}   # only covariant occurrences

    def at(self, n):
        """The parameter list for ``n`` arguments, or None."""
        if self.va is None:
            return self.params if n == len(self.params) else None
        if n < len(self.params):
            return None
        return self.params + (self.va,) * (n - len(self.params))

    def key(self):
        return (self.params, self.va)

    def match(self, types):
        """The static parameters ({TypeVar: type}) of a call with these argument types, or
        None when the method does not apply."""
        ps = self.at(len(types))
        if ps is None:
            return None
        inv, cov = {}, {}
        for t, p in zip(types, ps):
            if isinstance(p, TypeVar):
                cov.setdefault(p, []).append(t)
            elif isinstance(p, _Apply):
                x = _specialization(t, p.base)
                if x is None or inv.setdefault(p.var, x) is not x:
                    return None
            elif not _sub(t, p):
                return None
        env = {}
        for v in set(inv) | set(cov):
            ts = cov.get(v, [])
            if v in inv:
                x = inv[v]
                if not all(_sub(t, x) for t in ts):
                    return None
            elif len(ts) >= 2:                  # the diagonal rule: one concrete type
                x = ts[0]
                if not _isconcrete(x) or any(t != x for t in ts):
                    return None
            else:
                x = ts[0]
            if not _sub(x, v.bound):
                return None
            env[v] = x
        return env


def _sig_sub(A, B, n):
    """At ``n`` arguments, every call A takes B takes too (strict subtyping of whole
    signatures, for the forms generated: a diagonal variable covers the pairs (c, c) of the
    concrete types c within its bound; ``Base[T]`` is the UnionAll)."""
    pa, pb = A.at(n), B.at(n)
    if pa is None or pb is None:
        return False
    for x, y in zip(pa, pb):
        if isinstance(y, TypeVar) and y in B.diag:
            continue                                  # checked below
        if not _sub(x, y):
            return False
    shared = {}                 # a variable of B in several invariant positions: A's
    for x, y in zip(pa, pb):     # parameters there must be one and the same
        if isinstance(y, _Apply):
            shared.setdefault(y.var, []).append(
                x.var if isinstance(x, _Apply) else _specialization(x, y.base))
    for v, ps in shared.items():
        if len(ps) > 1 and any(p is None or p is not ps[0] for p in ps):
            return False
    for v in B.diag:
        pos = [i for i, y in enumerate(pb) if y is v]
        xs = [pa[i] for i in pos]
        if all(isinstance(x, TypeVar) and x in A.diag for x in xs):
            if len({id(x) for x in xs}) != 1 or not _sub(xs[0].bound, v.bound):
                return False
        elif not (all(x == xs[0] for x in xs) and _isconcrete(xs[0]) and _sub(xs[0], v.bound)):
            return False
    return True


def _whole_sub(A, B):
    """Signature A <: signature B at every argument count."""
    if A.va is not None and B.va is None:
        return False
    top = max(len(A.params), len(B.params)) + 3
    return all(_sig_sub(A, B, n) for n in range(top) if A.at(n) is not None)


def _more_specific(a, b, n):
    """Strict subtyping of whole signatures; when Varargs make them incomparable, compared
    at the argument counts both take (at least as specific at each, strictly at one)."""
    if _whole_sub(a, b):
        return not _whole_sub(b, a)
    if _whole_sub(b, a) or (a.va is None and b.va is None):
        return False
    top = max(len(a.params), len(b.params)) + 3
    strict = False
    for k in range(top):
        if a.at(k) is None or b.at(k) is None:
            continue
        if not _sig_sub(a, b, k):
            return False
        strict = strict or not _sig_sub(b, a, k)
    return strict


class GenericFunction:
    def __init__(self, name):
        self.name = name
        self.methods = []            # [(Sig, function)]
        self.params = {}             # Sig.key() -> (parameter names, defaults) of a def

    def add(self, fn, sig=None):
        if sig is None and getattr(fn, "__defaults__", None):
            # Julia's rule for default values: ``f(a, b=3)`` is the methods ``f(a, b)`` and
            # ``f(a) = f(a, 3)`` (the shorter one dispatches again)
            code = fn.__code__
            names = code.co_varnames[:code.co_argcount]
            dflts = fn.__defaults__
            first = len(names) - len(dflts)
            for k in range(first, len(names)):
                ps = tuple(fn.__annotations__.get(p, Any) for p in names[:k])
                self._add(self._shorter(dflts[k - first:]), Sig(ps))
            full = _types.FunctionType(code, fn.__globals__, fn.__name__, None, fn.__closure__)
            full.__annotations__ = fn.__annotations__
            self.add(full)
            self.params[self.methods[-1][0].key()] = (names, dflts)
            return self
        if sig is None:
            code = fn.__code__
            params = code.co_varnames[:code.co_argcount]
            ps = tuple(fn.__annotations__.get(p, Any) for p in params)
            va = None
            if code.co_flags & 0x04:                     # *args
                va = fn.__annotations__.get(code.co_varnames[code.co_argcount], Any)
            sig = Sig(ps, va)
        elif not isinstance(sig, Sig):
            sig = Sig(sig)
        return self._add(fn, sig)

    def _shorter(self, rest):
        def shorter(*args):
            return self(*args, *rest)
        return shorter

    def _add(self, fn, sig):
        self.methods = [(s, f) for s, f in self.methods if s.key() != sig.key()] + [(sig, fn)]
        self.params.pop(sig.key(), None)
        return self

    def method(self, fn):
        return self.add(fn)

    def bind(self, args, kw):
        """Keywords made positional by the parameter names of the methods defined with
        them (the ones the generator writes: one ``def`` per function), the parameters
        left out between taking their defaults."""
        for names, dflts in self.params.values():
            if not set(kw) <= set(names[len(args):]):
                continue
            out, first = list(args), len(names) - len(dflts)
            last = max(names.index(k) for k in kw)
            for i in range(len(args), last + 1):
                if names[i] in kw:
                    out.append(kw[names[i]])
                elif i >= first:
                    out.append(dflts[i - first])
                else:
                    raise TypeError(f"{self.name}() missing argument {names[i]!r}")
            return tuple(out)
        raise TypeError(f"{self.name}() got unexpected keywords {sorted(kw)}")

    def __call__(self, *args, **kw):
        if kw:
            args = self.bind(args, kw)
        types = tuple(typeof(a) for a in args)
        n = len(types)
        app = []
        for s, f in self.methods:
            env = s.match(types)
            if env is not None:
                app.append((s, f, env))
        if not app:
            raise MethodError(f"no method matching {self.name}{types}")
        best = [m for m in app
                if not any(o is not m and _more_specific(o[0], m[0], n) for o in app)]
        if len(best) != 1:
            raise AmbiguityError(f"{self.name}{types} is ambiguous")
        _, f, env = best[0]
        if env and isinstance(f, _types.FunctionType):
            g = dict(f.__globals__)
            g.update({v.name: t for v, t in env.items()})
            f = _types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
        return f(*args)

    def __repr__(self):
        return f"<fuzzref generic {self.name}>"


def generic(fn):
    g = fn.__globals__.get(fn.__name__)
    if not isinstance(g, GenericFunction):
        g = GenericFunction(fn.__name__)
    return g.add(fn)


def function(name):
    return GenericFunction(name)


class _Base:
    pass


base = _Base()
for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul)):
    setattr(base, _name, GenericFunction(_name).add(_op, sig=(Real, Real)))
base.neg = GenericFunction("neg").add(operator.neg, sig=(Real,))


def _parent_of(cls):
    """(parent class, parametric parent base or None, declared type variable or None)."""
    ob = cls.__dict__.get("__orig_bases__")
    if ob:
        a = ob[0]
        if isinstance(a, _Apply):
            return Any, a.base, a.var
    parent = cls.__bases__[0] if cls.__bases__ != (object,) else Any
    return parent, None, None


class _ParamMeta(type):
    """The class of a parametric type's base: ``Base[X]`` makes (once) the specialised class;
    ``Base[T]`` for a TypeVar is the UnionAll; calling the base infers the parameter."""

    def __getitem__(cls, x):
        if isinstance(x, TypeVar):
            return _Apply(cls, x)
        spec = cls.__dict__["__rspecs__"]
        if x not in spec:
            if not _sub(x, cls.__rvar__.bound):
                raise TypeError(f"{x} not within the bound of {cls.__name__}")
            spec[x] = cls.__rmake__(x)
        return spec[x]

    def __call__(cls, *args):
        if cls.__dict__.get("__rbase__") is not None or "__rspecs__" not in cls.__dict__:
            return super().__call__(*args)
        ts = {typeof(a) for a, (_, ft) in zip(args, cls.__rdecl__) if ft is cls.__rvar__}
        if len(ts) != 1:
            raise TypeError("fuzzref: the arguments do not determine the parameters")
        return cls[ts.pop()](*args)


def abstract(cls):
    parent, pbase, var = _parent_of(cls)
    ns = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    if var is None:
        return type(cls.__name__, (parent,), ns)
    base_cls = _ParamMeta(cls.__name__, (parent,), dict(ns, __rspecs__={}, __rvar__=var))

    def make(x):
        bases = (base_cls,)
        if pbase is not None:
            bases = (base_cls, pbase[x])
        return _ParamMeta(cls.__name__, bases, {"__module__": cls.__module__,
                                                "__rbase__": base_cls, "__rparam__": x})
    base_cls.__rmake__ = make
    base_cls.__rpbase__ = pbase
    return base_cls


def _convert(ftype, v):
    t = typeof(v)
    if _sub(t, ftype):
        return v
    if ftype is Float64 and t is Int64:
        return float(v)
    if ftype is Int64 and t is Float64:
        if v.is_integer():
            return int(v)
        raise InexactError(f"Int64({v})")
    raise TypeError(f"fuzzref: cannot convert {v!r} to {ftype}")


def _struct_ns(cls, fields):
    names = tuple(n for n, _ in fields)

    def __init__(self, *args):
        if len(args) != len(fields):
            raise TypeError(f"{cls.__name__} takes {len(fields)} arguments")
        for (n, ft), v in zip(fields, args):
            object.__setattr__(self, n, _convert(ft, v))

    def __repr__(self):
        return f"{cls.__name__}({', '.join(repr(getattr(self, n)) for n in names)})"

    def __eq__(self, other):          # field by field, as pkgimage compares structs
        return type(other) is type(self) and \
            all(getattr(self, n) == getattr(other, n) for n in names)

    return {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__slots__": names,
        "__rfields__": names, "__init__": __init__, "__repr__": __repr__,
        "__eq__": __eq__, "__hash__": None, "__rconcrete__": True,
        "__add__": lambda a, b: base.add(a, b), "__radd__": lambda a, b: base.add(b, a),
        "__sub__": lambda a, b: base.sub(a, b), "__rsub__": lambda a, b: base.sub(b, a),
        "__mul__": lambda a, b: base.mul(a, b), "__rmul__": lambda a, b: base.mul(b, a),
        "__neg__": lambda a: base.neg(a),
    }


def struct(cls):
    parent, pbase, var = _parent_of(cls)
    decl = tuple(cls.__dict__.get("__annotations__", {}).items())
    if var is None:
        ns = _struct_ns(cls, decl)
        if "__call__" in cls.__dict__:         # (a struct whose values are called)
            ns["__call__"] = cls.__dict__["__call__"]
        return type(cls.__name__, (parent,), ns)
    base_cls = _ParamMeta(cls.__name__, (parent,), {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__rspecs__": {},
        "__rvar__": var, "__rdecl__": decl})

    def make(x):
        fields = tuple((n, x if ft is var else ft) for n, ft in decl)
        bases = (base_cls,) if pbase is None else (base_cls, pbase[x])
        ns = _struct_ns(cls, fields)
        ns.update({"__rbase__": base_cls, "__rparam__": x})
        return _ParamMeta(cls.__name__, bases, ns)
    base_cls.__rmake__ = make
    base_cls.__rpbase__ = pbase
    return base_cls


def mutable(cls):
    """``@pk.mutable``: fields assignable, converted as constructors convert; identity."""
    decl = tuple(cls.__dict__.get("__annotations__", {}).items())

    def __init__(self, *args):
        if len(args) != len(decl):
            raise TypeError(f"{cls.__name__} takes {len(decl)} arguments")
        for (n, ft), v in zip(decl, args):
            object.__setattr__(self, n, _convert(ft, v))

    def __setattr__(self, name, v):
        ft = dict(decl)[name]
        object.__setattr__(self, name, _convert(ft, v))

    return type(cls.__name__, (), {"__module__": cls.__module__, "__init__": __init__,
                                   "__setattr__": __setattr__,
                                   "__slots__": tuple(n for n, _ in decl)})


def precompile(f, types):
    return True


def generating_output():
    return False


def precompilation(modname):
    return lambda fn: fn


def error(msg):
    raise ErrorException(msg)

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
"""

import operator


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


class Int64(Signed):
    pass


class Bool(Integer):
    pass


class AbstractFloat(Real):
    pass


class Float64(AbstractFloat):
    pass


def typeof(v):
    t = type(v)
    if t is bool:
        return Bool
    if t is int:
        return Int64
    if t is float:
        return Float64
    if hasattr(t, "__rfields__"):
        return t
    raise TypeError(f"fuzzref: no type for {v!r}")


def _more_specific(a, b):
    return all(issubclass(x, y) for x, y in zip(a, b)) and \
        not all(issubclass(y, x) for x, y in zip(a, b))


class Generic:
    def __init__(self, name):
        self.name = name
        self.methods = []            # [(signature, function)]

    def add(self, fn, sig=None):
        if sig is None:
            code = fn.__code__
            params = code.co_varnames[:code.co_argcount]
            sig = tuple(fn.__annotations__.get(p, Any) for p in params)
        self.methods = [(s, f) for s, f in self.methods if s != sig] + [(sig, fn)]
        return self

    def method(self, fn):
        return self.add(fn)

    def __call__(self, *args):
        types = tuple(typeof(a) for a in args)
        app = [(s, f) for s, f in self.methods
               if len(s) == len(types) and all(issubclass(t, p) for t, p in zip(types, s))]
        if not app:
            raise MethodError(f"no method matching {self.name}{types}")
        best = [m for m in app if not any(o is not m and _more_specific(o[0], m[0]) for o in app)]
        if len(best) != 1:
            raise AmbiguityError(f"{self.name}{types} is ambiguous")
        return best[0][1](*args)

    def __repr__(self):
        return f"<fuzzref generic {self.name}>"


def generic(fn):
    g = fn.__globals__.get(fn.__name__)
    if not isinstance(g, Generic):
        g = Generic(fn.__name__)
    return g.add(fn)


def function(name):
    return Generic(name)


class _Base:
    pass


base = _Base()
for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul)):
    setattr(base, _name, Generic(_name).add(_op, sig=(Real, Real)))
base.neg = Generic("neg").add(operator.neg, sig=(Real,))


def abstract(cls):
    parent = cls.__bases__[0] if cls.__bases__ != (object,) else Any
    return type(cls.__name__, (parent,), {"__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})


def _convert(ftype, v):
    t = typeof(v)
    if issubclass(t, ftype):
        return v
    if ftype is Float64 and t is Int64:
        return float(v)
    if ftype is Int64 and t is Float64:
        if v.is_integer():
            return int(v)
        raise InexactError(f"Int64({v})")
    raise TypeError(f"fuzzref: cannot convert {v!r} to {ftype.__name__}")


def struct(cls):
    parent = cls.__bases__[0] if cls.__bases__ != (object,) else Any
    fields = tuple(cls.__dict__.get("__annotations__", {}).items())
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

    ns = {
        "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__slots__": names,
        "__rfields__": names, "__init__": __init__, "__repr__": __repr__,
        "__eq__": __eq__, "__hash__": None,
        "__add__": lambda a, b: base.add(a, b), "__radd__": lambda a, b: base.add(b, a),
        "__sub__": lambda a, b: base.sub(a, b), "__rsub__": lambda a, b: base.sub(b, a),
        "__mul__": lambda a, b: base.mul(a, b), "__rmul__": lambda a, b: base.mul(b, a),
        "__neg__": lambda a: base.neg(a),
    }
    return type(cls.__name__, (parent,), ns)


def precompile(f, types):
    return True


def generating_output():
    return False


def precompilation(modname):
    return lambda fn: fn


def error(msg):
    raise ErrorException(msg)

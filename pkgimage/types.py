"""The type lattice: Julia's abstract tree, primitives, structs, unions and ``Vector[T]``.

Every pkgimage type is a Python class whose metaclass is :class:`PkType`.  Making types real
classes lets users write ``class DemoType0(AbstractDemoType)`` and use the type itself as the
constructor, while the *semantics* (subtyping, intersection, concreteness) never rely on
Python's ``issubclass``: they are computed here from ``__pk_super__`` links, because Julia's
rules (invariant ``Vector``, flattened unions, the bottom type) differ from Python's MRO.

Types are canonical: ``Union[A, B] is Union[B, A]`` and ``Vector[Float64] is Vector[Float64]``,
so type equality is identity everywhere else in the package (dispatch caches, inference).
"""

from __future__ import annotations

import math
import sys


class _NumPy:
    """``np``, imported at its first use.  NumPy is a third of ``import pkgimage`` (about
    100 ms), and a process that loads images of code on Int64/Float64 scalars never needs it:
    a NumPy value can only reach pkgimage once the program has imported NumPy itself."""

    def __getattr__(self, name):
        import numpy
        globals()["np"] = numpy
        return getattr(numpy, name)


np = _NumPy()


def _numpy_if_imported():
    """The numpy module when the program has imported it (then its types are registered)."""
    mod = sys.modules.get("numpy")
    if mod is not None and not _NUMPY_REGISTERED:
        _register_numpy()
    return mod

from .errors import InexactError

# --------------------------------------------------------------------------------------------
# The metaclass


class PkType(type):
    """Metaclass of every pkgimage type.

    Class attributes every type carries:

    ``__pk_kind__``   'abstract' | 'primitive' | 'struct' | 'union' | 'vector' | 'vector_all'
                      | 'pyobject' | 'pending' (a user class not yet finished by its decorator)
    ``__pk_super__``  the declared supertype (``None`` only for ``Any`` and unions)
    ``__pk_name__``   how the type prints (``Vector[Float64]``, ``Union[Float64, Int64]``)
    """

    def __new__(mcls, name, bases, ns, **kw):
        cls = super().__new__(mcls, name, bases, ns, **kw)
        if "__pk_kind__" not in ns:
            # ``class X(SomeAbstract): ...`` before ``@pk.struct``/``@pk.abstract`` runs.
            cls.__pk_kind__ = "pending"
            cls.__pk_name__ = name
            cls.__pk_super__ = None
        return cls

    def __repr__(cls):
        return cls.__pk_name__

    __str__ = __repr__

    def __call__(cls, *args, **kwargs):
        kind = cls.__pk_kind__
        if kind == "primitive":
            if len(args) != 1 or kwargs:
                raise TypeError(f"{cls.__pk_name__}(value) takes exactly one argument")
            return convert(cls, args[0])
        if kind == "struct":
            return cls.__pk_construct__(*args, **kwargs)
        if kind == "vector":
            if len(args) > 1 or kwargs:
                raise TypeError(f"{cls.__pk_name__}(iterable) takes at most one argument")
            return make_vector(cls.__pk_eltype__, args[0] if args else ())
        raise TypeError(f"cannot instantiate {kind} type {cls.__pk_name__}")

    # Types are compared by identity (they are canonical); keep hashing identity-based too.
    __hash__ = type.__hash__

    def __getattr__(cls, name):
        # A primitive's NumPy dtype and scalar class, made at the first use (see ``_NumPy``).
        if name in ("__pk_dtype__", "__pk_pytype__") and "__pk_np_name__" in cls.__dict__:
            npname = cls.__dict__["__pk_np_name__"]
            type.__setattr__(cls, "__pk_dtype__", np.dtype(npname))
            if "__pk_pytype__" not in cls.__dict__:
                type.__setattr__(cls, "__pk_pytype__", getattr(np, npname))
            return cls.__dict__[name]
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")


def _new_type(name, kind, supertype, base=object, **attrs):
    ns = {"__pk_kind__": kind, "__pk_name__": name, "__pk_super__": supertype,
          "__module__": __name__, "__slots__": ()}
    ns.update(attrs)
    bases = (supertype,) if isinstance(supertype, PkType) and supertype.__pk_kind__ != "union" else (base,)
    return PkType(name, bases, ns)


# --------------------------------------------------------------------------------------------
# The abstract tree and the primitives

Any = _new_type("Any", "abstract", None)
Number = _new_type("Number", "abstract", Any)
Real = _new_type("Real", "abstract", Number)
Integer = _new_type("Integer", "abstract", Real)
Signed = _new_type("Signed", "abstract", Integer)
Unsigned = _new_type("Unsigned", "abstract", Integer)
AbstractFloat = _new_type("AbstractFloat", "abstract", Real)


def _prim(name, sup, npname, bits, signed, is_float, pytype=None):
    """A primitive type; ``npname`` names its NumPy dtype and, unless ``pytype`` (a Python
    builtin) is given, its scalar class, both looked up at first use."""
    attrs = dict(__pk_np_name__=npname, __pk_bits__=bits, __pk_signed__=signed,
                 __pk_float__=is_float)
    if pytype is not None:
        attrs["__pk_pytype__"] = pytype
    return _new_type(name, "primitive", sup, **attrs)


Bool = _prim("Bool", Integer, "bool_", 8, False, False, bool)
Int8 = _prim("Int8", Signed, "int8", 8, True, False)
Int16 = _prim("Int16", Signed, "int16", 16, True, False)
Int32 = _prim("Int32", Signed, "int32", 32, True, False)
Int64 = _prim("Int64", Signed, "int64", 64, True, False, int)
UInt8 = _prim("UInt8", Unsigned, "uint8", 8, False, False)
UInt16 = _prim("UInt16", Unsigned, "uint16", 16, False, False)
UInt32 = _prim("UInt32", Unsigned, "uint32", 32, False, False)
UInt64 = _prim("UInt64", Unsigned, "uint64", 64, False, False)
Float32 = _prim("Float32", AbstractFloat, "float32", 32, True, True)
Float64 = _prim("Float64", AbstractFloat, "float64", 64, True, True, float)

PRIMITIVES = (Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, Float64)
BUILTIN_ABSTRACT = (Any, Number, Real, Integer, Signed, Unsigned, AbstractFloat)

# ``None``: what a function without a ``return value`` returns.
Nothing = _new_type("Nothing", "nothing", Any)

# Any Python object that is not one of ours: dispatch can still select ``::Any`` methods for it.
PyObject = _new_type("PyObject", "pyobject", Any)

_DTYPE_TO_PRIM = {}           # NumPy dtype -> primitive, filled by _register_numpy


# --------------------------------------------------------------------------------------------
# Union and the bottom type


def type_sort_key(t):
    """A deterministic order for types (by printed name, then module) used wherever order shows."""
    return (t.__pk_name__, getattr(t, "__pk_module__", ""))


class _UnionConstructor:
    """``Union[A, B, ...]``: flattened, order-free, subsumed members dropped; ``Union[()]`` is bottom."""

    _cache: dict = {}

    def __getitem__(self, members):
        if not isinstance(members, tuple):
            members = (members,)
        return make_union(members)

    def __repr__(self):
        return "Union"


Union = _UnionConstructor()


def make_union(members):
    flat = set()
    for m in members:
        if not isinstance(m, PkType):
            raise TypeError(f"Union members must be pkgimage types, got {m!r}")
        if m.__pk_kind__ == "union":
            flat.update(m.__pk_members__)
        else:
            flat.add(m)
    # Drop members already covered by another member (Union[Int64, Integer] is Integer).
    kept = [m for m in flat if not any(o is not m and issubtype(m, o) for o in flat)]
    if len(kept) == 1:
        return kept[0]
    key = frozenset(kept)
    cached = _UnionConstructor._cache.get(key)
    if cached is not None:
        return cached
    ordered = tuple(sorted(kept, key=type_sort_key))
    name = "Union[" + ", ".join(t.__pk_name__ for t in ordered) + "]" if ordered else "Union[]"
    u = _new_type(name, "union", None, __pk_members__=ordered)
    _UnionConstructor._cache[key] = u
    return u


Bottom = make_union(())


# --------------------------------------------------------------------------------------------
# Vector[T]


class BoxedVector:
    """Storage of a ``Vector[T]`` whose element type is abstract (``Vector[AbstractFloat]``):
    a Python list of values, each checked with ``isa`` on the way in."""

    __slots__ = ("eltype", "data")

    def __init__(self, eltype, data):
        self.eltype = eltype
        self.data = data

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return iter(self.data)

    def __getitem__(self, i):
        return self.data[i]

    def __setitem__(self, i, v):
        if not isa(v, self.eltype):
            raise TypeError(f"cannot store {typeof(v)} in {vector_of(self.eltype)}")
        self.data[i] = v

    def __eq__(self, other):
        return isinstance(other, BoxedVector) and other.eltype is self.eltype and other.data == self.data

    __hash__ = None

    def __repr__(self):
        return f"{vector_of(self.eltype)}({self.data!r})"


def _vector_class_getitem(cls, eltype):
    return vector_of(eltype)


Vector = _new_type("Vector", "vector_all", Any, __class_getitem__=classmethod(_vector_class_getitem))
_VECTOR_CACHE: dict = {}


def vector_of(eltype):
    if not isinstance(eltype, PkType) or eltype.__pk_kind__ == "pending":
        raise TypeError(f"Vector element type must be a pkgimage type, got {eltype!r}")
    v = _VECTOR_CACHE.get(eltype)
    if v is None:
        v = _new_type(f"Vector[{eltype.__pk_name__}]", "vector", Vector, __pk_eltype__=eltype)
        _VECTOR_CACHE[eltype] = v
    return v


def make_vector(eltype, iterable):
    if eltype.__pk_kind__ == "primitive":
        if isinstance(iterable, np.ndarray) and iterable.dtype == eltype.__pk_dtype__:
            return iterable.copy()
        return np.array([convert(eltype, x) for x in iterable], dtype=eltype.__pk_dtype__)
    data = list(iterable)
    for x in data:
        if not isa(x, eltype):
            raise TypeError(f"cannot store {typeof(x)} in {vector_of(eltype)}")
    return BoxedVector(eltype, data)


# --------------------------------------------------------------------------------------------
# Relations


def issubtype(a, b) -> bool:
    """Julia's ``a <: b`` on this lattice."""
    if a is b or b is Any:
        return True
    ka = a.__pk_kind__
    if ka == "union":
        return all(issubtype(m, b) for m in a.__pk_members__)
    if b.__pk_kind__ == "union":
        return any(issubtype(a, m) for m in b.__pk_members__)
    t = a.__pk_super__
    while t is not None:
        if t is b:
            return True
        t = t.__pk_super__
    return False


def typeintersect(a, b):
    """The largest type below both ``a`` and ``b`` (``Bottom`` when they share no value)."""
    if issubtype(a, b):
        return a
    if issubtype(b, a):
        return b
    if a.__pk_kind__ == "union":
        return make_union([typeintersect(m, b) for m in a.__pk_members__])
    if b.__pk_kind__ == "union":
        return make_union([typeintersect(a, m) for m in b.__pk_members__])
    # Single inheritance: two types of which neither is below the other share no value.
    return Bottom


def isconcrete(t) -> bool:
    return t.__pk_kind__ in ("primitive", "struct", "vector", "pyobject", "nothing")


def is_pktype(t) -> bool:
    return isinstance(t, PkType) and t.__pk_kind__ != "pending"


def sig_issubtype(a, b) -> bool:
    """Tuple-type subtyping for signatures of equal length."""
    return len(a) == len(b) and all(issubtype(x, y) for x, y in zip(a, b))


def sig_intersect(a, b):
    """Element-wise intersection of two signatures, or ``None`` when empty."""
    if len(a) != len(b):
        return None
    out = []
    for x, y in zip(a, b):
        t = typeintersect(x, y)
        if t is Bottom:
            return None
        out.append(t)
    return tuple(out)


def sig_repr(name, sig):
    return f"{name}(" + ", ".join("::" + t.__pk_name__ for t in sig) + ")"


# --------------------------------------------------------------------------------------------
# Values


_PY_TO_PK = {int: Int64, float: Float64, bool: Bool, type(None): Nothing}
_NUMPY_REGISTERED = False


def _register_numpy():
    """Add NumPy's scalar classes and dtypes to the lookup tables (once NumPy is imported)."""
    global _NUMPY_REGISTERED
    for t in PRIMITIVES:
        _PY_TO_PK.setdefault(getattr(np, t.__pk_np_name__), t)
        _DTYPE_TO_PRIM[t.__pk_dtype__] = t
    _NUMPY_REGISTERED = True


def register_pytype(pytype, pktype):
    """Struct classes register themselves so ``typeof`` stays a single dict lookup."""
    _PY_TO_PK[pytype] = pktype


def typeof(v):
    """The pkgimage type of a Python value (DESIGN.md's mapping)."""
    t = _PY_TO_PK.get(type(v))
    if t is not None:
        return t
    if isinstance(v, BoxedVector):
        return vector_of(v.eltype)
    np = _numpy_if_imported()
    if np is None:
        return PyObject
    t = _PY_TO_PK.get(type(v))
    if t is not None:
        return t
    if isinstance(v, np.ndarray):
        if v.ndim == 1:
            el = _DTYPE_TO_PRIM.get(v.dtype)
            if el is not None:
                return vector_of(el)
        return PyObject
    if isinstance(v, np.generic):
        # NumPy scalar classes that alias a listed dtype (``np.longlong`` is int64 on Linux).
        return _DTYPE_TO_PRIM.get(v.dtype, PyObject)
    return PyObject


def typeof_pytype(pytype):
    """Fast path used by dispatch caches: the type for a Python class, or None if it depends on the value."""
    return _PY_TO_PK.get(pytype)


def isa(v, t) -> bool:
    return issubtype(typeof(v), t)


_INT_RANGES = {}
for _t in PRIMITIVES:
    if not _t.__pk_float__ and _t is not Bool:
        _b = _t.__pk_bits__
        _INT_RANGES[_t] = (-(1 << (_b - 1)), (1 << (_b - 1)) - 1) if _t.__pk_signed__ \
            else (0, (1 << _b) - 1)


def convert(t, v):
    """Convert a Python value to the canonical Python value of primitive type ``t``.

    Integers convert exactly (``Int8(300)`` is an ``InexactError``, never a wrap) as Julia's
    ``convert`` does; floats round to the nearest representable value, as Julia's do.
    """
    if t.__pk_kind__ != "primitive":
        if t is Nothing and v is None:
            return None
        if isa(v, t):
            return v
        raise TypeError(f"cannot convert a value of type {typeof(v)} to {t}")
    src = typeof(v)
    if src.__pk_kind__ != "primitive":
        raise TypeError(f"cannot convert a value of type {src} to {t}")
    if t.__pk_float__:
        return t.__pk_pytype__(float(v)) if t is Float64 else np.float32(v)
    if src.__pk_float__:
        fv = float(v)
        if not math.isfinite(fv) or fv != int(fv):
            raise InexactError(f"InexactError: {t}({fv!r})")
        iv = int(fv)
    else:
        iv = int(v)
    if t is Bool:
        if iv not in (0, 1):
            raise InexactError(f"InexactError: Bool({iv})")
        return bool(iv)
    lo, hi = _INT_RANGES[t]
    if not lo <= iv <= hi:
        raise InexactError(f"InexactError: {t}({iv}) does not fit in {t}")
    return iv if t is Int64 else t.__pk_pytype__(iv)


def to_python(v):
    """Canonical Python value of anything typeof accepts (NumPy Int64/Float64 scalars become int/float)."""
    tv = type(v)
    if tv is int or tv is float or tv is bool or "numpy" not in sys.modules:
        return v
    if tv is np.int64:
        return int(v)
    if tv is np.float64:
        return float(v)
    if tv is np.bool_:
        return bool(v)
    return v


# --------------------------------------------------------------------------------------------
# Portable references to types (native code and images name types, never point at them)

_BUILTIN_BY_NAME = {t.__pk_name__: t for t in BUILTIN_ABSTRACT + PRIMITIVES + (Nothing, PyObject, Vector)}
USER_TYPES: dict = {}      # (module, qualname) -> user type, the latest definition


def type_ref(t):
    """A tuple naming ``t`` that survives pickling and a new process."""
    k = t.__pk_kind__
    if k == "union":
        return ("union",) + tuple(type_ref(m) for m in t.__pk_members__)
    if k == "vector":
        return ("vector", type_ref(t.__pk_eltype__))
    mod = getattr(t, "__pk_module__", None)
    if mod is None or _BUILTIN_BY_NAME.get(t.__pk_name__) is t:
        return ("builtin", t.__pk_name__)
    return ("user", mod, t.__qualname__)


def type_from_ref(ref):
    kind = ref[0]
    if kind == "builtin":
        return _BUILTIN_BY_NAME[ref[1]]
    if kind == "union":
        return make_union([type_from_ref(r) for r in ref[1:]])
    if kind == "vector":
        return vector_of(type_from_ref(ref[1]))
    t = USER_TYPES.get((ref[1], ref[2]))
    if t is None:
        import importlib
        obj = importlib.import_module(ref[1])
        for part in ref[2].split("."):
            obj = getattr(obj, part)
        t = obj
    return t

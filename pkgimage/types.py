"""Julia's type model: DataTypes with parameters, TypeVars, UnionAlls, Tuples, Unions.

Every concrete or abstract *DataType* is a Python class whose metaclass is :class:`PkType`,
so users write ``class DemoType0(AbstractDemoType)`` and call a type to construct a value.
A DataType has a name, a supertype (``__pk_super__``) and parameters (``__pk_params__``):
``Array[Float64, 2]`` is the DataType of the family (``TypeName``) ``Array`` with the
parameters ``(Float64, 2)``; ``Tuple[Int64, Float64]`` is the family ``Tuple`` with two
parameters.  A type with free parameters is a :class:`UnionAll` over a :class:`TypeVar`:
``Vector`` itself is ``Array[T, 1] where T``, a parametric struct ``Point`` is ``Point[T]
where T<:Real``.  Instantiations are canonical (``Vector[Float64] is Vector[Float64]``), so
type equality of var-free types is identity everywhere else in the package.

``__pk_kind__`` only says how a value of the type is *represented* (what codegen and the
loader look at): 'abstract', 'primitive', 'struct', 'tuple', 'array', 'nothing',
'pyobject', 'union', 'typevar', 'unionall'.  The *semantics* -- subtyping (with Julia's
invariance of parameters, covariance of tuples, ``Vararg`` lengths and the diagonal rule),
intersection, specificity -- live in ``subtyping.py`` and never rely on Python's MRO.
"""

from __future__ import annotations

import math
import sys
import types as _pytypes

from .errors import InexactError


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


# --------------------------------------------------------------------------------------------
# The metaclass


class PkType(type):
    """Metaclass of every pkgimage DataType (and of the Union types).

    Class attributes every type carries:

    ``__pk_kind__``     the representation (see the module docstring), or 'pending' for a
                        user class its decorator has not finished yet
    ``__pk_super__``    the declared supertype, parameters substituted (``None`` for ``Any``)
    ``__pk_name__``     how the type prints (``Vector[Float64]``, ``Tuple[Int64, Float64]``)
    ``__pk_typename__`` the family (:class:`TypeName`); ``__pk_params__`` its parameters
    """

    def __new__(mcls, name, bases, ns, **kw):
        cls = super().__new__(mcls, name, bases, ns, **kw)
        if "__pk_kind__" not in ns:
            # ``class X(SomeAbstract): ...`` before ``@pk.struct``/``@pk.abstract`` runs.
            cls.__pk_kind__ = "pending"
            cls.__pk_name__ = name
            cls.__pk_super__ = None
            cls.__pk_params__ = ()
            cls.__pk_typename__ = None
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
        if kind in ("struct", "mutable"):
            return cls.__pk_construct__(*args, **kwargs)
        if kind == "array":
            return make_array(cls, args, kwargs)
        if kind == "tuple" and isconcrete(cls):
            if len(args) != 1 or kwargs:
                raise TypeError(f"{cls.__pk_name__}(iterable) takes exactly one argument")
            vals = tuple(args[0])
            ps = cls.__pk_params__
            if len(vals) != len(ps):
                raise TypeError(f"{cls.__pk_name__} needs {len(ps)} elements, got {len(vals)}")
            return tuple(convert(p, v) for p, v in zip(ps, vals))
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

    def __instancecheck__(cls, obj):
        if cls.__pk_kind__ in ("pending",):
            return type.__instancecheck__(cls, obj)
        return isa(obj, cls)


def _new_type(name, kind, supertype, base=object, typename=None, params=(), **attrs):
    ns = {"__pk_kind__": kind, "__pk_name__": name, "__pk_super__": supertype,
          "__pk_params__": params, "__pk_typename__": typename,
          "__module__": __name__, "__slots__": ()}
    ns.update(attrs)
    bases = (supertype,) if isinstance(supertype, PkType) and supertype.__pk_kind__ not in \
        ("union",) else (base,)
    t = PkType(name, bases, ns)
    if typename is None:
        type.__setattr__(t, "__pk_typename__", TypeName(name, __name__, (), primary=t))
    return t


class TypeName:
    """A family of DataTypes (Julia's ``TypeName``): ``Array``, ``Tuple``, ``Point``.

    ``vars`` are the declared parameters; ``make`` builds the DataType for a tuple of
    parameter values (called once per instantiation, the result is cached here)."""

    __slots__ = ("name", "module", "qualname", "vars", "make", "cache", "wrapper", "primary")

    def __init__(self, name, module, vars, make=None, primary=None):
        self.name = name
        self.module = module
        self.qualname = name
        self.vars = vars
        self.make = make
        self.cache = {}
        self.wrapper = None        # the UnionAll (or the DataType itself when no vars)
        self.primary = primary

    def apply(self, params):
        params = tuple(params)
        key = tuple(_param_key(p) for p in params)
        t = self.cache.get(key)
        if t is None:
            t = self.make(params)
            self.cache[key] = t
        return t

    def __repr__(self):
        return f"typename({self.name})"


def _param_key(p):
    # ``2`` and ``True`` must not be one key; types and vars by identity.
    return (type(p), p) if isinstance(p, (int, bool)) else p


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

# Julia's ``Core.Box``: the cell holding a local variable that a closure captures and that
# is assigned again after the closure is made (or by it, ``nonlocal``): the enclosing function
# and the closure read and write the one cell, as Python's closures share a variable.  It is
# Python's own cell object.
Box = _new_type("Box", "pyobject", Any)

# Julia's ``Function``: every generic function has a type of its own below it
# (``function_type``), so a method taking a function is specialised per function passed.
Function = _new_type("Function", "abstract", Any)
_FUNCTION_TYPES: dict = {}        # (module, qualname) -> its type


def function_type(f):
    """``typeof(f)`` of a generic function: a singleton type (Julia's ``typeof(sin)``)."""
    key = (f.module, f.qualname)
    t = _FUNCTION_TYPES.get(key)
    if t is None or t.__pk_function__ is not f:
        t = _new_type(f"typeof({f.qualname})", "function", Function, __pk_function__=f)
        _FUNCTION_TYPES[key] = t
    return t


class Closure:
    """A closure value: a lambda's (or nested ``def``'s) generic function with the values
    it captured, which its method takes as its first parameters (Julia's closure: a struct
    of the captured variables with a call method).  Its type is ``closure_type(function,
    types of the captured values)``, concrete, so a method taking a closure is specialised
    for it and compiled code calls it directly; native code holds the captured values
    unboxed.  Python calls it as any function."""

    __slots__ = ("function", "captured")

    def __init__(self, function, captured):
        self.function = function
        self.captured = tuple(captured)

    def __call__(self, *args, **kwargs):
        return self.function(*self.captured, *args, **kwargs)

    def _key(self):
        # (captured immutable scalars by value, and tuples of them -- a closure's default
        # values are one tuple --, anything else by identity: two boxings of one native
        # closure value are equal, as Python's ``f == f``)
        return (id(self.function),) + tuple(_closure_key(x) for x in self.captured)

    def __eq__(self, other):
        return type(other) is Closure and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        f = self.function
        return f"<closure {getattr(f, 'qualname', getattr(f, '__qualname__', f))}>"

    def __reduce__(self):
        return (Closure, (self.function, self.captured))


def _closure_key(x):
    if type(x) in (int, float, bool, str, bytes, type(None)):
        return x
    if type(x) is tuple:
        return ("tuple",) + tuple(_closure_key(y) for y in x)
    return ("id", id(x))


_CLOSURE_TYPES: dict = {}         # (module, qualname, capture types) -> its type


def closure_type(f, captures):
    """The type of a closure of generic function ``f`` holding values of the (concrete)
    types ``captures``: concrete, below ``Function``, one per function and capture types."""
    captures = tuple(captures)
    key = (f.module, f.qualname, captures)
    t = _CLOSURE_TYPES.get(key)
    if t is None or t.__pk_function__ is not f:
        name = f"Closure[{f.module}.{f.qualname}" + \
            "".join(", " + _pname(c) for c in captures) + "]"
        t = _new_type(name, "closure", Function, __pk_function__=f, __pk_captures__=captures)
        _CLOSURE_TYPES[key] = t
    return t


# ``str``: compiled code holds the Python string object itself (CPython's representation,
# so strings cross to and from Python for nothing, and every operation is Python's own:
# ``compiler/strintr.py``).
String = _new_type("String", "string", Any, __pk_pytype__=str)

_DTYPE_TO_PRIM = {}           # NumPy dtype -> primitive, filled by _register_numpy


# --------------------------------------------------------------------------------------------
# TypeVar and UnionAll


class TypeVar:
    """A type variable ``T`` with bounds ``lb <: T <: ub`` (Julia's ``TypeVar``).

    ``pk.TypeVar("T", bound=Real)`` reads like ``typing.TypeVar``; ``lower`` is Julia's
    lower bound.  A TypeVar stands for a type in annotations of parametric structs and
    methods; it is never the type of a value."""

    __pk_kind__ = "typevar"
    __slots__ = ("name", "lb", "ub")

    def __init__(self, name, bound=None, *, lower=None):
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"TypeVar name must be an identifier, got {name!r}")
        ub = Any if bound is None else bound
        lb = Bottom if lower is None else lower
        for what, b in (("bound", ub), ("lower", lb)):
            if not is_type(b):
                raise TypeError(f"TypeVar {name}: {what} {b!r} is not a pkgimage type")
        self.name, self.lb, self.ub = name, lb, ub

    @property
    def __pk_name__(self):
        return self.name

    def __repr__(self):
        return self.name

    def where_repr(self):
        s = self.name
        if self.lb is not Bottom:
            s = f"{self.lb}<:{s}"
        if self.ub is not Any:
            s = f"{s}<:{self.ub}"
        return s

    def __reduce__(self):
        return (_make_typevar, (self.name, self.lb, self.ub))


def _make_typevar(name, lb, ub):
    v = TypeVar.__new__(TypeVar)
    v.name, v.lb, v.ub = name, lb, ub
    return v


class UnionAll:
    """``body where var``: the union of ``body`` over every value of ``var`` within its
    bounds.  ``Vector`` is ``Array[T, 1] where T``.  Subscripting instantiates the outermost
    variables in order (``Vector[Float64]``); calling constructs (Julia's default
    constructor infers the parameters from the arguments)."""

    __pk_kind__ = "unionall"
    __slots__ = ("var", "body", "name", "__weakref__")

    def __init__(self, var, body, name=None):
        self.var, self.body, self.name = var, body, name

    @property
    def __pk_name__(self):
        if self.name is not None:
            return self.name
        vars_, body = unwrap_unionall(self)
        return f"{body.__pk_name__} where " + ", ".join(v.where_repr() for v in vars_) \
            if len(vars_) > 1 else f"{body.__pk_name__} where {vars_[0].where_repr()}"

    __pk_super__ = None
    __pk_params__ = ()

    def __repr__(self):
        return self.__pk_name__

    def __getitem__(self, params):
        if not isinstance(params, tuple):
            params = (params,)
        vars_, body = unwrap_unionall(self)
        if len(params) > len(vars_):
            raise TypeError(f"too many parameters for {self!r}: {len(params)} given, "
                            f"{len(vars_)} free")
        env = {}
        for v, p in zip(vars_, params):
            p = _check_param(p)
            if is_type(p) and not has_free_vars(p):
                if not (issubtype(v.lb, p) and issubtype(p, substitute(v.ub, env))):
                    raise TypeError(f"{self!r}: parameter {v.name} = {p!r} is not within its "
                                    f"bounds {v.where_repr()}")
            env[v] = p
        out = substitute(body, env)
        for v in reversed(vars_[len(params):]):
            out = UnionAll(v, out)
        return out

    def __call__(self, *args, **kwargs):
        ctor = _UNIONALL_CALL.get(unwrap_unionall(self)[1].__pk_kind__)
        if ctor is None:
            raise TypeError(f"cannot instantiate {self!r} without its parameters")
        return ctor(self, args, kwargs)

    def __instancecheck__(self, obj):
        return isa(obj, self)

    def __reduce__(self):
        return (type_from_ref, (type_ref(self),))


_UNIONALL_CALL: dict = {}      # body kind -> constructor for ``Point(1.0, 2.0)``


def unwrap_unionall(t):
    """(vars, body) of nested UnionAlls, outermost var first."""
    vars_ = []
    while isinstance(t, UnionAll):
        vars_.append(t.var)
        t = t.body
    return tuple(vars_), t


def rewrap_unionall(body, vars_):
    for v in reversed(vars_):
        if occurs(v, body):
            body = UnionAll(v, body)
    return body


def _check_param(p):
    if isinstance(p, bool):
        return p
    if isinstance(p, int):
        return p
    if is_type(p) or isinstance(p, TypeVar):
        return p
    if p is None:
        return Nothing
    mapped = _PY_ANNOTATION.get(p) if _hashable(p) else None
    if mapped is not None:
        return mapped
    raise TypeError(f"type parameter {p!r} is not a pkgimage type, a TypeVar or an integer")


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


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
        if m is None:
            m = Nothing
        if not (isinstance(m, PkType) or isinstance(m, (TypeVar, UnionAll))):
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
# Tuple and Vararg


class Vararg:
    """``Vararg[T]`` (any number of ``T``) or ``Vararg[T, N]``: the last parameter of a
    Tuple type.  ``N`` is an int or a TypeVar."""

    __pk_kind__ = "vararg"
    __slots__ = ("T", "N")
    _cache: dict = {}

    def __init__(self, T, N=None):
        self.T, self.N = T, N

    def __class_getitem__(cls, params):
        if not isinstance(params, tuple):
            params = (params,)
        if not 1 <= len(params) <= 2:
            raise TypeError("Vararg[T] or Vararg[T, N]")
        t = _check_param(params[0])
        n = params[1] if len(params) == 2 else None
        if n is not None and not isinstance(n, (int, TypeVar)):
            raise TypeError(f"Vararg length must be an integer or a TypeVar, got {n!r}")
        return make_vararg(t, n)

    @property
    def __pk_name__(self):
        return f"Vararg[{_pname(self.T)}]" if self.N is None else \
            f"Vararg[{_pname(self.T)}, {_pname(self.N)}]"

    def __repr__(self):
        return self.__pk_name__

    def __reduce__(self):
        return (make_vararg, (self.T, self.N))


def make_vararg(t, n=None):
    key = (t, _param_key(n) if n is not None else None)
    v = Vararg._cache.get(key)
    if v is None:
        v = Vararg._cache[key] = Vararg(t, n)
    return v


def _pname(p):
    return p.__pk_name__ if hasattr(p, "__pk_name__") else repr(p)


def _make_tuple_type(params):
    if params and isinstance(params[-1], Vararg) and isinstance(params[-1].N, int):
        v = params[-1]
        return tuple_type(*(params[:-1] + (v.T,) * v.N))
    name = "Tuple[" + ", ".join(_pname(p) for p in params) + "]" if params else "Tuple[]"
    return _new_type(name, "tuple", Any, typename=TUPLE_NAME, params=params)


TUPLE_NAME = TypeName("Tuple", __name__, (), make=_make_tuple_type)


def tuple_type(*params):
    """The Tuple type with these element types (the last may be a Vararg)."""
    for i, p in enumerate(params):
        if isinstance(p, Vararg):
            if i != len(params) - 1:
                raise TypeError("Vararg can only be the last parameter of a Tuple")
        else:
            _check_param(p)
    return TUPLE_NAME.apply(params)


class _TupleConstructor:
    """``Tuple[A, B]``, ``Tuple[Int64, Vararg[Int64]]``; ``Tuple[()]`` is the empty tuple type;
    bare ``Tuple`` (as an annotation) is every tuple, ``Tuple[Vararg[Any]]``."""

    def __getitem__(self, params):
        if not isinstance(params, tuple):
            params = (params,)
        return tuple_type(*(p if isinstance(p, Vararg) else _check_param(p) for p in params))

    def __repr__(self):
        return "Tuple"

    @property
    def __pk_name__(self):
        return "Tuple"


TupleC = _TupleConstructor()


# --------------------------------------------------------------------------------------------
# Arrays


class BoxedVector:
    """Storage of a ``Vector[T]`` whose element type is not a primitive (``Vector[Real]``):
    a Python list of values, each checked with ``isa`` on the way in."""

    __slots__ = ("eltype", "data")

    def __init__(self, eltype, data):
        self.eltype = eltype
        self.data = data

    ndim = 1

    @property
    def shape(self):
        return (len(self.data),)

    @property
    def size(self):
        return len(self.data)

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


def _array_name(el, n):
    if n == 1:
        return f"Vector[{_pname(el)}]"
    if n == 2:
        return f"Matrix[{_pname(el)}]"
    return f"Array[{_pname(el)}, {_pname(n)}]"


def _make_array_type(params):
    el, n = params
    if not (isinstance(el, TypeVar) or is_type(el)) or el.__pk_kind__ == "pending":
        raise TypeError(f"Array element type must be a pkgimage type, got {el!r}")
    if not isinstance(n, TypeVar) and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
        raise TypeError(f"Array rank must be a non-negative integer, got {n!r}")
    return _new_type(_array_name(el, n), "array", Any, typename=ARRAY_NAME, params=(el, n),
                     __pk_eltype__=el, __pk_ndim__=n)


ARRAY_NAME = TypeName("Array", __name__, (), make=_make_array_type)


def array_of(eltype, ndim):
    if not isinstance(eltype, (PkType, TypeVar)) or eltype.__pk_kind__ == "pending":
        raise TypeError(f"Array element type must be a pkgimage type, got {eltype!r}")
    return ARRAY_NAME.apply((eltype, ndim))


def vector_of(eltype):
    return array_of(eltype, 1)


def _make_list_type(params):
    (el,) = params
    if not (isinstance(el, TypeVar) or is_type(el)) or el.__pk_kind__ == "pending":
        raise TypeError(f"List element type must be a pkgimage type, got {el!r}")
    return _new_type(f"List[{_pname(el)}]", "list", Any, typename=LIST_NAME, params=(el,),
                     __pk_eltype__=el)


# ``List[T]``: a Python ``list`` whose elements are all of type ``T`` (Julia's growable
# ``Vector{T}``).  Compiled code holds the list object itself, so a list passed in from
# Python is the caller's list (changes are seen there, as plain Python leaves them) and one
# made in compiled code reaches Python as an ordinary list.  Elements stay Python objects
# (boxed); reading one checks its class, so a list changed behind compiled code's back
# raises TypeError instead of being misread.
LIST_NAME = TypeName("List", __name__, (), make=_make_list_type)


def list_of(eltype):
    t = LIST_NAME.cache.get((eltype,))       # (``apply``'s key for a type: the type)
    if t is not None:
        return t
    if not isinstance(eltype, (PkType, TypeVar, UnionAll)) or \
            getattr(eltype, "__pk_kind__", None) == "pending":
        raise TypeError(f"List element type must be a pkgimage type, got {eltype!r}")
    return LIST_NAME.apply((eltype,))


def is_list(t):
    return isinstance(t, PkType) and t.__pk_kind__ == "list"


# A list from Python gets the union of its elements' types, up to this many members (then
# ``Any``, as inference widens), and ``Any`` when empty.
MAX_LIST_UNION = 3


def _list_typeof(v):
    return list_of(_elements_type(v))


def _elements_type(v):
    """The union of the types of the elements of ``v`` (``Any`` when empty or varied)."""
    # The classes first (a C loop, 20 ns per element): when they decide the types (int,
    # float, bool, str, structs) no element is looked at from Python.
    classes = set(map(type, v))
    if len(classes) <= MAX_LIST_UNION:
        decided = [_PY_TO_PK.get(c) for c in classes]
        if None not in decided:
            if not decided:
                return Any
            return decided[0] if len(decided) == 1 else make_union(decided)
    ts = set()
    for x in v:
        ts.add(typeof(x))
        if len(ts) > MAX_LIST_UNION:
            return Any
    if not ts:
        return Any
    return ts.pop() if len(ts) == 1 else make_union(ts)


def _make_dict_type(params):
    k, v = params
    for p in params:
        if not (isinstance(p, TypeVar) or is_type(p)) or p.__pk_kind__ == "pending":
            raise TypeError(f"Dict key and value types must be pkgimage types, got {p!r}")
    return _new_type(f"Dict[{_pname(k)}, {_pname(v)}]", "dict", Any, typename=DICT_NAME,
                     params=(k, v), __pk_keytype__=k, __pk_valtype__=v)


# ``Dict[K, V]``: a Python ``dict`` (as ``List[T]`` is a list: the object itself, its
# operations Python's own; ``compiler/dictintr.py``).
DICT_NAME = TypeName("Dict", __name__, (), make=_make_dict_type)


def dict_of(k, v):
    return DICT_NAME.apply((k, v))


def is_dict(t):
    return isinstance(t, PkType) and t.__pk_kind__ == "dict"


def _make_set_type(params):
    (el,) = params
    if not (isinstance(el, TypeVar) or is_type(el)) or el.__pk_kind__ == "pending":
        raise TypeError(f"Set element type must be a pkgimage type, got {el!r}")
    return _new_type(f"Set[{_pname(el)}]", "set", Any, typename=SET_NAME, params=(el,),
                     __pk_eltype__=el)


# ``Set[T]``: a Python ``set`` (as ``Dict[K, V]`` is a dict: the object itself, so hashing,
# equality and errors are Python's; ``compiler/setintr.py``).  Its element type is that of
# its elements, as a list's is.
SET_NAME = TypeName("Set", __name__, (), make=_make_set_type)


def set_of(eltype):
    return SET_NAME.apply((eltype,))


def is_set(t):
    return isinstance(t, PkType) and t.__pk_kind__ == "set"


def is_array(t):
    return isinstance(t, PkType) and t.__pk_kind__ == "array"


def is_vector(t):
    return is_array(t) and t.__pk_ndim__ == 1


def isbits(t):
    """Julia's ``isbitstype``: a concrete type whose values are plain bits -- a primitive, or
    an immutable struct (or tuple) of isbits fields.  Arrays of such types store their
    elements inline (a NumPy structured array), not as boxed objects."""
    if not isinstance(t, PkType):
        return False
    k = t.__pk_kind__
    if k == "primitive":
        return True
    if k == "struct":
        return isconcrete(t) and all(isbits(ft) for _, ft in t.__pk_fields__)
    if k == "tuple":
        return isconcrete(t) and all(isbits(p) for p in t.__pk_params__)
    return False


def struct_dtype(t):
    """The NumPy dtype laid out as the native value of isbits type ``t`` (C alignment, as
    LLVM lays out its structs).  Two struct types with the same fields have the same dtype:
    the array's class (:func:`struct_vector_class`), not its dtype, names the struct."""
    if t.__pk_kind__ == "primitive":
        return t.__pk_dtype__
    if t.__pk_kind__ == "tuple":
        fields = [(f"f{i}", struct_dtype(p)) for i, p in enumerate(t.__pk_params__)]
    else:
        fields = [(n, struct_dtype(ft)) for n, ft in t.__pk_fields__]
    return np.dtype(fields, align=True)


def _from_record(t, rec):
    if t.__pk_kind__ == "primitive":
        return to_python(t.__pk_pytype__(rec)) if t is not Bool else bool(rec)
    if t.__pk_kind__ == "tuple":
        return tuple(_from_record(p, rec[i]) for i, p in enumerate(t.__pk_params__))
    from .typedefs import new_unchecked
    return new_unchecked(t, [_from_record(ft, rec[n]) for n, ft in t.__pk_fields__])


def _to_record(t, v):
    if t.__pk_kind__ == "primitive":
        return convert(t, v)
    if t.__pk_kind__ == "tuple":
        return tuple(_to_record(p, x) for p, x in zip(t.__pk_params__, v))
    if typeof(v) is not t:
        raise TypeError(f"cannot store {typeof(v)} in an array of {t}")
    return tuple(_to_record(ft, getattr(v, n)) for n, ft in t.__pk_fields__)


_STRUCT_VECTORS: dict = {}      # isbits struct type -> its StructVector subclass


def struct_vector_class(t):
    """The ``np.ndarray`` subclass of arrays of isbits struct ``t`` stored inline: its
    elements read and write as ``t`` values, and ``typeof`` knows ``t`` from the class."""
    cls = _STRUCT_VECTORS.get(t)
    if cls is None:
        cls = type(f"StructVector[{t.__pk_name__}]", (_struct_vector_base(),),
                   {"__pk_eltype__": t, "__module__": __name__})
        _STRUCT_VECTORS[t] = cls
    return cls


def _struct_vector_base():
    """``StructVector``, made at first use (it subclasses ``np.ndarray``)."""
    global StructVector
    if StructVector is not None:
        return StructVector

    class StructVector(np.ndarray):
        __pk_eltype__ = None

        def _eltype(self):
            return type(self).__pk_eltype__

        def __reduce__(self):
            return (_rebuild_struct_vector, (self._eltype(), self.view(np.ndarray).copy()))

        def __getitem__(self, key):
            r = np.ndarray.__getitem__(self, key)
            if isinstance(r, np.void):
                return _from_record(self._eltype(), r)
            return r

        def __setitem__(self, key, value):
            t = self._eltype()
            if isinstance(value, np.ndarray):
                np.ndarray.__setitem__(self, key, value)
            else:
                np.ndarray.__setitem__(self, key, _to_record(t, value))

        def __iter__(self):
            t = self._eltype()
            for rec in np.ndarray.__iter__(self.view(np.ndarray)):
                yield _from_record(t, rec)

        def tolist(self):
            return list(self)

        def __repr__(self):
            return f"{typeof(self)}({list(self)!r})"

    globals()["StructVector"] = StructVector
    return StructVector


StructVector = None


def _rebuild_struct_vector(t, data):
    return data.view(struct_vector_class(t))


def make_vector(eltype, iterable):
    if isbits(eltype) and eltype.__pk_kind__ == "struct":
        dt = struct_dtype(eltype)
        recs = [_to_record(eltype, x) for x in iterable]
        return np.array(recs, dtype=dt).view(struct_vector_class(eltype))
    if eltype.__pk_kind__ == "primitive":
        if isinstance(iterable, np.ndarray) and iterable.dtype == eltype.__pk_dtype__ \
                and iterable.ndim == 1:
            return iterable.copy()
        return np.array([convert(eltype, x) for x in iterable], dtype=eltype.__pk_dtype__)
    data = list(iterable)
    for x in data:
        if not isa(x, eltype):
            raise TypeError(f"cannot store {typeof(x)} in {vector_of(eltype)}")
    return BoxedVector(eltype, data)


def make_array(t, args, kwargs):
    """``Vector[Float64]([1, 2])`` (from an iterable), ``Vector[Float64](n)`` (n zeros, as
    Julia's ``Vector{Float64}(undef, n)`` but initialised), ``Matrix[Int64](n, m)``."""
    el, n = t.__pk_eltype__, t.__pk_ndim__
    if kwargs:
        raise TypeError(f"{t} takes no keyword arguments")
    if isinstance(n, TypeVar) or not isconcrete(t):
        raise TypeError(f"cannot instantiate {t}: its parameters are not all known")
    if args and all(isinstance(a, int) and not isinstance(a, bool) for a in args) \
            and el.__pk_kind__ == "primitive":
        if len(args) != n:
            raise TypeError(f"{t}(dims...) takes {n} dimension{'s' if n != 1 else ''}, "
                            f"got {len(args)}")
        return np.zeros(args, dtype=el.__pk_dtype__)
    if n == 1:
        if len(args) > 1:
            raise TypeError(f"{t}(iterable) takes at most one argument")
        return make_vector(el, args[0] if args else ())
    if len(args) != 1 or el.__pk_kind__ != "primitive":
        raise TypeError(f"{t}(array) takes one array-like argument of primitive elements")
    a = np.array(args[0], dtype=el.__pk_dtype__)
    if a.ndim != n:
        raise TypeError(f"{t}: the argument has {a.ndim} dimensions, not {n}")
    return a


# --------------------------------------------------------------------------------------------
# Substitution and free variables


def substitute(t, env):
    """``t`` with each TypeVar in ``env`` replaced by its value."""
    if not env:
        return t
    if isinstance(t, TypeVar):
        return env.get(t, t)
    if isinstance(t, (int, bool)):
        return t
    if isinstance(t, Vararg):
        return make_vararg(substitute(t.T, env), substitute(t.N, env) if t.N is not None else None)
    if isinstance(t, UnionAll):
        inner = {k: v for k, v in env.items() if k is not t.var}
        body = substitute(t.body, inner)
        return t if body is t.body else UnionAll(t.var, body)
    k = t.__pk_kind__
    if k == "union":
        return make_union([substitute(m, env) for m in t.__pk_members__])
    ps = t.__pk_params__
    if not ps:
        return t
    new = tuple(substitute(p, env) for p in ps)
    if all(a is b for a, b in zip(new, ps)):
        return t
    if t.__pk_typename__ is TUPLE_NAME:
        return tuple_type(*new)
    return t.__pk_typename__.apply(new)


def occurs(v, t):
    """Does TypeVar ``v`` occur free in ``t``?"""
    if t is v:
        return True
    if isinstance(t, (int, bool)) or t is None:
        return False
    if isinstance(t, TypeVar):
        return False
    if isinstance(t, Vararg):
        return occurs(v, t.T) or (t.N is not None and occurs(v, t.N))
    if isinstance(t, UnionAll):
        return t.var is not v and occurs(v, t.body)
    if t.__pk_kind__ == "union":
        return any(occurs(v, m) for m in t.__pk_members__)
    return any(occurs(v, p) for p in t.__pk_params__)


def free_vars(t, out=None):
    out = [] if out is None else out
    if isinstance(t, TypeVar):
        if t not in out:
            out.append(t)
    elif isinstance(t, Vararg):
        free_vars(t.T, out)
        if t.N is not None:
            free_vars(t.N, out)
    elif isinstance(t, UnionAll):
        inner = free_vars(t.body, [])
        out.extend(v for v in inner if v is not t.var and v not in out)
    elif isinstance(t, PkType):
        if t.__pk_kind__ == "union":
            for m in t.__pk_members__:
                free_vars(m, out)
        else:
            for p in t.__pk_params__:
                free_vars(p, out)
    return out


def has_free_vars(t):
    return bool(free_vars(t))


# --------------------------------------------------------------------------------------------
# Relations (the algorithms are in subtyping.py)


def is_type(t):
    """A pkgimage type (a DataType, Union or UnionAll), not a TypeVar."""
    return (isinstance(t, PkType) and t.__pk_kind__ != "pending") or isinstance(t, UnionAll)


def is_pktype(t):
    return is_type(t)


def isconcrete(t) -> bool:
    """Julia's ``isconcretetype``: a DataType with no free variables that values can have."""
    if not isinstance(t, PkType):
        return False
    k = t.__pk_kind__
    if k in ("primitive", "struct", "mutable", "pyobject", "nothing", "string", "function",
             "closure"):
        if k == "mutable" and "__pk_open__" in t.__dict__:
            return False               # (subclassed: ``mutables.open_parent``)
        return not t.__pk_params__ or not has_free_vars(t)
    if k in ("array", "list", "dict", "set"):
        return not has_free_vars(t)
    if k == "tuple":
        return all(not isinstance(p, Vararg) and isconcrete(p) for p in t.__pk_params__)
    return False


def issubtype(a, b) -> bool:
    """Julia's ``a <: b``."""
    if a is b or b is Any:
        return True
    from .subtyping import subtype
    return subtype(a, b)


def typeintersect(a, b):
    """The largest type below both ``a`` and ``b`` (``Bottom`` when they share no value);
    Julia's ``typeintersect`` (which may over-approximate in hard cases, as Julia's does)."""
    from .subtyping import intersect
    return intersect(a, b)


def sig_issubtype(a, b) -> bool:
    """Signature subtyping; ``a``/``b`` are Python tuples of types or signature types."""
    return issubtype(as_sigtype(a), as_sigtype(b))


def sig_intersect(a, b):
    """The intersection of two signatures as a tuple of argument types (fixed length), or
    ``None`` when empty.  A signature is a tuple of types or a signature type."""
    from .subtyping import intersect_sig
    return intersect_sig(a, b)


def as_sigtype(s):
    return tuple_type(*s) if isinstance(s, tuple) else s


def sig_params(sig):
    """(vars, element types) of a signature type."""
    vars_, body = unwrap_unionall(sig)
    return vars_, body.__pk_params__


def sig_accepts(sig, n):
    """Can a call with ``n`` arguments match the signature (by count only)?"""
    _, ps = sig_params(as_sigtype(sig))
    if ps and isinstance(ps[-1], Vararg):
        return n >= len(ps) - 1 if ps[-1].N is None or isinstance(ps[-1].N, TypeVar) \
            else n == len(ps) - 1 + ps[-1].N
    return n == len(ps)


def sig_repr(name, sig):
    if isinstance(sig, tuple):
        return f"{name}(" + ", ".join("::" + _pname(t) for t in sig) + ")"
    vars_, body = unwrap_unionall(sig)
    s = f"{name}(" + ", ".join(
        ("::" + _pname(p.T) + "...") if isinstance(p, Vararg) else "::" + _pname(p)
        for p in body.__pk_params__) + ")"
    if vars_:
        s += " where {" + ", ".join(v.where_repr() for v in vars_) + "}"
    return s


# --------------------------------------------------------------------------------------------
# Values


_PY_TO_PK = {int: Int64, float: Float64, bool: Bool, type(None): Nothing, str: String,
             _pytypes.CellType: Box}
_PY_ANNOTATION = {int: Int64, float: Float64, bool: Bool, type(None): Nothing, str: String}
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


_VALUE_CLASS: dict = {}     # struct type -> the Python class of its values, when not its own


def set_value_class(t, cls):
    """Values of struct ``t`` are instances of ``cls`` (Python's ``complex`` for
    ``Complex[Float64]``), which has the struct's fields as attributes."""
    _VALUE_CLASS[t] = cls


def value_class(t):
    """The Python class of struct ``t``'s values: its own, or the one ``set_value_class``
    named."""
    return _VALUE_CLASS.get(t, t)


def typeof(v):
    """The pkgimage type of a Python value (DESIGN.md's mapping)."""
    t = _PY_TO_PK.get(type(v))
    if t is not None:
        return t
    if type(v) in _ARRAY_TYPES:
        t = _ARRAY_TYPES[type(v)].get((v.dtype, v.ndim))
        if t is not None:
            return t                                # an ndarray of a kind seen before
    if type(v) is tuple:
        classes = tuple(map(type, v))
        t = _TUPLE_TYPES.get(classes)
        if t is None:
            t = tuple_type(*(typeof(x) for x in v))
            if all(c in _PY_TO_PK for c in classes):
                _TUPLE_TYPES[classes] = t           # (the classes decide the type)
        return t
    if type(v) is list:
        return _list_typeof(v)
    if type(v) is dict:
        return dict_of(_elements_type(v), _elements_type(v.values()))
    if type(v) is set:
        return set_of(_elements_type(v))
    if getattr(type(v), "__pk_generic__", False) and getattr(v, "context", None) is None:
        return function_type(v)
    if type(v) is Closure:
        return closure_type(v.function, tuple(typeof(x) for x in v.captured))
    if isinstance(v, BoxedVector):
        return vector_of(v.eltype)
    np = _numpy_if_imported()
    if np is None:
        return PyObject
    t = _PY_TO_PK.get(type(v))
    if t is not None:
        return t
    if isinstance(v, np.ndarray):
        t = _array_typeof(v, np)
        _ARRAY_TYPES.setdefault(type(v), {})[(v.dtype, v.ndim)] = t
        return t
    if isinstance(v, np.generic):
        # NumPy scalar classes that alias a listed dtype (``np.longlong`` is int64 on Linux).
        return _DTYPE_TO_PRIM.get(v.dtype, PyObject)
    return PyObject


# the classes of a tuple's elements -> its type, when those classes decide it
_TUPLE_TYPES: dict = {}

# ndarray class -> {(dtype, ndim): type}: an array's type is decided by these three, and a
# call with an array argument asks for it each time (dispatch by type, ``_call_slow``)
_ARRAY_TYPES: dict = {}


def _array_typeof(v, np):
    el = _DTYPE_TO_PRIM.get(v.dtype)
    if el is None and v.dtype.fields is not None:
        el = getattr(type(v), "__pk_eltype__", None)     # an array of structs
    if el is not None and v.ndim >= 1 and v.dtype.isnative:
        return array_of(el, v.ndim)
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
    """Convert a Python value to the canonical Python value of type ``t``.

    Integers convert exactly (``Int8(300)`` is an ``InexactError``, never a wrap) as Julia's
    ``convert`` does; floats round to the nearest representable value, as Julia's do; a
    tuple converts element by element.
    """
    if t.__pk_kind__ != "primitive":
        if t is Nothing and v is None:
            return None
        if t.__pk_kind__ == "tuple" and type(v) is tuple and isconcrete(t) and \
                len(v) == len(t.__pk_params__):
            return tuple(convert(p, x) for p, x in zip(t.__pk_params__, v))
        if isa(v, t):
            return v
        if type(v) is list and is_list(t) and isconcrete(t) and \
                all(isa(x, t.__pk_eltype__) for x in v):
            return v          # (an empty list, or one whose elements all fit: the list itself)
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

_T_el = TypeVar("T")
_N_rank = TypeVar("N")
Array = UnionAll(_T_el, UnionAll(_N_rank, ARRAY_NAME.apply((_T_el, _N_rank))), name="Array")
ARRAY_NAME.wrapper = Array
ARRAY_NAME.vars = (_T_el, _N_rank)
_T_vec = TypeVar("T")
Vector = UnionAll(_T_vec, ARRAY_NAME.apply((_T_vec, 1)), name="Vector")
_T_mat = TypeVar("T")
Matrix = UnionAll(_T_mat, ARRAY_NAME.apply((_T_mat, 2)), name="Matrix")
_T_list = TypeVar("T")
List = UnionAll(_T_list, LIST_NAME.apply((_T_list,)), name="List")
LIST_NAME.wrapper = List
LIST_NAME.vars = (_T_list,)
_K_dict, _V_dict = TypeVar("K"), TypeVar("V")
Dict = UnionAll(_K_dict, UnionAll(_V_dict, DICT_NAME.apply((_K_dict, _V_dict))), name="Dict")
DICT_NAME.wrapper = Dict
DICT_NAME.vars = (_K_dict, _V_dict)
_T_set = TypeVar("T")
Set = UnionAll(_T_set, SET_NAME.apply((_T_set,)), name="Set")
SET_NAME.wrapper = Set
SET_NAME.vars = (_T_set,)


_BUILTIN_BY_NAME = {t.__pk_name__: t for t in BUILTIN_ABSTRACT + PRIMITIVES +
                    (Nothing, PyObject, String, Function, Box)}
_BUILTIN_BY_NAME.update({"Vector": Vector, "Matrix": Matrix, "Array": Array, "List": List,
                         "Dict": Dict, "Set": Set})
USER_TYPES: dict = {}      # (module, qualname) -> user type (or parametric wrapper), latest


def type_ref(t):
    """A tuple naming ``t`` that survives pickling and a new process.  TypeVars are named by
    their position in the enclosing UnionAlls (de Bruijn style), so a reference does not
    depend on the identity of var objects."""
    return _ref(t, ())


def _ref(t, scope):
    if isinstance(t, bool):
        return ("bool", t)
    if isinstance(t, int):
        return ("int", t)
    if isinstance(t, TypeVar):
        for i in range(len(scope) - 1, -1, -1):
            if scope[i] is t:
                return ("var", len(scope) - 1 - i)
        return ("freevar", t.name, _ref(t.lb, scope), _ref(t.ub, scope))
    if isinstance(t, Vararg):
        return ("vararg", _ref(t.T, scope), None if t.N is None else _ref(t.N, scope))
    if isinstance(t, UnionAll):
        if t.name is not None and _BUILTIN_BY_NAME.get(t.name) is t:
            return ("builtin", t.name)
        tn = unwrap_unionall(t)[1].__pk_typename__
        if tn is not None and tn.wrapper is t:
            return ("user", tn.module, tn.qualname)
        v = t.var
        return ("unionall", v.name, _ref(v.lb, scope), _ref(v.ub, scope),
                _ref(t.body, scope + (v,)))
    k = t.__pk_kind__
    if k == "union":
        return ("union",) + tuple(_ref(m, scope) for m in t.__pk_members__)
    tn = t.__pk_typename__
    if tn is TUPLE_NAME:
        return ("tuple",) + tuple(_ref(p, scope) for p in t.__pk_params__)
    if tn is ARRAY_NAME:
        return ("array", _ref(t.__pk_eltype__, scope), _ref(t.__pk_ndim__, scope))
    if tn is LIST_NAME:
        return ("list", _ref(t.__pk_eltype__, scope))
    if t.__pk_kind__ == "function":
        f = t.__pk_function__
        return ("function", f.module, f.qualname)
    if t.__pk_kind__ == "closure":
        f = t.__pk_function__
        return ("closure", f.module, f.qualname) + tuple(
            _ref(c, scope) for c in t.__pk_captures__)
    if tn is DICT_NAME:
        return ("dict", _ref(t.__pk_keytype__, scope), _ref(t.__pk_valtype__, scope))
    if tn is SET_NAME:
        return ("set", _ref(t.__pk_eltype__, scope))
    if t.__pk_params__:
        return ("apply", tn.module, tn.qualname) + tuple(
            _ref(p, scope) for p in t.__pk_params__)
    mod = getattr(t, "__pk_module__", None)
    if mod is None or _BUILTIN_BY_NAME.get(t.__pk_name__) is t:
        return ("builtin", t.__pk_name__)
    return ("user", mod, t.__qualname__)


def type_from_ref(ref):
    return _from_ref(ref, ())


def _from_ref(ref, scope):
    kind = ref[0]
    if kind == "builtin":
        return _BUILTIN_BY_NAME[ref[1]]
    if kind in ("int", "bool"):
        return ref[1]
    if kind == "var":
        return scope[len(scope) - 1 - ref[1]]
    if kind == "freevar":
        return _make_typevar(ref[1], _from_ref(ref[2], scope), _from_ref(ref[3], scope))
    if kind == "vararg":
        return make_vararg(_from_ref(ref[1], scope),
                           None if ref[2] is None else _from_ref(ref[2], scope))
    if kind == "unionall":
        v = _make_typevar(ref[1], _from_ref(ref[2], scope), _from_ref(ref[3], scope))
        return UnionAll(v, _from_ref(ref[4], scope + (v,)))
    if kind == "union":
        return make_union([_from_ref(r, scope) for r in ref[1:]])
    if kind == "tuple":
        return tuple_type(*(_from_ref(r, scope) for r in ref[1:]))
    if kind == "array":
        return array_of(_from_ref(ref[1], scope), _from_ref(ref[2], scope))
    if kind == "list":
        return list_of(_from_ref(ref[1], scope))
    if kind in ("function", "closure"):
        from .dispatch import lookup_function
        f = lookup_function(ref[1], ref[2])
        if kind == "closure":
            return closure_type(f, tuple(_from_ref(r, scope) for r in ref[3:]))
        return function_type(f)
    if kind == "dict":
        return dict_of(_from_ref(ref[1], scope), _from_ref(ref[2], scope))
    if kind == "set":
        return set_of(_from_ref(ref[1], scope))
    if kind == "apply":
        wrapper = _user_type(ref[1], ref[2])
        return typename_of(wrapper).apply(tuple(_from_ref(r, scope) for r in ref[3:]))
    return _user_type(ref[1], ref[2])


def _user_type(mod, qualname):
    t = USER_TYPES.get((mod, qualname))
    if t is None:
        import importlib
        obj = importlib.import_module(mod)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        t = obj
    return t


def typename_of(t):
    """The TypeName of a DataType or of the body of a UnionAll."""
    return unwrap_unionall(t)[1].__pk_typename__


AnyTuple = tuple_type(make_vararg(Any))
Tuple = TupleC


# --------------------------------------------------------------------------------------------
# Python annotations to types

_TYPING_VARS: dict = {}     # typing.TypeVar (PEP 484 / 695) -> TypeVar, one each


def from_annotation(ann):
    """The type (or TypeVar) a Python annotation names, or raise TypeError.

    Accepts pkgimage types and TypeVars; ``int``/``float``/``bool``/``None``; a
    ``typing.TypeVar`` (also Python 3.12's ``def f[T: Real](x: T)``), whose bound must be a
    pkgimage type; ``tuple[int, float]`` and ``tuple[int, ...]``; ``list`` and
    ``list[float]`` (``List``); ``typing.Union``/``Optional`` and ``X | Y`` (``Union``)."""
    if isinstance(ann, (TypeVar, UnionAll)) or (isinstance(ann, PkType) and
                                                ann.__pk_kind__ != "pending"):
        return ann
    if isinstance(ann, Vararg):
        return ann
    if ann is None:
        return Nothing
    if _hashable(ann) and ann in _PY_ANNOTATION:
        return _PY_ANNOTATION[ann]
    if ann is complex:
        from . import base   # noqa: F401  (``Complex[Float64]`` is the base library's)
        return _PY_TO_PK[complex]
    if ann is tuple or ann is TupleC:
        return AnyTuple
    if ann is list:
        return List
    if ann is dict:
        return Dict
    if ann is set:
        return Set
    import typing
    if isinstance(ann, typing.TypeVar):
        v = _TYPING_VARS.get(ann)
        if v is None:
            bound = ann.__bound__
            v = TypeVar(ann.__name__, None if bound is None else from_annotation(bound))
            _TYPING_VARS[ann] = v
        return v
    origin = getattr(ann, "__origin__", None)
    args = getattr(ann, "__args__", None)
    if origin is tuple and args is not None:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple_type(make_vararg(from_annotation(args[0])))
        if args == ((),):
            return tuple_type()
        return tuple_type(*(from_annotation(a) for a in args))
    if origin is list and args is not None and len(args) == 1:
        return list_of(from_annotation(args[0]))        # ``list[float]``
    if origin is dict and args is not None and len(args) == 2:
        return dict_of(from_annotation(args[0]), from_annotation(args[1]))
    if origin is set and args is not None and len(args) == 1:
        return set_of(from_annotation(args[0]))         # ``set[int]``
    import types as pytypes
    if (origin is typing.Union or isinstance(ann, pytypes.UnionType)) and args:
        # ``Optional[Node]``, ``int | None``: Julia's ``Union{Node, Nothing}``
        return make_union([from_annotation(a) for a in args])
    raise TypeError(f"{ann!r} is not a pkgimage type")


def where_vars(types_):
    """The free TypeVars of a list of types, in order of first appearance."""
    out = []
    for t in types_:
        free_vars(t, out)
    return out


def components(t):
    """Every type that occurs in ``t`` (itself, union members, parameters, recursively)."""
    out = []

    def walk(x):
        if isinstance(x, (int, bool)) or x is None:
            return
        if isinstance(x, Vararg):
            walk(x.T)
            return
        if isinstance(x, TypeVar):
            walk(x.ub)
            return
        if isinstance(x, UnionAll):
            walk(x.body)
            return
        out.append(x)
        if x.__pk_kind__ == "union":
            for m in x.__pk_members__:
                walk(m)
        for p in x.__pk_params__:
            walk(p)
    walk(t)
    return out


def ref_repr(ref, short=False):
    """How the type a ``type_ref`` names prints, without importing anything (tools that
    describe images read refs of modules that may not be importable)."""
    k = ref[0]
    r = lambda x: ref_repr(x, short)  # noqa: E731
    if k == "builtin":
        return ref[1]
    if k in ("int", "bool"):
        return repr(ref[1])
    if k == "var":
        return f"#{ref[1]}"
    if k == "freevar":
        return ref[1]
    if k == "vararg":
        return f"Vararg[{r(ref[1])}]" if ref[2] is None else f"Vararg[{r(ref[1])}, {r(ref[2])}]"
    if k == "unionall":
        return f"{r(ref[4])} where {ref[1]}"
    if k == "union":
        return "Union[" + ", ".join(r(x) for x in ref[1:]) + "]"
    if k == "tuple":
        return "Tuple[" + ", ".join(r(x) for x in ref[1:]) + "]" if len(ref) > 1 else "Tuple[]"
    if k == "list":
        return f"List[{r(ref[1])}]"
    if k == "function":
        return f"typeof({ref[2]})"
    if k == "closure":
        return f"Closure[{ref[1]}.{ref[2]}" + "".join(", " + r(x) for x in ref[3:]) + "]"
    if k == "dict":
        return f"Dict[{r(ref[1])}, {r(ref[2])}]"
    if k == "set":
        return f"Set[{r(ref[1])}]"
    if k == "array":
        n = ref[2][1] if ref[2][0] == "int" else None
        return _array_name(_Named(r(ref[1])), n if n is not None else _Named(r(ref[2])))
    name = ref[2].rpartition(".")[2] if short else f"{ref[1]}.{ref[2]}"
    if k == "apply":
        return f"{name}[" + ", ".join(r(x) for x in ref[3:]) + "]"
    return name


class _Named:
    __slots__ = ("__pk_name__",)

    def __init__(self, name):
        self.__pk_name__ = name

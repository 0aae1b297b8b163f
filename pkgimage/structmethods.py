"""Methods written in a ``@pk.struct`` or ``@pk.abstract`` class body, as Julia has them.

``def norm(self): ...`` inside ``class Point`` is a method ``norm(self::Point)`` of the
generic function ``norm`` of the struct's module; ``p.norm()`` (in compiled code and from
Python) is ``norm(p)``, and a method of an abstract parent is inherited by dispatch.  Python's
operator dunders map to the base library's functions (``__add__`` is a method of
``pkgimage.base.add``, ``__len__`` of ``len``, ``__eq__`` of ``eq``), so ``a + b`` dispatches
to compiled code from Python too, and a method named like one of the base library's method
functions (``count``, ``get``, ``append``) extends that function, which is what ``x.count(y)``
calls in compiled code whatever ``x`` is.

The class keeps, under each name, a descriptor (:class:`MethodOf`) that binds the instance
to the generic function, so ``Point.norm`` is the function and ``p.norm`` a bound call of it.
"""

from __future__ import annotations

import types as pytypes

from .dispatch import FunctionRef, library_ref

# operator dunder -> the base function it is a method of (argument order kept)
DUNDERS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "truediv",
           "__floordiv__": "floordiv", "__mod__": "mod", "__pow__": "pow", "__neg__": "neg",
           "__abs__": "abs", "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le",
           "__gt__": "gt", "__ge__": "ge", "__len__": "len", "__getitem__": "getitem",
           "__contains__": "contains", "__bool__": "truth", "__call__": "call",
           "__iadd__": "iadd", "__isub__": "isub", "__imul__": "imul",
           "__itruediv__": "itruediv"}

# left to Python (they are about the object as Python sees it, not about its value)
PYTHON_ONLY = {"__repr__", "__str__", "__format__", "__hash__", "__reduce__", "__reduce_ex__",
               "__init_subclass__", "__class_getitem__", "__getattr__", "__getattribute__",
               "__setattr__", "__delattr__", "__dir__", "__sizeof__", "__copy__",
               "__deepcopy__",
               "__init__"}                 # (the struct's inner constructor: ``inits.py``)


class MethodOf:
    """A class attribute standing for a generic function: read on an instance it is the
    function with the instance bound first (``p.norm()`` is ``norm(p)``).

    A base library function is kept by reference in a package image (``__add__`` of a
    struct restored without the library imported: ``dispatch.FunctionRef``) and resolved
    when first read."""

    __slots__ = ("_function",)

    def __init__(self, function):
        self._function = function

    @property
    def function(self):
        f = self._function
        if type(f) is FunctionRef:
            f = self._function = f.resolve()
        return f

    def __get__(self, obj, cls=None):
        f = self._function
        if type(f) is FunctionRef:
            f = self.function
        return f if obj is None else pytypes.MethodType(f, obj)

    def __reduce__(self):
        return (type(self), (library_ref(self._function),))


class PropertyOf(MethodOf):
    """``@property def norm(self)``: a generic function read as an attribute (``p.norm`` is
    ``norm(p)``, in compiled code and from Python)."""

    __slots__ = ()

    def __get__(self, obj, cls=None):
        if obj is None:
            return self.function
        return self.function(obj)

    def __set__(self, obj, value):
        raise AttributeError(f"property {self.function.name} of {type(obj).__name__} cannot "
                             f"be assigned")


def class_methods(cls):
    """The plain functions of ``cls``'s body that become methods, and the getters of its
    properties: (name, function, is a property)."""
    out = []
    for name, v in cls.__dict__.items():
        if isinstance(v, pytypes.FunctionType) and name not in PYTHON_ONLY:
            out.append((name, v))
        elif isinstance(v, property) and isinstance(v.fget, pytypes.FunctionType):
            if v.fset is not None or v.fdel is not None:
                from .errors import CompileError
                code = v.fget.__code__
                raise CompileError(f"property {name} of {cls.__name__} has a setter or a "
                                   f"deleter, which a struct's property cannot have",
                                   code.co_filename, code.co_firstlineno, 0, "property")
            v.fget.__pk_property__ = True
            out.append((name, v.fget))
    return out


def install(t, selftype, methods, module, classes=None):
    """Add each of ``methods`` to its generic function with its first parameter typed
    ``selftype``, and put a :class:`MethodOf` in its place on ``t`` (and on ``classes``: a
    parametric type's declaring class and the instantiations made so far)."""
    from . import base
    from . import dispatch as D
    for name, fn in methods:
        if name in DUNDERS:
            target = getattr(base, DUNDERS[name])
        elif name in base.METHOD_NAMES:
            target = getattr(base, name)
        elif name.startswith("__") and name.endswith("__"):
            from .errors import CompileError
            code = fn.__code__
            raise CompileError(f"struct method {name} of {t} has no meaning in compiled code "
                               f"(operators: {', '.join(sorted(DUNDERS))})",
                               code.co_filename, code.co_firstlineno, 0, "struct method")
        else:
            # A method its parent class declares (``Shape.area``) is overridden as Python
            # overrides it: a method of the parent's generic function, wherever the subclass
            # is defined; any other name is a function of the class's module.
            target = _inherited(t, name) or D.get_function(name, module)
        params = _parameter_names(fn)
        if not params:
            from .errors import CompileError
            code = fn.__code__
            raise CompileError(f"method {name} of {t} takes no self parameter",
                               code.co_filename, code.co_firstlineno, 0, "struct method")
        anns = dict(fn.__annotations__)
        for p, a in list(anns.items()):
            if isinstance(a, str) and a.strip("'\"") == t.__name__:
                anns[p] = selftype          # (the class's own name: not yet a global)
        anns[params[0]] = selftype
        fn.__annotations__ = anns
        # (reached from Python by ``a + b`` or ``p.norm()`` as well as from compiled code: an
        # image gives its instances code of their own even when every caller inlines them)
        fn.__pk_struct_method__ = True
        target.method(fn)
        kind = PropertyOf if getattr(fn, "__pk_property__", False) else MethodOf
        for c in classes or (t,):
            type.__setattr__(c, name, kind(target))


def _inherited(t, name):
    """The generic function a parent class of ``t`` binds ``name`` to, or None."""
    for base in type.mro(t)[1:]:
        d = base.__dict__.get(name)
        if isinstance(d, MethodOf):
            return d.function
    return None


def property_function(t, name):
    """The generic function of property ``name`` of struct ``t`` (or a parent), or None."""
    from . import types as T
    if not isinstance(t, T.PkType) or t.__pk_kind__ not in ("struct", "mutable", "abstract"):
        return None
    d = _class_attr(t, name)
    return d.function if isinstance(d, PropertyOf) else None


def resolve(t, name):
    """The generic function ``x.name(...)`` calls for a value of type ``t`` (a struct or an
    abstract type whose class body defines it, or a union of such that agree), else None."""
    from . import types as T
    if isinstance(t, T.PkType) and t.__pk_kind__ == "union":
        fs = {resolve(m, name) for m in t.__pk_members__}
        return fs.pop() if len(fs) == 1 else None
    if not isinstance(t, T.PkType) or t.__pk_kind__ not in ("struct", "mutable", "abstract"):
        return None
    d = _class_attr(t, name)
    return d.function if isinstance(d, MethodOf) else None


def _class_attr(t, name):
    """What class ``t`` or a parent binds ``name`` to, without running any descriptor
    (``inspect.getattr_static`` on a class, for the descriptors this module puts there:
    ``inspect`` cost every process importing the base library 10-25 ms)."""
    for c in type.mro(t):
        d = c.__dict__.get(name, _NOTHING)
        if d is not _NOTHING:
            return d
    return None


_NOTHING = object()
_VARARGS, _VARKEYWORDS = 0x04, 0x08          # (``inspect.CO_VARARGS``, ``CO_VARKEYWORDS``)


def _parameter_names(fn):
    """``fn``'s parameter names in ``inspect.signature``'s order: positional ones, ``*args``,
    keyword-only ones, ``**kwargs`` (from its code object: the variables start with the
    positional and keyword-only parameters, then ``*args``, then ``**kwargs``)."""
    code = fn.__code__
    npos, nkw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames
    out = list(names[:npos])
    rest = npos + nkw
    if code.co_flags & _VARARGS:
        out.append(names[rest])
        rest += 1
    out += names[npos:npos + nkw]
    if code.co_flags & _VARKEYWORDS:
        out.append(names[rest])
    return out

"""A mutable struct's ``__init__``, as Python runs it.

An immutable struct's ``__init__`` is Julia's inner constructor (``inits.py``): the value
exists only once the body returns.  A mutable struct is an object with identity, and Python
programs use it as one while it is being initialised: ``__init__`` registers ``self`` in a
table, links it into a list, calls the parent class's ``__init__`` on it
(``Task.__init__(self, i, p)``).  So here ``C(args...)`` is what Python does:

* the constructor method ``C(args...)`` (its parameters are ``__init__``'s after ``self``,
  defaults and all) allocates the object with no field set and calls ``C``'s init function
  on it, then returns it;
* the init function of the class that defines ``__init__`` (``C`` or, inherited, the
  nearest parent class in Python's order) is a generic function of its own (``C.__init__``)
  with one method, ``__init__`` itself with ``self`` typed as that class, compiled as any
  method is: ``self.f = x`` stores the field, ``self`` may be passed anywhere, and an
  explicit ``Parent.__init__(self, ...)`` in the body is a direct call of the parent's.

A field the body leaves unset reads as Python's ``AttributeError`` (``codegen``'s field read
checks the slot), as it would in Python.  Both functions are made from the class, at its
definition and again when an image restores it, never pickled.
"""

from __future__ import annotations

from . import dispatch as D
from . import types as T


def init_owner(t):
    """The class whose ``__init__`` a mutable struct ``t``'s instances run (``t`` or the
    nearest mutable struct parent defining one), or None."""
    for c in type.mro(t):
        if not (T.is_pktype(c) and c.__pk_kind__ == "mutable"):
            break
        if "__init__" in c.__dict__:
            return c
    return None


_INIT_FUNCTIONS: dict = {}     # owner class -> its generic function ``owner.__init__``


def init_function(owner):
    """The generic function ``owner.__init__`` (made with its method on first use).

    Its method is a copy of ``__init__`` (the same code) whose ``self`` is annotated with
    ``owner``: the class's own ``__init__`` is left as written, since an image stores the
    class with its namespace, and an annotation naming the class inside it would make the
    class part of its own definition (and the function, a record of this process's state)."""
    f = _INIT_FUNCTIONS.get(owner)
    if f is not None:
        return f
    import types
    init = owner.__dict__["__init__"]
    module = owner.__pk_module__
    qualname = f"{owner.__qualname__}.__init__"
    f = D.FUNCTIONS.get((module, qualname))
    if f is None:
        f = D.FUNCTIONS[(module, qualname)] = D.GenericFunction("__init__", module, qualname)
    names = list(D.signature_of(init)[0])
    if not names:
        from .errors import CompileError
        code = init.__code__
        raise CompileError(f"mutable struct {owner.__pk_name__}.__init__ takes no self "
                           f"parameter", code.co_filename, code.co_firstlineno, 0,
                           "struct __init__")
    meth = types.FunctionType(init.__code__, init.__globals__, init.__name__,
                              init.__defaults__, init.__closure__)
    meth.__kwdefaults__ = init.__kwdefaults__
    meth.__qualname__, meth.__module__ = init.__qualname__, init.__module__
    meth.__annotations__ = {**init.__annotations__, names[0]: owner}
    meth.__pk_mutinit__ = True
    _INIT_FUNCTIONS[owner] = f
    f.method(meth)
    return f


def add_constructor(f, t):
    """The constructor methods of mutable struct ``t`` whose class (or parent) defines
    ``__init__``: allocate, run the init function, return the object."""
    owner = init_owner(t)
    init = owner.__dict__["__init__"]
    initf = init_function(owner)
    names, sig = D.signature_of(init)
    vars_, body = T.unwrap_unionall(sig)
    params = body.__pk_params__[1:]
    sig = T.rewrap_unionall(T.tuple_type(*params), tuple(v for v in vars_
                                                         if v in T.where_vars(list(params))))
    argnames = tuple(names[1:])

    def construct(*args):
        obj = object.__new__(t)
        r = init(obj, *args)
        if r is not None:
            raise TypeError(f"__init__() should return None, not '{type(r).__name__}'")
        return obj

    def synth(method, sparams=()):
        from .compiler import ir as IR
        loc = (method.line, 1)
        n = len(method.argnames)
        stmts = [IR.Assign("%obj", IR.Intrinsic("alloc_mutable", (), (t,)), loc),
                 IR.Assign("%none", IR.Call(initf, ("%obj",) + tuple(method.argnames[:n]),
                                             kwbound=True),
                           loc)]
        return IR.IRFunction(t.__pk_name__, tuple(method.argnames),
                             [IR.Block(0, stmts, IR.Return("%obj"))], method.file,
                             method.line)

    construct.__pk_synth_ir__ = synth
    file, line = init.__code__.co_filename, init.__code__.co_firstlineno
    if body.__pk_params__ and isinstance(body.__pk_params__[-1], T.Vararg):
        from .errors import CompileError
        raise CompileError(f"mutable struct {t.__pk_name__}.__init__ with *args is not "
                           f"supported", file, line, 0, "struct __init__")
    D.insert_method(f, D.Method(f, sig, construct, t.__pk_module__, file, line, argnames))
    if init.__defaults__:
        from .defaults import add_default_methods
        add_default_methods(f, init, argnames, sig, t.__pk_module__, True)
    type.__setattr__(t, "__pk_user_ctor__", f)

"""Generic functions, methods and Julia's multiple-dispatch rules.

A :class:`GenericFunction` belongs to the module that created it; its methods may come from
any module (that is how packages extend ``pkgimage.base.add``).  Dispatch picks the most
specific applicable method, where "more specific" is strict signature subtyping; several
applicable methods none of which is more specific than all the others is an ambiguity,
reported at call time and never cached.

Each method definition bumps the global *world* counter.  Dispatch caches are per function
and are cleared whenever that function gains or replaces a method, which keeps them correct
(Julia issue 21963: a cached ``h(::Chr)`` must become an ambiguity once ``h(::Union[Chr,
Int16])`` exists).  Compiled code has its own, finer invalidation through backedges; the
compiler registers for method additions with :func:`on_method_added`.
"""

from __future__ import annotations

import itertools
import sys
import types as pytypes

from . import types as T
from .compiler_lock import COMPILER_LOCK
from .errors import AmbiguityError, MethodError
from .srcloc import caller_location, fmt_loc, function_location

# --------------------------------------------------------------------------------------------
# World counter


class _World:
    __slots__ = ("age",)

    def __init__(self):
        self.age = 1


WORLD = _World()


def world_counter() -> int:
    return WORLD.age


# --------------------------------------------------------------------------------------------
# Methods


class Method:
    """One definition of a generic function for a signature (a tuple of types)."""

    # ``sig`` is the signature type: ``Tuple[...]`` of the parameters' types (the last a
    # ``Vararg`` for ``*args``) under the UnionAlls of the method's type variables, as
    # Julia's ``Method.sig``.  A plain tuple of types is accepted and converted.
    __slots__ = ("function", "sig", "pyfunc", "module", "file", "line", "argnames",
                 "primary_world", "deleted_world", "source", "context", "boundscheck",
                 "__weakref__")

    def __init__(self, function, sig, pyfunc, module, file, line, argnames, source=None,
                 context=None, boundscheck=True):
        self.function = function
        self.sig = T.as_sigtype(sig)
        self.pyfunc = pyfunc
        self.module = module
        self.file = file
        self.line = line
        self.argnames = argnames
        self.primary_world = 0
        self.deleted_world = None
        self.source = source
        self.context = context
        # False: the method's array and tuple accesses (those of the base methods inlined
        # into it too, as Julia's ``@inbounds``) are not bounds-checked; numba's default.
        self.boundscheck = boundscheck

    @property
    def name(self):
        return self.function.name

    @property
    def location(self):
        return f"{self.file}:{self.line}"

    @property
    def npositional(self):
        """How many arguments a call may pass by position when the method has keyword-only
        parameters (``def f(x, *, tol=1e-8)``: 1; they follow the positional ones in its
        signature, and only a call naming them, ``keywords.bind``, fills them); None when
        every parameter may be passed by position."""
        code = getattr(self.pyfunc, "__code__", None)
        if code is None or not code.co_kwonlyargcount or \
                len(self.argnames) != code.co_argcount + code.co_kwonlyargcount:
            return None
        return code.co_argcount

    def positional_error(self, nargs):
        """Python's TypeError for a call passing ``nargs`` arguments by position, when
        that is more than the method takes so (None when it is not)."""
        k = self.npositional
        if k is None or nargs <= k:
            return None
        return (f"{self.function.name}() takes {k} positional argument{'s' if k != 1 else ''} "
                f"but {nargs} {'were' if nargs != 1 else 'was'} given")

    @property
    def params(self):
        """The parameters' types (the last a Vararg for ``*args``)."""
        return T.sig_params(self.sig)[1]

    @property
    def sparam_vars(self):
        """The method's type variables (Julia's ``where`` clause), outermost first."""
        return T.sig_params(self.sig)[0]

    @property
    def isva(self):
        ps = self.params
        return bool(ps) and isinstance(ps[-1], T.Vararg)

    def sigstr(self):
        parts = []
        for n, t in zip(self.argnames, self.params):
            if isinstance(t, T.Vararg):
                parts.append(f"{n}::{T._pname(t.T)}...")
            else:
                parts.append(n if t is T.Any else f"{n}::{T._pname(t)}")
        s = f"{self.function.name}(" + ", ".join(parts) + ")"
        if self.sparam_vars:
            s += " where {" + ", ".join(v.where_repr() for v in self.sparam_vars) + "}"
        return s

    def __repr__(self):
        return f"{self.sigstr()} in {self.module} at {self.file}:{self.line}"

    def __lt__(self, other):  # deterministic order for listings
        return method_sort_key(self) < method_sort_key(other)


def made_by_definition(m):
    """Is ``m`` made by another definition, and so made again whenever that definition is
    (restored from an image, replayed)?  Default constructors and the shorter methods of
    default parameter values (``__pk_synth_ir__``), a struct's inner constructor made from
    its ``__init__`` (``__pk_init__``)."""
    return hasattr(m.pyfunc, "__pk_synth_ir__") or hasattr(m.pyfunc, "__pk_init__") or \
        hasattr(m.pyfunc, "__pk_mutinit__")


def all_defaults(fn):
    """The default values of ``fn``'s trailing parameters, positional then keyword-only, as
    one tuple (Julia's rule makes a shorter method per default)."""
    kw = fn.__kwdefaults__ or {}
    code = fn.__code__
    kwonly = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    return (fn.__defaults__ or ()) + tuple(kw[n] for n in kwonly if n in kw)


def source_function(m):
    """The Python function whose parameters and body ``m`` has: its ``pyfunc``, or for an
    inner constructor the struct's ``__init__`` (whose parameters after ``self`` it has)."""
    return getattr(m.pyfunc, "__pk_init__", m.pyfunc)


def method_sort_key(m):
    ps = m.params
    return (m.function.module, m.function.qualname, len(ps),
            tuple(T.type_sort_key(t) if not isinstance(t, T.Vararg) else ("~", t.__pk_name__)
                  for t in ps), len(m.sparam_vars), T.sig_repr("", m.sig))


def morespecific(a, b) -> bool:
    """Is signature ``a`` strictly more specific than signature ``b``?"""
    from .subtyping import morespecific as _ms
    return _ms(T.as_sigtype(a), T.as_sigtype(b))


def sig_equal(a, b) -> bool:
    """The same signature type (``a <: b`` and ``b <: a``; identity for the usual case)."""
    a, b = T.as_sigtype(a), T.as_sigtype(b)
    if a is b:
        return True
    if not isinstance(a, T.UnionAll) and not isinstance(b, T.UnionAll):
        return False          # var-free signature types are canonical: equal means identical
    return T.issubtype(a, b) and T.issubtype(b, a)


# --------------------------------------------------------------------------------------------
# Registry and hooks

# (module name, qualified name) -> GenericFunction.  Keyed by module so that two modules' ``f``
# are always distinct functions.
FUNCTIONS: dict = {}

_method_added_hooks: list = []
_method_inserting_hooks: list = []
_library_hooks: list = []


def on_library_loaded(hook):
    """Register ``hook(module name)``, run when pkgimage's base library has been imported
    (the image loader checks the method tables it took on trust: ``tables.deferrable``)."""
    _library_hooks.append(hook)
    return hook


def library_loaded(name):
    """The base library ``name`` has defined all its methods (the end of its import)."""
    for hook in list(_library_hooks):
        hook(name)
_entry_hook = None


def on_method_inserting(hook):
    """Register ``hook(function, new_method)``, run before a method is inserted (the
    function's table still as it was): the compiler makes the instances images hold whose
    validity depends on that table, so that inserting the method invalidates them as if
    they had been made at load."""
    _method_inserting_hooks.append(hook)
    return hook


def on_method_added(hook, invalidates=False):
    """Register ``hook(function, new_method, replaced_method_or_None)``; the compiler uses it
    (``invalidates=True``) to invalidate CodeInstances whose edges the new method changes.
    Hooks that invalidate do not run for deferred methods (``defer_methods``): those are in
    the table from the world they were deferred in, before any code could depend on it."""
    _method_added_hooks.append(hook)
    if invalidates:
        _invalidating_hooks.append(hook)
    return hook


_invalidating_hooks: list = []


def set_entry_hook(hook):
    """Install ``hook(function, method, argtypes) -> callable`` that produces what a call runs
    (the compiler installs native entries; without it, method bodies run as Python)."""
    global _entry_hook
    _entry_hook = hook


def _interpreted_entry(function, method, argtypes):
    if hasattr(method.pyfunc, "__pk_captures__"):
        from .lambdas import run_python
        return run_python(method.pyfunc)
    code = getattr(method.pyfunc, "__code__", None)
    if code is not None and code.co_kwonlyargcount:
        # Dispatch made the keyword-only parameters positional (``keywords.bind``, and the
        # shorter methods of their defaults pass them so): the Python body takes them by
        # name.
        fn, n = method.pyfunc, code.co_argcount
        kwonly = code.co_varnames[n:n + code.co_kwonlyargcount]

        def by_name(*args):
            return fn(*args[:n], **dict(zip(kwonly, args[n:])))
        return by_name
    return method.pyfunc


def _entry(function, method, argtypes):
    """What a call runs: the compiler's hook once installed.  ``import pkgimage`` is lazy,
    so the first call may come before anything imported the compile-on-call hook: import it
    then (``compiler.entry`` installs itself unless ``PKGIMAGE_JIT=0``, where method bodies
    run as Python)."""
    if _entry_hook is None:
        from .compiler import entry  # noqa: F401  (calls set_entry_hook)
    return (_entry_hook or _interpreted_entry)(function, method, argtypes)


_NOARG = object()   # "argument not passed", the default of GenericFunction.__call__'s parameters
_BY_TYPES = object()  # first item of the ``_pycache`` keys made of pkgimage types (no class)
_BOUND = object()     # first item of the ``_pycache`` keys of ``call_bound``
_TYPED = object()     # first item of the ``_pycache`` keys of ``call_typed``


# --------------------------------------------------------------------------------------------
# Generic functions


# Python containers whose type is their elements' (``GenericFunction._lists_as_declared``)
_CONTAINERS = (list, set, dict)


def _container_fits(value, t, p):
    """Is the Python list, set or dict ``value`` (of type ``t``, from its elements) one of
    the concrete declared type ``p``: the same kind, and empty or with elements (keys and
    values) of ``p``'s types?"""
    if not (isinstance(p, T.PkType) and T.isconcrete(p) and p.__pk_kind__ == t.__pk_kind__):
        return False
    if not value:
        return True
    if p.__pk_kind__ == "dict":
        return T.issubtype(t.__pk_keytype__, p.__pk_keytype__) and \
            T.issubtype(t.__pk_valtype__, p.__pk_valtype__)
    return T.issubtype(t.__pk_eltype__, p.__pk_eltype__)


class GenericFunction:
    """A named function with a method table, owned by a module."""

    # ``_pycache`` in a slot: the call path reads it at the same speed even once something
    # (``vars(f)``, ``functools.wraps(f)``) has turned the instance's attributes into a dict.
    __slots__ = ("_pycache", "_methods", "_deferred", "__dict__", "__weakref__")
    __pk_generic__ = True       # (``types.typeof``: a value with a type of its own)

    def __init__(self, name, module, qualname=None, doc=None):
        self.name = name
        self.module = module
        self.qualname = qualname or name
        self._methods: list = []
        self._deferred = None       # a ``_Deferred``: methods made when the table is read
        self._cache: dict = {}      # tuple of pkgimage types -> Method
        self._pycache: dict = {}    # tuple of Python classes -> callable entry (the fast path)
        self.__doc__ = doc
        self.__name__ = name
        self.__qualname__ = self.qualname
        self.__module__ = module

    @property
    def methods(self):
        """The method table, in the order the methods were inserted.  Methods deferred by
        ``defer_methods`` (a struct's default constructors, restored from an image) are
        made and put first when it is first read."""
        if self._deferred is not None:
            _make_deferred(self)
        return self._methods

    # -- the call path ---------------------------------------------------------------------

    # ``_pycache`` maps the Python classes of the arguments to the callable the call runs.  It
    # is laid out so that the common calls build no tuple (a tuple key costs more than a
    # second dict lookup), and one ``clear()`` empties all of it when a method is added:
    #     cls_a            -> {cls_b: entry of f(a, b), None: entry of f(a)}
    #     (cls_a, ...)     -> entry of a call with 0 or 3 and more arguments
    #     (_BY_TYPES, T_a, ...) -> entry of a call whose argument types are T_a, ... (a
    #                          NumPy array's or a tuple's type is not its class's)
    # ``__call__``'s parameters default to ``_NOARG``, which tells how many arguments were
    # passed without packing them; they are positional-only, as ``*args`` was.  Only the
    # lookups are inside ``try``, and a miss calls ``_miss`` after leaving ``except``: what
    # the entry or dispatch raises (a KeyError too) propagates as is, with no chained context.

    def __call__(self, a=_NOARG, b=_NOARG, c=_NOARG, /, *rest, **kw):
        if kw:
            from .keywords import call
            return call(self, tuple(x for x in (a, b, c) if x is not _NOARG) + rest, kw)
        if c is _NOARG:
            if b is not _NOARG:
                try:
                    entry = self._pycache[type(a)][type(b)]
                except KeyError:
                    entry = self._miss
                return entry(a, b)
            if a is not _NOARG:
                try:
                    entry = self._pycache[type(a)][None]
                except KeyError:
                    entry = self._miss
                return entry(a)
            try:
                entry = self._pycache[()]
            except KeyError:
                entry = self._miss
            return entry()
        if not rest:
            try:
                entry = self._pycache[(type(a), type(b), type(c))]
            except KeyError:
                entry = self._miss
            return entry(a, b, c)
        args = (a, b, c, *rest)
        entry = self._pycache.get(tuple(map(type, args)))
        if entry is not None:
            return entry(*args)
        return self._call_slow(args)

    def _miss(self, *args):
        return self._call_slow(args)

    def _by_types(self, *args):
        """The entry of classes that do not decide the types (``_call_slow``)."""
        entry = self._pycache.get((_BY_TYPES, *map(T.typeof, args)))
        if entry is None:
            return self._call_slow(args)
        return entry(*args)

    def _call_slow(self, args):
        world = WORLD.age
        argtypes = tuple(T.typeof(a) for a in args)
        # Arguments whose pkgimage type is not decided by their class (a NumPy array's
        # depends on its dtype and rank, a tuple's on its elements) are looked up by their
        # types, in the same dict: a call with an array costs ``typeof`` and one lookup, not
        # a trip through dispatch and the compiler's entry (25 us per call before).
        key = (_BY_TYPES, *argtypes)
        entry = self._pycache.get(key)
        if entry is not None:
            return entry(*args)
        try:
            method = self.dispatch(argtypes)
        except MethodError:
            adapted = self._lists_as_declared(args, argtypes)
            if adapted is None:
                raise
            why = adapted[0].positional_error(len(args))
            if why is not None:
                raise TypeError(why)
            entry = _entry(self, *adapted)
            if not any(type(a) is list and not a for a in args):
                # (cached by the lists' own types: every list of those fits as well)
                with COMPILER_LOCK:
                    if WORLD.age == world:
                        self._pycache[key] = entry
            return entry(*args)
        why = method.positional_error(len(args))
        if why is not None:
            # (``f(1, 2.0)`` for ``def f(x, *, tol)``: Python's error, and nothing cached)
            raise TypeError(why)
        entry = _entry(self, method, argtypes)
        # Cache by Python class only when the class alone decides the pkgimage type, and
        # only when no method was defined meanwhile (say by the entry hook), which may have
        # cleared the cache.  The check and the write hold the compiler lock, which a method
        # definition takes: another thread cannot clear the cache between them and leave
        # this entry stale.
        with COMPILER_LOCK:
            if WORLD.age == world:
                if not all(T.typeof_pytype(type(a)) is not None for a in args):
                    self._pycache[key] = entry
                    # and the classes lead to the look-up by types without a miss
                    if len(args) == 2:
                        self._pycache.setdefault(type(args[0]), {}).setdefault(
                            type(args[1]), self._by_types)
                    elif len(args) == 1:
                        self._pycache.setdefault(type(args[0]), {}).setdefault(
                            None, self._by_types)
                elif len(args) == 2:
                    self._pycache.setdefault(type(args[0]), {})[type(args[1])] = entry
                elif len(args) == 1:
                    self._pycache.setdefault(type(args[0]), {})[None] = entry
                else:
                    self._pycache[tuple(map(type, args))] = entry
        return entry(*args)

    def call_bound(self, args):
        """Call with ``args`` made positional by keyword binding (``keywords.call``, a
        compiled keyword call dispatched at run time, a default-value method's body): the
        keyword-only parameters are among them, which a call of the function by position
        may not fill (``_call_slow``).  Cached by the arguments' classes under keys of their
        own in ``_pycache`` (emptied with it when a method is added)."""
        key = (_BOUND, *map(type, args))
        entry = self._pycache.get(key)
        if entry is None:
            world = WORLD.age
            argtypes = tuple(T.typeof(a) for a in args)
            try:
                method, argtypes = self.dispatch(argtypes), argtypes
            except MethodError:
                adapted = self._lists_as_declared(args, argtypes)
                if adapted is None:
                    raise
                method, argtypes = adapted
            entry = _entry(self, method, argtypes)
            with COMPILER_LOCK:
                if WORLD.age == world and all(T.typeof_pytype(type(a)) is not None
                                              for a in args) and \
                        not any(type(a) in _CONTAINERS for a in args):
                    self._pycache[key] = entry
        return entry(*args)

    def call_typed(self, types, *args):
        """A call dispatched at run time by compiled code that knows the types of some of
        its arguments (``types``: the type, or None where the argument's own is taken): its
        lists, dicts and sets, whose type is the one the code holds them as -- the type of
        their items would cost a walk over them per call (``codegen.dynamic_call``).
        Cached by those types and the other arguments' classes under keys of their own in
        ``_pycache`` (emptied with it when a method is added)."""
        key = (_TYPED, types, *map(type, args))
        entry = self._pycache.get(key)
        if entry is None:
            world = WORLD.age
            argtypes = tuple(t if t is not None else T.typeof(a) for t, a in zip(types, args))
            method = self.dispatch(argtypes)
            why = method.positional_error(len(args))
            if why is not None:
                raise TypeError(why)
            entry = _entry(self, method, argtypes)
            with COMPILER_LOCK:
                if WORLD.age == world and all(t is not None or
                                              T.typeof_pytype(type(a)) is not None
                                              for t, a in zip(types, args)):
                    self._pycache[key] = entry
        return entry(*args)

    def _lists_as_declared(self, args, argtypes):
        """A Python list's type is its elements' (``[Sphere(...), Plane(...)]`` is a
        ``List[Union[Plane, Sphere]]``, ``[]`` a ``List[Any]``): passed where a method
        declares ``List[Shape]`` and its elements fit, it is one, as Python means it; a set
        (``Set[...]``) and a dict (``Dict[K, V]``, keys and values) likewise, ``set()`` and
        ``{}`` fitting any.  (method, argument types) of the first method that applies so,
        or None.  A call with such a container is not cached by type: a non-empty
        ``List[Any]`` must not reach the code compiled for ``List[Int64]``."""
        boxes = [i for i, a in enumerate(args) if type(a) in _CONTAINERS and
                 (not a or T.isconcrete(argtypes[i]))]
        if not boxes:
            return None
        for m in self.methods:
            _, params = T.sig_params(T.as_sigtype(m.sig))
            if len(params) != len(args):
                continue
            want = list(argtypes)
            for i in boxes:
                p = params[i]
                if _container_fits(args[i], argtypes[i], p):
                    want[i] = p
            want = tuple(want)
            if want == argtypes:
                continue
            try:
                return self.dispatch(want), want
            except MethodError:
                continue
        return None

    def invoke_entry(self, argtypes):
        """The callable a call with these (concrete) argument types runs."""
        method = self.dispatch(argtypes)
        return _entry(self, method, argtypes)

    # -- dispatch --------------------------------------------------------------------------

    def dispatch(self, argtypes):
        """The most specific applicable method for ``argtypes`` (cached; ambiguity never is)."""
        m = self._cache.get(argtypes)
        if m is not None:
            return m
        m = self._lookup(argtypes)
        self._cache[argtypes] = m
        return m

    def applicable(self, argtypes):
        from .subtyping import match
        n = len(argtypes)
        tt = T.tuple_type(*argtypes)
        return [m for m in self.methods if T.sig_accepts(m.sig, n) and match(tt, m.sig)[0]]

    def _lookup(self, argtypes):
        app = self.applicable(argtypes)
        if not app:
            raise MethodError(self._no_method_message(argtypes), self, argtypes)
        best = most_specific(app)
        if len(best) == 1:
            return best[0]
        # Like Julia, report every method involved in the ambiguity: the undominated ones and
        # those that at least one of them does not dominate (``ambig(x::Number, y)`` next to
        # ``ambig(x::Integer, y)`` and ``ambig(x, y::Integer)`` for ``ambig(0x03, 4)``).
        cands = [m for m in app if not all(morespecific(b.sig, m.sig) for b in best)]
        raise AmbiguityError(self._ambiguity_message(argtypes, cands), self, argtypes, cands)

    def _no_method_message(self, argtypes):
        lines = [f"MethodError: no method matching {T.sig_repr(self.name, argtypes)}"]
        if not self.methods:
            lines.append(f"The function `{self.name}` exists, but no method is defined for it.")
            return "\n".join(lines)

        def closeness(m):
            same_arity = T.sig_accepts(m.sig, len(argtypes))
            matching = sum(1 for a, t in zip(argtypes, m.params)
                           if not isinstance(t, T.Vararg) and T.issubtype(a, t))
            return (not same_arity, -matching, method_sort_key(m))

        cands = sorted(self.methods, key=closeness)[:3]
        lines.append("Closest candidates are:")
        lines.extend(f"  {m!r}" for m in cands)
        return "\n".join(lines)

    def _ambiguity_message(self, argtypes, cands):
        cands = sorted(cands, key=method_sort_key)
        lines = [f"MethodError: {T.sig_repr(self.name, argtypes)} is ambiguous.", "", "Candidates:"]
        lines.extend(f"  {m!r}" for m in cands)
        fix = cands[0].sig
        for m in cands[1:]:
            fix = T.sig_intersect(fix, m.sig) or fix
        if not isinstance(fix, tuple):
            fix = tuple(argtypes)
        lines += ["", "Possible fix, define", f"  {T.sig_repr(self.name, fix)}"]
        return "\n".join(lines)

    def which(self, argtypes):
        return self.dispatch(tuple(argtypes))

    # -- definitions -----------------------------------------------------------------------

    def method(self, fn=None, *, sig=None, source=None, context=None):
        """Decorator adding a method to this function (also from another module)."""
        if fn is None:
            return lambda f: self.method(f, sig=sig, source=source, context=context)
        add_method(self, fn, sig=sig, source=source, context=context)
        return self

    def __repr__(self):
        n = len(self.methods)
        return f"{self.name} (generic function with {n} method{'s' if n != 1 else ''})"

    def __reduce__(self):
        # Functions are module-level names: pickling refers to them, never copies them.
        return (lookup_function, (self.module, self.qualname))

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


def lookup_function(module, qualname):
    """The generic function ``module.qualname``, its module imported first when nothing has
    imported it (the functions an image or a constant slot names; the base library may not
    be imported yet: ``image/tables.deferrable``)."""
    f = FUNCTIONS.get((module, qualname))
    if f is None and module not in sys.modules:
        import importlib
        importlib.import_module(module)
        f = FUNCTIONS.get((module, qualname))
    if f is None and module in sys.modules:
        # (a function its module makes when first named: ``base.fieldcalls``)
        getattr(sys.modules[module], qualname.partition(".")[0], None)
        f = FUNCTIONS.get((module, qualname))
    if f is None:
        raise LookupError(f"no generic function {module}.{qualname}")
    return f


# The base library: ``import pkgimage`` does not import it, and a package image that
# extends its functions (a struct's ``__add__`` is a method of its ``add``) names them by
# reference until something needs them (``FunctionRef``).
LIBRARY = "pkgimage.base"


class FunctionRef:
    """A generic function of the base library named by reference, resolved when first
    needed (``resolve``: importing the library).  What a package image keeps where its
    module's objects name a library function without needing it at load: the function of
    a method the module adds to it, and a struct's class attribute standing for it
    (``structmethods.MethodOf``); never a value a program sees."""

    __slots__ = ("module", "qualname")

    def __init__(self, module, qualname):
        self.module, self.qualname = module, qualname

    def resolve(self):
        """The function (its module imported first: waiting, if another thread is
        importing it, until it is done)."""
        import importlib
        importlib.import_module(self.module)
        return lookup_function(self.module, self.qualname)

    def __reduce__(self):
        return (FunctionRef, (self.module, self.qualname))

    def __repr__(self):
        return f"<function reference {self.module}.{self.qualname}>"


def library_ref(f):
    """``f`` as a ``FunctionRef`` if it is one of the base library's functions (not a
    constructor, which its type names), else ``f``."""
    if isinstance(f, GenericFunction) and f.module.startswith(LIBRARY) and \
            getattr(f, "constructs", None) is None and getattr(f, "context", None) is None:
        return FunctionRef(f.module, f.qualname)
    return f


def most_specific(methods):
    """The methods of ``methods`` that no other one of them is strictly more specific than."""
    return [m for m in methods if not any(o is not m and morespecific(o.sig, m.sig) for o in methods)]


def _resolve_annotation(fn, name, ann, loc):
    if isinstance(ann, str):
        try:
            # (a plain name, most annotations, is looked up as ``eval`` would: globals, then
            # builtins; compiling it for ``eval`` was a third of defining a method)
            g = fn.__globals__
            if ann in g and ann.isidentifier():
                ann = g[ann]
            else:
                ann = eval(ann, g)
        except Exception as e:
            raise TypeError(f"{fmt_loc(loc)}: method {fn.__name__}: annotation of {name!r} "
                            f"({ann!r}) cannot be evaluated: {e}") from None
    try:
        return T.from_annotation(ann)
    except TypeError:
        raise TypeError(f"{fmt_loc(loc)}: method {fn.__name__}: parameter {name!r} is annotated "
                        f"with {ann!r}, which is not a pkgimage type (use Int64, Float64, Real, a "
                        f"@pk.struct, Union[...], Vector[...], Tuple[...], a pk.TypeVar, ... or "
                        f"no annotation for Any)") from None


def signature_of(fn):
    """(argnames, signature type) from a Python function's parameters and annotations.

    TypeVars in the annotations become the method's ``where`` variables (in order of first
    appearance); ``*args: T`` is Julia's ``args::T...`` (a ``Vararg`` last parameter)."""
    loc = function_location(fn)
    code = fn.__code__
    flags = code.co_flags
    if flags & 0x08:
        raise TypeError(f"{fmt_loc(loc)}: method {fn.__name__}: **kwargs parameters are not "
                        f"supported in generic function methods")
    if code.co_kwonlyargcount and flags & 0x04:
        raise TypeError(f"{fmt_loc(loc)}: method {fn.__name__}: keyword-only parameters "
                        f"together with *args are not supported")
    # Keyword-only parameters (``*, tol=1e-8``) come after the positional ones: dispatch is
    # on the positional arguments (a call names them: ``keywords.bind``), as Julia's.
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    anns = getattr(fn, "__annotations__", {}) or {}
    params = [_resolve_annotation(fn, n, anns[n], loc) if n in anns else T.Any for n in names]
    if flags & 0x04:
        va = code.co_varnames[code.co_argcount]
        el = _resolve_annotation(fn, va, anns[va], loc) if va in anns else T.Any
        params.append(el if isinstance(el, T.Vararg) else T.make_vararg(el))
        names = names + (va,)
    for n, p in zip(names, params):
        if isinstance(p, T.Vararg) and n != names[-1]:
            raise TypeError(f"{fmt_loc(loc)}: method {fn.__name__}: parameter {n!r}: Vararg "
                            f"is only allowed for *args")
    sig = T.tuple_type(*params)
    for v in reversed(T.where_vars(params)):
        sig = T.UnionAll(v, sig)
    return tuple(names), sig


def add_method(function, fn, sig=None, source=None, context=None, module=None,
               boundscheck=True):
    names, fsig = signature_of(fn)
    if sig is not None:
        fsig = tuple(sig)
    file, line = function_location(fn)
    m = Method(function, fsig, fn, module or fn.__module__, file, line, names, source=source,
               context=context, boundscheck=boundscheck)
    insert_method(function, m)
    if any(isinstance(c, pytypes.CodeType) for c in fn.__code__.co_consts):
        from .lambdas import define_lambdas      # (the method's lambdas: functions too)
        define_lambdas(fn, module or fn.__module__)
    if (fn.__defaults__ or fn.__kwdefaults__) and sig is None:
        from .defaults import add_default_methods      # (it needs the compiler's IR)
        add_default_methods(function, fn, names, fsig, module or fn.__module__, boundscheck)
    return m


def insert_method(function, m):
    """Insert (or replace by signature) a method, bump the world, clear caches, run hooks
    (invalidation), all under the compiler lock."""
    with COMPILER_LOCK:
        return _insert_method(function, m)


def insert_methods(function, methods):
    """Insert several methods of one function, as ``insert_method`` one after the other
    would (each its own world, replaced by signature, invalidation hooks), in one call: the
    hooks that run before an insertion (they make what images hold depending on the table
    as it was) run once for all.  The loader's path: an image restores thousands of
    methods, most into functions it has just created."""
    with COMPILER_LOCK:
        if methods:
            for hook in _method_inserting_hooks:
                hook(function, methods[0])
            for m in methods:
                _put_method(function, m)


def _insert_method(function, m):
    for hook in _method_inserting_hooks:
        hook(function, m)
    return _put_method(function, m)


class _Deferred:
    """Methods of a function not made yet: ``make()`` makes them (in that order, with the
    signatures ``sigs``, all of ``module``); ``world`` is the first of the worlds reserved
    for them when they were deferred."""

    __slots__ = ("make", "sigs", "module", "world")

    def __init__(self, make, sigs, module, world):
        self.make, self.sigs, self.module, self.world = make, sigs, module, world


def defer_methods(function, make, sigs, module):
    """Put methods in ``function``'s new, empty table without making them yet: they are made
    (``make()``) when the table is first read (``GenericFunction.methods``: dispatch, a
    listing, a fingerprint) or a method of one of their signatures is inserted.

    A package image restores a struct's constructor with Julia's default constructors, which
    the struct's definition makes again rather than the image storing them; a DemoPkg N=1000
    load made 2,002 of them (Method objects, closures, insertions: about a tenth of the load)
    for constructors most processes never call from Python (compiled code builds structs
    itself).  Deferred, they are in the table from the worlds reserved for them here.
    ``function`` must be one the caller has just created: nothing can have been compiled
    against it or be held depending on it, so no hook has anything to do now; when they are
    made, only the hooks that do not invalidate run (what was compiled since was compiled
    against the table with them)."""
    with COMPILER_LOCK:
        if function._methods or function._deferred is not None:
            raise RuntimeError(f"internal: methods deferred into {function.name}, "
                               f"whose table is not new")
        world = WORLD.age + 1
        WORLD.age += len(sigs)
        function._deferred = _Deferred(make, tuple(sigs), module, world)
        function._cache.clear()
        function._pycache.clear()


def _make_deferred(function):
    with COMPILER_LOCK:
        d = function._deferred
        if d is None:
            return
        made = d.make()
        for i, m in enumerate(made):
            m.primary_world = d.world + i
        # (in the table before the mark is cleared: a thread reading the table without the
        # lock either sees the mark, and waits here for the lock, or the whole table)
        function._methods[:0] = made
        function._deferred = None
        function._cache.clear()
        function._pycache.clear()
        for m in made:
            for hook in _method_added_hooks:
                if hook not in _invalidating_hooks:
                    hook(function, m, None)


def materialised(function):
    """``function``, its deferred methods made."""
    if function._deferred is not None:
        _make_deferred(function)
    return function


def table_parts(function):
    """(the methods made, how many more are deferred, the module of the deferred ones) of
    ``function``'s table, without making the deferred ones (the loader's fingerprint check
    of a function it created: ``tables.fresh_table_holds``)."""
    d = function._deferred
    if d is None:
        return function._methods, 0, None
    return function._methods, len(d.sigs), d.module


def _put_method(function, m):
    replaced = None
    d = function._deferred
    if d is not None and m.context is None and any(sig_equal(s, m.sig) for s in d.sigs):
        _make_deferred(function)        # (it replaces one of them)
    table = function._methods
    # (var-free signature types are canonical: equal means identical; ``sig_equal`` is
    # asked only when a UnionAll is involved -- every insertion compares with each method)
    sig = m.sig
    var = isinstance(sig, T.UnionAll)
    for i, old in enumerate(table):
        osig = old.sig
        if (osig is sig or (var or isinstance(osig, T.UnionAll)) and sig_equal(osig, sig)) \
                and old.context == m.context:
            replaced = old
            table[i] = m
            break
    else:
        table.append(m)
    if m.npositional is not None:
        function.__dict__["_pk_kwonly"] = True    # (compiled calls check positions: inference)
    WORLD.age += 1
    m.primary_world = WORLD.age
    if replaced is not None:
        replaced.deleted_world = WORLD.age
    function._cache.clear()
    function._pycache.clear()
    for hook in _method_added_hooks:
        hook(function, m, replaced)
    return replaced


def _caller_scope(depth):
    f = sys._getframe(depth + 1)
    module = f.f_globals.get("__name__", "__main__")
    qual = f.f_code.co_qualname if f.f_code.co_name != "<module>" else ""
    return module, qual


def get_function(name, module, qualprefix=""):
    qualname = f"{qualprefix}.<locals>.{name}" if qualprefix else name
    f = FUNCTIONS.get((module, qualname))
    if f is None:
        f = GenericFunction(name, module, qualname)
        FUNCTIONS[(module, qualname)] = f
    return f


def function(name, module=None):
    """``pk.function("addxy")``: the generic function ``addxy`` of the calling module (created
    without methods if it does not exist yet)."""
    mod, qual = _caller_scope(1)
    return get_function(name, module or mod, "" if module else qual)


def generic(fn=None, *, source=None, boundscheck=True):
    """``@pk.generic``: define the generic function named like ``fn`` in ``fn``'s module (or
    add a method to it when it already exists there).  ``@pk.generic(boundscheck=False)``
    compiles its indexing without bounds checks (numba's default, Julia's ``@inbounds``): an
    index out of range then reads or writes outside the array, as in C."""
    if fn is None:
        return lambda f: generic(f, source=source, boundscheck=boundscheck)
    if not isinstance(boundscheck, bool):
        raise TypeError(f"@pk.generic: boundscheck must be True or False, got {boundscheck!r}")
    existing = fn.__globals__.get(fn.__name__)
    if T.is_pktype(existing) and T.unwrap_unionall(existing)[1].__pk_kind__ in \
            ("struct", "mutable", "primitive"):
        # ``@pk.generic def DemoType1(d: AbstractDemoType)``: a constructor method, as in Julia.
        from .constructors import constructor
        add_method(constructor(existing), fn, source=source)
        return existing
    qual = fn.__qualname__
    prefix = qual.rsplit(".<locals>.", 1)[0] if ".<locals>." in qual else ""
    f = get_function(fn.__name__, fn.__module__, prefix)
    add_method(f, fn, source=source, boundscheck=boundscheck)
    return f


def which(f, argtypes):
    """``pk.which(f, types)``: the Method a call with these argument types runs."""
    return f.dispatch(tuple(argtypes))


def methods(f):
    """``pk.methods(f)``: its methods, in a deterministic order."""
    return sorted(f.methods, key=method_sort_key)


def functions_of_module(module):
    name = module if isinstance(module, str) else module.__name__
    return [f for (m, _), f in sorted(FUNCTIONS.items()) if m == name]


def methods_defined_in(module):
    """Every method defined in ``module``, on its own functions or on other modules' ones."""
    name = module if isinstance(module, str) else module.__name__
    out = [m for f in FUNCTIONS.values() for m in f.methods if m.module == name]
    return sorted(out, key=method_sort_key)


def _union_pieces(sig):
    """The union-free signatures whose union is ``sig``."""
    return itertools.product(*(t.__pk_members__ if isinstance(t, T.PkType) and
                               t.__pk_kind__ == "union" else (t,) for t in sig))


def detect_ambiguities(module):
    """Pairs of methods (at least one defined in ``module``) that are ambiguous for some argument
    types no other method resolves, as Julia's ``Test.detect_ambiguities``."""
    name = module if isinstance(module, str) else module.__name__
    found = []
    for f in sorted(FUNCTIONS.values(), key=lambda g: (g.module, g.qualname)):
        ms = sorted(f.methods, key=method_sort_key)
        for i, a in enumerate(ms):
            for b in ms[i + 1:]:
                if name not in (a.module, b.module) or a.context != b.context:
                    continue
                inter = T.sig_intersect(a.sig, b.sig)
                if inter is None or morespecific(a.sig, b.sig) or morespecific(b.sig, a.sig):
                    continue
                # Resolved when each union-split piece of the intersection is covered by a
                # method more specific than both (``f(::Union{Int64,Float64}, y)`` against
                # ``f(x, ::Int64)`` is resolved by ``f(::Int64, ::Int64)`` + ``f(::Float64, ::Int64)``).
                if all(any(T.sig_issubtype(piece, c.sig) and morespecific(c.sig, a.sig)
                           and morespecific(c.sig, b.sig) for c in ms)
                       for piece in _union_pieces(inter)):
                    continue
                found.append((a, b))
    return found


def definition_error_location():
    return caller_location()

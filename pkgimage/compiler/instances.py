"""MethodInstances, CodeInstances, edges, backedges and invalidation.

A :class:`MethodInstance` is a method specialised for argument types; its
:class:`CodeInstance` holds what inference (and later codegen) produced for it, valid from
the world it was inferred in until something invalidates it.

Every call a CodeInstance makes is recorded as an *edge*:

* ``static``  -- the call was resolved at compile time to ``method`` (the callee's
  MethodInstance gets a *backedge* to the caller, because native code calls it directly);
* ``dynamic`` -- argument types were not concrete, so the call dispatches at run time
  (no backedge: the native code does not depend on which method wins, only its inferred
  return type does, so any new method that may apply to those types invalidates it);
* ``throws``  -- the call has no (or no unique) method and compiles to a run-time error.

When a method is added, :func:`method_added` re-checks only the edges on that function and
invalidates exactly the CodeInstances whose call would now resolve differently, then their
callers transitively through backedges.  Nothing else is touched.
"""

from __future__ import annotations

from .. import dispatch as D
from .. import types as T


class MethodInstance:
    __slots__ = ("method", "spec_types", "sparams", "cache", "_backedges", "_backedge_set",
                 "held_callers", "__weakref__")

    def __init__(self, method, spec_types):
        self.method = method
        self.spec_types = spec_types
        # The values of the method's type variables for these argument types (Julia's
        # static parameters; None where the argument types do not determine one).
        self.sparams = static_params(method, spec_types)
        self.cache = None            # the valid CodeInstance, if any
        self._backedges = []         # MethodInstances whose code calls this one directly
        self._backedge_set = set()
        # Callers an image holds as records (``image/pending.py``): [(holder, symbol)],
        # made -- and so in ``backedges`` -- when the backedges are first read.
        self.held_callers = None

    @property
    def backedges(self):
        """The MethodInstances whose code calls this one directly; callers images still
        hold as records are made first (invalidation walks this list)."""
        if self.held_callers:
            _make_held_callers(self)
        return self._backedges

    def hold_caller(self, holder, symbol):
        """A caller of this instance is held by ``holder`` (an image's part) as the record
        ``symbol``: it is made, with its backedge, before anything reads the backedges."""
        if self.held_callers is None:
            self.held_callers = []
        self.held_callers.append((holder, symbol))

    @property
    def def_(self):
        return self.method

    @property
    def function(self):
        return self.method.function

    def __repr__(self):
        return "MethodInstance for " + T.sig_repr(self.method.function.name, self.spec_types)

    def add_backedge(self, caller):
        if caller is not self and caller not in self._backedge_set:
            self._backedge_set.add(caller)
            self._backedges.append(caller)


def _make_held_callers(mi):
    from ..compiler_lock import COMPILER_LOCK
    with COMPILER_LOCK:
        held, mi.held_callers = mi.held_callers, None
        by_holder = {}
        for holder, sym in held or ():
            by_holder.setdefault(id(holder), (holder, []))[1].append(sym)
        for holder, syms in by_holder.values():
            holder.materialise_symbols(syms)


class Edge:
    """``candidates``: for dynamic and throwing calls, the methods that intersected the
    argument types when the call was inferred (checked again when an image is loaded)."""

    __slots__ = ("kind", "function", "argtypes", "method", "candidates")

    def __init__(self, kind, function, argtypes, method=None, candidates=()):
        self.kind = kind
        self.function = function
        self.argtypes = argtypes
        self.method = method
        self.candidates = tuple(candidates)

    def __repr__(self):
        target = f" -> {self.method!r}" if self.method is not None else ""
        return f"{self.kind} {T.sig_repr(self.function.name, self.argtypes)}{target}"


class CodeInstance:
    """Inference result for a MethodInstance (and, once generated, its native code).

    Every field is declared here (Julia's ``CodeInstance`` is a fixed struct too): the
    layers that fill them are inference (types, edges, callees), codegen and the JIT
    (symbol, native) and the image loader (``image``, the module whose image it came from);
    working state of a stage lives in that stage, never on this object."""

    __slots__ = ("mi", "ir", "rettype", "vartypes", "stmt_info", "stmt_types", "reached",
                 "_edges", "_callees", "min_world", "max_world", "symbol", "native",
                 "needs_native", "invalidated_by", "image", "bindings", "pending",
                 "__weakref__")

    def __init__(self, mi, ir, world):
        self.mi = mi
        self.ir = ir
        self.rettype = T.Bottom
        self.vartypes = {}           # variable -> joined type
        self.stmt_info = {}          # (block, index) -> resolution (see inference.py)
        self.stmt_types = {}         # (block, index) -> type of the value it produces
        self.reached = set()         # blocks inference found reachable
        self._edges = []             # (``edges``)
        self._callees = []           # (``callees``)
        self.min_world = world
        self.max_world = None        # None: still valid
        self.symbol = None           # native symbol name, once code exists
        self.native = None           # jit.NativeCode
        self.needs_native = True     # False for abstract-signature instances (never called)
        self.invalidated_by = None
        self.image = None            # the module whose package image this instance came from
        self.bindings = ()           # (module, name, value) globals its own body treats as constants
        # An instance made from an image's record on demand (``image/pending.py``): the
        # holder that still keeps its edges and callees as the record, until they are read
        # or something they depend on changes (its edges are then registered, its callees'
        # backedges filled in).  None once complete -- always, for code compiled here.
        self.pending = None

    @property
    def edges(self):
        """The calls this instance's inference resolved (``Edge``), the method tables its
        validity depends on."""
        if self.pending is not None:
            self.pending.complete(self)
        return self._edges

    @edges.setter
    def edges(self, value):
        self._edges = value

    @property
    def callees(self):
        """MethodInstances its code calls statically (for codegen order and backedges)."""
        if self.pending is not None:
            self.pending.complete(self)
        return self._callees

    @callees.setter
    def callees(self, value):
        self._callees = value

    @property
    def valid(self):
        return self.max_world is None

    def __repr__(self):
        state = "valid" if self.valid else f"invalid (worlds {self.min_world}..{self.max_world})"
        return f"CodeInstance for {T.sig_repr(self.mi.method.function.name, self.mi.spec_types)}" \
               f" :: {self.rettype} [{state}]"


class NativeCode:
    """Where a CodeInstance's native code lives in this process."""

    __slots__ = ("symbol", "address", "entry", "batch", "wrapper")

    def __init__(self, symbol, address, batch):
        self.symbol = symbol
        self.address = address    # None: compiled only as an internal part of a batch
        self.entry = None         # the Python-callable wrapper, made on first Python call
        self.batch = batch
        # Loaded code: where the wrapper is (an address, or (library, symbol) still to look
        # up); ``native.python_entry`` makes ``entry`` from it at the first call from Python,
        # so a load pays nothing for the many instances only ever called natively.
        self.wrapper = None

    @property
    def has_entry(self):
        return self.entry is not None or self.wrapper is not None

    @property
    def exported(self):
        return self.address is not None


# method -> {spec types -> MethodInstance}
SPECIALIZATIONS: dict = {}
# GenericFunction -> list of (CodeInstance, Edge) to re-check when it gains a method
EDGE_INDEX: dict = {}
# what invalidated what, for `pkgimage invalidations` (trigger, [root CodeInstances])
INVALIDATION_LOG: list = []
# called with each invalidated CodeInstance (the JIT drops native entries)
INVALIDATION_LISTENERS: list = []


def static_params(method, spec_types):
    vars_ = method.sparam_vars
    if not vars_:
        return ()
    from ..subtyping import match
    ok, vals = match(T.tuple_type(*spec_types), method.sig)
    return vals if ok else (None,) * len(vars_)


def method_instance(method, spec_types):
    if PENDING and method.function in PENDING:
        materialise(method.function)
    return method_instance_here(method, spec_types)


def method_instance_here(method, spec_types):
    """``method_instance`` without asking images for their held instances of the method's
    function (for the loader making them: a caller's MethodInstance of a callee the image
    still holds as a record, filled when that record is made)."""
    table = SPECIALIZATIONS.setdefault(method, {})
    mi = table.get(spec_types)
    if mi is None:
        mi = table[spec_types] = MethodInstance(method, spec_types)
    return mi


def code_instances(*, inferred_here=False, concrete=False, methods=None):
    """The one query over every cached CodeInstance of the process: valid ones, optionally
    only those inferred here (with IR, not loaded from an image), only those of concrete
    argument types (or of subclassed mutable structs: ``_called_for_open_mutables``), only
    those of ``methods``.  The image writer, the sandbox merge, ``snoop`` and ``replay`` all
    ask this instead of walking the tables themselves."""
    if methods is None:
        materialise_all()
    else:
        methods = list(methods)
        for m in methods:
            if PENDING and m.function in PENDING:
                materialise(m.function)
    tables = list(SPECIALIZATIONS.items()) if methods is None else \
        [(m, SPECIALIZATIONS.get(m, {})) for m in methods]
    for _, table in tables:
        for spec, mi in list(table.items()):
            ci = mi.cache
            if ci is None or not ci.valid:
                continue
            if inferred_here and (ci.image or ci.ir is None):
                continue
            if concrete and not all(T.isconcrete(t) for t in spec) and \
                    not _called_for_open_mutables(mi):
                continue
            yield ci


def _open_mutable(t):
    """A mutable struct with subclasses (``mutables.open_parent``): not concrete, but a value
    may be of exactly that class (a call from Python then has it as its argument type) and
    a call of the one method taking such values is direct (``inference._boxed_family_call``):
    its instances are called, natively, as concrete ones are."""
    return isinstance(t, T.PkType) and t.__pk_kind__ == "mutable" and \
        "__pk_open__" in t.__dict__ and not T.has_free_vars(t)


def _called_for_open_mutables(mi):
    """Is ``mi`` for argument types concrete but for subclassed mutable structs, and of the
    method a call with them selects (not one of the less specific candidates a split call
    inferred for the same types, which is never called for them)?"""
    if not all(T.isconcrete(t) or _open_mutable(t) for t in mi.spec_types):
        return False
    try:
        return mi.method.function.dispatch(mi.spec_types) is mi.method
    except (D.MethodError, D.AmbiguityError):
        return False


def methodinstances(f):
    """All MethodInstances of a generic function's methods, in a deterministic order."""
    materialise(f, callers=True)
    out = []
    for m in D.methods(f):
        for spec, mi in SPECIALIZATIONS.get(m, {}).items():
            out.append(mi)
    return out


def methodinstance(f, argtypes):
    materialise(f, callers=True)
    argtypes = tuple(argtypes)
    for m in f.methods:
        mi = SPECIALIZATIONS.get(m, {}).get(argtypes)
        if mi is not None:
            return mi
    return None


def existing_instance(method, spec_types):
    """The MethodInstance of ``method`` for ``spec_types`` if there is one (made from an
    image's record if one holds it), else None; creates nothing."""
    if PENDING and method.function in PENDING:
        materialise(method.function)
    return SPECIALIZATIONS.get(method, {}).get(spec_types)


def code_of(mi):
    """``mi.cache``, once any image holding ``mi``'s instance as a record has made it: the
    way to read the code of a MethodInstance reached through another instance's
    ``callees`` (which may name one an image still holds)."""
    if PENDING and mi.method.function in PENDING:
        materialise(mi.method.function)
    return mi.cache


# -- instances images hold as records ---------------------------------------------------------
#
# An image's instances are validated when it is loaded but made into objects (MethodInstance,
# CodeInstance, edges, backedges, native entry) only when something asks for them
# (``image/pending.py``): a call from Python, the compiler looking one up, a listing.  Every
# way of reaching an instance of a function goes through ``materialise(function)`` first;
# and anything that could end a held instance's validity -- a method inserted into a function
# it depends on, a module's globals re-checked -- first makes the instances it may concern,
# with the held instances that call them, so that invalidation then finds them as if they
# had been made at load.  A holder implements ``materialise_function(f)``,
# ``materialise_touching(function=None, module=None)`` and ``materialise_all()``.

PENDING: dict = {}            # GenericFunction -> [holders with instances of its methods]
PENDING_HOLDERS: list = []    # every holder with instances left to make


def materialise(function, callers=False):
    """Make the held instances of ``function``'s methods (a no-op when there are none);
    ``callers``: with the held instances that call them, transitively (so that their
    backedges are complete: what a listing shows)."""
    if callers:
        materialise_touching(function=function)
    if function not in PENDING:
        return
    from ..compiler_lock import COMPILER_LOCK
    with COMPILER_LOCK:
        for h in PENDING.pop(function, ()):
            h.materialise_function(function)


def materialise_all():
    if not PENDING_HOLDERS:
        return
    from ..compiler_lock import COMPILER_LOCK
    with COMPILER_LOCK:
        for h in list(PENDING_HOLDERS):
            h.materialise_all()


def materialise_touching(function=None, module=None):
    """Make the held instances whose validity depends on ``function``'s method table or on
    ``module``'s globals, and the held instances that call them."""
    if not PENDING_HOLDERS:
        return
    from ..compiler_lock import COMPILER_LOCK
    with COMPILER_LOCK:
        for h in list(PENDING_HOLDERS):
            h.materialise_touching(function=function, module=module)


def register_edges(ci):
    for e in ci.edges:
        EDGE_INDEX.setdefault(e.function, []).append((ci, e))
    for mod, name, _ in ci.bindings:
        BINDING_INDEX.setdefault(mod, {}).setdefault(name, []).append(ci)


# -- binding edges (Julia 1.12's binding partitions, for module globals) -----------------------

BINDING_INDEX: dict = {}     # module -> name -> CodeInstances whose body read that global
# Called with each instance whose own body read a rebound global (inference drops the
# method's lowered IR there: lowering is what read the value).
REBINDING_LISTENERS: list = []


class BindingChange:
    """The trigger of a binding invalidation: ``module.name`` was rebound."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __repr__(self):
        return f"binding {self.module}.{self.name}"


_VALUE_TYPES = (bool, int, float, complex, str, bytes, type(None), tuple)


def is_value(v):
    """An immutable value (compared by value, not identity): Python scalars, strings,
    tuples, NumPy scalars, struct instances."""
    if isinstance(v, _VALUE_TYPES) or getattr(type(v), "__pk_value__", False):
        return True
    t = T.typeof(v)
    return T.is_pktype(t) and t.__pk_kind__ in ("struct", "primitive")


def same_binding(now, then):
    """Does a global still hold what compiled code took as its constant?  The same object,
    or an equal immutable value of the same type (compared by its pickled bytes, so 0.0 and
    -0.0, or two NaNs, are told apart exactly as the code would see them)."""
    if now is then:
        return True
    if type(now) is not type(then) or not is_value(now):
        return False
    import pickle
    try:
        return pickle.dumps(now, 4) == pickle.dumps(then, 4)
    except Exception:
        return False


# Globals dicts of modules whose code was lowered, by name: a module executed without being
# entered in ``sys.modules`` (``exec`` into a namespace) still has its bindings checked.
MODULE_GLOBALS: dict = {}


def module_globals(mod):
    import sys
    m = sys.modules.get(mod)
    d = getattr(m, "__dict__", None)
    return d if d is not None else MODULE_GLOBALS.get(mod)


def binding_holds(entry):
    mod, name, value = entry
    d = module_globals(mod)
    return d is not None and name in d and same_binding(d[name], value)


def check_bindings(module):
    """Re-check every binding edge into ``module`` (its globals changed since code that read
    them last ran); invalidate the instances that read a global now rebound, and their
    callers through backedges.  Returns the number of instances invalidated."""
    from ..compiler_lock import COMPILER_LOCK
    with COMPILER_LOCK:
        materialise_touching(module=module)
        return _check_bindings(module)


def _check_bindings(module):
    names = BINDING_INDEX.get(module)
    if not names:
        return 0
    world = None
    count = 0
    # (each instance's bindings by name, made once: a search of ``ci.bindings`` per name was
    # quadratic -- DemoPkg's ``f`` reads 1,001 globals, and the first call after an image
    # load, which always checks, spent tens of ms here)
    by_name = {}

    def binding(ci, name):
        d = by_name.get(id(ci))
        if d is None:
            d = by_name[id(ci)] = {b[1]: b for b in reversed(ci.bindings)}
        return d[name]

    # (every binding indexed under ``module`` reads a global of ``module``: its dict is
    # looked up once, not once per binding)
    mod_globals = module_globals(module)

    def holds(entry):
        g = mod_globals
        return g is not None and entry[1] in g and same_binding(g[entry[1]], entry[2])

    for name, cis in list(names.items()):
        live = [ci for ci in cis if ci.valid]
        stale = [ci for ci in live if not holds(binding(ci, name))]
        if stale:
            if world is None:              # a rebinding is a new world, as in Julia 1.12
                D.WORLD.age += 1
                world = D.WORLD.age
            trigger = BindingChange(module, name)
            for ci in stale:
                for listener in REBINDING_LISTENERS:
                    listener(ci)
                invalidate(ci, world, trigger)
            INVALIDATION_LOG.append((trigger, stale))
            count += len(stale)
        names[name] = [ci for ci in live if ci.valid]
    return count


def _edge_changed(edge, function, new, replaced):
    if replaced is not None and edge.method is replaced:
        return True
    if T.sig_intersect(edge.argtypes, new.sig) is None:
        return False
    if edge.kind != "static":
        return True               # dynamic or throwing call: the new method may apply
    try:
        now = function._lookup(edge.argtypes)
    except D.MethodError:
        return True
    return now is not edge.method


def intersecting(function, argtypes):
    n = len(argtypes)
    return [m for m in function.methods
            if T.sig_accepts(m.sig, n) and T.sig_intersect(argtypes, m.sig) is not None]


def edge_valid(edge):
    """Would this call still resolve as it did when it was inferred (in today's tables)?"""
    f = edge.function
    if edge.kind == "static":
        try:
            return f.dispatch(edge.argtypes) is edge.method     # the cached dispatch table
        except D.MethodError:
            return False
    now = intersecting(f, edge.argtypes)
    return len(now) == len(edge.candidates) and all(any(m is c for c in edge.candidates)
                                                    for m in now)


def invalidate(ci, world, trigger, seen=None):
    """End ``ci``'s validity and, transitively through backedges, its direct callers'."""
    if not ci.valid:
        return
    ci.max_world = world - 1
    ci.invalidated_by = trigger
    mi = ci.mi
    if mi.cache is ci:
        mi.cache = None
    for listener in INVALIDATION_LISTENERS:
        listener(ci)
    for caller in list(mi.backedges):
        if caller.cache is not None:
            invalidate(caller.cache, world, trigger)


def method_added(function, new, replaced):
    entries = EDGE_INDEX.get(function)
    if not entries:
        return
    world = D.world_counter()
    roots = []
    keep = []
    for ci, edge in entries:
        if not ci.valid:
            continue
        if _edge_changed(edge, function, new, replaced):
            roots.append(ci)
            invalidate(ci, world, new)
        else:
            keep.append((ci, edge))
    EDGE_INDEX[function] = keep
    if roots:
        INVALIDATION_LOG.append((new, roots))


def _before_method_added(function, new):
    materialise_touching(function=function)


D.on_method_inserting(_before_method_added)
D.on_method_added(method_added, invalidates=True)


def all_backedges(mi):
    """Every MethodInstance reachable through backedges (each once), depth first."""
    seen, out = set(), []

    def walk(m):
        for c in m.backedges:
            if id(c) not in seen:
                seen.add(id(c))
                out.append(c)
                walk(c)
    walk(mi)
    return out


def tree_lines(mi, prefix="", seen=None):
    """MethodAnalysis' ``print_tree`` layout of the backedge graph (repeats are omitted)."""
    if seen is None:
        seen = {id(mi)}
    lines = []
    kids = [c for c in mi.backedges if id(c) not in seen]
    for i, c in enumerate(kids):
        seen.add(id(c))
        last = i == len(kids) - 1
        lines.append(prefix + ("└─ " if last else "├─ ") + repr(c))
        lines.extend(tree_lines(c, prefix + ("   " if last else "│  "), seen))
    return lines


def format_tree(mi):
    return "\n".join([repr(mi)] + tree_lines(mi))


# -- mutable structs subclassed after code took them as concrete ------------------------------
#
# A mutable struct is concrete until a class subclasses it (``mutables.open_parent``); from
# then on a value of its type may be an instance of the subclass.  Code inferred while it was
# concrete may have called its methods directly (``h.a.get()`` with ``a: A`` resolved to
# ``A.get``), tested its class exactly, ...: the answer is wrong for a subclass instance that
# overrides a method.  No method-table edge sees this (``B.get`` does not change what
# ``get(::A)`` resolves to), so the subclassing itself invalidates every instance whose types
# mention the struct, as a new method invalidates through edges; images record the mutable
# structs their code took as concrete (``closed``) and a load discards the code that took a
# struct subclassed in this process as one.

OPENED: set = set()          # type references of the mutable structs subclassed in this process


class TypeOpened:
    """The trigger of an invalidation: mutable struct ``t`` got its first subclass."""

    __slots__ = ("type",)

    def __init__(self, t):
        self.type = t

    def __repr__(self):
        return f"subclassing of {T.type_ref(self.type)[-1]}"


def _mutables_in(t, out, seen):
    """The mutable structs a type names (in unions, parameters, element types)."""
    if id(t) in seen:
        return
    seen.add(id(t))
    if isinstance(t, T.Vararg):
        _mutables_in(t.T, out, seen)
        return
    if isinstance(t, T.UnionAll):
        _mutables_in(t.body, out, seen)
        return
    if not isinstance(t, T.PkType):
        return
    k = t.__pk_kind__
    if k == "mutable":
        out.add(t)
    if k == "union":
        for m in t.__pk_members__:
            _mutables_in(m, out, seen)
        return
    for p in getattr(t, "__pk_params__", None) or ():
        _mutables_in(p, out, seen)
    for attr in ("__pk_eltype__", "__pk_keytype__", "__pk_valtype__"):
        p = getattr(t, attr, None)
        if p is not None:
            _mutables_in(p, out, seen)


def types_of(ci):
    """Every type ``ci``'s inference gave something: arguments, result, variables,
    statements, the argument types of its calls."""
    yield from ci.mi.spec_types
    yield ci.rettype
    yield from ci.vartypes.values()
    yield from ci.stmt_types.values()
    for e in ci.edges:
        yield from e.argtypes


def closed_mutables(ci):
    """The mutable structs ``ci``'s types name that are concrete now (not subclassed): what
    its code may have taken as the exact class of a value."""
    out, seen = set(), set()
    for t in types_of(ci):
        _mutables_in(t, out, seen)
    return {t for t in out if T.isconcrete(t)}


def type_opened(t):
    """Mutable struct ``t`` was concrete and is subclassed now: invalidate every instance
    whose types name it (held ones of images are made first), and their callers."""
    from ..compiler_lock import COMPILER_LOCK
    with COMPILER_LOCK:
        ref = T.type_ref(t)
        OPENED.add(ref)
        for h in list(PENDING_HOLDERS):
            h.materialise_closed(ref)
        roots = []
        for table in list(SPECIALIZATIONS.values()):
            for mi in list(table.values()):
                ci = mi.cache
                if ci is None or not ci.valid:
                    continue
                out, seen = set(), set()
                for x in types_of(ci):
                    _mutables_in(x, out, seen)
                if t in out:
                    roots.append(ci)
        invalidate_roots(roots, TypeOpened(t))


def invalidate_roots(roots, trigger):
    """End the validity of ``roots`` (and their callers') in a new world, logged as caused
    by ``trigger``."""
    if not roots:
        return
    D.WORLD.age += 1
    world = D.WORLD.age
    for ci in roots:
        invalidate(ci, world, trigger)
    INVALIDATION_LOG.append((trigger, roots))

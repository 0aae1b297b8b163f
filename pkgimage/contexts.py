"""Context dispatch (seed 003's MultiFunctions), an opt-in mode beside global dispatch.

* ``@pk.mf`` defines a *context method*: it extends the function of that name without
  touching any global method table; the method lives in its module's context.
* ``pk.fexport(f)`` exports a context function from its module; ``pk.fusing(module)`` brings
  a module's exported context functions into the calling module's context and, like Julia's
  ``using``, binds their names in the calling module.
* A call made from code in a context sees the methods of the modules in that context and
  the context propagates down the call tree: every call inside is a context call.

Rules (also in the README):

1. The *context* of a module is the module itself plus every module it ``fusing``-ed
   (transitively: a fused module brings its own context along).
2. A context call of the name ``f`` in context ``C`` sees: the ``@pk.mf`` methods named ``f``
   of the modules in ``C``; and, when ``f`` is also a global generic function (an operator of
   ``pkgimage.base``, say), that function's methods defined by its own module, by pkgimage's
   base library, or by modules in ``C`` -- never methods other packages added globally.  So
   loading an unrelated package that extends ``+`` cannot change, or invalidate, context code.
3. Calling a context function from Python (or from global code) uses the context of the
   module that bound the name (by ``@pk.mf`` or ``pk.fusing``).

How: a call in context ``C`` goes to a *view*, an ordinary generic function whose methods are
copies of the methods rule 2 selects.  Views are keyed by the name and the *narrowed* context
(only the modules that define context methods, plus the global function's identity), so two
programs fusing the same packages share views -- and their MethodInstances, cached code and
images.  Inference, invalidation, codegen and images work on views unchanged; a new context
method is inserted into every view it belongs to (invalidating exactly what it changes).
"""

from __future__ import annotations

import sys

from . import dispatch as D
from .srcloc import fmt_loc, function_location

VIEW_MODULE = "pkgimage.contexts.views"

# module name -> set of module names in its context (itself included)
CONTEXTS: dict = {}
# name -> list of context Methods (function=None placeholder; module = defining module)
MF_METHODS: dict = {}
# module name -> set of exported names
EXPORTS: dict = {}
# (name, global function or None, narrowed context) -> view GenericFunction
VIEWS: dict = {}
# name -> modules that define @mf methods for it
_DEFINERS: dict = {}
STATS = {"views": 0}


def context_of(module):
    return CONTEXTS.setdefault(module, {module})


# modules that define any method (context or global): the only ones a context key keeps.
# Seeded with those that defined methods before this module was imported (``import
# pkgimage`` is lazy: a program may define methods through ``pkgimage.dispatch`` first).


def _defining_now():
    """Modules that define methods now; deferred ones (an image's default constructors)
    count without being made."""
    out = set()
    for f in list(D.FUNCTIONS.values()):
        made, ndeferred, module = D.table_parts(f)
        out.update(m.module for m in made)
        if ndeferred:
            out.add(module)
    return out


_DEFINING: set = _defining_now()
_GENERATION = [0]          # bumps when contexts or context methods change (view caches)


def _note_method(function, method, replaced):
    if method.module not in _DEFINING:
        _DEFINING.add(method.module)
        _GENERATION[0] += 1


D.on_method_added(_note_method)


def narrowed(ctx):
    """The part of a context that can matter: modules that define methods (a script that
    only fuses packages drops out), so programs fusing the same packages share views."""
    return frozenset(m for m in ctx if m in _DEFINING)


class ContextFunction:
    """A context function name as bound in a module (by ``@pk.mf`` or ``pk.fusing``)."""

    # A value for binding edges: two bindings of the same name in the same context are the
    # same function (``pk.fusing`` makes a new object each time it runs).
    __pk_value__ = True

    def __init__(self, name, module):
        self.name = name
        self.module = module              # whose context a call from outside uses
        self.__name__ = name
        self.__module__ = module

    @property
    def global_function(self):
        return None

    def view(self, ctx=None):
        if ctx is not None:
            return view_for(self.name, None, ctx)
        cached = self.__dict__.get("_view")
        if cached is not None and cached[0] == _GENERATION[0]:
            return cached[1]
        v = view_for(self.name, None, context_of(self.module))
        self._view = (_GENERATION[0], v)
        return v

    def __call__(self, *args):
        return self.view()(*args)

    def __repr__(self):
        return f"{self.name} (context function of {self.module})"

    def __reduce__(self):
        return (_bound, (self.name, self.module))


def _bound(name, module):
    return ContextFunction(name, module)


def _view_methods(name, gf, ctx):
    """Rule 2: which methods a context call of ``name`` sees in context ``ctx``."""
    chosen = []
    for m in MF_METHODS.get(name, ()):
        if m.module in ctx:
            chosen.append(m)
    if gf is not None:
        for m in gf.methods:
            if m.module == gf.module or m.module.startswith("pkgimage.") or m.module in ctx:
                chosen.append(m)
    return chosen


def view_for(name, gf, ctx):
    key = (name, gf, narrowed(ctx))
    v = VIEWS.get(key)
    if v is not None:
        return v
    mods = "+".join(sorted(key[2])) or "-"
    owner = f"{gf.module}.{gf.qualname}" if gf is not None else ""
    v = D.GenericFunction(name, VIEW_MODULE, f"{name}@{owner}@{mods}")
    v.context = key[2]
    v.context_name = name
    v.context_global = gf
    D.FUNCTIONS[(VIEW_MODULE, v.qualname)] = v
    VIEWS[key] = v
    STATS["views"] += 1
    for m in _view_methods(name, gf, key[2]):
        _insert_copy(v, m)
    _adopt(v)
    return v


# -- reusing cached code across contexts ----------------------------------------------------
#
# An instance loaded from an image was compiled in some view (name, C').  It depends only on
# the modules it touched; in a new view (name, C) with those modules in C it is the same code
# if every call it made still resolves the same way in C's views.  So a new view adopts such
# instances after translating each edge to C's views and re-checking it (and the same for
# every instance it calls), sharing the native code.  (Seed 000's post-compilation
# narrowing: cached code is keyed by what it visited, not by the whole context.)

LOADED_VIEW_CIS: dict = {}      # (name, global function or None) -> [loaded CodeInstance]
STATS["adopted"] = 0


def note_loaded(ci):
    """Called by the image loader for each instance it installs in a view."""
    f = ci.mi.method.function
    if getattr(f, "context", None) is not None:
        LOADED_VIEW_CIS.setdefault((f.context_name, f.context_global), []).append(ci)


def _same_method(view, m):
    if m is None:
        return None
    for c in view.methods:
        if c.module == m.module and D.sig_equal(c.sig, m.sig):
            return c
    return None


def _translate_function(f, ctx):
    if getattr(f, "context", None) is not None:
        return view_for(f.context_name, f.context_global, ctx)
    return f


def _adopt(v):
    for ci in list(LOADED_VIEW_CIS.get((v.context_name, v.context_global), ())):
        if ci.valid and ci.mi.method.function is not v:
            _translate(ci, v.context, {})


def _translate(ci, ctx, memo):
    """The CodeInstance equivalent to ``ci`` in context ``ctx`` (installed), or None."""
    from .compiler import instances as INS
    if id(ci) in memo:
        return memo[id(ci)]
    memo[id(ci)] = None                                   # a cycle: not adoptable
    f_new = _translate_function(ci.mi.method.function, ctx)
    m_new = _same_method(f_new, ci.mi.method) if f_new is not ci.mi.method.function \
        else ci.mi.method
    if m_new is None:
        return None
    mi_new = INS.method_instance(m_new, ci.mi.spec_types)
    if mi_new.cache is not None:
        memo[id(ci)] = mi_new.cache if mi_new.cache.valid else None
        return memo[id(ci)]
    edges = []
    for e in ci.edges:
        fe = _translate_function(e.function, ctx)
        me = _same_method(fe, e.method) if fe is not e.function else e.method
        if e.method is not None and me is None:
            return None
        cands = [_same_method(fe, c) if fe is not e.function else c for c in e.candidates]
        if any(c is None for c in cands):
            return None
        ne = INS.Edge(e.kind, fe, e.argtypes, me, cands)
        if not INS.edge_valid(ne):
            return None
        edges.append(ne)
    callees = []
    for cmi in ci.callees:
        if INS.code_of(cmi) is None or not cmi.cache.valid:
            return None
        t = _translate(cmi.cache, ctx, memo)
        if t is None:
            return None
        callees.append(t.mi)
    new = INS.CodeInstance(mi_new, None, D.world_counter())
    for attr in ("rettype", "vartypes", "symbol", "native", "needs_native"):
        setattr(new, attr, getattr(ci, attr))
    new.image = ci.image
    new.edges = edges
    new.callees = callees
    mi_new.cache = new
    INS.register_edges(new)
    for c in callees:
        c.add_backedge(mi_new)
    if new.native is not None and new.native.has_entry:
        from .compiler.entry import PRELINKED
        PRELINKED[(f_new, mi_new.spec_types)] = (mi_new, new.native)
    STATS["adopted"] += 1
    memo[id(ci)] = new
    return new


def _insert_copy(view, m):
    copy = D.Method(view, m.sig, m.pyfunc, m.module, m.file, m.line, m.argnames,
                    source=m.source, context=view.context)
    D.insert_method(view, copy)


def callee_in_context(callee, ctx):
    """What a call of ``callee`` (a GenericFunction or ContextFunction) made from code running
    in context ``ctx`` dispatches over (rule 2)."""
    if isinstance(callee, ContextFunction):
        return view_for(callee.name, None, ctx)
    if isinstance(callee, D.GenericFunction):
        if getattr(callee, "context", None) is not None:
            callee = callee.context_global or ContextFunction(callee.context_name, "")
            if isinstance(callee, ContextFunction):
                return view_for(callee.name, None, ctx)
        if getattr(callee, "constructs", None) is not None:
            return callee            # constructors are not context functions
        return view_for(callee.name, callee, ctx)
    return callee


# -- the API ----------------------------------------------------------------------------------

def mf(fn):
    """``@pk.mf``: a context method of the function named like ``fn`` in ``fn``'s module."""
    names, sig = D.signature_of(fn)
    module = fn.__module__
    file, line = function_location(fn)
    m = D.Method(None, sig, fn, module, file, line, names)
    _DEFINING.add(module)
    _GENERATION[0] += 1
    lst = MF_METHODS.setdefault(fn.__name__, [])
    for i, old in enumerate(lst):
        if old.module == module and D.sig_equal(old.sig, sig):
            lst[i] = m
            break
    else:
        lst.append(m)
    _DEFINERS.setdefault(fn.__name__, set()).add(module)
    context_of(module)
    # Every existing view that sees this module gets the method (invalidating what changes).
    for (name, gf, ctx), v in list(VIEWS.items()):
        if name == fn.__name__ and module in ctx:
            _insert_copy(v, m)
    # A view keyed before this module defined context methods is keyed too narrowly now:
    # new calls key by the new narrowed context, so they see the method; old views keep
    # their (still correct for their context) code.
    existing = fn.__globals__.get(fn.__name__)
    if isinstance(existing, ContextFunction) and existing.module == module:
        return existing
    return ContextFunction(fn.__name__, module)


def fexport(f):
    """``pk.fexport(f)``: export context function ``f`` from its module."""
    if not isinstance(f, ContextFunction):
        raise TypeError(f"pk.fexport expects a context function (defined with @pk.mf), got {f!r}")
    EXPORTS.setdefault(f.module, set()).add(f.name)
    return f


def fusing(module):
    """``pk.fusing(module)``: bring ``module``'s context into the calling module's context and
    bind its exported context functions there (like Julia's ``using``)."""
    caller = sys._getframe(1).f_globals
    me = caller.get("__name__", "__main__")
    other = module.__name__ if hasattr(module, "__name__") else str(module)
    if other not in CONTEXTS and other not in EXPORTS:
        raise TypeError(f"pk.fusing({other}): that module defines no context functions "
                        f"(@pk.mf) to fuse")
    mine = context_of(me)
    mine |= context_of(other)
    _GENERATION[0] += 1
    for name in sorted(EXPORTS.get(other, ())):
        caller[name] = ContextFunction(name, me)
    return module


def _where(fn):
    return fmt_loc(function_location(fn))


def register_in_frontend(special):
    """Name context dispatch's special callees to the frontend; called by the frontend when
    it is first imported (this module does not import it: see ``base.register_in_frontend``)."""
    special["context_callee"] = callee_in_context
    special["is_context_function"] = lambda c: isinstance(c, ContextFunction)


# -- images: a module's context-dispatch state travels with its image ----------------------

def module_state(module):
    """What an image must keep of ``module``'s context dispatch: its context methods, its
    exports and the modules it fused."""
    mfs = [(name, m.sig, m.pyfunc, m.file, m.line, m.argnames)
           for name, lst in sorted(MF_METHODS.items()) for m in lst if m.module == module]
    return {"mf": mfs, "exports": sorted(EXPORTS.get(module, ())),
            "context": sorted(CONTEXTS.get(module, {module}) - {module})}


def restore_module_state(module, state):
    for name, sig, pyfunc, file, line, argnames in state.get("mf", ()):
        m = D.Method(None, sig, pyfunc, module, file, line, tuple(argnames))
        MF_METHODS.setdefault(name, []).append(m)
        _DEFINERS.setdefault(name, set()).add(module)
        _DEFINING.add(module)
        for (vname, gf, ctx), v in list(VIEWS.items()):
            if vname == name and module in ctx:
                _insert_copy(v, m)
    if state.get("exports"):
        EXPORTS.setdefault(module, set()).update(state["exports"])
    ctx = context_of(module)
    for other in state.get("context", ()):
        ctx |= context_of(other)
    _GENERATION[0] += 1

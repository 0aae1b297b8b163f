"""An image's instances held as records until something asks for them.

A load validates every cached instance (``loader._validate_records``: method-table
fingerprints, bindings, callees), but making each valid one into objects -- MethodInstance,
CodeInstance, its edges (each method and argument type resolved), edge-index entries,
backedges, native code and entry -- cost 20-30 us per instance, paid by every load for
instances most processes never call (DemoPkg's 2,001 inline-only constructors, a library's
functions the program does not use).  Julia's loader makes its objects in bulk from the
image's arrays; Python has no such bulk path, so here they are not made until needed.

A :class:`HeldPart` keeps the valid records of one part of an image, by symbol, and makes
them on request through ``compiler.instances``' hooks (which own the rules):

* ``materialise_function(f)`` -- the instances of ``f``'s methods: a call from Python, the
  compiler looking one up (``method_instance``), a listing (``methodinstances``,
  ``code_instances``);
* ``materialise_touching(function=, module=)`` -- before a method is inserted into
  ``function`` (or ``module``'s globals are re-checked), every held instance whose validity
  depends on it (its own method's function, a function it calls, a callee's function, a
  global of ``module`` it read) and, transitively, every held instance of the part that
  calls those: invalidation then finds them, with their backedges, exactly as if they had
  been made at load;
* ``materialise_closed(ref)`` -- the instances that took a mutable struct as concrete, when
  it gets its first subclass, and their callers;
* ``materialise_all()``.

Held instances are valid as of the load: nothing they depend on can change without one of
the hooks making them first, so they are made without being checked again.

Made on demand, an instance is made in two steps.  A call needs only its MethodInstance,
CodeInstance and native code; its edges (a method and argument types resolved per call its
code makes: DemoPkg's ``f`` makes 1,001) and its callees' backedges are what invalidation
needs, so they stay in the record (``lazy``, ``CodeInstance.pending``) until something reads
them (``CodeInstance.edges``/``callees``) or one of the hooks above names the instance --
the same hooks, so invalidation finds them registered exactly as if made at load.  Instances of a
part whose callee is outside the part (another image's, or one compiled in the session) are
made at load, so that a callee's backedges always name its callers.  An instance made before
its callee (a held one of the same part) names the callee's MethodInstance, made empty, and
fills in the callee's backedge; the callee's code is filled in when it is made (readers of a
callee's code go through ``instances.code_of``).
"""

from __future__ import annotations

from .. import dispatch as D
from ..compiler import instances as INS
from .serialize import func_from_ref, func_ref

# {function reference: {(recorded table, the loading image's modules)}} of the base
# library's functions whose tables loads took on trust, the library not imported yet
# (``tables.deferrable``); checked, and emptied, when it is (``loader.verify_deferred``).
# Meanwhile the library's own imports insert its methods one by one: the hooks leave the
# records that depend on those tables alone.
UNVERIFIED: dict = {}
# The base library has been imported (its end has run ``loader.verify_deferred``): a part
# registered since binds its records of the library's methods at once.
LIBRARY_IMPORTED = [False]


class _LibraryMethods:
    """Methods images restored into base library functions before the library was
    imported, waiting to be inserted when it is (``loader.verify_deferred``, before the
    tables taken on trust are checked): ``runs`` [(module, function reference, the method
    records)] in the order the loads restored them; ``keys(fref)`` the digest keys of those
    of one function (``tables.method_key``), which a recorded table names (``deferrable``)."""

    def __init__(self):
        self.runs = []
        self._keys = {}
        self._load = {}

    def add(self, module, fref, records, keys, load):
        """Hold ``records`` of module ``module`` for ``fref``, restored by the load
        ``load``; False (nothing held) when another load holds methods for ``fref``: the
        table the first one took on trust would not be the library's and its methods, and
        its code would be thrown away at the library's import -- that load's check is made
        now instead, by importing the library (which inserts what was held)."""
        if self._load.setdefault(fref, load) is not load:
            return False
        self.runs.append((module, fref, records))
        self._keys.setdefault(fref, []).extend(keys)
        return True

    def keys(self, fref):
        """The sorted keys of the methods held for ``fref`` (a tuple; () when none)."""
        return tuple(sorted(self._keys.get(fref, ())))

    def take(self):
        runs, self.runs, self._keys, self._load = self.runs, [], {}, {}
        return runs


LIBRARY_METHODS = _LibraryMethods()


class HeldPart:
    """Valid records of one part of an image not made into objects yet.

    ``held``: {symbol: its method's function} of the records held; ``entries``: {symbol:
    (record, method, spec types, edges, bindings, function)} of every valid record of the
    part (``loader._validate_records``'s: held or made, the reverse-callee closure walks
    both);
    ``make(items, lazy)`` makes ``[(symbol, record, bindings)]`` (the loader's; it resolves
    each record's method and argument types then); with ``lazy`` it leaves their edges and
    callees (entered in ``lazy``) for ``finish(items)``, which completes ``[(symbol,
    CodeInstance, record)]``."""

    __slots__ = ("module", "held", "lazy", "entries", "by_function", "unbound", "make",
                 "finish", "_by_ref", "_by_mod", "_callers")

    def __init__(self, module, held, entries, make, finish):
        self.module = module
        self.held = held
        self.lazy: dict = {}         # symbol -> CodeInstance made without edges and callees
        self.entries = entries
        self.make = make
        self.finish = finish
        self.by_function: dict = {}
        self.unbound = []            # held records of a method of a function not resolved
        for sym, f in held.items():  # (the base library's, on trust: ``bind_functions``)
            if f is None:
                self.unbound.append(sym)
            else:
                self._index(sym, f)
        self._by_ref = None          # (indexes made when first asked)
        self._by_mod = None
        self._callers = None         # callee symbol -> caller symbols

    def register(self):
        if self.unbound and LIBRARY_IMPORTED[0]:
            self.bind_functions()       # (the library was imported during this load)
        for f in self.by_function:
            INS.PENDING.setdefault(f, []).append(self)
            if f._pycache:
                f._pycache.clear()
        if self.held:
            INS.PENDING_HOLDERS.append(self)

    def __len__(self):
        return len(self.held)

    def bind_functions(self):
        """Index the held records whose function was not resolved at load (a base library
        function taken on trust) by their function, the library imported now."""
        for sym in self.unbound:
            if sym not in self.held:
                continue
            f = self.held[sym] = func_from_ref(self.entries[sym][0]["method"][0])
            if self._index(sym, f) and self in INS.PENDING_HOLDERS:  # (registered already)
                INS.PENDING.setdefault(f, []).append(self)
                f._pycache.clear()
        self.unbound = []

    def _index(self, sym, f):
        """Index held ``sym`` by its function; True if the function is new to the index."""
        syms = self.by_function.get(f)
        if syms is None:
            self.by_function[f] = [sym]
            return True
        syms.append(sym)
        return False

    def discard_all(self):
        """Drop every record still held (their code is not trusted any more); the symbols
        dropped."""
        syms = list(self.held)
        self.held.clear()
        self.unbound = []
        self._forget_functions()
        self._unregister_if_done()
        return syms

    def _open(self):
        """Held records or incomplete instances left (the hooks have work)."""
        return bool(self.held or self.lazy)

    def _named(self, syms):
        """Of ``syms``, those the part still has work for (held, or made without edges)."""
        return [s for s in syms if s in self.held or s in self.lazy]

    def complete(self, ci):
        """Resolve and register the edges and callees of ``ci`` (made from this part's
        record without them)."""
        from ..compiler_lock import COMPILER_LOCK
        with COMPILER_LOCK:
            if ci.pending is self:
                self._make([ci.symbol])

    # -- the hooks --------------------------------------------------------------------------

    def materialise_function(self, f):
        syms = self.by_function.pop(f, ())
        self._make([s for s in syms if s in self.held], lazy=True)

    def materialise_all(self):
        self._make(sorted([*self.held, *self.lazy]))

    def materialise_touching(self, function=None, module=None):
        if not self._open():
            return
        start = []
        if function is not None:
            ref = _ref_of(function)
            if ref in UNVERIFIED:
                _verify_trusted()
            if ref not in UNVERIFIED:        # (still there: the library's own methods,
                start += self._by_function_ref().get(ref, ())     # as it is imported)
        if module is not None:
            # (only those a global of which is no longer what their code took as constant:
            # the others' check would find nothing -- and the first call from Python into a
            # module's code checks its globals every time)
            g = INS.module_globals(module)
            for sym in self._by_module().get(module, ()):
                if g is None or not all(name in g and INS.same_binding(g[name], then)
                                        for mod, name, then in self.entries[sym][4]
                                        if mod == module):
                    start.append(sym)
        self._make_with_callers(start)

    def materialise_symbols(self, syms):
        """The held records ``syms`` (callers of an instance outside the part whose
        backedges are being read: ``instances.MethodInstance.backedges``), and the held
        instances that call them."""
        if self._open():
            self._make_with_callers(self._named(syms))

    def held_callers_of(self, sym):
        """The part's records that call ``sym`` directly and are still held, or made
        without their callees (their backedge into ``sym`` is not there yet)."""
        return self._named(self._callers_index().get(sym, ()))

    def materialise_closed(self, ref):
        """The held instances whose code took the mutable struct ``ref`` names as concrete
        (it has just been subclassed: ``instances.type_opened``), and their callers."""
        if self._open():
            self._make_with_callers([s for s in (*self.held, *self.lazy)
                                     if ref in self.entries[s][0].get("closed", ())])

    def _make_with_callers(self, start):
        if not start:
            return
        callers = self._callers_index()
        seen, stack = set(start), list(start)
        while stack:
            for c in callers.get(stack.pop(), ()):
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        self._make(sorted(self._named(seen)))

    # -- internals --------------------------------------------------------------------------

    def _make(self, syms, lazy=False):
        """Make the held records ``syms`` name and complete the incomplete instances they
        name (the held ones first: an instance completed in the same call then finds its
        callees made).  ``lazy``: the held ones are made without their edges and callees
        (a call or lookup asked for them; every other hook needs them complete, for
        invalidation to find them)."""
        if not syms:
            return
        items, finish = [], []
        for s in syms:
            if s in self.held:          # (its function may be None: ``unbound``)
                del self.held[s]
                e = self.entries[s]
                items.append((s, e[0], e[4]))
            else:
                ci = self.lazy.pop(s, None)
                if ci is not None:
                    finish.append((s, ci, self.entries[s][0]))
        if not self.held:
            self._forget_functions()
        if items:
            self.make(items, lazy)
        if finish:
            self.finish(finish)
        self._unregister_if_done()

    def _unregister_if_done(self):
        """Nothing held or incomplete is left: the hooks need not ask this part again."""
        if not self._open():
            try:
                INS.PENDING_HOLDERS.remove(self)
            except ValueError:
                pass

    def _forget_functions(self):
        """No record is held: no function's instances are left to make (``PENDING``)."""
        for f in list(self.by_function):
            hs = INS.PENDING.get(f)
            if hs is not None and self in hs:
                hs.remove(self)
                if not hs:
                    del INS.PENDING[f]
        self.by_function.clear()

    def _by_function_ref(self):
        """{function reference: symbols} of the part's records: the functions whose method
        tables a record's validity depends on (its method's, its edges', its callees').
        References recur as shared objects (``writer._shared``): each distinct one is
        hashed once."""
        if self._by_ref is None:
            by_id = {}
            for sym, e in self.entries.items():
                r = e[0]
                for ref in (r["method"][0], *(edge[1] for edge in r["edges"]),
                            *(c[0][0] for c in r["callees"])):
                    hit = by_id.get(id(ref))
                    if hit is None:
                        hit = by_id[id(ref)] = (ref, [])
                    if not hit[1] or hit[1][-1] != sym:
                        hit[1].append(sym)
            out = {}
            for ref, syms in by_id.values():
                out.setdefault(ref, []).extend(syms)
            self._by_ref = out
        return self._by_ref

    def _by_module(self):
        """{module: symbols} of the part's records that read a global of that module."""
        if self._by_mod is None:
            out = {}
            for sym, e in self.entries.items():
                for mod in {b[0] for b in e[4]}:
                    out.setdefault(mod, []).append(sym)
            self._by_mod = out
        return self._by_mod

    def _callers_index(self):
        if self._callers is None:
            out = {}
            for sym, e in self.entries.items():
                r = e[0]
                for c in r["callees"]:
                    out.setdefault(c[2], []).append(sym)
            self._callers = out
        return self._callers


def _verify_trusted():
    """A method is being inserted into a function whose table a load took on trust, the
    base library not imported (``tables.deferrable``): by code other than the library's
    own, which is not imported yet -- so import it now (its end checks every trusted table,
    the method not inserted yet, and empties ``UNVERIFIED``); then the insertion reaches
    the records that depend on the table, as always.  While the library is being imported,
    the methods inserted are its own, which the trusted tables already had."""
    import sys
    if D.LIBRARY not in sys.modules:
        import importlib
        importlib.import_module(D.LIBRARY)


def _ref_of(function):
    try:
        return func_ref(function)
    except Exception:               # (a function no image could name: none of ours)
        return None

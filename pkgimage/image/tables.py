"""Method-table fingerprints: validating an image's edges a function at a time.

Every edge of a cached CodeInstance is a call to a generic function, and whether it still
resolves as it did depends on nothing but that function's method table (the argument types
are named by reference and resolve to the same types: their modules are the image's own,
dependencies whose build ids the header pins, or sources whose hashes it pins).  So the image
records, for each function its instances call, a digest of the methods that function had
when the edges were known to hold (``writer.compile_owned``), and the loader compares it
with a digest of the function's methods now: equal, every edge through the function holds
at once, with no dispatch; different, each edge through it gets the full check
(``instances.edge_valid``), as before -- Julia's loader does the same with its method
tables' ``max_world`` (``base/staticdata.jl``).

A method is named by its signature's portable reference (``types.type_ref``) and its module:
the same key ``serialize.method_ref`` writes, so a digest that matches also lets the loader
find each method an edge names by that key (``method_index``) instead of resolving its
signature and comparing it with every method's.  Functions with context-dispatch methods,
and context views, have no digest (their resolution depends on more than the table): their
edges always get the full check.
"""

from __future__ import annotations

import sys

from .. import dispatch as D
from .. import types as T
from .format import hexdigest
from .pending import LIBRARY_METHODS

_CACHE_ATTR = "_pk_table_fingerprint"


class _Table:
    """What a function's method table is now: its methods (the objects: the comparison is
    by identity, and no id can be reused while they are kept), their index by key, and the
    digest, made only when asked (the loader needs the index of every function whose
    methods an image names, the digest only of those its instances call)."""

    __slots__ = ("methods", "index", "sigs", "_digest")

    def __init__(self, methods, index, sigs=()):
        self.methods = methods
        self.index = index              # None: fingerprints do not apply
        self.sigs = sigs                # ((signature type, module) of each method)
        self._digest = False            # not made yet

    @property
    def digest(self):
        if self._digest is False:
            if self.index is None:
                self._digest = None
            else:
                # (``repr((sig ref, module))``, from the signature reference's repr made
                # once per signature type: ``_sig_ref``; repr of the nested references was
                # most of a digest's cost)
                keys = sorted(method_key(sig, module) for sig, module in self.sigs)
                self._digest = hexdigest("\n".join(keys).encode(), 16)
        return self._digest


def _table(f):
    """The ``_Table`` of ``f``'s methods now, cached on the function until they change."""
    methods = tuple(f.methods)
    hit = f.__dict__.get(_CACHE_ATTR)
    if hit is not None and hit.methods == methods:
        return hit
    index = None
    sigs = ()
    if getattr(f, "context", None) is None and all(m.context is None for m in methods):
        sigs = tuple((m.sig, m.module) for m in methods)
        index = {(_sig_ref(sig, T), module): m for (sig, module), m in zip(sigs, methods)}
        if len(index) != len(methods):       # (two methods with one key: no fingerprint)
            index = None
    hit = f.__dict__[_CACHE_ATTR] = _Table(methods, index, sigs)
    return hit


# id(signature type) -> (the type, its reference): signature types are interned and many
# functions share one (every constructor's ``(Real,)`` and ``(AbstractDemoType,)``); the
# entry keeps the type alive, so its id cannot be reused
_SIG_REFS: dict = {}


def _sig_entry(sig):
    hit = _SIG_REFS.get(id(sig))
    if hit is None or hit[0] is not sig:
        ref = T.type_ref(sig)
        hit = _SIG_REFS[id(sig)] = (sig, ref, repr(ref))
    return hit


def _sig_ref(sig, T=T):
    return _sig_entry(sig)[1]


def _sig_repr(sig):
    return _sig_entry(sig)[2]


def table_digest(f):
    """The digest of ``f``'s method table (None where fingerprints do not apply)."""
    return _table(f).digest


def method_index(f):
    """{(signature ref, module): method} of ``f``'s methods (empty where no digest)."""
    return _table(f).index or {}


def find_method(f, sigref, module):
    """The method of ``f`` whose key is (``sigref``, ``module``), or None (not found, or
    keys that do not tell methods apart: context methods).  A function with a few methods
    is scanned (an index made for each of DemoPkg's 1,001 constructors, to find one method
    in each, cost more than the scans); a larger one is looked up in its index."""
    methods, ndeferred, _ = D.table_parts(f)
    if len(methods) + ndeferred > 8:
        return method_index(f).get((sigref, module))
    found = None
    for m in methods:
        if m.context is not None:
            return None
        if found is None and m.module == module and _sig_entry(m.sig)[1] == sigref:
            found = m
    if found is None and ndeferred:
        # (not among the methods made: one of the deferred ones, whose keys no made
        # method has -- inserting one of their signatures makes them first)
        return find_method(D.materialised(f), sigref, module)
    return found if getattr(f, "context", None) is None else None


def digests_for(functions):
    """{function reference: (digest, number of methods, module, added)} for ``functions``
    (those with a digest only); ``module`` is the one module that defined every method of
    the table, ``PKGIMAGE_MODULES`` when several of pkgimage's own modules did (the base
    library's functions: ``deferrable``), or None; ``added`` the keys of the methods other
    modules added to a base library function (``_added_to_library``).  A function the
    loading image itself creates, whose every method that image's module defines, has at
    load exactly the methods the image restores for it: the loader takes its table as the
    recorded one from the count alone (``fresh_table_holds``) instead of computing the
    digest -- most functions an image's instances call are its own (DemoPkg's 1,001
    constructors)."""
    from .serialize import func_ref
    out = {}
    for f in functions:
        ref = func_ref(f)
        if ref[0] not in ("func", "ctor"):
            continue
        d = table_digest(f)
        if d is not None:
            mods = {m.module for m in f.methods}
            out[ref] = (d, len(f.methods), mods.pop() if len(mods) == 1 else
                        PKGIMAGE_MODULES if all(m.startswith("pkgimage.") for m in mods)
                        else None,
                        _added_to_library(ref, f))
    return out


def _added_to_library(ref, f):
    """The sorted keys of the methods of a base library function that other modules than
    pkgimage's added (None for any other function, or none added): with the library not
    imported, a load takes its table as recorded when exactly those methods are waiting to
    be inserted into it (``deferrable``)."""
    if ref[0] != "func" or not ref[1].startswith(D.LIBRARY):
        return None
    keys = sorted(method_key(m.sig, m.module) for m in f.methods
                  if not m.module.startswith("pkgimage."))
    return tuple(keys) or None


def method_key(sig, module):
    """How a table's digest names a method: its signature's reference and its module."""
    return f"({_sig_repr(sig)}, {module!r})"


# The module recorded for a table whose methods several of pkgimage's own modules defined
# (not ``dispatch.LIBRARY``, the base library's package).
PKGIMAGE_MODULES = "pkgimage.*"


def deferrable(fref, want):
    """May a load take the table of the function ``fref`` names as the recorded ``want``
    without importing the base library, which defines its methods?  When the library is
    not imported yet, every method of the recorded table was pkgimage's own or one that
    other modules added (``want[3]``: loads hold those for the library's import), and the
    process can have added none: the function does not exist yet (a base library function,
    whose held methods are exactly those), or has no method but pkgimage's (a primitive
    type's constructor).  Importing the library then makes the very table of the build
    (the runtime key pins pkgimage's version) -- which is checked when it is imported
    (``loader.verify_deferred``).  The library takes tens of milliseconds to import, and
    most programs' compiled code calls it only natively."""
    if want is None or D.LIBRARY in sys.modules:
        return False
    added = want[3] if len(want) > 3 else None
    if added is None and not (want[2] == PKGIMAGE_MODULES or
                              (want[2] or "").startswith("pkgimage.")):
        return False
    if fref[0] == "func":
        return fref[1].startswith(D.LIBRARY) and \
            D.FUNCTIONS.get((fref[1], fref[2])) is None and \
            LIBRARY_METHODS.keys(fref) == (added or ())
    if fref[0] == "ctor" and fref[1][0] == "builtin":
        from ..constructors import existing
        f = existing(T.type_from_ref(fref[1]))
        return f is None or all(m.module.startswith("pkgimage.") for m in f.methods)
    return False


def fresh_table_holds(f, want):
    """Does ``f`` -- a function created by the load of an image of the module ``want[2]``,
    which restored its methods -- have the table ``want`` (``digests_for``) recorded?
    Every method of that table was defined by the image's module, so the image restored
    each (its own methods) or made it again (those its definitions make: default
    constructors, default-argument methods); the same count, every method still of that
    module, is the same table.  (A method added by other code since, or one replaced, shows
    in the count or in a method's module.)"""
    n, module = want[1], want[2]
    # (without making the methods the load deferred: default constructors, of the module
    # of the struct, the image's, and of no context)
    methods, ndeferred, dmodule = D.table_parts(f)
    if module is None or len(methods) + ndeferred != n or (ndeferred and dmodule != module):
        return False
    for m in methods:
        if m.module != module or m.context is not None:
            return False
    return True

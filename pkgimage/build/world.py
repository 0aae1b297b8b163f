"""The checkpoint's world, as the sandbox sees it: which code a workload compiled still holds
when the module is closed again.

A workload runs after the close and may change what compiled code depends on.  Two kinds of
dependency are checked here, in the sandbox, where the objects compiled against are alive:

* **methods**: an instance whose own method, or any method one of its edges resolved to (or
  saw as a candidate), was defined by the workload -- a new method, or one replacing a
  method of the same signature -- does not hold.  Methods are told apart by the world they
  were defined in (``Method.primary_world``), not by their signature: a redefinition has the
  signature of the method it replaces.
* **bindings**: lowering compiles the values of module globals, builtins and closure cells
  into the IR as constants (``IRFunction.reads``); an instance holds only if every binding
  it read still has, in the close's bindings, the very object it read.  The close's
  bindings are a shallow copy of every module's namespace (and of the methods' closure
  cells) taken before ``__init__`` and the workloads run.

What holds by these checks is then validated by the parent like a cached instance of an
image (``image/loader.validate_records``: every edge resolves to the same method in the
parent's -- the checkpoint's -- method tables); what does not is re-inferred by the parent.
A workload that redefines a type (a struct of the same name) makes nothing hold: type
references name types by name, so nothing compiled for the new type may be trusted.
"""

from __future__ import annotations

import sys

from .. import dispatch as D
from .. import types as T

_MISSING = object()


class CloseWorld:
    """The bindings, methods and types at the close (taken in the sandbox before it runs
    ``__init__``); :meth:`holds` says whether a CodeInstance compiled since is valid in it."""

    __slots__ = ("world", "namespaces", "cells", "types")

    def __init__(self):
        self.world = D.world_counter()
        # id(namespace) -> (namespace, copy): the namespace is kept alive so ids stay unique
        self.namespaces = {id(m.__dict__): (m.__dict__, dict(m.__dict__))
                           for m in list(sys.modules.values())
                           if m is not None and hasattr(m, "__dict__")}
        self.cells = {}
        for f in list(D.FUNCTIONS.values()):
            for m in f.methods:
                for cell in getattr(m.pyfunc, "__closure__", None) or ():
                    try:
                        self.cells[id(cell)] = (cell, cell.cell_contents)
                    except ValueError:
                        pass
        self.types = dict(T.USER_TYPES)

    def types_redefined(self):
        """Names of user types the workload replaced by another type of the same name."""
        return sorted(".".join(k) for k, t in T.USER_TYPES.items()
                      if k in self.types and self.types[k] is not t)

    def _method_ok(self, m):
        return m is None or m.primary_world <= self.world

    def _read_ok(self, ns, name, value):
        if name is None:                                   # a closure cell
            saved = self.cells.get(id(ns))
            return saved is not None and saved[0] is ns and saved[1] is value
        saved = self.namespaces.get(id(ns))
        if saved is None or saved[0] is not ns:
            return False                                   # a module the workload made
        return saved[1].get(name, _MISSING) is value

    def why_not(self, ci):
        """None if ``ci`` holds in the close's world, else the reason (one line)."""
        m = ci.mi.method
        if not self._method_ok(m):
            return f"its method {m.sigstr()} was defined by the workload"
        for e in ci.edges:
            if not self._method_ok(e.method) or not all(map(self._method_ok, e.candidates)):
                return f"its call {T.sig_repr(e.function.name, e.argtypes)} resolved to a " \
                       f"method the workload defined"
        for ns, name, value in getattr(ci.ir, "reads", ()):
            if not self._read_ok(ns, name, value):
                what = "a closure variable" if name is None else f"global {name!r}"
                return f"it was compiled with {what} bound as the workload left it"
        return None


def split_holding(world, cis, callees):
    """(instances of ``cis`` that hold, {id: reason} of those that do not).  An instance
    that calls (or inlines) one that does not hold does not hold either: its code calls or
    contains the other's."""
    bad = {}
    if world.types_redefined():
        why = f"the workload redefined type(s) {', '.join(world.types_redefined())}"
        return [], {id(c): why for c in cis}
    for c in cis:
        why = world.why_not(c)
        if why is not None:
            bad[id(c)] = why
    callers = {}
    for c in cis:
        for callee in callees(c):
            callers.setdefault(id(callee), []).append(c)
    stack = list(bad)
    while stack:
        for caller in callers.get(stack.pop(), ()):
            if id(caller) not in bad:
                bad[id(caller)] = "it calls code that does not hold"
                stack.append(id(caller))
    return [c for c in cis if id(c) not in bad], bad


__all__ = ["CloseWorld", "split_holding"]

"""The compiler lock: one re-entrant lock around everything that changes compiled state.

Inference, code generation, linking, method insertion (with the invalidation it triggers)
and the installation of an image's code all read and write shared tables -- method tables
and their dispatch caches, MethodInstances and their CodeInstances, backedges, the JIT's
symbol tables.  Two threads doing any of that at once corrupted them (a segmentation fault
when threads made first calls together).  As numba's ``global_compiler_lock``, one RLock
serialises them; a thread that re-enters (compiling a callee, inserting a method from a
workload's compiled call) already holds it.  Running native code never takes it: a call
whose entry exists goes straight to the native code, so compiled code runs concurrently as
fast as before.

This module imports nothing of pkgimage, so every layer (dispatch, compiler, loader) can use
it without breaking the one-way order of imports.
"""

from __future__ import annotations

# (``_thread``'s lock is what ``threading.RLock`` returns; ``threading`` itself, with the
# ``functools`` and ``collections`` it imports, cost a warm process 1-2 ms)
from _thread import RLock

COMPILER_LOCK = RLock()

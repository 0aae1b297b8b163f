"""``pkgimage invalidations SCRIPT [ARGS...]``: run a script and print, as trees, which cached
or compiled instances it invalidated and why (SnoopCompile's ``invalidation_trees``).

Two causes are reported:

* a **method definition** (at the script's top level, or by a module it imports, or by an image
  load inserting its methods) that changed what an inferred call resolves to: the log
  ``compiler.instances.INVALIDATION_LOG`` has the method and the root CodeInstances whose own
  edges changed; each root is printed with its backedge tree (the callers invalidated with it);
* an **image load** that found cached instances whose edges no longer hold in this process:
  ``image.loader.DISCARDED`` has the image, the instance and the reason.

Methods are listed in the order they were defined; the summary line counts everything.
"""

from __future__ import annotations

import os
import sys

from . import describe_exception, run_script


def _where(ci):
    img = ci.image
    if img:
        return f"cached in image {img}" if "+" not in img else f"cached in context image {img}"
    return "compiled in this process"


def invalidations(script, args=()):
    os.environ.setdefault("PKGIMAGE_AUTO", "0")
    from ..compiler import instances as INS
    from ..image import loader as L
    from . import ToolError
    if not os.path.isfile(script):
        raise ToolError(f"script {script} not found")
    n0, d0 = len(INS.INVALIDATION_LOG), len(L.DISCARDED)
    err = run_script(script, args)
    sys.stdout.flush()
    log = INS.INVALIDATION_LOG[n0:]
    disc = L.DISCARDED[d0:]
    total = 0
    out = []
    for method, roots in log:
        trees = []
        count = 0
        for ci in roots:
            lines = INS.format_tree(ci.mi).split("\n")
            lines[0] += f"  [{_where(ci)}]"
            count += 1 + len(INS.all_backedges(ci.mi))
            trees.append(lines)
        total += count
        out.append(f"rebinding {method.module}.{method.name} (binding invalidation)"
                   if isinstance(method, INS.BindingChange) else f"inserting {method!r}")
        out.append(f"  invalidated {count} instance{'s' if count != 1 else ''} "
                   f"({len(roots)} root{'s' if len(roots) != 1 else ''}):")
        for lines in trees:
            out += ["    " + ln for ln in lines]
    by_image = {}
    for mod, what, why in disc:
        by_image.setdefault(mod, []).append((what, why))
    for mod, items in by_image.items():
        out.append(f"loading image {mod}")
        out.append(f"  discarded {len(items)} cached instance{'s' if len(items) != 1 else ''}:")
        for what, why in items:
            out.append(f"    {what}: {why}")
    print(f"pkgimage invalidations {os.path.basename(script)}: {len(log)} method "
          f"definition{'s' if len(log) != 1 else ''} invalidated {total} instance"
          f"{'s' if total != 1 else ''}; image loads discarded {len(disc)} cached instance"
          f"{'s' if len(disc) != 1 else ''}")
    for ln in out:
        print(ln)
    if err is not None:
        print(f"pkgimage invalidations: {script} failed: {describe_exception(err)}",
              file=sys.stderr)
        return 1
    return 0

"""``h.f(x)`` where ``f`` is a field of the struct ``h`` holding a function (issue 14: a
function stored in a struct field and called).  Python finds the instance's attribute before
any method of its class, so the call is the call of the field's value.

Inference sends such a call here (``frontend.BASE["field_caller"]``): for each field name
so called, a generic function ``call_field_<name>`` of this module with one method, written
in the compiled language, ``g = x.<name>; return g(*args)`` -- the field read and the call of
a value, which inference types like any other (a static call of the function the field's
type names, a closure's method, or Python's call of a plain callable).  The functions are
made on first use, here or when an image names one (the module's ``__getattr__``), always
from the same text, so an image's reference to one resolves in a later process."""

from __future__ import annotations

import linecache

from .. import dispatch as D

MODULE = __name__
_TEXT = "def call_field_{0}(x, *args):\n    g = x.{0}\n    return g(*args)\n"
_PREFIX = "call_field_"


def field_caller(name):
    """The generic function that calls field ``name`` of its first argument."""
    fname = _PREFIX + name
    f = globals().get(fname)
    if f is None:
        text = _TEXT.format(name)
        filename = f"<pkgimage field call {name}>"
        # (the compiler reads method bodies through linecache, as for exec'd modules)
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True),
                                     filename)
        ns = {"__name__": MODULE}
        exec(compile(text, filename, "exec"), ns)
        f = D.get_function(fname, MODULE)
        f.method(ns[fname])
        globals()[fname] = f
    return f


def __getattr__(name):
    if name.startswith(_PREFIX) and name[len(_PREFIX):].isidentifier():
        return field_caller(name[len(_PREFIX):])
    raise AttributeError(f"module {MODULE!r} has no attribute {name!r}")

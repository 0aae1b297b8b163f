"""Keyword arguments in calls of generic functions: ``solve(a, b, tol=1e-6)``.

Dispatch is on positional arguments only, as in Julia, so a call with keywords is first made
positional: each keyword names a parameter, and the methods that have one of that name (and
enough parameters) must agree on its position; a parameter left out between the given ones
takes the default value its method declares (``def solve(a, b, maxiter=50, tol=1e-8)``).  The
frontend does this when compiling (the call then compiles to a direct call), dispatch does it
for calls from Python.
"""

from __future__ import annotations

_NO_DEFAULT = object()


def bind(function, npos, names, ndefaults=None):
    """For a call of ``function`` with ``npos`` positional arguments and keywords ``names``:
    what each following position gets, in order -- ("kw", name), ("default", value), or,
    for a lambda made with ``ndefaults`` default values, ("capdefault", (position of the
    tuple of them among the arguments, index in it)).  Raises TypeError saying why when
    the keywords cannot be placed."""
    from .dispatch import all_defaults, source_function
    fname = getattr(function, "name", "?")
    plans = set()
    captured = _captured_defaults(function, ndefaults) if ndefaults else None
    for m in function.methods:
        argnames = tuple(m.argnames)
        fn = source_function(m) if m.pyfunc is not None else None
        if fn is not None and fn.__code__.co_flags & 0x04:      # *args: positions vary
            continue
        if not all(n in argnames[npos:] for n in names):
            continue
        last = max(argnames.index(n) for n in names)
        dflt = all_defaults(fn) if fn is not None else ()
        defaults = dict(zip(argnames[len(argnames) - len(dflt):], dflt)) if dflt else {}
        plan = []
        for i in range(npos, last + 1):
            n = argnames[i]
            if n in names:
                plan.append(("kw", n))
            elif n in defaults:
                plan.append(("default", defaults[n]))
            elif captured is not None and captured[0] < i and \
                    i - captured[0] - 1 >= captured[1]:
                # a lambda's default: item k of the tuple of its defaults, which the
                # closure holds (``lambdas.DEFAULTS``, position d of the arguments)
                d, first = captured
                plan.append(("capdefault", (d, i - d - 1 - first)))
            else:
                plan = None
                break
        if plan is not None:
            plans.add(tuple(plan))
    if not plans:
        raise TypeError(f"{fname}() has no method with parameters named "
                        f"{', '.join(map(repr, names))} after {npos} positional argument"
                        f"{'s' if npos != 1 else ''}")
    if len(plans) > 1:
        raise TypeError(f"{fname}(): the methods place the keyword arguments "
                        f"{', '.join(map(repr, names))} differently; pass them by position")
    return plans.pop()


def lambda_defaults_at(function):
    """The position of a lambda's ``<defaults>`` argument (the tuple of the default values
    it was made with, after what it captured: ``lambdas.py``), or None for a function made
    without defaults -- or any other function."""
    from .lambdas import DEFAULTS
    for m in function.methods:
        names = tuple(m.argnames)
        if DEFAULTS in names:
            return names.index(DEFAULTS)
    return None


def _captured_defaults(function, ndefaults):
    """For a lambda (or nested def) made with ``ndefaults`` default values: (position of
    its ``<defaults>`` argument, index of the first parameter that has a default) -- its
    methods are ``(captured..., <defaults>, p1, ..., pm)``, one per number of parameters
    given (``lambdas.py``), and the defaults belong to the last parameters; None for any
    other function."""
    d = lambda_defaults_at(function)
    if d is None:
        return None
    return d, max(len(m.argnames) for m in function.methods) - d - 1 - ndefaults


def call(function, args, kwargs):
    """``function(*args, **kwargs)`` made positional (``bind``), then dispatched."""
    d = lambda_defaults_at(function)            # (a lambda's: its defaults' tuple)
    nd = len(args[d]) if d is not None and d < len(args) and type(args[d]) is tuple else None
    plan = bind(function, len(args), tuple(kwargs), nd)
    full = tuple(args) + tuple(kwargs[x] if k == "kw" else args[x[0]][x[1]]
                               if k == "capdefault" else x for k, x in plan)
    call_bound = getattr(function, "call_bound", None)
    if call_bound is None:              # (a context function and the like)
        return function(*full)
    return call_bound(full)

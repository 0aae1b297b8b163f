"""The untyped IR the frontend produces and inference annotates.

A method body becomes a control-flow graph of basic blocks.  Every value lives in a named
variable (source locals keep their names, temporaries are ``%N``); statements are
``dst = expr`` assignments plus a terminator per block.  Keeping every value in a variable
makes the later stages simple: inference types variables per block, and codegen gives each
variable one storage slot of the representation its inferred type needs (which also gives
boxed values one owner for reference counting).

Nothing here knows about types beyond holding compile-time constants; inference writes its
results into ``CodeInstance`` objects, never into this IR, so one IR can be inferred for many
argument types.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# -- expressions (right-hand sides) -----------------------------------------------------------

@dataclass(frozen=True)
class Const:
    """A literal: int, float, bool, None or str (strings only feed error messages)."""
    value: object


@dataclass(frozen=True)
class Use:
    var: str


@dataclass(frozen=True)
class Call:
    """A call of a generic function known at compile time (operators, globals, constructors).
    ``kwbound``: the arguments were made positional by keyword binding (``f(x, tol=t)``,
    ``keywords.bind``) or by the compiler (a default value's method), so they may fill
    keyword-only parameters; a call written with positional arguments may not."""
    func: object          # GenericFunction
    args: tuple           # variable names
    kwbound: bool = False


@dataclass(frozen=True)
class MethodRef:
    """The callee of ``x.name(...)`` where ``name`` is a method a class body defines: which
    generic function it is depends on ``x``'s type, so inference resolves it
    (``structmethods.resolve``); a value of unknown type calls it through Python."""
    name: str
    module = ""

    @property
    def qualname(self):
        return "." + self.name


@dataclass(frozen=True)
class ValueCallee:
    """The callee of ``f(...)`` where ``f`` is a value (a parameter, a local): the call's
    first argument is the value called.  Inference resolves a generic function's own type
    (``typeof(f)``) to a call of that function on the other arguments; any other callable
    is called through Python."""
    name = "(call)"
    module = ""
    qualname = "(call)"


CALL_VALUE = ValueCallee()


# Modules of Python's own library whose C functions and classes compiled code may call
# through Python (a call of the value, ``CALL_VALUE``)
_PY_LIBRARY = frozenset({"builtins", "math", "cmath", "operator", "_operator", "itertools",
                         "functools", "_functools", "time", "posix", "nt", "sys", "_bisect",
                         "_heapq", "string"})


# Built-ins that act on the calling frame or import (``exec('x = 1')`` runs in the caller's
# globals, ``locals()`` reads its variables): compiled code has no frame of its own, so
# called from it they would act on whichever Python frame called it -- refused
_FRAME_BUILTINS = frozenset({"exec", "eval", "locals", "globals", "vars", "dir", "super",
                             "__import__", "breakpoint", "__build_class__", "compile"})


def library_callable(value):
    """(module, qualified name) of a C function or built-in class of Python's own library
    with no compiled counterpart (``divmod``, ``tuple``, ``reversed``, ``frozenset``,
    ``math.isclose``, ``time.perf_counter``), which compiled code calls through Python on
    the boxed values and gets plain Python's answer from; None for anything else -- a
    user's Python function (compiled code asks for ``@pk.generic`` there), an exception
    class, a bound method of an object.  The name is how an image refers to it (it must
    lead back to this very object)."""
    import sys
    import types
    if isinstance(value, types.BuiltinFunctionType):
        mod = getattr(value, "__module__", None)
    elif isinstance(value, type) and not issubclass(value, BaseException):
        mod = value.__module__          # (a class of those modules: ``tuple``, ``itertools.count``,
                                        # a heap type since 3.12)
    else:
        return None
    name = getattr(value, "__qualname__", None)
    if mod not in _PY_LIBRARY or not name or mod == "builtins" and name in _FRAME_BUILTINS:
        return None
    obj = sys.modules.get(mod)
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return (mod, name) if obj is value else None


@dataclass(frozen=True)
class KwValueCallee:
    """The callee of ``f(x, tol=t)`` where ``f`` is a value: the call's first argument is
    the value, then the positional arguments, then the values of the keywords ``names``,
    in that order.  Inference binds the keywords to the parameters of the generic function
    (or closure) the value's type names, as a call by name binds them (``keywords.bind``);
    any other callable is called through Python with those keywords."""
    names: tuple
    name = "(call)"
    module = ""
    qualname = "(call)"


@dataclass(frozen=True)
class Intrinsic:
    """A primitive operation (see ``intrinsics.py``); ``params`` are compile-time types."""
    name: str
    args: tuple
    params: tuple = ()


@dataclass(frozen=True)
class GetField:
    var: str
    name: str


@dataclass(frozen=True)
class ErrorMsg:
    """``pk.error(...)``: raise ErrorException with a message made of these parts (a part is
    a str constant or a variable name wrapped in Use); with ``exc``, the Python exception of
    that name (``TypeError``: errors the compiler raises where Python raises them)."""
    parts: tuple
    exc: str = ""
    # ``raise x`` / ``raise x from y``: ``parts`` are the exception (an instance or a class)
    # and, with ``from``, its cause, raised as Python raises them
    obj: bool = False


# -- statements and terminators ---------------------------------------------------------------

@dataclass
class Assign:
    dst: str
    value: object
    loc: tuple            # (line, col)


@dataclass
class Goto:
    target: int
    loc: tuple = (0, 0)


@dataclass
class Branch:
    cond: str
    then: int
    orelse: int
    loc: tuple = (0, 0)


@dataclass
class Return:
    var: str
    loc: tuple = (0, 0)


@dataclass
class Raise:
    """Unconditional error (``pk.error``): the block ends here."""
    value: ErrorMsg
    loc: tuple = (0, 0)


@dataclass
class Block:
    id: int
    stmts: list = field(default_factory=list)
    term: object = None
    # the block an exception raised here goes to (an ``except``/``finally`` of a ``try``
    # around it: the handler starts by taking the exception, ``exc_fetch``); -1: the caller
    handler: int = -1


@dataclass
class IRFunction:
    """The IR of one method body."""
    name: str
    argnames: tuple
    blocks: list          # Block, index == id; blocks[0] is the entry
    filename: str
    firstline: int
    # Module globals the body read at lowering, as (module name, name, value), sorted: the
    # code treats them as constants, so each is a dependency (Julia's binding edges) that
    # rebinding the global invalidates.
    bindings: tuple = ()
    _consts: dict = field(default=None, repr=False, compare=False)
    # The bindings lowering read (module globals, builtins, closure cells, attributes of
    # modules): ``(namespace, name, value)``, the namespace a module's ``__dict__`` or a
    # closure cell (name None).  Their values are compiled into this IR as constants, so code
    # inferred from it is right only while each binding still holds that very value (the
    # post-close sandbox checks them against the close's bindings: build/world.py).
    reads: tuple = field(default=(), repr=False, compare=False)

    def constants(self):
        """Temporaries assigned exactly once from a literal, with their values (what
        inference's constant propagation of tuple indices reads)."""
        if self._consts is None:
            counts, vals = {}, {}
            for blk in self.blocks:
                for s in blk.stmts:
                    counts[s.dst] = counts.get(s.dst, 0) + 1
                    if isinstance(s.value, Const):
                        vals[s.dst] = s.value.value
            self._consts = {k: v for k, v in vals.items() if counts[k] == 1 and k.startswith("%")}
        return self._consts

    def successors(self, b):
        t = b.term
        if isinstance(t, Goto):
            return (t.target,)
        if isinstance(t, Branch):
            return (t.then, t.orelse)
        return ()

    def variables(self):
        seen = dict.fromkeys(self.argnames)
        for b in self.blocks:
            for s in b.stmts:
                seen.setdefault(s.dst)
        return list(seen)

    def dump(self):
        lines = [f"IR {self.name}({', '.join(self.argnames)})"]
        for b in self.blocks:
            lines.append(f" #{b.id}:" + (f" (except #{b.handler})" if b.handler >= 0 else ""))
            for s in b.stmts:
                lines.append(f"    {s.dst} = {s.value}")
            lines.append(f"    {b.term}")
        return "\n".join(lines)


def format_expr(v):
    """An expression as code_typed prints it (stable text, for golden tests)."""
    if isinstance(v, Const):
        return repr(v.value)
    if isinstance(v, Use):
        return v.var
    if isinstance(v, Call):
        f = v.func
        name = getattr(f, "name", repr(f))
        mod = getattr(f, "module", "")
        prefix = "base." if mod == "pkgimage.base" else ""
        return f"{prefix}{name}(" + ", ".join(v.args) + ")"
    if isinstance(v, Intrinsic):
        ps = ("{" + ", ".join(getattr(p, "__pk_name__", repr(p)) for p in v.params) + "}"
              if v.params else "")
        return f"intr.{v.name}{ps}(" + ", ".join(v.args) + ")"
    if isinstance(v, GetField):
        return f"{v.var}.{v.name}"
    if isinstance(v, ErrorMsg):
        if v.obj:
            return " from ".join(p.var for p in v.parts)
        return "error(" + ", ".join(repr(p) if isinstance(p, str) else p.var
                                    for p in v.parts) + ")"
    return repr(v)


def format_term(t):
    if isinstance(t, Goto):
        return f"goto #{t.target}"
    if isinstance(t, Branch):
        return f"if {t.cond} goto #{t.then} else #{t.orelse}"
    if isinstance(t, Return):
        return f"return {t.var}"
    if isinstance(t, Raise):
        return f"raise {format_expr(t.value)}"
    return repr(t)


def expr_uses(v):
    """The variables an expression reads."""
    if isinstance(v, (Use, GetField)):
        return (v.var,)
    if isinstance(v, (Call, Intrinsic)):
        return v.args
    return ()


def term_uses(t):
    """The variables a block terminator reads."""
    if isinstance(t, Branch):
        return (t.cond,)
    if isinstance(t, Return):
        return (t.var,)
    if isinstance(t, Raise):
        return tuple(p.var for p in t.value.parts if isinstance(p, Use))
    return ()

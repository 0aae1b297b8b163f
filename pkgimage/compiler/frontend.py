"""Frontend: a method's Python source to the untyped IR of ``ir.py``.

Source comes from the file the method was defined in (parsed once per file, then indexed by
line, because ``inspect.getsource`` per method would dominate the cold compile of large
generated modules such as DemoPkg), or from source text handed over with
``pk.register_source`` for code created with ``exec``.

Names are resolved here, at compile time, the way Julia resolves module-level bindings:
locals are the parameters and every name assigned in the body; anything else must be a
global (or closure) value that is a generic function, a type (used as a constructor), an
intrinsic, a module, or a numeric constant.  Everything outside the supported subset raises
``CompileError`` with ``file:line:col`` and the construct's name.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import sys
import types as pytypes

from .. import types as T
from ..errors import CompileError
from ..lambdas import DEFAULTS
from . import intrinsics
from .ir import (Assign, Block, Branch, Call, Const, ErrorMsg, GetField, Goto, Intrinsic,
                 IRFunction, KwValueCallee, MethodRef, CALL_VALUE, Raise, Return, Use, expr_uses,
                 library_callable, term_uses)

# Filled by pkgimage.base at import (kept as a table so this module does not import base).
BASE: dict = {}
# Special callables recognised by identity: pk.error, pk.typeof, constructor lookup.
SPECIAL: dict = {}

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
           ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
           ast.BitAnd: "and_", ast.BitOr: "or_", ast.BitXor: "xor"}
_INPLACE = {"add": "iadd", "sub": "isub", "mul": "imul", "truediv": "itruediv",
            "floordiv": "ifloordiv", "mod": "imod", "pow": "ipow", "matmul": "imatmul",
            "and_": "iand", "or_": "ior", "xor": "ixor"}
_CMPOPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
           ast.GtE: "ge"}
_BUILTIN_FUNCS = {len: "len", abs: "abs", min: "min", max: "max", int: "int_",
                  float: "float_", bool: "truth", sum: "sum_", sorted: "sorted_", str: "str_",
                  repr: "repr_", ord: "ord_", chr: "chr_"}

# ``x.name(args)`` on a value: for the base library's method names (``base.METHOD_NAMES``:
# the list, dict and str methods, filled in by ``register_in_frontend``) a call of the base
# function of that name with ``x`` first (``v.append(1.0)`` is ``append(v, 1.0)``, Julia's
# ``push!(v, 1.0)``); for any other name, the method ``x``'s struct class defines
# (``ir.MethodRef``, resolved by inference).  The ones that store into a list or dict say
# how (``list_note``).
METHOD_NAMES: set = set()
METHOD_STORES = {"append": "elem", "insert": "elem", "extend": "each", "setdefault": "kv",
                 "update": "dict"}

# Modules whose globals compiled code reads without binding edges: nobody rebinds
# ``math.sqrt`` or ``np.zeros``, and a check per call of each would cost for nothing.
_UNWATCHED = frozenset({"pkgimage", "numpy", "math", "cmath", "builtins", "random", "sys", "bisect",
                        "operator", "functools", "itertools", "typing"})

# ``math`` module functions -> base function names (filled by ``pkgimage.base.mathlib``).
MATH_FUNCS: dict = {}

_SOURCES: dict = {}     # filename -> {first line: FunctionDef}


def register_source(filename, text):
    """Make source text created with ``exec`` available to the compiler (and to tracebacks)."""
    lines = text.splitlines(keepends=True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    _SOURCES.pop(filename, None)


def _index_file(filename):
    idx = _SOURCES.get(filename)
    if idx is not None:
        return idx
    lines = linecache.getlines(filename)
    if not lines:
        idx = {}
    else:
        try:
            tree = ast.parse("".join(lines), filename)
        except SyntaxError:
            tree = None
        idx = {}
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.Lambda):
                    idx.setdefault(("lambdas", node.lineno), []).append(node)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                    idx.setdefault(first, node)
                    idx.setdefault(node.lineno, node)
            idx["rebound"] = _rebound_by_compiled_code(tree)
            idx["tree"] = tree
    for k, v in idx.items():
        if isinstance(k, tuple):
            v.sort(key=lambda n: n.col_offset)      # (a line's lambdas, left to right)
    _SOURCES[filename] = idx
    return idx


def _rebound_by_compiled_code(tree):
    """Names that a decorated function (a method: ``@pk.generic``, ``@f.method``), or a
    function of a decorated class (a struct's), declares ``global``: compiled code may
    rebind them in the middle of a native call, so compiled code reads them from the module
    each time (``Lowerer.name_load``), never as constants -- a reader called natively right
    after the rebinding would still see the old value (a binding edge is only checked when
    Python calls into the module)."""
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                node.decorator_list:
            for st in ast.walk(node):
                if isinstance(st, ast.Global):
                    out.update(st.names)
    return out


def rebound_globals(filename):
    return _index_file(filename).get("rebound", set())


def find_def(method):
    """The ``ast.FunctionDef`` of a method, or raise CompileError saying why it is missing."""
    fn = method.pyfunc
    if fn.__code__.co_name == "<lambda>":
        fdef = _lambda_def(method)
    else:
        fdef = function_def(fn, f"method {method.sigstr()}")
    free = fn.__code__.co_freevars if hasattr(fn, "__pk_captures__") else ()
    given = getattr(fn, "__pk_given__", None)
    if given is not None:
        return _with_defaults(fdef, free, given, fn.__code__.co_qualname)
    return _with_captures(fdef, free) if free else fdef


def _with_captures(fdef, free):
    """A closure's definition with the variables it captures as its first parameters."""
    import copy
    new = copy.copy(fdef)
    a = fdef.args
    new.args = ast.arguments(posonlyargs=[], args=[ast.arg(v) for v in free] + list(a.args),
                             vararg=a.vararg, kwonlyargs=a.kwonlyargs,
                             kw_defaults=a.kw_defaults, kwarg=a.kwarg, defaults=a.defaults)
    return new


def _with_defaults(fdef, free, given, qualname):
    """The method of a lambda (or nested ``def``) with default values that is called with
    its first ``given`` parameters (``lambdas.py``): the captured variables, the tuple of
    the default values and those parameters are its parameters; the others are bound from
    the end of the tuple when it runs (``Lowerer.bind_defaults``), as Python fills them."""
    import copy
    new = copy.copy(fdef)
    a = fdef.args
    params = [p.arg for p in a.args]
    new.args = ast.arguments(posonlyargs=[], args=[ast.arg(v) for v in free] +
                             [ast.arg(DEFAULTS)] + list(a.args[:given]), vararg=None,
                             kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    new.pk_defaulted = (tuple(params[given:]), qualname)
    return new


def function_def(fn, what):
    """The ``ast.FunctionDef`` of the Python function ``fn`` (``what`` names it in the
    error raised when its source is not available)."""
    code = fn.__code__
    node = _index_file(code.co_filename).get(code.co_firstlineno)
    if node is None:
        raise CompileError(f"the source of {what} is not available (code "
                           f"created with exec needs pk.register_source(filename, text))",
                           code.co_filename, code.co_firstlineno, 0, "source")
    return node


class _Scope:
    """Compile-time lookup of a method's non-local names (static parameters, globals,
    closure cells, builtins).  A static parameter (a TypeVar of the method's signature)
    is a compile-time constant of the MethodInstance being lowered, as in Julia."""

    def __init__(self, fn, sparams=None):
        self.globals = fn.__globals__
        self.sparams = sparams or {}
        self.cells = {}
        self.bound = {}          # (module, global name) -> the value lowering used
        self.modname = fn.__globals__.get("__name__")
        self.reads = []          # (namespace, name, value) of every binding read (ir.py)
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    self.cells[name] = (cell, cell.cell_contents)
                except ValueError:
                    pass

    def note(self, module, name, value):
        """A global read at lowering: a binding edge unless the module is one whose names
        programs do not rebind (pkgimage's own, the standard numeric ones)."""
        if isinstance(module, str) and module.split(".")[0] not in _UNWATCHED:
            self.bound[(module, name)] = value
            if module == self.modname:
                from .instances import MODULE_GLOBALS
                MODULE_GLOBALS[module] = self.globals

    def is_global(self, name):
        """Is ``name`` the module's global here (not a static parameter, not a cell)?"""
        return name not in self.sparams and name not in self.cells and \
            isinstance(self.modname, str)

    def lookup(self, name):
        if name in self.sparams:
            return True, self.sparams[name]
        if name in self.cells:
            cell, val = self.cells[name]
            self.reads.append((cell, None, val))
            return True, val
        if name in self.globals:
            val = self.globals[name]
            self.note(self.modname, name, val)
            self.reads.append((self.globals, name, val))
            return True, val
        if hasattr(builtins, name):
            val = getattr(builtins, name)
            self.reads.append((builtins.__dict__, name, val))
            return True, val
        return False, None


# -- lambdas ----------------------------------------------------------------------------------
#
# ``lambda p: p[1]`` in a method body is a generic function of its own (a value whose type
# names it, as every function's), with one method on ``Any`` arguments whose body is the
# lambda's expression.  The method's Python function is made from the lambda's own code object
# (nested in the enclosing function's), so images restore it like any function; its source is
# the lambda found again by line and column (kept in the function's name).

def lambda_function(outer, node, filename, fdef, closure_of=None):
    """The generic function of the lambda ``node`` in method ``outer`` (``lambdas.py``);
    ``closure_of[0]`` is set to the variables it captures (its first parameters)."""
    closure_of = closure_of if closure_of is not None else [()]
    from .. import dispatch as D
    from ..lambdas import define_lambdas, lambda_codes, qualname_of
    if isinstance(node, ast.FunctionDef):
        rank = -1                                   # a nested ``def``
    else:
        same_line = sorted((n for n in ast.walk(fdef) if isinstance(n, ast.Lambda) and
                            n.lineno == node.lineno), key=lambda n: n.col_offset)
        rank = [n.col_offset for n in same_line].index(node.col_offset)
    src = D.source_function(outer)
    # A lambda is named by its rank on its line in the code of the method it is in
    # (``lambdas.py``); ``outer`` may be a lambda's (or nested def's) own method, whose
    # code holds only the lambdas inside it: its rank then counts the lambdas of its line
    # in the file (``lambda x: (lambda: x + n)`` -- the inner one is the second).
    nested = "<locals>" in src.__code__.co_qualname
    for line, r, code in lambda_codes(src.__code__):
        if line == node.lineno and r == rank and (rank >= 0 or code.co_name == node.name):
            closure_of[0] = code.co_freevars
            if nested and r >= 0:
                cols = [n.col_offset for n in _index_file(filename).get(("lambdas", line), ())]
                r = cols.index(node.col_offset) if node.col_offset in cols else r
            key = (outer.module, qualname_of(code, line, r))
            if not nested and (key not in D.FUNCTIONS or not D.FUNCTIONS[key].methods):
                define_lambdas(src, outer.module)
            f = D.FUNCTIONS.get(key)
            if f is not None and f.methods:
                return f
    raise LambdaNotFound("the lambda's code was not found in its function's (the source "
                         "changed?)", filename, node.lineno, node.col_offset + 1, "Lambda")


class LambdaNotFound(CompileError):
    """A lambda (or nested ``def``) of the source has no code in its function's: CPython
    dropped a branch it proved unreachable (``if 2.0: return ...`` and what follows), or
    the file changed since the function was made."""


def _lambda_def(method):
    """A ``FunctionDef`` equivalent to the lambda a lambda function's method was made from
    (found by its line and rank, ``lambdas.py``; ``find_def`` adds the captures)."""
    node = _original_node(method)
    if node is None:
        line = method.function.qualname.rsplit("@", 1)[1].split("#")[0]
        raise CompileError("the source of a lambda is not available",
                           method.pyfunc.__code__.co_filename, int(line), 0, "source")
    fdef = ast.FunctionDef(name="<lambda>", args=node.args, body=[ast.Return(node.body)],
                           decorator_list=[], returns=None, type_comment=None, type_params=[])
    return ast.fix_missing_locations(ast.copy_location(fdef, node))


def _free_reads(fn):
    """{name in the source: name in ``fn``'s text} of the variables the lambda (or nested
    ``def``) ``fn`` reads from the scopes around it.  ``fn`` may be a renamed copy
    (``_Renamer``: ``i#lc3.9`` for a comprehension's ``i``), so this says which variable
    of the function being lowered each of the closure's captures is; the scopes inside
    ``fn`` (its parameters and locals, nested lambdas', comprehensions') are left out."""
    out = {}

    def visit(n, bound):
        if isinstance(n, ast.Name):
            if n.id not in bound:
                out.setdefault(n.id.split("#")[0], n.id)
            return
        if isinstance(n, _FUNCTION_NODES):
            a = n.args
            for d in a.defaults + [d for d in a.kw_defaults if d is not None] + \
                    list(getattr(n, "decorator_list", ())):
                visit(d, bound)
            inner = bound | _scope_locals(n)[0]
            for part in (n.body if isinstance(n.body, list) else [n.body]):
                visit(part, inner)
            return
        if isinstance(n, _COMPREHENSIONS):
            gens = n.generators
            visit(gens[0].iter, bound)
            inner = bound | {x.id for g in gens for x in ast.walk(g.target)
                             if isinstance(x, ast.Name)}
            rest = [x for g in gens for x in g.ifs] + [g.iter for g in gens[1:]] + \
                [x for x in (getattr(n, "elt", None), getattr(n, "key", None),
                             getattr(n, "value", None)) if x is not None]
            for part in rest:
                visit(part, inner)
            return
        for c in ast.iter_child_nodes(n):
            visit(c, bound)

    visit(fn, set())
    return out


def _missing_message(qualname, names):
    """Python's message for a call that passed no value for the parameters ``names``."""
    quoted = [repr(n) for n in names]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = f"{quoted[0]} and {quoted[1]}"
    else:
        listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    s = "" if len(names) == 1 else "s"
    return f"{qualname}() missing {len(names)} required positional argument{s}: {listed}"


def _assigned_names(fdef):
    names = set()
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.FunctionDef) and node is not fdef:
            names.add(node.name)
    return names


# -- variables shared with closures (Julia's ``Core.Box``) -----------------------------------
#
# A closure captures a variable by value when that is what Python would read (assigned once,
# before the closure is made); any other captured variable -- assigned after, in a loop
# around the closure, by the closure (``nonlocal``), or a nested ``def`` calling itself -- is
# held in a cell that the function and its closures share, as Python's own closures do.

_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _scope_nodes(fn):
    """The nodes of ``fn``'s own scope: not inside a nested function's body."""
    out, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        n = stack.pop()
        out.append(n)
        if not isinstance(n, _FUNCTION_NODES):
            stack.extend(ast.iter_child_nodes(n))
    return out


def _scope_locals(fn):
    """(locals of ``fn``, its ``nonlocal`` names, the functions nested in it, the names its
    comprehensions bind)."""
    a = fn.args
    params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs} | \
        {x.arg for x in (a.vararg, a.kwarg) if x is not None}
    stored, nonlocal_, declared, nested, comp = set(), set(), set(), [], set()
    for n in _scope_nodes(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            stored.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stored.add(n.name)
            nested.append(n)
        elif isinstance(n, ast.Lambda):
            nested.append(n)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            stored.add(n.name)
        elif isinstance(n, ast.Nonlocal):
            nonlocal_.update(n.names)
        elif isinstance(n, ast.Global):
            declared.update(n.names)
        elif isinstance(n, ast.comprehension):
            comp.update(x.id for x in ast.walk(n.target) if isinstance(x, ast.Name))
    return (params | stored) - nonlocal_ - declared, nonlocal_, nested, comp


def _capture_problem(fdef, name, node):
    """Why capturing ``name`` by value when the closure ``node`` is made could differ from
    Python reading it when the closure runs, or None: a store of it after the closure
    (by position in the source), or one inside a loop around the closure (the next
    iteration rebinds it while the closure lives)."""
    stores, around = [], []
    # (a comprehension's target binds the comprehension's own variable, not this one)
    comp_targets = {id(x) for n in ast.walk(fdef) if isinstance(n, ast.comprehension)
                    for x in ast.walk(n.target)}
    for n in ast.walk(fdef):
        if isinstance(n, (ast.For, ast.While, ast.comprehension, ast.ListComp,
                          ast.SetComp, ast.DictComp, ast.GeneratorExp)) and \
                any(x is node for x in ast.walk(n)):
            around.append(n)
        if id(n) in comp_targets:
            continue
        if (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)) or \
                (isinstance(n, (ast.FunctionDef, ast.ExceptHandler)) and
                 getattr(n, "name", None) == name and n is not fdef):
            stores.append(n)
    if any((st.lineno, st.col_offset) >= (node.lineno, node.col_offset) for st in stores):
        return "is assigned after the closure is made"
    for lp in around:
        if any(any(x is st for x in ast.walk(lp)) for st in stores):
            return "is assigned in a loop around the closure"
    return None


def _boxed_names(fn):
    """The locals of ``fn`` that live in cells: captured by a function nested in it (at any
    depth) where capturing the value would not be Python's answer."""
    mine, _, nested, comp = _scope_locals(fn)
    out = set()
    todo = list(nested)
    parents = None
    while todo:
        inner = todo.pop()
        inner_locals, inner_nonlocal, deeper, _ = _scope_locals(inner)
        todo.extend(deeper)
        used = {n.id for n in ast.walk(inner) if isinstance(n, ast.Name)} - inner_locals
        used &= mine
        if used & comp:
            # (a name ``fn``'s comprehensions bind too: what the closure reads is the
            # comprehension's variable when it is made in one binding the name -- a cell of
            # that comprehension's (``Lowerer.comprehension``) -- else ``fn``'s own)
            if parents is None:
                parents = {c: p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
            used -= _comprehension_cells(inner, parents)
        for name in used:
            if name in inner_nonlocal or _capture_problem(fn, name, inner) is not None:
                out.add(name)
    return out


def _shared_cells(fn, parents):
    """The names that are cells in ``fn``'s scope: its own boxed locals and the cells it
    captured from the functions around it."""
    out = _boxed_names(fn)
    outer = parents.get(fn)
    while outer is not None and not isinstance(outer, _FUNCTION_NODES):
        outer = parents.get(outer)
    if outer is not None:
        mine = _scope_locals(fn)[0]
        used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} - mine
        out |= used & _shared_cells(outer, parents)
    return out


def _captured_boxes(method, source):
    """The captured variables of a closure's method that are cells of the function that made
    it (its capture parameters then hold the cells)."""
    fn = source
    if not hasattr(fn, "__pk_captures__"):
        return set()
    free = set(fn.__code__.co_freevars)
    node = _original_node(method)
    if node is None:
        return set()
    parents = _parents(fn.__code__.co_filename)
    outer = parents.get(node)
    while outer is not None and not isinstance(outer, _FUNCTION_NODES):
        outer = parents.get(outer)
    if outer is None:
        return set()
    return free & (_shared_cells(outer, parents) | _comprehension_cells(node, parents))


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _comprehension_cells(node, parents):
    """The names the closure ``node`` reads that are variables of a comprehension around
    it -- the nearest scope binding the name, walking out through the comprehensions and
    lambdas it is in, is a comprehension: that variable lives in a cell
    (``Lowerer.comprehension``)."""
    out, decided = set(), set()
    child, p = node, parents.get(node)
    while p is not None:
        if isinstance(p, _COMPREHENSIONS):
            first = p.generators[0].iter                # (evaluated outside it)
            if not any(x is node for x in ast.walk(first)):
                names = {x.id for g in p.generators for x in ast.walk(g.target)
                         if isinstance(x, ast.Name)}
                out |= names - decided
                decided |= names
        elif isinstance(p, ast.Lambda):
            decided |= _scope_locals(p)[0]
        elif isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
            break
        child, p = p, parents.get(p)
    return out


def _original_node(method):
    """The source node (a lambda or a nested ``def``) a closure's method was made from."""
    fn = method.pyfunc
    code = fn.__code__
    if code.co_name == "<lambda>":
        line, rank = method.function.qualname.rsplit("@", 1)[1].split("#")
        nodes = _index_file(code.co_filename).get(("lambdas", int(line)), [])
        return nodes[int(rank)] if int(rank) < len(nodes) else None
    return _index_file(code.co_filename).get(code.co_firstlineno)


# builtins that walk an iterable argument once (``Lowerer.consumed_iterators``)
_CONSUMERS = (sorted, list, set, tuple, dict, min, max, sum, any, all, enumerate, zip)


def _parents(filename):
    """Each node of the file's tree -> the node it is in (made once per file, when a
    closure's method is first lowered)."""
    idx = _index_file(filename)
    parents = idx.get("parents")
    if parents is None:
        parents = idx["parents"] = {}
        tree = idx.get("tree")
        if tree is not None:
            for p in ast.walk(tree):
                for c in ast.iter_child_nodes(p):
                    parents[c] = p
    return parents


class Lowerer:
    def __init__(self, method, fdef, sparams=(), nargs=None, source=None, init_struct=None):
        self.method = method
        self.fdef = fdef
        source = source or method.pyfunc          # the Python function the body is from
        self.filename = source.__code__.co_filename
        env = {}
        for v, val in zip(method.sparam_vars, sparams):
            if val is not None:
                env[v.name] = val
        self.scope = _Scope(source, env)
        # an inner constructor (a struct's ``__init__``, ``initlower.py``): (struct, name of
        # its self parameter); every return goes to the block that builds the struct
        self.init_struct = init_struct
        self.init_exit = None
        self.declared_return = None       # (set by ``lower``: the ``-> T`` annotation)
        # (keyword-only parameters follow the positional ones: ``dispatch.signature_of``)
        self.args = tuple(a.arg for a in fdef.args.args + fdef.args.kwonlyargs)
        self.vararg = fdef.args.vararg.arg if fdef.args.vararg is not None else None
        self.nvararg = (nargs - len(self.args)) if self.vararg and nargs is not None else 0
        self.locals = set(self.args) | _assigned_names(fdef)
        # (a lambda's method called without some of its parameters: they are bound from its
        # default values first, ``bind_defaults``)
        self.defaulted = getattr(fdef, "pk_defaulted", None)
        if self.defaulted is not None:
            self.locals |= set(self.defaulted[0])
        # ``global layout``: names read and rebound in the module's dict (``s_Global``)
        self.global_names = {n for st in ast.walk(fdef) if isinstance(st, ast.Global)
                             for n in st.names}
        self.locals -= self.global_names
        self.list_sites = _list_sites(fdef)      # local name -> allocation sites it holds
        # Variables shared with closures through a cell (Julia's ``Core.Box``): this
        # function's own (``boxed``: made at entry, in ``name#box``) and the cells it
        # captured from the function that made it (``shared``: the capture parameter holds
        # the cell).  ``box_of``: variable -> the IR variable holding its cell.
        self.boxed = _boxed_names(fdef) - self.global_names
        self.shared = _captured_boxes(method, source)
        self.box_of = {n: f"{n}#box" for n in self.boxed}
        self.box_of.update({n: n for n in self.shared})
        if self.vararg:
            self.locals.add(self.vararg)
        self.blocks = [Block(0)]
        self.cur = self.blocks[0]
        self.ntmp = 0
        self.loops = []        # (continue target, break target, finally depth)
        # variables renamed apart while lowering a comprehension (its loop variables, True)
        # or an inlined lambda (its parameters, False): innermost last.  A closure made
        # there captures the renamed variable, not the enclosing one of the same name.
        self.renamed = []
        # a comprehension's (renamed) variable a closure made in it reads -> the IR
        # variable holding its cell, while that comprehension is lowered (``comprehension``)
        self.comp_cells = {}
        # exceptions (``s_Try``): the handler block of the innermost ``try`` being lowered
        # (-1: none), the ``finally`` bodies around the statement being lowered (each with
        # the handler outside it), the exceptions of the ``except`` clauses being lowered
        self.handler = -1
        self.finally_stack = []
        self.active_exc = []
        self.break_to = None   # the next loop's break target, when it has an ``else``

    # -- plumbing ----------------------------------------------------------------------------

    def error(self, node, msg, construct=None):
        raise CompileError(msg, self.filename, getattr(node, "lineno", self.fdef.lineno),
                           getattr(node, "col_offset", 0) + 1, construct)

    def unsupported(self, node, what=None):
        what = what or type(node).__name__
        self.error(node, f"unsupported construct in compiled code: {what} "
                         f"(in method {self.method.sigstr()})", what)

    def tmp(self):
        self.ntmp += 1
        return f"%{self.ntmp}"

    def new_block(self):
        b = Block(len(self.blocks), handler=self.handler)
        self.blocks.append(b)
        return b

    def emit(self, value, node, dst=None):
        if dst in self.box_of:
            # a variable shared with a closure: its cell is assigned (``box_set``)
            v = self.emit(value, node)
            self.emit(Intrinsic("box_set", (self.box_of[dst], v), (dst, "local")), node)
            return v
        dst = dst or self.tmp()
        if self.cur.term is None:
            self.cur.stmts.append(Assign(dst, value, (getattr(node, "lineno", 0),
                                                      getattr(node, "col_offset", 0) + 1)))
        if dst in self.comp_cells:
            # a comprehension's variable a closure reads: the comprehension reads the local
            # (of its own type), its closures the cell, assigned with it
            self.emit(Intrinsic("box_set", (self.comp_cells[dst], dst), (dst, "free")), node)
        return dst

    def terminate(self, term):
        if self.cur.term is None:
            self.cur.term = term

    def goto(self, block):
        self.terminate(Goto(block.id))
        self.cur = block

    def base(self, name, node):
        f = BASE.get(name)
        if f is None:
            self.error(node, f"base function {name} is not available", name)
        return self.in_context(f)

    def in_context(self, callee):
        """Context dispatch: inside a context method every call is a context call (it goes
        to the view of the callee for this method's context); a context function called
        from global code uses the context of the module that bound it."""
        ctx = self.method.context
        if isinstance(ctx, frozenset):
            return SPECIAL["context_callee"](callee, ctx)
        if SPECIAL.get("is_context_function", lambda c: False)(callee):
            return callee.view()
        return callee

    def call_base(self, name, args, node):
        return self.emit(Call(self.base(name, node), tuple(args)), node)

    # -- entry -------------------------------------------------------------------------------

    def lower(self):
        if isinstance(self.fdef, ast.AsyncFunctionDef):
            # Called as Python, an ``async def`` returns a coroutine; compiled, it ran the
            # body and returned its value (found by tests/test_fuzz_frontend.py).
            self.unsupported(self.fdef, "async def")
        a = self.fdef.args
        if a.kwarg or a.posonlyargs:
            self.unsupported(self.fdef, "**kwargs or positional-only parameters")
        # (default values are the shorter methods ``defaults.py`` adds; the body is the same)
        irargs = self.args
        if self.vararg:
            # ``*xs``: the instance's extra arguments, packed into the tuple ``xs``.
            extra = tuple(f"{self.vararg}#{i}" for i in range(self.nvararg))
            irargs = self.args + extra
            self.emit(Intrinsic("tuple", extra), self.fdef, dst=self.vararg)
        for name in sorted(self.boxed):
            box = self.box_of.pop(name)
            self.emit(Intrinsic("box_new", (), (name, "local")), self.fdef, dst=box)
            if name in self.args:
                self.emit(Intrinsic("box_set", (box, name), (name, "local")), self.fdef)
            self.box_of[name] = box
        if self.defaulted is not None:
            self.bind_defaults(*self.defaulted)
        self.declared_return = self.return_annotation()
        body = self.fdef.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]        # docstring
        self.stmts(body)
        if self.init_struct is not None:
            self.finish_init()
        if self.cur.term is None:
            none = self.emit(Const(None), self.fdef)
            self.terminate(Return(none))
        for b in self.blocks:       # blocks left open by break/continue bookkeeping
            if b.term is None:
                b.term = Return(self._none_in(b))
        _guard_unassigned(self.blocks, self.locals - set(self.args) - {self.vararg},
                          self._unassigned_message)
        bindings = tuple((m, n, v) for (m, n), v in sorted(self.scope.bound.items(),
                                                          key=lambda kv: kv[0]))
        return IRFunction(self.method.function.name, irargs, self.blocks, self.filename,
                          self.fdef.lineno, bindings, reads=tuple(self.scope.reads))

    def bind_defaults(self, missing, qualname):
        """The parameters ``missing`` a call did not pass, from the end of the tuple of
        default values (``DEFAULTS``), as Python binds them; when there are fewer defaults
        than parameters missing, Python's ``TypeError`` naming those without a value (the
        number of defaults is the tuple type's length, known when this compiles)."""
        node = self.fdef
        d = DEFAULTS
        for have in range(len(missing)):
            # (a test of the tuple's type, which inference decides: the branch not taken,
            # whose indexing would be out of bounds, is never inferred)
            c = self.emit(Intrinsic("isa", (d,), (T.tuple_type(*(T.Any,) * have),)), node)
            err, ok = self.new_block(), self.new_block()
            self.terminate(Branch(c, err.id, ok.id))
            self.cur = err
            self.terminate(Raise(ErrorMsg((_missing_message(
                qualname, missing[:len(missing) - have]),), "TypeError"),
                (node.lineno, node.col_offset + 1)))
            self.cur = ok
        for i, name in enumerate(missing):
            k = self.emit(Const(i - len(missing)), node)
            self.emit(Use(self.call_base("getitem", [d, k], node)), node, dst=name)

    def return_annotation(self):
        """``def f(...) -> float``: the declared return type, when it is a concrete type.
        A value whose type inference cannot tell (a field of an abstract type's value, a
        dynamic call) is checked against it when returned (``typeassert``), so callers --
        and recursive calls -- get the declared type; a value of another known type is
        returned as it is, as Python would (``-> float`` returning an int)."""
        node = self.fdef.returns
        if node is None or self.init_struct is not None:
            return None
        ok, ann = self.resolve_annotation(node)
        if not ok:
            return None
        try:
            t = T.from_annotation(ann)
        except TypeError:
            return None
        return t if isinstance(t, T.PkType) and T.isconcrete(t) else None

    def goto_init_exit(self, node):
        if self.init_exit is None:
            self.init_exit = self.new_block()
        self.terminate(Goto(self.init_exit.id, (node.lineno, node.col_offset + 1)))

    def finish_init(self):
        """The end of an inner constructor: Julia's ``new`` of the fields' locals, each
        converted to its field's type (a number exactly, as the default constructor does)."""
        from .initlower import field_local
        if self.cur.term is None:
            self.goto_init_exit(self.fdef)
        self.cur = self.init_exit
        st, selfname = self.init_struct
        vals = []
        for fname, ft in st.__pk_fields__:
            v = field_local(selfname, fname)
            if ft.__pk_kind__ == "primitive":
                v = self.emit(Call(SPECIAL["constructor"](ft), (v,)), self.fdef)
            vals.append(v)
        built = self.emit(Intrinsic(intrinsics.new_name(st), tuple(vals), (st,)), self.fdef)
        self.terminate(Return(built))

    def _unassigned_message(self, var):
        if self.init_struct is not None and var.startswith(self.init_struct[1] + "."):
            field = var.split(".", 1)[1]
            return ErrorMsg((f"{self.init_struct[0].__pk_name__}.__init__ did not set field "
                             f"{field!r}",), "AttributeError")
        return None

    def _none_in(self, b):
        dst = self.tmp()
        b.stmts.append(Assign(dst, Const(None), (0, 0)))
        return dst

    # -- statements --------------------------------------------------------------------------

    def stmts(self, body):
        for s in body:
            if self.cur.term is not None:
                # Code after return/break/continue: unreachable; give it its own block so that
                # it is still checked for unsupported constructs.
                self.cur = self.new_block()
            self.stmt(s)

    def stmt(self, s):
        m = getattr(self, "s_" + type(s).__name__, None)
        if m is None:
            self.unsupported(s)
        m(s)

    def s_Global(self, s):
        """(``global x``: its names are collected before lowering: ``global_names``)"""

    def s_Nonlocal(self, s):
        """``nonlocal x``: ``x`` is the enclosing function's, shared through its cell."""
        for name in s.names:
            if name not in self.shared:
                self.unsupported(s, f"nonlocal {name} (not a variable of the enclosing "
                                    f"compiled function)")

    def s_Pass(self, s):
        pass

    def s_Expr(self, s):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return
        self.expr(s.value)

    def s_Return(self, s):
        if self.init_struct is not None:
            self.run_finally(0)
            self.goto_init_exit(s)
            return
        v = self.expr(s.value) if s.value is not None else self.emit(Const(None), s)
        if self.declared_return is not None:
            v = self.emit(Intrinsic("typeassert", (v,), (self.declared_return,)), s)
        if self.finally_stack:
            v = self.emit(Use(v), s)      # (the value as it was before ``finally`` runs)
            self.run_finally(0)
        self.terminate(Return(v, (s.lineno, s.col_offset + 1)))

    # -- exceptions ----------------------------------------------------------------------------
    #
    # A block inside ``try`` names its handler (``Block.handler``); codegen sends every error
    # raised there to it instead of the function's exit.  The handler takes the exception
    # (``exc_fetch``), tests the ``except`` clauses in order (``exc_match``, Python's
    # ``isinstance``) and raises it again when none matches.  ``finally`` bodies are lowered
    # once per way out, as CPython compiles them: on the normal path, on the exceptional path
    # (then the exception is raised again), and before each ``return``/``break``/``continue``
    # that leaves them.

    def s_Try(self, s):
        if getattr(s, "finalbody", None):
            self.try_finally(s)
        else:
            self.try_except(s, s.body, s.handlers, s.orelse)

    s_TryStar = None        # (``except*``: unsupported, reported by ``stmt``)

    def try_except(self, s, body, handlers, orelse):
        outer = self.handler
        after = self.new_block()
        hblk = self.new_block()
        self.handler = hblk.id
        self.goto(self.new_block())
        self.stmts(body)
        self.handler = outer
        if self.cur.term is None:
            self.goto(self.new_block())          # ``else``: outside the ``try``
            self.stmts(orelse)
            self.terminate(Goto(after.id))
        self.cur = hblk
        exc = self.emit(Intrinsic("exc_fetch", ()), s)
        self.active_exc.append(exc)
        for h in handlers:
            if h.type is None:
                self.except_body(h, exc, after)
                break
            m = self.emit(Intrinsic("exc_match", (exc, self.expr(h.type))), h)
            yes, no = self.new_block(), self.new_block()
            self.terminate(Branch(m, yes.id, no.id, (h.lineno, h.col_offset + 1)))
            self.cur = yes
            self.except_body(h, exc, after)
            self.cur = no
        else:
            self.terminate(Raise(ErrorMsg((Use(exc),), obj=True), (s.lineno, s.col_offset + 1)))
        self.active_exc.pop()
        self.cur = after

    def except_body(self, h, exc, after):
        if h.name and h.name in self.global_names:
            # (Python binds the module's name, then deletes it as the handler ends)
            self.unsupported(h, "'except ... as' a name declared global")
        if h.name:
            self.emit(Use(exc), h, dst=h.name)
        self.stmts(h.body)
        self.terminate(Goto(after.id))

    def try_finally(self, s):
        outer = self.handler
        after = self.new_block()
        fexc = self.new_block()                  # the exceptional way out
        self.handler = fexc.id
        self.goto(self.new_block())
        self.finally_stack.append((s.finalbody, outer))
        if s.handlers:
            self.try_except(s, s.body, s.handlers, s.orelse)
        else:
            self.stmts(s.body)
        self.finally_stack.pop()
        self.handler = outer
        if self.cur.term is None:
            self.goto(self.new_block())
            self.stmts(s.finalbody)
            self.terminate(Goto(after.id))
        self.cur = fexc
        exc = self.emit(Intrinsic("exc_fetch", ()), s)
        self.stmts(s.finalbody)
        self.terminate(Raise(ErrorMsg((Use(exc),), obj=True), (s.lineno, s.col_offset + 1)))
        self.cur = after

    def run_finally(self, depth):
        """Lower the ``finally`` bodies entered since ``finally_stack`` had ``depth`` entries,
        innermost first, each outside its own ``try`` (before a ``return``, ``break`` or
        ``continue`` leaves them)."""
        saved, handler = self.finally_stack, self.handler
        for k in range(len(saved) - 1, depth - 1, -1):
            body, outside = saved[k]
            self.finally_stack = saved[:k]
            self.handler = outside
            self.goto(self.new_block())
            self.stmts(body)
        self.finally_stack, self.handler = saved, handler

    def s_Assert(self, s):
        """``assert test, msg``: Python's ``AssertionError`` (made by Python) when the test
        fails; the message is evaluated only then."""
        c = self.cond(s.test)
        ok, bad = self.new_block(), self.new_block()
        loc = (s.lineno, s.col_offset + 1)
        self.terminate(Branch(c, ok.id, bad.id, loc))
        self.cur = bad
        args = (self.expr(s.msg),) if s.msg is not None else ()
        e = self.emit(Call(CALL_VALUE, (self.const_value(AssertionError, s), *args)), s)
        self.terminate(Raise(ErrorMsg((Use(e),), obj=True), loc))
        self.cur = ok
        t = s.test
        if isinstance(t, ast.Call) and isinstance(t.func, ast.Name) and len(t.args) == 2 and \
                not t.keywords and isinstance(t.args[0], ast.Name) and \
                t.args[0].id in self.locals and t.args[0].id not in self.box_of and \
                self.resolve_static(t.func) == (True, isinstance):
            okc, cls = self.resolve_static(t.args[1])
            if okc and T.is_pktype(cls) and cls.__pk_kind__ in ("struct", "mutable",
                                                                 "abstract"):
                # ``assert isinstance(d, DeviceTaskRec)``: ``d`` is one from here on
                x = t.args[0].id
                self.emit(Intrinsic("typeassert", (x,), (cls,)), s, dst=x)

    def s_Raise(self, s):
        loc = (s.lineno, s.col_offset + 1)
        if s.exc is None:
            if not self.active_exc:
                self.terminate(Raise(ErrorMsg(("No active exception to reraise",),
                                              "RuntimeError"), loc))
                return
            self.terminate(Raise(ErrorMsg((Use(self.active_exc[-1]),), obj=True), loc))
            return
        parts = [Use(self.expr(s.exc))]
        if s.cause is not None:
            parts.append(Use(self.expr(s.cause)))
        self.terminate(Raise(ErrorMsg(tuple(parts), obj=True), loc))

    def s_Assign(self, s):
        both = _self_slices(s)
        if both is not None and \
                s.value.value.id not in self.global_names and \
                s.value.value.id not in self.shared:
            self.assign_within(s, *both)
            return
        el = self.field_list_type(s.targets[0]) if len(s.targets) == 1 else None
        if el is not None and _list_display(s.value):
            # ``self.tab = [None] * n`` with ``tab: list[Optional[Task]]``: the list's element
            # type is the field's, as ``v: list[float] = []`` takes its annotation's
            v = self.typed_list(s.value, el)
            self.assign_to(s.targets[0], v, s)
            return
        v = self.expr(s.value)
        for t in s.targets:
            self.assign_to(t, v, s)

    def assign_within(self, s, target, source):
        """``v[a:b] = v[c:d:e]`` (``perm[:k+1] = perm[k::-1]``): on a list, elements moved
        within it (``list_setslice_within``: no list made for the right side when the two
        ranges have one length); on anything else, the slice read then assigned, as
        written.  The parts are pure index expressions (``_self_slices``), so reading the
        right side's after the left side's is not observable."""
        obj = self.expr(s.value.value)

        def parts(sl):
            return [None if _absent(p) else self.call_base("to_index", [self.expr(p)], sl)
                    for p in (sl.lower, sl.upper, sl.step)]
        src, dst = parts(source), parts(target)
        c = self.emit(Intrinsic("isa", (obj,), (T.List,)), s)
        onlist, other, join = self.new_block(), self.new_block(), self.new_block()
        self.terminate(Branch(c, onlist.id, other.id, (s.lineno, s.col_offset + 1)))
        self.cur = onlist
        none = [self.emit(Const(None), s) if p is None else p for p in dst + src]
        self.emit(Intrinsic("list_setslice_within", (obj, *none)), s)
        self.terminate(Goto(join.id))
        self.cur = other
        view = self.emit(Intrinsic("arr_view", (obj, *(p for p in src if p is not None)),
                                   (("s",) + tuple(p is not None for p in src),)), source)
        self.note_store(s.value.value, view, "each", s)
        self.call_base("setslice", [obj, *(self.emit(Const(None), s) if p is None else p
                                           for p in dst), view], s)
        self.terminate(Goto(join.id))
        self.cur = join

    def field_list_type(self, target):
        """The element type of the list field ``target`` (``p.f`` with ``p`` a parameter
        declared as a mutable struct, never reassigned, whose field ``f`` is a concrete
        ``List[T]``), or None."""
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and
                target.value.id in self.args) or target.value.id in _assigned_names(self.fdef):
            return None
        ps = T.sig_params(T.as_sigtype(self.method.sig))[1]
        i = self.args.index(target.value.id)
        if i >= len(ps) or not isinstance(ps[i], T.PkType) or ps[i].__pk_kind__ != "mutable":
            return None
        ft = dict(ps[i].__pk_fields__).get(target.attr)
        return ft.__pk_eltype__ if ft is not None and T.is_list(ft) and T.isconcrete(ft) \
            else None

    def typed_list(self, node, el):
        """A list display (or ``[x] * n``) whose element type is ``el``."""
        if isinstance(node, ast.List):
            elts = tuple(self.expr(e) for e in node.elts)
            return self.emit(Intrinsic("list_new", elts, ("typed", el)), node)
        if isinstance(node.left, ast.List):
            return self.call_base("mul", [self.typed_list(node.left, el),
                                          self.expr(node.right)], node)
        return self.call_base("mul", [self.expr(node.left), self.typed_list(node.right, el)],
                              node)

    def s_AnnAssign(self, s):
        if s.value is None:
            return
        ok, ann = self.resolve_annotation(s.annotation)
        if ok and isinstance(s.value, ast.List):
            try:
                lt = T.from_annotation(ann)
            except TypeError:
                lt = None
            if T.is_list(lt) and T.isconcrete(lt):
                # ``v: list[float] = []``: the element type is the annotation's
                elts = tuple(self.expr(e) for e in s.value.elts)
                v = self.emit(Intrinsic("list_new", elts, ("typed", lt.__pk_eltype__)),
                              s.value)
                self.assign_to(s.target, v, s)
                return
        v = self.expr(s.value)
        if ok and isinstance(ann, T.PkType) and ann.__pk_kind__ == "primitive":
            v = self.emit(Call(SPECIAL["constructor"](ann), (v,)), s)
        self.assign_to(s.target, v, s)

    def s_AugAssign(self, s):
        op = _BINOPS.get(type(s.op))
        if op is None:
            self.unsupported(s, f"augmented operator {type(s.op).__name__}")
        # ``x += y`` is ``x = operator.iadd(x, y)``: a list or an array changes in place
        # (``base/inplace.py``), other values get the binary operator
        op = _INPLACE[op]
        t = s.target
        if isinstance(t, ast.Name):
            cur = self.name_load(t)
            rhs = self.expr(s.value)
            if op == "iadd":
                self.note_store(t, rhs, "each", s)        # (``P += [x]`` on a site's list)
            elif op in ("ior", "iand", "ixor"):
                self.note_store(t, rhs, "sset", s)        # (``s |= t`` on a site's set)
            v = self.call_base(op, [cur, rhs], s)
            self.assign_to(t, v, s)
        elif isinstance(t, ast.Subscript):
            obj = self.expr(t.value)
            idx = self.index_list(t)
            cur = self.call_base("getitem", [obj, *idx], s)
            v = self.call_base(op, [cur, self.expr(s.value)], s)
            self.note_store(t.value, v, "elem", s, key=idx[0] if len(idx) == 1 else None)
            self.call_base("setitem", [obj, *idx, v], s)
        elif isinstance(t, ast.Attribute):
            obj = self.expr(t.value)
            cur = self.emit(GetField(obj, t.attr), t)
            v = self.call_base(op, [cur, self.expr(s.value)], s)
            self.emit(Intrinsic("setfield", (obj, v), (t.attr,)), s)
        else:
            self.unsupported(s, "augmented assignment to " + type(t).__name__)

    def assign_to(self, t, v, s):
        if isinstance(t, ast.Name) and t.id in self.global_names:
            # ``global layout; layout = 50``: the module's binding, as Python rebinds it (the
            # code that read the old value as a constant is invalidated by the rebinding)
            self.emit(Intrinsic("global_set", (v,), (self.scope.modname, t.id)), s)
        elif isinstance(t, ast.Name):
            self.emit(Use(v), s, dst=t.id)
        elif isinstance(t, ast.Subscript):
            obj = self.expr(t.value)
            elts = self._subscripts(t)
            if len(elts) == 1 and isinstance(elts[0], ast.Slice):
                # ``a[:k] = a[k-1::-1]``, ``w[1:-1] = 0.0``: ``setslice`` (``base/slices.py``:
                # Python's assignment to a list slice, NumPy's to a basic slice), an absent
                # part ``None``
                e = elts[0]
                parts = [self.emit(Const(None), e) if _absent(p) else
                         self.call_base("to_index", [self.expr(p)], e)
                         for p in (e.lower, e.upper, e.step)]
                self.note_store(t.value, v, "each", s)
                self.call_base("setslice", [obj, *parts, v], s)
                return
            if any(isinstance(e, ast.Slice) for e in elts):
                # ``v[0, :] = u[0, :]``, ``w[1:-1] = 0.0``: copy into the view (NumPy's
                # assignment to a basic slice).
                view = self.slice_view(obj, elts, t)
                self.call_base("setview", [view, v], s)
                return
            idx = [self.expr(e) for e in elts]
            self.note_store(t.value, v, "elem", s, key=idx[0] if len(idx) == 1 else None)
            self.call_base("setitem", [obj, *idx, v], s)
        elif isinstance(t, (ast.Tuple, ast.List)):
            # ``a, b = b, a``: the value is evaluated once, checked for its length (a tuple's
            # is known when compiling), then each target gets its element.
            if any(isinstance(e, ast.Starred) for e in t.elts):
                self.unsupported(t, "starred assignment target")
            src = self.emit(Use(v), s)
            self.emit(Intrinsic("unpack_check", (src,), (len(t.elts),)), t)
            for i, e in enumerate(t.elts):
                k = self.emit(Const(i), e)
                self.assign_to(e, self.call_base("getitem", [src, k], e), s)
        elif isinstance(t, ast.Attribute):
            # ``node.left = x``: a mutable struct's field (``fieldintr.py``)
            self.emit(Intrinsic("setfield", (self.expr(t.value), v), (t.attr,)), s)
        else:
            self.unsupported(t, "assignment to " + type(t).__name__)

    def cond(self, node):
        v = self.expr(node)
        return self.call_base("truth", [v], node)

    def none_test(self, test):
        """``x is None`` / ``x is not None`` on a local ``x``: (x, True when the test is
        ``is None``), else None."""
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Is, ast.IsNot)) and \
                isinstance(test.left, ast.Name) and test.left.id in self.locals and \
                test.left.id not in self.box_of and \
                isinstance(test.comparators[0], ast.Constant) and \
                test.comparators[0].value is None:
            return test.left.id, isinstance(test.ops[0], ast.Is)
        return None

    def narrow_not_none(self, name, node):
        """Where ``x is not None`` holds, ``x`` has its type without ``None`` (a
        ``Union[Nothing, Packet]`` is a ``Packet`` there: its fields are read in place, its
        calls are direct)."""
        self.emit(Intrinsic("notnothing", (name,)), node, dst=name)

    def s_If(self, s):
        c = self.cond(s.test)
        nt = self.none_test(s.test)
        then, orelse, join = self.new_block(), self.new_block(), self.new_block()
        self.terminate(Branch(c, then.id, orelse.id, (s.lineno, s.col_offset + 1)))
        self.cur = then
        if nt is not None and not nt[1]:
            self.narrow_not_none(nt[0], s.test)
        self.stmts(s.body)
        self.terminate(Goto(join.id))
        self.cur = orelse
        if nt is not None and nt[1]:
            self.narrow_not_none(nt[0], s.test)
        self.stmts(s.orelse)
        self.terminate(Goto(join.id))
        self.cur = join
        if nt is not None and nt[1] and not s.orelse and s.body and \
                isinstance(s.body[-1], (ast.Raise, ast.Return, ast.Continue, ast.Break)):
            # ``if t is None: raise ...``: only the ``else`` way reaches what follows
            self.narrow_not_none(nt[0], s.test)

    def s_While(self, s):
        head, body, done = self.new_block(), self.new_block(), self.new_block()
        self.goto(head)
        if isinstance(s.test, ast.Constant) and s.test.value and \
                isinstance(s.test.value, (bool, int)):
            # ``while True:``: the loop is left only by ``break`` or ``return`` (so the code
            # after it is reached only that way, and a function whose every exit returns a
            # value does not also return None).
            self.terminate(Goto(body.id))
        else:
            c = self.cond(s.test)
            self.terminate(Branch(c, body.id, done.id, (s.lineno, s.col_offset + 1)))
        after = self.new_block() if s.orelse else done
        self.loops.append((head, after, len(self.finally_stack)))
        self.cur = body
        nt = self.none_test(s.test)
        if nt is not None and not nt[1]:
            self.narrow_not_none(nt[0], s.test)
        self.stmts(s.body)
        self.terminate(Goto(head.id))
        self.loops.pop()
        self.cur = done
        self.loop_else(s, after)

    def loop_else(self, s, after):
        """``for/while ... else``: the ``else`` runs when the loop ends without ``break``
        (``break`` jumps to ``after``, past it)."""
        if s.orelse:
            self.stmts(s.orelse)
            self.goto(after)

    def s_For(self, s):
        if not isinstance(s.target, ast.Name) or s.target.id in self.global_names:
            # ``for i, x in enumerate(v)``, ``for a, (b, c) in pairs``: a fresh variable,
            # unpacked at the top of each iteration (also stored so into a ``global`` name)
            tmp = f"for#{s.lineno}.{s.col_offset}"
            self.locals.add(tmp)
            target = s.target
            new = ast.For(target=ast.copy_location(ast.Name(tmp, ast.Store()), target),
                          iter=s.iter, body=s.body, orelse=s.orelse)
            ast.copy_location(new, s)
            new.pk_body, new.pk_unpack = getattr(s, "pk_body", None), target
            s = new
        it = s.iter
        if isinstance(it, ast.Name) and it.id not in self.locals and \
                it.id not in self.global_names and it.id not in rebound_globals(self.filename):
            okr, rv = self.scope.lookup(it.id)
            if okr and type(rv) is range:
                # ``for i in BUFSIZE_RANGE`` with a module global ``range(4)``: the loop over
                # its bounds (a binding edge: rebinding the global invalidates this code)
                bounds = [rv.start, rv.stop] + ([rv.step] if rv.step != 1 else [])
                it = ast.copy_location(ast.Call(
                    ast.copy_location(ast.Name("range", ast.Load()), it),
                    [ast.copy_location(ast.Constant(b), it) for b in bounds], []), it)
                self.break_to = self.new_block() if s.orelse else None
                after = self.break_to
                self.for_range(s, it)
                if after is not None:
                    self.loop_else(s, after)
                return
        after = self.new_block() if s.orelse else None
        self.break_to = after
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                it.func.id == "range" and it.func.id not in self.locals and \
                self.scope.lookup("range")[1] is range:
            self.for_range(s, it)
        elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                it.func.id in ("enumerate", "zip") and it.func.id not in self.locals and \
                self.scope.lookup(it.func.id)[1] is getattr(builtins, it.func.id):
            self.for_zip(s, it)
        else:
            self.for_vector(s, it)
        if after is not None:
            self.loop_else(s, after)

    def for_range(self, s, it):
        if it.keywords or not 1 <= len(it.args) <= 3:
            self.error(it, "range() takes 1 to 3 positional arguments", "range")
        args = [self.expr(a) for a in it.args]
        if len(args) == 3:
            return self.for_range_step(s, it, *args)
        if len(args) == 1:
            start, stop = self.emit(Const(0), it), args[0]
        else:
            start, stop = args
        # Step 1: ``i < stop`` before each step, so ``i + 1`` never overflows.
        counter = self.tmp()
        self.emit(Use(self.call_base("to_index", [start], it)), it, dst=counter)
        stop = self.call_base("to_index", [stop], it)
        one = self.emit(Const(1), it)
        head, body, done = self.new_block(), self.new_block(), self.new_block()
        self.goto(head)
        c = self.call_base("lt", [counter, stop], it)
        self.terminate(Branch(c, body.id, done.id, (s.lineno, s.col_offset + 1)))
        self.cur = body
        self.emit(Use(counter), s, dst=s.target.id)
        self.emit(Use(self.call_base("add", [counter, one], it)), it, dst=counter)
        self.loop_body(s, head, done)

    def for_range_step(self, s, it, start, stop, step):
        """``range(start, stop, step)``: count the iterations first (an unsigned count, exact
        for every Int64 start, stop and step), so that a step past the end of Int64 cannot
        wrap around into another pass over the values."""
        self.call_base("check_range_step", [step], it)
        counter = self.tmp()
        self.emit(Use(self.call_base("to_index", [start], it)), it, dst=counter)
        stop = self.call_base("to_index", [stop], it)
        step = self.call_base("to_index", [step], it)
        left = self.tmp()
        self.emit(Use(self.call_base("range_length", [counter, stop, step], it)), it, dst=left)
        zero, one = self.emit(Const(0), it), self.emit(Const(1), it)
        head, body, done = self.new_block(), self.new_block(), self.new_block()
        self.goto(head)
        c = self.call_base("ne", [left, zero], it)
        self.terminate(Branch(c, body.id, done.id, (s.lineno, s.col_offset + 1)))
        self.cur = body
        self.emit(Use(counter), s, dst=s.target.id)
        self.emit(Use(self.call_base("add", [counter, step], it)), it, dst=counter)
        self.emit(Use(self.call_base("sub", [left, one], it)), it, dst=left)
        self.loop_body(s, head, done)

    def loop_body(self, s, head, done):
        after, self.break_to = self.break_to, None
        self.loops.append((head, after or done, len(self.finally_stack)))
        self.body_of(s)
        self.terminate(Goto(head.id))
        self.loops.pop()
        self.cur = done

    def for_vector(self, s, it):
        # the sequence iterated, even if rebound: ``iterable`` is a dict's keys, else itself
        vec = self.emit(Use(self.call_base("iterable", [self.expr(it)], it)), it)
        counter = self.tmp()
        self.emit(Const(0), it, dst=counter)
        one = self.emit(Const(1), it)
        head, body, done = self.new_block(), self.new_block(), self.new_block()
        self.goto(head)
        # the length at each step, as Python's list iterator reads it (a list the body
        # appends to is iterated to its new end; an array's length folds to a constant)
        n = self.call_base("len", [vec], it)
        c = self.call_base("lt", [counter, n], it)
        self.terminate(Branch(c, body.id, done.id, (s.lineno, s.col_offset + 1)))
        self.cur = body
        self.emit(Use(self.call_base("getitem", [vec, counter], it)), s, dst=s.target.id)
        self.emit(Use(self.call_base("add", [counter, one], it)), it, dst=counter)
        self.loop_body(s, head, done)

    def for_zip(self, s, it):
        """``for i, x in enumerate(v[, start])`` and ``for a, b in zip(u, w, ...)``: one
        counter over the sequences (each evaluated once), to the end of the shortest."""
        name = it.func.id
        it = self.consumed_iterators(it)        # (``enumerate(zip(u, w))``)
        if it.keywords or (name == "enumerate" and not 1 <= len(it.args) <= 2) or \
                (name == "zip" and not it.args):
            self.unsupported(it, f"{name}() with these arguments")
        seqs = [self.emit(Use(self.call_base("iterable", [self.expr(a)], a)), a)
                for a in it.args[:1 if name == "enumerate" else None]]
        start = self.expr(it.args[1]) if name == "enumerate" and len(it.args) == 2 else \
            self.emit(Const(0), it)
        counter = self.tmp()
        self.emit(Const(0), it, dst=counter)
        one = self.emit(Const(1), it)
        head, done = self.new_block(), self.new_block()
        self.goto(head)
        for q in seqs:
            nxt = self.new_block()
            c = self.call_base("lt", [counter, self.call_base("len", [q], it)], it)
            self.terminate(Branch(c, nxt.id, done.id, (s.lineno, s.col_offset + 1)))
            self.cur = nxt
        items = [self.call_base("getitem", [q, counter], it) for q in seqs]
        if name == "enumerate":
            items.insert(0, self.call_base("add", [start, counter], it))
        target = getattr(s, "pk_unpack", None)
        if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == len(items) and \
                not any(isinstance(e, ast.Starred) for e in target.elts):
            # ``for i, x in enumerate(v)``: each item is assigned to its part of the target,
            # in order, and the tuple it would unpack is never made (of an element that is a
            # union or an object, it was a Python tuple made every iteration)
            s.pk_items = items
        else:
            self.emit(Intrinsic("tuple", tuple(items)), s, dst=s.target.id)
        self.emit(Use(self.call_base("add", [counter, one], it)), it, dst=counter)
        self.loop_body(s, head, done)

    def body_of(self, s):
        """A loop's body: its statements, or what a comprehension generates (``pk_body``),
        after the unpacking of a tuple target (``pk_unpack``; item by item when ``for_zip``
        left the items in ``pk_items``)."""
        target = getattr(s, "pk_unpack", None)
        items = getattr(s, "pk_items", None)
        if items is not None:
            for elt, item in zip(target.elts, items):     # (``for_zip``: no tuple made)
                self.assign_to(elt, item, s)
        elif target is not None:
            self.assign_to(target, s.target.id, s)
        gen = getattr(s, "pk_body", None)
        if gen is not None:
            gen()
        else:
            self.stmts(s.body)

    def s_Break(self, s):
        if not self.loops:
            self.error(s, "'break' outside loop", "break")
        self.run_finally(self.loops[-1][2])
        self.terminate(Goto(self.loops[-1][1].id))

    def s_Continue(self, s):
        if not self.loops:
            self.error(s, "'continue' not properly in loop", "continue")
        self.run_finally(self.loops[-1][2])
        self.terminate(Goto(self.loops[-1][0].id))

    # -- expressions -------------------------------------------------------------------------

    def expr(self, node):
        m = getattr(self, "e_" + type(node).__name__, None)
        if m is None:
            self.unsupported(node)
        return m(node)

    def e_Constant(self, node):
        v = node.value
        if isinstance(v, bool) or v is None or isinstance(v, (float, str, complex)):
            return self.emit(Const(v), node)            # (``1j``: Complex[Float64])
        if isinstance(v, int):
            if not -2**63 <= v < 2**63:
                self.error(node, f"integer literal {v} does not fit in Int64", "Constant")
            return self.emit(Const(v), node)
        self.unsupported(node, f"{type(v).__name__} literal")

    def name_load(self, node):
        if node.id in self.box_of:
            kind = "free" if node.id in self.shared else "local"
            return self.emit(Intrinsic("box_get", (self.box_of[node.id],), (node.id, kind)),
                             node)
        if node.id in self.locals:
            return node.id
        if node.id in self.global_names or node.id in rebound_globals(self.filename) and \
                self.scope.is_global(node.id):
            # a global this function (or another compiled one) rebinds: read from the
            # module's dict each time
            return self.emit(Intrinsic("global_get", (), (self.scope.modname, node.id)), node)
        ok, val = self.scope.lookup(node.id)
        if not ok:
            self.error(node, f"name {node.id!r} is not defined", "Name")
        if _mutable_object(val) and node.id in self.scope.globals and \
                self.scope.globals[node.id] is val and isinstance(self.scope.modname, str):
            # a module global holding a list, dict, set, array or mutable struct: that very
            # object, read and written in place as Python does (rebinding the global
            # invalidates this code through its binding edge, as for any global read)
            return self.emit(Intrinsic("global_ref", (), (self.scope.modname, node.id,
                                                          T.typeof(val))), node)
        return self.const_value(val, node)

    def const_value(self, val, node):
        if isinstance(val, (bool, int, float, str)) or val is None:
            return self.e_Constant(ast.copy_location(ast.Constant(val), node))
        if T.typeof(val).__pk_kind__ == "function":
            return self.emit(Const(val), node)          # a generic function as a value
        import numpy as np
        if isinstance(val, np.generic) and T.typeof(val) is not T.PyObject:
            return self.emit(Const(val), node)
        if type(T.typeof(val)).__name__ == "PkType" and T.typeof(val).__pk_kind__ == "struct":
            return self.emit(Const(val), node)
        if type(val) is tuple and _constant_tuple(T.typeof(val)):
            return self.emit(Const(val), node)
        if type(val) is tuple and len(val) <= 64:
            # ``DEPARTMENTS = ("sales", "research")``: a tuple of other constants (strings),
            # built from them here (a tuple's identity is not observable)
            return self.emit(Intrinsic("tuple", tuple(self.const_value(x, node) for x in val)),
                             node)
        if _exception_class(val):
            if "<locals>" in val.__qualname__:
                self.unsupported(node, f"exception class {val.__qualname__} defined in a "
                                       f"function (compiled code names classes of modules)")
            return self.emit(Const(val), node)
        if T.is_pktype(val):
            self.unsupported(node, f"type {val} used as a value")
        name = (_BUILTIN_FUNCS.get(val) or MATH_FUNCS.get(val)) if _hashable(val) else None
        if name is not None and name in BASE:
            # ``bb = bisect.bisect``, ``key=len``: the base function compiled code calls
            # for it, as a value (so a call of ``bb`` is a direct, typed call)
            return self.emit(Const(BASE[name]), node)
        hint = " (a Python function: define it with @pk.generic, or write the lambda in " \
            "the method)" if isinstance(val, pytypes.FunctionType) else ""
        self.unsupported(node, f"global {getattr(node, 'id', '')!r} of type "
                               f"{type(val).__name__} used as a value{hint}")

    def e_Name(self, node):
        return self.name_load(node)

    def e_BinOp(self, node):
        op = _BINOPS.get(type(node.op))
        if op is None:
            self.unsupported(node, f"operator {type(node.op).__name__}")
        return self.call_base(op, [self.expr(node.left), self.expr(node.right)], node)

    def e_UnaryOp(self, node):
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and \
                type(node.operand.value) in (int, float):
            # ``-1`` is a literal (an index constant inference can see through).
            return self.e_Constant(ast.copy_location(ast.Constant(-node.operand.value), node))
        if isinstance(node.op, ast.USub):
            return self.call_base("neg", [self.expr(node.operand)], node)
        if isinstance(node.op, ast.UAdd):
            return self.expr(node.operand)
        if isinstance(node.op, ast.Not):
            c = self.cond(node.operand)
            return self.emit(Intrinsic("not_bool", (c,)), node)
        self.unsupported(node, f"operator {type(node.op).__name__}")

    def e_Compare(self, node):
        left = self.expr(node.left)
        if len(node.ops) == 1:
            return self._cmp(node.ops[0], left, self.expr(node.comparators[0]), node)
        result = self.tmp()
        done = self.new_block()
        for i, (op, comp) in enumerate(zip(node.ops, node.comparators)):
            right = self.expr(comp)
            c = self._cmp(op, left, right, node)
            self.emit(Use(c), node, dst=result)
            if i < len(node.ops) - 1:
                nxt = self.new_block()
                self.terminate(Branch(c, nxt.id, done.id))
                self.cur = nxt
            left = right
        self.goto(done)
        return result

    def _cmp(self, op, a, b, node):
        if isinstance(op, (ast.Is, ast.IsNot)):
            # ``x is None`` is Julia's ``x === nothing``; ``a is b`` is ``a === b``: the same
            # object for values with identity (mutable structs, lists), equal bits for the
            # others (whose identity Python does not define either)
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                    isinstance(node.comparators[0], ast.Constant) and \
                    node.comparators[0].value is None:
                c = self.emit(Intrinsic("isa", (a,), (T.Nothing,)), node)
            else:
                c = self.emit(Intrinsic("egal", (a, b)), node)
            return c if isinstance(op, ast.Is) else self.emit(Intrinsic("not_bool", (c,)), node)
        if isinstance(op, (ast.In, ast.NotIn)):
            c = self.call_base("contains", [b, a], node)
            return c if isinstance(op, ast.In) else self.emit(Intrinsic("not_bool", (c,)), node)
        name = _CMPOPS.get(type(op))
        if name is None:
            self.unsupported(node, f"comparison {type(op).__name__}")
        return self.call_base(name, [a, b], node)

    def e_BoolOp(self, node):
        result = self.tmp()
        done = self.new_block()
        for i, v in enumerate(node.values):
            val = self.expr(v)
            self.emit(Use(val), node, dst=result)
            if i < len(node.values) - 1:
                c = self.call_base("truth", [val], node)
                nxt = self.new_block()
                if isinstance(node.op, ast.And):
                    self.terminate(Branch(c, nxt.id, done.id))
                else:
                    self.terminate(Branch(c, done.id, nxt.id))
                self.cur = nxt
        self.goto(done)
        return result

    def e_IfExp(self, node):
        result = self.tmp()
        c = self.cond(node.test)
        then, orelse, done = self.new_block(), self.new_block(), self.new_block()
        self.terminate(Branch(c, then.id, orelse.id))
        self.cur = then
        self.emit(Use(self.expr(node.body)), node, dst=result)
        self.terminate(Goto(done.id))
        self.cur = orelse
        self.emit(Use(self.expr(node.orelse)), node, dst=result)
        self.terminate(Goto(done.id))
        self.cur = done
        return result

    def e_Attribute(self, node):
        if self.sys_stream(node):
            return self.emit(Intrinsic("py_sysattr", (), (node.attr,)), node)
        bound = self.bound_method(node)
        if bound is not None:
            return bound
        ok, val = self.resolve_static(node)
        if ok:
            return self.const_value(val, node)
        obj = self.expr(node.value)
        return self.emit(GetField(obj, node.attr), node)

    def sys_stream(self, node):
        """Is ``node`` ``sys.stdout``, ``sys.stderr`` or ``sys.stdin``?  Python programs
        rebind these (``redirect_stdout``, pytest's capture): compiled code reads them when
        it runs, never as constants."""
        if not (isinstance(node, ast.Attribute) and node.attr in _SYS_STREAMS and
                isinstance(node.value, ast.Name) and node.value.id not in self.locals):
            return False
        ok, mod = self.scope.lookup(node.value.id)
        return ok and mod is sys

    def bound_method(self, node):
        """``jn = ''.join``: a string constant's method as a value is the base function of
        that name with the string bound first (a closure, as Python's bound method holds
        its receiver), so ``jn(words)`` is the typed call ``join('', words)``; None for any
        other attribute."""
        if node.attr not in METHOD_NAMES or node.attr not in BASE:
            return None
        recv = node.value
        if isinstance(recv, ast.Constant):
            ok, val = True, recv.value
        elif isinstance(recv, ast.Name) and recv.id not in self.locals:
            ok, val = self.scope.lookup(recv.id)
        else:
            return None
        if not ok or type(val) is not str:
            return None
        return self.emit(Intrinsic("closure", (self.emit(Const(BASE[node.attr]), node),
                                               self.const_value(val, recv))), node)

    def _subscripts(self, sub):
        sl = sub.slice
        return list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]

    def index_list(self, sub):
        """The index values of ``a[i]`` / ``A[i, j]`` (a call gets one argument each, as
        Julia's ``getindex(A, i, j)``)."""
        elts = self._subscripts(sub)
        if any(isinstance(e, ast.Slice) for e in elts):
            self.unsupported(sub, "augmented assignment to a slice")
        return [self.expr(e) for e in elts]

    def e_Subscript(self, node):
        ok, val = self.resolve_static(node)
        if ok:
            return self.const_value(val, node)
        obj = self.expr(node.value)
        elts = self._subscripts(node)
        if any(isinstance(e, ast.Slice) for e in elts):
            return self.slice_view(obj, elts, node)
        return self.call_base("getitem", [obj] + [self.expr(e) for e in elts], node)

    def slice_view(self, obj, elts, node):
        """``A[1:-1, ::2, k]``: a view (NumPy's basic slicing), described per subscript."""
        spec, vals = [], []
        for e in elts:
            if isinstance(e, ast.Slice):
                parts = tuple(None if _absent(p) else p for p in (e.lower, e.upper, e.step))
                spec.append(("s",) + tuple(p is not None for p in parts))
                vals.extend(self.call_base("to_index", [self.expr(p)], e)
                            for p in parts if p is not None)
            else:
                spec.append(("i",))
                vals.append(self.call_base("to_index", [self.expr(e)], e))
        return self.emit(Intrinsic("arr_view", (obj, *vals), tuple(spec)), node)

    def e_List(self, node):
        """``[a, b]``, ``[]``: a new list whose element type is its site's (``listintr``)."""
        if any(isinstance(e, ast.Starred) for e in node.elts):
            self.unsupported(node, "starred expression in a list")
        elts = tuple(self.expr(e) for e in node.elts)
        return self.emit(Intrinsic("list_new", elts, _site(node)), node)

    def call_args(self, f, node):
        """The arguments of a call of generic function ``f``.  An empty list literal where
        every method of ``f`` taking that many arguments declares one concrete ``List[T]``
        (``Acc(0.0, 0, [])`` with a ``list[float]`` field) is a ``List[T]``, as an annotated
        ``v: list[float] = []`` is (and as ``dispatch`` takes an empty list from Python)."""
        out = []
        for i, a in enumerate(node.args):
            if isinstance(a, ast.List) and not a.elts:
                declared = {T.sig_params(T.as_sigtype(m.sig))[1][i] for m in f.methods
                            if len(m.params) == len(node.args) and not m.isva}
                if len(declared) == 1:
                    (lt,) = declared
                    if T.is_list(lt) and T.isconcrete(lt):
                        out.append(self.emit(Intrinsic("list_new", (), ("typed",
                                                                        lt.__pk_eltype__)), a))
                        continue
            out.append(self.expr(a))
            self.note_escape(a, node)
        return tuple(out)

    def note_escape(self, arg, node):
        """A local holding a site's list or dict passed to a call: if nothing in this
        method stores into the site, the callee may store anything (``_widen_escaped``)."""
        if not (isinstance(arg, ast.Name) and arg.id in self.list_sites):
            return
        for site in sorted(self.list_sites[arg.id]):
            where = [(site, "k"), (site, "v")] if site[0] == "dsite" else [site]
            for w in where:
                self.emit(Intrinsic("list_note", (arg.id,), ("escape", w)), node)

    def e_ListComp(self, node):
        return self.comprehension(node, "list_new")

    def comprehension(self, node, make):
        """``[e for x in xs if c ...]``, ``{k: v for ...}``, ``{e for ...}``: a new list
        (dict, set), the loops,
        and an append (a store) per element, the loop variables local to the comprehension
        as in Python 3."""
        site = _site(node)
        lst = self.emit(Intrinsic(make, (), site), node)
        saved = {}
        for g in node.generators:
            if g.is_async:
                self.unsupported(g, "async comprehension")
            for n in ast.walk(g.target):
                if isinstance(n, ast.Name) and n.id not in saved:
                    saved[n.id] = n.id in self.locals
                    self.locals.add(n.id)
        # comprehension variables shadow locals of the same name (renamed apart)
        renames = {name: f"{name}#lc{node.lineno}.{node.col_offset}" for name in saved}
        first_iter = node.generators[0].iter         # evaluated in the enclosing scope
        node = _Renamer(renames).visit(_deepcopy(node))
        node.generators[0].iter = first_iter
        for new in renames.values():
            self.locals.add(new)
        # A variable a closure made in the comprehension reads lives in a cell, new each
        # time the comprehension runs (Python's comprehension is a function called then),
        # which the loop assigns with the variable: the closures read it when they run
        # (``[(lambda y: y + i) for i in range(3)]`` all add 2, as in Python).
        inside = [x for g in node.generators for x in [g.target, *g.ifs]] + \
            [g.iter for g in node.generators[1:]] + \
            [x for x in (getattr(node, "elt", None), getattr(node, "key", None),
                         getattr(node, "value", None)) if x is not None]
        read = {n.id for part in inside for lam in ast.walk(part) if isinstance(lam, ast.Lambda)
                for n in ast.walk(lam.body) if isinstance(n, ast.Name)}
        cells = {}
        for old_name, new in renames.items():
            if new in read:
                cells[new] = self.emit(Intrinsic("box_new", (), (old_name, "free")), node,
                                       dst=f"{new}#box")
        self.comp_cells.update(cells)

        def loop(k):
            if k == len(node.generators):
                if make == "dict_new":
                    key, x = self.expr(node.key), self.expr(node.value)
                    self.emit(Intrinsic("list_note", (key,), ("elem", (site, "k"))), node)
                    self.emit(Intrinsic("list_note", (x,), ("elem", (site, "v"))), node)
                    self.call_base("setitem", [lst, key, x], node)
                    return
                x = self.expr(node.elt)
                self.emit(Intrinsic("list_note", (x,), ("elem", site)), node)
                self.call_base("set_add" if make == "set_new" else "append", [lst, x], node)
                return
            g = node.generators[k]
            fake = ast.For(target=g.target, iter=g.iter, body=[], orelse=[])
            ast.copy_location(fake, g.iter)
            fake.pk_body = lambda: inner(g, k)       # the body is generated, not statements
            self.s_For(fake)

        def inner(g, k):
            for cond in g.ifs:
                c = self.cond(cond)
                yes, no = self.new_block(), self.new_block()
                self.terminate(Branch(c, yes.id, no.id))
                self.cur = no
                self.terminate(Goto(self.loops[-1][0].id))      # next element
                self.cur = yes
            loop(k + 1)

        self.renamed.append((renames, True))
        try:
            loop(0)
        finally:
            self.renamed.pop()
            for new in cells:
                del self.comp_cells[new]
        return lst

    def note_store(self, target, value, how, node, key=None):
        """Before a store into the list or dict a local holds: widen its sites' element
        (key and value) types.  ``how``: "elem" (``value`` is stored), "each" (its
        elements are), "kv" (``key`` and ``value``), "dict" (a dict's keys and values, or
        for a set ``update``'s elements), "selem" (``s.add(value)``) and "sset" (``s |= value``:
        its elements), sets only."""
        if not (isinstance(target, ast.Name) and target.id in self.list_sites):
            return
        for site in sorted(self.list_sites[target.id]):
            if site[0] == "dsite":
                if how == "dict":
                    notes = [(value, "keys", (site, "k")), (value, "values", (site, "v"))]
                elif key is not None:
                    notes = [(key, "elem", (site, "k")), (value, "elem", (site, "v"))]
                else:
                    notes = []
            elif site[0] == "ssite":
                # a set stores what ``add`` adds and what ``update`` walks, nothing else
                h = {"selem": "elem", "dict": "each", "sset": "each"}.get(how)
                notes = [(value, h, site)] if h is not None else []
            else:
                notes = [(value, how, site)] if how in ("elem", "each") else []
            for var, h, where in notes:
                self.emit(Intrinsic("list_note", (var,), (h, where)), node)

    def e_Dict(self, node):
        """``{k: v, ...}``, ``{}``: a new dict whose key and value types are its site's."""
        if any(k is None for k in node.keys):
            self.unsupported(node, "** in a dict literal")
        kvs = []
        for k, v in zip(node.keys, node.values):
            kvs += [self.expr(k), self.expr(v)]
        return self.emit(Intrinsic("dict_new", tuple(kvs), _site(node)), node)

    def e_DictComp(self, node):
        return self.comprehension(node, "dict_new")

    def e_Set(self, node):
        """``{a, b, c}`` (and ``set()``): a new set whose element type is its site's."""
        if any(isinstance(e, ast.Starred) for e in node.elts):
            self.unsupported(node, "* in a set literal")
        elts = tuple(self.expr(e) for e in node.elts)
        return self.emit(Intrinsic("set_new", elts, _site(node)), node)

    def e_SetComp(self, node):
        return self.comprehension(node, "set_new")

    def e_JoinedStr(self, node):
        """An f-string: Python's ``format`` of each value with its literal spec."""
        vals = []
        parts = self._fstring_parts(node, vals)
        return self.emit(Intrinsic("str_format", tuple(vals), parts), node)

    def inline_lambda(self, lam, args, node):
        """``(lambda x: e)(a)`` -- what ``map``/``filter`` with a lambda become: ``e`` with
        ``x`` bound to ``a``, evaluated here (the lambda runs now, so it sees the enclosing
        locals exactly as Python's would)."""
        vals = [self.expr(a) for a in args]
        renames = {p.arg: f"{p.arg}#lam{lam.lineno}.{lam.col_offset}" for p in lam.args.args}
        for (old, new), v in zip(renames.items(), vals):
            self.locals.add(new)
            self.emit(Use(v), node, dst=new)
        body = _Renamer(renames).visit(_deepcopy(lam.body))
        self.renamed.append((renames, False))
        try:
            return self.expr(body)
        finally:
            self.renamed.pop()

    def e_Lambda(self, node):
        """``lambda x: ...``: a function value (``lambda_function``).  It may read globals;
        one reading the enclosing function's locals is a closure (``closure_value``), and
        so is one with default values (they are held as captured values are)."""
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            self.unsupported(node, "lambda with *args or keywords")
        return self.function_value(node)

    def function_value(self, node):
        """The value of a lambda or nested ``def``: its default values, evaluated now and
        in order (as Python does when it makes the function), then the function, with what
        it captures and the tuple of the defaults bound first (``lambdas.py``)."""
        defaults = None
        if node.args.defaults:
            defaults = self.emit(Intrinsic("tuple", tuple(self.expr(e)
                                                          for e in node.args.defaults)), node)
        free = [()]
        try:
            f = lambda_function(self.method, node, self.filename, self.fdef, free)
        except LambdaNotFound as e:
            # (code CPython never runs -- it compiled none of it -- may hold a lambda: the
            # error is raised if it ever runs, as when the source changed under us)
            self.terminate(Raise(ErrorMsg((f"{e.filename}:{e.line}: the lambda's code was "
                                           f"not found in its function's (the source "
                                           f"changed?)",)),
                                 (node.lineno, node.col_offset + 1)))
            self.cur = self.new_block()
            return self.emit(Const(None), node)
        if free[0] or defaults is not None:
            return self.closure_value(f, free[0], node, defaults)
        return self.emit(Const(f), node)

    def s_FunctionDef(self, s):
        """A nested ``def``: a function value bound to its name (a closure when it reads
        the enclosing function's variables or has default values), as a lambda is."""
        a = s.args
        if s.decorator_list or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            self.unsupported(s, "nested def with decorators, *args or keywords")
        v = self.function_value(s)
        self.emit(Use(v), s, dst=s.name)

    def closure_value(self, f, names, node, defaults=None):
        """A lambda (or nested ``def``) reading enclosing locals: the function with the
        captured values bound first (``lambdas.py`` gives it those as its first
        parameters), then ``defaults``, the tuple of its default values, if it has them.
        Captured by value, which is Python's answer only when the variable never changes
        once the closure exists: assigned once, before, outside any loop (or a parameter
        never reassigned); anything else is refused, since Python would read the
        variable's value when the closure runs."""
        loads = []
        text = _free_reads(node)
        for name in names:
            # (the variable the closure's text reads by that name: a comprehension's or an
            # inlined lambda's, renamed apart, or this function's own)
            cur = text.get(name, name)
            renamed = None if cur == name else \
                (cur, any(cur in r.values() for r, loop in self.renamed if loop))
            if cur in self.comp_cells:
                loads.append(("cell", self.comp_cells[cur]))    # a comprehension's cell
                continue
            if name in self.box_of and renamed is None:
                loads.append(("cell", self.box_of[name]))      # the cell itself, shared
                continue
            if renamed is not None:
                why = "is a comprehension's variable, assigned in a loop around the closure" \
                    if renamed[1] else None
                loads.append(renamed[0])
            else:
                why = self.capture_problem(name, node) if name in self.locals else None
                loads.append(name)
            if why:
                self.error(node, f"closure over the local variable {name!r}, which {why}: "
                                 f"Python reads its value when the closure runs, compiled "
                                 f"closures capture it when made (pass it as an argument)",
                           "closure")
        vals = [n[1] if isinstance(n, tuple) else
                self.name_load(ast.copy_location(ast.Name(n, ast.Load()), node))
                for n in loads]
        if defaults is not None:
            vals.append(defaults)
        return self.emit(Intrinsic("closure", (self.emit(Const(f), node), *vals)), node)

    def capture_problem(self, name, node):
        """(``_capture_problem`` in this function)"""
        return _capture_problem(self.fdef, name, node)

    def e_Tuple(self, node):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            self.unsupported(node, "starred expression in a tuple")
        return self.emit(Intrinsic("tuple", tuple(self.expr(e) for e in node.elts)), node)

    def resolve_annotation(self, node):
        """(ok, value) of a local variable's annotation: a name, or a subscripted one
        (``list[Shape]``, ``dict[str, int]``) evaluated in the method's globals."""
        if isinstance(node, ast.Subscript):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            if not names & self.locals:
                try:
                    expr = ast.fix_missing_locations(ast.Expression(node))
                    return True, eval(compile(expr, self.filename, "eval"), self.scope.globals)
                except Exception:
                    return False, None
        try:
            return self.resolve_static(node)
        except CompileError:
            return False, None

    def resolve_static(self, node):
        """Resolve ``Name`` / ``a.b.c`` to a compile-time value when it is not local."""
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return False, None
            ok, val = self.scope.lookup(node.id)
            if not ok:
                self.error(node, f"name {node.id!r} is not defined", "Name")
            return True, val
        if isinstance(node, ast.Attribute):
            if self.sys_stream(node):
                return False, None     # (``sys.stdout``: read when the code runs)
            ok, base = self.resolve_static(node.value)
            if not ok:
                return False, None
            if isinstance(base, (pytypes.ModuleType, intrinsics.Namespace)) or \
                    hasattr(base, "__pk_namespace__"):
                if not hasattr(base, node.attr):
                    self.error(node, f"{getattr(base, '__name__', base)} has no attribute "
                                     f"{node.attr!r}", "Attribute")
                val = getattr(base, node.attr)
                if isinstance(base, pytypes.ModuleType):
                    self.scope.note(base.__name__, node.attr, val)     # ``m0.K`` is a binding too
                    self.scope.reads.append((base.__dict__, node.attr, val))
                return True, val
            if _mutable_object(base) and isinstance(node.value, ast.Name):
                return False, None     # (``P.x``, ``A.shape`` of a global object: a value)
            if isinstance(base, T.PkType):
                if node.attr == "__init__" and base.__pk_kind__ == "mutable":
                    # ``Task.__init__(self, ...)``: the init function of the class whose
                    # ``__init__`` that is (``mutinit.py``)
                    from ..mutinit import init_function, init_owner
                    owner = init_owner(base)
                    if owner is None:
                        self.error(node, f"{base.__pk_name__} has no __init__", "Attribute")
                    return True, init_function(owner)
                self.unsupported(node, "attribute of a type")
            if type(T.typeof(base)).__name__ == "PkType" and \
                    T.typeof(base).__pk_kind__ == "struct":
                # A field of a global struct constant (``K.p``); any other attribute is the
                # error a field access of a local would give, not Python's AttributeError
                # (found by tests/test_fuzz_frontend.py).
                if node.attr not in dict(T.typeof(base).__pk_fields__):
                    self.error(node, f"type {T.typeof(base)} has no field {node.attr!r}",
                               "Attribute")
                return True, getattr(base, node.attr)
            self.unsupported(node, f"attribute {node.attr!r} of a global "
                                   f"{type(base).__name__}")
        if isinstance(node, ast.Subscript):
            ok, base = self.resolve_static(node.value)
            if ok and _mutable_object(base):
                return False, None             # (``G[i]`` of a global list: a value)
            if not ok or not (isinstance(base, T.UnionAll) or base is T.Union or
                              base is T.Tuple or base is T.Vararg or
                              getattr(base, "__pk_type_constructor__", False)):
                return False, None
            sl = node.slice
            elems = sl.elts if isinstance(sl, ast.Tuple) else [sl]
            params = []
            for e in elems:
                okp, p = self.resolve_static(e)
                if not okp:
                    self.error(e, f"type parameter {ast.unparse(e)!r} is not a compile-time "
                                  f"constant", "Subscript")
                params.append(p)
            try:
                return True, base[tuple(params) if isinstance(sl, ast.Tuple) else params[0]]
            except Exception as e:
                self.error(node, f"invalid type {ast.unparse(node)}: {e}", "Subscript")
        return False, None

    def e_Call(self, node):
        if any(isinstance(a, ast.Starred) for a in node.args):
            return self.splat_call(node)
        if isinstance(node.func, ast.Lambda) and not node.keywords and \
                _simple_lambda(node.func) and len(node.func.args.args) == len(node.args):
            return self.inline_lambda(node.func, node.args, node)
        if isinstance(node.func, ast.Attribute):
            okb, base = self.resolve_static(node.func.value)
            if not okb or type(base) in (str, int, float, bool, tuple) or \
                    (_mutable_object(base) and isinstance(node.func.value, ast.Name)):
                return self.method_call(node)        # (``SEP.join(words)``: a constant's)
        ok, callee = self.resolve_static(node.func)
        if not ok:
            # ``f(x)`` with ``f`` a value (a function passed in): the value is called
            return self.call_value(self.expr(node.func), node)
        np_name = _numpy_name(callee)
        if np_name is not None:
            return self.numpy_call(np_name, node)
        np_op = _numpy_operation(callee)
        if np_op is not None and (not node.keywords or _axis_only(node, np_op)):
            # ``np.sum(A)``, ``np.sqrt(A)``, ``np.dot(a, b)``, ``np.linalg.norm(v)``,
            # ``np.sum(A, axis=0)`` (the axis by position, as NumPy takes it too)
            return self.call_base(np_op[1:] if np_op[0] == "@" else f"np_{np_op}",
                                  [self.expr(a) for a in node.args] +
                                  [self.expr(kw.value) for kw in node.keywords], node)
        if callee is print:
            return self.print_call(node)
        if callee is isinstance:
            return self.isinstance_call(node)
        if callee in _CONSUMERS:
            node = self.consumed_iterators(node)
        rewritten = self.higher_order(callee, node)
        if rewritten is not None:
            return rewritten
        if callee in (list, dict, set) and not node.keywords and len(node.args) <= 1:
            # ``list(xs)`` is ``[x for x in xs]`` (a new site), ``list()`` is ``[]``;
            # ``set(xs)`` is ``{x for x in xs}``, ``set()`` an empty set literal (both a
            # site where the call is: ``_list_literal``); ``dict()`` is ``{}``, ``dict(d)``
            # a copy, ``dict(pairs)`` the dict of the pairs
            if callee is dict:
                if not node.args:
                    return self.e_Dict(ast.copy_location(ast.Dict([], []), node))
                return self.call_base("dict_from", [self.expr(node.args[0])], node)
            if not node.args:
                empty = ast.Set([]) if callee is set else ast.List([], ast.Load())
                return self.expr(ast.copy_location(empty, node))
            name = f"{callee.__name__}#{node.lineno}.{node.col_offset}"
            make = ast.SetComp if callee is set else ast.ListComp
            comp = make(ast.Name(name, ast.Load()),
                        [ast.comprehension(ast.Name(name, ast.Store()), node.args[0], [], 0)])
            return self.expr(ast.fix_missing_locations(ast.copy_location(comp, node)))
        if node.keywords:
            return self.keyword_call(callee, node)
        if isinstance(callee, T.PkType) and callee.__pk_kind__ == "array" and \
                T.isconcrete(callee):
            # ``Vector[Float64](n)``, ``Matrix[Int64](n, m)``: zeros, as NumPy makes them.
            el = callee.__pk_eltype__
            args = [self.expr(a) for a in node.args]
            shape = args[0] if len(args) == 1 else self.emit(Intrinsic("tuple", tuple(args)), node)
            return self.emit(Intrinsic("np_new", (shape,), ("zeros", el)), node)
        from ..dispatch import GenericFunction
        callee = self.in_context(callee)
        if isinstance(callee, GenericFunction):
            return self.emit(Call(callee, self.call_args(callee, node)), node)
        if isinstance(callee, intrinsics.IntrinsicFn):
            params = []
            for a in node.args[:callee.nparams]:
                okp, p = self.resolve_static(a)
                if not okp or not isinstance(p, T.PkType):
                    self.error(a, f"intrinsic {callee.name} needs a type here", callee.name)
                params.append(p)
            args = tuple(self.expr(a) for a in node.args[callee.nparams:])
            return self.emit(Intrinsic(callee.name, args, tuple(params)), node)
        if isinstance(callee, T.UnionAll) and \
                T.unwrap_unionall(callee)[1].__pk_kind__ == "struct":
            ctor = SPECIAL["constructor"](callee)
            return self.emit(Call(ctor, tuple(self.expr(a) for a in node.args)), node)
        if isinstance(callee, T.PkType):
            if callee.__pk_kind__ in ("struct", "mutable", "primitive"):
                ctor = SPECIAL["constructor"](callee)
                return self.emit(Call(ctor, self.call_args(ctor, node)), node)
            self.unsupported(node, f"call of type {callee}")
        if callee is SPECIAL.get("error"):
            return self.error_call(node)
        if callee is SPECIAL.get("typeof"):
            if len(node.args) != 1:
                self.error(node, "typeof takes one argument", "typeof")
            return self.emit(Intrinsic("typeof", (self.expr(node.args[0]),)), node)
        if callee is open:
            # ``f = open(path, "w")``: Python's file object, used through Python (``f.write``)
            if node.keywords:
                self.unsupported(node, "keyword arguments of open()")
            return self.emit(Call(CALL_VALUE, (self.emit(Const(open), node.func),
                                               *(self.expr(a) for a in node.args))), node)
        if callee is range:
            # ``r = range(2, n)``: a value (``base/ranges.py``); a ``for`` header's is a counter
            if node.keywords or not 1 <= len(node.args) <= 3:
                self.error(node, "range() takes 1 to 3 positional arguments", "range")
            return self.call_base("range_", [self.expr(a) for a in node.args], node)
        if _exception_class(callee):
            # ``ValueError(msg)``: the exception made by Python (compiled code raises it)
            if node.keywords:
                self.unsupported(node, "keyword arguments in a call of an exception class")
            cls = self.const_value(callee, node.func)
            return self.emit(Call(CALL_VALUE, (cls, *(self.expr(a) for a in node.args))),
                             node)
        name = _BUILTIN_FUNCS.get(callee) if _hashable(callee) else None
        if name is None and _hashable(callee):
            name = MATH_FUNCS.get(callee)
        if name is not None:
            return self.call_base(name, [self.expr(a) for a in node.args], node)
        if library_callable(callee) is not None:
            # A function or class of Python's own C library with no compiled counterpart
            # (``divmod``, ``tuple(v)``, ``reversed(s)``, ``frozenset``, ``math.isclose``, a
            # ``zip`` object kept in a variable): Python calls it on the boxed values, and
            # its result is a value of a type known only when the code runs
            return self.call_value(self.emit(Const(callee), node.func), node)
        hint = ""
        if isinstance(callee, pytypes.FunctionType):
            # (a module's undecorated ``def`` or ``sq = lambda x: ...``: a Python function,
            # which compiled code does not call)
            hint = ": a Python function; define it with @pk.generic, or write the lambda " \
                   "in the method"
        self.unsupported(node, f"call of {getattr(callee, '__name__', type(callee).__name__)}"
                               f" (not a generic function{hint})")

    def call_value(self, fv, node):
        """The call ``node`` of the value held by variable ``fv`` (a function passed in, a
        function of Python's library): by position, or with its keywords named (the last
        arguments, ``KwValueCallee``)."""
        args = [self.expr(a) for a in node.args]
        if not node.keywords:
            return self.emit(Call(CALL_VALUE, (fv, *args)), node)
        if any(kw.arg is None for kw in node.keywords):
            self.unsupported(node, "**keywords in a call of a value")
        kws = [self.expr(kw.value) for kw in node.keywords]
        names = tuple(kw.arg for kw in node.keywords)
        return self.emit(Call(KwValueCallee(names), (fv, *args, *kws)), node)

    def splat_call(self, node):
        """``f(a, *t, b)``: ``splat_call(f, tuple_cat(tuple_cat((a,), t), (b,)))`` (Julia's
        ``Core._apply``; ``base/splat.py``), ``t`` a tuple of known length (inference checks
        it).  ``f`` is a generic function, a struct (its constructor) or a value."""
        from ..dispatch import GenericFunction
        if node.keywords:
            self.unsupported(node, "keyword arguments in a call with *args")
        ok, callee = self.resolve_static(node.func)
        if not ok and isinstance(node.func, ast.Attribute):
            # (``m0.f(*t)``, another module's function, resolves when compiling)
            self.unsupported(node, "*args in a method call")
        if ok:
            callee = self.in_context(callee)
            if isinstance(callee, T.PkType) and callee.__pk_kind__ in ("struct", "mutable"):
                callee = SPECIAL["constructor"](callee)
            name = (_BUILTIN_FUNCS.get(callee) or MATH_FUNCS.get(callee)) \
                if _hashable(callee) else None
            if name is not None and name in BASE:
                callee = BASE[name]          # ``math.hypot(*p)``, ``max(*t)``: base functions
            if not isinstance(callee, GenericFunction):
                self.unsupported(node, "*args in a call of "
                                       f"{getattr(callee, '__name__', type(callee).__name__)}"
                                       f" (not a generic function)")
            fv = self.emit(Const(callee), node.func)
        else:
            fv = self.expr(node.func)
        parts, plain = [], []
        for a in node.args:
            if isinstance(a, ast.Starred):
                if plain:
                    parts.append(self.emit(Intrinsic("tuple", tuple(plain)), node))
                    plain = []
                parts.append(self.expr(a.value))
            else:
                plain.append(self.expr(a))
        if plain:
            parts.append(self.emit(Intrinsic("tuple", tuple(plain)), node))
        tup = parts[0]
        for p in parts[1:]:
            tup = self.emit(Call(BASE["tuple_cat"], (tup, p)), node)
        return self.emit(Call(BASE["splat_call"], (fv, tup)), node)

    def keyword_call(self, callee, node):
        """``f(a, tol=1e-6)`` of a generic function: made positional when compiling
        (``keywords.bind``: the methods' parameter names and defaults), a direct call."""
        from ..dispatch import GenericFunction
        from ..keywords import bind
        callee = self.in_context(callee)
        if not isinstance(callee, GenericFunction) or \
                any(kw.arg is None for kw in node.keywords):
            self.unsupported(node, "keyword arguments")
        args = [self.expr(a) for a in node.args]
        kws = {kw.arg: self.expr(kw.value) for kw in node.keywords}
        try:
            plan = bind(callee, len(args), tuple(kws))
        except TypeError as e:
            self.error(node, str(e), "keyword arguments")
        for kind, x in plan:
            args.append(kws[x] if kind == "kw" else
                        self.const_value(x, node))
        return self.emit(Call(callee, tuple(args), kwbound=True), node)

    def consumed_iterators(self, node):
        """``sorted(zip(a, b))``, ``dict(zip(keys, values))``, ``enumerate(zip(u, w))``,
        ``max(enumerate(v), key=...)``: a ``zip`` or ``enumerate`` object passed straight to
        a function that walks it once is the list of its tuples (a comprehension over it:
        the same items in the same order, as ``map`` and ``filter`` are lists).  Anywhere
        else -- kept in a variable, returned -- it stays a CompileError: an iterator walked
        twice is empty the second time, a list is not."""
        args = []
        for a in node.args:
            if isinstance(a, ast.Call) and isinstance(a.func, ast.Name) and \
                    a.func.id in ("zip", "enumerate") and a.func.id not in self.locals and \
                    self.scope.lookup(a.func.id)[1] is getattr(builtins, a.func.id):
                name = f"it#{a.lineno}.{a.col_offset}"
                a = ast.fix_missing_locations(ast.copy_location(ast.ListComp(
                    ast.Name(name, ast.Load()),
                    [ast.comprehension(ast.Name(name, ast.Store()), a, [], 0)]), a))
            args.append(a)
        new = ast.copy_location(ast.Call(node.func, args, node.keywords), node)
        return new

    def higher_order(self, callee, node):
        """``map``/``filter`` (as list comprehensions: lists, not iterators),
        ``functools.reduce`` (a loop), ``sorted``/``min``/``max`` with ``key=`` and
        ``reverse=`` (Python's own, calling the key function), ``any``/``all``; None for other
        callees."""
        import functools
        args = node.args

        def comp(elt, gens):
            return self.e_ListComp(ast.fix_missing_locations(ast.copy_location(
                ast.ListComp(elt, gens), node)))

        def name(k, ctx=ast.Load):
            return ast.Name(f"hof#{node.lineno}.{node.col_offset}.{k}", ctx())
        if callee is map and len(args) >= 2 and not node.keywords:
            xs = [name(i) for i in range(len(args) - 1)]
            target = ast.Tuple([name(i, ast.Store) for i in range(len(xs))], ast.Store()) \
                if len(xs) > 1 else name(0, ast.Store)
            it = args[1] if len(xs) == 1 else ast.Call(ast.Name("zip", ast.Load()),
                                                       list(args[1:]), [])
            return comp(ast.Call(args[0], xs, []), [ast.comprehension(target, it, [], 0)])
        if callee is filter and len(args) == 2 and not node.keywords:
            test = name(0) if isinstance(args[0], ast.Constant) and args[0].value is None \
                else ast.Call(args[0], [name(0)], [])
            return comp(name(0), [ast.comprehension(name(0, ast.Store), args[1], [test], 0)])
        if callee is functools.reduce and 2 <= len(args) <= 3 and not node.keywords:
            return self.reduce_call(node)
        if callee in (sorted, min, max) and node.keywords and len(args) == 1:
            opts = {kw.arg: kw.value for kw in node.keywords}
            if set(opts) - {"key", "reverse"} or (callee is not sorted and "reverse" in opts):
                self.unsupported(node, f"keyword arguments {sorted(opts)} of "
                                       f"{callee.__name__}()")
            # (``iterable``: a set's elements, a dict's keys, as a list; anything else itself)
            v = self.call_base("iterable", [self.expr(args[0])], node)
            key = self.expr(opts["key"]) if "key" in opts else self.emit(Const(None), node)
            rev = self.expr(opts["reverse"]) if "reverse" in opts else \
                self.emit(Const(False), node)
            extra = [rev] if callee is sorted else []
            if "key" not in opts or \
                    isinstance(opts["key"], ast.Constant) and opts["key"].value is None:
                return self.emit(Intrinsic(f"list_{callee.__name__}_key", (v, key, *extra)),
                                 node)
            # the keys by compiled code (direct calls of the key function), then Python's
            # ordering of their positions (``listintr.list_sorted_by``)
            for k, val in (("v", v), ("key", key)):
                self.locals.add(name(k).id)
                self.emit(Use(val), node, dst=name(k).id)
            keys = comp(ast.Call(name("key"), [name("x")], []),
                        [ast.comprehension(name("x", ast.Store), name("v"), [], 0)])
            return self.emit(Intrinsic(f"list_{callee.__name__}_by", (v, keys, *extra)), node)
        if callee in (any, all) and len(args) == 1 and not node.keywords:
            return self.emit(Intrinsic(f"list_{callee.__name__}",
                                       (self.call_base("iterable", [self.expr(args[0])],
                                                       node),)), node)
        return None

    def reduce_call(self, node):
        """``reduce(f, xs, init)``: ``acc = init; for x in xs: acc = f(acc, x)``; without
        ``init`` the first element starts it (Python's TypeError when there is none)."""
        f, xs = self.expr(node.args[0]), self.call_base("iterable", [self.expr(node.args[1])],
                                                         node)
        acc, k = self.tmp(), self.tmp()
        n = self.call_base("len", [xs], node)
        if len(node.args) == 3:
            self.emit(Use(self.expr(node.args[2])), node, dst=acc)
            self.emit(Const(0), node, dst=k)
        else:
            zero = self.emit(Const(0), node)
            empty = self.call_base("le", [n, zero], node)
            bad, ok = self.new_block(), self.new_block()
            self.terminate(Branch(empty, bad.id, ok.id))
            self.cur = bad
            self.terminate(Raise(ErrorMsg(("reduce() of empty iterable with no initial value",),
                                          "TypeError"), (node.lineno, node.col_offset + 1)))
            self.cur = ok
            self.emit(Use(self.call_base("getitem", [xs, zero], node)), node, dst=acc)
            self.emit(Const(1), node, dst=k)
        one = self.emit(Const(1), node)
        head, body, done = self.new_block(), self.new_block(), self.new_block()
        self.goto(head)
        c = self.call_base("lt", [k, self.call_base("len", [xs], node)], node)
        self.terminate(Branch(c, body.id, done.id))
        self.cur = body
        x = self.call_base("getitem", [xs, k], node)
        self.emit(Use(self.emit(Call(CALL_VALUE, (f, acc, x)), node)), node, dst=acc)
        self.emit(Use(self.call_base("add", [k, one], node)), node, dst=k)
        self.terminate(Goto(head.id))
        self.cur = done
        return self.emit(Use(acc), node)

    def e_GeneratorExp(self, node):
        """``(f(x) for x in xs)``: made a list at once (``sum``, ``min``, ``any`` and the
        other consumers give the same results; a generator that never ends does not)."""
        return self.e_ListComp(ast.copy_location(ast.ListComp(node.elt, node.generators),
                                                 node))

    def isinstance_call(self, node):
        """``isinstance(x, T)``: a type test decided when compiling wherever ``x``'s type is
        known.  ``T`` is a compile-time class or tuple of them: Python's ``int`` (which
        ``True`` is an instance of), ``float``, ``bool``, ``list``, ``tuple``, ``None``'s
        type, or a pkgimage type."""
        if node.keywords or len(node.args) != 2:
            self.unsupported(node, "isinstance() with these arguments")
        spec = node.args[1]
        found = [self.resolve_static(e) for e in
                 (spec.elts if isinstance(spec, ast.Tuple) else [spec])]
        ok = all(f[0] for f in found)
        classes = [f[1] for f in found]
        if ok and len(classes) == 1 and type(classes[0]) is tuple:
            classes = list(classes[0])
        types = []
        for c in classes:
            t = _ISINSTANCE.get(c) if ok and _hashable(c) else None
            if t is None and ok:
                try:
                    t = T.from_annotation(c)
                except TypeError:
                    t = None
            if t is None:
                self.unsupported(node.args[1], "isinstance() of something other than a "
                                               "compile-time class or pkgimage type")
            types.append(t)
        x = self.expr(node.args[0])
        return self.emit(Intrinsic("isa", (x,), (T.make_union(types),)), node)

    def print_call(self, node):
        """``print(a, f"x = {x:.3f}", sep=", ", end="", file=sys.stderr, flush=True)``:
        Python's own ``print`` on the values, through the *current* ``sys.stdout`` (so
        ``redirect_stdout`` and pytest's capture see it), or to the file given (any value:
        an open file, a ``StringIO``).  f-string arguments are formatted
        there too (``format`` with the literal spec), strings being no values here yet."""
        items, vals = [], []
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.unsupported(a, "*args in print()")
            if isinstance(a, ast.JoinedStr):
                items.append(("f", self._fstring_parts(a, vals)))
            elif isinstance(a, ast.Constant) and isinstance(a.value, str):
                items.append(("s", a.value))
            else:
                items.append(("v",))
                vals.append(self.expr(a))
        opts = {"sep": " ", "end": "\n", "file": None, "flush": False}
        for kw in node.keywords:
            if kw.arg in ("sep", "end"):
                if not (isinstance(kw.value, ast.Constant) and
                        isinstance(kw.value.value, (str, type(None)))):
                    self.unsupported(kw.value, f"print({kw.arg}=...) other than a string "
                                               f"literal")
                opts[kw.arg] = kw.value.value if kw.value.value is not None else opts[kw.arg]
            elif kw.arg == "file":
                if self.sys_stream(kw.value):
                    opts["file"] = kw.value.attr           # (the stream when it prints)
                elif not (isinstance(kw.value, ast.Constant) and kw.value.value is None):
                    opts["file"] = "*"                     # (a value: an open file...)
                    file = self.expr(kw.value)
            elif kw.arg == "flush":
                if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                    self.unsupported(kw.value, "print(flush=...) other than True or False")
                opts["flush"] = kw.value.value
            else:
                self.unsupported(kw, f"keyword argument {kw.arg!r} of print()")
        spec = (tuple(items), opts["sep"], opts["end"], opts["file"], opts["flush"])
        if opts["file"] == "*":
            vals.append(file)                              # (the file: the last value)
        return self.emit(Intrinsic("py_print", tuple(vals), spec), node)

    def _fstring_parts(self, node, vals):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(("s", str(v.value)))
                continue
            spec = ""
            if v.format_spec is not None:
                if not all(isinstance(p, ast.Constant) for p in v.format_spec.values):
                    self.unsupported(v.format_spec, "a computed format spec")
                spec = "".join(str(p.value) for p in v.format_spec.values)
            conv = {-1: "", 115: "s", 114: "r", 97: "a"}[v.conversion]
            parts.append(("v", conv, spec))
            vals.append(self.expr(v.value))
        return tuple(parts)

    def method_call(self, node):
        """``x.name(args)`` on a value: the base function ``name`` (``METHOD_NAMES``), or
        the method ``x``'s class body defines (resolved by inference)."""
        name = node.func.attr
        if name == "sort" and node.keywords and not node.args and \
                {kw.arg for kw in node.keywords} <= {"key", "reverse"} and \
                _plain_reference(node.func.value):
            # ``v.sort(key=f, reverse=True)``: ``v[:] = sorted(v, key=f, reverse=True)`` --
            # the keys computed first, Python's stable ordering, the list changed in place
            # (``v`` a name or a field of one, read twice)
            order = ast.copy_location(ast.Call(node.func, [node.func.value], node.keywords),
                                      node)
            new = self.higher_order(sorted, order)
            none = self.emit(Const(None), node)
            self.note_store(node.func.value, new, "each", node)
            self.call_base("setslice", [self.expr(node.func.value), none, none, none, new],
                           node)
            return self.emit(Const(None), node)
        if node.keywords and _axis_only(node, name):
            # ``A.sum(axis=0)``: the axis by position (``A.sum(0)``)
            node = ast.copy_location(ast.Call(node.func, node.args + [node.keywords[0].value],
                                              []), node)
        if node.keywords:
            self.unsupported(node, f"keyword arguments of .{name}()")
        if name == "format" and isinstance(node.func.value, ast.Constant) and \
                isinstance(node.func.value.value, str) and \
                not any(isinstance(a, ast.Starred) for a in node.args):
            fields = _literal_format(node.func.value.value, len(node.args))
            if fields is not None:
                # ``"{:d} {:d}".format(i, j)``: the f-string it spells (every argument is
                # evaluated, in order, as Python does, the unused ones too)
                args = [self.expr(a) for a in node.args]
                parts, order = fields
                return self.emit(Intrinsic("str_format", tuple(args[k] for k in order),
                                           parts), node)
        obj = self.expr(node.func.value)
        args = [self.expr(a) for a in node.args]
        if name not in METHOD_NAMES:
            if name == "add" and len(args) == 1:
                # (``s.add(x)``: a store into a set site; inference resolves the method)
                self.note_store(node.func.value, args[0], "selem", node)
            return self.emit(Call(MethodRef(name), (obj, *args)), node)
        how = METHOD_STORES.get(name)
        if how is not None and args:
            self.note_store(node.func.value, args[-1], how, node,
                            key=args[0] if how == "kv" and len(args) == 2 else None)
        return self.call_base(name, [obj, *args], node)

    def numpy_call(self, name, node):
        """``np.zeros(n)``, ``np.zeros((n, m), dtype=np.int64)``, ``np.zeros_like(A)``,
        ``np.arange(a, b)``, ``np.copy(A)``: arrays NumPy makes and owns."""
        el = None
        for kw in node.keywords:
            if kw.arg != "dtype":
                self.unsupported(kw, f"keyword argument {kw.arg!r} of np.{name}")
            okd, d = self.resolve_static(kw.value)
            el = _dtype_type(d) if okd else None
            if el is None:
                self.error(kw.value, f"np.{name}: dtype must be a compile-time NumPy or "
                                     f"pkgimage primitive type", "dtype")
        args = tuple(self.expr(a) for a in node.args)
        return self.emit(Intrinsic("np_new", args, (name, el)), node)

    def error_call(self, node):
        if len(node.args) != 1:
            self.error(node, "pk.error takes one message argument", "error")
        msg = node.args[0]
        parts = []
        if isinstance(msg, ast.Constant) and isinstance(msg.value, str):
            parts.append(msg.value)
        elif isinstance(msg, ast.JoinedStr):
            for v in msg.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                elif isinstance(v, ast.FormattedValue):
                    if v.format_spec is not None or v.conversion not in (-1, 115):
                        self.unsupported(v, "format spec in error message")
                    parts.append(Use(self.expr(v.value)))
        else:
            parts.append(Use(self.expr(msg)))
        self.terminate(Raise(ErrorMsg(tuple(parts)), (node.lineno, node.col_offset + 1)))
        self.cur = self.new_block()
        return self.emit(Const(None), node)


def _axis_only(node, name):
    """``np.sum(A, axis=k)`` / ``A.sum(axis=k)`` of a reduction that takes an axis: one
    positional argument (the array, or none for the method) and ``axis`` its only keyword."""
    from .npintr import AXIS_REDUCTIONS
    return name in AXIS_REDUCTIONS and [kw.arg for kw in node.keywords] == ["axis"] and \
        len(node.args) <= 1


def _plain_reference(node):
    """A name, or a field of one (``v``, ``self.items``): reading it twice reads the same
    object and runs nothing."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _absent(bound):
    """Is this slice bound absent?  A literal ``None`` is: ``v[None:k]`` is ``v[:k]``."""
    return bound is None or isinstance(bound, ast.Constant) and bound.value is None


def _pure_index(e):
    """Is ``e`` an index expression whose evaluation has no effect and reads only local
    names (``k + 1``, ``-j``, ``3``)?  Slice parts made of these can be evaluated in any order
    (``_self_slices``)."""
    if isinstance(e, ast.Constant):
        return isinstance(e.value, int) or e.value is None
    if isinstance(e, ast.Name):
        return True
    if isinstance(e, ast.UnaryOp):
        return isinstance(e.op, ast.USub) and _pure_index(e.operand)
    return isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub, ast.Mult)) and \
        _pure_index(e.left) and _pure_index(e.right)


def _self_slices(s):
    """The two slices of ``v[a:b] = v[c:d:e]`` -- one local list on both sides, every part
    a pure index expression -- or None."""
    if len(s.targets) != 1:
        return None
    t, v = s.targets[0], s.value
    if not (isinstance(t, ast.Subscript) and isinstance(v, ast.Subscript) and
            isinstance(t.value, ast.Name) and isinstance(v.value, ast.Name) and
            t.value.id == v.value.id and isinstance(t.slice, ast.Slice) and
            isinstance(v.slice, ast.Slice)):
        return None
    parts = (t.slice.lower, t.slice.upper, t.slice.step, v.slice.lower, v.slice.upper,
             v.slice.step)
    return (t.slice, v.slice) if all(p is None or _pure_index(p) for p in parts) else None


def _literal_format(fmt, nargs):
    """A literal ``str.format`` string as f-string parts and the argument each field takes
    (``("{:d} {}", 2)`` -> ``((("v", "", "d"), ("s", " "), ("v", "", "")), (0, 1))``), or
    None where Python's own ``str.format`` must run: named or nested fields, attribute or
    index access, automatic and manual numbering mixed, a field past the arguments (its
    errors are Python's), or a malformed string."""
    import _string
    parts, order, auto, manual = [], [], 0, False
    try:
        fields = list(_string.formatter_parser(fmt))
    except ValueError:
        return None
    for literal, field, spec, conv in fields:
        if literal:
            parts.append(("s", literal))
        if field is None:
            continue
        if field == "":
            if manual:
                return None
            k = auto
            auto += 1
        elif field.isdigit() and field.isascii():
            if auto:
                return None
            k, manual = int(field), True
        else:
            return None
        if k >= nargs or "{" in spec or conv not in (None, "s", "r", "a"):
            return None
        parts.append(("v", conv or "", spec))
        order.append(k)
    return tuple(parts), tuple(order)


def _site(node):
    """A list, dict or set literal's or comprehension's allocation site (``listintr``)."""
    kind = "dsite" if isinstance(node, (ast.Dict, ast.DictComp)) else \
        "ssite" if isinstance(node, (ast.Set, ast.SetComp)) else "site"
    return (kind, node.lineno, node.col_offset)


def _list_literal(v):
    """The list literal an assigned value makes its list from (``[...]``, a comprehension,
    ``[0.0] * n``, ``set()`` or ``set(xs)``: a set site where the call is), or None."""
    if isinstance(v, (ast.List, ast.ListComp, ast.Dict, ast.DictComp, ast.Set, ast.SetComp)):
        return v
    if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "set" and \
            len(v.args) <= 1 and not v.keywords:
        return ast.copy_location(ast.Set([]), v)        # (``frontend.e_Call`` makes it there)
    if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mult):
        return _list_literal(v.left) or _list_literal(v.right)
    return None


def _list_display(v):
    """``[...]`` or ``[...] * n`` / ``n * [...]``."""
    return isinstance(v, ast.List) and not any(isinstance(e, ast.Starred) for e in v.elts) or \
        isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mult) and \
        (_list_display(v.left) and not isinstance(v.left, ast.BinOp) or
         _list_display(v.right) and not isinstance(v.right, ast.BinOp))


def _list_sites(fdef):
    """Local name -> the allocation sites of the lists assigned to it (``v = []``,
    ``v = [0.0] * n``): stores into ``v`` widen those sites' element types."""
    sites, aliases = {}, []
    for node in ast.walk(fdef):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if isinstance(value, ast.Name):
            aliases += [(n, value.id) for n in names]
        lit = _list_literal(value)
        if lit is None:
            continue
        for n in names:
            sites.setdefault(n, set()).add(_site(lit))
    # ``P = Q``: ``P`` holds ``Q``'s lists too, so a store through ``P`` widens their sites
    changed = True
    while changed:
        changed = False
        for dst, src in aliases:
            new = sites.get(src, set()) - sites.get(dst, set())
            if new:
                sites.setdefault(dst, set()).update(new)
                changed = True
    return sites


class _Renamer(ast.NodeTransformer):
    """Renames local names (a comprehension's variables, an inlined lambda's parameters,
    kept apart from the method's) -- not inside a lambda or ``def`` whose own parameters
    shadow them (``(lambda q: q * 3 - (lambda q: q)(2))(5)``: the inner ``q`` is the inner
    lambda's)."""

    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.copy_location(ast.Name(self.names[node.id], node.ctx), node)
        return node

    def _shadowed(self, node, args):
        bound = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        bound |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        if not bound & set(self.names):
            return self.generic_visit(node)
        # (default values and decorators are evaluated where the function is made, outside
        # its parameters' scope: ``lambda x, j=j: x * j`` in a comprehension over ``j``
        # takes the comprehension's ``j`` as its default)
        args.defaults = [self.visit(d) for d in args.defaults]
        args.kw_defaults = [d if d is None else self.visit(d) for d in args.kw_defaults]
        if hasattr(node, "decorator_list"):
            node.decorator_list = [self.visit(d) for d in node.decorator_list]
        saved = self.names
        self.names = {k: v for k, v in saved.items() if k not in bound}
        try:
            if isinstance(node, ast.Lambda):
                node.body = self.visit(node.body)
            else:
                node.body = [self.visit(st) for st in node.body]
                if node.returns is not None:
                    node.returns = self.visit(node.returns)
            return node
        finally:
            self.names = saved

    def visit_Lambda(self, node):
        return self._shadowed(node, node.args)

    def visit_FunctionDef(self, node):
        return self._shadowed(node, node.args)


def _deepcopy(node):
    import copy
    return copy.deepcopy(node)


def _guard_unassigned(blocks, srcvars, message=None):
    """Python raises ``UnboundLocalError`` when a local is read on a path that never assigned
    it; native code would read an uninitialised slot.  Find the reads of source locals that
    are not definitely assigned (a must-analysis over the CFG) and guard them: a read no path
    can reach with a value raises unconditionally, a read some path reaches without a value
    tests a flag variable set by every assignment (``%d:name``).  Code that assigns before
    reading on every path, which is nearly all code, gets no flags and no tests."""
    if not srcvars:
        return
    # (an exception leaves a block in a ``try`` for its handler after any statement: what
    # it surely assigned there is what it had on entry)
    succ = {b.id: IRFunction.successors(None, b) + ((b.handler,) if b.handler >= 0 else ())
            for b in blocks}
    preds = {b.id: [] for b in blocks}
    for b in blocks:
        for s in IRFunction.successors(None, b):
            preds[s].append((b.id, False))
        if b.handler >= 0:
            preds[b.handler].append((b.id, True))
    reach, stack = {0}, [0]
    while stack:
        for s in succ[stack.pop()]:
            if s not in reach:
                reach.add(s)
                stack.append(s)
    order = sorted(reach)
    defs = {b.id: {st.dst for st in b.stmts if st.dst in srcvars} for b in blocks}
    must_in_of, must_out, may_out = {}, {}, {}

    def must_from(p, exc):
        return (must_in_of if exc else must_out).get(p)

    changed = True
    while changed:
        changed = False
        for bid in order:
            ps = [(p, exc) for p, exc in preds[bid] if p in reach]
            if bid == 0:
                must_in, may_in = frozenset(), frozenset()
            else:
                known = [must_from(p, exc) for p, exc in ps if must_from(p, exc) is not None]
                must_in = frozenset.intersection(*known) if known else None
                may_in = frozenset().union(*(may_out.get(p, frozenset()) for p, _ in ps))
            if must_in is None:
                continue
            mo, yo = must_in | defs[bid], may_in | defs[bid]
            if must_out.get(bid) != mo or may_out.get(bid) != yo or \
                    must_in_of.get(bid) != must_in:
                must_in_of[bid] = must_in
                must_out[bid], may_out[bid] = mo, yo
                changed = True
    guards = []                  # (block id, position, var, maybe assigned?, loc)
    for bid in order:
        b = blocks[bid]
        if bid == 0:
            must, may = set(), set()
        else:
            ps = [(p, exc) for p, exc in preds[bid] if p in reach]
            must = set(frozenset.intersection(*(must_from(p, exc) for p, exc in ps)))
            may = set().union(*(may_out[p] for p, _ in ps))
        for k, st in enumerate(b.stmts):
            for u in expr_uses(st.value):
                if u in srcvars and u not in must:
                    guards.append((bid, k, u, u in may, st.loc))
                    must.add(u)
            if st.dst in srcvars:
                must.add(st.dst)
                may.add(st.dst)
        for u in term_uses(b.term):
            if u in srcvars and u not in must:
                guards.append((bid, len(b.stmts), u, u in may, b.term.loc))
                must.add(u)
    if not guards:
        return
    flagged = sorted({g[2] for g in guards if g[3]})
    flag = {v: f"%d:{v}" for v in flagged}
    # Split guarded blocks from the last guard backwards, so earlier positions stay valid.
    for bid, k, var, maybe, loc in sorted(guards, key=lambda g: (g[0], -g[1])):
        b = blocks[bid]
        rest = Block(len(blocks), b.stmts[k:], b.term, b.handler)
        blocks.append(rest)
        b.stmts = b.stmts[:k]
        msg = (message and message(var)) or ErrorMsg(
            (f"cannot access local variable '{var}' where it is not associated with a value",),
            "UnboundLocalError")
        if maybe:
            err = Block(len(blocks), [], Raise(msg, loc), b.handler)
            blocks.append(err)
            b.term = Branch(flag[var], rest.id, err.id, loc)
        else:
            b.term = Raise(msg, loc)
    if flagged:
        for b in blocks:
            out = []
            for st in b.stmts:
                out.append(st)
                if st.dst in flag:
                    out.append(Assign(flag[st.dst], Const(True), st.loc))
            b.stmts = out
        blocks[0].stmts[:0] = [Assign(flag[v], Const(False), (0, 0)) for v in flagged]


# Python classes as ``isinstance`` sees them (``isinstance(True, int)`` holds)
_ISINSTANCE = {int: T.make_union((T.Int64, T.Bool)), float: T.Float64, bool: T.Bool,
               type(None): T.Nothing}

_NUMPY_FUNCS = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                "arange", "copy")


def _constant_tuple(t):
    """A tuple a global constant can be compiled as: its leaves are numbers or structs."""
    return T.isconcrete(t) and all(
        p.__pk_kind__ in ("primitive", "struct") or (p.__pk_kind__ == "tuple" and
                                                      _constant_tuple(p))
        for p in t.__pk_params__)


def _numpy_name(callee):
    """The name of a NumPy array-making function ``callee`` is, or None."""
    import sys
    np = sys.modules.get("numpy")
    if np is None or not _hashable(callee):
        return None
    for name in _NUMPY_FUNCS:
        if getattr(np, name, None) is callee:
            return name
    return None


def _numpy_operation(callee):
    """The name of NumPy's whole-array operation ``callee`` is (``npintr``), or None."""
    import sys
    np = sys.modules.get("numpy")
    if np is None or not _hashable(callee):
        return None
    from .npintr import FUNCTIONS
    for name in FUNCTIONS:
        if getattr(np, name, None) is callee:
            return name
    if callee is np.linalg.norm:
        return "norm"
    from .npbuild import PATHS
    for path, base_name in PATHS.items():
        obj = np
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if obj is callee:
            return base_name[3:] if base_name.startswith("np_") else "@" + base_name
    return None


def _dtype_type(d):
    """The primitive element type a ``dtype=`` argument names (np.float64, float, Int64)."""
    if T.is_type(d) and getattr(d, "__pk_kind__", None) == "primitive":
        return d
    if d in (int, float, bool):
        return T.from_annotation(d)
    try:
        import numpy as np
        return T._DTYPE_TO_PRIM.get(np.dtype(d)) if T._numpy_if_imported() else None
    except TypeError:
        return None


def _simple_lambda(lam):
    a = lam.args
    return not (a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults)


_SYS_STREAMS = ("stdout", "stderr", "stdin")


def _mutable_object(x):
    if type(x) in (list, dict, set) or isinstance(x, pytypes.GeneratorType):
        return True        # (a generator: a Python object used through Python, in place)
    t = T.typeof(x)
    return t.__pk_kind__ in ("array", "mutable") and T.isconcrete(t)


def _exception_class(x):
    return isinstance(x, type) and issubclass(x, BaseException)


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


def _calls_in_context(fn, ctx):
    """A synthesized method copied into a context's view (``iadd``'s fallback calling
    ``add``, say) makes its calls in that context, as a method lowered from source does
    (``Lowerer.in_context``): calling the global function instead would see methods other
    packages added globally -- which context code must not see (a wrong answer)."""
    if not isinstance(ctx, frozenset):
        return fn
    for b in fn.blocks:
        for st in b.stmts:
            if isinstance(st, Assign) and isinstance(st.value, Call):
                st.value = Call(SPECIAL["context_callee"](st.value.func, ctx), st.value.args)
    return fn


def lower(method, sparams=(), nargs=None):
    """IR for a method (for one instance's static parameters and argument count, when the
    method has them); synthesized ones (default constructors) bring their own builder."""
    synth = getattr(method.pyfunc, "__pk_synth_ir__", None)
    if synth is not None:
        return _calls_in_context(synth(method, sparams), method.context)
    init = getattr(method.pyfunc, "__pk_init__", None)
    if init is not None:
        # a struct's ``__init__``: its inner constructor (``initlower.py``)
        from .initlower import constructor_def
        st = method.function.constructs
        fdef, selfname = constructor_def(function_def(init, f"{st.__pk_name__}.__init__"),
                                         [n for n, _ in st.__pk_fields__], st.__pk_name__,
                                         init.__code__.co_filename)
        return Lowerer(method, fdef, sparams, nargs, source=init,
                       init_struct=(st, selfname)).lower()
    fdef = find_def(method)
    try:
        return Lowerer(method, fdef, sparams, nargs).lower()
    except CompileError:
        raise
    except RecursionError:
        raise CompileError("expression nested too deeply", method.file, method.line, 0,
                           "recursion") from None


# The base library and context dispatch name their special callees here when the frontend is
# first needed: they do not import the frontend themselves, so a process that only loads
# package images (and calls their native code) never imports it.
from .. import base as _base, contexts as _contexts  # noqa: E402

_base.register_in_frontend(SPECIAL, BASE, MATH_FUNCS, _BUILTIN_FUNCS)
METHOD_NAMES.update(_base.METHOD_NAMES)
_contexts.register_in_frontend(SPECIAL)

"""Type inference: abstract interpretation of the IR over the type lattice.

For a MethodInstance (method + argument types) this computes, per block, the type of each
variable at entry, iterating to a fixed point over loops; unions are kept small (more than
``MAX_UNION`` members widen to ``Any``).  Each call is resolved through dispatch *at the
current world*:

* all argument types concrete -> the one method that applies (a static call; the callee is
  inferred recursively and gets a backedge), or a call known to throw;
* some argument abstract -> a run-time dispatch; if few methods may apply they are inferred
  on the intersected signature (this is where ``double(::AbstractFloat)`` comes from) only to
  bound the return type.

Recursion terminates: a call to a MethodInstance already being inferred uses its current
return-type guess (starting at the bottom type); the outermost member of the cycle repeats
until its guess is stable, and the members inside are committed only then.

Results go into a :class:`CodeInstance`; the IR itself is never modified.
"""

from __future__ import annotations

from .. import dispatch as D
from .. import structmethods
from .. import types as T
from ..compiler_lock import COMPILER_LOCK
from ..errors import AmbiguityError, CompileError, MethodError
from . import closureintr, frontend, intrinsics, listintr, npintr, setintr
from .instances import (REBINDING_LISTENERS, CodeInstance, Edge, intersecting, method_instance,
                        register_edges)
from .slots import split_slots
from .ir import (Branch, Call, Const, ErrorMsg, GetField, Goto, Intrinsic, KwValueCallee,
                 MethodRef, Raise, Return, Use, ValueCallee)

MAX_UNION = 4
MAX_CYCLE_ITERATIONS = 8
MAX_SITE_ROUNDS = 8
MAX_DYNAMIC_CANDIDATES = 3
# a call on a subclassed mutable struct (a class hierarchy's virtual method: ``t.fn(...)``
# with each subclass overriding ``fn``) is split by the receiver's class among this many
# methods at most
MAX_FAMILY_CANDIDATES = 8


# -- resolutions recorded per statement (codegen reads them) ---------------------------------

class StaticCall:
    """A call of one MethodInstance.  ``closure``: for the call of a closure value (the
    callee's first argument), its type -- the captured values it holds are the method's
    first arguments (``argtypes`` starts with their types).  ``kwplan``: for a call of a
    value with keywords (``KwValueCallee``), where each argument comes from, in order:
    ("arg", index of the call's argument) or ("const", a parameter's default value)."""
    __slots__ = ("mi", "argtypes", "closure", "kwplan")

    def __init__(self, mi, argtypes, closure=None, kwplan=None):
        self.mi, self.argtypes, self.closure, self.kwplan = mi, argtypes, closure, kwplan


class DynamicCall:
    __slots__ = ("function", "argtypes")

    def __init__(self, function, argtypes):
        self.function, self.argtypes = function, argtypes


class SplitCall:
    """A call whose arguments include small unions of types told apart by their Python
    class (Julia's union splitting): one static call per combination of member types
    (``combos``: (argument types, MethodInstance)), chosen at run time by the classes of the
    boxed arguments; any other value goes through dynamic dispatch.  ``rettype`` is the
    call's inferred type, which covers what that fallback may return: codegen keeps the
    result unboxed only when it is the combinations' one concrete type."""
    __slots__ = ("function", "argtypes", "combos", "rettype")

    def __init__(self, function, argtypes, combos, rettype):
        self.function, self.argtypes, self.combos = function, argtypes, combos
        self.rettype = rettype


def static_calls(info):
    """The static calls a statement makes (a split call, one per combination of types): what
    the scans of an instance's callees (native code, images, ownership) walk."""
    if isinstance(info, StaticCall):
        yield info
    elif isinstance(info, SplitCall):
        for combo, mi in info.combos:
            yield StaticCall(mi, combo)


class ThrowingCall:
    __slots__ = ("function", "argtypes", "message", "exc")

    def __init__(self, function, argtypes, message, exc):
        self.function, self.argtypes, self.message, self.exc = function, argtypes, message, exc


class IntrinsicCall:
    __slots__ = ("name", "argtypes", "params", "dynamic")

    def __init__(self, name, argtypes, params, dynamic):
        self.name, self.argtypes, self.params, self.dynamic = name, argtypes, params, dynamic


class FieldRef:
    """A field read: field ``index`` of a value of type ``argtype``; ``index`` -1 when the
    type is known only at run time.  ``member``: for ``argtype`` a union of ``Nothing`` and
    one mutable struct (``Optional[Packet]``), that struct -- its field is read in place
    unless the value is None, which raises the error any other value without the field
    raises."""
    __slots__ = ("argtype", "index", "name", "member")

    def __init__(self, argtype, index, name, member=None):
        self.argtype, self.index, self.name, self.member = argtype, index, name, member


class Plain:
    """Const / Use: the argument types suffice."""
    __slots__ = ("argtypes",)

    def __init__(self, argtypes):
        self.argtypes = argtypes


# -- lattice ----------------------------------------------------------------------------------

def join(a, b):
    if a is None:
        return b
    if b is None or a is b:
        return a
    u = T.make_union((a, b))
    if u.__pk_kind__ == "union" and len(u.__pk_members__) > MAX_UNION:
        return T.Any
    return u


# -- inference state --------------------------------------------------------------------------

_IR_CACHE: dict = {}


def forget_ir():
    """Drop every lowered IR: lowering resolves module globals to the values they have at
    that moment, so after globals were changed and restored (the in-process sandbox) an IR
    may hold values the module no longer has."""
    _IR_CACHE.clear()


def _forget_ir_of(ci):
    m = ci.mi.method
    for key in [k for k in _IR_CACHE if k is m or (type(k) is tuple and k[0] is m)]:
        del _IR_CACHE[key]


REBINDING_LISTENERS.append(_forget_ir_of)


def ir_of(mi):
    """The IR of a MethodInstance's method body.  A method with type variables used in its
    body (static parameters) or with ``*args`` is lowered per instance: its static
    parameters are compile-time constants there, and its varargs a tuple of known length."""
    m = mi.method
    key = m
    if m.sparam_vars or m.isva:
        key = (m, tuple(T._param_key(p) for p in mi.sparams), len(mi.spec_types))
    ir = _IR_CACHE.get(key)
    if ir is None:
        ir = _IR_CACHE[key] = split_slots(frontend.lower(m, mi.sparams, len(mi.spec_types)))
    return ir


class InferenceState:
    """The working state of inferring one MethodInstance (Julia's ``InferenceState``): the
    CodeInstance being filled, where the abstract interpreter is, the reads of variables no
    definition reaches yet, and its place in a recursion cycle."""

    __slots__ = ("mi", "ci", "recursed", "head", "provisional", "misses", "current_block",
                 "sites", "sites_changed", "escaped")

    def __init__(self, mi):
        self.mi = mi
        self.ci = None
        self.recursed = False
        self.head = None          # the outermost frame of a cycle this frame is inside
        self.provisional = []     # CodeInstances of cycle members waiting for this head
        self.misses = {}          # block -> (variable, loc) read before any definition
        self.current_block = 0
        self.sites = {}           # list allocation site -> element type so far (listintr)
        self.sites_changed = False
        self.escaped = set()      # sites passed to a call before anything was stored


class InferenceSession:
    """What one top-level inference shares across its nested frames: the stack of frames,
    the instances being inferred, and those inferred inside a cycle that waits for its
    head.  Made per top-level call (inference runs under the compiler lock, see
    ``compiler_lock.COMPILER_LOCK``), so nothing of it outlives the call."""

    __slots__ = ("stack", "active", "provisional")

    def __init__(self):
        self.stack = []
        self.active = {}          # MethodInstance -> InferenceState
        self.provisional = {}     # MethodInstance -> CodeInstance inferred inside a cycle


_SESSION = None


def typeinf(mi):
    """The CodeInstance for ``mi`` (inferring it, and its static callees, if needed)."""
    global _SESSION
    if mi.cache is not None:
        return mi.cache
    if _SESSION is not None:
        return _typeinf(_SESSION, mi)
    with COMPILER_LOCK:
        if mi.cache is not None:
            return mi.cache
        _SESSION = InferenceSession()
        try:
            return _typeinf(_SESSION, mi)
        finally:
            _SESSION = None


def _typeinf(session, mi):
    if mi.cache is not None:
        return mi.cache
    ci = session.provisional.get(mi)
    if ci is not None:
        return ci
    frame = session.active.get(mi)
    if frame is not None:
        _mark_cycle(session, frame)
        return frame.ci
    return _infer_frame(session, mi)


def _mark_cycle(session, head):
    head.recursed = True
    stack = session.stack
    k = stack.index(head)
    for f in stack[k + 1:]:
        if f.head is None or stack.index(f.head) > k:
            f.head = head


def _infer_frame(session, mi):
    frame = InferenceState(mi)
    session.stack.append(frame)
    session.active[mi] = frame
    try:
        guess = T.Bottom
        it = rounds = 0
        while True:
            for p in frame.provisional:
                session.provisional.pop(p.mi, None)
            frame.provisional = []
            frame.recursed = False
            frame.sites_changed = False
            ci = CodeInstance(mi, ir_of(mi), D.world_counter())
            ci.rettype = guess
            frame.ci = ci
            _run(frame)
            if not frame.sites_changed and _widen_escaped(frame):
                continue
            if frame.sites_changed:
                # A list site's element type grew: infer again with it (a handful of rounds
                # at most; then every site holds Any, which nothing widens).
                rounds += 1
                if rounds > MAX_SITE_ROUNDS:
                    frame.sites = {k: T.Any for k in frame.sites}
                continue
            if not frame.recursed or ci.rettype is guess or it >= MAX_CYCLE_ITERATIONS:
                break
            guess = ci.rettype if it < MAX_CYCLE_ITERATIONS - 1 else T.Any
            it += 1
    finally:
        session.stack.pop()
        del session.active[mi]
    head = frame.head
    if head is not None and head in session.stack:
        # Inside a cycle whose head is still running: wait for it.
        session.provisional[mi] = ci
        head.provisional.append(ci)
        head.provisional.extend(frame.provisional)
        return ci
    for p in frame.provisional:
        session.provisional.pop(p.mi, None)
        if p.mi.cache is None:
            _commit(p)
    _commit(ci)
    return ci


def _commit(ci):
    ci.mi.cache = ci
    for callee in ci.callees:
        callee.add_backedge(ci.mi)
    register_edges(ci)


# -- the abstract interpreter -----------------------------------------------------------------

def _run(sv):
    ci = sv.ci
    ir = ci.ir
    mi = ci.mi
    nblocks = len(ir.blocks)
    state = [None] * nblocks
    state[0] = dict(zip(ir.argnames, mi.spec_types))
    vartypes = dict(state[0])
    work = {0}
    ret = ci.rettype if ci.rettype is not T.Bottom else None
    ci.edges = []
    ci.callees = []
    ci.stmt_info = {}
    ci.stmt_types = {}
    ci.reached = set()
    sv.misses = {}
    seen_edges = set()
    while work:
        bid = min(work)
        work.discard(bid)
        block = ir.blocks[bid]
        ci.reached.add(bid)
        sv.current_block = bid
        sv.misses.pop(bid, None)          # (re)computed from this block's newest state
        env = dict(state[bid])
        # in a ``try``: the handler can be entered after any statement, with any of the
        # types the block's variables had along the way
        henv = dict(env) if block.handler >= 0 else None
        dead = False
        known = {}          # variables of this block holding a test decided by the types
        for i, st in enumerate(block.stmts):
            try:
                t, info = _eval(sv, st, env, seen_edges)
            except CompileError:
                if not _stale(sv):
                    raise
                # This pass already knows a list site grew: the types it works with are
                # out of date (``points = [None] * n; points[i] = P(i)`` stored a P, yet
                # ``points`` was typed List[Nothing] earlier in the pass), so an error
                # here may be no error once inferred again -- which the frame will be.
                t, info = T.Bottom, None
            _note_known(known, st, env)
            ci.stmt_info[(bid, i)] = info
            ci.stmt_types[(bid, i)] = t
            if t is T.Bottom:
                dead = True       # a call that always throws: the rest never runs
                env[st.dst] = t
                break
            env[st.dst] = t
            vartypes[st.dst] = join(vartypes.get(st.dst), t)
            if henv is not None:
                henv[st.dst] = join(henv.get(st.dst), t)
        if henv is not None:
            new = _join_env(state[block.handler], henv)
            if new is not None:
                state[block.handler] = new
                work.add(block.handler)
        if dead:
            continue
        term = block.term
        if isinstance(term, Return):
            rt = _use(sv, term.var, env, term.loc)
            ret = join(ret, rt)
        elif isinstance(term, Raise):
            for p in term.value.parts:
                if isinstance(p, Use):
                    _use(sv, p.var, env, term.loc)
        elif isinstance(term, Branch):
            _use(sv, term.cond, env, term.loc)
        succ = ir.successors(block)
        if isinstance(term, Branch) and term.cond in known:
            succ = [term.then if known[term.cond] else term.orelse]
        for s in succ:
            new = _join_env(state[s], env)
            if new is not None:
                state[s] = new
                work.add(s)
    if sv.misses:
        var, loc = sv.misses[min(sv.misses)]
        raise CompileError(f"local variable {var!r} is used before it is assigned",
                           ci.ir.filename, loc[0], loc[1], "Name")
    ci.vartypes = vartypes
    ci.bindings = ir.bindings
    ci.rettype = ret if ret is not None else T.Bottom
    return ci


def _note_known(known, st, env):
    """``x is None`` (``isa(x, Nothing)``) and ``isinstance(x, C)`` whose answer the type
    of ``x`` decides, and their negations: a branch on one only goes the way it must (the
    other block is never run, so it is not inferred: ``pkt.kind`` behind ``if pkt is not
    None`` in an instance where ``pkt`` is ``None``)."""
    v = st.value
    known.pop(st.dst, None)
    if isinstance(v, Call) and v.func is frontend.BASE.get("truth") and v.args[0] in known:
        known[st.dst] = known[v.args[0]]           # (``truth`` of a Bool is itself)
        return
    if not isinstance(v, Intrinsic):
        return
    if v.name == "isa" and len(v.args) == 1 and len(v.params) == 1:
        xt, want = env.get(v.args[0]), v.params[0]
        if xt is None or xt is T.Bottom or not T.is_type(want):
            return
        if T.issubtype(xt, want):
            known[st.dst] = True
        elif T.typeintersect(xt, want) is T.Bottom:
            known[st.dst] = False
    elif v.name == "not_bool" and v.args[0] in known:
        known[st.dst] = not known[v.args[0]]


def _join_env(old, env):
    """Joined state, or None when nothing changed."""
    if old is None:
        return dict(env)
    changed = False
    new = dict(old)
    for k, t in env.items():
        o = new.get(k)
        j = join(o, t)
        if j is not o:
            new[k] = j
            changed = True
    return new if changed else None


def _use(sv, var, env, loc):
    """The type of ``var`` here.  A variable no definition reaches *yet* is not an error
    while the fixed point is still being sought: a loop's back edge may bring it later
    (``z`` defined at the end of one iteration, used behind a guard in the next).  It is
    Bottom for now (the rest of the block waits), and ``_run`` reports it only if it is
    still missing once the block's final state is known."""
    t = env.get(var)
    if t is None:
        sv.misses.setdefault(sv.current_block, (var, loc))
        return T.Bottom
    return t


def _eval(sv, st, env, seen_edges):
    v = st.value
    if isinstance(v, Const):
        return T.typeof(v.value), Plain(())
    if isinstance(v, Use):
        t = _use(sv, v.var, env, st.loc)
        return t, Plain((t,))
    argtypes = tuple(_use(sv, a, env, st.loc) for a in getattr(v, "args", ()))
    if any(t is T.Bottom for t in argtypes):
        return T.Bottom, Plain(argtypes)
    if isinstance(v, Call):
        return _eval_call(sv, v.func, argtypes, seen_edges, v, st, positional=not v.kwbound)
    if isinstance(v, Intrinsic):
        return _eval_intrinsic(sv, v, argtypes, st)
    if isinstance(v, GetField):
        t = _use(sv, v.var, env, st.loc)
        return (T.Bottom, Plain((t,))) if t is T.Bottom else \
            _eval_getfield(sv, v, t, st, seen_edges)
    raise CompileError(f"internal: unknown IR expression {v!r}", sv.ci.ir.filename, *st.loc)


def _add_edge(ci, seen, edge):
    key = (edge.kind, id(edge.function), edge.argtypes)
    if key not in seen:
        seen.add(key)
        ci.edges.append(edge)


# default values a keyword call of a value may pass as constants (``codegen.gen_const``)
_CONST_KINDS = ("primitive", "nothing", "string")


def _eval_kw_value_call(sv, func, argtypes, seen_edges, st):
    """``f(x, tol=t)`` with ``f`` a value: a generic function's (or closure's) keywords are
    bound to its parameters as a call by name binds them, and the call is the static call
    of the positions that makes, the missing ones given their defaults; anything else --
    a Python callable, a value of unknown type, a binding these methods leave open -- is
    called through Python with the keywords."""
    from ..keywords import bind, lambda_defaults_at
    ft = argtypes[0]
    names = func.names
    npos = len(argtypes) - 1 - len(names)
    kind = ft.__pk_kind__ if isinstance(ft, T.PkType) else None
    if kind in ("function", "closure"):
        fn = ft.__pk_function__
        captures = ft.__pk_captures__ if kind == "closure" else ()
        # (a lambda made with default values holds their tuple after what it captured)
        d = lambda_defaults_at(fn)
        nd = len(captures[d].__pk_params__) if d is not None and d < len(captures) and \
            captures[d].__pk_kind__ == "tuple" else None
        try:
            plan = bind(fn, len(captures) + npos, names, nd)
        except TypeError:
            # (no method takes these keywords: Python's TypeError, raised when the call is
            # run -- by the function's own binding, which sees the methods it has then --
            # not when the code is compiled: code Python never reaches may hold it)
            return T.Any, DynamicCall(func, argtypes)
        order = [("arg", 1 + i) for i in range(npos)]
        types = list(argtypes[1:1 + npos])
        for what, x in plan:
            if what == "kw":
                j = 1 + npos + names.index(x)
                order.append(("arg", j))
                types.append(argtypes[j])
            elif what == "capdefault":
                d, k = x
                order.append(("capdefault", x))
                types.append(captures[d].__pk_params__[k])
            else:
                order.append(("const", x))
                types.append(T.typeof(x))
        if all(c[0] != "const" or T.typeof(c[1]).__pk_kind__ in _CONST_KINDS for c in order):
            rt, info = _eval_call(sv, fn, tuple(captures) + tuple(types), seen_edges, None, st,
                                  False)
            if isinstance(info, StaticCall) and \
                    tuple(info.mi.spec_types[:len(captures)]) == tuple(captures):
                return rt, StaticCall(info.mi, info.argtypes, ft if captures else None,
                                      tuple(order))
            if isinstance(info, ThrowingCall):
                return rt, info
    elif T.isconcrete(ft) and kind != "pyobject":
        raise CompileError(f"a value of type {ft} is not callable", sv.ci.ir.filename,
                           st.loc[0], st.loc[1], "call of a value")
    return T.Any, DynamicCall(func, argtypes)


def _eval_struct_call(sv, func, argtypes, seen_edges, st, positional):
    """``p(x)`` with ``p`` a struct whose class defines ``__call__`` (a method of the base
    function ``call``, Julia's functor): the static call ``call(p, x)`` -- the value is the
    first argument (``kwplan``: every argument of the call, the value included, in order);
    a call these types leave to run-time dispatch is the object called through Python."""
    rt, info = _eval_call(sv, frontend.BASE["call"], argtypes, seen_edges, None, st, positional)
    if isinstance(info, StaticCall):
        return rt, StaticCall(info.mi, info.argtypes, None,
                              tuple(("arg", i) for i in range(len(argtypes))))
    if isinstance(info, ThrowingCall):
        return rt, info
    return T.Any, DynamicCall(func, argtypes)


def _eval_call(sv, func, argtypes, seen_edges, v=None, st=None, positional=False):
    if isinstance(func, KwValueCallee):
        return _eval_kw_value_call(sv, func, argtypes, seen_edges, st)
    if isinstance(func, ValueCallee):
        # ``f(x)`` with ``f`` a value: a generic function's own type names it (a direct
        # call, Julia's specialisation on function arguments); anything else is called
        # through Python
        ft = argtypes[0]
        if isinstance(ft, T.PkType) and ft.__pk_kind__ == "function":
            return _eval_call(sv, ft.__pk_function__, argtypes[1:], seen_edges, None, st,
                              positional)
        if isinstance(ft, T.PkType) and ft.__pk_kind__ == "closure":
            # a closure: the static call of its function with the captured values first
            # (Julia's call of a closure's method); a call these types leave to run-time
            # dispatch is the closure object called through Python
            rt, info = _eval_call(sv, ft.__pk_function__, ft.__pk_captures__ + argtypes[1:],
                                  seen_edges, None, st, positional)
            if isinstance(info, StaticCall) and \
                    info.mi.spec_types[:len(ft.__pk_captures__)] == ft.__pk_captures__:
                return rt, StaticCall(info.mi, info.argtypes, ft)
            if isinstance(info, ThrowingCall):
                return rt, info
            return T.Any, DynamicCall(func, argtypes)
        if isinstance(ft, T.PkType) and ft.__pk_kind__ in ("struct", "mutable") and \
                intersecting(frontend.BASE["call"], argtypes):
            return _eval_struct_call(sv, func, argtypes, seen_edges, st, positional)
        if T.isconcrete(ft) and ft.__pk_kind__ != "pyobject":
            raise CompileError(f"a value of type {ft} is not callable", sv.ci.ir.filename,
                               st.loc[0], st.loc[1], "call of a value")
        return T.Any, DynamicCall(func, argtypes)
    if isinstance(func, MethodRef):
        # ``x.name(...)``: the generic function the class of ``x``'s type binds ``name`` to
        f = structmethods.resolve(argtypes[0], func.name)
        if f is None and T.is_array(argtypes[0]) and func.name in npintr.METHODS:
            f = frontend.BASE[f"np_{func.name}"]          # ``A.sum()`` is ``np.sum(A)``
        if f is None and T.is_set(argtypes[0]) and func.name in setintr.METHODS:
            f = frontend.BASE[f"set_{func.name}"]         # ``s.add(x)`` is ``set_add(s, x)``
        if f is None and argtypes[0].__pk_kind__ == "union" and \
                T.Nothing in argtypes[0].__pk_members__:
            # ``p.normalize()`` with ``p`` an element of ``[None] * n`` filled with points:
            # the method of the other members, called on the union (split by member); on
            # None it raises MethodError (a TypeError, where Python raises AttributeError)
            f = structmethods.resolve(T.make_union([m for m in argtypes[0].__pk_members__
                                                    if m is not T.Nothing]), func.name)
        if f is None and argtypes[0].__pk_kind__ in ("struct", "mutable") and \
                func.name in dict(argtypes[0].__pk_fields__):
            # ``h.f(x)`` with ``f`` a field (a function kept in a struct): the call of the
            # field's value, as Python finds the instance's attribute first
            f = frontend.BASE["field_caller"](func.name)
        if f is None:
            if T.isconcrete(argtypes[0]) and argtypes[0].__pk_kind__ != "pyobject":
                raise CompileError(f"type {argtypes[0]} has no method {func.name!r}",
                                   sv.ci.ir.filename, st.loc[0], st.loc[1], "method call")
            return T.Any, DynamicCall(func, argtypes)      # looked up at run time
        func = f
    if positional:
        bad = _positional_error(sv, func, argtypes, seen_edges)
        if bad is not None:
            return bad
    if st is not None and func in _splat_functions():
        _check_splat(sv, func, argtypes, st)
    if v is not None and len(argtypes) == 2 and argtypes[1] is T.Int64 and \
            func is frontend.BASE.get("getitem") and argtypes[0].__pk_kind__ == "tuple" and \
            not any(isinstance(p, T.Vararg) for p in argtypes[0].__pk_params__):
        # (a tuple of known length, its elements of any types: ``for a, b in zip(u, v)``)
        r = _eval_tuple_const_index(sv, v, argtypes, st)
        if r is not None:
            return r
    if all(T.isconcrete(t) for t in argtypes):
        try:
            m = func.dispatch(argtypes)
        except (AmbiguityError, MethodError) as e:
            _add_edge(sv.ci, seen_edges, Edge("throws", func, argtypes,
                                           candidates=intersecting(func, argtypes)))
            return T.Bottom, ThrowingCall(func, argtypes, str(e), type(e))
        mi = method_instance(m, argtypes)
        callee = typeinf(mi)
        _add_edge(sv.ci, seen_edges, Edge("static", func, argtypes, m))
        if mi not in sv.ci.callees:
            sv.ci.callees.append(mi)
        return callee.rettype, StaticCall(mi, argtypes)
    split = _split_call(sv, func, argtypes, seen_edges)
    if split is not None:
        return split
    read = _list_read(sv, func, argtypes, seen_edges)
    if read is not None:
        return read
    n = len(argtypes)
    cands = [m for m in func.methods if T.sig_accepts(m.sig, n) and
             T.sig_intersect(argtypes, m.sig)]
    if not cands:
        _add_edge(sv.ci, seen_edges, Edge("throws", func, argtypes))
        msg = func._no_method_message(argtypes)
        return T.Bottom, ThrowingCall(func, argtypes, msg, MethodError)
    edge = Edge("dynamic", func, argtypes, candidates=cands)
    if len(cands) == 1 and _boxed_family_call(argtypes, cands[0]):
        _add_edge(sv.ci, seen_edges, edge)
        # One method takes every value of these types, all of them objects whose class
        # says what they are (mutable structs of a class hierarchy, ``mutables.py``): the
        # call of that method's instance for these very types (Julia's ``invoke`` of the
        # only match; the dynamic edge above makes a new method invalidate it)
        mi = method_instance(cands[0], tuple(argtypes))
        callee = typeinf(mi)
        if mi not in sv.ci.callees:
            sv.ci.callees.append(mi)
        return callee.rettype, StaticCall(mi, tuple(argtypes))
    rt = T.Any
    fast = []
    limit = MAX_FAMILY_CANDIDATES if any(_open_mutable(t) for t in argtypes) else \
        MAX_DYNAMIC_CANDIDATES
    if len(cands) <= limit and T.Any not in argtypes:
        rt = None
        for m in cands:
            spec = T.sig_intersect(argtypes, m.sig)
            if spec is None or len(spec) != n or any(
                    isinstance(t, T.Vararg) or T.has_free_vars(t) for t in spec):
                rt = None
                break
            sub = method_instance(m, spec)
            if any(p is None for p in sub.sparams):
                rt = None          # the body needs a static parameter these types leave open
                break
            sci = typeinf(sub)
            if all(T.isconcrete(t) for t in spec):
                if all(splittable(t) for t in spec):
                    fast.append((tuple(spec), sub))
            elif _family_split(spec, argtypes, m, cands):
                fast.append((tuple(spec), sub))
            else:
                sci.needs_native = False
            rt = join(rt, sci.rettype)
        if rt is None or rt is T.Bottom:
            rt = T.Any
            fast = []
    if fast:
        # World splitting: a value whose class is one of the candidates' concrete types
        # takes a static call to its method (a Sphere's ``intersect`` on a Shape); any other
        # value -- a subtype defined later, one whose class is not its type's own -- is
        # dispatched at run time.  The result type is the candidates' join (inferred for
        # their whole signatures, abstract ones too), and the dynamic edge above makes a
        # new method invalidate this code.
        _add_edge(sv.ci, seen_edges, edge)
        for _, sub in fast:
            if sub not in sv.ci.callees:
                sv.ci.callees.append(sub)
        return rt, SplitCall(func, argtypes, tuple(fast), rt)
    guessed = _guess_any(sv, func, argtypes, seen_edges)
    if guessed:
        _add_edge(sv.ci, seen_edges, edge)
        return T.Any, SplitCall(func, argtypes, guessed, T.Any)
    if rt is not T.Any:
        _add_edge(sv.ci, seen_edges, edge)    # (the result type is the candidates' join)
    # else: a call dispatched at run time whose result is Any depends on no method of
    # ``func``: a method added later (``sub(::Vec, ::Vec)`` by another package) is found by
    # that dispatch, so it invalidates nothing (an image of code making ``sub(::Any, ::Any)``
    # calls was discarded whenever any package extended ``sub``)
    return rt, DynamicCall(func, argtypes)


# What a value of unknown type most often is, when Python code hands compiled code one (the
# result of a Python callable, an element of an untyped container): the types tried, in order.
ANY_GUESSES = (T.Float64, T.Int64, T.String)


def _guess_any(sv, func, argtypes, seen_edges):
    """A call with one argument of type Any and the others concrete (``bisect(probs,
    gR())`` where ``gR`` is a Python callable): static calls for the guesses the function
    has methods for, tested by the value's class at run time, and dynamic dispatch for any
    other value.  The result stays Any (the fallback may return anything), but the common
    case costs a class test and a native call instead of a trip through Python's dispatch
    (15 us).  The dynamic edge already recorded makes any new method for these arguments
    invalidate the code; the static edges name the methods chosen."""
    if sum(1 for t in argtypes if t is T.Any) != 1 or \
            not all(t is T.Any or T.isconcrete(t) for t in argtypes) or \
            any(empty_literal(t) for t in argtypes):
        return ()
    k = argtypes.index(T.Any)
    out = []
    for g in ANY_GUESSES:
        spec = argtypes[:k] + (g,) + argtypes[k + 1:]
        try:
            m = func.dispatch(spec)
        except (AmbiguityError, MethodError):
            continue
        if not _declares(m, k):
            continue
        mi = method_instance(m, spec)
        if any(p is None for p in mi.sparams):
            continue
        try:
            typeinf(mi)
        except CompileError:
            # only a guess: a method that does not compile for it (``"".join(xs)`` with
            # ``xs`` guessed Float64) is left to run-time dispatch, which reports the error
            # if such a value ever comes
            continue
        _add_edge(sv.ci, seen_edges, Edge("static", func, spec, m))
        if mi not in sv.ci.callees:
            sv.ci.callees.append(mi)
        out.append((spec, mi))
    return tuple(out)


def _positional_error(sv, func, argtypes, seen_edges):
    """``f(1, 2.0)`` written by position where ``f``'s methods take ``tol`` only by name
    (``def f(x, *, tol=1e-8)``): Python's TypeError when every method the call may reach
    says so; a dynamic call when only some do (``GenericFunction.__call__`` checks the one
    dispatch picks); None when none does."""
    if not isinstance(func, D.GenericFunction) or not func.__dict__.get("_pk_kwonly"):
        return None                 # (no method of ``func`` has keyword-only parameters)
    cands = intersecting(func, argtypes)
    why = [m.positional_error(len(argtypes)) for m in cands]
    if not any(w is not None for w in why):
        return None
    if all(w is not None for w in why):
        # (a method added later that takes these by position invalidates this code)
        _add_edge(sv.ci, seen_edges, Edge("throws", func, argtypes, candidates=cands))
        return T.Bottom, ThrowingCall(func, argtypes, next(w for w in why), TypeError)
    _add_edge(sv.ci, seen_edges, Edge("dynamic", func, argtypes, candidates=cands))
    return T.Any, DynamicCall(func, argtypes)


def _splat_functions():
    return (frontend.BASE["splat_call"], frontend.BASE["tuple_cat"])


def _check_splat(sv, func, argtypes, st):
    """``f(*t)`` (``base/splat.py``): ``t`` must be a tuple of known length, else the call's
    arguments are not known; a compile-time error where the call is."""
    tuples = argtypes[1:] if func is frontend.BASE["splat_call"] else argtypes
    for t in tuples:
        if not (isinstance(t, T.PkType) and t.__pk_kind__ == "tuple" and not any(
                isinstance(p, T.Vararg) for p in t.__pk_params__)):
            raise CompileError(f"f(*x) needs x to be a tuple of known length; here it has "
                               f"type {t}", sv.ci.ir.filename, st.loc[0], st.loc[1],
                               "*args in a call")


def _open_mutable(t):
    return isinstance(t, T.PkType) and t.__pk_kind__ == "mutable" and not T.isconcrete(t)


def _boxed_family_call(argtypes, m):
    """Do ``argtypes`` (one at least a subclassed mutable struct, the others concrete or
    such) all fall under method ``m``'s signature?"""
    if not any(_open_mutable(t) for t in argtypes) or \
            not all(T.isconcrete(t) or _open_mutable(t) for t in argtypes):
        return False
    return m.sig is not None and T.issubtype(T.tuple_type(*argtypes), m.sig)


def _family_split(spec, argtypes, m, cands):
    """A split combination whose receiver-like arguments are concrete (tested at run time)
    and whose others are exactly the call's types (not tested): right when ``m`` is the
    most specific method for all of ``spec`` (every other candidate that meets it is less
    specific), as the override ``fn(self::DeviceTask, ...)`` is for a ``DeviceTask``."""
    if len(spec) != len(argtypes) or T.Any in argtypes:
        return False
    if not all((T.isconcrete(s) and splittable(s)) or s is a for s, a in zip(spec, argtypes)):
        return False
    if all(s is a for s, a in zip(spec, argtypes)):
        return False
    st = T.tuple_type(*spec)
    for m2 in cands:
        if m2 is m:
            continue
        if T.sig_intersect(spec, m2.sig) is not None and not T.issubtype(m.sig, m2.sig):
            return False
    return True


# base functions that only read a list: ``len(u)``, ``u[i]``, ``x in u``, what ``for``
# walks (``_list_read``)
_LIST_READS = ("len", "getitem", "iterable", "contains")


def _list_read(sv, func, argtypes, seen_edges):
    """``u[i]`` where ``u`` holds a ``List[Int64]`` or a ``List[Union[Float64, Int64]]``
    (``u = [1] * n`` then ``u = f(u)``, spectral-norm's): a Python list does not say which,
    so the union cannot be split at run time, and a dynamic call knew nothing of the
    elements.  A read is the same code for every member -- each element's Python class says
    what it is -- so it is the static call for ``List[E]``, ``E`` the members' element
    types joined, when every member dispatches to that same method (an edge per member
    makes a more specific method invalidate it).  Writes (``append``, ``u[i] = x``) stay
    dynamic: an ``E`` stored into what is a ``List[Int64]`` would break what other code
    knows of it."""
    if not argtypes or func.module != "pkgimage.base" or func.name not in _LIST_READS or \
            frontend.BASE.get(func.name) is not func:
        return None
    u = argtypes[0]
    if not (isinstance(u, T.PkType) and u.__pk_kind__ == "union" and
            all(T.is_list(m) for m in u.__pk_members__)) or \
            not all(T.isconcrete(t) for t in argtypes[1:]):
        return None
    el = None
    for m in u.__pk_members__:
        el = join(el, m.__pk_eltype__)
    rest = tuple(argtypes[1:])
    want = (T.list_of(el),) + rest
    if not T.isconcrete(want[0]):
        return None
    try:
        m = func.dispatch(want)
        if any(func.dispatch((mem,) + rest) is not m for mem in u.__pk_members__):
            return None
    except (AmbiguityError, MethodError):
        return None
    mi = method_instance(m, want)
    callee = typeinf(mi)
    for sig in [want] + [(mem,) + rest for mem in u.__pk_members__]:
        _add_edge(sv.ci, seen_edges, Edge("static", func, sig, m))
    if mi not in sv.ci.callees:
        sv.ci.callees.append(mi)
    return callee.rettype, StaticCall(mi, want)


MAX_SPLIT = 4          # combinations of union members a call is split into, at most


def splittable(t):
    """A concrete type whose values a run-time test of their Python class tells apart
    (``codegen`` makes the test): primitives, ``None``, strings, structs, mutable structs."""
    return T.isconcrete(t) and t.__pk_kind__ in ("primitive", "nothing", "string", "struct",
                                                 "mutable")


def _split_call(sv, func, argtypes, seen_edges):
    """Union splitting: (return type, SplitCall) when every argument is concrete or a union
    of splittable members and there are at most MAX_SPLIT combinations, one at least with a
    method (those without are dispatched at run time, and raise MethodError); else None."""
    import itertools
    choices = []
    for t in argtypes:
        if T.isconcrete(t) or _open_mutable(t):
            # (a subclassed mutable struct is passed as it is, untested: the combination's
            # method must then take every value of it -- ``_covering_method``)
            choices.append((t,))
        elif isinstance(t, T.PkType) and t.__pk_kind__ == "union" and \
                all(splittable(m) or _open_mutable(m) for m in t.__pk_members__):
            # (a subclassed mutable struct member is tested as ``isinstance``)
            choices.append(tuple(t.__pk_members__))
        else:
            return None
    combos = list(itertools.product(*choices))
    if len(combos) > MAX_SPLIT:
        return None
    found = []
    for combo in combos:
        if not all(T.isconcrete(t) for t in combo):
            m = _covering_method(func, combo)
            if m is None:
                return None
            # a method added later for a subclass may take some of these values: a dynamic
            # edge makes it invalidate this code
            _add_edge(sv.ci, seen_edges, Edge("dynamic", func, combo,
                                           candidates=intersecting(func, combo)))
            found.append((combo, m))
            continue
        try:
            m = func.dispatch(combo)
        except (AmbiguityError, MethodError):
            # No method for this combination (``check(node.left)`` with ``Nothing`` among
            # the left's types): codegen's fallback dispatches it at run time, which raises
            # MethodError -- and an edge makes a method added for it later invalidate this
            # code, whose result type did not include that method's.
            _add_edge(sv.ci, seen_edges, Edge("throws", func, combo,
                                           candidates=intersecting(func, combo)))
            continue
        found.append((combo, m))
    if not found:
        return None
    rt = None
    out = []
    failed = None
    for combo, m in found:
        mi = method_instance(m, combo)
        try:
            callee = typeinf(mi)
        except CompileError as e:
            failed = failed or e
            if len(found) == 1 and len(combos) == 1:
                raise
            # One member's method cannot compile for it (``other.x`` on the None of a
            # ``Union[Nothing, Point]``): the split leaves that member to run-time dispatch,
            # which raises the error if such a value ever comes -- where Python would raise
            # its AttributeError -- instead of refusing the whole method.
            _add_edge(sv.ci, seen_edges, Edge("static", func, combo, m))
            continue
        _add_edge(sv.ci, seen_edges, Edge("static", func, combo, m))
        if mi not in sv.ci.callees:
            sv.ci.callees.append(mi)
        rt = join(rt, callee.rettype)
        out.append((combo, mi))
    if failed is not None and not out:
        raise failed                   # (no member compiles: the error is certain)
    rt = rt if rt is not None else T.Bottom
    return rt, SplitCall(func, argtypes, tuple(out), rt)


def _covering_method(func, argtypes):
    """The method every value of ``argtypes`` (some of them subclassed mutable structs,
    which no run-time test narrows here) dispatches to, if there is one: it takes them all
    and is more specific than every other method that takes some of them (``fn`` on a
    ``HandlerTask``, which ``HandlerTask`` overrides and no subclass of it does; not ``fn``
    on a ``Task``, whose subclasses override it).  Julia's ``invoke`` of the only match."""
    n = len(argtypes)
    tt = T.tuple_type(*argtypes)
    cands = [m for m in func.methods if T.sig_accepts(m.sig, n) and
             T.sig_intersect(argtypes, m.sig) is not None]
    best = [m for m in cands if m.sig is not None and T.issubtype(tt, m.sig)]
    for m in best:
        if all(m2 is m or (m2.sig is not None and T.issubtype(m.sig, m2.sig) and
                           not T.issubtype(m2.sig, m.sig)) for m2 in cands):
            return m
    return None


def empty_literal(t):
    """An empty literal's container type (``List[Union[]]``: nothing stored into it here
    yet, so its type says nothing of what it may hold -- ``parts = []`` appended to by a
    closure).  A guessed static call on it would pick the method for a list that can hold
    nothing; run-time dispatch takes its items' type (``codegen._static_container``)."""
    if T.is_dict(t):
        return T.Bottom in (t.__pk_keytype__, t.__pk_valtype__)
    return (T.is_list(t) or T.is_set(t)) and t.__pk_eltype__ is T.Bottom


def _declares(m, k):
    """May ``m`` be compiled for a guessed type at argument ``k``?  Only if its author
    declared a type there narrower than Any (``x: float``, ``x: Real``), as world splitting
    only compiles methods for the types they declare: a body written for any value
    (``def qpkt(self, pkt)``) may not compile for a Float64 it is never given.  The base
    library's methods, written for whatever reaches them, may take any guess."""
    if m.module == "pkgimage.base" or m.module.startswith("pkgimage.base."):
        return True
    sig = m.sig
    while isinstance(sig, T.UnionAll):
        sig = sig.body
    ps = sig.__pk_params__
    if not ps:
        return False
    p = ps[min(k, len(ps) - 1)]
    if isinstance(p, T.Vararg):
        p = p.T
    while isinstance(p, T.TypeVar):
        p = p.ub
    return isinstance(p, T.PkType) and p is not T.Any


class TupleElem:
    """``t[k]`` with a constant ``k`` on a tuple: its element ``k`` (heterogeneous tuples)."""
    __slots__ = ("argtype", "index")

    def __init__(self, argtype, index):
        self.argtype, self.index = argtype, index


def _const_of(sv, var):
    """The constant a compiler temporary holds, if it is assigned once from a literal."""
    return sv.ci.ir.constants().get(var, _NO_CONST)


_NO_CONST = object()


def _eval_tuple_const_index(sv, v, argtypes, st):
    """``t[0]``, ``t[-1]`` on a tuple: Julia's constant-propagated ``getfield``, which is
    what makes heterogeneous tuples usable (``x, y = p``)."""
    t = argtypes[0]
    k = _const_of(sv, v.args[1])
    if type(k) is not int:
        return None
    ps = t.__pk_params__
    j = k + len(ps) if k < 0 else k
    if not 0 <= j < len(ps):
        raise CompileError(f"index {k} is out of bounds for {t}", sv.ci.ir.filename,
                           st.loc[0], st.loc[1], "Subscript")
    return ps[j], TupleElem(t, j)


def _eval_list_site(sv, v, argtypes, st):
    """``list_new`` (a site's list: the element type stored into it so far; ``dict_new``
    and ``set_new`` likewise) and ``list_note`` (a store into a site's list, dict or set:
    widen the site, and infer again if it grew)."""
    if v.name == "dict_new":
        k, val = sv.sites.get((v.params, "k")), sv.sites.get((v.params, "v"))
        for i, t in enumerate(argtypes):
            if i % 2 == 0:
                k = join(k, t)
            else:
                val = join(val, t)
        sv.sites[(v.params, "k")], sv.sites[(v.params, "v")] = k, val
        return T.dict_of(k if k is not None else T.Bottom, val if val is not None else
                         T.Bottom), IntrinsicCall(v.name, argtypes, v.params, False)
    if v.name == "set_new":
        el = sv.sites.get(v.params)
        for t in argtypes:
            el = join(el, t)
        sv.sites[v.params] = el
        return T.set_of(el if el is not None else T.Bottom), \
            IntrinsicCall(v.name, argtypes, v.params, False)
    if v.name == "list_new":
        kind, *where = v.params
        if kind == "typed":
            el = where[0]
            bad = [t for t in argtypes if not (el is T.Any or T.issubtype(t, el))]
            if bad:
                raise CompileError(f"a {bad[0]} cannot be an element of a {T.list_of(el)}",
                                   sv.ci.ir.filename, st.loc[0], st.loc[1], "List")
            return T.list_of(el), IntrinsicCall(v.name, argtypes, v.params, False)
        el = sv.sites.get(v.params)
        for t in argtypes:
            el = join(el, t)
        sv.sites[v.params] = el
        return T.list_of(el if el is not None else T.Bottom), \
            IntrinsicCall(v.name, argtypes, v.params, False)
    how, site = v.params
    if how == "escape":
        sv.escaped.add(site)
        return T.Nothing, IntrinsicCall(v.name, argtypes, v.params, False)
    t = argtypes[0]
    if how == "each":
        t = listintr._elements_of(t) if T.isconcrete(t) else T.Any
        t = T.Any if t is None else t
    elif how in ("keys", "values"):
        t = (t.__pk_keytype__ if how == "keys" else t.__pk_valtype__) \
            if T.is_dict(t) and T.isconcrete(t) else T.Any
    old = sv.sites.get(site)
    new = join(old, t)
    if new is not old and t is not T.Bottom:
        sv.sites[site] = new
        sv.sites_changed = True
    return T.Nothing, IntrinsicCall(v.name, argtypes, v.params, False)


def _stale(frame):
    """Does the running pass of ``frame`` work with element types known to be too narrow
    (a site grew, or a site passed elsewhere still has no type), so that the frame will be
    inferred again whatever this pass finds?"""
    return frame.sites_changed or any(frame.sites.get(s) in (None, T.Bottom)
                                      for s in frame.escaped)


def _widen_escaped(frame):
    """``d = {}; fill(d)``: a site nothing in this method stores into, passed to another
    function (which may store anything into it), holds Any; True if a site changed so."""
    grew = False
    for site in frame.escaped:
        if frame.sites.get(site) in (None, T.Bottom):
            frame.sites[site] = T.Any
            grew = True
    return grew


def _eval_intrinsic(sv, v, argtypes, st):
    fn = intrinsics.REGISTRY[v.name]
    if v.name in ("list_new", "list_note", "dict_new", "set_new"):
        return _eval_list_site(sv, v, argtypes, st)
    if v.name in closureintr.BOX_OPS:
        # a closure's shared variable: native cell functions whatever the value's type
        rt = fn.rule(argtypes, v.params)
        if rt is None:
            raise CompileError(f"internal: {v.name} of ({', '.join(map(str, argtypes))})",
                               sv.ci.ir.filename, st.loc[0], st.loc[1], v.name)
        return rt, IntrinsicCall(v.name, argtypes, v.params, False)
    if v.name == "setfield" and T.isconcrete(argtypes[0]):
        _check_setfield(sv, v, argtypes, st)
    if v.name == "setfield" and _stores_in_place(argtypes, v.params[0]):
        return T.Nothing, IntrinsicCall(v.name, argtypes, v.params, False)
    if v.name == "isa" and not T.isconcrete(argtypes[0]):
        # a Bool whatever the value (tested at run time: ``codegen.gen_isa``)
        return T.Bool, IntrinsicCall(v.name, argtypes, v.params, True)
    if v.name == "typeassert" and not T.isconcrete(argtypes[0]):
        # checked at run time (Python's isa), then known to be of the declared type
        return fn.rule(argtypes, v.params), IntrinsicCall(v.name, argtypes, v.params, True)
    if v.name == "notnothing":
        # ``x`` where ``x is not None`` holds: its type without Nothing, abstract or not (a
        # ``Union[Node, Nothing]`` is a ``Node`` there; the value is not touched)
        return fn.rule(argtypes, v.params), IntrinsicCall(v.name, argtypes, v.params, False)
    if v.name == "tuple":
        rt = T.tuple_type(*argtypes)
        return rt, IntrinsicCall(v.name, argtypes, v.params, not T.isconcrete(rt))
    if v.name == "unpack_check" and argtypes[0].__pk_kind__ == "tuple" and \
            not any(isinstance(p, T.Vararg) for p in argtypes[0].__pk_params__):
        # a tuple's length is its type's, whatever its elements' types
        n = len(argtypes[0].__pk_params__)
        if n != v.params[0]:
            raise CompileError(f"cannot unpack a {argtypes[0]} ({n} values) into "
                               f"{v.params[0]} targets", sv.ci.ir.filename, st.loc[0],
                               st.loc[1], "Assign")
        return T.Nothing, IntrinsicCall(v.name, argtypes, v.params, False)
    if v.name in ("str_format", "py_print", "py_sysattr"):
        # (values of any types, abstract ones boxed: ``strgen``)
        return fn.rule(argtypes, v.params), IntrinsicCall(v.name, argtypes, v.params, False)
    if all(T.isconcrete(t) for t in argtypes):
        rt = fn.rule(argtypes, v.params)
        if rt is None:
            raise CompileError(
                f"intrinsic {v.name} does not accept argument types "
                f"({', '.join(map(str, argtypes))})" +
                (f" with parameters {v.params}" if v.params else ""),
                sv.ci.ir.filename, st.loc[0], st.loc[1], v.name)
        return rt, IntrinsicCall(v.name, argtypes, v.params, False)
    # Abstract arguments: run the Python implementation at run time on boxed values.
    return T.Any, IntrinsicCall(v.name, argtypes, v.params, True)


def _stores_in_place(argtypes, name):
    """``obj.f = x`` stored natively in the slot (``codegen.gen_setfield``) where ``obj`` is
    a mutable struct, concrete or subclassed (its fields are in the same slots in every
    subclass), and ``x``'s type is the field's or one under it, abstract or a union
    (``self.input = msg.link``: an ``Optional[Packet]`` into an ``Optional[Packet]``
    field): the value needs no conversion, so Python's ``__setattr__`` would store it as
    it is.  A number converted to the field's type needs its type known (concrete)."""
    from .fieldintr import accepts, field_type
    if len(argtypes) != 2:
        return False
    t, vt = argtypes
    ft = field_type(t, name)
    if ft is None or vt is T.Bottom:
        return False
    if T.isconcrete(vt):
        return accepts(ft, vt)
    return T.issubtype(vt, ft)


def _check_setfield(sv, v, argtypes, st):
    """``obj.f = x`` on a value of a known type: say why it cannot be done."""
    from .fieldintr import accepts
    t, vt, name = argtypes[0], argtypes[1], v.params[0]
    why = None
    if t.__pk_kind__ == "struct":
        why = f"{t} is an immutable struct: its fields cannot be assigned (declare it " \
              f"@pk.mutable, or build a new value)"
    elif t.__pk_kind__ != "mutable":
        why = f"a value of type {t} has no assignable field {name!r}"
    elif name not in dict(t.__pk_fields__):
        why = f"type {t} has no field {name!r}"
    elif T.isconcrete(vt) and not accepts(dict(t.__pk_fields__)[name], vt):
        why = f"field {name} of {t} has type {dict(t.__pk_fields__)[name]}; a {vt} cannot " \
              f"be stored in it"
    if why is not None:
        raise CompileError(why, sv.ci.ir.filename, st.loc[0], st.loc[1], "Attribute")


_ARRAY_ATTRS = {"shape": "arr_shape", "ndim": "arr_ndim", "size": "arr_size",
                "T": "np_transpose"}


def _eval_getfield(sv, v, t, st, seen_edges):
    if t.__pk_kind__ == "array" and v.name in _ARRAY_ATTRS and intrinsics.is_arr(t):
        name = _ARRAY_ATTRS[v.name]
        return intrinsics.REGISTRY[name].rule((t,), ()), IntrinsicCall(name, (t,), (), False)
    if t.__pk_kind__ in ("struct", "mutable"):
        for i, (n, ft) in enumerate(t.__pk_fields__):
            if n == v.name:
                return ft, FieldRef(t, i, n)
    m = _optional_mutable(t)
    if m is not None and v.name in dict(m.__pk_fields__):
        # ``p.link`` with ``p: Optional[Packet]``: the field of the struct, read in place
        # (Julia splits the union: the Nothing branch is an error)
        for i, (n, ft) in enumerate(m.__pk_fields__):
            if n == v.name:
                return ft, FieldRef(t, i, n, m)
    prop = structmethods.property_function(t, v.name)
    if prop is not None:
        # ``p.norm`` with ``@property def norm(self)``: the call ``norm(p)``
        return _eval_call(sv, prop, (t,), seen_edges, None, st)
    if t.__pk_kind__ in ("struct", "mutable") and T.isconcrete(t):
        raise CompileError(f"type {t} has no field {v.name!r}", sv.ci.ir.filename, st.loc[0],
                           st.loc[1], "Attribute")
    if t.__pk_kind__ == "pyobject":
        # (``Random.__next__`` of a global generator: Python's getattr at run time)
        return T.Any, FieldRef(t, -1, v.name)
    if T.isconcrete(t) or (t.__pk_kind__ == "union" and not any(
            not T.isconcrete(m) or
            (m.__pk_kind__ in ("struct", "mutable") and v.name in dict(m.__pk_fields__))
            for m in t.__pk_members__)):
        # A union none of whose members has the field (``(x if c else 1.5).p``) is as
        # certain an error as one concrete type: it used to compile to a run-time getattr
        # that raised Python's AttributeError (found by tests/test_fuzz_frontend.py).
        raise CompileError(f"type {t} has no field {v.name!r}", sv.ci.ir.filename, st.loc[0],
                           st.loc[1], "Attribute")
    return T.Any, FieldRef(t, -1, v.name)


def _optional_mutable(t):
    """``M`` for a union of exactly ``Nothing`` and a mutable struct type ``M`` (concrete or
    subclassed: its fields are in the same slots in every subclass), else None."""
    if not (isinstance(t, T.PkType) and t.__pk_kind__ == "union"):
        return None
    ms = t.__pk_members__
    if len(ms) != 2 or T.Nothing not in ms:
        return None
    m = ms[0] if ms[1] is T.Nothing else ms[1]
    return m if isinstance(m, T.PkType) and m.__pk_kind__ == "mutable" else None


def infer_signature(function, argtypes):
    """Infer the call ``function(argtypes...)``; returns the CodeInstance (raises MethodError)."""
    m = function.dispatch(tuple(argtypes))
    return typeinf(method_instance(m, tuple(argtypes)))


__all__ = ["typeinf", "infer_signature", "StaticCall", "DynamicCall", "ThrowingCall",
           "IntrinsicCall", "FieldRef", "Plain", "ErrorMsg", "Goto", "Branch"]

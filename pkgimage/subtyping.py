"""Julia's subtyping and type intersection over DataTypes, Tuples, Unions and UnionAlls.

The algorithm follows the shape of Julia's ``subtype.c`` in a small form: ``a <: b`` walks
both types with an *environment* of the type variables met on the way.  A variable of a
UnionAll on the left is universally quantified (it is any type within its bounds, so it is
only known by them); a variable of a UnionAll on the right is existential and accumulates a
lower bound (every type it must contain) and an upper bound (every type it must fit in) as
the walk meets it; the subtype holds if, at the end of the UnionAll, ``lb <: ub``.

* Parameters of DataTypes are **invariant**: ``Vector[Int64]`` is not a ``Vector[Real]``;
  a parameter is compared in both directions, which pins a right variable to one value.
* Tuple parameters are **covariant**, with ``Vararg[T]`` / ``Vararg[T, N]`` tails.
* The **diagonal rule**: a variable that occurs more than once, only in covariant position,
  must be a concrete type (``f(x::T, y::T) where T`` does not match ``(Int64, Float64)``).

Left-hand unions are split member by member (a union inside a left Tuple too, before the
right variables are opened, since ``Tuple[Union[A, B]]`` is ``Union[Tuple[A], Tuple[B]]``);
right-hand unions try each member with the environment saved and restored (Julia's "exists"
search).  The static parameters of a method call are the values the right variables take
(:func:`match`).

Intersection unifies the two bodies, solves each group of unified variables (pinned by an
invariant meeting, bounded by covariant ones, kept as a variable when it is diagonal) and meets
what is left.  Specificity is strict subtyping, compared at each argument count when Varargs
make the whole signatures incomparable (:func:`morespecific`).
"""

from __future__ import annotations

import itertools

from . import types as T
from .types import TypeVar, UnionAll, Vararg


class _Bound:
    __slots__ = ("var", "lb", "ub", "right", "cov", "inv", "depth", "concrete")

    def __init__(self, var, lb, ub, right, depth=0):
        self.var, self.lb, self.ub, self.right = var, lb, ub, right
        self.cov = 0          # occurrences met in covariant position
        self.inv = 0          # ... and in invariant position
        self.depth = depth    # when its UnionAll was opened: inner vars are deeper
        self.concrete = False  # a left var some diagonal right var took as its value

    def copy(self):
        b = _Bound(self.var, self.lb, self.ub, self.right, self.depth)
        b.cov, b.inv, b.concrete = self.cov, self.inv, self.concrete
        return b


class _Env:
    __slots__ = ("vars", "opened")

    def __init__(self):
        self.vars = {}
        self.opened = 0

    def bind(self, v, right):
        self.opened += 1
        bd = self.vars[v] = _Bound(v, v.lb, v.ub, right, self.opened)
        return bd

    def snapshot(self):
        return {k: b.copy() for k, b in self.vars.items()}

    def restore(self, snap):
        for k, b in snap.items():
            cur = self.vars.get(k)
            if cur is not None:
                cur.lb, cur.ub, cur.cov, cur.inv = b.lb, b.ub, b.cov, b.inv
                cur.concrete = b.concrete


def _open(u, env):
    """The var and body of UnionAll ``u``, renamed when the var is already in scope (two
    methods' signatures may share one module-level ``T``)."""
    v, body = u.var, u.body
    if v in env.vars:
        nv = T._make_typevar(v.name, v.lb, v.ub)
        body = T.substitute(body, {v: nv})
        v = nv
    return v, body


def subtype(a, b):
    return _sub(a, b, _Env(), False)


def match(argtypes, sig):
    """``(True, static parameters)`` when the Tuple type ``argtypes`` is a subtype of the
    signature ``sig`` (a Tuple type under UnionAlls), else ``(False, None)``.  The static
    parameters map each of the signature's variables to its value, in order."""
    pieces = _split_unions(argtypes)
    if pieces is not None:
        # ``Tuple[Union[A, B]]`` is ``Union[Tuple[A], Tuple[B]]``: each piece must match, with
        # its own static parameters (the first piece's are reported).
        results = [match(p, sig) for p in pieces]
        return (True, results[0][1]) if all(ok for ok, _ in results) else (False, None)
    env = _Env()
    vars_ = []
    body = sig
    while isinstance(body, UnionAll):
        v, body = _open(body, env)
        env.bind(v, True)
        vars_.append(v)
    if not _sub(argtypes, body, env, False):
        return False, None
    out = []
    for v in vars_:
        bd = env.vars[v]
        if not _check_bound(bd, env):
            return False, None
        out.append(_value(bd))
    return True, tuple(out)


def _value(bd):
    if isinstance(bd.lb, int) or bd.lb is not T.Bottom:
        return bd.lb
    return bd.ub if bd.inv else None


def _check_bound(bd, env):
    """Has right var ``bd`` a value once its UnionAll is walked: ``lb <: ub``, and a concrete
    ``lb`` when the diagonal rule applies to it?"""
    lb, ub = bd.lb, bd.ub
    if isinstance(lb, int) or isinstance(ub, int):
        return not (isinstance(lb, int) and isinstance(ub, int)) or lb == ub
    if not _sub(lb, ub, env, False):
        return False
    if bd.cov >= 2 and bd.inv == 0 and lb is not T.Bottom:
        # The diagonal rule: a var met twice or more, only covariantly, is a concrete type.
        if isinstance(lb, TypeVar):
            lbb = env.vars.get(lb)
            if lbb is not None and not lbb.right:
                lbb.concrete = True      # checked when the left var's UnionAll closes
            return True
        return T.isconcrete(lb)
    return True


def _can_be_concrete(v, body):
    """May left var ``v`` (of ``body where v``) be required to be a concrete type?  Only
    when it already is one: its upper bound is concrete (or bottom), or it is diagonal in
    its own body (Julia's #24166: ``Tuple[T, T, Ref[T]] where T`` is not below
    ``Tuple[S, S, Ref[Q] where Q] where S``, but ``Tuple[T, T] where T`` is below
    ``Tuple[S, S] where S``)."""
    if v.ub is T.Bottom or T.isconcrete(v.ub):
        return True
    cov, inv = _occurrences(v, body)
    return cov >= 2 and inv == 0


def _occurrences(v, t, inv=False, acc=None):
    """(covariant, invariant) occurrence counts of var ``v`` in ``t``; an occurrence in a
    ``Vararg`` element counts twice (it stands for any number of elements)."""
    acc = [0, 0] if acc is None else acc
    if t is v:
        acc[1 if inv else 0] += 1
    elif isinstance(t, Vararg):
        for _ in range(2):
            _occurrences(v, t.T, inv, acc)
        if t.N is not None:
            _occurrences(v, t.N, True, acc)
    elif isinstance(t, UnionAll):
        if t.var is not v:
            _occurrences(v, t.body, inv, acc)
    elif isinstance(t, T.PkType):
        if t.__pk_kind__ == "union":
            for m in t.__pk_members__:
                _occurrences(v, m, inv, acc)
        else:
            tup = t.__pk_typename__ is T.TUPLE_NAME
            for p in t.__pk_params__:
                _occurrences(v, p, inv or not tup, acc)
    return acc


def _split_unions(t, limit=64):
    """The union-free Tuple types whose union is Tuple type ``t``, splitting the unions met in
    covariant positions (its elements and nested Tuples' ones, not Vararg's), or None when
    there are none (or more than ``limit`` pieces)."""
    if not isinstance(t, T.PkType) or t.__pk_typename__ is not T.TUPLE_NAME:
        return None
    choices = []
    for p in t.__pk_params__:
        if isinstance(p, T.PkType) and p.__pk_kind__ == "union":
            choices.append(p.__pk_members__)
        else:
            sub = _split_unions(p, limit)
            choices.append(sub if sub is not None else (p,))
    n = 1
    for c in choices:
        n *= len(c)
    if n <= 1 or n > limit:
        return None
    return [T.tuple_type(*ps) for ps in itertools.product(*choices)]


def _note(bd, inv):
    if inv:
        bd.inv += 1
    else:
        bd.cov += 1


def _join(a, b):
    if a is T.Bottom:
        return b
    if b is T.Bottom or a is b:
        return a
    return T.make_union((a, b))


def _sub_vars(x, y, env, inv):
    """``x <: y`` for two variables (Julia's order: a right ``x`` is bounded above by ``y``,
    else a right ``y`` is bounded below by ``x``; two left vars compare by their bounds)."""
    xx, yy = env.vars.get(x), env.vars.get(y)
    xr = xx is not None and xx.right
    yr = yy is not None and yy.right
    if xr:
        if yy is not None:
            _note(yy, inv)
        if yr:
            _note(xx, inv)
            return _sub(xx.lb, yy.ub, env, inv)
        return _var_lt(x, y, env, inv)
    if yr:
        if xx is not None:
            _note(xx, inv)
        return _var_gt(y, x, env, inv)
    xub = xx.ub if xx is not None else x.ub
    ylb = yy.lb if yy is not None else y.lb
    return _sub(xub, y, env, inv) or _sub(x, ylb, env, inv)


def _var_lt(v, t, env, inv):
    """``v <: t`` for a variable ``v``.  A left (or free) var is any type up to its upper
    bound, so its bound must fit; a right var is narrowed: its upper bound becomes the meet
    with ``t``, which its lower bound must still fit under."""
    bd = env.vars.get(v)
    if bd is None:
        return _sub(v.ub, t, env, inv)
    _note(bd, inv)
    if not bd.right:
        return _sub(bd.ub, t, env, inv)
    if isinstance(bd.lb, int):
        return False
    if not _sub(bd.lb, t, env, inv):
        return False
    bd.ub = _meet(bd.ub, t)
    return _outlives(bd, t, env)


def _var_gt(v, t, env, inv):
    """``t <: v`` for a variable ``v``: a left (or free) var may be as small as its lower
    bound; a right var must contain ``t``, so its lower bound grows (the join) and ``t``
    must fit under its upper bound."""
    bd = env.vars.get(v)
    if bd is None:
        return t is T.Bottom or _sub(t, v.lb, env, inv)
    _note(bd, inv)
    if not bd.right:
        return t is T.Bottom or _sub(t, bd.lb, env, inv)
    if isinstance(bd.lb, int):
        return False
    if not _sub(t, bd.ub, env, inv):
        return False
    bd.lb = _join(bd.lb, t)
    return not inv or _outlives(bd, t, env)


def _outlives(bd, t, env):
    """A right var cannot take as its value a left var opened *inside* its own scope (that
    var is a different type for each value of the right one), unless the left var has only
    one possible value.  ``Vector[Vector]`` (``Vector[Vector[S] where S]``) is not a
    ``Vector[Vector[T]] where T``."""
    if not isinstance(t, TypeVar):
        return True
    tb = env.vars.get(t)
    if tb is None or tb.right or tb.depth < bd.depth:
        return True
    return _sub(tb.ub, tb.lb, env, False)


def _meet(a, b):
    """The smaller of two upper bounds (their intersection when neither is below the other)."""
    if b is T.Any or a is b:
        return a
    if a is T.Any:
        return b
    if _sub(a, b, _Env(), False):
        return a
    if _sub(b, a, _Env(), False):
        return b
    return intersect(a, b)


def _sub(a, b, env, inv):
    """``a <: b`` in ``env``; ``inv`` says the walk is inside an invariant parameter (that is
    how occurrences of variables are counted for the diagonal rule)."""
    if a is b:
        return True
    if isinstance(a, int) or isinstance(b, int):
        return _eqparam(a, b, env)
    # -- variables (Julia's ``subtype``: vars before unions, so that a union met by a right
    #    variable is one occurrence of it, not one per member) ----------------------------
    if isinstance(a, TypeVar):
        if isinstance(b, TypeVar):
            return _sub_vars(a, b, env, inv)
        return _var_lt(a, b, env, inv)
    if isinstance(b, TypeVar):
        return _var_gt(b, a, env, inv)
    if b is T.Any:
        return True
    if isinstance(a, Vararg) or isinstance(b, Vararg):
        return False
    # -- unions and UnionAlls ----------------------------------------------------------------
    if isinstance(a, UnionAll):
        v, body = _open(a, env)
        bd = env.bind(v, False)
        try:
            return _sub(body, b, env, inv) and (not bd.concrete or _can_be_concrete(v, body))
        finally:
            del env.vars[v]
    ka = a.__pk_kind__
    if ka == "union":
        return all(_sub(m, b, env, inv) for m in a.__pk_members__)
    if isinstance(b, UnionAll):
        pieces = _split_unions(a)
        if pieces is not None:
            # A union inside a left Tuple is a choice of the caller: each choice may give the
            # right variables other values (Tuple[Union[Vector[Int64], Vector[Int8]]] is a
            # Tuple[Vector[T]] where T, with T = Int64 or Int8).
            return all(_sub(p, b, env, inv) for p in pieces)
        v, body = _open(b, env)
        bd = env.bind(v, True)
        try:
            return _sub(a, body, env, inv) and _check_bound(bd, env)
        finally:
            del env.vars[v]
    if b.__pk_kind__ == "union":
        for m in b.__pk_members__:
            snap = env.snapshot()
            if _sub(a, m, env, inv):
                return True
            env.restore(snap)
        pieces = _split_unions(a)
        if pieces is not None:
            # Tuple[Union[A, B], C] is below Union[Tuple[A, C], Tuple[B, C]]: distribute.
            return all(_sub(p, b, env, inv) for p in pieces)
        return False
    # -- two DataTypes ---------------------------------------------------------------------
    tb = b.__pk_typename__
    if tb is T.TUPLE_NAME:
        if a.__pk_typename__ is not T.TUPLE_NAME:
            return False
        return _sub_tuple(a.__pk_params__, b.__pk_params__, env, inv)
    t = a
    while t is not None and t.__pk_typename__ is not tb:
        t = t.__pk_super__
    if t is None:
        return False
    if t is b:
        return True
    pb = b.__pk_params__
    pa = t.__pk_params__
    if len(pa) != len(pb):
        return False
    return all(_eqparam(x, y, env) for x, y in zip(pa, pb))


def _eqparam(x, y, env):
    """Invariant comparison of two parameters (types, ints or vars)."""
    if x is y:
        return True
    xi, yi = isinstance(x, int), isinstance(y, int)
    if xi or yi:
        if xi and yi:
            return x == y and type(x) is type(y)
        var, val = (y, x) if xi else (x, y)
        if not isinstance(var, TypeVar):
            return False
        bd = env.vars.get(var)
        if bd is None or not bd.right:
            return False
        if isinstance(bd.lb, int):
            return bd.lb == val
        if bd.lb is not T.Bottom or bd.ub is not T.Any:
            return False
        bd.lb = bd.ub = val
        bd.inv += 1
        return True
    return _sub(x, y, env, True) and _sub(y, x, env, True)


def _split(ps):
    if ps and isinstance(ps[-1], Vararg):
        return ps[:-1], ps[-1]
    return ps, None


def _sub_tuple(pa, pb, env, inv):
    fa, va = _split(pa)
    fb, vb = _split(pb)
    if va is None and vb is None:
        return len(fa) == len(fb) and all(_sub(x, y, env, inv) for x, y in zip(fa, fb))
    if vb is None:
        return False          # ``a`` holds tuples of every length past its fixed part
    if len(fa) < len(fb):
        return False
    if not all(_sub(x, y, env, inv) for x, y in zip(fa, fb)):
        return False
    rest = fa[len(fb):]
    if va is None:
        if vb.N is not None and not _eqparam(len(rest), vb.N, env):
            return False
        return all(_sub(x, vb.T, env, inv) for x in rest)
    if vb.N is not None and va.N is None:
        return False
    if va.N is not None and vb.N is not None and not rest and not _eqparam(va.N, vb.N, env):
        return False
    return all(_sub(x, vb.T, env, inv) for x in rest) and _sub(va.T, vb.T, env, inv)


# --------------------------------------------------------------------------------------------
# Intersection


def intersect(a, b):
    if a is b:
        return a
    if isinstance(a, int) or isinstance(b, int):
        return a if a == b else T.Bottom
    if subtype(a, b):
        return a
    if subtype(b, a):
        return b
    if isinstance(b, UnionAll) and isinstance(a, T.PkType) and a.__pk_kind__ == "union":
        # each member against the closed UnionAll (``Union[Float64, Int64]`` and ``List``)
        return T.make_union([intersect(m, b) for m in a.__pk_members__])
    if isinstance(a, UnionAll) and isinstance(b, T.PkType) and b.__pk_kind__ == "union":
        return T.make_union([intersect(a, m) for m in b.__pk_members__])
    if isinstance(a, UnionAll) or isinstance(b, UnionAll) or isinstance(a, TypeVar) or \
            isinstance(b, TypeVar):
        return _intersect_vars(a, b)
    if a.__pk_kind__ == "union":
        return T.make_union([intersect(m, b) for m in a.__pk_members__])
    if b.__pk_kind__ == "union":
        return T.make_union([intersect(a, m) for m in b.__pk_members__])
    ta, tb = a.__pk_typename__, b.__pk_typename__
    if ta is T.TUPLE_NAME and tb is T.TUPLE_NAME:
        ps = _intersect_params(a.__pk_params__, b.__pk_params__)
        return T.Bottom if ps is None else T.tuple_type(*ps)
    if ta is tb and (T.has_free_vars(a) or T.has_free_vars(b)):
        return _intersect_vars(a, b)
    # Single inheritance and invariant parameters: types of which neither is below the
    # other share no value (``Vector[Real]`` and ``Vector[Float64]`` included).
    return T.Bottom


def _intersect_params(pa, pb):
    """Element types of the intersection of two Tuple types' parameters (None if empty)."""
    fa, va = _split(pa)
    fb, vb = _split(pb)
    n = max(len(fa), len(fb))
    if (va is None and len(fa) < n) or (vb is None and len(fb) < n):
        return None
    if va is not None and va.N is not None or vb is not None and vb.N is not None:
        if va is None and vb is not None and isinstance(vb.N, TypeVar):
            vb = T.make_vararg(vb.T)
        elif vb is None and va is not None and isinstance(va.N, TypeVar):
            va = T.make_vararg(va.T)
    out = []
    for i in range(n):
        x = fa[i] if i < len(fa) else va.T
        y = fb[i] if i < len(fb) else vb.T
        t = intersect(x, y)
        if t is T.Bottom:
            return None
        out.append(t)
    if va is not None and vb is not None:
        t = intersect(va.T, vb.T)
        if t is not T.Bottom:
            out.append(T.make_vararg(t))
    return tuple(out)


class _Unifier:
    """What the structural walk of two bodies learns about their variables: the var-free types
    (or lengths) each var meets, and which vars meet each other (a union-find of groups)."""

    def __init__(self, vars_):
        self.cands = {v: [] for v in vars_}     # var-free types and lengths, (value, inv)
        self.shapes = {v: [] for v in vars_}    # types that contain other vars, met invariantly
        self.parent = {v: v for v in vars_}

    def has(self, x):
        return isinstance(x, TypeVar) and x in self.parent

    def find(self, v):
        while self.parent[v] is not v:
            v = self.parent[v]
        return v

    def link(self, x, y):
        rx, ry = self.find(x), self.find(y)
        if rx is not ry:
            self.parent[ry] = rx

    def groups(self):
        out = {}
        for v in self.parent:
            out.setdefault(self.find(v), []).append(v)
        return list(out.values())


def _collect(x, y, u, inv):
    """Unify ``x`` with ``y`` structurally, recording for each variable what it meets."""
    if u.has(x) and u.has(y):
        u.link(x, y)
        return
    if u.has(x) or u.has(y):
        var, other = (x, y) if u.has(x) else (y, x)
        if isinstance(other, int) or not T.free_vars(other):
            u.cands[var].append((other, inv))
        elif inv:
            u.shapes[var].append(other)
        return
    if not (isinstance(x, T.PkType) and isinstance(y, T.PkType)):
        return
    if x.__pk_kind__ == "union" or y.__pk_kind__ == "union":
        return
    tx, ty = x.__pk_typename__, y.__pk_typename__
    if tx is T.TUPLE_NAME and ty is T.TUPLE_NAME:
        _collect_tuple(x.__pk_params__, y.__pk_params__, u, inv)
        return
    t = x
    while t is not None and t.__pk_typename__ is not ty:
        t = t.__pk_super__
    if t is None:
        t = y
        while t is not None and t.__pk_typename__ is not tx:
            t = t.__pk_super__
        if t is None:
            return
        x, y = t, x
        for p, q in zip(x.__pk_params__, y.__pk_params__):
            _collect(q, p, u, True)
        return
    for p, q in zip(t.__pk_params__, y.__pk_params__):
        _collect(p, q, u, True)


def _collect_tuple(px, py, u, inv):
    """Tuple elements meet position by position; a ``Vararg[T, N]`` facing a fixed-length
    tail also fixes its length var ``N``."""
    fa, va = _split(px)
    fb, vb = _split(py)
    for i in range(max(len(fa), len(fb))):
        xa = fa[i] if i < len(fa) else (va.T if va is not None else None)
        yb = fb[i] if i < len(fb) else (vb.T if vb is not None else None)
        if xa is not None and yb is not None:
            _collect(xa, yb, u, inv)
    if va is not None and vb is not None:
        _collect(va.T, vb.T, u, inv)
        if va.N is not None and vb.N is not None:
            _collect(va.N, vb.N, u, True)
    for (f1, v1), f2 in (((fa, va), fb), ((fb, vb), fa)):
        if v1 is not None and u.has(v1.N) and (v1 is va and vb is None or v1 is vb and va is None):
            count = len(f2) - len(f1)
            if count >= 0:
                u.cands[v1.N].append((count, True))


def _open_all(t, env):
    vars_ = []
    while isinstance(t, UnionAll):
        v, t = _open(t, env)
        env.vars[v] = None
        vars_.append(v)
    return vars_, t


def _solve_group(group, u, simple):
    """The value of a group of unified vars: ``("type", t)``, ``("var", new var)`` or None
    when the group has no value (the intersection is empty).

    An invariant meeting pins the group to that type (a type with vars too, solved later);
    covariant meetings only bound it (the meet of what it met).  An abstract value replaces
    the vars only when they are ``simple`` (at most one covariant occurrence per side, where
    ``X where T<:U`` is ``X[U]``); otherwise a variable stays: ``Tuple[T, T] where T``
    meeting ``Tuple[Real, Real]`` is ``Tuple[T, T] where T<:Real``, not
    ``Tuple[Real, Real]``."""
    lb, ub = T.Bottom, T.Any
    for v in group:
        lb, ub = _join(lb, v.lb), _meet(ub, v.ub)
    cands = [c for v in group for c in u.cands[v]]
    ints = {c for c, _ in cands if isinstance(c, int)}
    if ints:
        same = len(ints) == 1 and all(isinstance(c, int) for c, _ in cands)
        return ("type", ints.pop()) if same else None
    invs = [c for c, i in cands if i]
    covs = [c for c, i in cands if not i]
    if invs:
        val = invs[0]
        ok = all(subtype(c, val) and subtype(val, c) for c in invs[1:]) and \
            subtype(lb, val) and subtype(val, ub)
        return ("type", val) if ok else None
    for c in covs:
        ub = _meet(ub, c)
    if (covs and ub is T.Bottom) or not subtype(lb, ub):
        return None
    shapes = [t for v in group for t in u.shapes[v]]
    if shapes:
        return ("type", shapes[0])
    if T.isconcrete(ub) or simple:
        return ("type", ub)
    if len(group) == 1 and group[0].lb is lb and group[0].ub is ub:
        return ("var", group[0])
    return ("var", T._make_typevar(group[0].name, lb, ub))


def _is_simple(group, bodies):
    """Do the group's vars occur at most once, covariantly, in each body?"""
    for body in bodies:
        cov = inv = 0
        for v in group:
            c, i = _occurrences(v, body)
            cov, inv = cov + c, inv + i
        if cov > 1 or inv:
            return False
    return True


def _close(env):
    """Substitute the values of ``env`` into each other; None on a cycle (``T = Ref[S]`` and
    ``S = Ref[T]`` have no solution: Julia's #21132)."""
    for _ in range(len(env) + 1):
        new = {v: T.substitute(t, env) for v, t in env.items()}
        if all(new[v] is env[v] for v in env):
            break
        env = new
    if any(T.occurs(v, t) for v, t in env.items() if t is not v):
        return None
    return env


def _intersect_vars(a, b):
    """``a ∩ b`` when a side has variables: unify the bodies, give each group of vars a value
    (:func:`_solve_group`), substitute, and meet what is left."""
    env0 = _Env()
    va, ba = _open_all(a, env0)
    vb, bb = _open_all(b, env0)
    for x in (ba, bb):
        for v in T.free_vars(x):
            if v not in va and v not in vb:
                va.append(v)
    u = _Unifier(va + vb)
    _collect(ba, bb, u, False)
    env, kept = {}, []
    for group in u.groups():
        sol = _solve_group(group, u, _is_simple(group, (ba, bb)))
        if sol is None:
            return T.Bottom
        kind, val = sol
        if kind == "var":
            kept.append(val)
        for v in group:
            if val is not v:
                env[v] = val
    env = _close(env)
    if env is None:
        return T.Bottom
    ra, rb = T.substitute(ba, env), T.substitute(bb, env)
    if kept or T.free_vars(ra) or T.free_vars(rb):
        kept = kept + [v for v in T.where_vars([ra, rb]) if v not in kept]
        wa, wb = T.rewrap_unionall(ra, kept), T.rewrap_unionall(rb, kept)
        if subtype(wa, wb):
            return wa
        if subtype(wb, wa):
            return wb
        if ra.__pk_kind__ == "tuple" and rb.__pk_kind__ == "tuple":
            ps = _intersect_params(ra.__pk_params__, rb.__pk_params__)
            if ps is None:
                return T.Bottom
            r = T.rewrap_unionall(T.tuple_type(*ps), kept)
            if subtype(r, a) and subtype(r, b):
                return r
        if _unrelated(ra, rb) or _clashing_params(ra, rb):
            return T.Bottom    # (``Real`` and ``List[T] where T``: no value is both)
        return wa          # over-approximation, as Julia's typeintersect may give
    r = intersect(ra, rb)
    if r is not T.Bottom and T.isconcrete(r) and not (subtype(r, a) and subtype(r, b)):
        return T.Bottom    # a concrete candidate must itself be in both (the diagonal rule)
    return r


def _typenames_up(t):
    """The type families of ``t`` and of its supertypes, up to ``Any``."""
    out = []
    while isinstance(t, T.PkType):
        out.append(t.__pk_typename__)
        t = t.__pk_super__
    return out


def _unrelated(a, b):
    """Two DataTypes (variables allowed) neither of whose families is above the other's:
    with single inheritance no value has both types.  A Tuple type is below ``Any`` only, so
    it shares no value with any other family (``List[T] where T`` and ``Tuple[Vararg]``)."""
    for t in (a, b):
        if not isinstance(t, T.PkType) or t.__pk_kind__ in ("union", "pending"):
            return False
    if a.__pk_kind__ == "tuple" or b.__pk_kind__ == "tuple":
        return a.__pk_kind__ != b.__pk_kind__ and T.Any not in (a, b)
    return a.__pk_typename__ not in _typenames_up(b) and \
        b.__pk_typename__ not in _typenames_up(a)


def _clashing_params(a, b):
    """Two DataTypes of one family (or one below the other) whose invariant parameters hold
    different fixed values at some position -- ``Array[T, 2]`` and ``Array[T, 1]``, or
    ``Dict[String, V]`` and ``Dict[Int64, V]``: no value has both types, whatever the
    variables are."""
    for t in (a, b):
        if not isinstance(t, T.PkType) or t.__pk_kind__ in ("union", "pending", "tuple"):
            return False
    up = a
    while up is not None and up.__pk_typename__ is not b.__pk_typename__:
        up = up.__pk_super__
    if up is None:
        up, b = b, a
        while up is not None and up.__pk_typename__ is not b.__pk_typename__:
            up = up.__pk_super__
        if up is None:
            return False
    for p, q in zip(up.__pk_params__, b.__pk_params__):
        if isinstance(p, int) or isinstance(q, int):
            if isinstance(p, int) and isinstance(q, int) and p != q:
                return True
        elif isinstance(p, T.PkType) and isinstance(q, T.PkType) and \
                not T.free_vars(p) and not T.free_vars(q) and \
                not (subtype(p, q) and subtype(q, p)):
            return True
    return False


def intersect_sig(a, b):
    """Element types of ``a ∩ b`` for two signatures (tuples of types or Tuple types)."""
    r = intersect(T.as_sigtype(a), T.as_sigtype(b))
    if r is T.Bottom:
        return None
    _, body = T.unwrap_unionall(r)
    if body.__pk_kind__ == "union":
        # Distinct tuple lengths cannot meet a fixed-length argument list; keep the widest.
        return None if not body.__pk_members__ else tuple(
            T.make_union([m.__pk_params__[i] for m in body.__pk_members__])
            for i in range(len(body.__pk_members__[0].__pk_params__)))
    if body.__pk_kind__ != "tuple":
        return None
    return body.__pk_params__


def morespecific(a, b):
    """Is signature ``a`` strictly more specific than ``b``?

    Julia's main rule is strict subtyping (``a <: b`` and not ``b <: a``).  Signatures with a
    ``Vararg`` are often not subtypes of each other only because of the lengths that just one
    of them accepts (``Tuple[T, Vararg[T]] where T<:Number`` holds 1-tuples that
    ``Tuple[Number, Number, Vararg[Number]]`` does not); Julia then compares them at the
    lengths both accept (specificity.jl: the first is more specific), as does
    :func:`_morespecific_by_arity`."""
    if subtype(a, b):
        return not subtype(b, a)
    if subtype(b, a):
        return False
    return _morespecific_by_arity(a, b)


def _arity_range(sig):
    """(fewest, most) arguments a Tuple signature accepts (most is None when unbounded)."""
    _, body = T.unwrap_unionall(sig)
    fixed, va = _split(body.__pk_params__)
    if va is None:
        return len(fixed), len(fixed)
    if isinstance(va.N, int):
        return len(fixed) + va.N, len(fixed) + va.N
    return len(fixed), None


def _at_arity(sig, n):
    """Signature ``sig`` restricted to calls of ``n`` arguments (its Vararg expanded, and a
    Vararg length variable set to the count), or None when it takes no such call."""
    vars_, body = T.unwrap_unionall(sig)
    fixed, va = _split(body.__pk_params__)
    if va is None:
        return sig if len(fixed) == n else None
    count = n - len(fixed)
    if count < 0 or (isinstance(va.N, int) and va.N != count):
        return None
    env = {va.N: count} if isinstance(va.N, TypeVar) else {}
    params = T.substitute(T.tuple_type(*fixed, *(va.T,) * count), env)
    return T.rewrap_unionall(params, [v for v in vars_ if v not in env])


def _morespecific_by_arity(a, b, extra=3):
    """``a`` is at least as specific as ``b`` at every argument count both accept (tried up
    to a few past the longer fixed part, where the pattern repeats) and strictly more at
    one."""
    if not all(isinstance(T.unwrap_unionall(s)[1], T.PkType) and
               T.unwrap_unionall(s)[1].__pk_typename__ is T.TUPLE_NAME for s in (a, b)):
        return False
    (alo, ahi), (blo, bhi) = _arity_range(a), _arity_range(b)
    if ahi is not None and bhi is not None and ahi == alo and bhi == blo:
        return False                  # fixed arities: subtyping has said everything
    lo = max(alo, blo)
    hi = min(h for h in (ahi, bhi, max(alo, blo) + extra) if h is not None)
    strict = False
    for n in range(lo, hi + 1):
        an, bn = _at_arity(a, n), _at_arity(b, n)
        if an is None or bn is None:
            continue
        if not subtype(an, bn):
            return False
        strict = strict or not subtype(bn, an)
    return strict

"""Slot splitting: give every def-use web of a source variable its own variable.

Python code reuses names freely (seed 004's DemoPkg assigns ``d`` a thousand values of a
thousand different struct types).  Without splitting, inference would join all those types
into one slot, widen it to ``Any`` and box every value.  Like Julia's slot2ssa, we compute
reaching definitions, union the definitions that reach a common use (a *web*) and rename each
web; a variable then has one type per web, which is exact in straight-line code and joins
only where control flow really merges different definitions.
"""

from __future__ import annotations

from dataclasses import replace

from .ir import (Branch, Call, GetField, Intrinsic, IRFunction, Raise, Return, Use,
                 expr_uses, term_uses)


class _UnionFind:
    def __init__(self):
        self.parent = []

    def add(self):
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, x):
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb


def split_slots(f: IRFunction) -> IRFunction:
    uf = _UnionFind()
    def_var = []                        # def id -> variable
    stmt_def = {}                       # (block, index) -> def id
    arg_def = {}
    for a in f.argnames:
        arg_def[a] = uf.add()
        def_var.append(a)
    for b in f.blocks:
        for i, st in enumerate(b.stmts):
            stmt_def[(b.id, i)] = uf.add()
            def_var.append(st.dst)

    # Reaching definitions, per block entry: var -> frozenset(def ids).  An exception can
    # leave a block after any of its statements: what reaches its handler is every
    # definition reaching the block or made in it.
    ins = {0: {a: frozenset((d,)) for a, d in arg_def.items()}}
    work = [0]
    while work:
        bid = work.pop()
        blk = f.blocks[bid]
        cur = dict(ins[bid])
        edges = []
        if blk.handler >= 0:
            anywhere = dict(cur)
            for i, st in enumerate(blk.stmts):
                anywhere[st.dst] = anywhere.get(st.dst, frozenset()) | {stmt_def[(bid, i)]}
            edges.append((blk.handler, anywhere))
        for i, st in enumerate(blk.stmts):
            cur[st.dst] = frozenset((stmt_def[(bid, i)],))
        edges.extend((s, cur) for s in f.successors(blk))
        for s, cur in edges:
            old = ins.get(s)
            if old is None:
                ins[s] = dict(cur)
                work.append(s)
                continue
            changed = False
            for var, ds in cur.items():
                o = old.get(var)
                if o is None or not ds <= o:
                    old[var] = ds if o is None else o | ds
                    changed = True
            if changed:
                work.append(s)

    # Webs: all definitions reaching one use belong together.
    use_def = {}                        # (block, index or 'term', var) -> a def id
    for b in f.blocks:
        if b.id not in ins:
            continue
        cur = dict(ins[b.id])
        for i, st in enumerate(b.stmts):
            for u in expr_uses(st.value):
                ds = cur.get(u)
                if ds:
                    it = iter(ds)
                    first = next(it)
                    for d in it:
                        uf.union(first, d)
                    use_def[(b.id, i, u)] = first
            cur[st.dst] = frozenset((stmt_def[(b.id, i)],))
        for u in term_uses(b.term):
            ds = cur.get(u)
            if ds:
                it = iter(ds)
                first = next(it)
                for d in it:
                    uf.union(first, d)
                use_def[(b.id, "term", u)] = first

    # Names: the web holding an argument keeps the argument's name; a variable with a single
    # web keeps its name; others get ``name.k``.
    webs_of = {}
    for d, var in enumerate(def_var):
        webs_of.setdefault(var, [])
        r = uf.find(d)
        if r not in webs_of[var]:
            webs_of[var].append(r)
    name_of = {}
    for var, roots in webs_of.items():
        arg_root = uf.find(arg_def[var]) if var in arg_def else None
        k = 0
        for r in roots:
            if len(roots) == 1 or r == arg_root:
                name_of[r] = var
            else:
                k += 1
                name_of[r] = f"{var}.{k}"

    def rn(bid, key, var):
        d = use_def.get((bid, key, var))
        return var if d is None else name_of[uf.find(d)]

    blocks = []
    for b in f.blocks:
        if b.id not in ins:
            blocks.append(b)
            continue
        stmts = []
        for i, st in enumerate(b.stmts):
            v = st.value
            if isinstance(v, Use):
                v = Use(rn(b.id, i, v.var))
            elif isinstance(v, (Call, Intrinsic)):
                v = replace(v, args=tuple(rn(b.id, i, a) for a in v.args))
            elif isinstance(v, GetField):
                v = GetField(rn(b.id, i, v.var), v.name)
            dst = name_of[uf.find(stmt_def[(b.id, i)])]
            stmts.append(replace(st, dst=dst, value=v))
        t = b.term
        if isinstance(t, Branch):
            t = replace(t, cond=rn(b.id, "term", t.cond))
        elif isinstance(t, Return):
            t = replace(t, var=rn(b.id, "term", t.var))
        elif isinstance(t, Raise):
            parts = tuple(Use(rn(b.id, "term", p.var)) if isinstance(p, Use) else p
                          for p in t.value.parts)
            t = replace(t, value=replace(t.value, parts=parts))
        blocks.append(replace(b, stmts=stmts, term=t))
    return IRFunction(f.name, f.argnames, blocks, f.filename, f.firstline, f.bindings,
                      reads=f.reads)

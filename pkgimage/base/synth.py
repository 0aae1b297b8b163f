"""Base-library methods whose body is a chain of intrinsic (and generic function) calls,
built as IR directly instead of from source: ``math.sqrt``'s methods, the ``str`` methods per
arity, NumPy's whole-array operations.  Each keeps a Python body (``pyimpl``) that does the
same, for code run as Python."""

from __future__ import annotations

from .. import dispatch as D

MODULE = "pkgimage.base"


def chain(fname, steps, nargs, pyimpl):
    """A method whose IR applies ``steps`` (("intrinsic"|"call", target) in order, each to
    the previous results) to its arguments; ``pyimpl`` is its body run as Python."""
    names = tuple(f"x{i}" for i in range(nargs))

    def synth(method, sparams=()):
        from ..compiler import ir as IR      # (when something compiles: not at an image load)
        loc = (method.line, 0)
        stmts, cur = [], names
        for i, (kind, target) in enumerate(steps):
            dst = f"%s{i}"
            if kind == "intrinsic":
                value = IR.Intrinsic(target, tuple(cur), ())
            elif kind == "each":          # the same call on each argument separately
                for j, v in enumerate(cur):
                    stmts.append(IR.Assign(f"%e{i}_{j}", IR.Call(target, (v,)), loc))
                cur = tuple(f"%e{i}_{j}" for j in range(len(cur)))
                continue
            else:
                value = IR.Call(target, tuple(cur))
            stmts.append(IR.Assign(dst, value, loc))
            cur = (dst,)
        return IR.IRFunction(fname, names, [IR.Block(0, stmts, IR.Return(cur[0]))],
                             method.file, method.line)

    pyimpl.__pk_synth_ir__ = synth
    return pyimpl


def add_synth(f, sig, steps, pyimpl):
    """Add to ``f`` the method on ``sig`` whose body is ``steps`` (``chain``); ``pyimpl`` may
    be shared by several methods (each gets its own function object to carry its IR)."""
    file, line = __file__, 1

    def body(*args):
        return pyimpl(*args)
    fn = chain(f.name, steps, len(sig), body)
    D.insert_method(f, D.Method(f, sig, fn, MODULE, file, line,
                                tuple(f"x{i}" for i in range(len(sig)))))

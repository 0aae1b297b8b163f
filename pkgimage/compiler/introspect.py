"""Reading what the compiler made: method instances, backedge trees, typed IR, LLVM IR."""

from __future__ import annotations

from .. import types as T
from . import codegen, instances
from .inference import (DynamicCall, FieldRef, IntrinsicCall, SplitCall, StaticCall, ThrowingCall,
                        TupleElem)
from .ir import format_expr, format_term
from .pipeline import compile_instance


def methodinstances(f):
    """``pk.methodinstances(f)``: every MethodInstance of ``f`` (each with .spec_types, .backedges)."""
    return instances.methodinstances(f)


def methodinstance(f, types):
    return instances.methodinstance(f, types)


def print_tree(mi, file=None):
    """The backedge tree of a MethodInstance, as MethodAnalysis' ``print_tree`` shows it."""
    print(instances.format_tree(mi), file=file)


def _describe(info):
    if isinstance(info, StaticCall):
        return f"invoke {info.mi!r}"
    if isinstance(info, DynamicCall):
        return f"dynamic {T.sig_repr(info.function.name, info.argtypes)}"
    if isinstance(info, SplitCall):
        return "split " + ", ".join(repr(mi) for _, mi in info.combos)
    if isinstance(info, ThrowingCall):
        return f"throws {info.exc.__name__}"
    if isinstance(info, IntrinsicCall):
        return f"intrinsic {info.name}" + (" (boxed)" if info.dynamic else "")
    if isinstance(info, FieldRef):
        return f"getfield {info.name}"
    if isinstance(info, TupleElem):
        return f"getfield {info.index}"
    return ""


def code_typed(f, types):
    """The inferred IR of ``f`` for ``types``: each statement with its type and resolution."""
    ci = compile_instance(f, tuple(types))
    lines = [f"{ci.mi!r} :: {ci.rettype}"]
    for blk in ci.ir.blocks:
        if blk.id not in ci.reached:
            continue
        lines.append(f"  #{blk.id}")
        for i, st in enumerate(blk.stmts):
            key = (blk.id, i)
            if key not in ci.stmt_info:
                break
            t = ci.stmt_types[key]
            what = _describe(ci.stmt_info[key])
            lines.append(f"    {st.dst} = {format_expr(st.value)} :: {t}" +
                         (f"   ({what})" if what else ""))
        lines.append(f"    {format_term(blk.term)}")
    return "\n".join(lines)


def code_llvm(f, types):
    """The LLVM IR generated for ``f`` for ``types`` (before optimisation)."""
    ci = compile_instance(f, tuple(types))
    mg = codegen.ModuleGen("code_llvm")
    ci_sym = ci.symbol
    if ci_sym is None:
        ci.symbol = codegen.symbol_for(ci)
    mg.add_function(ci)
    return str(mg.module)

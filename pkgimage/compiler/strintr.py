"""Intrinsics of ``String``: Python strings in compiled code.

A ``String`` value is the ``str`` object itself -- CPython's representation, chosen over
Julia's UTF-8 ``String`` because strings then cross to and from Python for nothing and every
operation (indexing by code point, ``split``, ``format``) is Python's own, errors included.
Each intrinsic's Python implementation *is* the ``str`` operation; compiled code calls it
(a string operation costs about what it costs in Python, which allocates its result anyway).
"""

from __future__ import annotations

import operator

from .. import types as T
from .intrinsics import _def

S, I, B = "S", "I", "B"          # argument kinds in the signature tables below


def _kind(t):
    if t is T.String:
        return S
    if t is T.Int64:
        return I
    if t is T.Bool:
        return B
    if T.is_list(t) and t.__pk_eltype__ in (T.String, T.Bottom, T.Any) or \
            t.__pk_kind__ == "pyobject":
        return "L"              # (a list nothing was stored into holds no non-string; one
                                # of Any, or a Python iterable (``reversed(s)``), is checked
                                # by ``str.join`` itself, Python's error)
    return None


def _table_rule(sigs, result):
    def rule(ts, params):
        kinds = tuple(_kind(t) for t in ts)
        return result if kinds in sigs else None
    return rule


# method name -> (accepted argument kinds, the receiver first; result type)
_LIST_OF_STR = None        # (made on first use: List[String])


def _methods():
    global _LIST_OF_STR
    _LIST_OF_STR = T.list_of(T.String)
    same = T.String
    return {
        **{n: ({(S,), (S, S)}, same) for n in ("strip", "lstrip", "rstrip")},
        **{n: ({(S,)}, same) for n in ("upper", "lower", "title", "capitalize", "swapcase",
                                        "casefold")},
        "replace": ({(S, S, S), (S, S, S, I)}, same),
        "zfill": ({(S, I)}, same),
        **{n: ({(S, I), (S, I, S)}, same) for n in ("ljust", "rjust", "center")},
        **{n: ({(S, S), (S, S, I), (S, S, I, I)}, T.Bool) for n in ("startswith", "endswith")},
        **{n: ({(S,)}, T.Bool) for n in ("isdigit", "isalpha", "isspace", "isalnum",
                                          "isupper", "islower", "isnumeric", "isdecimal")},
        **{n: ({(S, S), (S, S, I), (S, S, I, I)}, T.Int64) for n in ("find", "rfind", "count",
                                                                     "index", "rindex")},
        **{n: ({(S,), (S, S), (S, S, I)}, _LIST_OF_STR) for n in ("split", "rsplit")},
        "splitlines": ({(S,), (S, B)}, _LIST_OF_STR),
        "join": ({(S, "L")}, same),
        **{n: ({(S, S)}, T.tuple_type(same, same, same)) for n in ("partition",
                                                                    "rpartition")},
        **{n: ({(S, S)}, same) for n in ("removeprefix", "removesuffix")},
        "expandtabs": ({(S,), (S, I)}, same),
        **{n: ({(S,)}, T.Bool) for n in ("isascii", "isidentifier", "istitle",
                                          "isprintable")},
    }


METHODS = _methods()
# (each implementation is a C callable -- ``str.strip``, ``operator.getitem`` -- which native
# code calls directly: a Python-level wrapper around it cost more than the operation)
for _name, (_sigs, _res) in METHODS.items():
    _def(f"str_{_name}", _table_rule(_sigs, _res))(getattr(str, _name))


# -- operators ---------------------------------------------------------------------------------

_def("str_len", _table_rule({(S,)}, T.Int64))(len)
_def("str_get", _table_rule({(S, I)}, T.String))(operator.getitem)
_def("str_concat", _table_rule({(S, S)}, T.String))(operator.add)
_def("str_repeat", _table_rule({(S, I)}, T.String))(operator.mul)
_def("str_contains", _table_rule({(S, S)}, T.Bool))(operator.contains)    # (``sub in s``)
# ``"%.3f" % x``, ``"%d, %s" % (a, b)``: Python's printf-style formatting
_def("str_percent", lambda ts, params: T.String if len(ts) == 2 and ts[0] is T.String
     else None)(operator.mod)
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    _def(f"str_{_op}", _table_rule({(S, S)}, T.Bool))(getattr(operator, _op))

# conversions: ``int(s)``, ``int(s, 16)``, ``float(s)`` (Python's ValueError on bad input),
# ``ord``, ``chr``, ``hex``/``oct``/``bin`` of an integer
_def("str_int", _table_rule({(S,), (S, I)}, T.Int64))(int)
for _f in (hex, oct, bin):
    _def(f"str_{_f.__name__}", _table_rule({(I,)}, T.String))(_f)
_def("str_float", _table_rule({(S,)}, T.Float64))(float)
_def("str_ord", _table_rule({(S,)}, T.Int64))(ord)
_def("str_chr", _table_rule({(I,)}, T.String))(chr)


def _from_rule(ts, params):
    return T.String if len(ts) == 1 else None


# ``str(x)`` and ``repr(x)`` of any value, as Python prints it
_def("str_str", _from_rule)(str)
_def("str_repr", _from_rule)(repr)


def _format_rule(ts, params):
    return T.String


@_def("str_format", _format_rule)
def str_format(spec, *vals):
    """An f-string: ``spec`` is its parts, a literal ("s", text) or a value ("v",
    conversion, format spec), in order."""
    return format_parts(spec, iter(vals))


def format_parts(parts, vals):
    out = []
    for p in parts:
        if p[0] == "s":
            out.append(p[1])
        else:
            x = next(vals)
            if p[1]:
                x = {"s": str, "r": repr, "a": ascii}[p[1]](x)
            out.append(format(x, p[2]))
    return "".join(out)


def _format_method_rule(ts, params):
    return T.String if ts and ts[0] is T.String else None


# ``"{:d} {:d}".format(i, j)``: Python's own ``str.format`` (positional arguments)
_def("str_format_method", _format_method_rule)(str.format)


SPEC = {"str_format"}

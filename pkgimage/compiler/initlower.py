"""A struct's ``__init__`` as Julia's inner constructor, at the level of its syntax tree.

``def __init__(self, x, y): n = hypot(x, y); self.x = x / n; self.y = y / n`` is compiled
as the constructor method ``Unit(x, y)`` whose body computes the fields into locals and ends
in Julia's ``new(x, y)``: each ``self.f`` of the body becomes the local named ``self.f`` (not
a Python identifier, so it cannot clash with the user's), and every return builds the value
from those locals, converting each to its field's type as the default constructor does.

The struct does not exist until the body returns (it is immutable), so ``self`` can only
set and read its fields: passing it, calling its methods, ``super().__init__`` or returning
a value are errors at the class definition, with the line -- never code that silently
computes something else.
"""

from __future__ import annotations

import ast

from ..errors import CompileError


def field_local(selfname, field):
    """The local a field lives in while ``__init__`` runs."""
    return f"{selfname}.{field}"


class _SelfFields(ast.NodeTransformer):
    def __init__(self, selfname, fields, tname, filename):
        self.selfname, self.fields, self.tname, self.filename = selfname, fields, tname, filename

    def error(self, node, msg):
        raise CompileError(f"struct {self.tname}.__init__: {msg} (an __init__ is the struct's "
                           f"inner constructor: it computes the fields, and the value exists "
                           f"only once it returns)", self.filename, node.lineno,
                           node.col_offset + 1, "struct __init__")

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == self.selfname:
            if node.attr not in self.fields:
                self.error(node, f"{self.selfname}.{node.attr} is not a field (fields: "
                                 f"{', '.join(self.fields)})")
            return ast.copy_location(
                ast.Name(id=field_local(self.selfname, node.attr), ctx=node.ctx), node)
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == self.selfname:
            self.error(node, f"{self.selfname} is used other than to set or read a field")
        return node

    def visit_Call(self, node):
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call) and \
                isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == "super":
            self.error(node, "super() is not available (a struct has no parent struct)")
        return self.generic_visit(node)

    def visit_Return(self, node):
        if node.value is not None and not (isinstance(node.value, ast.Constant) and
                                           node.value.value is None):
            self.error(node, "returns a value (__init__ returns None)")
        return ast.copy_location(ast.Return(value=None), node)


def constructor_def(fdef, fields, tname, filename):
    """The ``FunctionDef`` of the constructor method made from ``__init__``'s ``fdef``: its
    parameters without ``self``, each ``self.f`` the local :func:`field_local` names; and
    the name of the ``self`` parameter.
    Raises :class:`CompileError` (with the line) for a body that is not an inner
    constructor."""
    a = fdef.args
    if not a.args:
        raise CompileError(f"struct {tname}.__init__ takes no self parameter", filename,
                           fdef.lineno, fdef.col_offset + 1, "struct __init__")
    selfname = a.args[0].arg
    tr = _SelfFields(selfname, tuple(fields), tname, filename)
    body = [tr.visit(s) for s in _copy(fdef).body]
    args = ast.arguments(posonlyargs=[], args=list(a.args[1:]), vararg=a.vararg,
                         kwonlyargs=a.kwonlyargs, kw_defaults=a.kw_defaults, kwarg=a.kwarg,
                         defaults=list(a.defaults))
    new = ast.FunctionDef(name=tname, args=args, body=body, decorator_list=[],
                          returns=None, type_comment=None, type_params=[])
    return ast.fix_missing_locations(ast.copy_location(new, fdef)), selfname


def _copy(node):
    import copy
    return copy.deepcopy(node)

"""Module-level definitions an image keeps by their *statement*, re-executed at load.

Most of a closed module is pickled by value (``serialize.py``).  Some common definitions
cannot be: a ``@dataclass`` (its generated ``__init__`` has no source), an ``Enum`` (its
metaclass needs its own class namespace), a ``NamedTuple``, an ``ABC`` or ``Protocol``, a
class with ``@property``/``@classmethod``/``@staticmethod``, a ``functools.lru_cache``
function, a ``typing.TypeVar``, a ``namedtuple(...)``.  Pickle would save them by name
(``module.attr``), and the name cannot be looked up while the module is being restored:
the image built and then could never load.

Such an object is kept as the top-level statement that defines it (its decorators
included): its lines, and the values of the globals that statement reads when it runs
(decorators, bases, default values, the class body -- not function bodies, which read
globals only when called).  At load, those globals are set and the statement's source --
the very text the header's source hash vouches for -- is compiled and executed in the
module's namespace, as the import would have done.  What the statement creates is then
exactly what the top level creates, and its runtime state (an ``lru_cache``'s cache) starts
empty, as after an import.

A definition that is not a top-level statement of its own (a class made inside a function,
one a statement reads while it is itself being defined) fails the build with a message
naming it and saying what to do.
"""

from __future__ import annotations

import __future__
import ast
import linecache

from ..errors import ImageError

_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag


class StatementError(ImageError):
    """The definition cannot be kept as a statement (the message says why)."""


def _tree(path):
    lines = linecache.getlines(path)
    if not lines:
        raise StatementError(f"the source of {path} cannot be read")
    return ast.parse("".join(lines), path)


_TREES: dict = {}


def _binds(stmt, name):
    if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return stmt.name == name
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets = [stmt.target]
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def _evaluated_names(stmt):
    """Global names the statement reads while it executes (not inside function bodies)."""
    names = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list:
                visit(d)
            visit(node.args)
            if node.returns is not None:
                visit(node.returns)
            return
        if isinstance(node, ast.Lambda):
            visit(node.args)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(stmt)
    return names


def find_statement(path, name):
    """(first line, last line, names it reads) of the top-level statement of the source at
    ``path`` that defines ``name``; StatementError when there is none."""
    tree = _TREES.get(path)
    if tree is None:
        tree = _TREES[path] = _tree(path)
    found = [s for s in tree.body if _binds(s, name)]
    if not found:
        raise StatementError(f"{name!r} is not defined by a top-level statement of {path}")
    stmt = found[-1]                    # the last binding is the one the module ended with
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])
    reads = _evaluated_names(stmt)
    if isinstance(stmt, ast.ClassDef):
        reads.discard(stmt.name)        # (its methods' own class)
    return first, stmt.end_lineno, reads


def statement_code(path, first, last, flags):
    """The code of lines ``first``..``last`` of ``path``, at their own line numbers."""
    lines = linecache.getlines(path)
    if len(lines) < last:
        raise ImageError(f"{path}: lines {first}-{last} are missing: the source changed")
    text = "\n" * (first - 1) + "".join(lines[first - 1:last])
    return compile(text, path, "exec", flags=flags & _FUTURE_FLAGS, dont_inherit=True)

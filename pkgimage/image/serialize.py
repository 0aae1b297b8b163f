"""Serialising a closed module's state, and portable references to functions and methods.

The module's *results* are pickled, not its top level: globals, types, generic functions and
the methods it defined (on its own functions and on other modules' ones).  Objects are
written as follows (``ImagePickler.reducer_override``):

* other modules, and objects owned by other modules (functions, types, generic functions,
  classes) -- by reference, resolved by importing that module at load;
* this module's Python functions -- by (qualified name, first line) plus defaults, closure
  values and annotations; the code object itself comes from the module's bytecode
  (CPython's own ``__pycache__``), which the source hash in the header vouches for;
* this module's pkgimage types -- by definition (kind, name, parent, fields), rebuilt with
  the same decorators;
* sets and frozensets in a canonical sorted order, so that the bytes do not depend on the
  hash seed.  CPython's C pickler never calls ``reducer_override`` for exact sets, so they go
  through ``persistent_id`` (called for every object) and come back through
  ``persistent_load``; a set referenced twice is still one set after loading.

An object that cannot be pickled (a thread, a lock, a socket, an open file) fails the build
with a message naming the global and telling to create it in ``__init__()``.
"""

from __future__ import annotations

import importlib
import io
import sys
from _thread import _local as _thread_local   # (``threading.local``, without ``threading``)
import types as pytypes

from .. import dispatch as D
from .. import types as T
from .. import typedefs
from ..constructors import constructor
from ..errors import ImageError

try:
    # The C pickler and unpickler alone: the ``pickle`` module on top of them (and its
    # ``_compat_pickle`` tables) cost 1.7 ms of every process that loads an image.
    import _pickle as pickle
except ImportError:                    # (an interpreter without the C accelerator)
    import pickle

PROTOCOL = 5


class BuildError(ImageError):
    """A module that cannot be written as an image (the message says which global and why)."""


# -- portable references to functions and methods --------------------------------------------

def binding_ref(value, module=None, name=None):
    """A binding edge's value as the image stores it: generic functions, types and modules
    by name (the loader compares identity with what the name resolves to), immutable values
    by value (compared as ``instances.same_binding`` does), objects pickled by reference
    (``from math import sqrt``) by that reference, and anything else as unverifiable (the
    instance is then always recompiled after a load)."""
    from ..compiler.instances import is_value, module_globals
    if module is not None and _in_place_object(value) and \
            (module_globals(module) or {}).get(name) is value:
        # a list, dict, array or mutable struct compiled code reads in place: the object the
        # image restores for the global (holds if it still has the type the code was
        # compiled for)
        return ("global", module, name, T.type_ref(T.typeof(value)))
    if isinstance(value, D.GenericFunction):
        return ("func", func_ref(value))
    if T.is_pktype(value) or isinstance(value, T.UnionAll):
        return ("type", T.type_ref(value))
    if isinstance(value, pytypes.ModuleType):
        return ("module", value.__name__)
    try:
        # pickled on its own: a struct value names its class, which exists only once the
        # module's globals are restored (after the code section is read)
        data = pickle.dumps(value, 4)
        if is_value(value):
            return ("value", data)
        if pickle.loads(data) is value:
            # named by reference (``from math import sqrt``, a class): compared by identity
            return ("value", data)
    except Exception:
        pass
    return ("unverifiable",)


def _in_place_object(v):
    if type(v) in (list, dict):
        return True
    return T.typeof(v).__pk_kind__ in ("array", "mutable")


def binding_from_ref(ref):
    """(ok, value) of a binding reference in this process."""
    kind = ref[0]
    try:
        if kind == "func":
            f = func_from_ref(ref[1])
            return f is not None, f
        if kind == "type":
            return True, T.type_from_ref(ref[1])
        if kind == "module":
            return True, importlib.import_module(ref[1])
        if kind == "value":
            return True, pickle.loads(ref[1])
        if kind == "global":
            from ..compiler.instances import module_globals
            v = (module_globals(ref[1]) or {})[ref[2]]
            return T.typeof(v) is T.type_from_ref(ref[3]), v
    except (LookupError, ImportError, AttributeError, pickle.UnpicklingError):
        pass
    return False, None


def func_ref(f):
    t = getattr(f, "constructs", None)
    if t is not None:
        return ("ctor", T.type_ref(t))
    if getattr(f, "context", None) is not None:       # a context-dispatch view
        g = f.context_global
        return ("view", f.context_name, func_ref(g) if g is not None else None,
                tuple(sorted(f.context)))
    return ("func", f.module, f.qualname)


def func_from_ref(ref):
    if ref[0] == "ctor":
        return constructor(T.type_from_ref(ref[1]))
    if ref[0] == "view":
        from ..contexts import view_for
        for m in ref[3]:
            if m not in sys.modules:
                importlib.import_module(m)
        return view_for(ref[1], func_from_ref(ref[2]) if ref[2] is not None else None,
                        frozenset(ref[3]))
    return D.lookup_function(ref[1], ref[2])


def method_ref(m):
    return (func_ref(m.function), T.type_ref(m.sig), m.module)


def method_from_ref(ref):
    """The Method of this process that ``ref`` names, or None if it no longer exists."""
    try:
        f = func_from_ref(ref[0])
        sig = T.type_from_ref(ref[1])
    except (LookupError, ImportError, AttributeError, KeyError):
        return None
    for m in f.methods:
        if D.sig_equal(m.sig, sig) and m.module == ref[2]:
            return m
    return None


# -- loading context ---------------------------------------------------------------------------

_LOADING = _thread_local()


def _ctx():
    ctx = getattr(_LOADING, "ctx", None)
    if ctx is None:
        raise ImageError("internal: image object rebuilt outside a module load")
    return ctx


class _CodeIndex:
    """The code objects of a module's code, found by ``code_key``.  Indexed by qualified
    name and first line only; the column (which ``code_key`` finds by scanning a code
    object's positions) is computed for the few candidates a lookup names, never for the
    module's own code or its class bodies, whose positions cover the whole module (scanning
    them all took 40 ms of DemoPkg N=1000's load).  ``get`` answers what a dict of every
    code object's full key, first one kept, would (candidates are kept in that order), for
    the module's own code: a lone candidate for a name and line is returned without its
    column being compared."""

    __slots__ = ("_by_line",)

    def __init__(self, code):
        by_line = self._by_line = {}
        stack = [code]
        while stack:
            c = stack.pop()
            by_line.setdefault((c.co_qualname, c.co_firstlineno), []).append(c)
            stack.extend(k for k in c.co_consts if isinstance(k, pytypes.CodeType))

    def get(self, key):
        found = self._by_line.get(tuple(key[:2]), ())
        if len(found) == 1:
            # The only code object of that name on that line: the column can only tell it
            # from another one there (two lambdas on a line), and scanning its positions
            # cost 15-20 us a function (``f`` of DemoPkg N=1000: a millisecond alone).
            # (The module's code is the image's source's, which the header's hash vouches
            # for, so a lone candidate is the one the image named.)
            return found[0]
        for c in found:
            if code_key(c) == tuple(key):
                return c
        return None


def _code_index(code):
    return _CodeIndex(code)


def code_key(c):
    """How an image names a function's code in its module's: (qualified name, first line,
    first column of its code on that line).  Two lambdas on one line share the first two
    (and one may be a closure, the other not)."""
    col = min((p[2] for p in c.co_positions()
               if p[0] == c.co_firstlineno and p[2] is not None and p[2] > 0), default=0)
    return c.co_qualname, c.co_firstlineno, col


class LoadContext:
    """The module being filled and its code objects; ``members``: {name: (module, code)} of
    the package's submodules the same image holds (``packages.py``)."""

    def __init__(self, module, code, members=None):
        self.module = module
        self.code = code
        self.codes = _code_index(code)
        self._members = dict(members or {})
        self._member_codes = {}
        self.statements = set()          # (member, first line) of statements run here

    def flags_of(self, member):
        """The compiler flags (``from __future__`` imports) of the module's code."""
        return self.code.co_flags if member is None else self._members[member][1].co_flags

    def of(self, member):
        """(module, code index) of ``member`` (None: the image's own module)."""
        if member is None:
            return self.module, self.codes
        mod, code = self._members[member]
        if member not in self._member_codes:
            self._member_codes[member] = _code_index(code)
        return mod, self._member_codes[member]

    def __enter__(self):
        _LOADING.ctx = self
        return self

    def __exit__(self, *exc):
        _LOADING.ctx = None


def _rebuild_function(key, name, defaults, kwdefaults, closure, annotations, fdict,
                      member=None):
    module, codes = _ctx().of(member)
    code = codes.get(tuple(key))
    qualname, firstlineno = key[0], key[1]
    if code is None:
        raise ImageError(f"function {qualname} (line {firstlineno}) is not in the module's "
                         f"code: the source changed")
    cells = tuple(pytypes.CellType(v) for v in closure) if closure is not None else None
    fn = pytypes.FunctionType(code, module.__dict__, name, defaults, cells)
    fn.__qualname__ = qualname
    fn.__kwdefaults__ = kwdefaults
    fn.__annotations__ = annotations
    fn.__module__ = module.__name__
    if fdict:
        fn.__dict__.update(fdict)
    return fn


def _rebuild_class(name, qualname, bases, ns, member=None):
    ns = dict(ns)
    ns["__qualname__"] = qualname
    ns["__module__"] = _ctx().of(member)[0].__name__
    return type(name, bases, ns)


def _run_statement(name, first, last, reads, member=None):
    """The object a top-level statement defines, by running that statement (its lines of
    the module's source) in the module's namespace, with the globals it reads
    (``statements.py``)."""
    from .statements import statement_code
    ctx = _ctx()
    module, _ = ctx.of(member)
    if (member, first) not in ctx.statements:
        module.__dict__.update(reads)
        code = statement_code(module.__file__, first, last, ctx.flags_of(member))
        exec(code, module.__dict__)
        ctx.statements.add((member, first))
    try:
        return module.__dict__[name]
    except KeyError:
        raise ImageError(f"{module.__file__}:{first}: the statement no longer defines "
                         f"{name!r}: the source changed") from None


def _rebuild_pktype(kind, name, qualname, parent, fields, loc, ns, params=(), member=None):
    if not params:
        return typedefs.restore(kind, name, qualname, _ctx().module.__name__, parent, fields,
                                loc, ns)
    body = dict(ns)
    body["__qualname__"] = qualname
    body["__module__"] = _ctx().of(member)[0].__name__
    if kind == "struct":
        body["__annotations__"] = dict(fields)
    if params:
        body["__orig_bases__"] = (typedefs._GenericBase(tuple(params)),)
    cls = type(name, (), body) if parent is T.Any else T.PkType(name, (parent,), body)
    t = typedefs.struct(cls) if kind == "struct" else typedefs.abstract(cls)
    if params:
        tn = T.typename_of(t)
        for inst in tn.cache.values():
            type.__setattr__(inst, "__pk_loc__", tuple(loc))
    else:
        type.__setattr__(t, "__pk_loc__", tuple(loc))
    return t


def _rebuild_mutable(name, qualname, parent, names, loc, ns, member=None):
    from .. import mutables
    return mutables.restore(name, qualname, _ctx().of(member)[0].__name__, parent, names, loc,
                            ns)


def _set_mutable_fields(t, fields):
    from .. import mutables
    mutables.set_fields(t, fields)


def _apply_type(wrapper, params):
    return wrapper[tuple(params)]


def _own_function(name, module, qualname):
    f = D.FUNCTIONS.get((module, qualname))
    if f is None:
        f = D.GenericFunction(name, module, qualname)
        D.FUNCTIONS[(module, qualname)] = f
    return f


def _import_attr(module, qualname):
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


_GENERATORS = ("pkgimage.typedefs", "pkgimage.mutables")     # (modules making struct attrs)
_GENERATED_STRUCT_ATTRS = {"__setstate__", "__setattr__", "__delattr__", "__eq__", "__hash__",
                           "__repr__", "__reduce__", "__match_args__", "__slots__", "__module__",
                           "__qualname__", "__dict__", "__weakref__", "__annotations__"}


def _class_namespace(cls, skip=()):
    out = {}
    for k, v in cls.__dict__.items():
        if k.startswith("__pk_") or k in skip or k in ("__dict__", "__weakref__"):
            continue
        if k in _GENERATED_STRUCT_ATTRS and (getattr(v, "__module__", None) in _GENERATORS
                                             or k in ("__slots__", "__module__", "__qualname__",
                                                      "__match_args__", "__annotations__")):
            continue
        if isinstance(v, pytypes.MemberDescriptorType):
            continue
        out[k] = v
    return out


def _compose(t):
    """A union, list, dict or closure type rebuilt from its parts (pickled as objects)."""
    if t.__pk_kind__ == "union":
        return (T.make_union, (list(t.__pk_members__),))
    if t.__pk_kind__ == "list":
        return (T.list_of, (t.__pk_eltype__,))
    if t.__pk_kind__ == "closure":
        return (T.closure_type, (t.__pk_function__, t.__pk_captures__))
    return (T.dict_of, (t.__pk_keytype__, t.__pk_valtype__))


class ImagePickler(pickle.Pickler):
    """``members``: the package's submodules kept in the same image, whose objects are
    written by definition too (their rebuilders get the member's name as a last argument)."""

    def __init__(self, file, modname, members=()):
        super().__init__(file, protocol=PROTOCOL)
        self.modname = modname
        self.members = frozenset(members)
        self._sets = {}          # id(set) -> (persistent id, the set): one id per object

    def persistent_id(self, obj):
        t = type(obj)
        if t is not set and t is not frozenset:
            return None
        hit = self._sets.get(id(obj))
        if hit is None:
            # The same tuple object every time: pickle memoises it, so the loader sees one
            # tuple and rebuilds one set (see ImageUnpickler.persistent_load).
            pid = ("set" if t is set else "frozenset", tuple(sorted(obj, key=_sort_key)))
            hit = self._sets[id(obj)] = (pid, obj)
        return hit[0]

    def _own(self, module):
        """() when ``module`` is the image's module, (name,) when it is a member, else None:
        the extra arguments of the rebuilders."""
        if module == self.modname:
            return ()
        return (module,) if module in self.members else None

    def reducer_override(self, obj):
        if isinstance(obj, pytypes.ModuleType):
            return (importlib.import_module, (obj.__name__,))
        if isinstance(obj, D.GenericFunction):
            if getattr(obj, "constructs", None) is not None:
                return (constructor, (obj.constructs,))
            if self._own(obj.module) is not None:
                return (_own_function, (obj.name, obj.module, obj.qualname))
            return (func_from_ref, (func_ref(obj),))
        if isinstance(obj, T.UnionAll):
            tn = T.typename_of(obj)
            own = None if tn is None or tn.wrapper is not obj else self._own(tn.module)
            if own is not None:
                # This module's parametric type: by definition, with its type variables.
                body = tn.primary
                fields = tuple(getattr(body, "__pk_fields__", ()))
                ns = _class_namespace(body, skip={n for n, _ in fields})
                return (_rebuild_pktype, (body.__pk_kind__, tn.name, tn.qualname,
                                          body.__pk_super__, fields, tuple(body.__pk_loc__),
                                          ns, tuple(tn.vars)) + own)
            return NotImplemented
        if isinstance(obj, T.PkType) and obj.__pk_params__ and \
                isinstance(obj.__pk_typename__.wrapper, T.UnionAll) and \
                obj.__pk_typename__ is not T.ARRAY_NAME:
            # An instantiation of a parametric type (``AP[T]`` of another module, with this
            # module's ``T``): its parameters are pickled as objects, so a TypeVar is the
            # same object here and in the struct that uses it.
            return (_apply_type, (obj.__pk_typename__.wrapper, obj.__pk_params__))
        if isinstance(obj, T.PkType):
            own = self._own(getattr(obj, "__pk_module__", None)) \
                if obj.__pk_kind__ in ("abstract", "struct", "mutable") else None
            if own is None:
                if obj.__pk_kind__ in ("union", "list", "dict", "closure") and \
                        self._names_own(obj):
                    # (by its parts: a mutable struct's field ``Optional["Node"]`` names
                    # the struct being restored, which no reference can look up yet)
                    return _compose(obj)
                return (T.type_from_ref, (T.type_ref(obj),))
            fields = tuple(getattr(obj, "__pk_fields__", ()))
            if obj.__pk_kind__ == "mutable":
                # the fields' types after the type itself (pickle's state): they may name it
                ns = _class_namespace(obj, skip={n for n, _ in fields})
                return (_rebuild_mutable, (obj.__name__, obj.__qualname__, obj.__pk_super__,
                                           tuple(n for n, _ in fields), tuple(obj.__pk_loc__),
                                           ns) + own, fields, None, None, _set_mutable_fields)
            ns = _class_namespace(obj, skip={n for n, _ in fields})
            return (_rebuild_pktype, (obj.__pk_kind__, obj.__name__, obj.__qualname__,
                                      obj.__pk_super__, fields, tuple(obj.__pk_loc__), ns)
                    + (((), *own) if own else ()))
        if isinstance(obj, pytypes.FunctionType):
            own = self._own(obj.__module__)
            if own is None:
                return NotImplemented      # pickle's own by-reference save (module.qualname)
            if obj.__code__.co_filename != self._file(own):
                # A wrapper made elsewhere that calls itself this module's (functools.wraps):
                # its code is not in the module's; the decorated definition is run again.
                return self._by_statement(obj, own, "function")
            closure = None
            if obj.__closure__ is not None:
                closure = tuple(c.cell_contents for c in obj.__closure__)
            fdict = dict(obj.__dict__) if obj.__dict__ else None
            key = code_key(obj.__code__)
            if key[0] != obj.__qualname__:
                key = (obj.__qualname__,) + key[1:]
            return (_rebuild_function, (key, obj.__name__, obj.__defaults__, obj.__kwdefaults__,
                                        closure, dict(obj.__annotations__), fdict) + own)
        if isinstance(obj, type) and not isinstance(obj, T.PkType):
            own = self._own(obj.__module__)
            if own is not None:
                if not self._plain_class(obj, own):
                    return self._by_statement(obj, own, "class")
                return (_rebuild_class, (obj.__name__, obj.__qualname__, obj.__bases__,
                                         _class_namespace(obj)) + own)
            return NotImplemented
        # Another object this module defines by name (an lru_cache function, a TypeVar):
        # pickle would save it as ``module.name``, which cannot be looked up while the module
        # is being restored.
        try:
            modname = obj.__module__
        except Exception:
            return NotImplemented
        own = self._own(modname) if isinstance(modname, str) else None
        if own is not None:
            name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
            if isinstance(name, str) and sys.modules[modname].__dict__.get(name) is obj:
                return self._by_statement(obj, own, type(obj).__name__)
        return NotImplemented

    def _names_own(self, t):
        """Does type ``t`` mention a struct type of the module being written?"""
        if t.__pk_kind__ in ("struct", "mutable", "abstract"):
            return self._own(getattr(t, "__pk_module__", None)) is not None
        parts = t.__pk_members__ if t.__pk_kind__ == "union" else \
            t.__pk_captures__ if t.__pk_kind__ == "closure" else t.__pk_params__
        return any(isinstance(p, T.PkType) and self._names_own(p) for p in parts)

    def _file(self, own):
        return sys.modules[own[0] if own else self.modname].__file__

    def _plain_class(self, cls, own):
        """Can ``cls`` be rebuilt as ``type(name, bases, namespace)``?  Not when a metaclass
        builds it (Enum, ABC, Protocol), when code was generated for it (dataclass,
        NamedTuple) or when it holds descriptors (property, classmethod, staticmethod)."""
        if type(cls) is not type:
            return False
        d = cls.__dict__
        if "__dataclass_fields__" in d or "_fields" in d:
            return False
        path = self._file(own)
        for v in d.values():
            if isinstance(v, (property, classmethod, staticmethod)) or \
                    type(v).__name__ == "cached_property":
                return False
            if isinstance(v, pytypes.FunctionType) and (
                    v.__code__.co_filename != path or "__class__" in v.__code__.co_freevars):
                return False          # (``super()``: a cell holding the class itself)
        return True

    def _by_statement(self, obj, own, what):
        from .statements import StatementError, find_statement
        modname = own[0] if own else self.modname
        module = sys.modules[modname]
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "?")
        try:
            if module.__dict__.get(name) is not obj:
                raise StatementError("it is not a global of the module under its own name "
                                     "(defined inside a function or another class?)")
            first, last, reads = find_statement(module.__file__, name)
        except StatementError as e:
            raise BuildError(
                f"module {modname}: {what} {name} cannot be stored in a package image: {e}; "
                f"define it at the top level of the module, or in a plain module (without "
                f"`__pkgimage__`) that this one imports") from None
        gl = module.__dict__
        reads = {n: gl[n] for n in sorted(reads) if n in gl and n != name}
        return (_run_statement, (name, first, last, reads) + own)


class ImageUnpickler(pickle.Unpickler):
    def __init__(self, file):
        super().__init__(file)
        self._sets = {}          # id(persistent id) -> (the set, the id kept alive)

    def persistent_load(self, pid):
        hit = self._sets.get(id(pid))
        if hit is None:
            kind, items = pid
            if kind not in ("set", "frozenset"):
                raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
            hit = self._sets[id(pid)] = ((set if kind == "set" else frozenset)(items), pid)
        return hit[0]


def _sort_key(x):
    """A total order on set elements that does not depend on the hash seed (nested sets are
    ordered by their sorted contents, not by their repr, which follows the hash order)."""
    t = type(x)
    if t is set or t is frozenset:
        return (t.__name__, tuple(sorted(map(_sort_key, x))))
    if t is tuple:
        return ("tuple", tuple(map(_sort_key, x)))
    return (t.__name__, repr(x))


def dumps_state(modname, state, members=()):
    buf = io.BytesIO()
    ImagePickler(buf, modname, members).dump(state)
    return buf.getvalue()


def check_globals(modname, gl, members=()):
    """Raise BuildError naming the first global that cannot live in an image."""
    for name, value in gl.items():
        try:
            dumps_state(modname, value, members)
        except BuildError:
            raise                        # names the construct and what to do already
        except Exception as e:
            what = type(value).__name__
            raise BuildError(
                f"module {modname}: global {name!r} (a {type(value).__module__}.{what}) cannot "
                f"be stored in a package image ({e}); create it in __init__() instead, which "
                f"runs at every load") from None


def loads_state(data, module, code, members=None):
    with LoadContext(module, code, members):
        return ImageUnpickler(io.BytesIO(data)).load()


def module_globals(module):
    """The globals an image keeps: everything but the import machinery's own entries."""
    skip = {"__builtins__", "__loader__", "__spec__", "__file__", "__cached__", "__name__",
            "__package__", "__path__"}
    return {k: v for k, v in module.__dict__.items() if k not in skip}


def own_methods(modname):
    """Methods the module defined (those its definitions make again excepted), in order."""
    out = []
    for f in list(D.FUNCTIONS.values()):
        for m in f.methods:
            if m.module == modname and not D.made_by_definition(m) \
                    and f.module != "pkgimage.contexts.views":
                out.append(m)
    out.sort(key=lambda m: (m.primary_world))
    return out


__all__ = ["BuildError", "func_ref", "func_from_ref", "method_ref", "method_from_ref",
           "dumps_state", "loads_state", "check_globals", "module_globals", "own_methods",
           "sys"]

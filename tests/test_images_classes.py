"""Common Python definitions in a pkgimage module go into its image and load from it
(``pkgimage/image/statements.py``), giving what the source gives; a definition that cannot
be kept fails the build naming it, never an image that builds and can never load."""

from __future__ import annotations

import textwrap

import pytest

from imagetools import Project

CASES = {
    "dataclass": """
        from dataclasses import dataclass, field
        @dataclass
        class P:
            x: int
            y: int = 2
            z: list = field(default_factory=list)
        def check():
            return (P(1), P(1) == P(1, 2), P(3).y)
    """,
    "frozen_dataclass": """
        from __future__ import annotations
        from dataclasses import dataclass
        @dataclass(frozen=True, order=True)
        class P:
            x: int
        def check():
            return (P(1) < P(2), hash(P(1)) == hash(P(1)), P.__annotations__)
    """,
    "enum": """
        import enum
        class Color(enum.Enum):
            RED = 1
            GREEN = 2
            def describe(self):
                return self.name.lower()
        FAV = Color.RED
        def check():
            return (Color(1), FAV is Color.RED, list(Color), Color['GREEN'].describe())
    """,
    "intflag": """
        import enum
        class Flag(enum.IntFlag):
            A = 1
            B = 2
        def check():
            return (Flag.A | Flag.B, int(Flag.B))
    """,
    "namedtuple": """
        import collections
        from typing import NamedTuple
        class Pt(NamedTuple):
            x: int
            y: int = 0
        Q = collections.namedtuple('Q', 'a b')
        ORIGIN = Pt(0, 0)
        def check():
            return (Pt(1), Pt(1, 2)._replace(x=5), Q(1, 2).b, ORIGIN)
    """,
    "abc": """
        import abc
        class Base(abc.ABC):
            @abc.abstractmethod
            def f(self): ...
        class Impl(Base):
            def f(self):
                return 1
        def check():
            try:
                Base()
                refused = False
            except TypeError:
                refused = True
            return (refused, Impl().f(), isinstance(Impl(), Base))
    """,
    "protocol": """
        from typing import Protocol, runtime_checkable
        @runtime_checkable
        class HasF(Protocol):
            def f(self) -> int: ...
        class A:
            def f(self):
                return 1
        def check():
            return (isinstance(A(), HasF), isinstance(1, HasF))
    """,
    "descriptors": """
        class C:
            def __init__(self, v):
                self._v = v
            @property
            def v(self):
                return self._v
            @classmethod
            def make(cls):
                return cls(7)
            @staticmethod
            def s(x):
                return x + 1
        class D(C):
            def __init__(self):
                super().__init__(9)
        def check():
            return (C.make().v, C.s(1), D().v, type(D()).__mro__[1].__name__)
    """,
    "lru_cache": """
        import functools
        @functools.lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        @functools.cache
        def sq(n):
            return n * n
        def check():
            return (fib(30), sq(4), fib.cache_info().maxsize)
    """,
    "typevar": """
        import typing
        T = typing.TypeVar('T')
        U = typing.TypeVar('U', bound=int)
        def ident(x: T) -> T:
            return x
        def check():
            return (ident(3), T.__name__, U.__bound__, ident.__annotations__['x'] is T)
    """,
}

PROBE = """
import {m}
from pkgimage.image import loader
done({{'check': repr({m}.check()), 'loaded': '{m}' in loader.LOADED}})
"""


@pytest.mark.parametrize("case", sorted(CASES))
def test_common_definition_goes_into_the_image_and_loads(tmp_path, case):
    proj = Project(tmp_path)
    m = f"cls_{case}"
    body = textwrap.dedent(CASES[case]).strip() + "\n"
    future = "from __future__ import annotations\n"
    head = "import pkgimage as pk\n__pkgimage__ = True\n"
    if body.startswith(future):              # (it must come first)
        body, head = body[len(future):], future + head
    proj.write(m, head + body)
    source = proj.run_json(PROBE.format(m=m))          # no image: plain Python
    assert source["loaded"] is False
    proj.build(m)
    for _ in range(2):                                  # (the second: the code sidecar)
        out = proj.run_json(PROBE.format(m=m))
        assert out["loaded"] is True, out["_stderr"]
        assert out["_stderr"] == ""
        assert out["check"] == source["check"]


def test_a_class_made_inside_a_function_fails_the_build_naming_it(tmp_path):
    proj = Project(tmp_path)
    proj.write("cls_local", """
        import pkgimage as pk
        from dataclasses import dataclass
        __pkgimage__ = True
        def make():
            @dataclass
            class Inner:
                x: int
            return Inner
        Made = make()
    """)
    r = proj.build("cls_local", check=False)
    assert r.returncode == 1 and proj.images() == []
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "class make.<locals>.Inner cannot be stored" in lines[0], lines[0]
    assert "define it at the top level" in lines[0] and "__init__()" not in lines[0]

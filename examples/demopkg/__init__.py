"""DemoPkg (seed 004): a generated package with N+1 struct types and one function ``f`` that
converts through all of them, designed to have measurable compile latency.

``generate.py`` writes the module for any N (``generate(n, path)``, or from the command line
``python examples/demopkg/generate.py N OUTDIR`` / ``python -m demopkg N OUTDIR`` with
``examples`` on the path), or builds it in memory with ``exec`` (``exec_module(n)``).
"""

from .generate import exec_module, generate, source

__all__ = ["exec_module", "generate", "source"]

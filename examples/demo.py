"""The main demonstration (``make demo``): the seed documents' examples, end to end.

1. Multiple dispatch with Julia's rules (the manual's ``ambig`` example).
2. Compilation: seed 004's BackedgeDemo -- MethodInstances and backedge trees.
3. Exact invalidation: seed 003's modules M and N redefining ``+``.
4. Seed 003's Ring modules.
5. Package images: seed 004's DemoPkg (N=1000) in fresh processes, cold versus with its image,
   and PackageThatPrints (top level only at build, ``__init__`` at every load).
6. A post-close precompilation workload in a forked sandbox (seed 002).
7. ``pkgimage verify``: the images are byte-reproducible and cover their workloads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import pkgimage as pk  # noqa: E402


def title(t):
    print(f"\n=== {t} " + "=" * max(0, 70 - len(t)))


def run(code, env, cwd):
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True,
                       text=True)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"demo step failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout.strip(), r.stderr.strip(), dt


def main():
    work = tempfile.mkdtemp(prefix="pkgimage-demo-")
    env = dict(os.environ, PKGIMAGE_CACHE=os.path.join(work, "cache"), PKGIMAGE_AUTO="0",
               PYTHONPATH=os.pathsep.join([work, HERE] + sys.path[1:]))

    title("1. Multiple dispatch (Julia manual's `ambig`)")
    demo_src = os.path.join(work, "ambigdemo.py")
    with open(demo_src, "w") as f:
        f.write(textwrap.dedent('''
            import pkgimage as pk
            from pkgimage import Integer, Int64, Number
            @pk.generic
            def ambig(x, y): return 1
            @pk.generic
            def ambig(x: Integer, y): return 2
            @pk.generic
            def ambig(x, y: Integer): return 3
            @pk.generic
            def ambig(x: Int64, y: Int64): return 4
            @pk.generic
            def ambig(x: Number, y): return 5
        '''))
    sys.path.insert(0, work)
    import ambigdemo
    print("ambig(3.1, 3.2) =", ambigdemo.ambig(3.1, 3.2), "  ambig(3, 4) =", ambigdemo.ambig(3, 4))
    try:
        ambigdemo.ambig(np.uint8(3), 4)
    except pk.AmbiguityError as e:
        print(str(e).splitlines()[0], "...", str(e).splitlines()[-1].strip())

    title("2. BackedgeDemo (seed 004): inference, MethodInstances, backedges")
    import backedge_demo as B
    print("calldouble2([1.0]) =", B.calldouble2(np.array([1.0])))
    print("calldouble2(AbstractFloat[1.0f0]) =",
          B.calldouble2(pk.Vector[pk.AbstractFloat]([np.float32(1.0)])))
    for mi in pk.methodinstances(B.double):
        pk.print_tree(mi)

    title("3. Modules M and N redefining + (seed 003): exact invalidation")
    script = os.path.join(work, "m_then_n.py")
    with open(script, "w") as f:
        f.write("from module_m_n import M\nprint('M.f(1.0, 2.0) =', M.f(1.0, 2.0))\n"
                "from module_m_n import N\nprint('after importing N: M.f(1.0, 2.0) =', "
                "M.f(1.0, 2.0))\n")
    print("$ pkgimage invalidations m_then_n.py")
    cli(env, work, "invalidations", script)

    title("4. Ring modules (seed 003), global dispatch")
    from ring import foo_int, foo_Q, ring_fma
    print("ring_fma(foo_int(3), foo_int(2), foo_int(5)) =", ring_fma(foo_int(3), foo_int(2), foo_int(5)))
    R = pk.Rational[pk.Int64]
    print("ring_fma(foo_Q(3//1), foo_Q(2), foo_Q(5//1)) =", ring_fma(foo_Q(R(3, 1)), foo_Q(2), foo_Q(R(5, 1))))
    try:
        ring_fma(2.2, 3.2, 2.3)
    except pk.ErrorException as e:
        print("ring_fma(2.2, 3.2, 2.3) raises:", e)

    title("5. Package images: DemoPkg N=1000 (seed 004)")
    from demopkg.generate import generate
    generate(1000, work, "DemoPkg", precompile=True, image=True)
    probe = ("import time; t0 = time.perf_counter(); import DemoPkg; t1 = time.perf_counter(); "
             "r = DemoPkg.f(5); t2 = time.perf_counter(); import sys; "
             "print(r, f'import {t1-t0:.3f}s  first call {1e3*(t2-t1):.3f} ms  ', "
             "'compiler imported' if 'pkgimage.compiler.inference' in sys.modules else 'no compiler imported'); "
             "print(t2 - t1)")
    # Cold: the same module without its pk.precompile line (which would compile at import),
    # no image: the first call infers and compiles all 1001 constructors.
    cold_dir = os.path.join(work, "cold")
    generate(1000, cold_dir, "DemoPkg")
    cold = dict(env, PKGIMAGE_CACHE=os.path.join(work, "empty-cache"),
                PYTHONPATH=os.pathsep.join([cold_dir, env["PYTHONPATH"]]))
    out, _, dt = run("import pkgimage\n" + probe, cold, cold_dir)
    out, first_cold = out.rsplit("\n", 1)
    print(f"cold (no image, runs the top level):  {out}   [process {dt:.2f}s]")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet", "DemoPkg"], env=env,
                   cwd=work, check=True)
    print(f"pkgimage build DemoPkg: {time.perf_counter() - t:.1f}s")
    out, _, dt = run("import pkgimage\n" + probe, env, work)
    out, first_image = out.rsplit("\n", 1)
    print(f"with its image:                        {out}   [process {dt:.2f}s]")
    print(f"first call with the image is {float(first_cold) / float(first_image):,.0f}x faster "
          f"than cold")

    with open(os.path.join(work, "PackageThatPrints.py"), "w") as f:
        f.write(textwrap.dedent('''
            import pkgimage as pk
            __pkgimage__ = True
            print("This prints only during precompilation")
            def __init__():
                print("This prints every time the package is loaded")
        '''))
    print("building PackageThatPrints:")
    subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet", "PackageThatPrints"],
                   env=env, cwd=work, check=True)
    out, _, _ = run("import PackageThatPrints", env, work)
    print("loading it:", out)

    title("6. A post-close workload in a forked sandbox (seed 002)")
    with open(os.path.join(work, "NeedsInit.py"), "w") as f:
        f.write(textwrap.dedent('''
            import threading, time
            import numpy as np
            import pkgimage as pk
            from pkgimage import Float64, Int64, Vector
            __pkgimage__ = True

            TABLE = None                      # created by __init__, never stored in the image

            def __init__():
                global TABLE
                TABLE = np.linspace(0.0, 1.0, 11)

            @pk.generic
            def scaled(t: Vector[Float64], i: Int64, k: Float64):
                return t[i] * k

            def value(i):
                return scaled(TABLE, i, 10.0)

            @pk.precompilation(__name__)
            def _workload():
                # After the close, in a forked child: __init__ already ran, so just call.
                threading.Thread(target=time.sleep, args=(3600,)).start()   # left running
                assert value(5) == 5.0
        '''))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet", "NeedsInit"], env=env,
                   cwd=work, check=True)
    print(f"built NeedsInit with a workload that leaves a thread running: "
          f"{time.perf_counter() - t:.2f}s")
    out, _, _ = run("import NeedsInit, sys, pkgimage.image.loader as L; print('value(5) =', "
                    "NeedsInit.value(5), '| instances loaded:', L.STATS['loaded_instances'], "
                    "'| compiler imported:', 'pkgimage.compiler.inference' in sys.modules)",
                    env, work)
    print(out)

    title("7. The language: tuples, arrays of any rank, parametric types")
    open(os.path.join(work, "Geometry.py"), "w").write(textwrap.dedent('''
        import numpy as np
        import pkgimage as pk
        from pkgimage import Real, Int64, Float64
        __pkgimage__ = True
        T = pk.TypeVar("T", bound=Real)

        @pk.struct
        class Point(pk.Generic[T]):
            x: T
            y: T

        @pk.generic
        def norm2(p: Point[T]):
            return p.x * p.x + p.y * p.y

        @pk.generic
        def extent(ps: pk.Vector[Point[T]]):
            lo, hi = ps[0].x, ps[0].x
            for i in range(len(ps)):
                lo, hi = min(lo, ps[i].x), max(hi, ps[i].x)
            return lo, hi

        @pk.generic
        def matmul(A: pk.Matrix[Float64], B: pk.Matrix[Float64]):
            n, k = A.shape
            C = np.zeros((n, B.shape[1]))
            for i in range(n):
                for j in range(B.shape[1]):
                    s = 0.0
                    for l in range(k):
                        s += A[i, l] * B[l, j]
                    C[i, j] = s
            return C

        @pk.precompilation(__name__)
        def _workload():
            norm2(Point(3.0, 4.0)); norm2(Point(3, 4))
            P = Point[Float64]
            extent(pk.Vector[P]([P(1.0, 2.0), P(-1.0, 0.0)]))
            matmul(np.eye(2), np.ones((2, 3)))
        '''))
    subprocess.run([sys.executable, "-m", "pkgimage", "build", "--quiet", "Geometry"], env=env,
                   cwd=work, check=True)
    out, _, _ = run("import sys, numpy as np, Geometry as G; P = G.Point[G.Float64]; "
                    "print('norm2(Point(3.0, 4.0)) =', G.norm2(G.Point(3.0, 4.0)), "
                    "'| norm2(Point(3, 4)) =', G.norm2(G.Point(3, 4))); "
                    "print('extent =', G.extent(G.pk.Vector[P]([P(2.0, 0.0), P(-5.0, 1.0), "
                    "P(7.5, 2.0)]))); A = np.arange(6.0).reshape(2, 3); "
                    "print('matmul == A @ A.T:', np.allclose(G.matmul(A, A.T), A @ A.T), "
                    "'| compiler imported:', 'pkgimage.compiler.inference' in sys.modules)",
                    env, work)
    print(out)

    title("8. pkgimage verify (the CI check)")
    print("$ pkgimage verify NeedsInit PackageThatPrints")
    cli(env, work, "verify", "NeedsInit", "PackageThatPrints")
    print(f"\n(demo files and image cache in {work})")


def cli(env, cwd, *args):
    """Run a ``pkgimage`` command as a user would, its output shown as it comes."""
    r = subprocess.run([sys.executable, "-m", "pkgimage", *args], env=env, cwd=cwd)
    if r.returncode != 0:
        raise SystemExit(f"demo step failed: pkgimage {' '.join(args)} "
                         f"(exit status {r.returncode})")


if __name__ == "__main__":
    main()

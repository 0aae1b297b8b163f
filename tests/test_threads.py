"""Calling generic functions from many Python threads at once, where the calls compile,
invalidate or load images: no crash, no wrong answer (issue 16, "Threads").

Each scenario runs in a fresh process, so a crash (the segmentation fault these used to
cause) is a failed test, not a dead test runner."""

import os
import subprocess
import sys
import textwrap

from imagetools import Project

# `make fuzz` (PKGIMAGE_FUZZ=long) runs the stress test 50 times in a row, as issue 16 asks.
RUNS = int(os.environ.get("PKGIMAGE_THREAD_RUNS",
                         "50" if os.environ.get("PKGIMAGE_FUZZ") == "long" else "2"))


def run(code, tmp_path, timeout=300):
    script = tmp_path / "threads_script.py"
    script.write_text(textwrap.dedent(code))
    r = subprocess.run([sys.executable, str(script)], capture_output=True,
                       text=True, timeout=timeout, env=dict(os.environ, PKGIMAGE_AUTO="0"))
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr[-3000:]}"
    return r.stdout


FIRST_CALLS = """
    import sys, threading
    import pkgimage as pk
    from pkgimage import Int64, Float64
    N, THREADS = {n}, {threads}
    src = []
    for i in range(N):
        src.append(f"@pk.generic\\ndef f{{i}}(x: Int64, y: Float64):\\n"
                   f"    s = 0.0\\n    for k in range(x):\\n        s += y * k + {{i}}\\n    return s\\n")
    code = "import pkgimage as pk\\nfrom pkgimage import Int64, Float64\\n" + "\\n".join(src)
    pk.register_source("<threads>", code)
    ns = {{"__name__": "threadsmod"}}
    exec(compile(code, "<threads>", "exec"), ns)
    fs = [ns[f"f{{i}}"] for i in range(N)]
    expect = [sum(2.0 * k + i for k in range(10)) for i in range(N)]
    errors = []
    barrier = threading.Barrier(THREADS)
    def work(t):
        barrier.wait()
        order = list(range(N)) if t % 2 == 0 else list(reversed(range(N)))
        for i in order:
            r = fs[i](10, 2.0)
            if r != expect[i]:
                errors.append((t, i, r))
    ths = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in ths: th.start()
    for th in ths: th.join()
    assert not errors, errors[:5]
    print("ok")
"""


def test_sixteen_threads_making_first_calls_over_200_functions(tmp_path):
    for _ in range(RUNS):
        assert run(FIRST_CALLS.format(n=200, threads=16), tmp_path).strip() == "ok"


def test_calls_while_other_threads_define_methods_that_invalidate_them(tmp_path):
    out = run("""
        import threading
        import pkgimage as pk
        from pkgimage import Int64, Real, Integer, Signed
        g = pk.function("g")
        @g.method
        def _(x: Real):
            return 1
        @pk.generic
        def h(x: Int64):
            return g(x) * 10
        assert h(3) == 10
        stop = threading.Event()
        bad = []
        def caller():
            while not stop.is_set():
                r = h(3)
                if r not in (10, 20, 30):
                    bad.append(r)
        ths = [threading.Thread(target=caller) for _ in range(8)]
        for t in ths: t.start()
        @g.method
        def _(x: Integer):
            return 2
        @g.method
        def _(x: Signed):
            return 3
        import time; time.sleep(0.2)
        stop.set()
        for t in ths: t.join()
        assert not bad, bad[:5]
        assert h(3) == 30                  # the newest method, after every invalidation
        print("ok")
    """, tmp_path)
    assert out.strip() == "ok"


def test_images_imported_from_several_threads_at_once(tmp_path):
    proj = Project(tmp_path)
    for k in range(4):
        proj.write(f"thmod{k}", f"""
            import pkgimage as pk
            from pkgimage import Int64
            __pkgimage__ = True
            @pk.generic
            def f(x: Int64):
                return x * {k + 2}
            pk.precompile(f, (Int64,))
        """)
    r = proj.build(*[f"thmod{k}" for k in range(4)])
    assert r.returncode == 0, r.stdout + r.stderr
    out = proj.run_json("""
        import importlib, threading
        res, errs = {}, []
        def work(k):
            try:
                m = importlib.import_module(f"thmod{k}")
                res[k] = [m.f(i) for i in range(50)]
            except Exception as e:
                errs.append(repr(e))
        ths = [threading.Thread(target=work, args=(k % 4,)) for k in range(12)]
        for t in ths: t.start()
        for t in ths: t.join()
        done({"res": {str(k): v[:3] for k, v in res.items()}, "errs": errs, "stats": stats()})
    """)
    assert out["errs"] == []
    assert out["res"] == {str(k): [0, k + 2, 2 * (k + 2)] for k in range(4)}
    assert out["stats"]["loaded_instances"] >= 4

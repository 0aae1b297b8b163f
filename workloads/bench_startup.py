"""Time to first result, whole process: pkgimage cold and with its image, numba cache=True cold and warm, beside the floor.

Each figure is the wall time of a fresh ``python -c "import MOD; print(MOD.f(...))"``, start
to exit, output checked, for two workloads at three sizes, each as a pkgimage module and as
the equivalent numba functions (``imagebench.py`` writes them into a temporary folder):

* **DemoPkg** (seed 004, N = 10, 100, 1000): ``print(DemoPkg.f(5))``.  pkgimage: the module
  of ``bench_images`` (``@pk.struct DemoType{i}``, an outer constructor each, ``f`` chaining
  them; ``pk.precompile(f, (Int64,))`` under ``pk.generating_output()``).  numba: named tuples
  ``DemoType{i}``, a ``@njit(cache=True)`` conversion ``to_DemoType{i}(d)`` each and ``f``
  chaining them (numba cannot cache ``jitclass`` code).
* **chain** (N = 10, 100, 300): ``f_0(x) = x + 1; f_i(x) = f_{i-1}(x) + 1``,
  ``print(f_{N-1}(1))``.  Both compilers recurse once per level of the chain, past Python's
  default limits (numba from a depth of about 80; pkgimage from about 200, "expression
  nested too deeply", until 80e28f5), so every chain process, of either implementation, cold or warm, runs
  the import and the call on a thread with a 1 GiB stack and no recursion limit (the thread
  costs well under a millisecond), and the chain's image is built by the per-module build
  (``pkgimage build --in-process``) run the same way.

Candidates: **pkgimage cold** (empty pkgimage cache: the module runs from source and its
first call compiles, base library included), **pkgimage image** (its image built by
``pkgimage build`` beforehand), **numba cold** (``cache=True`` with an emptied
``NUMBA_CACHE_DIR`` before every run: compiles and writes its cache) and **numba warm**
(``cache=True``, cache filled by an earlier run).  The floor: ``python -c pass``,
``python -c "import pkgimage"``, ``python -c "import numba"`` and ``ctypes.CDLL`` of the
largest image's shared library alone.

Repeated 5 times (3 with ``--quick``, which measures DemoPkg at N = 10 only), the candidates interleaved
repeat by repeat; every command runs once untimed first (numba cold's is the run that fills
the warm cache; with ``--quick`` only that one).  ``ratio`` is the row over ``vs``, the median over repeats of the per-repeat
ratio.  Target: pkgimage with its image at most 0.3x numba warm (whole process).  The machine
has 2 cores shared with other jobs: the absolute times are noisy, the paired ratios less so.
"""

from __future__ import annotations

import importlib.util
import shutil

import benchlib
import imagebench as ib

NAME = "startup"
PLOT_COLS = 2
TARGET = 0.3         # pkgimage image / numba warm, whole process

WORKLOADS = ("DemoPkg", "chain")
IMPLS = ("pkgimage cold", "pkgimage image", "numba cold", "numba warm")


def _sizes(quick):
    if quick:
        return {"DemoPkg": (10,), "chain": ()}
    return {"DemoPkg": (10, 100, 1000), "chain": (10, 100, 300)}


class Cmd:
    """One fresh-process command: its module folder, pkgimage cache, code, expected output
    and numba cache (``fresh``: emptied before every run)."""

    def __init__(self, src, cache, code, expect=None, numba_cache=None, fresh=False):
        self.src, self.cache, self.code, self.expect = src, cache, code, expect
        self.numba_cache, self.fresh = numba_cache, fresh

    def time(self, w):
        if self.fresh:
            shutil.rmtree(self.numba_cache, ignore_errors=True)
            self.numba_cache.mkdir(parents=True)
        return ib.wall(w, self.src, self.cache, self.code, self.expect, self.numba_cache)


def _probe(w, c):
    """(instances loaded from images, instances compiled) by the command ``c``."""
    import subprocess
    import sys
    code = c.code + ("\nimport sys as _s\n"
                     "_L = _s.modules.get('pkgimage.image.loader')\n"
                     "_P = _s.modules.get('pkgimage.compiler.pipeline')\n"
                     "print(_L.STATS['loaded_instances'] if _L else 0, "
                     "_P.STATS['compiled'] if _P else 0)")
    p = subprocess.run([sys.executable, "-c", code], env=w.env(c.src, c.cache), cwd=w.path,
                       capture_output=True, text=True, timeout=ib.TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"probe of {c.code!r} failed:\n{p.stderr[-3000:]}")
    loaded, compiled = p.stdout.strip().splitlines()[-1].split()
    return int(loaded), int(compiled)


def run(quick: bool):
    w = ib.Workdir()
    try:
        return _run(w, quick)
    finally:
        w.cleanup()


def _run(w, quick):
    reps = 3 if quick else 5
    sizes = _sizes(quick)
    numba = importlib.util.find_spec("numba") is not None
    empty = w.cache("empty")
    floor_src = w.write("floor", "nothing", "")
    cmds, built, largest_so = {}, {}, {}

    for wl in WORKLOADS:
        for n in sizes[wl]:
            if wl == "DemoPkg":
                pk_src = w.write(f"demo{n}", "DemoPkg", ib.demopkg_source(n))
                nb_src = w.write(f"nbdemo{n}", "DemoPkg_nb", ib.demopkg_numba_source(n))
                pk_code, nb_code = ("import DemoPkg; print(DemoPkg.f(5))",
                                    "import DemoPkg_nb; print(DemoPkg_nb.f(5))")
                expect, mod = f"DemoType{n}(x=5)", "DemoPkg"
            else:
                pk_src = w.write(f"chain{n}", "chain", ib.chain_pk_source(n))
                nb_src = w.write(f"nbchain{n}", "chain_nb", ib.chain_numba_source(n))
                pk_code = ib.deep_stack_code(f"import chain\nout = chain.f_{n - 1}(1)")
                nb_code = ib.deep_stack_code(f"import chain_nb\nout = chain_nb.f_{n - 1}(1)")
                expect, mod = str(n + 1), "chain"
            cache = w.cache(f"{wl}{n}")
            built[(wl, n)] = ib.build(w, pk_src, mod, cache, deep=wl == "chain")
            largest_so[wl] = ib.image_files(cache, mod)["so_path"]
            cmds[("pkgimage cold", wl, n)] = Cmd(pk_src, empty, pk_code, expect)
            cmds[("pkgimage image", wl, n)] = Cmd(pk_src, cache, pk_code, expect)
            if numba:
                nbc = w.path / "numba" / f"{wl}{n}"
                cmds[("numba cold", wl, n)] = Cmd(nb_src, empty, nb_code, expect,
                                                  w.path / "numba" / f"{wl}{n}-cold", True)
                cmds[("numba warm", wl, n)] = Cmd(nb_src, empty, nb_code, expect, nbc)
    cmds["pass"] = Cmd(floor_src, empty, "pass")
    cmds["import pkgimage"] = Cmd(floor_src, empty, "import pkgimage")
    if numba:
        cmds["import numba"] = Cmd(floor_src, empty, "import numba")
    for wl, so in largest_so.items():
        if so and not quick:
            cmds[("cdll", wl)] = Cmd(floor_src, empty, f"import ctypes; ctypes.CDLL({so!r})")

    # The image rows must use the image with nothing imported first (the boot finder,
    # pkgimage-boot.pth, makes ``import DemoPkg`` load it) and compile nothing; the cold rows
    # must load no image.
    for key, c in cmds.items():
        if isinstance(key, tuple) and key[0].startswith("pkgimage"):
            loaded, compiled = _probe(w, c)
            ok = (loaded > 0 and compiled == 0) if key[0] == "pkgimage image" else loaded == 0
            if not ok:
                raise RuntimeError(f"{key}: {loaded} instances loaded, {compiled} compiled "
                                   f"(is the boot finder installed? python -m pkgimage "
                                   f"install-hook)")

    # Warm-up, untimed: OS caches; numba warm's cache is filled by running it once (that
    # first run compiles: it is a numba cold run of the same module, which warms the OS
    # caches for numba cold, whose own warm-up is skipped: up to a minute per run).
    # --quick warms up only numba warm (its cache must be filled).
    fill = {key: c.time(w) for key, c in cmds.items()
            if not c.fresh and (not quick or c.numba_cache)}
    timed = {key: [] for key in cmds}
    for _ in range(reps):
        for key, c in cmds.items():
            timed[key].append(c.time(w))

    rows = []
    ref = timed["import pkgimage"]
    rows.append(benchlib.figure_row("floor", None, "python -c pass", benchlib.summary_of(timed["pass"], 1e3), "ms",
                     benchlib.paired(timed["pass"], ref), "import pkgimage"))
    rows.append(benchlib.figure_row("floor", None, "python -c 'import pkgimage'", benchlib.summary_of(ref, 1e3), "ms",
                     1.0, "import pkgimage"))
    if numba:
        rows.append(benchlib.figure_row("floor", None, "python -c 'import numba'",
                         benchlib.summary_of(timed["import numba"], 1e3), "ms",
                         benchlib.paired(timed["import numba"], ref), "import pkgimage"))
    for wl in WORKLOADS:
        if ("cdll", wl) in timed:
            n = sizes[wl][-1]
            rows.append(benchlib.figure_row("floor", n, f"ctypes.CDLL({wl} image .so) alone",
                             benchlib.summary_of(timed[("cdll", wl)], 1e3), "ms",
                             benchlib.paired(timed[("cdll", wl)], ref), "import pkgimage"))
    for wl in WORKLOADS:
        fig = f"{wl} time to first result"
        for n in sizes[wl]:
            t = {impl: timed.get((impl, wl, n)) for impl in IMPLS}
            cold, image = t["pkgimage cold"], t["pkgimage image"]
            over = (benchlib.median_of(image) - benchlib.median_of(ref)) * 1e3
            note_im = (f"image built in {built[(wl, n)]:.2f} s; "
                       f"{over:.0f} ms over python -c 'import pkgimage'")
            if numba:
                nbc, nbw = t["numba cold"], t["numba warm"]
                r = benchlib.paired(image, nbw)
                rows.append(benchlib.figure_row(fig, n, "pkgimage image", benchlib.summary_of(image, 1e3), "ms", r,
                                 "numba warm", f"<= {TARGET}x numba warm", r <= TARGET,
                                 note_im))
                rows.append(benchlib.figure_row(fig, n, "numba warm", benchlib.summary_of(nbw, 1e3), "ms", 1.0,
                                 "numba warm",
                                 note=f"cache filled by a first run of "
                                      f"{fill[('numba warm', wl, n)]:.1f} s; "
                                      f"{(benchlib.median_of(nbw) - benchlib.median_of(timed['import numba'])) * 1e3:.0f}"
                                      " ms over python -c 'import numba'"))
                rows.append(benchlib.figure_row(fig, n, "pkgimage cold", benchlib.summary_of(cold, 1e3), "ms",
                                 benchlib.paired(cold, nbc), "numba cold"))
                rows.append(benchlib.figure_row(fig, n, "numba cold", benchlib.summary_of(nbc, 1e3), "ms", 1.0,
                                 "numba cold", note="cache=True, emptied cache"))
            else:
                rows.append(benchlib.figure_row(fig, n, "pkgimage image", benchlib.summary_of(image, 1e3), "ms",
                                 note=note_im + "; numba not installed"))
                rows.append(benchlib.figure_row(fig, n, "pkgimage cold", benchlib.summary_of(cold, 1e3), "ms"))
            rows.append(benchlib.figure_row(fig, n, "pkgimage cold / image",
                             benchlib.summary_of([c / i for c, i in zip(cold, image)]), "x",
                             note="whole-process speedup of the image"))
            if numba:
                rows.append(benchlib.figure_row(fig, n, "numba cold / warm",
                                 benchlib.summary_of([c / i for c, i in zip(nbc, nbw)]), "x"))
    return rows


# --------------------------------------------------------------------------------------------


STYLE = {"pkgimage cold": ("tab:red", "o", "--"), "pkgimage image": ("tab:orange", "o", "-"),
         "numba cold": ("tab:cyan", "s", "--"), "numba warm": ("tab:blue", "s", "-")}
FLOOR = {"python -c pass": "0.6", "python -c 'import pkgimage'": "tab:orange",
         "python -c 'import numba'": "tab:blue"}


def plot(rows, axes):
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter
    floors = {r["impl"]: r["median"] / 1e3 for r in rows if r["figure"] == "floor"}
    for ax, wl in zip(axes, WORKLOADS):
        fig = f"{wl} time to first result"
        for impl, (color, marker, ls) in STYLE.items():
            pts = sorted((r for r in rows if r["figure"] == fig and r["impl"] == impl),
                         key=lambda r: r["N"])
            if not pts:
                continue
            x = [r["N"] for r in pts]
            y = [r["median"] / 1e3 for r in pts]
            err = [[(r["median"] - r["min"]) / 1e3 for r in pts],
                   [(r["max"] - r["median"]) / 1e3 for r in pts]]
            ax.errorbar(x, y, yerr=err, color=color, marker=marker, ls=ls, capsize=3,
                        label=impl)
            for xi, yi in zip(x, y):
                ax.annotate(f"{yi:.2g}", (xi, yi), textcoords="offset points", xytext=(4, 3),
                            fontsize=6, color=color)
        for label, color in FLOOR.items():
            if label in floors:
                ax.axhline(floors[label], color=color, ls=":", lw=1)
                ax.annotate(label.replace("python -c ", "") + " (floor)", (0.01, floors[label]),
                            xycoords=("axes fraction", "data"), textcoords="offset points",
                            xytext=(0, 2), fontsize=6, color=color)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(FixedLocator([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5,
                                                 10, 20, 50, 100, 200, 500]))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ns = sorted({r["N"] for r in rows if r["figure"] == fig})
        if ns:
            ax.set_xticks(ns, [str(n) for n in ns])
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(x=0.15)
        ax.set_xlabel("N (DemoPkg types)" if wl == "DemoPkg" else "N (functions in the chain)")
        ax.set_title(f"{wl}: fresh process to first result", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("wall time, s (median; bars: min-max)")
    axes[0].legend(fontsize=7, loc="upper left")


def summary(rows):
    """A compact table: median ms of each candidate per workload and N, and the ratios."""
    out = ["| workload | N | pkgimage cold | pkgimage image | numba cold | numba warm | "
           "image / numba warm | pkgimage cold / image |", "|---|---|---|---|---|---|---|---|"]
    for wl in WORKLOADS:
        fig = f"{wl} time to first result"
        ns = sorted({r["N"] for r in rows if r["figure"] == fig})
        for n in ns:
            get = {r["impl"]: r for r in rows if r["figure"] == fig and r["N"] == n}

            def ms(impl):
                r = get.get(impl)
                return f"{r['median']:.0f} ms" if r else "-"
            im = get.get("pkgimage image", {})
            sp = get.get("pkgimage cold / image")
            ratio = (f"{im['ratio']:.2f}x ({'met' if im.get('met') == 'yes' else 'NOT met'})"
                     if im.get("ratio") is not None else "-")
            speedup = f"{sp['median']:.1f}x" if sp else "-"
            out.append(f"| {wl} | {n} | {ms('pkgimage cold')} | {ms('pkgimage image')} | "
                       f"{ms('numba cold')} | {ms('numba warm')} | {ratio} | {speedup} |")
    fl = [r for r in rows if r["figure"] == "floor"]
    if fl:
        out.append("")
        out.append("Floor: " + ", ".join(f"{r['impl']} {r['median']:.0f} ms" for r in fl) + ".")
    return "\n".join(out) + "\n"


if __name__ == "__main__":          # python workloads/bench_startup.py [--quick]
    import sys
    rs = run("--quick" in sys.argv)
    print(benchlib.markdown_table(rs))
    print(summary(rs))

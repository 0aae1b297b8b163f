"""Compile latency and native speed: DemoPkg, a call chain, two kernels and the call overhead, pkgimage next to numba.

Every workload is a generated module written to a temporary folder and run in a fresh
interpreter (``compilebench.py`` writes the sources and holds the child processes), so each
compile time is a cold one: the first call compiles everything it needs, the base library's
methods included, and nothing is cached on disk (``PKGIMAGE_CACHE`` points at an empty folder;
numba runs with ``cache=False``).  Fresh-process figures are repeated 5 times (3 with
``--quick``), in-process ones 21 times (5); the candidates are interleaved repeat by repeat.

* **DemoPkg** (seed 004): N+1 structs ``DemoType0..DemoTypeN`` under ``AbstractDemoType``, an
  outer constructor ``DemoType{i}(d::AbstractDemoType)`` for each, and ``f(x)`` chaining all of
  them.  Import time, the first call ``f(5)`` (inference and native code for every constructor),
  and the second call, in one fresh process.  Target: first call at N=1000 at most 1 s.
* **chain**: ``f_0(x) = x + 1; f_i(x) = f_{i-1}(x) + 1``; time of the first call
  ``f_{N-1}(1)`` after importing the module (so ``import numba`` is not in numba's figure, but
  numba's and LLVM's first-compile set-up is, as pkgimage's llvmlite import and base-library
  compilation are in its own).  numba compiles each callee as a separate dispatcher and its time
  grows with the square of the depth; a numba process longer than the timeout is recorded as
  ``timeout``.  ``growth`` is the log-log slope of the median between the two largest N (1 is
  linear).  Targets: pkgimage at most 0.1x numba at N=100, and linear growth.  ``--quick``
  measures DemoPkg at N=10 and the chain at N=10 and 30 (the ratio target then at N=30).
* **kernels**, steady state after warm-up, both in the same process: sum of squares over 10^7
  Float64 (``rng.random``) and the sum of pairwise distances of 2,000 points (double loop,
  ``sqrt`` through pkgimage's ``intr.sqrt``).  Target: pkgimage within 1.2x numba.
* **call add2(1, 2)** from Python, ns per call: pkgimage ``add2(x: Int64, y: Int64) = x + y``,
  numba ``njit``, the same addition as a C function (numba ``cfunc``) called through a ctypes
  ``CFUNCTYPE``, libc ``labs(-1)`` through ctypes (one argument) and a plain Python function.
  Target: pkgimage at most 2x numba.

``ratio to numba`` is the row's time over numba's for the same figure and N, the median over
repeats of the per-repeat ratio; ``met`` says whether the row's target holds.
"""

from __future__ import annotations

import math

import benchlib
import compilebench as cb

NAME = "compile"
NUMBA_TIMEOUT = 200.0            # seconds per numba chain process


def _proc_repeats(quick):
    return 3 if quick else 5


def _summ(samples, scale=1.0):
    return benchlib.summary([s * scale for s in samples])


def _row(figure, n, impl, s, unit, ratio=None, target="", met=None, note=""):
    row = {"figure": figure, "N": n, "impl": impl,
           "median": s["median"] if s else None, "min": s["min"] if s else None,
           "max": s["max"] if s else None, "unit": unit,
           "ratio to numba": ratio, "target": target,
           "met": None if met is None else ("yes" if met else "NO"), "note": note}
    return row


# --------------------------------------------------------------------------------------------


def demopkg(w, quick):
    ns = (10,) if quick else (10, 100, 1000)
    mods = {n: w.write(f"demopkg_{n}", cb.demopkg_source(n)) for n in ns}
    res = {n: [] for n in ns}
    for _ in range(_proc_repeats(quick)):
        for n in ns:
            res[n].append(w.run("demopkg", mods[n]))
    rows = []
    for n in ns:
        imp = _summ([r["import_s"] for r in res[n]], 1e3)
        first = _summ([r["first_s"] for r in res[n]], 1e3)
        second = _summ([r["second_us"] for r in res[n]])
        rows.append(_row("DemoPkg import", n, "pkgimage", imp, "ms"))
        tgt = n == 1000
        rows.append(_row("DemoPkg first call f(5)", n, "pkgimage", first, "ms",
                         target="<= 1000 ms" if tgt else "",
                         met=first["median"] <= 1000 if tgt else None,
                         note=f"source: {cb.DEMOPKG_ORIGIN}"))
        rows.append(_row("DemoPkg second call f(5)", n, "pkgimage", second, "us"))
    return rows


def chain(w, quick):
    ns = (10, 30) if quick else (10, 100, 300)
    numba_ns = ns
    target_n = 100 if 100 in ns else ns[-1]
    rows, med = [], {"pkgimage": {}, "numba": {}}
    for n in ns:
        mpk = w.write(f"chain_pk_{n}", cb.chain_pk_source(n))
        mnb = w.write(f"chain_nb_{n}", cb.chain_numba_source(n)) if n in numba_ns else None
        pk, nb, timed_out = [], [], None
        for _ in range(_proc_repeats(quick)):
            pk.append(w.run("chain", mpk, n)["first_s"] * 1e3)
            if mnb and not timed_out:
                r = w.run("chain", mnb, n, timeout=NUMBA_TIMEOUT)
                if "timeout" in r:
                    timed_out = r["timeout"]
                else:
                    nb.append(r["first_s"] * 1e3)
        spk = benchlib.summary(pk)
        snb = benchlib.summary(nb) if nb else None
        ratio = None
        if snb and len(nb) == len(pk):
            ratio = benchlib.paired_ratio(spk, snb)
        elif snb:
            ratio = spk["median"] / snb["median"]
        elif timed_out:
            ratio = spk["median"] / (timed_out * 1e3)      # an upper bound
        tgt = n == target_n
        note = f"numba/pkgimage = {1 / ratio:.0f}x" if ratio else ""
        if timed_out:
            note = f"numba timed out (> {timed_out:.0f} s): the ratio is an upper bound"
        rows.append(_row("chain first call", n, "pkgimage", spk, "ms", ratio,
                         "<= 0.1x numba" if tgt else "",
                         (ratio is not None and ratio <= 0.1) if tgt else None, note))
        med["pkgimage"][n] = spk["median"]
        if mnb:
            if snb and not timed_out:
                rows.append(_row("chain first call", n, "numba", snb, "ms", 1.0))
                med["numba"][n] = snb["median"]
            else:
                rows.append(_row("chain first call", n, "numba", snb, "ms",
                                 note=f"timeout (> {timed_out:.0f} s)"
                                 + (f" after {len(nb)} runs" if nb else "")))
    for impl, m in med.items():
        if len(m) >= 2:
            (n1, t1), (n2, t2) = sorted(m.items())[-2:]
            slope = math.log(t2 / t1) / math.log(n2 / n1)
            s = {"median": slope, "min": None, "max": None}
            lin = impl == "pkgimage"
            rows.append(_row("chain growth", f"{n1}-{n2}", impl, s, "log-log slope",
                             target="<= 1.2 (linear)" if lin else "",
                             met=slope <= 1.2 if lin else None,
                             note=f"{(t2 - t1) / (n2 - n1):.2f} ms per added function"))
    return rows


def kernels_and_calls(w, quick):
    a = w.write("kernels_pk", cb.KERNELS_PK)
    b = w.write("kernels_nb", cb.KERNELS_NUMBA)
    rows = []
    kern = w.run("kernels", a, b, int(quick))
    labels = {"sumsq": "kernel sum of squares", "pairdist": "kernel pairwise distances"}
    for name, res in kern.items():
        for impl in ("pkgimage", "numba"):
            s = _summ(res[impl]["samples"], 1e-6)
            r = benchlib.paired_ratio(res[impl], res["numba"])
            pkrow = impl == "pkgimage"
            rows.append(_row(labels[name], res["size"], impl, s, "ms", r,
                             "<= 1.2x numba" if pkrow else "", r <= 1.2 if pkrow else None))
    calls = w.run("calls", a, b, int(quick))
    for impl, s in calls.items():
        paired = len(s["samples"]) == len(calls["numba"]["samples"]) and "labs" not in impl
        r = (benchlib.paired_ratio(s, calls["numba"]) if paired
             else s["median"] / calls["numba"]["median"])
        pkrow = impl == "pkgimage"
        rows.append(_row("call add2(1, 2)", None, impl, s, "ns", r,
                         "<= 2x numba" if pkrow else "", r <= 2 if pkrow else None,
                         "labs(-1): 1 argument, timed after the others" if "labs" in impl else ""))
    return rows


def run(quick: bool):
    w = cb.Workdir()
    try:
        rows = []
        rows += demopkg(w, quick)
        rows += kernels_and_calls(w, quick)
        rows += chain(w, quick)
        return rows
    finally:
        w.cleanup()


# --------------------------------------------------------------------------------------------


def plot(rows, ax):
    styles = {("chain first call", "pkgimage"): ("tab:orange", "o", "-", "pkgimage: chain $f_{N-1}(1)$"),
              ("chain first call", "numba"): ("tab:blue", "s", "-", "numba: chain $f_{N-1}(1)$"),
              ("DemoPkg first call f(5)", "pkgimage"): ("tab:red", "^", "--", "pkgimage: DemoPkg f(5)")}
    for (fig, impl), (color, marker, ls, label) in styles.items():
        pts = [r for r in rows if r["figure"] == fig and r["impl"] == impl and r["median"]]
        if not pts:
            continue
        n = [r["N"] for r in pts]
        med = [r["median"] / 1e3 for r in pts]
        err = [[(r["median"] - r["min"]) / 1e3 for r in pts],
               [(r["max"] - r["median"]) / 1e3 for r in pts]]
        ax.errorbar(n, med, yerr=err, color=color, marker=marker, ls=ls, capsize=3, label=label)
        for x, y in zip(n, med):
            ax.annotate(f"{y:.3g} s", (x, y), textcoords="offset points", xytext=(4, -10),
                        fontsize=7, color=color)
    for r in rows:   # numba chain processes that hit the timeout
        if r["figure"] == "chain first call" and r["impl"] == "numba" and "timeout" in r["note"]:
            ax.plot([r["N"]], [NUMBA_TIMEOUT], marker="^", color="tab:blue", ls="none")
            ax.annotate(f"numba > {NUMBA_TIMEOUT:.0f} s (timeout)", (r["N"], NUMBA_TIMEOUT),
                        textcoords="offset points", xytext=(-60, 6), fontsize=7, color="tab:blue")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (functions in the chain / DemoPkg types)")
    ax.set_ylabel("cold first call, s (fresh process)")
    ax.set_title("Compile latency of the first call: pkgimage vs numba")
    lines = []
    for r in rows:
        if r["figure"].startswith(("kernel", "call")) and r["impl"] == "pkgimage":
            lines.append(f"{r['figure']}: {r['ratio to numba']:.2f}x numba")
    if lines:
        ax.text(0.98, 0.5, "steady state:\n" + "\n".join(lines), transform=ax.transAxes,
                ha="right", va="center",
                fontsize=7, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"})
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="both", alpha=0.3)


if __name__ == "__main__":          # python workloads/bench_compile.py [--quick]
    import sys
    rs = run("--quick" in sys.argv)
    print(benchlib.markdown_table(rs))

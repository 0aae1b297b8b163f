"""Package images: first call with an image vs cold, load time per cached instance, build time and image size.

Every figure is taken in fresh processes (``imagebench.py`` writes the modules into a
temporary folder, each with its own pkgimage cache folder), repeated 5 times (3 with
``--quick``), median / min / max; the candidates of a figure are interleaved repeat by
repeat, and a ratio is the median over repeats of the per-repeat ratio.  ``PKGIMAGE_AUTO=0``
everywhere, so nothing is built behind the benchmark's back.  (The whole process to the
first result, against numba ``cache=True`` and the floor, is the ``startup`` benchmark.)

* **DemoPkg** (seed 004, N = 10, 100, 1000; quick: 10, 100), one source file with
  ``__pkgimage__ = True`` and ``pk.precompile(f, (Int64,))`` under
  ``pk.generating_output()``: *image* = imported with its image in the cache, *cold* = the
  same file with an empty cache (runs from source, compiles at the first call).  In process:
  ``import pkgimage``, then ``import DemoPkg`` and the first ``f(5)``, each timed; ``cold /
  image`` is the first-call speedup (target >= 100x, and the first call with the image
  <= 5 ms, at the largest N measured).
* **load time vs cached instances**: a module of n functions ``f_i(x: Int64) = x + i``, each
  precompiled (n = 100, 300, 1,000, 3,000, 10,000; quick: 100, 300); ``import MOD`` timed
  after ``import pkgimage`` in a fresh process, in total and the part in
  ``loader.install_code`` (edge validation, linking, installing each instance with its
  Python entry).  Reported per loaded instance (target <= 10 us) and as the log-log slope
  between the two largest sizes (target: linear, 1).  The rest of the import is restoring
  the module (n functions and methods) and reading the image.
* **build**: the whole ``python -m pkgimage build DemoPkg`` process into an empty cache
  folder (repeated; once with ``--quick``), and the image's size (``.pkgi`` + ``.so``; the
  ``.pkgi.code`` sidecar written at the first load is in the note) per cached instance; the
  load-time modules' builds are timed once each.

Columns: ``ratio`` is the row over ``vs`` (same repeats), ``met`` whether ``target`` holds.
"""

from __future__ import annotations

import math

import benchlib
import imagebench as ib

NAME = "images"


def _reps(quick):
    return 3 if quick else 5


# --------------------------------------------------------------------------------------------


def run(quick: bool):
    w = ib.Workdir()
    try:
        return _run(w, quick)
    finally:
        w.cleanup()


def _run(w, quick):
    reps = _reps(quick)
    demo_ns = (10, 100) if quick else (10, 100, 1000)
    load_ns = (100, 300) if quick else (100, 300, 1000, 3000, 10000)
    rows = []

    # -- sources ------------------------------------------------------------------------------
    demo_src = {n: w.write(f"demo{n}", "DemoPkg", ib.demopkg_source(n)) for n in demo_ns}
    load_src = {n: w.write(f"many{n}", f"many{n}", ib.many_source(n)) for n in load_ns}
    empty = w.cache("empty")

    # -- builds (figure 4); the last build of each N is the image used below -------------------
    build_s = {n: [] for n in demo_ns}
    demo_cache = {}
    for r in range(1 if quick else reps):
        for n in demo_ns:
            demo_cache[n] = w.cache(f"demo{n}", fresh=True)
            build_s[n].append(ib.build(w, demo_src[n], "DemoPkg", demo_cache[n]))
    load_cache, load_build = {}, {}
    for n in load_ns:
        load_cache[n] = w.cache(f"many{n}")
        load_build[n] = ib.build(w, load_src[n], f"many{n}", load_cache[n])

    # -- DemoPkg in process (figure 1) ---------------------------------------------------------
    first = {n: {"image": [], "cold": []} for n in demo_ns}
    for r in range(reps):
        for n in demo_ns:
            first[n]["image"].append(ib.child(w, demo_src[n], demo_cache[n], "first", "DemoPkg", n))
            first[n]["cold"].append(ib.child(w, demo_src[n], empty, "first", "DemoPkg", n))
    for n in demo_ns:
        im, co = first[n]["image"], first[n]["cold"]
        for res, kind in ((im, "image"), (co, "cold")):
            if kind == "image" and any(x["loaded_instances"] == 0 or x["compiled"]
                                       or x["llvmlite"] for x in res):
                raise RuntimeError(f"DemoPkg N={n}: the image run loaded no instance or "
                                   f"compiled: {res[0]}")
            if kind == "cold" and any(x["loaded_instances"] for x in res):
                raise RuntimeError(f"DemoPkg N={n}: the cold run loaded an image: {res[0]}")
        note_im = (f"{im[0]['loaded_instances']} instances loaded "
                   f"({im[0]['native_entries']} with a native entry), 0 compiled, "
                   f"llvmlite not imported")
        note_co = f"{co[0]['compiled']} instances compiled at the first call"
        rows.append(benchlib.figure_row("DemoPkg import pkgimage", n, "image",
                         benchlib.summary_of([x["pkgimage_s"] for x in im], 1e3), "ms"))
        rows.append(benchlib.figure_row("DemoPkg import DemoPkg", n, "image",
                         benchlib.summary_of([x["import_s"] for x in im], 1e3), "ms",
                         benchlib.paired([x["import_s"] for x in im], [x["import_s"] for x in co]),
                         "cold", note="restores the module from the image"))
        rows.append(benchlib.figure_row("DemoPkg import DemoPkg", n, "cold",
                         benchlib.summary_of([x["import_s"] for x in co], 1e3), "ms",
                         note="runs the top level"))
        tgt = n == demo_ns[-1]
        fi = benchlib.summary_of([x["first_s"] for x in im], 1e3)
        rows.append(benchlib.figure_row("DemoPkg first call f(5)", n, "image", fi, "ms",
                         target="<= 5 ms" if tgt else "",
                         met=fi["median"] <= 5 if tgt else None, note=note_im))
        rows.append(benchlib.figure_row("DemoPkg first call f(5)", n, "cold",
                         benchlib.summary_of([x["first_s"] for x in co], 1e3), "ms", note=note_co))
        sp = [c["first_s"] / i["first_s"] for i, c in zip(im, co)]
        rows.append(benchlib.figure_row("DemoPkg first call speedup", n, "cold / image", benchlib.summary_of(sp), "x",
                         target=">= 100x" if tgt else "",
                         met=benchlib.summary(sp)["median"] >= 100 if tgt else None))
        rows.append(benchlib.figure_row("DemoPkg second call f(5)", n, "image",
                         benchlib.summary_of([x["second_s"] for x in im], 1e6), "us"))
        tot_i = [x["import_s"] + x["first_s"] for x in im]
        tot_c = [x["import_s"] + x["first_s"] for x in co]
        rows.append(benchlib.figure_row("DemoPkg import + first call", n, "image", benchlib.summary_of(tot_i, 1e3), "ms",
                         benchlib.paired(tot_i, tot_c), "cold", note="after import pkgimage"))
        rows.append(benchlib.figure_row("DemoPkg import + first call", n, "cold", benchlib.summary_of(tot_c, 1e3), "ms",
                         note="after import pkgimage"))

    # -- load time vs cached instances (figure 2) ----------------------------------------------
    loads = {n: [] for n in load_ns}
    for r in range(reps):
        for n in load_ns:
            loads[n].append(ib.child(w, load_src[n], load_cache[n], "load", f"many{n}", n))
    per_inst = {}
    for n in load_ns:
        res = loads[n]
        k = res[0]["loaded_instances"]
        if any(x["loaded_instances"] != k or x["discarded_instances"] or x["compiled"]
               or x["llvmlite"] for x in res) or k < n:
            raise RuntimeError(f"load n={n}: unexpected load statistics {res}")
        imp = [x["import_s"] for x in res]
        ins = [x["install_s"] for x in res]
        note = f"{k} instances loaded ({res[0]['native_entries']} native entries)"
        rows.append(benchlib.figure_row("image load: import", k, "pkgimage", benchlib.summary_of(imp, 1e3), "ms", note=note))
        rows.append(benchlib.figure_row("image load: import per instance", k, "pkgimage",
                         benchlib.summary_of(imp, 1e6 / k), "us", target="<= 10 us",
                         met=1e6 * benchlib.summary(imp)["median"] / k <= 10))
        rows.append(benchlib.figure_row("image load: install_code", k, "pkgimage", benchlib.summary_of(ins, 1e3), "ms",
                         benchlib.paired(ins, imp), "import",
                         note="validate edges, link, install"))
        rows.append(benchlib.figure_row("image load: install_code per instance", k, "pkgimage",
                         benchlib.summary_of(ins, 1e6 / k), "us", target="<= 10 us",
                         met=1e6 * benchlib.summary(ins)["median"] / k <= 10))
        per_inst[k] = (benchlib.summary(imp)["median"], benchlib.summary(ins)["median"])
    if len(per_inst) >= 2:
        (k1, (i1, c1)), (k2, (i2, c2)) = sorted(per_inst.items())[-2:]
        for what, t1, t2 in (("import", i1, i2), ("install_code", c1, c2)):
            slope = math.log(t2 / t1) / math.log(k2 / k1)
            rows.append(benchlib.figure_row(f"image load: {what} growth", f"{k1}-{k2}", "pkgimage",
                             {"median": slope, "min": None, "max": None}, "log-log slope",
                             target="<= 1.1 (linear)", met=slope <= 1.1,
                             note=f"{(t2 - t1) / (k2 - k1) * 1e6:.1f} us per added instance"))

    # -- build time and image size (figure 4) --------------------------------------------------
    for n in demo_ns:
        files = ib.image_files(demo_cache[n], "DemoPkg")
        k = first[n]["image"][0]["loaded_instances"]
        size = files["pkgi"] + files["so"]
        rows.append(benchlib.figure_row("DemoPkg build (whole process)", n, "pkgimage build",
                         benchlib.summary_of(build_s[n]), "s"))
        rows.append(benchlib.figure_row("DemoPkg image size", n, ".pkgi + .so", benchlib.summary_of([size / 1024]), "KiB",
                         note=f".pkgi {files['pkgi'] / 1024:.0f} KiB, .so "
                              f"{files['so'] / 1024:.0f} KiB; sidecar .pkgi.code "
                              f"{files['code'] / 1024:.0f} KiB"))
        rows.append(benchlib.figure_row("DemoPkg image size per instance", n, ".pkgi + .so",
                         benchlib.summary_of([size / k]), "B",
                         note=f"{k} instances ({first[n]['image'][0]['native_entries']} "
                              f"with native code)"))
    for n in load_ns:
        files = ib.image_files(load_cache[n], f"many{n}")
        k = loads[n][0]["loaded_instances"]
        size = files["pkgi"] + files["so"]
        rows.append(benchlib.figure_row("load-time module build (whole process)", k, "pkgimage build",
                         benchlib.summary_of([load_build[n]]), "s", note=f"1 run; {n} precompile calls"))
        rows.append(benchlib.figure_row("load-time module image size per instance", k, ".pkgi + .so",
                         benchlib.summary_of([size / k]), "B",
                         note=f".pkgi {files['pkgi'] / 1024:.0f} KiB, .so "
                              f"{files['so'] / 1024:.0f} KiB"))
    return rows


# --------------------------------------------------------------------------------------------


def plot(rows, ax):
    series = [("image load: import", "tab:orange", "o", "import MOD (total)"),
              ("image load: install_code", "tab:blue", "s",
               "of which install_code (validate, link, install)")]
    xs_all = []
    for fig, color, marker, label in series:
        pts = sorted((r for r in rows if r["figure"] == fig and r["median"]),
                     key=lambda r: r["N"])
        if not pts:
            continue
        x = [r["N"] for r in pts]
        y = [r["median"] for r in pts]
        err = [[r["median"] - r["min"] for r in pts], [r["max"] - r["median"] for r in pts]]
        ax.errorbar(x, y, yerr=err, color=color, marker=marker, capsize=3, label=label)
        for xi, yi in zip(x, y):
            ax.annotate(f"{yi:.3g} ms\n{yi * 1e3 / xi:.3g} us/inst", (xi, yi),
                        textcoords="offset points", xytext=(5, -18), fontsize=7, color=color)
        xs_all += x
        if fig == "image load: import":
            ax.plot(x, [y[0] * xi / x[0] for xi in x], color=color, ls=":", lw=1,
                    label="linear from the smallest size")
    if xs_all:
        lo, hi = min(xs_all), max(xs_all)
        ax.plot([lo, hi], [lo * 10e-3, hi * 10e-3], color="tab:green", ls="--", lw=1,
                label="target: 10 us per instance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(x=0.12)
    ax.set_xlabel("cached instances loaded")
    ax.set_ylabel("load time, ms (fresh process, after import pkgimage)")
    ax.set_title("Package image load time vs cached instances")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="both", alpha=0.3)


if __name__ == "__main__":          # python workloads/bench_images.py [--quick]
    import sys
    rs = run("--quick" in sys.argv)
    print(benchlib.markdown_table(rs))

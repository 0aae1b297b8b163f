"""Package images: first call and whole process with an image vs cold, load time per cached instance, the warm chain vs numba cache=True, build time and image size.

Every figure is taken in fresh processes (``imagebench.py`` writes the modules into a
temporary folder, each with its own pkgimage cache folder), repeated 5 times (3 with
``--quick``), median / min / max; the candidates of a figure are interleaved repeat by
repeat, and a ratio is the median over repeats of the per-repeat ratio.  ``PKGIMAGE_AUTO=0``
everywhere, so nothing is built behind the benchmark's back.

* **DemoPkg** (seed 004, N = 10, 100, 1000; quick: 100, 1000), one source file with
  ``__pkgimage__ = True`` and ``pk.precompile(f, (Int64,))`` under
  ``pk.generating_output()``: *image* = imported with its image in the cache, *cold* = the
  same file with an empty cache (runs from source, compiles at the first call).  In process:
  ``import pkgimage``, then ``import DemoPkg`` and the first ``f(5)``, each timed; ``cold /
  image`` is the first-call speedup (target >= 100x at N=1000, and the first call with the
  image <= 5 ms).  Whole process, start to exit, ``python -c "import DemoPkg;
  print(DemoPkg.f(5))"`` (the boot finder makes this first import use the image), beside the
  floor: ``python -c pass``, ``python -c "import pkgimage"`` and ``ctypes.CDLL`` of the
  image's shared library alone; ``ratio`` there is to ``import pkgimage``.
* **load time vs cached instances**: a module of n functions ``f_i(x: Int64) = x + i``, each
  precompiled (n = 100, 1,000, 10,000; quick: 100, 1,000); ``import MOD`` timed after
  ``import pkgimage`` in a fresh process, in total and the part in ``loader.install_code``
  (edge validation, linking, installing each instance with its Python entry).  Reported per
  loaded instance (target <= 10 us) and as the log-log slope between the two largest sizes
  (target: linear, 1).  The rest of the import is restoring the module (n functions and
  methods) and reading the image.
* **chain** of 100 functions, warm cache, whole process ``python -c "import chain;
  print(chain.f_99(1))"`` with the image vs the same functions as numba ``njit(cache=True)``
  with numba's cache filled by a first run (``NUMBA_CACHE_DIR`` in the temporary folder);
  target pkgimage <= 0.3x numba.  ``import numba`` alone is recorded for reference.
* **build**: the whole ``python -m pkgimage build DemoPkg`` process into an empty cache
  folder, and the image's size (``.pkgi`` + ``.so``; the ``.pkgi.code`` sidecar written at
  the first load is in the note) per cached instance; the load-time modules' builds are
  timed once each.

Columns: ``ratio`` is the row over ``vs`` (same repeats), ``met`` whether ``target`` holds.
"""

from __future__ import annotations

import importlib.util
import math

import benchlib
import imagebench as ib

NAME = "images"
CHAIN_N = 100


def _reps(quick):
    return 3 if quick else 5


def _row(figure, n, impl, s, unit, ratio=None, vs="", target="", met=None, note=""):
    return {"figure": figure, "N": n, "impl": impl,
            "median": None if s is None else s["median"],
            "min": None if s is None else s["min"],
            "max": None if s is None else s["max"], "unit": unit,
            "ratio": ratio, "vs": vs, "target": target,
            "met": None if met is None else ("yes" if met else "NO"), "note": note}


def _summ(samples, scale=1.0):
    return benchlib.summary([x * scale for x in samples])


def _paired(a, b):
    return benchlib.paired_ratio({"samples": a}, {"samples": b})


def _have_numba():
    return importlib.util.find_spec("numba") is not None


# --------------------------------------------------------------------------------------------


def run(quick: bool):
    w = ib.Workdir()
    try:
        return _run(w, quick)
    finally:
        w.cleanup()


def _run(w, quick):
    reps = _reps(quick)
    demo_ns = (100, 1000) if quick else (10, 100, 1000)
    load_ns = (100, 1000) if quick else (100, 1000, 10000)
    numba = _have_numba()
    rows = []

    # -- sources ------------------------------------------------------------------------------
    demo_src = {n: w.write(f"demo{n}", "DemoPkg", ib.demopkg_source(n)) for n in demo_ns}
    load_src = {n: w.write(f"many{n}", f"many{n}", ib.many_source(n)) for n in load_ns}
    chain_src = w.write("chain", "chain", ib.chain_pk_source(CHAIN_N))
    if numba:
        w.write("chain", "chain_nb", ib.chain_numba_source(CHAIN_N))
    floor_src = w.write("floor", "nothing", "")
    empty = w.cache("empty")

    # -- builds (figure 4); the last build of each N is the image used below -------------------
    build_s = {n: [] for n in demo_ns}
    demo_cache = {}
    for r in range(reps):
        for n in demo_ns:
            demo_cache[n] = w.cache(f"demo{n}", fresh=True)
            build_s[n].append(ib.build(w, demo_src[n], "DemoPkg", demo_cache[n]))
    load_cache, load_build = {}, {}
    for n in load_ns:
        load_cache[n] = w.cache(f"many{n}")
        load_build[n] = ib.build(w, load_src[n], f"many{n}", load_cache[n])
    chain_cache = w.cache("chain")
    chain_build = ib.build(w, chain_src, "chain", chain_cache)
    numba_fill = None
    if numba:
        numba_fill = ib.fill_numba_cache(w, chain_src, "chain_nb", f"f_{CHAIN_N - 1}",
                                         str(CHAIN_N + 1))

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
        rows.append(_row("DemoPkg import pkgimage", n, "image",
                         _summ([x["pkgimage_s"] for x in im], 1e3), "ms"))
        rows.append(_row("DemoPkg import DemoPkg", n, "image",
                         _summ([x["import_s"] for x in im], 1e3), "ms",
                         _paired([x["import_s"] for x in im], [x["import_s"] for x in co]),
                         "cold", note="restores the module from the image"))
        rows.append(_row("DemoPkg import DemoPkg", n, "cold",
                         _summ([x["import_s"] for x in co], 1e3), "ms",
                         note="runs the top level"))
        tgt = n == 1000
        fi = _summ([x["first_s"] for x in im], 1e3)
        rows.append(_row("DemoPkg first call f(5)", n, "image", fi, "ms",
                         target="<= 5 ms" if tgt else "",
                         met=fi["median"] <= 5 if tgt else None, note=note_im))
        rows.append(_row("DemoPkg first call f(5)", n, "cold",
                         _summ([x["first_s"] for x in co], 1e3), "ms", note=note_co))
        sp = [c["first_s"] / i["first_s"] for i, c in zip(im, co)]
        rows.append(_row("DemoPkg first call speedup", n, "cold / image", _summ(sp), "x",
                         target=">= 100x" if tgt else "",
                         met=benchlib.summary(sp)["median"] >= 100 if tgt else None))
        rows.append(_row("DemoPkg second call f(5)", n, "image",
                         _summ([x["second_s"] for x in im], 1e6), "us"))
        tot_i = [x["import_s"] + x["first_s"] for x in im]
        tot_c = [x["import_s"] + x["first_s"] for x in co]
        rows.append(_row("DemoPkg import + first call", n, "image", _summ(tot_i, 1e3), "ms",
                         _paired(tot_i, tot_c), "cold", note="after import pkgimage"))
        rows.append(_row("DemoPkg import + first call", n, "cold", _summ(tot_c, 1e3), "ms",
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
        rows.append(_row("image load: import", k, "pkgimage", _summ(imp, 1e3), "ms", note=note))
        rows.append(_row("image load: import per instance", k, "pkgimage",
                         _summ(imp, 1e6 / k), "us", target="<= 10 us",
                         met=1e6 * benchlib.summary(imp)["median"] / k <= 10))
        rows.append(_row("image load: install_code", k, "pkgimage", _summ(ins, 1e3), "ms",
                         _paired(ins, imp), "import",
                         note="validate edges, link, install"))
        rows.append(_row("image load: install_code per instance", k, "pkgimage",
                         _summ(ins, 1e6 / k), "us", target="<= 10 us",
                         met=1e6 * benchlib.summary(ins)["median"] / k <= 10))
        per_inst[k] = (benchlib.summary(imp)["median"], benchlib.summary(ins)["median"])
    if len(per_inst) >= 2:
        (k1, (i1, c1)), (k2, (i2, c2)) = sorted(per_inst.items())[-2:]
        for what, t1, t2 in (("import", i1, i2), ("install_code", c1, c2)):
            slope = math.log(t2 / t1) / math.log(k2 / k1)
            rows.append(_row(f"image load: {what} growth", f"{k1}-{k2}", "pkgimage",
                             {"median": slope, "min": None, "max": None}, "log-log slope",
                             target="<= 1.1 (linear)", met=slope <= 1.1,
                             note=f"{(t2 - t1) / (k2 - k1) * 1e6:.1f} us per added instance"))

    # -- whole processes (figures 1 and 3), all interleaved ------------------------------------
    show = "import DemoPkg; print(DemoPkg.f(5))"
    cmds = {"pass": (floor_src, empty, "pass", None),
            "import pkgimage": (floor_src, empty, "import pkgimage", None)}
    for n in demo_ns:
        so = ib.image_files(demo_cache[n], "DemoPkg")["so_path"]
        cmds[("image", n)] = (demo_src[n], demo_cache[n], show, f"DemoType{n}(x=5)")
        cmds[("cold", n)] = (demo_src[n], empty, show, f"DemoType{n}(x=5)")
        if so:
            cmds[("cdll", n)] = (floor_src, empty, f"import ctypes; ctypes.CDLL({so!r})", None)
    chain_show = f"import chain; print(chain.f_{CHAIN_N - 1}(1))"
    cmds["chain pkgimage"] = (chain_src, chain_cache, chain_show, str(CHAIN_N + 1))
    if numba:
        cmds["chain numba"] = (chain_src, empty,
                               f"import chain_nb; print(chain_nb.f_{CHAIN_N - 1}(1))",
                               str(CHAIN_N + 1))
        cmds["import numba"] = (floor_src, empty, "import numba", None)
    # The first import must use the image even with nothing imported before (boot finder).
    probe = ("import sys; import DemoPkg; print(DemoPkg.f(5)); "
             "L = sys.modules.get('pkgimage.image.loader'); "
             "print(L.STATS['loaded_instances'] if L else 0)")
    n0 = demo_ns[-1]
    boot_ok = _boot_uses_image(w, demo_src[n0], demo_cache[n0], probe)
    for key, (src, cache, code, expect) in cmds.items():          # warm-up: OS caches, .pyc
        ib.wall(w, src, cache, code, expect)
    whole = {key: [] for key in cmds}
    for r in range(reps):
        for key, (src, cache, code, expect) in cmds.items():
            whole[key].append(ib.wall(w, src, cache, code, expect))
    ref = whole["import pkgimage"]
    rows.append(_row("whole process floor", None, "python -c pass",
                     _summ(whole["pass"], 1e3), "ms", _paired(whole["pass"], ref),
                     "import pkgimage"))
    rows.append(_row("whole process floor", None, "python -c 'import pkgimage'",
                     _summ(ref, 1e3), "ms", 1.0, "import pkgimage"))
    for n in demo_ns:
        im, co = whole[("image", n)], whole[("cold", n)]
        rows.append(_row("DemoPkg whole process", n, "image", _summ(im, 1e3), "ms",
                         _paired(im, ref), "import pkgimage",
                         note=("" if boot_ok else "boot finder absent: NOT using the image; ")
                         + f"{(benchlib.summary(im)['median'] - benchlib.summary(ref)['median']) * 1e3:.0f} ms over import pkgimage"))
        rows.append(_row("DemoPkg whole process", n, "cold", _summ(co, 1e3), "ms",
                         _paired(co, ref), "import pkgimage"))
        rows.append(_row("DemoPkg whole process speedup", n, "cold / image",
                         _summ([c / i for c, i in zip(co, im)]), "x"))
        if ("cdll", n) in whole:
            cd = whole[("cdll", n)]
            rows.append(_row("DemoPkg whole process", n, "ctypes.CDLL(image .so) alone",
                             _summ(cd, 1e3), "ms", _paired(cd, ref), "import pkgimage"))
    pk = whole["chain pkgimage"]
    if numba:
        nb = whole["chain numba"]
        r = _paired(pk, nb)
        rows.append(_row("chain whole process, warm cache", CHAIN_N, "pkgimage image",
                         _summ(pk, 1e3), "ms", r, "numba", "<= 0.3x numba", r <= 0.3,
                         "python -c 'import chain; print(chain.f_99(1))'"))
        rows.append(_row("chain whole process, warm cache", CHAIN_N, "numba cache=True",
                         _summ(nb, 1e3), "ms", 1.0, "numba",
                         note=f"cache filled by one cold run of {numba_fill:.1f} s"))
        rows.append(_row("chain whole process, warm cache", CHAIN_N, "python -c 'import numba'",
                         _summ(whole["import numba"], 1e3), "ms",
                         _paired(whole["import numba"], nb), "numba"))
        rows.append(_row("chain whole process, warm cache", CHAIN_N,
                         "python -c 'import pkgimage'", _summ(ref, 1e3), "ms",
                         _paired(ref, nb), "numba"))
    else:
        rows.append(_row("chain whole process, warm cache", CHAIN_N, "pkgimage image",
                         _summ(pk, 1e3), "ms", note="numba not installed"))

    # -- build time and image size (figure 4) --------------------------------------------------
    for n in demo_ns:
        files = ib.image_files(demo_cache[n], "DemoPkg")
        k = first[n]["image"][0]["loaded_instances"]
        size = files["pkgi"] + files["so"]
        rows.append(_row("DemoPkg build (whole process)", n, "pkgimage build",
                         _summ(build_s[n]), "s"))
        rows.append(_row("DemoPkg image size", n, ".pkgi + .so", _summ([size / 1024]), "KiB",
                         note=f".pkgi {files['pkgi'] / 1024:.0f} KiB, .so "
                              f"{files['so'] / 1024:.0f} KiB; sidecar .pkgi.code "
                              f"{files['code'] / 1024:.0f} KiB"))
        rows.append(_row("DemoPkg image size per instance", n, ".pkgi + .so",
                         _summ([size / k]), "B",
                         note=f"{k} instances ({first[n]['image'][0]['native_entries']} "
                              f"with native code)"))
    for n in load_ns:
        files = ib.image_files(load_cache[n], f"many{n}")
        k = loads[n][0]["loaded_instances"]
        size = files["pkgi"] + files["so"]
        rows.append(_row("load-time module build (whole process)", k, "pkgimage build",
                         _summ([load_build[n]]), "s", note=f"1 run; {n} precompile calls"))
        rows.append(_row("load-time module image size per instance", k, ".pkgi + .so",
                         _summ([size / k]), "B",
                         note=f".pkgi {files['pkgi'] / 1024:.0f} KiB, .so "
                              f"{files['so'] / 1024:.0f} KiB"))
    rows.append(_row("chain build (whole process)", CHAIN_N, "pkgimage build",
                     _summ([chain_build]), "s", note="1 run"))
    return rows


def _boot_uses_image(w, src, cache, probe):
    """Whether ``python -c "import DemoPkg"`` with nothing imported first loads the image
    (pkgimage-boot.pth installed in this interpreter's site-packages)."""
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-c", probe], env=w.env(src, cache), cwd=w.path,
                       capture_output=True, text=True, timeout=ib.TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"boot probe failed:\n{p.stderr[-3000:]}")
    return int(p.stdout.strip().splitlines()[-1]) > 0


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

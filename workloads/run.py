"""Run pkgimage's benchmarks: ``python workloads/run.py [--quick] [--only NAME]``.

Discovers ``workloads/bench_*.py``; each module has ``NAME``, ``run(quick) -> list[dict]``
(the rows of its table) and optionally ``plot(rows, ax)`` (with ``PLOT_COLS = k``, ``ax`` is a
list of k side-by-side Axes) and ``summary(rows) -> str`` (a short Markdown summary shown
above its table).  Prints the machine and one Markdown table per benchmark, then the table of
targets (every row with a ``target``, from all benchmarks: the row's median, or the column
``TARGET_KEY`` names, and its ratio), and writes
``workloads/results/latest.json`` (machine + rows), ``latest.md`` (targets, summaries and
tables) and ``<NAME>.png`` (the figure).  With ``--only``, the other benchmarks' entries
already in ``latest.json`` are kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path[:0] = [str(HERE), str(HERE.parent)]   # ``import benchlib`` and the repo's pkgimage

import benchlib  # noqa: E402


def discover():
    mods = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mods.append(mod)
    return mods


def _first(row, prefix):
    for k, v in row.items():
        if k.startswith(prefix) and v is not None and v != "":
            return k, v
    return None, None


def targets(data) -> list[dict]:
    """Every row with a target, from every benchmark: what was measured and whether it holds."""
    out = []
    for name, b in data["benchmarks"].items():
        for r in b["rows"]:
            if not r.get("target"):
                continue
            key = b.get("target_key")
            if key:                              # the module names its measured column
                med, unit = r.get(key), key.rsplit(" ", 1)[-1]
                rk, ratio = None, None
            else:
                med = next((v for k, v in r.items() if "median" in k), None)
                unit = r.get("unit", "ns" if "ns/call median" in r else "")
                rk, ratio = _first(r, "ratio")
            measured = "" if med is None else f"{benchlib._cell(med)} {unit}".strip()
            if ratio is not None and unit not in ("x",):
                vs = r.get("vs") or (rk[len("ratio to "):] if rk and rk.startswith("ratio to ")
                                     else "")
                measured += f" ({benchlib._cell(ratio)}x {vs})".replace(" )", ")")
            out.append({"benchmark": name + (" (quick)" if b["quick"] else ""),
                        "figure": r.get("figure") or r.get("workload")
                        or r.get("implementation", ""),
                        "N": r.get("N"), "impl": r.get("impl", ""), "measured": measured,
                        "target": r["target"], "met": r.get("met", "")})
    return out


def write_markdown(data):
    parts = ["# pkgimage benchmarks\n", f"Machine: {benchlib.machine_markdown(data['machine'])}\n",
             "## Targets\n", benchlib.markdown_table(targets(data))]
    for name, b in data["benchmarks"].items():
        mode = "quick" if b["quick"] else "full"
        summ = f"{b['summary']}\n" if b.get("summary") else ""
        parts.append(f"## {name}\n\n{b.get('about', b['title'])}\n\n_{mode} run, {b['date']}, "
                     f"{b['seconds']:.0f} s_\n\n{summ}{benchlib.markdown_table(b['rows'])}")
    (RESULTS / "latest.md").write_text("\n".join(parts))


def write_png(mod, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cols = getattr(mod, "PLOT_COLS", 1)
    fig, ax = plt.subplots(1, cols, figsize=(7 if cols == 1 else 5.5 * cols, 4),
                           layout="constrained", squeeze=False)
    mod.plot(rows, list(ax[0]) if cols > 1 else ax[0][0])
    fig.savefig(RESULTS / f"{mod.NAME}.png", dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes (CI, smoke)")
    ap.add_argument("--only", metavar="NAME", action="append",
                    help="run only this benchmark (repeatable)")
    ap.add_argument("--replot", action="store_true",
                    help="measure nothing: redraw the figures and latest.md from latest.json")
    args = ap.parse_args(argv)

    mods = discover()
    if args.replot:
        data = json.loads((RESULTS / "latest.json").read_text())
        for mod in mods:
            b = data["benchmarks"].get(mod.NAME)
            if b is None:
                continue
            if hasattr(mod, "summary"):
                b["summary"] = mod.summary(b["rows"])
            b["target_key"] = getattr(mod, "TARGET_KEY", None)
            if hasattr(mod, "plot"):
                write_png(mod, b["rows"])
        data["targets"] = targets(data)
        (RESULTS / "latest.json").write_text(json.dumps(data, indent=1) + "\n")
        write_markdown(data)
        print("redrew the figures and latest.md from latest.json")
        return 0
    if args.only:
        unknown = set(args.only) - {m.NAME for m in mods}
        if unknown:
            ap.error(f"unknown benchmark(s) {sorted(unknown)}; have {[m.NAME for m in mods]}")
        mods = [m for m in mods if m.NAME in args.only]

    machine = benchlib.machine()
    print(f"Machine: {benchlib.machine_markdown(machine)}\n", flush=True)
    RESULTS.mkdir(exist_ok=True)
    latest = RESULTS / "latest.json"
    data = {"machine": machine, "benchmarks": {}}
    previous = json.loads(latest.read_text()).get("benchmarks", {}) if latest.exists() else {}
    if args.only:
        data["benchmarks"] = previous

    t_all = time.perf_counter()
    failed = []
    for mod in mods:
        title = (mod.__doc__ or mod.NAME).strip().splitlines()[0]
        print(f"## {mod.NAME}\n\n{title}\n", flush=True)
        t0 = time.perf_counter()
        try:
            rows = mod.run(args.quick)
        except Exception:                    # report it, keep the other benchmarks' results
            failed.append(mod.NAME)
            print(f"benchmark {mod.NAME} FAILED:\n{traceback.format_exc()}", flush=True)
            if mod.NAME in previous:
                data["benchmarks"][mod.NAME] = previous[mod.NAME]
            continue
        seconds = time.perf_counter() - t0
        summ = mod.summary(rows) if hasattr(mod, "summary") else None
        print(benchlib.markdown_table(rows), flush=True)
        if summ:
            print(summ, flush=True)
        print(f"_{mod.NAME}: {seconds:.0f} s_\n", flush=True)
        data["benchmarks"][mod.NAME] = {"title": title, "about": (mod.__doc__ or "").strip(),
                                        "quick": args.quick,
                                        "date": machine["date"], "seconds": seconds,
                                        "summary": summ, "rows": rows,
                                        "target_key": getattr(mod, "TARGET_KEY", None)}
        if hasattr(mod, "plot"):
            write_png(mod, rows)

    data["targets"] = targets(data)
    latest.write_text(json.dumps(data, indent=1) + "\n")
    write_markdown(data)
    print("## Targets\n\n" + benchlib.markdown_table(data["targets"]), flush=True)
    print(f"wrote {latest.relative_to(HERE.parent)}, latest.md and the figures "
          f"({time.perf_counter() - t_all:.0f} s)", flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)} (their earlier results, if any, were kept)",
              flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

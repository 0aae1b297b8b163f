"""Run pkgimage's benchmarks: ``python workloads/run.py [--quick] [--only NAME]``.

Discovers ``workloads/bench_*.py``; each module has ``NAME``, ``run(quick) -> list[dict]``
(the rows of its table) and optionally ``plot(rows, ax)``.  Prints the machine and one
Markdown table per benchmark, and writes ``workloads/results/latest.json`` (machine + rows),
``latest.md`` (the tables) and ``<NAME>.png`` (the figure).  With ``--only``, the other
benchmarks' entries already in ``latest.json`` are kept.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
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


def write_markdown(data):
    parts = ["# pkgimage benchmarks\n", f"Machine: {benchlib.machine_markdown(data['machine'])}\n"]
    for name, b in data["benchmarks"].items():
        mode = "quick" if b["quick"] else "full"
        parts.append(f"## {name}\n\n{b.get('about', b['title'])}\n\n_{mode} run, {b['date']}, "
                     f"{b['seconds']:.0f} s_\n\n{benchlib.markdown_table(b['rows'])}")
    (RESULTS / "latest.md").write_text("\n".join(parts))


def write_png(mod, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    mod.plot(rows, ax)
    fig.savefig(RESULTS / f"{mod.NAME}.png", dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes (CI, smoke)")
    ap.add_argument("--only", metavar="NAME", action="append",
                    help="run only this benchmark (repeatable)")
    args = ap.parse_args(argv)

    mods = discover()
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
    if args.only and latest.exists():
        data["benchmarks"] = json.loads(latest.read_text()).get("benchmarks", {})

    for mod in mods:
        title = (mod.__doc__ or mod.NAME).strip().splitlines()[0]
        print(f"## {mod.NAME}\n\n{title}\n", flush=True)
        t0 = time.perf_counter()
        rows = mod.run(args.quick)
        seconds = time.perf_counter() - t0
        print(benchlib.markdown_table(rows), flush=True)
        data["benchmarks"][mod.NAME] = {"title": title, "about": (mod.__doc__ or "").strip(),
                                        "quick": args.quick,
                                        "date": machine["date"], "seconds": seconds,
                                        "rows": rows}
        if hasattr(mod, "plot"):
            write_png(mod, rows)

    latest.write_text(json.dumps(data, indent=1) + "\n")
    write_markdown(data)
    print(f"wrote {latest.relative_to(HERE.parent)}, latest.md and the figures", flush=True)


if __name__ == "__main__":
    main()

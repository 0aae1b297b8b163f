"""Shared helpers for the benchmark modules: repeated timing, machine description, tables.

Every number a benchmark reports is a set of repeats summarised as median, min and max
(:func:`summary`).  Comparisons are measured side by side in the same run: the candidates are
interleaved repeat by repeat (:func:`ns_per_call_side_by_side`), and a ratio is the median
over the repeats of the ratio of the two times taken in the same repeat (:func:`paired_ratio`),
so that a slow moment of a shared machine hits both sides of each ratio alike.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from importlib import metadata

REPEATS = 21          # full run
QUICK_REPEATS = 5     # --quick; never fewer than 5


MIN_TIME = 0.2        # seconds per timed repeat (timeit's autorange); full run
QUICK_MIN_TIME = 0.05  # --quick


def repeats(quick: bool) -> int:
    return QUICK_REPEATS if quick else REPEATS


def min_time(quick: bool) -> float:
    return QUICK_MIN_TIME if quick else MIN_TIME


def summary(samples) -> dict:
    """median / min / max of a list of measurements (any unit)."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "n": len(samples), "samples": list(samples)}


def paired_ratio(a: dict, b: dict) -> float:
    """Median over repeats of a[i] / b[i], for two summaries measured side by side."""
    return statistics.median(x / y for x, y in zip(a["samples"], b["samples"], strict=True))


def summary_of(samples, scale=1.0) -> dict:
    """``summary`` of the samples times ``scale`` (seconds to ms: 1e3)."""
    return summary([x * scale for x in samples])


def paired(a, b) -> float:
    """``paired_ratio`` of two lists of samples taken repeat by repeat."""
    return paired_ratio({"samples": a}, {"samples": b})


def median_of(samples) -> float:
    return summary(samples)["median"]


def figure_row(figure, n, impl, s, unit, ratio=None, vs="", target="", met=None, note=""):
    """One table row of a figure: ``s`` a ``summary`` (or None), ``met`` a bool (or None)."""
    return {"figure": figure, "N": n, "impl": impl,
            "median": None if s is None else s["median"],
            "min": None if s is None else s["min"],
            "max": None if s is None else s["max"], "unit": unit,
            "ratio": ratio, "vs": vs, "target": target,
            "met": None if met is None else ("yes" if met else "NO"), "note": note}


def _timer(fn, args):
    # The call site is ordinary Python code, as a user's would be: ``f(a, b)``.
    names = [f"a{i}" for i in range(len(args))]
    env = dict(zip(names, args), f=fn)
    return timeit.Timer(f"f({', '.join(names)})", globals=env)


def ns_per_call(fn, args=(), repeat=REPEATS, min_time=MIN_TIME) -> dict:
    """Nanoseconds per ``fn(*args)`` from Python: the loop count is the first of 1, 2, 5,
    10, 20, 50, ... taking at least ``min_time`` seconds (timeit's autorange with 0.2 s),
    then ``repeat`` such loops are timed."""
    return ns_per_call_side_by_side({"f": fn}, args, repeat, min_time)["f"]


def _autorange(t, min_time):
    i = 1
    while True:
        for j in (1, 2, 5):
            number = i * j
            if t.timeit(number) >= min_time:
                return number
        i *= 10


def ns_per_call_side_by_side(fns: dict, args=(), repeat=REPEATS, min_time=MIN_TIME) -> dict:
    """``{name: summary of ns per call}`` for several callables timed in the same run,
    interleaved: repeat 1 of each, then repeat 2 of each, ..."""
    timers = {name: _timer(fn, args) for name, fn in fns.items()}
    loops = {}
    for name, t in timers.items():
        # Warm caches (dispatch, specialisation): up to 1000 calls, at most about 50 ms of
        # them (a 5 ms kernel gets 10, not 5 s of warm-up).
        once = t.timeit(1)
        t.timeit(max(1, min(1000, int(0.05 / max(once, 1e-9)))))
        loops[name] = _autorange(t, min_time)
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, t in timers.items():
            samples[name].append(t.timeit(loops[name]) / loops[name] * 1e9)
    return {name: summary(s) for name, s in samples.items()}


def time_subprocess(argv, repeat=REPEATS, env=None, cwd=None) -> dict:
    """Wall-clock seconds of a fresh process running ``argv`` (cold start included)."""
    full_env = dict(os.environ, **(env or {}))
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, env=full_env, cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - t0)
    return summary(samples)


def python_argv(code: str) -> list:
    """argv running ``code`` in a fresh interpreter of this venv."""
    return [sys.executable, "-c", code]


# --------------------------------------------------------------------------------------------
# The machine


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit():
    """The repository's commit, "+dirty" when tracked files differ from it (others may be
    editing the tree while a run goes on: the figures belong to this commit at best)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "-uno", "--", ".",
                                ":!workloads/results"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def machine() -> dict:
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": _commit(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "llvmlite": _version("llvmlite"),
        "llvm": None,
        "numba": _version("numba"),
        "plum-dispatch": _version("plum-dispatch"),
    }
    try:
        import llvmlite.binding as llvm
        info["llvm"] = ".".join(map(str, llvm.llvm_version_info))
    except Exception:   # llvmlite missing or broken: the benchmarks may still run
        pass
    return info


def machine_markdown(m: dict) -> str:
    return (f"{m['date']}{' (commit ' + m['commit'] + ')' if m.get('commit') else ''} — "
            f"{m['cores']} cores, {m['cpu']}; {m['platform']}; "
            f"Python {m['python']}, NumPy {m['numpy']}, llvmlite {m['llvmlite']} "
            f"(LLVM {m['llvm']}), numba {m['numba'] or 'absent'}, "
            f"plum-dispatch {m['plum-dispatch'] or 'absent'}")


# --------------------------------------------------------------------------------------------
# Tables


def _cell(v):
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
    return "" if v is None else str(v)


def markdown_table(rows) -> str:
    """A Markdown table whose columns are the rows' keys, in first-seen order."""
    if not rows:
        return "(no rows)\n"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(_cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"

"""The benchmark runner: every workload for every runtime, side by side.

    python bench/run.py                   # the full suite -> docs/benchmarks.md + .png
    python bench/run.py --quick           # 1 repetition at smoke sizes -> bench/results/
    python bench/run.py --only W2,W4 --runtimes goroutines,greenlet --repeat 5

Each repetition of each cell runs as ``python -m bench.cell RUNTIME WORKLOAD``
in a fresh process (the Go reference: its own binary, GOMAXPROCS=1) with a
timeout; a cell that fails or times out shows as "error"/"timeout" in the table
and the run goes on. Repetitions go round the whole matrix (rep 1 of every cell,
then rep 2, ...), so a run that reaches its time budget still has every cell
measured, with fewer repetitions. The table shows medians.

Only a full run (no --quick, --only or --runtimes) writes docs/ by default;
the others write their report to bench/results/ (git-ignored). Every run saves
its raw results as JSON there, and --from-json re-renders a report from them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the bench package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.spec import (
    BASE,
    FLOOR,
    METRIC_WORKLOAD,
    METRICS,
    RUNTIME_BY_KEY,
    RUNTIMES,
    WORKLOAD_BY_ID,
    WORKLOADS,
    Metric,
    Workload,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DOCS_DIR = ROOT / "docs"

OK, ERROR, TIMEOUT, NA, MISSING, SKIPPED = "ok", "error", "timeout", "n/a", "missing", "skipped"


@dataclass
class Cell:
    """Every repetition of one (runtime, workload) pair."""

    runtime: str
    workload: str
    n: int | None  # None: the runtime does not run this workload
    status: str = OK  # ok, error, timeout, n/a (not run by design), missing, skipped
    runs: list[dict[str, float]] = field(default_factory=list)  # metric key -> value
    message: str = ""  # why it failed / is missing
    timeouts: int = 0

    def median(self, key: str) -> float | None:
        """The median of key over the runs; None if none, or if any run failed."""
        if self.status == ERROR:
            return None  # a wrong or crashing program has no number, however fast
        values = [r[key] for r in self.runs if key in r]
        return statistics.median(values) if values else None

    @property
    def shown_status(self) -> str:
        """What the table shows when there is no number."""
        if self.status == OK and not self.runs:
            return SKIPPED
        return self.status


Cells = dict[tuple[str, str], Cell]


# ---------------------------------------------------------------------------
# Running cells


def build_go(log: Any) -> tuple[str | None, str]:
    """Build bench/go into a temporary directory: (binary path, error message)."""
    go = shutil.which("go")
    if go is None:
        return None, "no Go toolchain on PATH"
    out_dir = Path(tempfile.mkdtemp(prefix="bench-go-"))
    binary = out_dir / "reference"
    try:
        proc = subprocess.run(
            [go, "build", "-o", str(binary), "."],
            cwd=ROOT / "bench" / "go", capture_output=True, text=True, timeout=300,
        )
    except subprocess.TimeoutExpired:
        return None, "go build timed out"
    if proc.returncode != 0:
        return None, "go build failed: " + proc.stderr.strip().splitlines()[-1:][0]
    print(f"built the Go reference: {binary}", file=log)
    return str(binary), ""


def cell_command(runtime: str, workload: str, n: int, go_binary: str | None) -> list[str]:
    if runtime == "go":
        assert go_binary is not None
        return [go_binary, "-w", workload, "-n", str(n)]
    return [sys.executable, "-m", "bench.cell", runtime, workload, "--n", str(n)]


def run_cell_once(
    runtime: str, workload: str, n: int, timeout: float, go_binary: str | None
) -> tuple[str, dict[str, float], str]:
    """One repetition in a fresh process: (status, metrics, message)."""
    env = dict(os.environ)
    env.update(RUNTIME_BY_KEY[runtime].env)
    if runtime == "go":
        env["GOMAXPROCS"] = "1"
    proc = subprocess.Popen(
        cell_command(runtime, workload, n, go_binary),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group: a timeout kills all of it
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        return TIMEOUT, {}, f"no result within {timeout:.0f} s"
    if proc.returncode != 0:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        return ERROR, {}, (lines[-1] if lines else f"exit status {proc.returncode}")[:300]
    try:
        result = json.loads(out.strip().splitlines()[-1])
        raw = result.get("raw", result)
        wl = WORKLOAD_BY_ID[workload]
        return OK, {m.key: float(m.compute(raw, n)) for m in wl.metrics}, ""
    except (ValueError, IndexError, KeyError, TypeError) as e:
        return ERROR, {}, f"unreadable result ({e}): {out[-200:]!r}"


def plan(args: argparse.Namespace, log: Any) -> tuple[Cells, str | None, str]:
    """The cells to run, with the Go binary if there is one."""
    workloads = select_workloads(args.only)
    runtimes = select_runtimes(args.runtimes)
    go_binary, go_note = None, ""
    if "go" in runtimes:
        go_binary, go_note = build_go(log)
        if go_binary is None and shutil.which("go") is None:
            runtimes.remove("go")  # the suite runs without Go: no column at all
    cells: Cells = {}
    for wl in workloads:
        for rt in runtimes:
            n = wl.size(rt, args.quick)
            cell = Cell(rt, wl.id, n)
            if n is None:
                cell.status = NA
                cell.message = wl.reduced[rt].why
            elif rt == "go" and go_binary is None:
                cell.status, cell.message = ERROR, go_note
            else:
                missing = [m for m in RUNTIME_BY_KEY[rt].requires if not _importable(m)]
                if missing:
                    cell.status, cell.message = MISSING, f"not installed: {', '.join(missing)}"
            cells[(rt, wl.id)] = cell
    return cells, go_binary, go_note


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def select_workloads(only: str | None) -> list[Workload]:
    if not only:
        return list(WORKLOADS)
    wanted = [w.strip().upper() for w in only.split(",") if w.strip()]
    chosen = [wl for wl in WORKLOADS if wl.id.upper() in wanted or wl.group.upper() in wanted]
    unknown = [w for w in wanted if not any(w in (wl.id.upper(), wl.group.upper()) for wl in WORKLOADS)]
    if unknown:
        raise SystemExit(f"unknown workload(s) {', '.join(unknown)}: choose from "
                         + ", ".join(wl.id for wl in WORKLOADS))
    return chosen


def select_runtimes(names: str | None) -> list[str]:
    if not names:
        return [r.key for r in RUNTIMES]
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in RUNTIME_BY_KEY]
    if unknown:
        raise SystemExit(f"unknown runtime(s) {', '.join(unknown)}: choose from "
                         + ", ".join(RUNTIME_BY_KEY))
    return [r.key for r in RUNTIMES if r.key in wanted]  # table order


def run_all(cells: Cells, args: argparse.Namespace, go_binary: str | None, log: Any) -> float:
    """Run every repetition of every runnable cell; returns the seconds taken.

    Sets args.budget_hit when the time budget stopped it early."""
    args.budget_hit = False
    args.load_samples = []
    start = time.monotonic()
    todo = [c for c in cells.values() if c.status == OK]
    total = len(todo) * args.repeat
    done = 0
    for rep in range(1, args.repeat + 1):
        for cell in todo:
            if cell.status != OK:
                continue  # failed in an earlier repetition: not worth repeating
            elapsed = time.monotonic() - start
            if elapsed > args.budget:
                print(f"time budget of {args.budget:.0f} s spent: stopping after "
                      f"{done}/{total} runs", file=log)
                args.budget_hit = True
                return elapsed
            timeout = min(args.timeout, max(10.0, args.budget - elapsed + 30))
            assert cell.n is not None
            status, metrics, message = run_cell_once(
                cell.runtime, cell.workload, cell.n, timeout, go_binary
            )
            done += 1
            try:
                args.load_samples.append(os.getloadavg()[0])
            except OSError:
                pass
            if status == OK:
                cell.runs.append(metrics)
                shown = ", ".join(
                    f"{fmt_value(v)} {_unit(k)}" for k, v in metrics.items()
                )
            elif status == TIMEOUT:
                cell.timeouts += 1
                if not cell.runs:
                    cell.status, cell.message = TIMEOUT, message
                shown = status
            else:
                cell.status, cell.message = status, message
                shown = f"{status}: {message}"
            print(f"[{done:3d}/{total} {time.monotonic() - start:5.0f}s] rep {rep} "
                  f"{cell.workload:8s} {cell.runtime:10s} n={cell.n:<8,d} {shown}",
                  file=log, flush=True)
    return time.monotonic() - start


def _unit(key: str) -> str:
    return next(m.unit for m in METRICS if m.key == key)


# ---------------------------------------------------------------------------
# The report


def fmt_value(v: float) -> str:
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def fmt_ratio(r: float) -> str:
    if r >= 100:
        return f"x{r:,.0f}"
    if r >= 10:
        return f"x{r:.0f}"
    return f"x{r:.2g}" if r < 1 else f"x{r:.1f}"


def comparable(cells: Cells, a: str, b: str, metric: Metric) -> bool:
    """Whether runtime a's and b's numbers for metric may be divided."""
    wl = METRIC_WORKLOAD[metric.key]
    ca, cb = cells.get((a, wl.id)), cells.get((b, wl.id))
    if ca is None or cb is None or ca.median(metric.key) is None or cb.median(metric.key) is None:
        return False
    return metric.per_unit or ca.n == cb.n


def ratio(cells: Cells, a: str, b: str, metric: Metric) -> float | None:
    """a's median over b's median (>1: a is slower/bigger), or None."""
    if not comparable(cells, a, b, metric):
        return None
    wl = METRIC_WORKLOAD[metric.key]
    va = cells[(a, wl.id)].median(metric.key)
    vb = cells[(b, wl.id)].median(metric.key)
    assert va is not None and vb is not None
    if vb <= 0:
        return None
    return va / vb


def target_status(value: float | None, metric: Metric, n: int | None = None) -> str:
    """How goroutines' value compares with metric's target (n: the size it ran at)."""
    if value is None:
        return "—"
    wl = METRIC_WORKLOAD[metric.key]
    if n is not None and n != wl.n and not metric.per_unit:
        return f"— (n={n:,})"
    if value <= metric.stretch:
        return "met (stretch)"
    if value <= metric.target:
        return "met"
    return "MISSED"


def _reduced_mark(cells: Cells, rt: str, metric: Metric) -> str:
    """'†' when rt ran this workload at its own (smaller) n."""
    wl = METRIC_WORKLOAD[metric.key]
    cell = cells.get((rt, wl.id))
    return "†" if cell is not None and cell.n is not None and cell.n != wl.n and rt in wl.reduced else ""


def value_cell(cells: Cells, rt: str, metric: Metric, base: str | None) -> str:
    """One table cell: the median, and its ratio to base where comparable."""
    wl = METRIC_WORKLOAD[metric.key]
    cell = cells.get((rt, wl.id))
    if cell is None:
        return ""
    v = cell.median(metric.key)
    if v is None:
        return cell.shown_status
    text = fmt_value(v) + _reduced_mark(cells, rt, metric)
    if cell.timeouts:
        text += "*"
    if base is not None and rt != base:
        r = ratio(cells, rt, base, metric)
        if r is not None:
            text += f" ({fmt_ratio(r)})"
        elif not metric.per_unit and cell.n != _n(cells, base, metric):
            text += f" (n={cell.n:,})"
    return text


def _n(cells: Cells, rt: str, metric: Metric) -> int | None:
    cell = cells.get((rt, METRIC_WORKLOAD[metric.key].id))
    return cell.n if cell is not None else None


def _runtimes_in(cells: Cells) -> list[str]:
    present = {rt for rt, _ in cells}
    return [r.key for r in RUNTIMES if r.key in present]


def _metrics_in(cells: Cells) -> list[Metric]:
    present = {wl for _, wl in cells}
    return [m for m in METRICS if METRIC_WORKLOAD[m.key].id in present]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main_table(cells: Cells) -> str:
    """Medians, each peer with its ratio to goroutines, and goroutines vs the target."""
    runtimes = _runtimes_in(cells)
    peers = [rt for rt in runtimes if rt != BASE]
    header = ["", "what", "unit", "target (stretch)"]
    if BASE in runtimes:
        header += [RUNTIME_BY_KEY[BASE].label, "vs target"]
    header += [RUNTIME_BY_KEY[rt].label for rt in peers]
    rows = []
    for m in _metrics_in(cells):
        row = [m.key, m.label, m.unit, f"≤ {fmt_value(m.target)} ({fmt_value(m.stretch)})"]
        if BASE in runtimes:
            wl = METRIC_WORKLOAD[m.key]
            base = cells[(BASE, wl.id)]
            row += [value_cell(cells, BASE, m, None), target_status(base.median(m.key), m, base.n)]
        row += [value_cell(cells, rt, m, BASE if BASE in runtimes else None) for rt in peers]
        rows.append(row)
    return _table(header, rows)


def floor_table(cells: Cells) -> str:
    """Every runtime's median as a multiple of the raw-greenlet floor's."""
    runtimes = [rt for rt in _runtimes_in(cells) if rt != FLOOR]
    header = ["", f"{RUNTIME_BY_KEY[FLOOR].label}"]
    header += [f"{RUNTIME_BY_KEY[rt].label} ÷ floor" for rt in runtimes]
    rows = []
    for m in _metrics_in(cells):
        wl = METRIC_WORKLOAD[m.key]
        floor_cell = cells.get((FLOOR, wl.id))
        fv = floor_cell.median(m.key) if floor_cell else None
        row = [m.key, f"{fmt_value(fv)} {m.unit}" if fv is not None
               else (floor_cell.shown_status if floor_cell else "")]
        for rt in runtimes:
            r = ratio(cells, rt, FLOOR, m)
            c = cells.get((rt, wl.id))
            row.append(fmt_ratio(r) if r is not None else ("—" if c is None or c.runs
                                                          else c.shown_status))
        rows.append(row)
    return _table(header, rows)


def targets_summary(cells: Cells) -> tuple[list[str], list[str], list[str]]:
    """(met, missed, unmeasured) metric keys for goroutines."""
    met, missed, unmeasured = [], [], []
    for m in _metrics_in(cells):
        c = cells.get((BASE, METRIC_WORKLOAD[m.key].id))
        v = c.median(m.key) if c else None
        status = target_status(v, m, c.n if c else None)
        (met if status.startswith("met") else missed if status == "MISSED" else unmeasured).append(m.key)
    return met, missed, unmeasured


def floor_missed_targets(cells: Cells) -> list[str]:
    """The targets that even the raw-greenlet floor misses in this run."""
    out = []
    for m in _metrics_in(cells):
        c = cells.get((FLOOR, METRIC_WORKLOAD[m.key].id))
        if c is not None and target_status(c.median(m.key), m, c.n) == "MISSED":
            out.append(m.key)
    return out


def failures(cells: Cells) -> list[str]:
    out = []
    for c in cells.values():
        if c.shown_status in (ERROR, TIMEOUT, MISSING):
            out.append(f"{c.runtime} {c.workload}: {c.shown_status}"
                       + (f" — {c.message}" if c.message else ""))
        elif c.timeouts and c.runs:
            out.append(f"{c.runtime} {c.workload}: {c.timeouts} of its repetitions timed out "
                       "(the median is of the others; marked *)")
    return out


def reductions(cells: Cells) -> list[str]:
    """Which runtimes ran which workloads at their own n, and why."""
    out = []
    for wl in WORKLOADS:
        for rt, red in wl.reduced.items():
            c = cells.get((rt, wl.id))
            if c is None:
                continue
            label = RUNTIME_BY_KEY[rt].label
            base = cells.get((BASE, wl.id))
            full_n = base.n if base is not None and base.n is not None else wl.n
            if c.n is None:
                out.append(f"{wl.id}, {label}: not run — {red.why}.")
            elif c.n != full_n:
                comparable_note = ("per-unit, so the ratio stands" if all(m.per_unit for m in wl.metrics)
                                   else "a total, so no ratio is shown")
                out.append(f"{wl.id}, {label}: n = {c.n:,} instead of {full_n:,} {wl.n_label} — "
                           f"{red.why}; {comparable_note}.")
    return out


# ---------------------------------------------------------------------------
# Machine facts


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info(go_binary: str | None) -> dict[str, Any]:
    from importlib import metadata

    cpu = next((ln.split(":", 1)[1].strip() for ln in _read("/proc/cpuinfo").splitlines()
                if ln.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next((ln.split()[1] for ln in _read("/proc/meminfo").splitlines()
                   if ln.startswith("MemTotal")), "")
    mem = f"{int(mem_kb) / 2**20:.0f} GiB" if mem_kb.isdigit() else "unknown"
    versions = {}
    for pkg in ("goroutines", "greenlet", "gevent", "uvloop", "trio"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    go_version = ""
    if shutil.which("go"):
        try:
            go_version = subprocess.run(["go", "version"], capture_output=True, text=True,
                                        timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            go_version = "go version failed"
    commit = ""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if dirty:
            commit += " (src/ has uncommitted changes)"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": versions,
        "go": go_version,
        "go_built": go_binary is not None,
        "commit": commit,
    }


def calibrate() -> dict[str, float]:
    """bench/calibrate.py in a fresh process: this machine's loop and switch costs."""
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.calibrate"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return {}


def _calibration_text(meta: dict[str, Any]) -> str:
    cal = meta.get("calibration") or {}
    if not cal:
        return "not measured"
    return (f"an empty Python loop iteration costs {cal['loop_ns']:.0f} ns and a bare "
            f"greenlet switch pair (there and back) {cal['switch_pair_ns']:.0f} ns "
            "(`python -m bench.calibrate`)")


def _loadavg() -> str:
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "unknown"


# ---------------------------------------------------------------------------
# Writing it out


def render_markdown(cells: Cells, meta: dict[str, Any], chart: str | None) -> str:
    met, missed, unmeasured = targets_summary(cells)
    runs = [len(c.runs) for c in cells.values() if c.runs]
    if not runs:
        reps = "no repetitions"
    elif max(runs) == 1:
        reps = "1 repetition per cell"
    elif min(runs) == max(runs):
        reps = f"median of {min(runs)} repetitions per cell"
    else:
        reps = f"median of {min(runs)}-{max(runs)} repetitions per cell"
    v = meta["versions"]
    out = [
        "# Benchmarks",
        "",
        "goroutines against its peers on nine workloads, each written idiomatically for "
        "every runtime (`bench/workloads/<runtime>.py`). Generated by `make bench` "
        "(`bench/run.py`): rerun it rather than editing this page.",
        "",
        "The network workloads (W13 echo round trips, W14 HTTP requests, W15 idle "
        "connections) have a page of their own: [benchmarks-net.md](benchmarks-net.md) "
        "(`make bench-net`, `bench/net_run.py`).",
        "",
        f"**Run:** {meta['date']} · {reps}, each in a fresh process"
        f"{' · **--quick** (smoke sizes: not comparable with the targets)' if meta.get('quick') else ''}"
        f" · {meta['python']} · commit {meta['commit'] or 'unknown'} · "
        f"1-minute load average during the run {meta.get('load_during', '?')} "
        f"({meta['cores']} cores) · {meta.get('seconds', 0):.0f} s",
        "",
    ]
    if meta.get("budget_hit"):
        out += [f"The run's time budget ({meta.get('budget', 0):.0f} s) ran out before every "
                "repetition was done: some cells have fewer repetitions than asked.", ""]
    out += [
        "## Results",
        "",
        "Medians; lower is better everywhere. The `(xN)` after a peer's number is its "
        "median divided by goroutines' (x2.0: goroutines is twice as fast, or half the "
        "size; x0.5: the peer is). "
        "† the runtime ran a smaller n (see *Sizes*); a total (ms) at a smaller n has no "
        "ratio. * some repetitions timed out. `error`/`timeout`: the cell failed "
        "(see *Failures*); `n/a`: not run by design.",
        "",
        main_table(cells),
        "",
    ]
    if chart:
        out += [f"![ratio of each peer to goroutines, log scale]({chart})", ""]
    out += [
        "## Against the raw-greenlet floor",
        "",
        "Each runtime's median as a multiple of the raw-greenlet floor's in the same run "
        "(`bench/floor.py`: the least a greenlet scheduler can do per operation). What "
        "goroutines spends above x1 is the price of its guarantees.",
        "",
        floor_table(cells),
        "",
        "## Targets (goroutines)",
        "",
        f"- met: {', '.join(met) or 'none'}",
        f"- missed: {', '.join(missed) or 'none'}",
    ]
    if unmeasured:
        out.append(f"- not measured in this run: {', '.join(unmeasured)}")
    floor_misses = floor_missed_targets(cells)
    if floor_misses:
        out.append(f"- the raw-greenlet floor itself misses: {', '.join(floor_misses)} — "
                   "what this minimal scheduler cannot reach here, a runtime with goroutines' "
                   "guarantees is unlikely to reach on this machine at this load")
    fails = failures(cells)
    if fails:
        out += ["", "## Failures", ""] + [f"- {f}" for f in fails]
    out += ["", "## Sizes", ""]
    for wl in WORKLOADS:
        if any(wid == wl.id for _, wid in cells):
            out.append(f"- **{wl.id}** {wl.title}: n = {wl.n:,} {wl.n_label}"
                       + (f" (--quick: {wl.quick_n:,})" if meta.get("quick") else ""))
    red = reductions(cells)
    if red:
        out += [""] + [f"- † {r}" for r in red]
    out += ["", "## Idioms", ""]
    for rt in _runtimes_in(cells):
        r = RUNTIME_BY_KEY[rt]
        out.append(f"- **{r.label}**: {r.note}")
    out += [
        "",
        "## Method",
        "",
        "- Each repetition of each cell is `python -m bench.cell RUNTIME WORKLOAD` in a "
        "fresh process, so no warm pool (free greenlets, thread caches, allocator arenas) "
        "flatters spawn-heavy workloads; the Go reference runs its own binary with "
        "GOMAXPROCS=1. Repetitions go round the whole matrix, so load from elsewhere is "
        "spread over every runtime rather than landing on one.",
        "- Timing is `time.perf_counter()` inside the runtime, after its start-up and "
        "before its shutdown. Every program checks its own result (sums, counts, the "
        "1,000th prime 7919, sleeps that never return early) and fails the cell on a "
        "mismatch.",
        "- W8 is the RSS delta (`/proc/self/statm`) between just before spawning and "
        "once every goroutine is parked in a receive, divided by n. W9's overshoot is "
        "the mean over all sleepers of (time slept - time asked).",
        "- Per-cell timeout and a whole-run time budget: a cell that fails or times out "
        "shows as such instead of stopping the run.",
        "",
        "## Machine",
        "",
        f"- CPU: {meta['cpu']}, {meta['cores']} cores; memory {meta['memory']}; {meta['os']}",
        f"- {meta['python']}; goroutines {v.get('goroutines')}, greenlet {v.get('greenlet')}, "
        f"gevent {v.get('gevent')}, uvloop {v.get('uvloop')}, trio {v.get('trio')}",
        f"- Go: {meta['go'] or 'no Go toolchain on PATH (the Go column is absent)'}",
        f"- calibration: {_calibration_text(meta)}. Absolute numbers scale with these: "
        "a faster or slower machine (or more or less load) shifts every row alike.",
        f"- load average (1, 5, 15 min): {meta.get('load_before', '?')} at the start, "
        f"{meta.get('load_after', '?')} at the end; the 1-minute figure sampled after "
        f"each cell: {meta.get('load_during', '?')}. Other work on the machine during "
        "the run makes every number noisier; the ratios within one run are steadier "
        "than the absolute values.",
        "",
        "## Reproduce",
        "",
        "```",
        "make bench                                   # this page and benchmarks.png",
        "python bench/run.py --quick                  # smoke test: 1 repetition, small n",
        "python bench/run.py --only W2,W4 --runtimes goroutines,greenlet --repeat 5",
        "python -m bench.cell goroutines W2 --n 1000  # one cell, one JSON line",
        "make bench-net                               # W13-W15: benchmarks-net.md",
        "```",
        "",
    ]
    return "\n".join(out)


def write_chart(cells: Cells, path: Path) -> bool:
    """Bar chart of every peer's ratio to goroutines (log scale). False if impossible."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    metrics = _metrics_in(cells)
    peers = [rt for rt in _runtimes_in(cells) if rt != BASE]
    if BASE not in _runtimes_in(cells) or not peers or not metrics:
        return False
    width = 0.8 / len(peers)
    fig, ax = plt.subplots(figsize=(13, 5.5))
    for i, rt in enumerate(peers):
        xs, ys = [], []
        for j, m in enumerate(metrics):
            r = ratio(cells, rt, BASE, m)
            if r is not None and r > 0:
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(r)
        ax.bar(xs, ys, width, label=RUNTIME_BY_KEY[rt].label)
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(metrics)))
    labels = []
    for m in metrics:
        base = cells.get((BASE, METRIC_WORKLOAD[m.key].id))
        missing = base is None or base.median(m.key) is None
        labels.append(m.key + (f"\n(goroutines:\n{base.shown_status if base else 'absent'})"
                               if missing else ""))
    ax.set_xticklabels(labels, rotation=0, fontsize="small")
    ax.set_ylabel("median ÷ goroutines' median (log; >1: goroutines is better)")
    ax.set_title("Each runtime relative to goroutines (= 1)")
    ax.legend(ncol=4, fontsize="small")
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def save_json(cells: Cells, meta: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "cells": [asdict(c) for c in cells.values()]},
                               indent=1))


def load_json(path: Path) -> tuple[Cells, dict[str, Any]]:
    data = json.loads(path.read_text())
    cells = {(c["runtime"], c["workload"]): Cell(**c) for c in data["cells"]}
    return cells, data["meta"]


def write_report(cells: Cells, meta: dict[str, Any], out_dir: Path, log: Any) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = out_dir / "benchmarks.png"
    has_chart = write_chart(cells, chart)
    md = out_dir / "benchmarks.md"
    md.write_text(render_markdown(cells, meta, chart.name if has_chart else None))
    print(f"wrote {md}" + (f" and {chart}" if has_chart
                           else " (no chart: it needs matplotlib and goroutines results)"),
          file=log)
    return md


# ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench/run.py", description="Run the W1-W9 benchmarks for every runtime.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="workloads: " + ", ".join(w.id for w in WORKLOADS)
        + "\nruntimes: " + ", ".join(r.key for r in RUNTIMES),
    )
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition at smoke sizes (a smoke test, not a measurement)")
    ap.add_argument("--only", metavar="W2,W3", help="workloads to run (W4 means both sizes)")
    ap.add_argument("--runtimes", metavar="goroutines,gevent", help="runtimes to run")
    ap.add_argument("--repeat", type=int, help="repetitions per cell (default 3; --quick: 1)")
    ap.add_argument("--timeout", type=float, help="seconds per cell run (default 60; --quick: 30)")
    ap.add_argument("--budget", type=float, default=450.0,
                    help="seconds for all the cells; repetitions stop when spent (default 450: "
                    "with make's install step, `make bench` stays under 10 minutes)")
    ap.add_argument("--out", type=Path,
                    help="report directory (default: docs/ for a full run, else bench/results/)")
    ap.add_argument("--from-json", type=Path, metavar="FILE",
                    help="re-render the report from a saved results file; run nothing")
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.timeout is None:
        args.timeout = 30.0 if args.quick else 60.0
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = sys.stderr
    if args.from_json:
        cells, meta = load_json(args.from_json)
        print(main_table(cells) + "\n\n" + floor_table(cells))
        write_report(cells, meta, args.out or RESULTS_DIR, log)
        return 0
    full = not (args.quick or args.only or args.runtimes)
    out_dir = args.out or (DOCS_DIR if full else RESULTS_DIR)
    load_before = _loadavg()
    cells, go_binary, _ = plan(args, log)
    meta = machine_info(go_binary)
    meta.update(quick=args.quick, repeat=args.repeat, load_before=load_before,
                calibration=calibrate())
    print(f"{meta['python']} on {meta['cpu']} ({meta['cores']} cores), load average "
          f"{load_before}; {sum(c.status == OK for c in cells.values())} cells x "
          f"{args.repeat} repetitions; calibration: {_calibration_text(meta)}", file=log)
    meta["seconds"] = run_all(cells, args, go_binary, log)
    meta["budget_hit"] = args.budget_hit
    if args.load_samples:
        meta["load_during"] = (f"{min(args.load_samples):.2f} min, "
                               f"{statistics.median(args.load_samples):.2f} median, "
                               f"{max(args.load_samples):.2f} max")
    meta["budget"] = args.budget
    meta["load_after"] = _loadavg()
    if go_binary:
        shutil.rmtree(Path(go_binary).parent, ignore_errors=True)

    print()
    print(main_table(cells))
    print()
    print(floor_table(cells))
    met, missed, unmeasured = targets_summary(cells)
    print(f"\ntargets met: {', '.join(met) or 'none'}; missed: {', '.join(missed) or 'none'}"
          + (f"; not measured: {', '.join(unmeasured)}" if unmeasured else ""))
    print(f"targets the raw-greenlet floor itself misses: "
          f"{', '.join(floor_missed_targets(cells)) or 'none'}")
    for f in failures(cells):
        print(f"failure: {f}")
    print(f"load average {load_before} before, {meta['load_after']} after, "
          f"1-minute during: {meta.get('load_during', '?')}; {meta['seconds']:.0f} s")
    stamp = "quick" if args.quick else "last"
    save_json(cells, meta, RESULTS_DIR / f"{stamp}.json")
    write_report(cells, meta, out_dir, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())

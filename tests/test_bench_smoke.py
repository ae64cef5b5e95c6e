"""Smoke tests for the benchmark suite in bench/, so its code does not rot.

Every workload function runs at a tiny n and checks its own result (a wrong
result raises BenchmarkError). The peers that need the bench extra (gevent,
uvloop, trio) are skipped when it is not installed. The runner's tables and
ratios are checked on fake results, without running anything.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run as runner  # noqa: E402
from bench.spec import RUNTIME_BY_KEY, RUNTIMES, WORKLOAD_BY_ID, WORKLOADS, nth_prime  # noqa: E402
from bench.workloads import BenchmarkError, check  # noqa: E402

TINY = {
    "spawn": 200,
    "ping_pong": 200,
    "buffered": 2_000,
    "daisy_chain": 100,
    "prime_sieve": 25,
    "select_fan_in": 100,
    "worker_pool": 500,
    "memory": 100,
    "timers": 20,
}
NEEDS = {"gevent": "gevent", "uvloop": "uvloop", "trio": "trio"}
# Runtimes with a module of their own (goroutines-pure runs goroutines' module
# with an environment of its own).
PYTHON_RUNTIMES = [r.key for r in RUNTIMES if r.module is not None and not r.env]


def _module(runtime: str) -> Any:
    if runtime in NEEDS:
        pytest.importorskip(NEEDS[runtime])
    return importlib.import_module(f"bench.workloads.{runtime}")


@pytest.mark.parametrize("func", list(TINY))
def test_goroutines_workload_checks_its_result_at_tiny_n(func: str) -> None:
    raw = getattr(_module("goroutines"), func)(TINY[func])
    assert raw["seconds"] > 0
    if func == "memory":
        assert "rss_bytes" in raw
    if func == "timers":
        assert raw["overshoot_s"] > -2e-3


@pytest.mark.parametrize("runtime", [r for r in PYTHON_RUNTIMES if r != "goroutines"])
@pytest.mark.parametrize("func", list(TINY))
def test_peer_workload_checks_its_result_at_tiny_n(runtime: str, func: str) -> None:
    if runtime == "threads":
        # In a child process, as the real runs are: the thread sieve leaves its
        # filter threads blocked (as Go's leaves its goroutines), and live
        # threads in this process would count as possible wakers for the
        # deadlock tests that run after this one.
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]);"
            f"from bench.workloads import threads; print(json.dumps(threads.{func}({TINY[func]})))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        raw = json.loads(proc.stdout.strip().splitlines()[-1])
    else:
        raw = getattr(_module(runtime), func)(TINY[func])
    assert raw["seconds"] > 0


def test_every_runtime_module_has_every_workload() -> None:
    for runtime in PYTHON_RUNTIMES:
        try:
            module = importlib.import_module(f"bench.workloads.{runtime}")
        except ImportError:
            continue  # a peer that is not installed
        for wl in WORKLOADS:
            if wl.size(runtime, quick=False) is None:
                continue  # the spec says this runtime does not run it
            assert callable(getattr(module, wl.func, None)), f"{runtime} lacks {wl.func}"


@pytest.mark.parametrize("runtime", ["goroutines", "threads"])
def test_parallel_c_work_checks_its_result_and_reports_both_times(runtime: str) -> None:
    raw = _module(runtime).parallel_c(2)
    assert raw["seconds"] > 0 and raw["seconds_base"] > 0


def test_blocked_thread_reports_the_pairs_time_with_and_without_the_sleeper() -> None:
    raw = _module("goroutines").blocked_thread(20)
    assert raw["seconds"] > 0 and raw["seconds_base"] > 0


def test_a_wrong_result_fails_loudly() -> None:
    with pytest.raises(BenchmarkError, match="W3: sum received is 1, expected 2"):
        check("W3", "sum received", 1, 2)


def test_the_1000th_prime_is_7919() -> None:
    assert nth_prime(1_000) == 7919
    assert nth_prime(1) == 2


def test_a_cell_runs_in_a_fresh_process_and_reports_json() -> None:
    status, metrics, message = runner.run_cell_once("goroutines", "W2", 100, 60, None)
    assert (status, message) == ("ok", "")
    assert metrics["W2"] > 0


def test_the_pure_python_column_runs_without_the_accelerator() -> None:
    rt = RUNTIME_BY_KEY["goroutines-pure"]
    assert rt.module == "goroutines" and dict(rt.env) == {"GOROUTINES_PURE": "1"}
    status, metrics, message = runner.run_cell_once("goroutines-pure", "W3", 1_000, 60, None)
    assert (status, message) == ("ok", "")
    assert metrics["W3"] > 0


# --- the runner's report, on fake results -----------------------------------


def _cell(rt: str, wl: str, n: int | None, *values: float, **kw: Any) -> runner.Cell:
    key = WORKLOAD_BY_ID[wl].metrics[0].key
    return runner.Cell(rt, wl, n, runs=[{key: v} for v in values], **kw)


def _fake_cells() -> runner.Cells:
    cells = [
        _cell("goroutines", "W2", 100_000, 1_000.0, 1_200.0, 1_100.0),  # median 1,100
        _cell("greenlet", "W2", 100_000, 500.0, 550.0, 520.0),
        _cell("gevent", "W2", 100_000, 2_200.0, 2_200.0, 2_300.0),
        _cell("asyncio", "W2", 100_000, status="error", message="W2: sum of replies is 1"),
        _cell("trio", "W2", 100_000, status="timeout", message="no result within 60 s"),
        _cell("uvloop", "W2", 100_000, 900.0, status="error", message="failed in rep 2"),
        _cell("threads", "W2", 5_000, 5_500.0),  # smaller n, per-unit: still a ratio
        _cell("goroutines", "W5", 1_000, 240.0, 260.0, 250.0),
        _cell("greenlet", "W5", 1_000, 100.0),
        _cell("gevent", "W5", 1_000, 500.0),
        _cell("asyncio", "W5", 1_000, status="missing", message="not installed: x"),
        _cell("trio", "W5", 1_000),  # never ran: the budget ran out
        _cell("threads", "W5", 300, 900.0),  # smaller n, a total: no ratio
    ]
    return {(c.runtime, c.workload): c for c in cells}


def _row(table: str, key: str) -> list[str]:
    for line in table.splitlines():
        cols = [c.strip() for c in line.strip("|").split("|")]
        if cols[0] == key:
            return cols
    raise AssertionError(f"no row {key} in\n{table}")


def test_main_table_shows_medians_ratios_and_failures() -> None:
    table = runner.main_table(_fake_cells())
    header = _row(table, "")
    w2 = dict(zip(header, _row(table, "W2"), strict=True))
    assert w2["goroutines"] == "1,100"
    assert w2["vs target"] == "met"  # target 1,200, stretch 600
    assert w2["raw greenlet (floor)"] == "520 (x0.47)"
    assert w2["gevent"] == "2,200 (x2.0)"
    assert w2["asyncio"] == "error"
    assert w2["trio"] == "timeout"
    assert w2["asyncio+uvloop"] == "error"  # an earlier good run does not excuse a failure
    assert w2["threads"] == "5,500† (x5.0)"
    w5 = dict(zip(header, _row(table, "W5"), strict=True))
    assert w5["vs target"] == "met (stretch)"  # 250 <= stretch 250
    assert w5["gevent"] == "500 (x2.0)"
    assert w5["asyncio"] == "missing"
    assert w5["trio"] == "skipped"
    assert w5["threads"] == "900† (n=300)"


def test_floor_table_divides_every_runtime_by_the_floor() -> None:
    table = runner.floor_table(_fake_cells())
    header = _row(table, "")
    w2 = dict(zip(header, _row(table, "W2"), strict=True))
    assert w2["raw greenlet (floor)"] == "520 ns/round trip"
    assert w2["goroutines ÷ floor"] == "x2.1"
    assert w2["gevent ÷ floor"] == "x4.2"
    assert w2["trio ÷ floor"] == "timeout"
    w5 = dict(zip(header, _row(table, "W5"), strict=True))
    assert w5["goroutines ÷ floor"] == "x2.5"
    assert w5["threads ÷ floor"] == "—"  # different n, a total


def test_targets_and_failures_are_summarised() -> None:
    cells = _fake_cells()
    cells[("goroutines", "W2")].runs = [{"W2": 5_000.0}]
    met, missed, unmeasured = runner.targets_summary(cells)
    assert (met, missed, unmeasured) == (["W5"], ["W2"], [])
    fails = runner.failures(cells)
    assert "asyncio W2: error — W2: sum of replies is 1" in fails
    assert "trio W2: timeout — no result within 60 s" in fails


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0123, "0.012"), (1.5, "1.50"), (42.25, "42.2"), (999.4, "999"), (12_345.6, "12,346")],
)
def test_values_are_formatted_to_three_significant_figures(value: float, text: str) -> None:
    assert runner.fmt_value(value) == text


@pytest.mark.parametrize(("r", "text"), [(0.456, "x0.46"), (1.94, "x1.9"), (12.4, "x12"), (345.0, "x345")])
def test_ratios_are_formatted_compactly(r: float, text: str) -> None:
    assert runner.fmt_ratio(r) == text


def test_report_renders_and_round_trips_through_json(tmp_path: Path) -> None:
    cells = _fake_cells()
    meta = runner.machine_info(None)
    meta.update(load_before="0.1 0.1 0.1", load_after="0.2 0.2 0.2", seconds=1.0)
    md = runner.render_markdown(cells, meta, None)
    assert "## Against the raw-greenlet floor" in md
    assert "- missed: none" in md
    assert "W5, threads: n = 300 instead of 1,000 primes" in md
    runner.save_json(cells, meta, tmp_path / "r.json")
    loaded, meta2 = runner.load_json(tmp_path / "r.json")
    assert runner.main_table(loaded) == runner.main_table(cells)
    assert meta2["load_after"] == "0.2 0.2 0.2"


def test_chart_is_written_with_matplotlib(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    assert runner.write_chart(_fake_cells(), tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1_000


def test_only_and_runtimes_options_select_cells() -> None:
    assert [w.id for w in runner.select_workloads("w4,W2")] == ["W2", "W4-10k", "W4-100k"]
    assert runner.select_runtimes("gevent,goroutines") == ["goroutines", "gevent"]
    with pytest.raises(SystemExit):
        runner.select_workloads("W10")


def test_without_a_go_toolchain_the_go_column_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner.shutil, "which", lambda name: None)
    args = runner.parse_args(["--quick", "--only", "W2", "--runtimes", "goroutines,go"])
    cells, go_binary, note = runner.plan(args, sys.stderr)
    assert go_binary is None and note == "no Go toolchain on PATH"
    assert list(cells) == [("goroutines", "W2")]

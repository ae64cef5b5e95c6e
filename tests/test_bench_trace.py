"""The tracer's cost benchmark (bench/trace_cost.py) does not rot: its
byte accounting adds up, its table renders fake results, and one tiny
traced cell counts the events it recorded. The measurements themselves are
`python -m bench.trace_cost`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import trace_cost  # noqa: E402

PARK = '{"ph":"X","pid":1,"tid":9,"ts":138.3,"dur":19.2,"name":"chan receive","args":{"ready":8.2,"by":10}},\n'


def test_a_park_slices_fields_add_up_to_its_line() -> None:
    f = trace_cost.field_bytes(PARK)
    assert sum(f.values()) == len(PARK)
    assert f["name"] == len('"name":"chan receive",')
    assert f["args.ready"] == len('"ready":8.2,')
    assert f["args.by"] == len('"by":10')
    assert f["args"] == len('"args":{}')
    assert f["punctuation"] == len("{}},\n") - 1  # the outer braces, the line's end


def test_the_breakdown_classifies_lines_and_counts_every_byte() -> None:
    lines = [
        '{"traceEvents":[\n',
        PARK,
        PARK,
        '{"ph":"X","pid":1,"tid":2,"ts":58.6,"dur":39.9,"name":"runnable"},\n',
        '{"ph":"C","pid":1,"ts":0.0,"name":"goroutines","args":{"runnable":0,"total":1}},\n',
        '{"ph":"M","pid":1,"name":"process_name","args":{"name":"goroutines"}},\n',
        '{"ph":"M","pid":1,"name":"process_sort_index","args":{"sort_index":1}}\n',
        '],"displayTimeUnit":"ms","otherData":{}}\n',
    ]
    kinds, avg, total = trace_cost.breakdown(lines)
    assert total == sum(len(x) for x in lines)
    assert kinds["goroutine slice: a park (park, ready, resume)"] == (2, 2 * len(PARK))
    assert kinds["counter (goroutines)"][0] == 1
    assert kinds["metadata"][0] == 2
    assert sum(avg.values()) == len(PARK)
    assert "| `name` |" in trace_cost.breakdown_tables(kinds, avg, total)


def test_the_table_has_the_medians_and_ratios_against_off() -> None:
    off = [{"n": 100, "cpu": c, "rss_mib": 20.0} for c in (1e-4, 2e-4, 3e-4)]
    traced = [
        {"n": 100, "cpu": 4e-4, "stop_cpu": 1e-3, "events": 600, "size": 21_000,
         "kinds": {"park": 200}, "rss_mib": 30.0}
        for _ in range(3)
    ]  # fmt: skip
    s_off = trace_cost.summarize(off, None)
    s_tr = trace_cost.summarize(traced, off)
    assert round(s_off["unit_ns"]) == 2000
    assert round(s_tr["vs_off"], 6) == 2.0
    assert round(s_tr["vs_off_with_stop"], 6) == 7.0
    assert s_tr["bytes_per_event"] == 35.0
    text = trace_cost.table(
        [("W2 ping-pong (n=100)", "off", s_off), ("W2 ping-pong (n=100)", "traced", s_tr)]
    )
    assert "| 2.00x | 7.00x | 600 |" in text
    assert "2,000 ns/round trip" in text


def test_a_traced_cell_counts_what_it_recorded(tmp_path: Path) -> None:
    path = str(tmp_path / "t.json")
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.trace_cost", "--cell", "w2", "traced", "200", path],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # Each round trip parks, readies and resumes each goroutine once.
    assert out["kinds"]["park"] >= 400 and out["kinds"]["ready"] >= 400
    assert out["events"] >= sum(out["kinds"].values())
    assert out["size"] == os.path.getsize(path) > 0
    with open(path, encoding="utf-8") as f:
        kinds, _, _ = trace_cost.breakdown(f)
    assert kinds["goroutine slice: a park (park, ready, resume)"][0] >= 400

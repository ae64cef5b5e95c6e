"""The execution tracer: goroutines.trace.start/stop, run --trace, the event
layer it records from, and the HTML timeline (python -m goroutines trace)."""

from __future__ import annotations

import gc
import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import goroutines
from goroutines import (
    Chan,
    WaitGroup,
    _tracehtml,
    after,
    blocking,
    go,
    recv,
    run,
    select,
    sleep,
    trace,
)
from goroutines._runtime import accel, events
from goroutines._runtime import sysmon as _sysmon

OPS_PID = 4  # a goroutine's channel operations (tid: its id)
ACTORS_PID = 5  # a thread's or asyncio task's (tid: its number)


def load(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    assert isinstance(doc, dict)
    return doc


def check_format(doc: dict[str, Any]) -> None:
    """The trace-event format's rules for what the tracer writes."""
    assert isinstance(doc["traceEvents"], list)
    flows: dict[int, set[str]] = {}
    for e in doc["traceEvents"]:
        ph = e["ph"]
        assert ph in ("X", "i", "C", "M", "s", "f"), e
        assert isinstance(e["pid"], int), e
        assert isinstance(e["name"], str), e
        if ph == "M":
            assert isinstance(e["args"], dict), e
            continue
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
        if ph == "X":
            assert isinstance(e["tid"], int), e
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
        elif ph == "C":
            assert all(isinstance(v, int) for v in e["args"].values()), e
        elif ph == "i":
            assert e["s"] in ("t", "p", "g"), e
        else:
            flows.setdefault(e["id"], set()).add(ph)
    for fid, phases in flows.items():
        assert phases == {"s", "f"}, (fid, phases)


def slices(doc: dict[str, Any], gid: int) -> list[dict[str, Any]]:
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["pid"] == 1 and e.get("tid") == gid]
    return sorted(xs, key=lambda e: e["ts"])


def states(doc: dict[str, Any], gid: int) -> list[tuple[float, float, str, str]]:
    """The goroutine's states in order, as the timeline page reads them
    (running where the lane has no slice, each park split at args.ready)."""
    data = _tracehtml.timeline_data(doc)
    strings = data["strings"]
    lane = next(lane for lane in data["lanes"] if lane["g"] == gid)
    return [(ts, dur, strings[n], strings[x]) for ts, dur, n, x in sorted(lane["s"])]


def thread_names(doc: dict[str, Any], pid: int = 1) -> dict[int, str]:
    return {
        e["tid"]: e["args"]["name"]
        for e in doc["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == pid
    }


def _known_program() -> int:
    """G1 starts a receiver that parks on an unbuffered channel until G1
    sends: create -> start -> park (chan receive) -> ready (by G1) -> finish."""
    ch: Chan[int] = Chan()
    done: Chan[int] = Chan(1)

    def receiver() -> None:
        done.send(ch.recv() or 0)

    g = go(receiver)
    sleep(0.005)  # the receiver runs and parks on ch
    ch.send(7)
    assert done.recv() == 7
    return g.id


def test_a_goroutines_life_is_recorded(tmp_path: Path) -> None:
    for i in range(10):
        path = tmp_path / f"t{i}.json"
        trace.start(path)
        gid = run(_known_program)
        assert trace.stop() == str(path)
        doc = load(path)
        check_format(doc)
        # one slice per stretch off the CPU: created (runnable), parked receiving
        xs = slices(doc, gid)
        assert [e["name"] for e in xs] == ["runnable", "chan receive"], xs
        park = xs[1]
        assert 0 < park["args"]["ready"] <= park["dur"], park
        main_id = park["args"]["by"]
        assert isinstance(main_id, int) and main_id != gid, park
        assert doc["otherData"]["parents"][str(gid)] == main_id
        life = doc["otherData"]["lives"][str(gid)]
        assert len(life) == 2 and life[0] == xs[0]["ts"] and life[1] >= park["ts"] + park["dur"]
        assert any(
            e["ph"] == "i" and e["name"] == "end" and e["tid"] == gid and e["ts"] == life[1]
            for e in doc["traceEvents"]
        )
        # the states the timeline shows: created, started, parked receiving,
        # readied, ran to its end
        names = [s[2] for s in states(doc, gid)]
        assert names == ["runnable", "running", "chan receive", "runnable", "running"], names
        assert states(doc, gid)[3][3] == f"by=G{main_id}"
        assert thread_names(doc)[gid].endswith("receiver")
        # the runnable/total counters
        counters = [e for e in doc["traceEvents"] if e["ph"] == "C"]
        assert counters and all(set(c["args"]) == {"runnable", "total"} for c in counters)
        assert max(c["args"]["total"] for c in counters) >= 2


def test_states_of_a_goroutine_tile_its_life(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    trace.start(path)
    gid = run(_known_program)
    trace.stop()
    doc = load(path)
    xs = states(doc, gid)
    for a, b in itertools.pairwise(xs):
        assert abs(a[0] + a[1] - b[0]) < 0.01, (a, b)
    life = doc["otherData"]["lives"][str(gid)]
    assert xs[0][0] == life[0] and abs(xs[-1][0] + xs[-1][1] - life[1]) < 0.01


def test_a_trace_is_compact(tmp_path: Path) -> None:
    """A park, a ready and a resume make one object of JSON: a goroutine
    ping-ponging on unbuffered channels costs well under 40 bytes an event."""
    path = tmp_path / "pp.json"
    n = 20_000

    def main() -> None:
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()

        def echo() -> None:
            for v in ping:
                pong.send(v)

        go(echo)
        for i in range(n):
            ping.send(i)
            pong.recv()
        ping.close()

    events.start_recording()
    run(main)
    events.stop_recording()
    count = 0
    while chunk := events.take_records(65536):
        count += len(chunk)
    assert count >= 4 * n  # each side parks, is readied and resumes per round trip
    trace.start(path)
    run(main)
    trace.stop()
    check_format(load(path))
    per_event = os.path.getsize(path) / count
    assert per_event < 40, per_event


def test_channel_operations_and_flow_arrows(tmp_path: Path) -> None:
    methods = {n: Chan.__dict__[n] for n in ("send", "recv", "recv_ok", "close", "__iter__")}
    for i in range(5):
        path = tmp_path / f"c{i}.json"
        trace.start(path, chan=True)
        gid = run(_known_program)
        trace.stop()
        doc = load(path)
        check_format(doc)
        ops = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["pid"] == OPS_PID]
        recv_op = [e for e in ops if e["tid"] == gid and e["args"]["op"] == "recv"]
        assert len(recv_op) == 1, ops
        r = recv_op[0]
        assert r["args"]["blocked_us"] > 0
        # its partner is the sender (goroutine 1's send), and an arrow runs
        # from the send to the receive
        send_op = [
            e for e in ops if e["args"]["op"] == "send" and e["args"]["chan"] == r["args"]["chan"]
        ]
        assert len(send_op) == 1
        assert send_op[0]["args"]["partners"] == [f"G{gid}"]
        assert r["args"]["partners"] == [f"G{send_op[0]['tid']}"]
        starts = {e["id"]: e for e in doc["traceEvents"] if e["ph"] == "s"}
        ends = {e["id"]: e for e in doc["traceEvents"] if e["ph"] == "f"}
        arrows = [(starts[k], ends[k]) for k in starts if k in ends]
        assert any(s["tid"] == send_op[0]["tid"] and f["tid"] == r["tid"] for s, f in arrows), (
            arrows
        )
    # the channel methods are themselves again
    assert {n: Chan.__dict__[n] for n in methods} == methods
    assert goroutines.select is select


def test_select_records_the_chosen_case(tmp_path: Path) -> None:
    path = tmp_path / "s.json"

    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(1)
        i, v = goroutines.select(recv(Chan()), recv(c))
        assert (i, v) == (1, 1)

    trace.start(path, chan=True)
    run(main)
    trace.stop()
    ops = [e for e in load(path)["traceEvents"] if e.get("cat") == "chan"]
    assert any(e["name"] == "select case 1" and e["args"]["case"] == 1 for e in ops), ops


def test_blocking_calls_timers_and_gc(tmp_path: Path) -> None:
    path = tmp_path / "b.json"

    def main() -> None:
        blocking(time.sleep, 0.002)
        after(0.001).recv()
        gc.collect()

    trace.start(path)
    run(main)
    trace.stop()
    doc = load(path)
    check_format(doc)
    evs = doc["traceEvents"]
    assert any(
        e["ph"] == "X" and e["name"] == "syscall" and e["args"].get("call") == "sleep" for e in evs
    )
    assert any(e["ph"] == "i" and e["name"] == "timer fired" for e in evs)
    assert any(e["ph"] == "X" and e["pid"] == 3 and e["name"] == "GC" for e in evs)


def test_ring_buffer_keeps_the_last_events_within_its_bound(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    ring_mb = 0.2

    def main() -> None:
        ping: Chan[int] = Chan()

        def echo() -> None:
            for _ in ping:
                pass

        go(echo)
        for i in range(20_000):
            ping.send(i)
        ping.close()

        def last() -> None:
            pass

        wg = WaitGroup()
        wg.go(last)
        wg.wait()

    for chan in (False, True):
        trace.start(path, ring_mb=ring_mb, chan=chan)
        run(main)
        trace.stop()
        doc = load(path)
        check_format(doc)
        size = os.path.getsize(path)
        assert doc["otherData"]["dropped_events"] > 0
        # the bound, with room for the metadata and the counters
        assert ring_mb * 1e6 * 0.5 <= size <= ring_mb * 1e6 * 1.5, (chan, size)
        assert any(n.endswith("last") for n in thread_names(doc).values())


def test_start_and_stop_errors(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not enabled"):
        trace.stop()
    with pytest.raises(ValueError, match="ring_mb"):
        trace.start(tmp_path / "x.json", ring_mb=0)
    trace.start(tmp_path / "x.json")
    try:
        assert trace.tracing()
        with pytest.raises(RuntimeError, match="already enabled"):
            trace.start(tmp_path / "y.json")
    finally:
        trace.stop()
    assert not trace.tracing()
    assert events.hook is None


def test_the_event_layer_sends_park_ready_resume_to_subscribers() -> None:
    seen: list[tuple[int, int, Any]] = []

    def sub(kind: int, g: Any, arg: Any) -> None:
        if g is not None:
            seen.append((kind, g.id, arg))

    events.subscribe(sub, events.CORE_KINDS)
    try:
        gid = run(_known_program)
    finally:
        events.unsubscribe(sub)
    assert events.hook is None
    mine = [(k, a) for k, g, a in seen if g == gid]
    kinds = [k for k, _ in mine]
    assert kinds[:3] == [events.CREATE, events.START, events.PARK], mine
    assert (events.PARK, "chan receive") in mine
    i = kinds.index(events.PARK)
    assert kinds[i + 1 : i + 3] == [events.READY, events.RESUME], mine
    assert kinds[-1] == events.FINISH
    # the accelerated path's C sites reach the same hook
    assert accel.port("sched") is None or events.READY in kinds


def test_handoff_is_an_event() -> None:
    seen: list[Any] = []

    def sub(kind: int, g: Any, arg: Any) -> None:
        if kind == events.HANDOFF:
            seen.append(arg)

    class FakeP:
        def __init__(self, i: int) -> None:
            self.id = i

    events.subscribe(sub)
    try:
        _sysmon._emit_handoff(FakeP(0), FakeP(1), 3)  # type: ignore[arg-type]
    finally:
        events.unsubscribe(sub)
    assert seen == [(0, 1, 3)]


def test_recorder_keeps_the_last_records_of_a_ring() -> None:
    """The recorder (the accelerator's rec_* on that path, their twins on the
    pure one): a ring drops the oldest, records are taken out in chunks."""
    events.rec_start(3, True)
    for k in range(5):
        events.rec_record(k, None, k * 10)
    with pytest.raises(RuntimeError, match="rec_stop"):
        events.rec_take(10)
    assert events.rec_stop() == 2
    first = events.rec_take(2)
    assert [(r[1], r[2], r[4]) for r in first] == [(2, 0, 20), (3, 0, 30)]
    assert [(r[1], r[4]) for r in events.rec_take(10)] == [(4, 40)]
    assert events.rec_take(10) == []
    events.rec_start(0, False)
    for k in range(100_001):
        events.rec_record(1, None, k)
    assert events.rec_stop() == 0
    got: list[Any] = []
    while chunk := events.rec_take(4096):
        got.extend(r[4] for r in chunk)
    assert got == list(range(100_001))
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(first))
    with pytest.raises(ValueError):
        events.rec_start(0, True)


def write(tmp_path: Path, code: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


PROGRAM = """
    import time
    from goroutines import Chan, WaitGroup, go, sleep, blocking

    def producer(out, n):
        for i in range(n):
            out.send(i)
            sleep(0.001)
        out.close()

    def consumer(inp, res, wg):
        for v in inp:
            res.send(v * v)
        wg.done()

    def closer(wg, results):
        wg.wait()
        results.close()

    jobs, results = Chan(), Chan(10)
    wg = WaitGroup()
    go(producer, jobs, 10)
    for _ in range(2):
        wg.add(1)
        go(consumer, jobs, results, wg)
    go(closer, wg, results)
    print(sum(results))
    blocking(time.sleep, 0.002)
"""


def goroutines_cmd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goroutines", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_trace_end_to_end_and_html(tmp_path: Path) -> None:
    script = write(tmp_path, PROGRAM)
    out = tmp_path / "out.json"
    r = goroutines_cmd("run", "--trace", out, "--trace-chan", script)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(sum(i * i for i in range(10)))
    doc = load(out)
    check_format(doc)
    names = set(thread_names(doc).values())
    for want in ("producer", "consumer", "closer"):
        assert any(n.endswith(want) for n in names), names
    assert any(e.get("cat") == "chan" for e in doc["traceEvents"])
    page = tmp_path / "out.html"
    r = goroutines_cmd("trace", out, "-o", page)
    assert r.returncode == 0, r.stderr
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert "<script src" not in text and "<link" not in text and "<img" not in text
    assert (
        "producer" in text and 'id="summary-goroutines"' in text and 'id="summary-channels"' in text
    )


def test_run_trace_on_a_deadlock_still_writes_the_trace(tmp_path: Path) -> None:
    script = write(tmp_path, "from goroutines import Chan\nChan().recv()\n")
    out = tmp_path / "d.json"
    r = goroutines_cmd("run", "--trace", out, script)
    assert r.returncode == 2 and "deadlock" in r.stderr
    doc = load(out)
    assert any(e["ph"] == "X" and e["name"] == "chan receive" for e in doc["traceEvents"])


def test_command_line_errors(tmp_path: Path) -> None:
    script = write(tmp_path, "pass\n")
    r = goroutines_cmd("run", "--trace-chan", script)
    assert r.returncode == 2 and "need --trace FILE" in r.stderr
    r = goroutines_cmd("run", "--trace", tmp_path / "x.json", "--trace-ring", "-1", script)
    assert r.returncode == 2 and "--trace-ring" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = goroutines_cmd("trace", bad, "-o", tmp_path / "bad.html")
    assert r.returncode == 1 and "traceEvents" in r.stderr


def test_tracing_off_leaves_no_hook() -> None:
    assert events.hook is None
    assert not trace.tracing()
    speedups = accel.port("sched")
    if speedups is not None:
        speedups.set_trace_hook(None)  # idempotent, accepted
        with pytest.raises(TypeError):
            speedups.set_trace_hook(42)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_stops_tracing_and_may_start_its_own(tmp_path: Path) -> None:
    parent, child = tmp_path / "parent.json", tmp_path / "child.json"
    code = f"""
        import os, sys, traceback
        from goroutines import Chan, go, trace
        from goroutines._runtime import events

        send = Chan.__dict__["send"]

        def before(ch): ch.send(1)
        def after(ch): ch.send(1)
        def child_untraced(ch): ch.send(1)
        def child_traced(ch): ch.send(1)

        def work(fn):
            ch = Chan()
            go(fn, ch)
            return ch.recv()

        trace.start({str(parent)!r}, chan=True)
        work(before)
        pid = os.fork()
        if pid == 0:
            try:
                assert not trace.tracing(), "the child still traces"
                assert events.hook is None, "the child still records"
                assert Chan.__dict__["send"] is send, "the child's channels are still wrapped"
                work(child_untraced)
                trace.start({str(child)!r})
                work(child_traced)
                trace.stop()
            except BaseException:
                traceback.print_exc()
                sys.stderr.flush()
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        work(after)
        trace.stop()
        print(os.waitstatus_to_exitcode(status))
    """
    script = write(tmp_path, code)
    for _ in range(3):
        r = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0 and r.stdout.strip() == "0", (r.stdout, r.stderr)
        names = set(thread_names(load(parent)).values())
        assert any(n.endswith("before") for n in names) and any(n.endswith("after") for n in names)
        assert not any("child" in n for n in names), names
        doc = load(child)
        check_format(doc)
        names = set(thread_names(doc).values())
        assert any(n.endswith("child_traced") for n in names), names
        assert not any(n.endswith(("before", "child_untraced")) for n in names), names


SELECT_BY_NAME = """
    from goroutines import Chan, go, trace
    from goroutines import select, recv, send  # bound before the trace starts

    def main_program():
        a, b = Chan(), Chan(1)
        b.send(5)
        picks = [select(recv(a), recv(b))[0]]
        done = Chan()
        go(lambda: done.send(select(recv(a), send(Chan(), 1), default=True)[0]))
        picks.append(done.recv())
        return picks

    trace.start(PATH, chan=True)
    print(main_program())
    trace.stop()
"""


def test_a_select_imported_by_name_before_the_trace_is_recorded(tmp_path: Path) -> None:
    for pure in (False, True):
        out = tmp_path / f"sel{pure}.json"
        script = write(tmp_path, SELECT_BY_NAME.replace("PATH", repr(str(out))))
        env = dict(os.environ)
        if pure:
            env.update(GOROUTINES_PURE="1", GOROUTINES_EXPECT_SPEEDUPS="0")
        r = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env
        )
        assert r.returncode == 0 and r.stdout.strip() == "[1, -1]", (r.stdout, r.stderr)
        doc = load(out)
        check_format(doc)
        ops = [e for e in doc["traceEvents"] if e.get("cat") == "chan"]
        names = sorted(e["name"] for e in ops if e["args"]["op"] == "select")
        assert names == ["select case 1", "select default"], ops


def test_asyncio_operations_and_select_async_are_recorded(tmp_path: Path) -> None:
    import asyncio

    from goroutines import select_async

    for i in range(5):
        path = tmp_path / f"a{i}.json"

        async def main(a: Chan[int], b: Chan[int]) -> None:
            await a.send_async(1)  # each would complete at once (a fast path)
            assert await a.recv_async() == 1
            await b.send_async(5)
            assert await select_async(recv(Chan()), recv(b)) == (1, 5)

        trace.start(path, chan=True)
        asyncio.run(main(Chan(1), Chan(1)))
        trace.stop()
        doc = load(path)
        check_format(doc)
        names = thread_names(doc, ACTORS_PID)
        task_lanes = {tid for tid, name in names.items() if name.startswith("asyncio task")}
        assert len(task_lanes) == 1, names
        ops = [
            e
            for e in doc["traceEvents"]
            if e.get("cat") == "chan" and e["pid"] == ACTORS_PID and e["tid"] in task_lanes
        ]
        assert [e["args"]["op"] for e in sorted(ops, key=lambda e: e["ts"])] == [
            "send",
            "recv_ok",
            "send",
            "select",
        ], ops
        assert ops[-1]["name"] == "select case 1"
        page = _tracehtml.render(doc)
        assert "asyncio task" in page


def test_lanes_never_collide_whatever_the_goroutine_ids() -> None:
    """Goroutine ids have no upper bound: a goroutine numbered past a million,
    a thread's channel operations and a small goroutine's each keep their
    own track (the encoder on records made by hand)."""
    big, small = 1_000_005, 5
    made = [
        SimpleNamespace(id=big, name="big", parent_id=1),
        SimpleNamespace(id=small, name="small", parent_id=1),
    ]
    recs: list[Any] = []
    t = 1_000_000
    for g in made:
        recs += [
            (t, events.CREATE, g.id, None, g),
            (t + 10, events.START, g.id, None, None),
            (t + 20, events.CHAN, g.id, None, ("recv", 77)),
            (t + 30, events.PARK, g.id, None, "chan receive"),
            (t + 40, events.READY, g.id, None, None),
            (t + 50, events.RESUME, g.id, None, None),
            (t + 60, events.CHAN_DONE, g.id, None, ("recv", 77, True)),
        ]
        t += 1000
    recs += [  # a thread outside goroutines: the tracer's lane -1
        (t, events.CHAN, -1, None, ("send", 77)),
        (t + 10, events.CHAN_DONE, -1, None, ("send", 77, True)),
    ]
    names = {-1: "thread worker"}
    text = "".join(trace._encode(iter([recs]), names, {}, 1_000_000, t + 100))
    doc = json.loads(text)
    check_format(doc)
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    parks = {(e["pid"], e["tid"]) for e in xs if e["name"] == "chan receive"}
    assert parks == {(1, big), (1, small)}
    ops = {(e["pid"], e["tid"], e["args"]["op"]) for e in xs if e.get("cat") == "chan"}
    assert ops == {(OPS_PID, big, "recv"), (OPS_PID, small, "recv"), (ACTORS_PID, 1, "send")}
    assert thread_names(doc, ACTORS_PID) == {1: "thread worker"}
    assert set(thread_names(doc)) == {big, small}
    assert set(doc["otherData"]["goroutines"]) == {str(big), str(small)}
    lanes = _tracehtml.timeline_data(doc)["lanes"]
    assert [(lane["g"], len(lane["s"]) > 0, len(lane["o"])) for lane in lanes] == [
        (small, True, 1),
        (big, True, 1),
        (-1, False, 1),
    ]
    assert lanes[2]["name"] == "thread worker"


def test_the_timeline_still_reads_format_2() -> None:
    """Traces written before the channel operations had processes of their
    own (format 2: process 1, tids from 1,000,000)."""
    doc = {
        "traceEvents": [
            {"ph": "M", "pid": 1, "tid": 3, "name": "thread_name", "args": {"name": "G3 f"}},
            {"ph": "X", "pid": 1, "tid": 3, "ts": 1.0, "dur": 2.0, "name": "chan receive"},
            {
                "ph": "X",
                "pid": 1,
                "tid": 1_000_003,
                "ts": 1.0,
                "dur": 2.0,
                "name": "recv ch1",
                "cat": "chan",
                "args": {"op": "recv", "chan": 1, "partners": [], "blocked_us": 2.0},
            },
        ],
        "otherData": {"format": 2},
    }
    lanes = _tracehtml.timeline_data(doc)["lanes"]
    assert [(lane["g"], lane["name"], len(lane["s"]), len(lane["o"])) for lane in lanes] == [
        (3, "G3 f", 1, 1)
    ]

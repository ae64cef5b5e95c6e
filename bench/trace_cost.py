"""What the execution tracer (``goroutines.trace``) costs: CPU while it
records, bytes of trace file per event, the speed of ``stop()``'s write, and
memory.

    python -m bench.trace_cost [--repeat 3] [--seconds 10] [--pure] [--json]

Each cell runs in a fresh process (``python -m bench.trace_cost --cell ...``)
and prints one JSON line; the cells of a round run one after the other, in
turn forwards and backwards, so tracing off and on share the machine's state;
the table has the medians of ``--repeat`` rounds.

- W2 ping-pong (n round trips over two unbuffered channels) and W3 buffered
  (n ints through a channel of capacity 128), each three ways: ``off``
  (``goroutines.trace`` never imported), ``imported`` (imported, not
  started: tracing off must cost nothing) and ``traced`` (``trace.start(path)``
  with the default events, the measured part recorded, then ``stop()``).
  The CPU time (time.process_time) of the measured part, per round trip or
  item, against ``off``; ``stop()``'s CPU time separately.
- W7 worker pool for ``--seconds`` (8 workers, jobs and results channels of
  capacity 128, a feeder sending until the time is up, goroutine 1
  receiving the results): ``off``, traced into ``.json`` and into
  ``.json.gz`` (the tracer gzips a path ending in ``.gz``). The CPU per job
  against ``off``, the trace file's size, the events recorded, the parks
  per second.

Events recorded: counted in the cell as ``stop()`` takes them from the
recorder (``events.rec_take`` wrapped; the counting's own CPU time is taken
out of ``stop()``'s), plus the goroutines the tracer found when it started.
Bytes per event: the file's size over that count. Write speed: events per
CPU second of ``stop()``. Peak RSS: the cell's ``ru_maxrss`` at its end
(after ``stop()``). Then where the bytes of the last W7 ``.json`` file go:
its lines by kind, and the average slice of a park by field.

``--pure`` runs every cell on the pure-Python path (``GOROUTINES_PURE=1``),
whose recorder is the Python twin.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from operator import itemgetter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
W2_N = 500_000  # round trips
W3_N = 3_000_000  # items
W7_SECONDS = 10.0
BUFFER = 128
WORKERS = 8
# The cells of a round, in their order (every other round runs them backwards).
CELLS = [
    ("w2", "off"),
    ("w2", "imported"),
    ("w2", "traced"),
    ("w3", "off"),
    ("w3", "imported"),
    ("w3", "traced"),
    ("w7", "off"),
    ("w7", "json"),
    ("w7", "gz"),
]
LABELS = {
    "w2": "W2 ping-pong",
    "w3": "W3 buffered",
    "w7": "W7 worker pool",
    "off": "off (not imported)",
    "imported": "imported, not started",
    "traced": "trace.start(path)",
    "json": "trace.start('x.json')",
    "gz": "trace.start('x.json.gz')",
}


# -- the cells (in a fresh process each) -----------------------------------------


class _Counted:
    """Counts the records stop() takes from the recorder, by kind, and the CPU
    time the counting took (taken out of stop()'s)."""

    def __init__(self) -> None:
        from goroutines._runtime import events

        self.kinds: Counter[int] = Counter()
        self.cpu = 0.0
        self.events = events
        self.orig = events.rec_take

        def take(n: int) -> Any:
            recs = self.orig(n)
            c0 = time.process_time()
            self.kinds.update(map(itemgetter(1), recs))
            self.cpu += time.process_time() - c0
            return recs

        events.rec_take = take

    def undo(self) -> None:
        self.events.rec_take = self.orig


def _stop_traced(out: dict[str, Any], path: str) -> None:
    """trace.stop(), timed, with the records counted."""
    from goroutines import trace

    snap = len(getattr(getattr(trace, "_tracer", None), "snap", ()))
    counted = _Counted()
    c0 = time.process_time()
    trace.stop()
    out["stop_cpu"] = time.process_time() - c0 - counted.cpu
    counted.undo()
    if not counted.kinds:
        raise RuntimeError(
            "no record was counted: trace.stop() no longer takes them through "
            "events.rec_take (see _Counted)"
        )
    from goroutines._runtime import events

    names = events.NAMES
    out["kinds"] = {
        names[k] if 0 <= k < len(names) else str(k): v for k, v in counted.kinds.items()
    }
    out["events"] = sum(counted.kinds.values()) + snap
    out["size"] = os.path.getsize(path)


def _w2(n: int, mode: str, path: str) -> dict[str, Any]:
    if mode == "imported":
        import goroutines.trace  # noqa: F401
    from goroutines import Chan, go, run

    out: dict[str, Any] = {"n": n}

    def pinger(ping: Chan[int], pong: Chan[int]) -> None:
        for v in ping:
            pong.send(v + 1)

    def main() -> None:
        if mode == "traced":
            from goroutines import trace

            trace.start(path)
        ping, pong = Chan[int](), Chan[int]()
        go(pinger, ping, pong)
        total = 0
        c0 = time.process_time()
        for i in range(n):
            ping.send(i)
            total += pong.recv()  # type: ignore[operator]
        out["cpu"] = time.process_time() - c0
        ping.close()
        if total != n * (n + 1) // 2:
            raise RuntimeError(f"W2: sum of replies {total}, expected {n * (n + 1) // 2}")
        if mode == "traced":
            _stop_traced(out, path)

    run(main)
    return out


def _w3(n: int, mode: str, path: str) -> dict[str, Any]:
    if mode == "imported":
        import goroutines.trace  # noqa: F401
    from goroutines import Chan, go, run

    out: dict[str, Any] = {"n": n}

    def produce(ch: Chan[int], n: int) -> None:
        for i in range(n):
            ch.send(i)
        ch.close()

    def main() -> None:
        if mode == "traced":
            from goroutines import trace

            trace.start(path)
        ch = Chan[int](BUFFER)
        c0 = time.process_time()
        go(produce, ch, n)
        total = 0
        for v in ch:
            total += v
        out["cpu"] = time.process_time() - c0
        if total != n * (n - 1) // 2:
            raise RuntimeError(f"W3: sum received {total}, expected {n * (n - 1) // 2}")
        if mode == "traced":
            _stop_traced(out, path)

    run(main)
    return out


def _w7(seconds: float, mode: str, path: str) -> dict[str, Any]:
    from goroutines import Chan, WaitGroup, go, run

    out: dict[str, Any] = {}

    def main() -> None:
        jobs, results, wg = Chan[int](BUFFER), Chan[int](BUFFER), WaitGroup()
        stop = [False]

        def worker() -> None:
            for j in jobs:
                results.send(j * j)
            wg.done()

        def feed() -> None:
            j = 0
            while not stop[0]:
                jobs.send(j)
                j += 1
            jobs.close()

        def close_after() -> None:
            wg.wait()
            results.close()

        if mode != "off":
            from goroutines import trace

            trace.start(path)
        c0, w0 = time.process_time(), time.monotonic()
        for _ in range(WORKERS):
            wg.add(1)
            go(worker)
        go(feed)
        go(close_after)
        n = 0
        for _ in results:
            n += 1
            if not n % 1000 and time.monotonic() - w0 > seconds:
                stop[0] = True
        out["cpu"] = time.process_time() - c0
        out["wall"] = time.monotonic() - w0
        out["n"] = n
        if mode != "off":
            _stop_traced(out, path)

    run(main)
    return out


def cell(name: str, mode: str, size: float, path: str) -> dict[str, Any]:
    """Run one cell in this process; its results."""
    if name == "w2":
        out = _w2(int(size), mode, path)
    elif name == "w3":
        out = _w3(int(size), mode, path)
    else:
        out = _w7(size, mode, path)
    import resource

    from goroutines._runtime import accel

    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    out["accelerated"] = accel.port("sched") is not None
    return out


# -- where a trace file's bytes go ------------------------------------------------


def _text(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def line_kind(ev: dict[str, Any]) -> str:
    """A trace event's line, classified: what the breakdown counts it as."""
    ph, pid = ev.get("ph"), ev.get("pid")
    if ph == "X" and pid == 1:
        args = ev.get("args") or {}
        if "ready" in args:
            return "goroutine slice: a park (park, ready, resume)"
        if args.get("why"):
            return f"goroutine slice: runnable ({args['why']})"
        return "goroutine slice: runnable (created, or readied unseen)"
    if ph == "X" and pid == 2:
        return "P slice (several Ps)"
    if ph == "X" and pid == 3:
        return f"runtime slice ({ev.get('name')})"
    if ph == "C":
        return "counter (goroutines)"
    if ph == "i":
        return f"instant ({ev.get('name')})"
    if ph == "M":
        return "metadata"
    return f"other ({ph}, pid {pid})"


def field_bytes(line: str) -> dict[str, int]:
    """The bytes of one trace-event line (``{...},\\n``) by field: each
    ``"key":value,`` (args' keys as ``args.key``; ``args`` itself is its
    ``"args":{}`` and comma), the rest (braces, the line's end) as
    ``punctuation``. The values are counted as compact JSON, which is how
    the tracer writes them."""
    ev = json.loads(line.rstrip().rstrip(","))
    out: dict[str, int] = {}
    last = ""
    for k, v in ev.items():
        last = k
        if k == "args" and isinstance(v, dict):
            out["args"] = len('"args":{},')
            for ak, av in v.items():
                out[f"args.{ak}"] = len(f'"{ak}":') + len(_text(av)) + 1
            if v:
                out[f"args.{next(reversed(v))}"] -= 1  # n keys, n-1 commas
        else:
            out[k] = len(f'"{k}":') + len(_text(v)) + 1
    out[last] -= 1  # no comma after the last field
    out["punctuation"] = len(line.encode()) - sum(out.values())
    return out


def breakdown(lines: Iterable[str]) -> tuple[dict[str, tuple[int, int]], dict[str, float], int]:
    """Of a trace file's lines: per kind (line_kind) the count and bytes; the
    average park slice's bytes by field (field_bytes); the file's bytes."""
    kinds: dict[str, list[int]] = {}
    fields: Counter[str] = Counter()
    parks = 0
    total = 0
    park = line_kind({"ph": "X", "pid": 1, "args": {"ready": 0}})
    for line in lines:
        total += len(line.encode())
        s = line.rstrip()
        if not s.startswith("{") or not s.endswith(("},", "}")):
            continue  # the document's head and tail
        try:
            ev = json.loads(s.rstrip(","))
        except ValueError:
            continue  # the last line: the closing bracket and otherData
        k = line_kind(ev)
        c = kinds.setdefault(k, [0, 0])
        c[0] += 1
        c[1] += len(line.encode())
        if k == park:
            parks += 1
            fields.update(field_bytes(line))
    avg = {f: b / parks for f, b in fields.items()} if parks else {}
    return {k: (c[0], c[1]) for k, c in kinds.items()}, avg, total


# -- the parent ----------------------------------------------------------------


def _run_cell(name: str, mode: str, size: float, path: str, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.trace_cost", "--cell", name, mode, str(size), path]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stderr}")
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def summarize(runs: list[dict[str, Any]], off: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The medians of one cell's runs; ``off``: the same workload untraced."""

    def med(f: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(f(r) for r in runs)

    s: dict[str, Any] = {
        "runs": len(runs),
        "n": med(lambda r: r["n"]),
        "cpu": med(lambda r: r["cpu"]),
        "unit_ns": med(lambda r: r["cpu"] / r["n"] * 1e9),
        "rss_mib": med(lambda r: r["rss_mib"]),
    }
    if "wall" in runs[0]:
        s["wall"] = med(lambda r: r["wall"])
    if off:
        s["vs_off"] = s["unit_ns"] / statistics.median(r["cpu"] / r["n"] * 1e9 for r in off)
    if "events" in runs[0]:
        s["events"] = med(lambda r: r["events"])
        s["size"] = med(lambda r: r["size"])
        s["bytes_per_event"] = med(lambda r: r["size"] / r["events"] if r["events"] else 0.0)
        s["stop_cpu"] = med(lambda r: r["stop_cpu"])
        s["written_per_s"] = med(lambda r: r["events"] / r["stop_cpu"] if r["stop_cpu"] else 0.0)
        s["parks"] = med(lambda r: r["kinds"].get("park", 0))
        if "wall" in runs[0]:
            s["parks_per_s"] = med(lambda r: r["kinds"].get("park", 0) / r["wall"])
        if off:  # the measured part and stop() together, against off
            base = statistics.median(r["cpu"] / r["n"] for r in off)
            s["vs_off_with_stop"] = med(lambda r: (r["cpu"] + r["stop_cpu"]) / r["n"] / base)
    return s


def _num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """The Markdown table of the summaries (label, mode, summary)."""
    head = (
        "| workload | tracing | CPU s | CPU per unit | vs off | vs off, with stop() "
        "| events | parks/s | file MB | bytes/event | stop() CPU s | events written per CPU s "
        "| peak RSS MiB |"
    )
    lines = [head, "|---|---|" + "---:|" * 11]
    for label, mode, s in rows:
        unit = "job" if "wall" in s else ("round trip" if label.startswith("W2") else "item")
        ev = "events" in s
        cells = [
            label,
            LABELS.get(mode, mode),
            f"{s['cpu']:.2f}",
            f"{_num(s['unit_ns'])} ns/{unit}",
            f"{s['vs_off']:.2f}x" if "vs_off" in s else "1",
            f"{s['vs_off_with_stop']:.2f}x" if "vs_off_with_stop" in s else "",
            _num(s["events"]) if ev else "",
            _num(s["parks_per_s"]) if "parks_per_s" in s else "",
            f"{s['size'] / 1e6:,.1f}" if ev else "",
            f"{s['bytes_per_event']:.1f}" if ev else "",
            f"{s['stop_cpu']:.2f}" if ev else "",
            _num(s["written_per_s"]) if ev else "",
            f"{s['rss_mib']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def breakdown_tables(kinds: dict[str, tuple[int, int]], avg: dict[str, float], total: int) -> str:
    out = [
        "| lines of the W7 .json file | count | MB | share | bytes per line |",
        "|---|---:|---:|---:|---:|",
    ]
    for k, (n, b) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
        out.append(f"| {k} | {_num(n)} | {b / 1e6:,.1f} | {b / total:.1%} | {b / n:.1f} |")
    out.append("")
    out.append("| the average park slice, by field | bytes | share |")
    out.append("|---|---:|---:|")
    whole = sum(avg.values())
    for f, fb in sorted(avg.items(), key=lambda kv: -kv[1]):
        out.append(f"| `{f}` | {fb:.1f} | {fb / whole:.0%} |")
    out.append(f"| whole line | {whole:.1f} | |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench.trace_cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--cell", nargs=4, metavar=("WORKLOAD", "MODE", "SIZE", "PATH"), help=argparse.SUPPRESS
    )
    ap.add_argument("--repeat", type=int, default=3, help="rounds (default 3); medians")
    ap.add_argument(
        "--seconds", type=float, default=W7_SECONDS, help=f"W7's duration (default {W7_SECONDS:g})"
    )
    ap.add_argument("--w2", type=int, default=W2_N, help=f"W2's round trips (default {W2_N})")
    ap.add_argument("--w3", type=int, default=W3_N, help=f"W3's items (default {W3_N})")
    ap.add_argument("--pure", action="store_true", help="every cell with GOROUTINES_PURE=1")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    args = ap.parse_args()
    if args.cell:
        name, mode, size, path = args.cell
        print(json.dumps(cell(name, mode, float(size), path)))
        return
    env = dict(os.environ)
    env.pop("GOROUTINES_PURE", None)
    if args.pure:
        env["GOROUTINES_PURE"] = "1"
    sizes = {"w2": float(args.w2), "w3": float(args.w3), "w7": args.seconds}
    load0 = os.getloadavg()
    raw: dict[str, list[dict[str, Any]]] = {f"{w} {m}": [] for w, m in CELLS}
    last_w7_json = ""
    with tempfile.TemporaryDirectory(prefix="trace_cost") as tmp:
        for rnd in range(args.repeat):
            order = CELLS if rnd % 2 == 0 else CELLS[::-1]
            for name, mode in order:
                path = os.path.join(
                    tmp, f"{name}-{mode}-{rnd}.json" + (".gz" if mode == "gz" else "")
                )
                raw[f"{name} {mode}"].append(_run_cell(name, mode, sizes[name], path, env))
                print(f"# round {rnd + 1}: {name} {mode} done", file=sys.stderr, flush=True)
                if os.path.exists(path):
                    if name == "w7" and mode == "json":
                        if last_w7_json:
                            os.unlink(last_w7_json)
                        last_w7_json = path
                    else:
                        os.unlink(path)
        load1 = os.getloadavg()
        rows: list[tuple[str, str, dict[str, Any]]] = []
        for name, mode in CELLS:
            off = raw[f"{name} off"] if mode != "off" else None
            label = LABELS[name] + (
                f" ({args.seconds:g} s)" if name == "w7" else f" (n={int(sizes[name]):,})"
            )
            rows.append((label, mode, summarize(raw[f"{name} {mode}"], off)))
        with open(last_w7_json, encoding="utf-8") as f:
            kinds, avg, total = breakdown(f)
    accelerated = raw["w2 off"][0]["accelerated"]
    print(
        f"Python {sys.version.split()[0]}, {'accelerated' if accelerated else 'pure-Python'} "
        f"path, medians of {args.repeat} rounds; load average (1, 5, 15 min) "
        f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} before, "
        f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} after\n"
    )
    print(table(rows))
    print()
    print(breakdown_tables(kinds, avg, total))
    if args.json:
        print(
            json.dumps(
                {
                    "raw": raw,
                    "summary": [[lbl, m, s] for lbl, m, s in rows],
                    "load": [load0, load1],
                    "breakdown": {"lines": kinds, "park_fields": avg},
                }
            )
        )


if __name__ == "__main__":
    main()

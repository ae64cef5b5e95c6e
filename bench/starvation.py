"""W10 starvation: one goroutine spins in pure Python for 2 s while a ticker
at 10 ms runs on the same P.

``python -m bench.starvation`` runs, for each interpreter it finds (.venv,
.venv-3.12, .venv-3.13), fresh processes of two cells, repeated, and prints a
Markdown table of the medians:

- ``ticker``: goroutine 1 receives from a 10 ms ``Ticker`` while a goroutine
  it started spins for SPIN seconds; each tick's lateness is its receive time
  minus its due time (a tick's value is its due time). Reported: the p99 and
  the maximum lateness, the ticks received (of SPIN / PERIOD), and the
  spinner's loop iterations per second.
- ``alone``: the same spinner for SPIN seconds with no ticker and no
  preemption (``GOROUTINES_PREEMPT=0``): the unpreempted loop's rate.

The spinner's rate is its iterations per second of its thread's CPU time
(the ticker and the switches run on that thread, so they count; another
process taking the core does not), and, for reference, per wall second,
which on a shared machine moves by tens of percent between runs.

Targets (docs/performance.md): p99 lateness <= 25 ms with preemption; the
spinner's rate within 5% of the unpreempted loop's.

The monitor thread that asks for preemptions is the runtime's own when it has
one (``goroutines._runtime.sysmon``), else the test suite's stand-in
(tests/_monitor.py: request a preemption once a P's schedtick has not moved
for 10 ms, looking every 2 ms); the table says which.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from time import monotonic, perf_counter, thread_time
from typing import Any

SPIN = 2.0  # seconds the spinner runs
PERIOD = 0.010  # the ticker's period
TARGET_P99_MS = 25.0
TARGET_RATE = 0.95  # spinner's rate / the unpreempted loop's, at least

ROOT = Path(__file__).resolve().parent.parent


def _start_monitor() -> str:
    """The runtime's monitor if it exists, else the tests' stand-in."""
    try:
        importlib.import_module("goroutines._runtime.sysmon")
        return "sysmon"
    except ImportError:
        sys.path.insert(0, str(ROOT / "tests"))
        monitor: Any = importlib.import_module("_monitor")
        monitor.start()
        return "stand-in"


def _spinner(seconds: float, out: list[float]) -> None:
    """Spin for seconds; out gets the loop's iterations per second of its
    thread's CPU time (what preemption costs it: the ticker's goroutine and
    the switches run on that thread; another process taking the core does
    not count) and per second of wall time."""
    n = 0
    t0 = perf_counter()
    c0 = thread_time()
    end = t0 + seconds
    while True:
        n += 1
        if not n & 0x3FFF and perf_counter() >= end:
            break
    out.append(n / (thread_time() - c0))
    out.append(n / (perf_counter() - t0))


def cell_ticker() -> dict[str, Any]:
    import goroutines as gr
    from goroutines._runtime import preempt

    monitor = _start_monitor()
    rate: list[float] = []
    late: list[float] = []

    def main() -> None:
        t = gr.Ticker(PERIOD)
        done = gr.Chan[None]()

        def spin() -> None:
            _spinner(SPIN, rate)
            done.send(None)

        gr.go(spin)
        while True:
            idx, v = gr.select(gr.recv(t.c), gr.recv(done))
            if idx == 1:
                break
            assert isinstance(v, float)
            late.append(monotonic() - v)
        t.stop()

    gr.run(main)
    late.sort()
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))] if late else SPIN
    return {
        "preempt": preempt.supported(),
        "monitor": monitor,
        "p99_ms": p99 * 1e3,
        "max_ms": (late[-1] if late else SPIN) * 1e3,
        "ticks": len(late),
        "rate": rate[0],
        "wall_rate": rate[1],
    }


def cell_alone() -> dict[str, Any]:
    import goroutines as gr

    rate: list[float] = []

    def main() -> None:
        wg = gr.WaitGroup()
        wg.go(_spinner, SPIN, rate)
        wg.wait()

    gr.run(main)
    return {"rate": rate[0], "wall_rate": rate[1]}


def _interpreters() -> list[tuple[str, str]]:
    out = []
    for venv in (".venv", ".venv-3.12", ".venv-3.13"):
        exe = ROOT / venv / "bin" / "python"
        if exe.exists():
            ver = subprocess.run(
                [str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            out.append((ver, str(exe)))
    return out


def _run_cell(exe: str, cell: str, env: dict[str, str]) -> dict[str, Any]:
    r = subprocess.run(
        [exe, "-m", "bench.starvation", "--cell", cell],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, **env),
        timeout=60,
    )
    if r.returncode != 0:
        raise RuntimeError(f"{exe} {cell}: {r.stderr}")
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.starvation", description=__doc__)
    ap.add_argument("--cell", choices=("ticker", "alone"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pure", action="store_true", help="GOROUTINES_PURE=1 as well")
    args = ap.parse_args()
    if args.cell:
        print(json.dumps(cell_ticker() if args.cell == "ticker" else cell_alone()))
        return
    paths = [("accelerated", {})]
    if args.pure:
        paths.append(("pure", {"GOROUTINES_PURE": "1"}))
    print(
        "| Python | path | preempts | monitor | p99 lateness ms | max ms | ticks "
        f"(of {SPIN / PERIOD:.0f}) | spinner rate / alone (CPU) | (wall) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for ver, exe in _interpreters():
        for label, env in paths:
            ticker, alone = [], []
            for _ in range(args.repeat):  # interleaved: load drifts hit both alike
                ticker.append(_run_cell(exe, "ticker", env))
                alone.append(_run_cell(exe, "alone", dict(env, GOROUTINES_PREEMPT="0")))
            p99 = statistics.median(c["p99_ms"] for c in ticker)
            mx = statistics.median(c["max_ms"] for c in ticker)
            ticks = statistics.median(c["ticks"] for c in ticker)
            ratio = statistics.median(c["rate"] for c in ticker) / statistics.median(
                c["rate"] for c in alone
            )
            wall = statistics.median(c["wall_rate"] for c in ticker) / statistics.median(
                c["wall_rate"] for c in alone
            )
            print(
                f"| {ver} | {label} | {'yes' if ticker[0]['preempt'] else 'no'} | "
                f"{ticker[0]['monitor']} | {p99:.1f} | {mx:.1f} | {ticks:.0f} | {ratio:.3f} "
                f"| {wall:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

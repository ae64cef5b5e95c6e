"""Preemption: a goroutine that runs Python code without parking is switched
out at a safe point of the program's own code, so the other goroutines of
its P and its timers run; never inside the runtime, a runtime lock, an
accelerator port, an import or a standard-library frame.

The monitor thread that requests preemptions is the test-only stand-in in
tests/_monitor.py. Preemption needs CPython 3.12+ and the accelerator's port
"preempt"; elsewhere the tests check that nothing is ever armed.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import random
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import goroutines as gr
from _monitor import Monitor
from goroutines._runtime import accel, preempt, sysmon
from goroutines._runtime import sched as _sched

needs_preempt = pytest.mark.skipif(
    not preempt.supported(),
    reason="preemption needs CPython 3.12+ and the accelerator's port 'preempt'",
)


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    with Monitor() as m:
        yield m


@pytest.fixture
def no_sysmon() -> Iterator[None]:
    """The runtime's monitor looks at no P: a test sees its own requests only
    (sysmon asks a P whose goroutine 1 waits in a thread's join() with work
    queued behind it to yield, and cancels when the P schedules)."""
    with sysmon.held():
        yield


def test_supported_where_documented() -> None:
    expected = (
        sys.version_info >= (3, 12)
        and "preempt" in accel.active_ports()
        and os.environ.get("GOROUTINES_PREEMPT", "") != "0"
    )
    assert preempt.supported() is expected


def test_request_arms_nothing_where_unsupported(monitor: Monitor, no_sysmon: None) -> None:
    if preempt.supported():
        pytest.skip("preemption is supported here")
    stop = False

    def spin() -> None:
        while not stop:
            pass

    def main() -> None:
        nonlocal stop
        done = gr.Chan[None]()
        p = _sched.tls.p
        assert p is not None

        def stopper() -> None:
            preempt.request(p)
            assert not preempt.requested(p)
            done.send(None)

        gr.go(stopper)
        done.recv()
        assert not preempt._requests and not preempt._armed

    gr.run(main)
    del spin


@needs_preempt
def test_spinning_goroutine_and_ticker_both_progress(monitor: Monitor) -> None:
    counter = [0]
    stop = [False]

    def spin() -> None:
        while not stop[0]:
            counter[0] += 1

    seen: list[int] = []

    def main() -> None:
        gr.go(spin)
        t = gr.Ticker(0.01)
        try:
            for _ in range(30):
                t.c.recv()
                seen.append(counter[0])
        finally:
            t.stop()
            stop[0] = True

    gr.run(main)
    assert len(seen) == 30
    # The spinner ran between ticks (it was resumed after each preemption).
    grew = sum(1 for a, b in itertools.pairwise(seen) if b > a)
    assert grew >= 25, seen
    assert monitor.requests > 0


@needs_preempt
def test_two_spinners_share_the_p(monitor: Monitor) -> None:
    counts = [0, 0]
    stop = [False]

    def spin(i: int) -> None:
        while not stop[0]:
            counts[i] += 1

    def main() -> None:
        gr.go(spin, 0)
        gr.go(spin, 1)
        gr.sleep(0.3)
        stop[0] = True
        gr.sleep(0.05)

    snapshots: list[tuple[int, int]] = []

    def watch() -> None:
        for _ in range(5):
            time.sleep(0.04)
            snapshots.append((counts[0], counts[1]))

    w = threading.Thread(target=watch)
    w.start()
    gr.run(main)
    w.join()
    assert counts[0] > 0 and counts[1] > 0
    # Both advanced over the run, neither starved the other.
    assert snapshots[-1][0] > snapshots[0][0] and snapshots[-1][1] > snapshots[0][1]


@needs_preempt
def test_run_kills_a_preempted_goroutine(monitor: Monitor) -> None:
    """run() returning kills the spinner where it was switched out: the
    GreenletExit comes out of the preemption and runs its finally block."""
    ended: list[str] = []

    def spin() -> None:
        try:
            while True:
                pass
        finally:
            ended.append("finally")

    def main() -> None:
        gr.go(spin)
        gr.sleep(0.03)  # returns only once spin has been preempted

    for _ in range(3):
        gr.run(main)
    assert ended == ["finally"] * 3


@needs_preempt
def test_holder_of_a_goroutines_mutex_may_be_preempted(monitor: Monitor) -> None:
    mu = gr.Mutex()
    stop = [False]
    got = gr.Chan[str](1)

    def holder() -> None:
        with mu:
            while not stop[0]:
                pass

    def waiter() -> None:
        with mu:
            got.send("locked")

    def main() -> None:
        gr.go(holder)
        gr.go(waiter)
        gr.sleep(0.05)  # goroutine 1 runs again: the holder was preempted
        assert len(got) == 0  # the waiter waits for the mutex
        stop[0] = True
        assert got.recv() == "locked"

    gr.run(main)


@needs_preempt
def test_preempted_goroutine_leaves_tracing_on_for_the_next(monitor: Monitor) -> None:
    """The tracing-counter trap: the switch happens with the thread's tracing
    counter left, so the goroutine that runs next can trace, and the one
    preempted gets it back when it resumes."""
    stop = [False]
    results: dict[str, Any] = {}

    def traced() -> int:
        return 1 + 1

    def probe(name: str) -> None:
        events: list[str] = []

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            if frame.f_code is traced.__code__:
                events.append(event)
            return None

        sys.settrace(tracer)
        try:
            traced()
        finally:
            sys.settrace(None)
        results[name] = events

    def spin() -> None:
        while not stop[0]:
            pass
        probe("preempted, resumed")  # after its callback returned

    def other() -> None:
        probe("ran while it was preempted")
        stop[0] = True

    def spin2() -> None:
        n = 0
        while not results.get("second") and n < 10**9:
            n += 1

    def main() -> None:
        wg = gr.WaitGroup()
        wg.go(spin)
        wg.go(other)
        wg.wait()
        # Preemption still works after that (no callback is skipped).
        wg.go(spin2)

        def mark() -> None:
            results["second"] = True

        wg.go(mark)
        wg.wait()

    gr.run(main)
    assert results["ran while it was preempted"] == ["call"]
    assert results["preempted, resumed"] == ["call"]
    assert results["second"] is True


@needs_preempt
def test_sys_monitoring_tools_fire_in_the_next_goroutine(monitor: Monitor) -> None:
    mon: Any = sys.monitoring  # type: ignore[attr-defined,unused-ignore]
    tool = 1 if mon.get_tool(1) is None else 2
    if mon.get_tool(tool) is not None:
        pytest.skip("no free sys.monitoring tool id")
    hits: list[object] = []
    stop = [False]

    def target() -> None:
        pass

    def spin() -> None:
        while not stop[0]:
            pass

    def other() -> None:
        target()
        stop[0] = True

    mon.use_tool_id(tool, "test")
    try:
        mon.register_callback(tool, mon.events.PY_START, lambda code, off: hits.append(code))
        mon.set_local_events(tool, target.__code__, mon.events.PY_START)

        def main() -> None:
            wg = gr.WaitGroup()
            wg.go(spin)
            wg.go(other)
            wg.wait()

        gr.run(main)
    finally:
        mon.set_local_events(tool, target.__code__, 0)
        mon.free_tool_id(tool)
    assert hits == [target.__code__]


def _runtime_frames(frame: Any) -> bool:
    """Whether a frame of goroutines sits between frame and the goroutine's
    bottom (the runtime called this code), other than the registered callers."""
    from goroutines._runtime import dump

    while frame is not None and frame.f_code not in dump._roots:
        name = frame.f_globals.get("__name__", "")
        callers = preempt._callers  # WaitGroup.go's goroutine: it only calls fn
        if isinstance(name, str) and name.startswith("goroutines") and frame.f_code not in callers:
            return True
        frame = frame.f_back
    return False


@needs_preempt
def test_never_preempted_inside_the_runtime(short: bool) -> None:
    never_preempted_inside_the_runtime(range(4 if short else 12))


@needs_preempt
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_never_preempted_inside_the_runtime_many_seeds() -> None:
    never_preempted_inside_the_runtime(range(12, 112))


def never_preempted_inside_the_runtime(seeds: range) -> None:
    """Finalizers run by collections anywhere - inside channel operations
    (the C ports, holding a channel's lock), the scheduler, sync primitives -
    spin in the program's own code while a preemption is requested all the
    time: one is preempted only where nothing of the runtime is on its stack
    and no port is running; and the workload stays exact. A goroutine that
    spins (making garbage) all along lets the others finish only if it is
    preempted."""
    speedups = accel.port("preempt")
    stats = {"safe_preempted": 0, "unsafe_preempted": 0, "unsafe_seen": 0}

    class Garbage:
        def __init__(self) -> None:
            self.cycle = self

        def __del__(self) -> None:
            p = _sched.tls.p
            if p is None:
                return
            below = sys._getframe(0).f_back  # None: run from C with no frame below
            unsafe = below is None or speedups.accel_depth() != 0 or _runtime_frames(below)
            tick = p.schedtick
            end = time.perf_counter() + 0.001
            while time.perf_counter() < end:
                pass
            preempted = p.schedtick != tick
            if unsafe:
                stats["unsafe_seen"] += 1
                if preempted:
                    stats["unsafe_preempted"] += 1
            elif preempted:
                stats["safe_preempted"] += 1

    old = gc.get_threshold()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # the monitor thread gets the GIL often
    try:
        for seed in seeds:
            rng = random.Random(seed)
            gc.set_threshold(rng.randint(5, 40), 1, 1)
            n = rng.randint(100, 200)
            with Monitor(tick=0.0005, force_after=0.0):

                def main(n: int = n, cap: int = rng.randint(0, 3)) -> None:
                    ch = gr.Chan[int](cap)
                    mu = gr.Mutex()
                    total = [0]

                    def producer() -> None:
                        for i in range(n):
                            Garbage()
                            ch.send(i)
                        ch.close()

                    def adder(i: int) -> None:
                        Garbage()
                        with mu:
                            total[0] += i

                    stop = [False]

                    def spinner() -> None:  # the others progress only if it is preempted
                        while not stop[0]:
                            Garbage()

                    spun = gr.WaitGroup()
                    spun.go(spinner)
                    wg = gr.WaitGroup()
                    wg.go(producer)
                    got = 0
                    for v in ch:
                        got += v
                        wg.go(adder, v)
                    wg.wait()
                    stop[0] = True
                    spun.wait()
                    assert got == n * (n - 1) // 2
                    assert total[0] == got

                gr.run(main)
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*old)
        gc.collect()
    assert stats["unsafe_preempted"] == 0, stats
    assert stats["unsafe_seen"] > 0, stats  # the test reached unsafe places


def spin_until_requested(monitor: Monitor, more: int = 3) -> None:
    """Spin (in the calling frame's context) until the monitor has asked for a
    preemption `more` times after the first look, bounded by 10 s."""
    start = monitor.requests
    deadline = time.monotonic() + 10
    while monitor.requests < start + more and time.monotonic() < deadline:
        pass
    assert monitor.requests >= start + more, "the monitor never asked"


@needs_preempt
def test_never_preempted_in_a_standard_library_frame(monitor: Monitor) -> None:
    """logging calls the handler with its RLock held: the handler's own code
    (the program's) is not a safe point while logging's frame is below it."""
    interrupted: list[bool] = []

    class Slow(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            p = _sched.tls.p
            assert p is not None
            tick = p.schedtick
            spin_until_requested(monitor)
            interrupted.append(p.schedtick != tick)

    log = logging.getLogger("test_preempt.slow")
    log.propagate = False
    handler = Slow()
    log.addHandler(handler)
    try:

        def main() -> None:
            t = gr.Ticker(0.005)
            wg = gr.WaitGroup()
            wg.go(log.warning, "slow")
            wg.wait()
            t.stop()

        gr.run(main)
    finally:
        log.removeHandler(handler)
    assert interrupted == [False]


@needs_preempt
def test_never_preempted_during_an_import(tmp_path: Path, monitor: Monitor) -> None:
    (tmp_path / "slow_module_for_preempt.py").write_text(
        textwrap.dedent(
            """
            import time
            from goroutines._runtime import sched
            p = sched.tls.p
            tick = p.schedtick
            end = time.monotonic() + 0.08
            while time.monotonic() < end:
                pass
            INTERRUPTED = p.schedtick != tick
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:

        def main() -> None:
            t = gr.Ticker(0.005)
            done = gr.Chan[bool]()

            def imp() -> None:
                import slow_module_for_preempt

                done.send(slow_module_for_preempt.INTERRUPTED)

            gr.go(imp)
            assert done.recv() is False
            t.stop()

        gr.run(main)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slow_module_for_preempt", None)


@needs_preempt
def test_a_preemption_consumes_the_request_and_disarms(no_sysmon: None) -> None:
    """One request, no monitor: the spinner is switched out once (the
    goroutine queued behind it runs: the events were armed on its code), and
    every code object armed is disarmed again."""
    stop = [False]
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not stop[0]:
            pass

    def main() -> None:
        p = _sched.tls.p
        assert p is not None

        def requester() -> None:
            started.wait(10)
            preempt.request(p)  # from another thread, as the monitor does

        th = threading.Thread(target=requester)
        th.start()
        woke = gr.Chan[str]()
        gr.go(spin)
        gr.go(woke.send, "ran")  # queued behind spin: runs only if spin is switched out
        assert woke.recv() == "ran"
        stop[0] = True
        th.join()
        assert not preempt.requested(p)

    gr.run(main)
    mon: Any = sys.monitoring  # type: ignore[attr-defined,unused-ignore]
    assert preempt._tool is not None
    assert not preempt._requests and not preempt._armed
    assert mon.get_local_events(preempt._tool, spin.__code__) == 0


@needs_preempt
def test_not_preempted_while_a_debugger_traces_the_thread(monitor: Monitor) -> None:
    """pdb stepping through a goroutine stays in that goroutine."""
    interrupted: list[bool] = []

    def traced_spin() -> None:
        p = _sched.tls.p
        assert p is not None
        sys.settrace(lambda frame, event, arg: None)  # as a debugger's, between steps
        try:
            tick = p.schedtick
            spin_until_requested(monitor)
            interrupted.append(p.schedtick != tick)
        finally:
            sys.settrace(None)

    def main() -> None:
        t = gr.Ticker(0.005)
        wg = gr.WaitGroup()
        wg.go(traced_spin)
        wg.wait()
        t.stop()

    gr.run(main)
    assert interrupted == [False]


@needs_preempt
def test_cancel_disarms(no_sysmon: None) -> None:
    def main() -> None:
        p = _sched.tls.p
        assert p is not None

        def requester() -> None:
            preempt.request(p)  # goroutine 1 is in th.join(): its code is armed
            assert preempt.requested(p) and preempt._armed
            preempt.cancel(p)

        th = threading.Thread(target=requester)
        th.start()
        th.join()
        assert not preempt.requested(p) and not preempt._armed

    gr.run(main)


@needs_preempt
def test_no_port_depth_leaks_across_switches() -> None:
    speedups = accel.port("preempt")
    depths: list[int] = []

    def main() -> None:
        a, b = gr.Chan[int](), gr.Chan[int]()

        def echo() -> None:
            for v in a:
                depths.append(speedups.accel_depth())
                b.send(v)

        gr.go(echo)
        for i in range(200):
            a.send(i)
            assert b.recv() == i
            depths.append(speedups.accel_depth())
        a.close()
        gr.sleep(0.001)

    gr.run(main)
    assert depths and set(depths) == {0}


MAIN_SPIN = """
import sys
sys.path.insert(0, {tests!r})
import _monitor
import goroutines as gr

_monitor.start()
flag = []

def setter():
    flag.append(1)

gr.go(setter)  # runs only if goroutine 1 is preempted
while not flag:   # goroutine 1 spins in the script's own code
    pass
print("preempted")
"""


MAIN_RUN_SPIN = """
import sys
sys.path.insert(0, {tests!r})
import _monitor
import goroutines as gr

_monitor.start()

def main():
    flag = []
    gr.go(flag.append, 1)  # runs only if main is preempted
    while not flag:
        pass
    print("preempted")

gr.run(main)
"""


@needs_preempt
@pytest.mark.parametrize("source", [MAIN_SPIN, MAIN_RUN_SPIN], ids=["script", "run"])
def test_goroutine_1_is_preempted_in_the_main_script(tmp_path: Path, source: str) -> None:
    script = tmp_path / "spin_main.py"
    tests = str(Path(__file__).parent)
    script.write_text(source.format(tests=tests))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "preempted"


def test_preempt_off_by_environment() -> None:
    code = "from goroutines._runtime import preempt; print(preempt.supported())"
    env = dict(os.environ, GOROUTINES_PREEMPT="0")
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=30
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def _forget_a_requested_p() -> None:
    requested = threading.Event()
    returned = threading.Event()
    leave = threading.Event()
    started = threading.Event()
    ps: list[Any] = []

    def thread_main() -> None:
        def main() -> None:  # runs no code of the program after the request
            ps.append(_sched.tls.p)
            started.set()
            requested.wait(10)

        gr.run(main)
        returned.set()
        leave.wait(10)  # the thread lives on: arming it would succeed

    th = threading.Thread(target=thread_main)
    th.start()
    try:
        assert started.wait(10)
        p = ps[0]
        preempt.request(p)
        assert preempt.requested(p)
        requested.set()
        assert returned.wait(10)
        assert not preempt.requested(p)  # cancelled when run() forgot the P
        preempt.request(p)  # a late request, as from a monitor's stale look
        assert not preempt.requested(p)
        assert p not in preempt._codes
    finally:
        requested.set()
        leave.set()
        th.join(10)


@needs_preempt
def test_a_p_that_run_forgets_keeps_no_request(no_sysmon: None) -> None:
    """run() on a thread of its own makes a P and forgets it on return: a
    request pending then, or made on it afterwards (the monitor looked at it
    just before), is dropped with it, the thread disarmed."""
    for _ in range(20):
        _forget_a_requested_p()

"""The runtime's clock (_runtime/clock.py): goroutines.now() and the hook a
synctest bubble will use.

Exact checks freeze the clock (set_clock) only while timers are being made,
at a reading of time.monotonic(), so timers other tests left pending keep
their meaning; the clock is time.monotonic() again before anything waits.
The test that moves the clock to 2000-01-01 runs in a fresh interpreter:
the clock may only be replaced while no timer is pending anywhere.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import goroutines
from goroutines import Ticker, Timer, after, go, sleep, tick
from goroutines._runtime import clock
from goroutines.context import background, with_deadline, with_timeout, with_timeout_cause

LATE = 2.0  # how late a timer may be on a loaded machine before we call it a bug
SRC = Path(goroutines.__file__).resolve().parent


@contextmanager
def frozen_clock() -> Iterator[float]:
    """The runtime's clock stopped at the current time.monotonic() reading."""
    at = time.monotonic()
    prev = clock.set_clock(lambda: at)
    try:
        yield at
    finally:
        clock.set_clock(prev)


# ---------------------------------------------------------------------------
# now()


def test_now_is_exported_and_is_the_clock_modules() -> None:
    assert goroutines.now is clock.now
    assert "now" in goroutines.__all__
    assert isinstance(goroutines.now(), float)


def test_now_is_time_monotonic_by_default() -> None:
    assert clock.read is time.monotonic
    for _ in range(10_000):
        before = time.monotonic()
        n = goroutines.now()
        after_ = time.monotonic()
        assert before <= n <= after_


def test_now_never_goes_backwards_in_any_thread() -> None:
    bad: list[tuple[float, float]] = []
    start = threading.Barrier(4)

    def readings() -> None:
        start.wait()
        last = goroutines.now()
        for _ in range(20_000):
            n = goroutines.now()
            if n < last:
                bad.append((last, n))
            last = n

    threads = [threading.Thread(target=readings) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad, f"now() went backwards: {bad[:3]}"


def test_now_from_goroutines_matches_time_monotonic() -> None:
    def main() -> None:
        out: goroutines.Chan[tuple[float, float, float]] = goroutines.Chan(100)

        def read() -> None:
            out.send((time.monotonic(), goroutines.now(), time.monotonic()))

        for _ in range(100):
            go(read)
        for _ in range(100):
            before, n, after_ = out.recv()
            assert before <= n <= after_

    goroutines.run(main)


def test_set_clock_returns_the_previous_clock_and_none_restores_monotonic() -> None:
    def fake() -> float:
        return 123.0

    assert clock.set_clock(fake) is time.monotonic
    try:
        assert goroutines.now() == 123.0
        assert clock.read is fake
    finally:
        assert clock.set_clock(None) is fake
    assert clock.read is time.monotonic
    assert clock.now is goroutines.now  # its identity never changes


def test_set_clock_rejects_what_is_not_callable() -> None:
    with pytest.raises(TypeError, match="clock must be callable, got float"):
        clock.set_clock(1.0)  # type: ignore[arg-type]
    assert clock.read is time.monotonic


# ---------------------------------------------------------------------------
# Timer channel values are now() readings


def test_a_timers_value_is_the_clock_reading_it_was_due_at() -> None:
    def main() -> None:
        for d in (0.0, 0.001, 0.01):
            with frozen_clock() as at:
                t = Timer(d)
                c = after(d)
            # Go 1.23: the value is the time the timer was due, Now() then.
            assert t.c.recv() == at + d
            assert c.recv() == at + d

    goroutines.run(main)


def test_a_timer_value_is_a_now_reading_at_fire_time() -> None:
    def main() -> None:
        for _ in range(20):
            t0 = goroutines.now()
            v = Timer(0.005).c.recv()
            t1 = goroutines.now()
            assert t0 + 0.005 <= v <= t1
        for _ in range(20):
            t0 = goroutines.now()
            v = after(0.005).recv()
            t1 = goroutines.now()
            assert t0 + 0.005 <= v <= t1
            assert t1 - t0 < 0.005 + LATE

    goroutines.run(main)


def test_a_timer_looked_at_late_still_sends_when_it_was_due() -> None:
    def main() -> None:
        for _ in range(10):
            with frozen_clock() as at:
                t = Timer(0.002)
            sleep(0.01)  # nobody waits on t.c: it fires when looked at
            v = t.c.recv()
            assert v == at + 0.002
            assert goroutines.now() >= at + 0.01

    goroutines.run(main)


def test_reset_restarts_from_the_clock() -> None:
    def main() -> None:
        t = Timer(3600)
        with frozen_clock() as at:
            assert t.reset(0.01) is True
        assert t.c.recv() == at + 0.01

    goroutines.run(main)


@pytest.mark.parametrize("make", [lambda d: Ticker(d).c, tick], ids=["Ticker", "tick"])
def test_ticks_are_clock_readings_a_period_apart(make: Callable[[float], object]) -> None:
    def main() -> None:
        d = 0.005
        with frozen_clock() as at:
            c = make(d)
        assert c is not None
        last = at
        for _ in range(10):
            v = c.recv()  # type: ignore[attr-defined]
            now = goroutines.now()
            assert last < v <= now
            k = (v - at) / d  # whole periods after the start (ticks may be skipped)
            assert abs(k - round(k)) < 1e-6 and round(k) >= 1, (at, v, d)
            last = v

    goroutines.run(main)


# ---------------------------------------------------------------------------
# Context deadlines are now() readings


def test_with_timeout_deadline_is_now_plus_d() -> None:
    def main() -> None:
        bg = background()
        for d in (0.5, 3600, 36_000_000):
            with frozen_clock() as at:
                ctx, cancel = with_timeout(bg, d)
                ctx2, cancel2 = with_timeout_cause(bg, d, ValueError("slow"))
            assert ctx.deadline() == at + d
            assert ctx2.deadline() == at + d
            assert ctx.err() is None and ctx2.err() is None
            cancel()
            cancel2()
        for _ in range(100):
            t0 = goroutines.now()
            ctx, cancel = with_timeout(bg, 10)
            t1 = goroutines.now()
            deadline = ctx.deadline()
            assert deadline is not None and t0 + 10 <= deadline <= t1 + 10
            cancel()

    goroutines.run(main)


def test_a_deadline_is_compared_with_the_clock() -> None:
    def main() -> None:
        bg = background()
        with frozen_clock() as at:
            past, cancel1 = with_deadline(bg, at)  # due now: expired at once
            live, cancel2 = with_deadline(bg, at + 1e-6)
            assert past.err() is not None
            assert live.err() is None
        live.done().recv()  # type: ignore[union-attr]
        assert live.err() is not None
        cancel1()
        cancel2()

    goroutines.run(main)


# ---------------------------------------------------------------------------
# The hook


def test_the_runtime_reads_the_clock_only_through_the_hook() -> None:
    """No module binds clock.read (or time.monotonic as a stand-in for it)
    where a replacement would not reach: ``from .clock import read`` is the
    one import that would bypass set_clock."""
    offenders = []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        if "clock" not in text:
            continue
        tree = ast.parse(text, str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("clock"):
                names = [a.name for a in node.names]
                if "read" in names or "*" in names:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not offenders, f"clock.read bound by name (set_clock cannot reach it): {offenders}"


def test_the_clock_module_imports_nothing_from_goroutines() -> None:
    tree = ast.parse((SRC / "_runtime" / "clock.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("goroutines"), node.module
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("goroutines") for a in node.names)


# In a fresh interpreter (no timer pending anywhere), the clock a synctest
# bubble will start at: 2000-01-01 00:00:00 UTC, running at the real rate.
# Every timed thing must follow it: a deadline taken on time.monotonic()
# would fire at once (far in this clock's past), and a scheduler that waited
# on time.monotonic() for a timer set on this clock would sleep for ~30 years.
Y2K_CHILD = """
    import time
    import goroutines
    from goroutines import Chan, Ticker, Timer, after, after_func, go, sleep
    from goroutines._runtime import clock
    from goroutines.context import DeadlineExceeded, background, with_deadline, with_timeout

    BASE = 946684800.0
    t0 = time.monotonic()
    clock.set_clock(lambda: BASE + (time.monotonic() - t0))

    def elapsed(since):
        return time.monotonic() - since

    def main():
        n0 = goroutines.now()
        assert BASE <= n0 < BASE + 30, n0

        for d in (0.02, 0.001):
            real = time.monotonic()
            t = goroutines.now()
            v = after(d).recv()
            assert t + d <= v <= goroutines.now(), (t, d, v)
            assert elapsed(real) >= d * 0.99, elapsed(real)

        t = goroutines.now()
        timer = Timer(0.02)
        assert timer.c.recv() >= t + 0.02

        t = goroutines.now()
        ticker = Ticker(0.01)
        ticks = [ticker.c.recv() for _ in range(3)]
        ticker.stop()
        assert t + 0.01 <= ticks[0] < ticks[1] < ticks[2] <= goroutines.now(), ticks

        real = time.monotonic()
        sleep(0.03)
        assert elapsed(real) >= 0.03 * 0.99, elapsed(real)

        fired = Chan()
        real = time.monotonic()
        after_func(0.02, lambda: fired.send(goroutines.now()))
        assert fired.recv() >= BASE and elapsed(real) >= 0.02 * 0.99

        bg = background()
        t = goroutines.now()
        ctx, cancel = with_timeout(bg, 0.03)
        assert t + 0.03 <= ctx.deadline() <= goroutines.now() + 0.03
        real = time.monotonic()
        ctx.done().recv()
        assert isinstance(ctx.err(), DeadlineExceeded)
        assert elapsed(real) >= 0.02, elapsed(real)
        cancel()

        # A time.monotonic() reading is long past on this clock.
        old, cancel = with_deadline(bg, time.monotonic() + 3600)
        assert isinstance(old.err(), DeadlineExceeded)
        cancel()
        later, cancel = with_deadline(bg, BASE + 3600)
        assert later.err() is None
        cancel()
        print("ok", repr(n0))

    goroutines.run(main)
"""


def test_timers_and_deadlines_follow_a_replaced_clock() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(Y2K_CHILD)],
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok 9466848"), proc.stdout

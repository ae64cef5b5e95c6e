"""Time: sleep, after, tick, Timer, Ticker, after_func (Go 1.23 semantics).

Timing asserts are one-sided where the runtime can be late on a loaded
machine: a timer must never fire early (checked against the monotonic
reading it delivers), and the upper bounds are generous. Speed belongs to the
benchmarks.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable

import pytest

import goroutines
from _synctest import wait_until
from goroutines import (
    Chan,
    Ticker,
    Timer,
    after,
    after_func,
    current,
    go,
    recv,
    select,
    sleep,
    tick,
)

LATE = 2.0  # how late a timer may be on a loaded machine before we call it a bug



def nothing_ready(c: object) -> bool:
    return select(recv(c), default=True) == (-1, None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# sleep and after


@pytest.mark.parametrize("d", [0, -1, -0.5, 0.0])
def test_sleep_of_zero_or_less_yields(d: float) -> None:
    def main() -> None:
        ran: list[bool] = []
        go(lambda: ran.append(True))
        sleep(d)
        assert ran == [True], "sleep(d <= 0) did not let a runnable goroutine run"

    goroutines.run(main)


def test_sleep_of_zero_or_less_returns_at_once_with_nothing_else_to_run() -> None:
    def main() -> None:
        t0 = time.monotonic()
        for _ in range(1000):
            sleep(0)
        assert time.monotonic() - t0 < 1.0

    goroutines.run(main)


def test_sleep_never_returns_early_and_overshoots_little() -> None:
    # Every sleep lasts at least d. Load can only add delay, so precision is
    # judged on the best of ten tries, with a generous bound: a runtime that
    # rounds waits up to coarse ticks or polls fails every try.
    def main() -> None:
        overshoots = []
        for _ in range(10):
            t0 = time.monotonic()
            sleep(0.005)
            elapsed = time.monotonic() - t0
            assert elapsed >= 0.005, f"sleep(0.005) returned after {elapsed * 1000:.2f} ms"
            overshoots.append(elapsed - 0.005)
        best = min(overshoots)
        assert best < 0.05, (
            f"sleep(0.005) overshot by at least {best * 1000:.1f} ms in 10 tries: "
            f"{[round(o * 1000, 1) for o in overshoots]}"
        )

    goroutines.run(main)


def test_sleep_lets_other_goroutines_run() -> None:
    def main() -> None:
        trace: list[str] = []

        def other() -> None:
            trace.append("other ran")

        go(other)
        sleep(0.01)
        trace.append("main woke")
        assert trace == ["other ran", "main woke"], trace

    goroutines.run(main)


def test_sleepers_wake_no_earlier_than_their_deadlines() -> None:
    # (Sleepers whose deadlines pass in one scheduler round may run in any
    # order, as in Go, where the last one readied takes runnext.)
    def main() -> None:
        out: Chan[tuple[int, float, float]] = Chan(10)

        def sleeper(k: int) -> None:
            t0 = time.monotonic()
            sleep(0.005 * (k + 1))
            out.send((k, t0, time.monotonic()))

        for k in (3, 1, 4, 2, 0):
            go(sleeper, k)
        got = sorted(out.recv() for _ in range(5))  # type: ignore[type-var]
        assert [k for k, _, _ in got] == [0, 1, 2, 3, 4]
        for k, t0, t1 in got:
            assert t1 - t0 >= 0.005 * (k + 1), f"sleeper {k} woke after {t1 - t0}"

    goroutines.run(main)


@pytest.mark.parametrize("bad", ["1", None, [1]])
def test_sleep_rejects_a_non_number(bad: object) -> None:
    with pytest.raises(TypeError, match="duration"):
        goroutines.run(sleep, bad)


def test_sleep_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        goroutines.run(sleep, float("nan"))


def test_after_delivers_a_monotonic_reading_no_earlier_than_the_deadline() -> None:
    def main() -> None:
        t0 = time.monotonic()
        c = after(0.02)
        v = c.recv()
        t1 = time.monotonic()
        assert isinstance(v, float)
        assert t0 + 0.02 <= v <= t1, f"after(0.02) made at {t0}, fired {v}, received {t1}"
        assert t1 - t0 < 0.02 + LATE

    goroutines.run(main)


def test_after_of_zero_or_less_fires_at_once() -> None:
    def main() -> None:
        for d in (0, -1):
            t0 = time.monotonic()
            v = after(d).recv()
            assert v is not None and v >= t0

    goroutines.run(main)


def test_after_fires_once() -> None:
    def main() -> None:
        c = after(0.001)
        c.recv()
        sleep(0.01)
        assert nothing_ready(c), "after() fired twice"

    goroutines.run(main)


def test_after_queuing() -> None:
    # Port of time/sleep_test.go TestAfterQueuing.
    # Timers made out of order fire in deadline order: each delivered time is
    # at least its deadline, and later deadlines never carry earlier times.
    def main() -> None:
        slots = [0, 2, 5, 1, 4, 3]
        delta = 0.01
        result: Chan[tuple[int, float]] = Chan(len(slots))
        t0 = time.monotonic()

        def await_(slot: int, c: goroutines.RecvOnly[float]) -> None:
            v = c.recv()
            assert v is not None
            result.send((slot, v))

        for slot in slots:
            go(await_, slot, after(slot * delta))
        fired = dict(result.recv() for _ in slots)  # type: ignore[misc]
        for slot in slots:
            assert fired[slot] >= t0 + slot * delta, f"slot {slot} fired early"
        times = [fired[s] for s in sorted(slots)]
        assert times == sorted(times), f"timers fired out of order: {times}"

    goroutines.run(main)


def test_after_is_usable_from_a_plain_thread() -> None:
    box: list[float | None] = []

    def thread() -> None:
        t0 = time.monotonic()
        v = after(0.01).recv()
        assert v is not None and v >= t0 + 0.01
        box.append(v)

    t = threading.Thread(target=thread)
    t.start()
    t.join(10)
    assert box, "after() in a plain thread never fired"


# ---------------------------------------------------------------------------
# Timer


def test_timer_fires_once_with_the_time() -> None:
    def main() -> None:
        t0 = time.monotonic()
        t = Timer(0.01)
        assert t.c is not None
        v = t.c.recv()
        assert v is not None and v >= t0 + 0.01
        assert not t.stop(), "stop() after the value was received must return False"
        assert nothing_ready(t.c)

    goroutines.run(main)


def test_after_stop() -> None:
    # Port of time/sleep_test.go TestAfterStop.
    # Stopped timers and after_funcs never fire; stopping twice returns False.
    def main() -> None:
        after_func(0.02, lambda: None)
        t0 = Timer(0.01)
        c1: Chan[bool] = Chan(1)
        t1 = after_func(0.03, lambda: c1.send(True))
        c2 = after(0.04)
        assert t0.stop(), "failed to stop event 0"
        assert t1.stop(), "failed to stop event 1"
        c2.recv()
        assert t0.c is not None
        assert select(recv(t0.c), recv(c1), default=True) == (-1, None), "a stopped timer fired"
        assert not t1.stop(), "stop() returned True twice"
        assert not t0.stop(), "stop() returned True twice"

    goroutines.run(main)


def test_stop_discards_an_unreceived_value_and_returns_true() -> None:
    def main() -> None:
        t = Timer(0.001)
        sleep(0.01)  # t has expired; its value sits unreceived
        assert t.stop(), "stop() on an expired, unreceived timer must return True"
        assert t.c is not None
        assert nothing_ready(t.c), "a stale value was received after stop()"
        sleep(0.01)
        assert nothing_ready(t.c)
        assert not t.stop()

    goroutines.run(main)


def test_reset_discards_an_unreceived_value_and_returns_true() -> None:
    def main() -> None:
        t = Timer(0.001)
        sleep(0.01)
        t_reset = time.monotonic()
        assert t.reset(0.02), "reset() on an expired, unreceived timer must return True"
        assert t.c is not None
        v = t.c.recv()
        assert v is not None and v >= t_reset + 0.02, (
            f"received {v}, a value from before reset() at {t_reset}"
        )

    goroutines.run(main)


def test_reset_on_a_fired_timer_works_and_returns_false() -> None:
    def main() -> None:
        t = Timer(0.001)
        assert t.c is not None
        t.c.recv()
        t_reset = time.monotonic()
        assert not t.reset(0.005), "reset() after the value was received must return False"
        v = t.c.recv()
        assert v is not None and v >= t_reset + 0.005

    goroutines.run(main)


def test_reset_on_a_stopped_timer_works_and_returns_false() -> None:
    def main() -> None:
        t = Timer(3600)
        assert t.stop()
        t_reset = time.monotonic()
        assert not t.reset(0.005)
        assert t.c is not None
        v = t.c.recv()
        assert v is not None and v >= t_reset + 0.005

    goroutines.run(main)


def test_reset() -> None:
    # Port of time/sleep_test.go TestReset.
    # Resetting a pending timer returns True and moves its deadline: the value
    # it delivers is never earlier than the new deadline. Resetting after the
    # value was received returns False.
    def main() -> None:
        d = 0.01
        t = Timer(2 * d)
        sleep(d)
        t_reset = time.monotonic()
        assert t.reset(3 * d), "resetting an unfired timer returned False"
        sleep(2 * d)
        assert t.c is not None
        idx, v = select(recv(t.c), default=True)
        if idx == 0:
            assert v >= t_reset + 3 * d, "timer fired early"
        else:
            v = t.c.recv()
            assert v is not None and v >= t_reset + 3 * d, "timer fired early"
        assert not t.reset(0.05), "resetting an expired timer returned True"
        assert t.stop()

    goroutines.run(main)


def test_no_stale_value_after_stop_or_reset_even_when_racing_the_expiry(short: bool) -> None:
    # Go 1.23: once stop() or reset() returns, no value from before the call
    # is ever received, however close to its deadline the timer was.
    rounds = 100 if short else 400

    def main() -> None:
        for i in range(rounds // 2):
            t = Timer(0.0005 * (i % 4))
            if i % 3:
                sleep(0.0005 * (i % 5))
            assert t.c is not None
            if i % 2:
                t.stop()
                assert nothing_ready(t.c), f"round {i}: value received after stop()"
            else:
                t_reset = time.monotonic()
                t.reset(0.001)
                v = t.c.recv()
                assert v is not None and v >= t_reset + 0.001, f"round {i}: stale value {v}"

    goroutines.run(main)


def test_timer_channel_has_len_and_cap_zero() -> None:
    def main() -> None:
        t = Timer(0.001)
        sleep(0.005)
        assert t.c is not None
        assert len(t.c) == 0 and t.c.cap == 0
        assert t.c.recv() is not None

    goroutines.run(main)


@pytest.mark.parametrize(
    "make", [lambda: Timer(1).c, lambda: Ticker(1).c, lambda: after(1), lambda: tick(1)]
)
def test_timer_channels_are_receive_only_views(make: Callable[[], object]) -> None:
    c = make()
    assert c is not None
    for name in ("send", "close", "try_send"):
        assert not hasattr(c, name), f"a timer channel has {name}()"
    assert hasattr(c, "recv") and hasattr(c, "recv_ok")


def test_unreferenced_timer_is_garbage_collectable() -> None:
    def main() -> None:
        t = Timer(3600)
        ref = weakref.ref(t)
        del t
        gc.collect()
        assert ref() is None, "an unreferenced, unstopped Timer was kept alive"

    goroutines.run(main)


def test_unreferenced_ticker_is_garbage_collectable() -> None:
    def main() -> None:
        t = Ticker(0.001)
        ref = weakref.ref(t)
        sleep(0.005)
        del t
        gc.collect()
        assert ref() is None, "an unreferenced, unstopped Ticker was kept alive"

    goroutines.run(main)


def test_after_in_a_select_loop_leaves_nothing_behind() -> None:
    # The Go 1.23 fix for time.After in loops: once the select that waited
    # on the timer is done, the timer is garbage.
    def main() -> None:
        c: Chan[int] = Chan()
        refs = []
        for i in range(50):
            t = Timer(3600)
            refs.append(weakref.ref(t))
            assert t.c is not None
            g = go(c.send, i)
            idx, v = select(recv(t.c), recv(c))
            assert (idx, v) == (1, i)
            wait_until(lambda g=g: g.state == "dead", "sender")
            del t
        gc.collect()
        alive = sum(r() is not None for r in refs)
        assert alive == 0, f"{alive} timers abandoned after a select are still alive"

    goroutines.run(main)


@pytest.mark.parametrize("bad", ["1", None])
def test_timer_rejects_a_non_number(bad: object) -> None:
    with pytest.raises(TypeError):
        Timer(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        after(bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# after_func


def test_after_func_runs_fn_in_its_own_goroutine_after_d() -> None:
    def main() -> None:
        out: Chan[tuple[int, float]] = Chan(1)
        t0 = time.monotonic()
        t = after_func(0.01, lambda: out.send((current().id, time.monotonic())))
        assert t.c is None
        gid, when = out.recv()  # type: ignore[misc]
        assert gid != 1, "after_func ran fn in goroutine 1"
        assert when >= t0 + 0.01, "after_func ran early"
        assert not t.stop(), "stop() after fn started must return False"

    goroutines.run(main)


def test_stopped_after_func_never_runs() -> None:
    def main() -> None:
        ran: list[bool] = []
        t = after_func(0.005, lambda: ran.append(True))
        assert t.stop()
        after(0.02).recv()
        assert ran == []
        assert not t.stop()

    goroutines.run(main)


def test_after_func_reset_rearms_it() -> None:
    def main() -> None:
        out: Chan[float] = Chan(2)
        t = after_func(3600, lambda: out.send(time.monotonic()))
        t_reset = time.monotonic()
        assert t.reset(0.005), "reset() of a pending after_func must return True"
        v = out.recv()
        assert v is not None and v >= t_reset + 0.005
        t_reset = time.monotonic()
        assert not t.reset(0.005), "reset() of a fired after_func must return False"
        v = out.recv()
        assert v is not None and v >= t_reset + 0.005

    goroutines.run(main)


def test_after_func_rejects_a_non_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        after_func(1, 3)  # type: ignore[arg-type]


def test_after_func_keeps_the_program_alive_until_it_runs() -> None:
    # An after_func timer is a possible waker: main blocking on a channel
    # that fn will send on is not a deadlock.
    def main() -> None:
        c: Chan[str] = Chan()
        after_func(0.01, lambda: c.send("from after_func"))
        assert c.recv() == "from after_func"

    goroutines.run(main)


# ---------------------------------------------------------------------------
# Ticker and tick


def test_ticker_ticks_at_its_period_and_stop_ends_the_ticks() -> None:
    def main() -> None:
        period = 0.005
        t0 = time.monotonic()
        ticker = Ticker(period)
        ticks = [ticker.c.recv() for _ in range(5)]
        for k, v in enumerate(ticks, 1):
            assert v is not None and v >= t0 + k * period - 1e-9, f"tick {k} early: {ticks}"
        assert ticks == sorted(ticks)
        ticker.stop()
        assert nothing_ready(ticker.c), "a tick from before stop() was received"
        sleep(4 * period)
        assert nothing_ready(ticker.c), "a stopped ticker ticked"

    goroutines.run(main)


def test_ticker_drops_ticks_for_a_slow_receiver() -> None:
    # About 20 periods pass with nobody receiving: the missed ticks are not
    # delivered in a burst afterwards (at most one per period that passes).
    def main() -> None:
        period = 0.001
        ticker = Ticker(period)
        sleep(20 * period)
        t0 = time.monotonic()
        burst = 0
        while select(recv(ticker.c), default=True)[0] == 0:
            burst += 1
        elapsed = time.monotonic() - t0
        assert burst <= 2 + elapsed / period, (
            f"{burst} ticks ready at once after a slow receiver ({elapsed * 1000:.2f} ms)"
        )
        first = ticker.c.recv()
        second = ticker.c.recv()
        assert first is not None and second is not None and second > first
        ticker.stop()

    goroutines.run(main)


def test_ticker_reset_changes_the_period() -> None:
    def main() -> None:
        ticker = Ticker(3600)
        t_reset = time.monotonic()
        ticker.reset(0.005)
        a = ticker.c.recv()
        b = ticker.c.recv()
        assert a is not None and b is not None
        assert a >= t_reset + 0.005 and b >= t_reset + 0.010, (t_reset, a, b)
        ticker.stop()
        ticker.reset(0.002)  # a stopped ticker restarts
        assert ticker.c.recv() is not None
        ticker.stop()

    goroutines.run(main)


@pytest.mark.parametrize("d", [0, -1, 0.0, -0.001])
def test_ticker_with_a_non_positive_interval_raises(d: float) -> None:
    with pytest.raises(ValueError, match=r"^non-positive interval for NewTicker$"):
        Ticker(d)


def test_ticker_reset_with_a_non_positive_interval_raises() -> None:
    ticker = Ticker(1)
    with pytest.raises(ValueError, match="non-positive interval"):
        ticker.reset(0)
    ticker.stop()


@pytest.mark.parametrize("d", [0, -1, 0.0])
def test_tick_with_a_non_positive_interval_is_none(d: float) -> None:
    assert tick(d) is None


def test_tick_delivers_ticks() -> None:
    def main() -> None:
        # A tick's value is the time it was due (as Go 1.23 sends): the
        # ticker's start plus a period, so after a reading taken before it.
        t0 = time.monotonic()
        c = tick(0.002)
        assert c is not None
        v1, v2 = c.recv(), c.recv()
        assert v1 is not None and v2 is not None and t0 < v1 < v2

    goroutines.run(main)


def test_tick_none_in_select_is_never_ready() -> None:
    def main() -> None:
        assert select(recv(tick(0)), default=True) == (-1, None)

    goroutines.run(main)


def test_many_goroutines_sleeping_all_wake(short: bool) -> None:
    n = 200 if short else 1000

    def main() -> None:
        done: Chan[None] = Chan(n)
        t0 = time.monotonic()
        for i in range(n):
            go(lambda i=i: (sleep(0.001 * (i % 10)), done.send(None)))
        for _ in range(n):
            done.recv()
        assert time.monotonic() - t0 < 10 * LATE

    goroutines.run(main)


# ---------------------------------------------------------------------------
# Long durations: Go's reach 290 years; nothing here may overflow.

DAY = 86400.0


def _long_waits() -> dict[str, Callable[[], object]]:
    def after_func_far() -> object:
        t = after_func(1e300, lambda: None)
        sleep(float("inf"))  # keep t referenced while parked
        return t

    return {
        "after(30 days)": lambda: after(30 * DAY).recv(),
        "sleep(inf)": lambda: sleep(float("inf")),
        "sleep(1e300)": lambda: sleep(1e300),
        "tick(30 days)": lambda: tick(30 * DAY).recv(),  # type: ignore[union-attr]
        "Ticker(1e300)": lambda: Ticker(1e300).c.recv(),
        "Timer(inf) in select": lambda: select(recv(Timer(float("inf")).c)),
        "after_func(1e300)": after_func_far,
    }


@pytest.mark.parametrize("wait", list(_long_waits()))
def test_a_far_timer_as_the_next_event_does_not_overflow_the_idle_wait(wait: str) -> None:
    # The P's idle wait is bounded by its earliest timer: 30 days is beyond
    # epoll's limit, inf and 1e300 beyond any. It raised OverflowError in
    # whichever goroutine parked.
    def main() -> str:
        g = go(_long_waits()[wait])
        wait_until(lambda: g.state == "waiting", f"{wait} to park")
        for _ in range(3):  # the P idles with only the far timer pending
            goroutines.blocking(time.sleep, 0.01)
        return g.state

    assert goroutines.run(main) == "waiting"


def test_the_idle_wait_is_cut_to_a_day_for_a_far_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The far timer stays a possible waker (Go: a sleeping goroutine keeps
    # the program waiting); the P waits for it a day at a time. Checked by
    # the waits the P asks the selector for while main is parked.
    from goroutines._runtime import sched

    asked: list[float | None] = []

    def main() -> None:
        p = sched.getp()
        assert p is not None
        stop: Chan[None] = Chan()
        real_select = p.selector.select

        def select_(timeout: float | None = None) -> list[object]:
            asked.append(timeout)
            stop.close()  # main's park is over: the P did not call it a deadlock
            return real_select(0)

        go(sleep, float("inf"))
        sleep(0)
        monkeypatch.setattr(p.selector, "select", select_)
        try:
            stop.recv()  # nothing else can wake main: only the sleeper's timer
        finally:
            monkeypatch.undo()

    goroutines.run(main)
    assert sched.MAX_POLL == DAY
    # (FOREIGN_POLL: a live thread left by another test asks for polling.)
    assert asked and asked[0] in (sched.MAX_POLL, sched.FOREIGN_POLL), asked


@pytest.mark.parametrize("d", [float("inf"), 1e300, 1e10])
def test_sleep_on_a_plain_thread_sleeps_a_day_at_a_time(
    d: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # time.sleep raises OverflowError beyond ~292 years (and for inf).
    from goroutines import _time

    slept: list[float] = []

    class Woken(Exception):
        pass

    def fake_sleep(s: float) -> None:
        slept.append(s)
        if len(slept) == 3:
            raise Woken

    monkeypatch.setattr(_time, "_os_sleep", fake_sleep)
    box: list[BaseException] = []

    def thread() -> None:
        try:
            sleep(d)
        except BaseException as e:
            box.append(e)

    t = threading.Thread(target=thread)
    t.start()
    t.join()
    assert len(box) == 1 and isinstance(box[0], Woken), box
    assert slept == [DAY, DAY, DAY]


def test_a_ticker_with_a_tiny_period_does_not_overflow() -> None:
    # The number of periods a receiver missed does not fit an int() of a
    # float once the period is a denormal's size.
    def main() -> bool:
        t = Ticker(5e-324)
        t.c.recv()
        sleep(0.002)
        t.c.recv()
        t.stop()
        return True

    assert goroutines.run(main)

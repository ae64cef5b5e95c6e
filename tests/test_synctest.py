"""goroutines.synctest: a bubble's fake clock, durable blocking, wait(),
the end of a bubble, its deadlocks, and that its goroutines stay on their P.

Nothing here reads the wall clock to judge a result: every assertion is on
the bubble's time and on what the goroutines did, repeated many times."""

from __future__ import annotations

import time
from typing import Any

import pytest

import goroutines
from _synctest import wait_until
from goroutines import (
    Chan,
    Cond,
    Mutex,
    Ticker,
    Timer,
    WaitGroup,
    after,
    after_func,
    go,
    now,
    recv,
    select,
    sleep,
    synctest,
    tick,
)
from goroutines._runtime import clock, sysmon
from goroutines._runtime import sched as _sched
from goroutines.context import DeadlineExceeded, background, with_deadline, with_timeout
from goroutines.errors import Deadlock

EPOCH = 946684800.0

# Each test runs as goroutine 1 of its own run() and fails on goroutines left behind.
pytestmark = pytest.mark.goroutines


def rounds(short: bool, n: int) -> int:
    return max(n // 10, 2) if short else n


# ---------------------------------------------------------------------------
# The clock


def test_epoch_is_2000_01_01_utc() -> None:
    assert synctest.EPOCH == EPOCH
    assert time.gmtime(EPOCH)[:6] == (2000, 1, 1, 0, 0, 0)


def _readings() -> list[float]:
    seen = [now()]
    for _ in range(50):
        seen.append(now())  # runnable: time stands still
    sleep(1.5)
    seen.append(now())
    return seen


def test_clock_starts_at_epoch_and_moves_only_by_timers(short: bool) -> None:
    for _ in range(rounds(short, 200)):
        assert synctest.test(_readings) == [EPOCH] * 51 + [EPOCH + 1.5]


def _go_docs_example() -> list[tuple[str, float]]:
    log: list[tuple[str, float]] = []
    start = now()

    def g() -> None:
        sleep(1)
        log.append(("g", now() - start))

    go(g)
    sleep(2)
    log.append(("main", now() - start))
    return log


def test_go_docs_example_sleep_order(short: bool) -> None:
    """Go's package example: the goroutine's 1 s sleep ends before the 2 s."""
    for _ in range(rounds(short, 200)):
        assert synctest.test(_go_docs_example) == [("g", 1.0), ("main", 2.0)]


def test_returns_what_fn_returned_and_restores_the_clock() -> None:
    assert synctest.test(lambda: 42) == 42
    assert clock.read is time.monotonic
    assert clock.base is time.monotonic


def test_now_outside_the_bubble_is_real_while_a_bubble_runs() -> None:
    outside: list[float] = []
    inside: list[float] = []
    ready: Chan[None] = Chan()

    def body() -> None:
        inside.append(now())
        ready.send(None)  # a channel made outside: read by this test, outside
        inside.append(now())

    def reader() -> None:
        ready.recv()
        outside.append(now())

    w = WaitGroup()
    w.go(reader)
    before = time.monotonic()
    synctest.test(body)
    w.wait()
    assert inside == [EPOCH, EPOCH]
    assert before <= outside[0] <= time.monotonic()


def test_monotonic_deadline_computed_in_a_bubble_is_in_the_past() -> None:
    """What the guide warns about: time.monotonic() is not the bubble's clock."""

    def body() -> bool:
        return time.monotonic() + 3600 < now()

    assert synctest.test(body) is True


def test_an_hour_of_timeouts_tickers_and_deadlines_is_exact_and_deterministic(
    short: bool,
) -> None:
    """An hour of virtual time: a 1 s ticker, a 7 s tick(), 90 s timeouts in a
    select loop, a context deadline at 3599.5 s and after_func callbacks.
    Every run produces the same log, equal to what the periods predict."""

    def body() -> list[tuple[str, float]]:
        log: list[tuple[str, float]] = []
        ctx, cancel = with_timeout(background(), 3599.5)
        wg = WaitGroup()

        def ticker() -> None:
            t = Ticker(1.0)
            n = 0
            while True:
                i, _ = select(recv(t.c), recv(ctx.done()))
                if i == 1:
                    t.stop()
                    log.append(("ticks", float(n)))
                    return
                n += 1

        def slow() -> None:
            c = tick(7.0)
            n = 0
            while True:
                i, _ = select(recv(c), recv(ctx.done()))
                if i == 1:
                    log.append(("slow", float(n)))
                    return
                n += 1

        def timeouts() -> None:
            never: Chan[int] = Chan()
            n = 0
            while True:
                i, _ = select(recv(never), recv(after(90)), recv(ctx.done()))
                if i == 2:
                    log.append(("timeouts", float(n)))
                    return
                n += 1
                log.append(("timeout", now() - EPOCH))

        def callbacks() -> None:
            done: Chan[float] = Chan(10)
            for k in range(10):
                after_func(360.0 * k + 0.25, lambda: done.send(now() - EPOCH))
            for _ in range(10):
                log.append(("func", done.recv() or 0.0))

        for f in (ticker, slow, timeouts, callbacks):
            wg.go(f)
        ctx.done().recv()
        log.append(("deadline", now() - EPOCH))
        assert isinstance(ctx.err(), DeadlineExceeded)
        wg.wait()
        cancel()
        return log

    first = synctest.test(body)
    assert ("ticks", 3599.0) in first
    assert ("slow", float(3599 // 7)) in first
    assert ("timeouts", 39.0) in first  # 39 * 90 = 3510 < 3599.5 < 3600
    assert [v for k, v in first if k == "timeout"] == [90.0 * k for k in range(1, 40)]
    assert [v for k, v in first if k == "func"] == [360.0 * k + 0.25 for k in range(10)]
    assert ("deadline", 3599.5) in first
    for _ in range(rounds(short, 20)):
        assert synctest.test(body) == first


def test_timer_stop_and_reset_in_a_bubble(short: bool) -> None:
    for _ in range(rounds(short, 100)):

        def body() -> list[float]:
            out: list[float] = []
            t = Timer(10)
            assert t.stop() is True
            t.reset(3)
            out.append((t.c.recv() or 0.0) - EPOCH)  # the value is the fire time
            out.append(now() - EPOCH)
            f = after_func(5, lambda: out.append(-1))
            sleep(4)
            assert f.stop() is True
            sleep(10)
            return out

        assert synctest.test(body) == [3.0, 3.0]


def test_context_deadlines_on_the_bubble_clock() -> None:
    def body() -> tuple[float, float]:
        ctx, cancel = with_deadline(background(), now() + 30)
        dl = ctx.deadline()
        ctx.done().recv()
        cancel()
        assert dl is not None
        return dl - EPOCH, now() - EPOCH

    assert synctest.test(body) == (30.0, 30.0)


# ---------------------------------------------------------------------------
# Durable blocking and wait()


def test_wait_returns_when_the_others_are_durably_blocked(short: bool) -> None:
    for _ in range(rounds(short, 200)):

        def body() -> list[str]:
            log: list[str] = []
            c: Chan[int] = Chan()
            wg = WaitGroup()
            cond = Cond(Mutex())
            for k in range(5):

                def worker(k: int = k) -> None:
                    log.append(f"start{k}")
                    log.append(f"got{c.recv()}")

                go(worker)
            go(lambda: (wg.wait(), log.append("wg")))
            wg.add(1)

            def waits_cond() -> None:
                with cond.l:
                    cond.wait()
                log.append("cond")

            go(waits_cond)
            synctest.wait()
            assert sorted(log) == [f"start{k}" for k in range(5)]
            log.clear()
            for k in range(5):
                c.send(k)
            synctest.wait()
            wg.done()
            with cond.l:
                cond.signal()
            synctest.wait()
            return sorted(log)

        assert synctest.test(body) == sorted(
            [f"got{k}" for k in range(5)] + ["wg", "cond"]
        )


def test_wait_outside_a_bubble_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="goroutine is not in a bubble"):
        synctest.wait()


def test_wait_from_two_goroutines_at_once_is_an_error(short: bool) -> None:
    for _ in range(rounds(short, 100)):

        def body() -> str | None:
            c: Chan[str] = Chan()

            def second() -> None:
                synctest.wait()
                c.send("woke")

            g = go(second)
            wait_until(lambda: g.wait_reason == "synctest.Wait", "second to wait")
            with pytest.raises(RuntimeError, match="wait already in progress"):
                synctest.wait()
            return c.recv()  # durably blocked: second's wait returns

        assert synctest.test(body) == "woke"


def test_nested_bubble_is_an_error() -> None:
    def body() -> None:
        synctest.test(lambda: None)

    with pytest.raises(RuntimeError, match=r"synctest\.Run called from within a synctest bubble"):
        synctest.test(body)


def test_mutex_is_not_durable_time_waits_for_its_release(short: bool) -> None:
    """A goroutine of the bubble waiting for a Mutex held outside it is not
    durably blocked: the clock must not move until the holder (a plain
    thread) unlocks, however long that takes."""
    for _ in range(rounds(short, 20)):
        _mutex_held_outside()


def _mutex_held_outside() -> None:
    mu = Mutex()
    mu.lock()
    locked_at: list[float] = []
    waiter: list[Any] = []

    def body() -> float:
        def worker() -> None:
            with mu:
                locked_at.append(now())

        waiter.append(go(worker))
        sleep(10)
        return now() - EPOCH

    def release() -> None:
        wait_until(
            lambda: bool(waiter) and waiter[0].wait_reason == "sync.Mutex.Lock",
            "the bubble's goroutine to wait for the mutex",
        )
        mu.unlock()

    g = go(release)
    assert synctest.test(body) == 10.0
    assert locked_at == [EPOCH]
    wait_until(lambda: g.state == "dead", "the releaser to end")


# ---------------------------------------------------------------------------
# The end of a bubble


def test_waits_for_every_goroutine_of_the_bubble(short: bool) -> None:
    for _ in range(rounds(short, 100)):
        assert sorted(_grandchildren()) == [2.0, 4.0, 6.0]


def _grandchildren() -> list[float]:
    ended: list[float] = []

    def grandchild(d: float) -> None:
        sleep(d)
        ended.append(now() - EPOCH)

    def child(d: float) -> None:
        sleep(d)
        go(grandchild, d)

    def body() -> None:
        for d in (1.0, 2.0, 3.0):
            go(child, d)

    synctest.test(body)  # returns when the grandchildren have ended
    return ended


def test_all_blocked_with_no_timer_is_a_deadlock() -> None:
    finally_ran: list[int] = []

    def stuck(k: int, c: Chan[int]) -> None:
        try:
            c.recv()
        finally:
            finally_ran.append(k)

    def body() -> None:
        c: Chan[int] = Chan()
        for k in range(3):
            go(stuck, k, c)
        c.recv()

    with pytest.raises(Deadlock) as info:
        synctest.test(body)
    text = str(info.value)
    assert text.startswith("deadlock: all goroutines in bubble are blocked\n")
    assert text.count("[chan receive]") == 4
    assert sorted(finally_ran) == [0, 1, 2]
    assert clock.read is time.monotonic


def test_main_exited_with_blocked_goroutines_is_a_deadlock() -> None:
    def body() -> None:
        c: Chan[int] = Chan()
        go(c.recv)
        go(lambda: select(recv(c)))

    with pytest.raises(Deadlock) as info:
        synctest.test(body)
    text = str(info.value)
    assert text.startswith(
        "deadlock: main bubble goroutine has exited but blocked goroutines remain\n"
    )
    assert "[chan receive]" in text and "[select]" in text


def test_an_exception_of_fn_ends_the_bubble_and_is_raised() -> None:
    ended: list[str] = []

    def body() -> None:
        def forever() -> None:
            try:
                while True:
                    sleep(1)
            finally:
                ended.append("ticker")

        go(forever)
        sleep(5)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        synctest.test(body)
    assert ended == ["ticker"]


def test_fn_must_be_callable() -> None:
    with pytest.raises(TypeError, match="fn must be callable"):
        synctest.test(42)  # type: ignore[arg-type]

    async def coro() -> None:
        pass

    with pytest.raises(TypeError, match="must be a plain function"):
        synctest.test(coro)


def test_set_clock_refused_while_a_bubble_runs() -> None:
    def body() -> str:
        try:
            clock.set_clock(None)
        except RuntimeError as e:
            return str(e)
        return "replaced"

    assert synctest.test(body) == "set_clock: a synctest bubble is running"
    assert clock.read is time.monotonic


# ---------------------------------------------------------------------------
# The bubble's goroutines and timers stay on the driver's P


def test_bubble_goroutines_are_pinned_and_run_on_the_drivers_p(short: bool) -> None:
    outside = go(lambda: None)
    assert not sysmon._pinned(outside)
    driver_p = _sched.getp()
    assert driver_p is not None
    for _ in range(rounds(short, 50)):
        assert _ps_of_a_bubble() == {driver_p.id}


def _ps_of_a_bubble() -> set[int]:
    ps: set[int] = set()
    gs: list[Any] = []

    def child() -> None:
        gs.append(goroutines.current())
        p = _sched.getp()
        assert p is not None
        ps.add(p.id)
        sleep(0.5)

    def body() -> None:
        me = _sched.getp()
        assert me is not None
        gs.append(goroutines.current())
        for _ in range(20):
            go(child)
        sleep(0.25)  # every child has started
        assert len(gs) == 21
        assert all(sysmon._pinned(g) for g in gs)
        ps.add(me.id)
        sleep(1)

    synctest.test(body)
    return ps


def test_bubble_timers_stay_out_of_the_ps_heaps() -> None:
    p = _sched.getp()
    assert p is not None

    def body() -> tuple[list[float], int]:
        go(lambda: sleep(1000))
        go(lambda: after_func(500, lambda: None))
        t = Timer(100)
        synctest.wait()
        with p.timer_lock:
            whens = [e[0] for e in p.timers if e[2] is not None]
        t.stop()
        b = clock.bubble.get()
        return whens, b.heap.ntimers

    whens, in_bubble = synctest.test(body)
    assert [w for w in whens if w >= EPOCH] == []  # real-clock timers only
    assert in_bubble == 2  # the sleep and the after_func; an unwatched Timer is in no heap


def test_a_wake_up_from_outside_within_the_grace_is_no_deadlock(
    monkeypatch: pytest.MonkeyPatch, short: bool
) -> None:
    """A goroutine of the bubble waits on a channel made outside, which a
    plain thread sends on once it sees it parked: the bubble looks
    deadlocked (no timer) until then, and must not be reported."""
    monkeypatch.setattr(synctest, "_GRACE", 10.0)  # the thread's latency on a loaded machine
    for _ in range(rounds(short, 10)):
        assert _served_from_outside() == "from a thread"


def _served_from_outside() -> str | None:
    import threading

    c: Chan[str] = Chan()
    root: list[Any] = []

    def serve() -> None:
        deadline = time.monotonic() + 10
        while not (root and root[0].wait_reason == "chan receive"):
            assert time.monotonic() < deadline, "the bubble's root never blocked"
            time.sleep(0.0005)  # a plain thread polling an observable state
        c.send("from a thread")

    def body() -> str | None:
        root.append(goroutines.current())
        return c.recv()

    t = threading.Thread(target=serve)
    t.start()
    try:
        return synctest.test(body)
    finally:
        t.join(10)

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
    recv_ok,
    select,
    send,
    sleep,
    synctest,
    tick,
)
from goroutines._runtime import clock, sysmon
from goroutines._runtime import sched as _sched
from goroutines.context import (
    DeadlineExceeded,
    background,
    with_cancel,
    with_deadline,
    with_timeout,
)
from goroutines.errors import ChannelClosedError, Deadlock

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


# ---------------------------------------------------------------------------
# A bubble's channels and timers belong to it (Go 1.25: a channel made in a
# bubble, used from outside it, panics with these words).

OUTSIDE_SEND = "send on synctest channel from outside bubble"
OUTSIDE_RECV = "receive on synctest channel from outside bubble"
OUTSIDE_CLOSE = "close of synctest channel from outside bubble"
OUTSIDE_SELECT = "select on synctest channel from outside bubble"
OUTSIDE_STOP = "stop of synctest timer from outside bubble"
OUTSIDE_RESET = "reset of synctest timer from outside bubble"


def _made_in_a_bubble(cap: int = 1, value: object = None) -> Chan[Any]:
    """A channel made by a goroutine of a bubble that has ended; holding value
    if one is given."""

    def body() -> Chan[Any]:
        c: Chan[Any] = Chan(cap)
        if value is not None:
            c.send(value)
        return c

    return synctest.test(body)


# Each operation on a channel c (of capacity 1, holding a value), with the
# words Go uses when it comes from outside c's bubble.
OUTSIDE_OPS: list[tuple[str, Any, str]] = [
    ("send", lambda c: c.send(2), OUTSIDE_SEND),  # would block: the check comes first
    ("try_send", lambda c: c.try_send(2), OUTSIDE_SEND),
    ("recv", lambda c: c.recv(), OUTSIDE_RECV),
    ("recv_ok", lambda c: c.recv_ok(), OUTSIDE_RECV),
    ("try_recv", lambda c: c.try_recv(), OUTSIDE_RECV),
    ("close", lambda c: c.close(), OUTSIDE_CLOSE),
    ("iter", lambda c: next(iter(c)), OUTSIDE_RECV),
    ("select recv", lambda c: select(recv(c)), OUTSIDE_SELECT),
    ("select recv_ok default", lambda c: select(recv_ok(c), default=True), OUTSIDE_SELECT),
    ("select send default", lambda c: select(send(c, 2), default=True), OUTSIDE_SELECT),
    ("recv_only view", lambda c: c.recv_only().recv(), OUTSIDE_RECV),
    ("send_only view", lambda c: c.send_only().try_send(2), OUTSIDE_SEND),
    ("send_only close", lambda c: c.send_only().close(), OUTSIDE_CLOSE),
]


@pytest.mark.parametrize(("name", "op", "words"), OUTSIDE_OPS, ids=[o[0] for o in OUTSIDE_OPS])
def test_bubble_channel_used_from_outside_raises_and_is_left_as_it_was(
    name: str, op: Any, words: str
) -> None:
    """From goroutine 1, outside every bubble, after the bubble has ended (Go:
    the channel stays the bubble's): Go's words, and nothing was done."""
    c = _made_in_a_bubble(1, "v")
    with pytest.raises(ChannelClosedError) as e:
        op(c)
    assert str(e.value) == words
    assert len(c) == 1 and c.cap == 1 and not c.closed  # len and cap are not checked
    assert not c._recvq and not c._sendq


def _every_operation_inside() -> list[object]:
    """Every operation on a channel made by the caller, none blocking."""
    c: Chan[Any] = Chan(1)
    assert c._bubble is clock.bubble.get()
    c.send("v")
    out: list[object] = [c.try_send(2), c.recv(), c.try_send(3), c.recv_ok(), c.try_recv()]
    out += [select(send(c, 4)), select(recv(c)), select(recv_ok(c), default=True)]
    out += [select(send(c, 5), default=True), c.recv_only().recv(), c.send_only().try_send(6)]
    out += [next(iter(c)), len(c), c.cap]
    c.send_only().close()
    out += [list(c), c.recv_ok()]
    return out


EVERY_OPERATION = [
    *(False, "v", True, (3, True), (None, False, False), (0, None), (0, 4), (-1, None)),
    *((0, None), 5, True, 6, 0, 1, [], (None, False)),
]


def test_bubble_channel_used_inside_its_bubble_works(short: bool) -> None:
    """By the goroutine that made it and by the goroutines it starts, transitively."""
    for _ in range(rounds(short, 20)):

        def body() -> tuple[list[object], list[object] | None]:
            mine = _every_operation_inside()
            done: Chan[list[object]] = Chan()
            c: Chan[Any] = Chan()

            def child() -> None:
                def grandchild() -> None:
                    c.send("to the root")
                    done.send(_every_operation_inside())

                go(grandchild)

            go(child)
            assert c.recv() == "to the root"
            return mine, done.recv()

        assert synctest.test(body) == (EVERY_OPERATION, EVERY_OPERATION)


def test_bubble_channel_used_from_another_bubble_raises() -> None:
    c = _made_in_a_bubble(1, "v")
    for _, op, words in OUTSIDE_OPS:

        def body(op: Any = op) -> str:
            try:
                op(c)
            except ChannelClosedError as e:
                return str(e)
            return "no error"

        assert synctest.test(body) == words
    assert len(c) == 1 and not c.closed


def test_bubble_channel_used_from_outside_while_the_bubble_runs(
    monkeypatch: pytest.MonkeyPatch, short: bool
) -> None:
    """A goroutine outside the bubble gets the channel (through a channel made
    outside) while the bubble's root waits on it: each operation raises, and
    the bubble's own goroutines go on."""
    monkeypatch.setattr(synctest, "_GRACE", 10.0)  # the outsider runs within it
    for _ in range(rounds(short, 10)):
        seen, got = _outsider_round()
        assert seen == [OUTSIDE_SEND, OUTSIDE_RECV, OUTSIDE_CLOSE, OUTSIDE_SELECT]
        assert got == 7


def _outsider_round() -> tuple[list[str] | None, int | None]:
    box: Chan[Chan[int]] = Chan(1)  # made outside: usable from both sides
    report: Chan[list[str]] = Chan(1)

    def outsider() -> None:
        c = box.recv()
        assert c is not None
        seen: list[str] = []
        for op in (lambda: c.send(1), c.recv, c.close, lambda: select(recv(c))):
            try:
                op()
            except ChannelClosedError as e:
                seen.append(str(e))
        report.send(seen)

    go(outsider)

    def body() -> tuple[list[str] | None, int | None]:
        c: Chan[int] = Chan()
        box.send(c)
        seen = report.recv()  # made outside: the outsider's send wakes it
        go(lambda: c.send(7))
        return seen, c.recv()

    return synctest.test(body)


def test_bubble_channel_used_from_a_plain_thread_raises() -> None:
    import threading

    c = _made_in_a_bubble(1, "v")
    seen: list[str] = []

    def thread() -> None:
        for _, op, _words in OUTSIDE_OPS:
            try:
                op(c)
            except ChannelClosedError as e:
                seen.append(str(e))

    t = threading.Thread(target=thread)
    t.start()
    t.join(10)
    assert seen == [words for _, _, words in OUTSIDE_OPS]
    assert len(c) == 1 and not c.closed


def test_channel_made_outside_is_usable_inside_and_belongs_to_no_bubble() -> None:
    c: Chan[int] = Chan(1)
    assert c._bubble is None

    def body() -> tuple[int | None, bool]:
        c.send(1)
        got = c.recv()
        c.close()
        return got, c.recv_ok()[1]

    assert synctest.test(body) == (1, False)
    assert Chan()._bubble is None  # the bubble has ended: back to none


def test_select_mixing_bubble_and_outside_channels() -> None:
    outside: Chan[int] = Chan(1)
    c = _made_in_a_bubble(1, "v")
    outside.send(5)
    # A ready case on an outside channel does not excuse a bubble channel's case.
    with pytest.raises(ChannelClosedError, match=OUTSIDE_SELECT):
        select(recv(outside), recv(c))
    with pytest.raises(ChannelClosedError, match=OUTSIDE_SELECT):
        select(recv(c), recv(outside), default=True)
    assert outside.recv() == 5  # untouched
    assert select(recv(None), recv(outside), default=True) == (-1, None)


def test_timer_and_ticker_of_a_bubble_used_from_outside_raise() -> None:
    def body() -> tuple[Timer, Ticker, Timer]:
        return Timer(10), Ticker(1), after_func(10, lambda: None)

    t, tk, f = synctest.test(body)
    cases: list[tuple[Any, str]] = [
        (t.stop, OUTSIDE_STOP),
        (lambda: t.reset(1), OUTSIDE_RESET),
        (t.c.recv, OUTSIDE_RECV),
        (t.c.try_recv, OUTSIDE_RECV),
        (lambda: select(recv(t.c), default=True), OUTSIDE_SELECT),
        (tk.stop, OUTSIDE_STOP),
        (lambda: tk.reset(2), OUTSIDE_RESET),
        (tk.c.recv, OUTSIDE_RECV),
        (f.stop, OUTSIDE_STOP),
        (lambda: f.reset(1), OUTSIDE_RESET),
    ]
    for op, words in cases:
        with pytest.raises(ChannelClosedError) as e:
            op()
        assert str(e.value) == words
    # from another bubble as well
    for op, words in cases:

        def other(op: Any = op) -> str:
            try:
                op()
            except ChannelClosedError as e:
                return str(e)
            return "no error"

        assert synctest.test(other) == words


def test_timer_made_outside_is_usable_inside_a_bubble() -> None:
    t = Timer(3600)
    tk = Ticker(3600)

    def body() -> tuple[bool, bool]:
        stopped = t.stop()
        t.reset(3600)
        tk.reset(7200)
        tk.stop()
        return stopped, t.stop()

    assert synctest.test(body) == (True, True)


def test_context_cancelled_from_outside_its_bubble_raises() -> None:
    """A context made outside whose done channel was first asked for inside a
    bubble (by with_cancel's propagation, as Go's propagateCancel does) is the
    bubble's: cancelling it from outside is Go's error, and so is cancelling
    from outside a context made in the bubble. No lock is left held."""
    parent, cancel_parent = with_cancel(background())

    def body() -> Any:
        ctx, cancel = with_cancel(parent)  # parent.done() is made now, in the bubble
        ctx.done()
        return ctx, cancel

    ctx, cancel = synctest.test(body)
    assert parent.done()._bubble is not None
    with pytest.raises(ChannelClosedError, match=OUTSIDE_CLOSE):
        cancel_parent()
    cancel_parent()  # cancelled already: takes and frees its lock, returns
    with pytest.raises(ChannelClosedError, match=OUTSIDE_CLOSE):
        cancel()
    cancel()
    assert parent.err() is not None and ctx.err() is not None

    # Asked for outside first, the parent's channel is nobody's: the child's
    # own channel, made in the bubble, is still the bubble's.
    parent, cancel_parent = with_cancel(background())
    parent.done()
    ctx, cancel = synctest.test(body)
    assert parent.done()._bubble is None
    with pytest.raises(ChannelClosedError, match=OUTSIDE_CLOSE):
        cancel_parent()  # closes the parent's channel, then fails on the child's
    assert parent.done().closed


_BOTH_PATHS = r"""
import json, threading
from goroutines import Chan, Timer, go, recv, run, select, send, synctest
from goroutines.errors import ChannelClosedError

def probe(op):
    try:
        r = op()
    except ChannelClosedError as e:
        return "raised: " + str(e)
    return "ok: " + repr(r)

def ops(c):
    return [
        lambda: c.send(2), lambda: c.try_send(2), c.recv, c.recv_ok, c.try_recv,
        lambda: next(iter(c)), lambda: select(recv(c)), lambda: select(send(c, 2), default=True),
        lambda: (len(c), c.cap), c.close,
    ]

def main():
    out = {}
    made = synctest.test(lambda: (Chan(1), Timer(5)))
    c, t = made
    out["outside"] = [probe(op) for op in ops(c)]
    out["timer"] = [probe(t.stop), probe(lambda: t.reset(1)), probe(t.c.recv)]
    out["other bubble"] = synctest.test(lambda: [probe(op) for op in ops(c)])
    def inside():
        d = Chan(1)
        return [probe(op) for op in (
            lambda: d.send(1), lambda: d.try_send(2), d.recv, lambda: d.try_send(3), d.recv_ok,
            d.try_recv, lambda: select(send(d, 4)), lambda: next(iter(d)),
            lambda: select(send(d, 5), default=True), lambda: select(recv(d)),
            lambda: (len(d), d.cap), d.close,
        )]
    out["inside"] = synctest.test(inside)
    box = []
    th = threading.Thread(target=lambda: box.extend(probe(op) for op in ops(c)))
    th.start(); th.join(10)
    out["thread"] = box
    print(json.dumps(out, sort_keys=True))

run(main)
"""


def test_both_paths_give_the_same_answers(tmp_path: Any) -> None:
    """The same program on the accelerator's ports and on their Python twins
    (GOROUTINES_PURE=1), each in a process of its own: the same results, Go's
    words for every operation from outside the bubble."""
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "both.py"
    script.write_text(_BOTH_PATHS)
    answers = []
    for pure in ("0", "1"):
        env = {**os.environ, "GOROUTINES_PURE": pure, "GOROUTINES_EXPECT_SPEEDUPS": "0"}
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        answers.append(json.loads(proc.stdout))
    accel, pure = answers
    assert accel == pure
    words = [
        OUTSIDE_SEND, OUTSIDE_SEND, OUTSIDE_RECV, OUTSIDE_RECV, OUTSIDE_RECV, OUTSIDE_RECV,
        OUTSIDE_SELECT, OUTSIDE_SELECT,
    ]
    expected = [f"raised: {w}" for w in words] + ["ok: (0, 1)", f"raised: {OUTSIDE_CLOSE}"]
    assert accel["outside"] == expected
    assert accel["other bubble"] == expected
    assert accel["thread"] == expected
    assert accel["timer"] == [f"raised: {w}" for w in (OUTSIDE_STOP, OUTSIDE_RESET, OUTSIDE_RECV)]
    assert accel["inside"] == [
        "ok: None", "ok: False", "ok: 1", "ok: True", "ok: (3, True)", "ok: (None, False, False)",
        "ok: (0, None)", "ok: 4", "ok: (0, None)", "ok: (0, 5)", "ok: (0, 1)", "ok: None",
    ]

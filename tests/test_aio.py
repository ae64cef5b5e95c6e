"""Channels and select from asyncio: send_async, recv_async, recv_ok_async,
async for, select_async, and cancellation.

Every test runs its own asyncio loop on a fresh thread (a foreign thread,
whatever earlier tests did to the main thread); the partners are goroutines
(on the background scheduler), plain threads, or other tasks. The
cancellation contract: cancelling the awaiting task withdraws its operation,
unless a partner had already completed it - then the await returns normally
(nothing lost or delivered twice) and the task is cancelled at its next
await; a task with no next await (the operation is its whole coroutine)
ends with the result. The races between a partner on another thread and the
cancellation are run many times with fast thread switching, and a stress
test checks that 5,000 values pass exactly once while tasks are cancelled
at random.
"""

from __future__ import annotations

import asyncio
import collections
import random
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

import goroutines
from goroutines import (
    Chan,
    ChannelClosedError,
    Mutex,
    _aio,
    go,
    recv,
    recv_ok,
    select_async,
    send,
)
from goroutines._runtime import sched as _sched

T = TypeVar("T")
LIMIT = 30.0


def arun(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """asyncio.run(fn(*args)) on a new thread; its result, or what it raised."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["result"] = asyncio.run(fn(*args))
        except BaseException as e:
            box["exc"] = e

    t = threading.Thread(target=body, name="test-loop", daemon=True)
    t.start()
    t.join(LIMIT)
    assert not t.is_alive(), "the asyncio test did not finish"
    if "exc" in box:
        raise box["exc"]
    return box["result"]  # type: ignore[no-any-return]


async def until(cond: Callable[[], bool], what: str) -> None:
    """Let the loop run until cond() holds (a state other tasks change)."""
    for _ in range(100_000):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"gave up waiting for {what}")


# ---------------------------------------------------------------------------
# Send and receive


@pytest.mark.parametrize("cap", [0, 1, 10])
def test_recv_async_gets_what_a_goroutine_sends(cap: int) -> None:
    async def amain() -> list[int | None]:
        c: Chan[int] = Chan(cap)
        go(lambda: [c.send(i) for i in range(100)])
        return [await c.recv_async() for _ in range(100)]

    assert arun(amain) == list(range(100))


@pytest.mark.parametrize("cap", [0, 1, 10])
def test_send_async_delivers_to_a_goroutine(cap: int) -> None:
    async def amain() -> list[int | None]:
        c: Chan[int] = Chan(cap)
        out: Chan[list[int | None]] = Chan(1)
        go(lambda: out.send([c.recv() for _ in range(100)]))
        for i in range(100):
            await c.send_async(i)
        got = await out.recv_async()
        assert got is not None
        return got

    assert arun(amain) == list(range(100))


def test_recv_ok_async_tells_a_sent_none_from_a_close() -> None:
    async def amain() -> list[tuple[object, bool]]:
        c: Chan[int | None] = Chan()
        go(lambda: (c.send(None), c.close()))
        return [await c.recv_ok_async(), await c.recv_ok_async(), await c.recv_ok_async()]

    assert arun(amain) == [(None, True), (None, False), (None, False)]


def test_async_for_receives_until_closed_and_drained() -> None:
    async def amain() -> list[int | None]:
        c: Chan[int | None] = Chan(3)
        go(lambda: ([c.send(v) for v in (1, None, 2, 3, 4)], c.close()))
        return [v async for v in c]

    assert arun(amain) == [1, None, 2, 3, 4]


def test_send_async_on_a_closed_channel_raises() -> None:
    async def amain() -> None:
        c: Chan[int] = Chan(1)
        c.close()
        with pytest.raises(ChannelClosedError, match="send on closed channel"):
            await c.send_async(1)

    arun(amain)


def test_close_wakes_blocked_tasks() -> None:
    async def amain() -> None:
        r: Chan[int] = Chan()
        s: Chan[int] = Chan()
        receiver = asyncio.create_task(r.recv_ok_async())
        sender = asyncio.create_task(s.send_async(1))
        await until(lambda: len(r._recvq) == 1 and len(s._sendq) == 1, "both to block")
        go(lambda: (r.close(), s.close()))
        assert await receiver == (None, False)
        with pytest.raises(ChannelClosedError, match="send on closed channel"):
            await sender

    arun(amain)


def test_directional_views_have_the_async_side_of_their_direction() -> None:
    async def amain() -> list[Any]:
        c: Chan[int] = Chan(4)
        tx, rx = c.send_only(), c.recv_only()
        assert not hasattr(tx, "recv_async") and not hasattr(rx, "send_async")
        await tx.send_async(1)
        await tx.send_async(2)
        await tx.send_async(3)
        tx.close()
        return [await rx.recv_async(), await rx.recv_ok_async(), [v async for v in rx]]

    assert arun(amain) == [1, (2, True), [3]]


def test_recv_async_from_a_timer_channel() -> None:
    async def amain() -> tuple[bool, int]:
        t = goroutines.Timer(0.01)
        assert t.c is not None
        v = await t.c.recv_async()
        assert t._ct is not None
        return isinstance(v, float), t._ct._blocked

    assert arun(amain) == (True, 0)


def test_tasks_of_one_loop_hand_over_without_call_soon_threadsafe() -> None:
    # A partner on the loop's own thread resolves the waiter's future
    # directly; call_soon_threadsafe (a pipe write) is for other threads.
    async def amain() -> tuple[list[int | None], int]:
        loop = asyncio.get_running_loop()
        calls = [0]
        original = loop.call_soon_threadsafe

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return original(*args, **kwargs)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        c: Chan[int] = Chan()

        async def producer() -> None:
            for i in range(200):
                await c.send_async(i)

        p = asyncio.create_task(producer())
        got = [await c.recv_async() for _ in range(200)]
        await p
        return got, calls[0]

    got, calls = arun(amain)
    assert got == list(range(200))
    assert calls == 0, f"{calls} call_soon_threadsafe calls between tasks of one loop"


def test_two_loops_on_two_threads_ping_pong() -> None:
    n = 500
    ping: Chan[int] = Chan()
    pong: Chan[int] = Chan()

    async def server() -> int:
        count = 0
        async for v in ping:
            await pong.send_async(v + 1)
            count += 1
        return count

    async def client() -> list[int | None]:
        got = []
        for i in range(n):
            await ping.send_async(i)
            got.append(await pong.recv_async())
        ping.close()
        return got

    box: list[int] = []
    t = threading.Thread(target=lambda: box.append(arun(server)))
    t.start()
    assert arun(client) == [i + 1 for i in range(n)]
    t.join(LIMIT)
    assert box == [n]


def test_a_plain_thread_and_a_task_exchange_values() -> None:
    n = 500
    to_task: Chan[int] = Chan()
    to_thread: Chan[int] = Chan()

    def thread() -> None:
        for i in range(n):
            to_task.send(i)
            v = to_thread.recv()
            assert v == -i, (v, i)

    t = threading.Thread(target=thread)

    async def amain() -> list[int | None]:
        # Started from the loop: had it parked before the loop's thread
        # existed, nothing could have woken it - a deadlock, rightly.
        t.start()
        got = []
        for _ in range(n):
            v = await to_task.recv_async()
            got.append(v)
            assert v is not None
            await to_thread.send_async(-v)
        return got

    assert arun(amain) == list(range(n))
    t.join(LIMIT)


# ---------------------------------------------------------------------------
# select_async


def test_select_async_chooses_uniformly_among_ready_cases() -> None:
    # Port of the idea of runtime/chan_test.go TestSelectFairness: three
    # ready cases, 3000 selects; each must win about a third of them.
    async def amain() -> list[int]:
        chans: list[Chan[int]] = [Chan(3000) for _ in range(3)]
        for c in chans:
            for i in range(3000):
                c.try_send(i)
        counts = [0, 0, 0]
        for _ in range(3000):
            i, _v = await select_async(recv(chans[0]), recv(chans[1]), recv(chans[2]))
            counts[i] += 1
        return counts

    counts = arun(amain)
    assert all(800 < n < 1200 for n in counts), counts  # expected 1000, sd 26


def test_select_async_none_channels_are_never_ready() -> None:
    async def amain() -> list[tuple[int, Any]]:
        c: Chan[int] = Chan(1)
        c.try_send(5)
        return [
            await select_async(recv(None), recv(c), send(None, 1)),
            await select_async(recv(None), send(None, 1), default=True),
            await select_async(default=True),
        ]

    assert arun(amain) == [(1, 5), (-1, None), (-1, None)]


def test_select_async_with_no_cases_blocks_until_cancelled() -> None:
    async def amain() -> bool:
        task = asyncio.create_task(select_async())
        for _ in range(10):
            await asyncio.sleep(0)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return True

    assert arun(amain)


def test_select_async_blocks_until_a_goroutine_is_ready() -> None:
    async def amain() -> list[tuple[int, Any]]:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        out: Chan[str] = Chan()
        go(lambda: b.send("b"))
        first = await select_async(recv(a), recv_ok(b), send(Chan(), "never"))
        go(lambda: out.recv())
        second = await select_async(recv(a), send(out, "to out"))
        go(b.close)
        third = await select_async(recv(a), recv_ok(b))
        return [first, second, third]

    assert arun(amain) == [(1, ("b", True)), (1, None), (1, (None, False))]


def test_select_async_send_case_on_a_closed_channel_raises() -> None:
    async def amain() -> None:
        c: Chan[int] = Chan()
        c.close()
        with pytest.raises(ChannelClosedError):
            await select_async(recv(Chan()), send(c, 1))

    arun(amain)


def test_select_async_completes_exactly_one_case_when_partners_race(racy: None) -> None:
    # Two goroutines on another thread offer a value each to a blocked
    # select_async: one is taken, the other stays with its sender.
    async def amain() -> None:
        for n in range(300):
            a: Chan[str] = Chan()
            b: Chan[str] = Chan()
            task = asyncio.create_task(select_async(recv(a), recv(b)))
            await until(lambda a=a: len(a._recvq) == 1, "select to block")
            go(lambda a=a: a.send("a"))
            go(lambda b=b: b.send("b"))
            i, v = await task
            assert v == "ab"[i], (n, i, v)
            other = b if i == 0 else a
            assert await other.recv_async() == "ba"[i], n
            assert len(a._recvq) == len(b._recvq) == 0

    arun(amain)


# ---------------------------------------------------------------------------
# Cancellation: the operation had not completed - it is withdrawn


def test_cancelling_a_blocked_recv_withdraws_it() -> None:
    async def amain() -> None:
        c: Chan[int] = Chan()
        task = asyncio.create_task(c.recv_async())
        await until(lambda: len(c._recvq) == 1, "recv to block")
        task.cancel("stop")
        with pytest.raises(asyncio.CancelledError, match="stop"):
            await task
        assert len(c._recvq) == 0
        assert not c.try_send(1), "a cancelled receiver took a value"

    arun(amain)


def test_cancelling_a_blocked_send_withdraws_the_value() -> None:
    async def amain() -> None:
        c: Chan[int] = Chan()
        task = asyncio.create_task(c.send_async(1))
        await until(lambda: len(c._sendq) == 1, "send to block")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(c._sendq) == 0
        assert c.try_recv() == (None, False, False), "a cancelled send delivered its value"

    arun(amain)


def test_cancelling_a_blocked_select_withdraws_every_case() -> None:
    async def amain() -> None:
        a: Chan[int] = Chan()
        b: Chan[int] = Chan()
        t = goroutines.Timer(3600)
        assert t.c is not None
        task = asyncio.create_task(select_async(recv(a), send(b, 1), recv(t.c)))
        await until(lambda: len(a._recvq) == 1, "select to block")
        ct = t._ct
        assert ct is not None and ct._blocked == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (len(a._recvq), len(b._sendq), len(ct._c._recvq), ct._blocked) == (0, 0, 0, 0)
        assert not a.try_send(1) and b.try_recv()[2] is False
        t.stop()

    arun(amain)


def test_cancelling_a_blocked_timer_receive_takes_the_timer_off_the_heap() -> None:
    async def amain() -> tuple[int, bool]:
        t = goroutines.Timer(3600)
        assert t.c is not None
        ct = t._ct
        assert ct is not None
        task = asyncio.create_task(t.c.recv_async())
        await until(lambda: ct._blocked == 1, "recv to block")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ct._blocked, ct._rt.entry is None

    assert arun(amain) == (0, True)


def test_closing_a_blocked_coroutine_withdraws_its_waiter() -> None:
    # coroutine.close() (what garbage-collecting an abandoned task does)
    # throws GeneratorExit at the await: the waiter must leave the queue.
    async def amain() -> None:
        c: Chan[int] = Chan()
        coro = c.recv_async()
        coro.send(None)  # runs to the await of the waiter's future
        assert len(c._recvq) == 1
        coro.close()
        assert len(c._recvq) == 0
        assert not c.try_send(1)

    arun(amain)


def test_a_generic_primitive_through_call_can_be_cancelled() -> None:
    # _aio.call runs any blocking runtime operation for a task: a Mutex here.
    async def amain() -> list[str]:
        mu = Mutex()
        mu.lock()
        log: list[str] = []

        async def locker(name: str) -> None:
            await _aio.call(mu.lock)
            log.append(name)
            mu.unlock()

        first = asyncio.create_task(locker("cancelled"))
        await asyncio.sleep(0)
        second = asyncio.create_task(locker("second"))
        await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        go(mu.unlock)
        await second
        return log

    assert arun(amain) == ["second"]


# ---------------------------------------------------------------------------
# Cancellation: the operation had completed - it returns, the task is
# cancelled at its next await


def completed_then_cancelled(op: str, partner_first: bool) -> list[Any]:
    """A task blocks in op; a partner on the loop's thread completes it and
    the task is cancelled before it runs again (in either order). The log
    shows what the task saw."""

    async def amain() -> list[Any]:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        log: list[Any] = []

        async def task_body() -> None:
            if op == "recv":
                log.append(("result", await a.recv_async()))
            elif op == "send":
                await a.send_async("sent")
                log.append(("result", "send returned"))
            else:
                log.append(("result", await select_async(recv(a), recv(b))))
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError as e:
                task = asyncio.current_task()
                assert task is not None
                log.append(("cancelled at the next await", e.args, task.cancelling()))
                raise
            log.append("not cancelled")

        task = asyncio.create_task(task_body())
        await until(lambda: len(a._recvq) + len(a._sendq) == 1, "the task to block")

        def complete() -> None:
            if op == "recv":
                assert a.try_send("value")
            elif op == "send":
                log.append(("partner got", a.try_recv()))
            else:
                assert b.try_send("via b")

        if partner_first:
            complete()
            task.cancel("late")
        else:
            task.cancel("late")
            complete()  # the task has not processed its cancellation yet
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(a._recvq) + len(a._sendq) + len(b._recvq) == 0
        return log

    return arun(amain)


@pytest.mark.parametrize("partner_first", [True, False], ids=["partner-first", "cancel-first"])
def test_a_completed_recv_returns_its_value_and_the_task_is_cancelled_after(
    partner_first: bool,
) -> None:
    assert completed_then_cancelled("recv", partner_first) == [
        ("result", "value"),
        ("cancelled at the next await", ("late",), 1),
    ]


@pytest.mark.parametrize("partner_first", [True, False], ids=["partner-first", "cancel-first"])
def test_a_completed_send_returns_and_the_task_is_cancelled_after(partner_first: bool) -> None:
    assert completed_then_cancelled("send", partner_first) == [
        ("partner got", ("sent", True, True)),
        ("result", "send returned"),
        ("cancelled at the next await", ("late",), 1),
    ]


@pytest.mark.parametrize("partner_first", [True, False], ids=["partner-first", "cancel-first"])
def test_a_completed_select_returns_its_case_and_the_task_is_cancelled_after(
    partner_first: bool,
) -> None:
    assert completed_then_cancelled("select", partner_first) == [
        ("result", (1, "via b")),
        ("cancelled at the next await", ("late",), 1),
    ]


def test_the_redelivered_cancellation_keeps_the_request_count() -> None:
    # asyncio.timeout and TaskGroup count cancel() requests with
    # cancelling()/uncancel(): re-delivery must not add one.
    async def amain() -> tuple[int, int]:
        c: Chan[int] = Chan()

        async def body() -> tuple[int, int]:
            await c.recv_async()
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                assert task is not None
                return task.cancelling(), task.uncancel()
            return -1, -1

        task = asyncio.create_task(body())
        await until(lambda: len(c._recvq) == 1, "recv to block")
        assert c.try_send(1)
        task.cancel()
        return await task

    assert arun(amain) == (1, 0)


def test_a_completed_receive_inside_asyncio_timeout_still_times_out() -> None:
    # The timeout cancels the task just as a partner completes the receive:
    # the value is returned, and the timeout still fires at the next await.
    async def amain() -> list[str]:
        c: Chan[str] = Chan()
        log: list[str] = []
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(None) as cm:

                def expire_and_complete() -> None:
                    cm.reschedule(loop.time())  # the timeout's cancel() comes first...
                    loop.call_soon(lambda: c.try_send("value"))  # ...then the partner

                loop.call_soon(expire_and_complete)
                log.append(f"got {await c.recv_async()}")
                await asyncio.sleep(3600)
        except TimeoutError:
            log.append("timed out")
        return log

    assert arun(amain) == ["got value", "timed out"]


# The operation is the task's whole coroutine (or the last thing it awaits):
# there is no next await, so a cancellation that comes after the operation
# completed came too late and the task ends with the result.

WHOLE_OPS = ["recv", "recv_ok", "send", "select-recv", "select-send"]
WHOLE_RESULTS: dict[str, Any] = {
    "recv": "value",
    "recv_ok": ("value", True),
    "send": None,
    "select-recv": (0, "value"),
    "select-send": (1, None),
}


def whole_op(op: str, a: Chan[str], b: Chan[str]) -> Coroutine[Any, Any, Any]:
    """The coroutine of op on a (b is never ready)."""
    if op == "recv":
        return a.recv_async()
    if op == "recv_ok":
        return a.recv_ok_async()
    if op == "send":
        return a.send_async("sent")
    if op == "select-recv":
        return select_async(recv(a), recv(b))
    return select_async(recv(b), send(a, "sent"))


async def complete_whole_op(op: str, a: Chan[str]) -> None:
    """The partner's side of op, from a task of the loop: it completes at once
    (the fast path: the op's waiter is queued), without suspending."""
    if op in ("send", "select-send"):
        assert await a.recv_ok_async() == ("sent", True)
    else:
        await a.send_async("value")


@pytest.mark.parametrize("partner_first", [True, False], ids=["partner-first", "cancel-first"])
@pytest.mark.parametrize("op", WHOLE_OPS)
def test_a_task_that_is_a_completed_operation_ends_with_its_result(
    op: str, partner_first: bool
) -> None:
    # create_task(ch.recv_async()); the value is handed over; t.cancel():
    # the task returns the value (it used to end cancelled, the value gone),
    # and a delivered send is not reported as cancelled (a retry would send
    # it twice).
    async def amain() -> tuple[Any, int]:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        task = asyncio.create_task(whole_op(op, a, b))
        await until(lambda: len(a._recvq) + len(a._sendq) == 1, "the task to block")
        if partner_first:
            await complete_whole_op(op, a)
            task.cancel("late")
        else:
            task.cancel("late")
            await complete_whole_op(op, a)  # the task has not seen its cancellation yet
        result = await task
        assert not task.cancelled()
        assert len(a._recvq) + len(a._sendq) + len(b._recvq) + len(b._sendq) == 0
        assert a.try_recv()[2] is False, "the value was also left in the channel"
        return result, task.cancelling()

    assert arun(amain) == (WHOLE_RESULTS[op], 0)


def test_a_task_that_returns_a_completed_receive_ends_with_the_value() -> None:
    # Not the whole coroutine, but the last thing it awaits: no next await.
    async def amain() -> tuple[int | None, int]:
        c: Chan[int] = Chan()

        async def get() -> int | None:
            return await c.recv_async()

        task = asyncio.create_task(get())
        await until(lambda: len(c._recvq) == 1, "recv to block")
        await c.send_async(42)
        task.cancel()
        return await task, len(c)

    assert arun(amain) == (42, 0)


def late_cancel_task_factory(complete: Callable[[], None], partner_first: bool) -> Any:
    """A task factory whose tasks run complete() just before or just after
    their first cancel(): wait_for's timeout and the partner then arrive
    together, in a known order."""

    class LateCancelTask(asyncio.Task):  # type: ignore[type-arg]
        armed = True

        def cancel(self, msg: Any = None) -> bool:
            armed, self.armed = self.armed, False
            if armed and partner_first:
                complete()
            cancelled = super().cancel(msg)
            if armed and not partner_first:
                complete()
            return cancelled

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        return LateCancelTask(coro, loop=loop, **kwargs)

    return factory


@pytest.mark.parametrize("partner_first", [True, False], ids=["partner-first", "cancel-first"])
@pytest.mark.parametrize("op", WHOLE_OPS)
def test_wait_for_returns_an_operation_that_completed_as_it_timed_out(
    op: str, partner_first: bool
) -> None:
    # wait_for runs the operation as a task and cancels it at the timeout;
    # the partner completes it just then: wait_for returns the result
    # (it used to raise TimeoutError, the value gone or the send delivered).
    async def amain() -> Any:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        partner: list[Any] = []

        def complete() -> None:
            assert len(a._recvq) + len(a._sendq) == 1, "the operation is not blocked"
            if op in ("send", "select-send"):
                partner.append(a.try_recv())
            else:
                assert a.try_send("value")

        async def with_timeout() -> Any:
            return await asyncio.wait_for(whole_op(op, a, b), 0.01)

        # 3.11's wait_for runs the operation in a task of its own and cancels
        # that; 3.12's cancels the task that calls it: both are made here.
        asyncio.get_running_loop().set_task_factory(
            late_cancel_task_factory(complete, partner_first)
        )
        result = await asyncio.create_task(with_timeout())
        assert partner in ([], [("sent", True, True)])
        assert len(a._recvq) + len(a._sendq) + len(b._recvq) + len(b._sendq) == 0
        return result

    assert arun(amain) == WHOLE_RESULTS[op]


def test_a_timeout_that_came_too_late_does_not_escape_its_block() -> None:
    # asyncio.timeout expires as a partner completes the receive, and the
    # block ends with no other await: the value is kept, the block ends
    # normally, and nothing cancels the task after it (before 3.13,
    # uncancel() does not clear a cancellation set again with cancel()).
    async def amain() -> list[str]:
        c: Chan[str] = Chan()
        log: list[str] = []
        loop = asyncio.get_running_loop()
        for _ in range(3):
            async with asyncio.timeout(None) as cm:

                def expire_and_complete(cm: asyncio.Timeout = cm) -> None:
                    cm.reschedule(loop.time())
                    loop.call_soon(lambda: c.try_send("value"))

                loop.call_soon(expire_and_complete)
                log.append(f"got {await c.recv_async()}")
            await asyncio.sleep(0)
            task = asyncio.current_task()
            assert task is not None
            log.append(f"after the block, cancelling() = {task.cancelling()}")
        return log

    assert arun(amain) == ["got value", "after the block, cancelling() = 0"] * 3


def test_a_late_cancellation_that_meets_another_completed_operation_waits_again() -> None:
    # The first receive completes as the task is cancelled; the cancellation
    # is handed back at the next await - a second receive, which a partner
    # completes just before: it too returns its value, and the cancellation
    # is raised at the await after it, with the request counted once.
    async def amain() -> list[Any]:
        c: Chan[int] = Chan()
        log: list[Any] = []
        loop = asyncio.get_running_loop()

        async def body() -> None:
            log.append(await c.recv_async())
            log.append(await c.recv_async())
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError as e:
                task = asyncio.current_task()
                assert task is not None
                log.append((e.args, task.cancelling()))
                raise

        task = asyncio.create_task(body())
        await until(lambda: len(c._recvq) == 1, "the first recv to block")
        task.cancel("late")
        await c.send_async(1)  # the task has not seen its cancellation yet
        # Runs after the task's step (which hands the cancellation back and
        # parks in the second recv) and before the hand-back.
        loop.call_soon(lambda: c.try_send(2))
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), 10)
        return log

    assert arun(amain) == [1, 2, (("late",), 1)]


def test_a_task_that_cancelled_itself_before_a_completed_receive_is_cancelled_after() -> None:
    # The task cancels itself, then blocks in a receive; the cancellation
    # reaches it only after a partner has completed the receive. The request
    # was made before the operation began, and is still raised at the next
    # await.
    async def amain() -> list[Any]:
        c: Chan[int] = Chan()
        log: list[Any] = []
        loop = asyncio.get_running_loop()

        async def body() -> None:
            task = asyncio.current_task()
            assert task is not None
            task.cancel("self")
            # Runs after the task parks and before its step that throws.
            loop.call_soon(lambda: c.try_send(1))
            log.append(await c.recv_async())
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError as e:
                log.append((e.args, task.cancelling()))
                raise

        task = asyncio.create_task(body())
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), 10)
        return log

    assert arun(amain) == [1, (("self",), 1)]


def test_a_late_cancellation_withdraws_an_operation_that_parks_again() -> None:
    # A Mutex lock woken to compete (normal mode) and beaten to the mutex by
    # a newcomer parks again: with a cancellation pending, that second park is
    # the task's next await, so the lock is withdrawn and the task cancelled.
    async def amain() -> list[Any]:
        mu = Mutex()
        mu.lock()
        task = asyncio.create_task(_aio.call(mu.lock))
        await until(lambda: len(mu._waitq) == 1, "lock to block")
        mu.unlock()  # wakes the task to compete
        task.cancel("late")
        assert mu.try_lock(), "the newcomer should win the mutex in normal mode"
        with pytest.raises(asyncio.CancelledError, match="late"):
            await task
        log: list[Any] = [len(mu._waitq), task.cancelling()]
        mu.unlock()
        log.append(mu.try_lock())
        return log

    assert arun(amain) == [0, 1, True]


# ---------------------------------------------------------------------------
# Cancellation racing a partner on another thread


def cancellation_race(op: str, partner: str, iterations: int, seed: int) -> dict[str, int]:
    """Each iteration: a task blocks in op; a partner on another thread (a
    plain thread or a goroutine of the background scheduler) completes the
    opposite operation while the loop cancels the task. Either the task got
    the operation's result (and was cancelled at its next await) or nothing
    happened and the partner is served by the loop afterwards: never both,
    never neither."""
    rng = random.Random(seed)
    spins = [(rng.randrange(200), rng.randrange(200)) for _ in range(iterations)]
    barrier = threading.Barrier(2, timeout=LIMIT)
    a: Chan[int] = Chan()
    b: Chan[int] = Chan()
    partner_got: list[int | None] = []
    partner_want: list[int] = []

    def partner_body() -> None:
        for i in range(iterations):
            barrier.wait()
            for _ in range(spins[i][1]):
                pass
            if op == "recv":
                a.send(i)
            elif op == "send":
                partner_got.append(a.recv())
            else:
                (a if i % 2 else b).send(i)

    async def amain() -> dict[str, int]:
        outcomes = {"completed": 0, "withdrawn": 0}
        if partner == "thread":
            t = threading.Thread(target=partner_body)
            t.start()
        else:
            done: Chan[None] = Chan(1)
            go(lambda: (partner_body(), done.send(None)))
        for i in range(iterations):
            got: list[Any] = []

            async def body(i: int = i, got: list[Any] = got) -> None:
                if op == "recv":
                    got.append(await a.recv_async())
                elif op == "send":
                    await a.send_async(i + 1)
                    got.append(i)
                else:
                    got.append((await select_async(recv(a), recv(b)))[1])
                await asyncio.sleep(0)
                got.append("not cancelled")

            task = asyncio.create_task(body())
            await until(lambda: len(a._recvq) + len(a._sendq) == 1, "the task to block")
            barrier.wait()
            for _ in range(spins[i][0]):
                pass
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert "not cancelled" not in got, f"seed {seed} iteration {i}: cancel lost"
            if got:
                assert got == [i], f"seed {seed} iteration {i}: the task got {got}"
                outcomes["completed"] += 1
                partner_want.append(i + 1)
            else:
                # Withdrawn: the partner's operation is still pending; serve it.
                outcomes["withdrawn"] += 1
                if op == "recv":
                    assert await a.recv_async() == i, f"seed {seed} iteration {i}"
                elif op == "send":
                    await a.send_async(-(i + 1))
                    partner_want.append(-(i + 1))
                else:
                    assert await (a if i % 2 else b).recv_async() == i, f"seed {seed}"
            assert len(a._recvq) + len(a._sendq) + len(b._recvq) == 0, f"seed {seed} {i}"
        if partner == "thread":
            t.join(LIMIT)
        else:
            await done.recv_async()
        if op == "send":
            assert partner_got == partner_want, f"seed {seed}: lost or duplicated sends"
        return outcomes

    return arun(amain)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("partner", ["thread", "goroutine"])
@pytest.mark.parametrize("op", ["recv", "send", "select"])
def test_cancellation_racing_a_partner_on_another_thread(
    op: str, partner: str, racy: None, short: bool
) -> None:
    iterations = 200 if short else 1500
    totals = {"completed": 0, "withdrawn": 0}
    for seed in (1, 2):
        outcomes = cancellation_race(op, partner, iterations, seed)
        for k, v in outcomes.items():
            totals[k] += v
    # Both outcomes must really have happened, or the race was not raced.
    assert totals["completed"] > 0 and totals["withdrawn"] > 0, totals


# ---------------------------------------------------------------------------
# Stress: values from another thread, tasks cancelled at random


class Canceller:
    """Tries an operation in one of five ways that can cancel it, and counts
    the outcomes: "completed", "withdrawn", and "late" (a cancellation or
    an asyncio.timeout that came after the operation had completed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.outcomes = {"completed": 0, "withdrawn": 0, "late": 0}

    async def cancel_soon(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run coro as a task and cancel it after 0-2 loop iterations."""
        task = asyncio.create_task(coro)
        for _ in range(self.rng.randrange(3)):
            await asyncio.sleep(0)
        pending = not task.done()
        task.cancel()
        result = await task
        if pending:
            self.outcomes["late"] += 1
        return result

    async def attempt(self, op: Callable[[], Coroutine[Any, Any, Any]]) -> tuple[bool, Any]:
        """One try at op: (completed, result)."""
        try:
            result = await self._attempt(op)
        except (asyncio.CancelledError, TimeoutError):
            self.outcomes["withdrawn"] += 1
            return False, None
        self.outcomes["completed"] += 1
        return True, result

    async def _attempt(self, op: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        rng = self.rng
        timeout = rng.choice([0.0, 1e-5, 1e-4, 1e-3])
        way = rng.randrange(5)
        if way == 0:
            return await self.cancel_soon(op())
        if way == 1:
            return await asyncio.wait_for(op(), timeout)
        if way == 2:
            async with asyncio.timeout(timeout) as cm:
                result = await op()
            if cm.expired():  # the timeout came too late
                self.outcomes["late"] += 1
            return result
        if way == 3:
            # wait_for on a task cancels the task at the timeout. If the task
            # had just finished, asyncio raises TimeoutError all the same
            # (its rule for an awaited future); the result is in the task.
            task = asyncio.create_task(op())
            try:
                return await asyncio.wait_for(task, timeout)
            except TimeoutError:
                if task.done() and not task.cancelled() and task.exception() is None:
                    return task.result()
                raise
        # A body with an await after the operation: a cancellation that
        # comes after the operation completed is raised there.
        box: list[Any] = []

        async def body() -> None:
            box.append(await op())
            await asyncio.sleep(3600)

        try:
            await self.cancel_soon(body())
        except asyncio.CancelledError:
            if box:
                return box[0]
            raise
        raise AssertionError("the task was not cancelled at its next await")


# Seeds of the cancellation stress tests: two in `make test`, more in `make test-slow`.
STRESS_SEEDS = [
    pytest.param((1, 2), id="seeds-1-2"),
    pytest.param(tuple(range(3, 11)), id="seeds-3-10", marks=pytest.mark.slow),
]


def add_outcomes(totals: dict[str, int], outcomes: dict[str, int]) -> None:
    for k, v in outcomes.items():
        totals[k] = totals.get(k, 0) + v


@pytest.mark.timeout(180)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("seeds", STRESS_SEEDS)
@pytest.mark.parametrize("cap", [0, 2])
@pytest.mark.parametrize("kind", ["recv", "select"])
def test_no_value_is_lost_or_received_twice_by_cancelled_tasks(
    kind: str, cap: int, racy: None, short: bool, seeds: tuple[int, ...]
) -> None:
    # A thread sends 1..n; the loop receives them with tasks cancelled at
    # random (cancel(), wait_for, asyncio.timeout, a task cancelled after its
    # receive). Every value is received exactly once.
    n = 1000 if short else 5000

    async def amain(seed: int) -> dict[str, int]:
        canceller = Canceller(seed)
        c: Chan[int] = Chan(cap)
        never: Chan[int] = Chan()

        def sender() -> None:
            for v in range(1, n + 1):
                c.send(v)
            c.close()

        async def select_recv_ok() -> tuple[int | None, bool]:
            i, result = await select_async(recv(never), recv_ok(c))
            assert i == 1
            return result  # type: ignore[no-any-return]

        def op() -> Coroutine[Any, Any, tuple[int | None, bool]]:
            return c.recv_ok_async() if kind == "recv" else select_recv_ok()

        t = threading.Thread(target=sender)
        t.start()
        got: list[int | None] = []
        while True:
            completed, result = await canceller.attempt(op)
            if completed:
                value, ok = result
                if not ok:
                    break
                got.append(value)
        t.join(LIMIT)
        counts = collections.Counter(got)
        lost = [v for v in range(1, n + 1) if v not in counts]
        twice = [v for v, k in counts.items() if k > 1]
        assert not lost and not twice, (
            f"seed {seed}: lost {len(lost)} {lost[:10]}, received twice {twice[:10]}"
        )
        assert sum(v for v in got if v is not None) == n * (n + 1) // 2
        assert len(c._recvq) + len(c._sendq) + len(never._recvq) == 0
        return canceller.outcomes

    totals: dict[str, int] = {}
    for seed in seeds:
        add_outcomes(totals, arun(amain, seed))
    # The cancellations raced: some withdrew a receive, and on an unbuffered
    # channel some came late (a buffered one has few: the thread sends ahead).
    assert totals["withdrawn"] > 0 and (short or cap > 0 or totals["late"] > 0), totals


@pytest.mark.timeout(180)
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("seeds", STRESS_SEEDS)
@pytest.mark.parametrize("cap", [0, 2])
@pytest.mark.parametrize("kind", ["send", "select"])
def test_no_send_is_lost_or_repeated_by_cancelled_tasks(
    kind: str, cap: int, racy: None, short: bool, seeds: tuple[int, ...]
) -> None:
    # The mirror: the loop sends 1..n, retrying each send until it is
    # reported done, with tasks cancelled at random; a thread receives. A
    # delivered send reported as cancelled would arrive twice; one reported
    # done but not delivered would be missing.
    n = 1000 if short else 5000

    async def amain(seed: int) -> dict[str, int]:
        canceller = Canceller(seed)
        c: Chan[int] = Chan(cap)
        never: Chan[int] = Chan()
        got: list[int] = []

        def receiver() -> None:
            got.extend(v for v in c if v is not None)

        def op(v: int) -> Coroutine[Any, Any, Any]:
            return c.send_async(v) if kind == "send" else select_async(recv(never), send(c, v))

        t = threading.Thread(target=receiver)
        t.start()
        for v in range(1, n + 1):
            while not (await canceller.attempt(lambda v=v: op(v)))[0]:
                pass
        c.close()
        t.join(LIMIT)
        want = list(range(1, n + 1))
        if got != want:
            first = next(
                (i for i, (x, y) in enumerate(zip(got, want, strict=False)) if x != y), len(got)
            )
            raise AssertionError(
                f"seed {seed}: received {len(got)} values for {n} sends, "
                f"first wrong at index {first}: {got[max(0, first - 2) : first + 3]}"
            )
        assert len(c._recvq) + len(c._sendq) + len(never._recvq) == 0
        return canceller.outcomes

    totals: dict[str, int] = {}
    for seed in seeds:
        add_outcomes(totals, arun(amain, seed))
    assert totals["withdrawn"] > 0 and (short or cap > 0 or totals["late"] > 0), totals


# ---------------------------------------------------------------------------
# The loop's thread and the runtime


def test_an_asyncio_thread_is_a_possible_waker_for_deadlock_detection() -> None:
    # main waits for a task; the task sends only once main's P has gone
    # idle, i.e. has checked for a deadlock while the loop thread was alive.
    def main() -> str | None:
        p = _sched.tls.p
        assert p is not None
        c: Chan[str] = Chan()

        async def amain() -> None:
            while True:
                with _sched._sched_lock:
                    if p.idle:
                        break
                await asyncio.sleep(0.001)
            await c.send_async("from the loop")

        t = threading.Thread(target=asyncio.run, args=(amain(),))
        t.start()
        v = c.recv()
        t.join(LIMIT)
        return v

    assert goroutines.run(main) == "from the loop"


def test_importing_goroutines_does_not_import_asyncio() -> None:
    import subprocess

    code = "import sys, goroutines; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out


MAIN_THREAD_AFTER_ASYNCIO_RUN = """
import asyncio
import sys
import threading

from goroutines import Chan, Deadlock, current, go, sleep


def who() -> str:
    try:
        return f"goroutine {current().id}"
    except RuntimeError as e:
        return str(e)


async def exchange(n: int, late: Chan[str] | None) -> list[object]:
    c: Chan[object] = Chan()
    go(lambda: [c.send(i) for i in range(n)])  # on the background scheduler
    got = [await c.recv_async() for _ in range(n)]
    t = threading.Thread(target=c.send, args=("from a thread",))
    t.start()
    got.append(await c.recv_async())
    t.join()
    if late is not None:
        # Outlives the loop: sends to the main thread once it is goroutine 1.
        go(lambda: (sleep(0.05), late.send("sent after the loop")))
    return got


def main_thread_script(order: str) -> None:
    late: Chan[str] = Chan()

    async def first() -> list[object]:
        got = await exchange(3, late)
        got.append(who())
        return got

    def go_and_recv() -> None:
        c: Chan[int] = Chan()
        go(c.send, 42)
        print("go, recv:", c.recv(), who())

    steps = {
        "current": lambda: print("after loop 1:", who()),
        "go": go_and_recv,
        "recv": lambda: print("late:", late.recv(), who()),
    }
    print("loop 1:", asyncio.run(first()))
    for step in order.split(","):  # the first one is the first use after the loop
        steps[step]()
    try:
        Chan().recv()
    except Deadlock as e:
        print("deadlock:", str(e).splitlines()[0], "goroutine 1 [chan receive]:" in str(e))
    print("loop 2:", asyncio.run(exchange(2, None)))
    c2: Chan[str] = Chan(1)
    go(c2.send, "again")
    print("after loop 2:", c2.recv(), who())


main_thread_script(sys.argv[1])
"""


@pytest.mark.parametrize("order", ["current,go,recv", "go,recv,current", "recv,current,go"])
def test_the_main_thread_becomes_goroutine_1_after_asyncio_run_returns(
    order: str, tmp_path: Any
) -> None:
    # The main thread first used the runtime from a running loop (a foreign
    # thread then); once asyncio.run() has returned, its next use - current(),
    # go() or a blocking receive - makes it goroutine 1, with go(), channels
    # and deadlock detection as in any script; a second asyncio.run() works
    # from goroutine 1's thread.
    import subprocess

    script = tmp_path / "after_asyncio_run.py"
    script.write_text(MAIN_THREAD_AFTER_ASYNCIO_RUN)
    proc = subprocess.run(
        [sys.executable, str(script), order], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    lines = {
        "current": "after loop 1: goroutine 1",
        "go": "go, recv: 42 goroutine 1",
        "recv": "late: sent after the loop goroutine 1",
    }
    assert proc.stdout.splitlines() == [
        "loop 1: [0, 1, 2, 'from a thread', "
        "'current(): called from a foreign thread, which is not a goroutine']",
        *(lines[step] for step in order.split(",")),
        "deadlock: all goroutines are asleep - deadlock! True",
        "loop 2: [0, 1, 'from a thread']",
        "after loop 2: again goroutine 1",
    ], proc.stderr


def test_select_async_default_must_be_a_bool() -> None:
    async def body() -> None:
        c: Chan[int] = Chan(1)
        with pytest.raises(TypeError, match="select: default must be a bool, got str"):
            await select_async(recv(c), default="yes")  # type: ignore[arg-type]

    arun(body)

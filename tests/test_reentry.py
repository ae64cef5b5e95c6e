"""Python code that runs in the middle of a runtime operation, on the same thread.

CPython runs a ``__del__`` wherever a collection starts (any allocation, or
the next check of the eval loop), and a signal handler or weakref callback at
any such point too: inside a channel operation, with the channel's lock held
by the very thread that runs it. If that code operates on the same channel,
a plain lock waits for itself forever, and deadlock detection cannot see it.
The rule: such an operation completes if it need not wait (a non-blocking one
finds the channel busy: not ready), else it raises RuntimeError saying why.

The deterministic tests get there through a test-only injection point that
the runtime already has: a stale waiter (its park token already won) in a
channel's queue. Dequeuers test-and-set its token with the lock held, and a
token that is not the runtime's lock type is asked in Python
(``token.acquire(False)``, on both paths), so a token of ours runs a
collection exactly there, which finalizes cyclic garbage whose ``__del__``
does the operation, as in the report. Every test runs on whichever path the
process is on (the Makefile runs the suite on both).
"""

from __future__ import annotations

import gc
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import goroutines._select as select_module
from goroutines import (
    Chan,
    Mutex,
    RWMutex,
    Semaphore,
    WaitGroup,
    go,
    gosched,
    recv,
    recv_ok,
    run,
    select,
    send,
)
from goroutines import context as gocontext
from goroutines._runtime.waiter import REENTERED, Waiter

# ---------------------------------------------------------------------------
# The injection point


class HookToken:
    """A park token already won - its waiter is stale - whose first test
    (``acquire(False)`` or ``locked()``) runs hook: code that runs with the
    lock of the queue it sits in held by this thread."""

    def __init__(self, hook: Callable[[], None]) -> None:
        self.hook: Callable[[], None] | None = hook

    def _fire(self) -> None:
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self._fire()
        return False

    def locked(self) -> bool:
        self._fire()
        return True


def stale_waiter(hook: Callable[[], None]) -> Waiter:
    return Waiter(HookToken(hook))


class Finalizable:
    """Cyclic garbage: only a collection frees it, and its ``__del__`` runs op,
    recording what op returned or raised."""

    def __init__(self, op: Callable[[], Any], out: list[tuple[str, Any]]) -> None:
        self.me = self
        self.op = op
        self.out = out

    def __del__(self) -> None:
        try:
            self.out.append(("returned", self.op()))
        except BaseException as e:
            self.out.append(("raised", e))


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    """Collections happen only where a test runs one."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def collect_running(op: Callable[[], Any], out: list[tuple[str, Any]]) -> Callable[[], None]:
    """A hook that collects garbage whose finalizer runs op."""
    Finalizable(op, out)  # unreachable at once, but a cycle: waits for a collection

    def hook() -> None:
        gc.collect()

    return hook


# What the finalizer does with the channel c whose lock its thread holds, and
# what must come of it: a non-blocking operation finds c busy (not ready); one
# that would have to wait raises RuntimeError(REENTERED).
INNER_OPS: dict[str, tuple[Callable[[Chan[int]], Any], Any]] = {
    "select-send-default": (lambda c: select(send(c, 7), default=True), (-1, None)),
    "select-recv-default": (lambda c: select(recv(c), recv_ok(c), default=True), (-1, None)),
    "try_send": (lambda c: c.try_send(7), False),
    "try_recv": (lambda c: c.try_recv(), (None, False, False)),
    "send": (lambda c: c.send(7), RuntimeError),
    "recv": (lambda c: c.recv(), RuntimeError),
    "recv_ok": (lambda c: c.recv_ok(), RuntimeError),
    "close": (lambda c: c.close(), RuntimeError),
    "select": (lambda c: select(send(c, 7), recv(c)), RuntimeError),
    "send_only-try_send": (lambda c: c.send_only().try_send(7), False),
}


def check_outcome(name: str, out: list[tuple[str, Any]]) -> None:
    assert len(out) == 1, f"{name}: the finalizer ran {len(out)} times: {out}"
    how, what = out[0]
    expected = INNER_OPS[name][1]
    if expected is RuntimeError:
        assert how == "raised", f"{name}: returned {what!r} instead of raising"
        assert type(what) is RuntimeError and str(what) == REENTERED, repr(what)
    else:
        assert (how, what) == ("returned", expected), f"{name}: {how} {what!r}"


def py_select() -> Callable[..., tuple[int, Any]]:
    """The Python select (the twin of the C one when the accelerator is on)."""
    s: Any = select_module.select
    return getattr(s, "__wrapped__", s)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------
# Deterministic: one collection at a chosen point of each operation


@pytest.mark.parametrize("inner", list(INNER_OPS))
def test_finalizer_during_send_on_the_same_channel_never_hangs(
    inner: str, no_automatic_gc: None
) -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        out: list[tuple[str, Any]] = []
        c._recvq.append(stale_waiter(collect_running(lambda: INNER_OPS[inner][0](c), out)))
        c.send(1)  # drops the stale receiver (the collection runs there), then buffers
        check_outcome(inner, out)
        assert c.recv_ok() == (1, True) and len(c) == 0 and not c._recvq and not c._sendq

    run(main)


@pytest.mark.parametrize("inner", list(INNER_OPS))
def test_finalizer_during_recv_on_the_same_channel_never_hangs(
    inner: str, no_automatic_gc: None
) -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(1)
        out: list[tuple[str, Any]] = []
        c._sendq.append(stale_waiter(collect_running(lambda: INNER_OPS[inner][0](c), out)))
        # Takes the buffered value, then looks for a sender to refill the
        # buffer from: the stale one (the collection runs there).
        assert c.recv() == 1
        check_outcome(inner, out)
        assert len(c) == 0 and not c._recvq and not c._sendq and not c.closed

    run(main)


@pytest.mark.parametrize("inner", list(INNER_OPS))
def test_finalizer_during_select_on_the_same_channel_never_hangs(
    inner: str, no_automatic_gc: None
) -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        other: Chan[int] = Chan()
        out: list[tuple[str, Any]] = []
        c._sendq.append(stale_waiter(collect_running(lambda: INNER_OPS[inner][0](c), out)))
        # Pass 1 sees a sender on c; taking it finds it stale (the collection
        # runs there, with both channels locked), and nothing else is ready.
        assert select(recv(c), send(other, 1), default=True) == (-1, None)
        check_outcome(inner, out)
        assert not c._recvq and not c._sendq and not other._recvq and not other._sendq

    run(main)


@pytest.mark.parametrize("inner", list(INNER_OPS))
def test_finalizer_during_select_dedupe_step_never_hangs(
    inner: str, no_automatic_gc: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report's case on the pure path: a collection started by the list
    # that select's dedupe step allocates, the channel named twice already
    # locked. The Python select runs here on both paths (it is the C one's
    # twin); the C select dedupes without running Python code.
    dedupe = select_module._dedupe
    hooks: list[Callable[[], None]] = []

    def dedupe_then_collect(chans: list[Chan[Any]]) -> list[Chan[Any]]:
        lockorder = dedupe(chans)
        while hooks:
            hooks.pop()()
        return lockorder

    monkeypatch.setattr(select_module, "_dedupe", dedupe_then_collect)

    def main() -> None:
        c: Chan[int] = Chan(1)
        out: list[tuple[str, Any]] = []
        hooks.append(collect_running(lambda: INNER_OPS[inner][0](c), out))
        i, _ = py_select()(recv(c), send(c, 5))
        assert i == 1 and c.recv() == 5
        check_outcome(inner, out)

    run(main)


@pytest.mark.parametrize("inner", list(INNER_OPS))
def test_finalizer_during_select_on_a_channel_named_twice_never_hangs(
    inner: str, no_automatic_gc: None
) -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        out: list[tuple[str, Any]] = []
        c._sendq.append(stale_waiter(collect_running(lambda: INNER_OPS[inner][0](c), out)))
        assert select(recv(c), recv_ok(c), send(c, 1), default=True) == (-1, None)
        check_outcome(inner, out)

    run(main)


def test_busy_channel_cases_count_as_not_ready_and_others_still_run(
    no_automatic_gc: None,
) -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        ready: Chan[int] = Chan(1)
        out: list[tuple[str, Any]] = []
        # A blocking select that need not wait completes: its other case is ready.
        c._sendq.append(
            stale_waiter(collect_running(lambda: select(send(c, 1), send(ready, 2)), out))
        )
        assert c.try_recv() == (None, False, False)
        assert out == [("returned", (1, None))] and ready.recv() == 2
        # A case on a None channel and a busy one: nothing can proceed.
        out.clear()
        c._sendq.append(stale_waiter(collect_running(lambda: select(recv(None), recv(c)), out)))
        assert c.try_recv() == (None, False, False)
        assert out[0][0] == "raised" and str(out[0][1]) == REENTERED

    run(main)


def test_finalizer_on_a_thread_without_a_goroutine_never_hangs(no_automatic_gc: None) -> None:
    # A plain thread (no P): the operations take their foreign paths.
    c: Chan[int] = Chan(1)
    out: list[tuple[str, Any]] = []
    done: list[BaseException | None] = []

    def thread() -> None:
        try:
            c._recvq.append(stale_waiter(collect_running(lambda: c.send(2), out)))
            c.send(1)
            c._sendq.append(
                stale_waiter(collect_running(lambda: select(send(c, 3), default=True), out))
            )
            assert c.recv() == 1
            done.append(None)
        except BaseException as e:
            done.append(e)

    t = threading.Thread(target=thread)
    t.start()
    t.join(30)
    assert not t.is_alive(), "the thread hung"
    assert done == [None], done
    assert out[0][0] == "raised" and str(out[0][1]) == REENTERED
    assert out[1] == ("returned", (-1, None))


def test_finalizer_using_a_mutex_inside_its_unlock_never_hangs(no_automatic_gc: None) -> None:
    def main() -> None:
        mu = Mutex()
        rw = RWMutex()
        out: list[tuple[str, Any]] = []
        mu.lock()
        mu._waitq.append(
            stale_waiter(
                collect_running(
                    lambda: (mu.try_lock(), _raises(mu.lock), _raises(mu.unlock)), out
                )
            )
        )
        mu.unlock()
        assert out == [("returned", (False, REENTERED, REENTERED))]
        assert mu.try_lock()
        mu.unlock()
        # RWMutex: its writer mutex busy, then its own lock.
        out.clear()
        rw.lock()
        rw._w._waitq.append(
            stale_waiter(collect_running(lambda: (rw.try_lock(), rw.try_rlock()), out))
        )
        rw.unlock()
        assert out == [("returned", (False, True))]
        rw.runlock()

    run(main)


def _raises(fn: Callable[[], Any]) -> str | None:
    try:
        fn()
    except RuntimeError as e:
        return str(e)
    return None


def test_finalizer_using_a_semaphore_inside_its_release_never_hangs(
    no_automatic_gc: None,
) -> None:
    def main() -> None:
        s = Semaphore(2)
        out: list[tuple[str, Any]] = []
        s.acquire(gocontext.background(), 2)
        s._waiters.append(
            stale_waiter(
                collect_running(
                    lambda: (
                        s.try_acquire(1),
                        _raises(lambda: s.acquire(gocontext.background(), 1)),
                        _raises(lambda: s.release(1)),
                    ),
                    out,
                )
            )
        )
        s.release(2)
        assert out == [("returned", (False, REENTERED, REENTERED))]
        assert s.try_acquire(2)

    run(main)


def test_finalizer_cancelling_the_context_being_cancelled_never_hangs(
    no_automatic_gc: None,
) -> None:
    def main() -> None:
        ctx, cancel = gocontext.with_cancel(gocontext.background())
        done = ctx.done()
        out: list[tuple[str, Any]] = []
        # Cancelling closes done() with the context's lock held; close tests
        # the stale receiver's token there.
        done._recvq.append(stale_waiter(collect_running(lambda: _raises(cancel), out)))
        cancel()
        assert out == [("returned", REENTERED)]
        assert isinstance(ctx.err(), gocontext.Canceled)

    run(main)


def test_blocking_acquire_by_the_holder_raises_and_try_acquire_fails() -> None:
    # The lock of every channel and primitive, on this path.
    c: Chan[int] = Chan()
    lock = c._lock
    assert lock.acquire()
    try:
        assert lock._is_owned() and lock.locked()
        assert lock.acquire(False) is False
        for acquire in (lock.acquire, lambda: lock.acquire(True), lock.__enter__):
            with pytest.raises(RuntimeError) as e:
                acquire()
            assert str(e.value) == REENTERED
        # With a timeout it times out, as a plain lock's would.
        t0 = time.monotonic()
        assert lock.acquire(True, 0.05) is False
        assert time.monotonic() - t0 >= 0.04
        assert lock.acquire(True, 0) is False
        # Another thread just waits, as for any held lock.
        got: list[bool] = []
        t = threading.Thread(target=lambda: got.append(lock.acquire(True, 0.01)))
        t.start()
        t.join()
        assert got == [False]
    finally:
        lock.release()
    assert not lock._is_owned() and not lock.locked()
    assert lock.acquire(False)
    lock.release()


# ---------------------------------------------------------------------------
# The loop: collections wherever the interpreter starts them


@pytest.mark.timeout(120)
def test_finalizers_operating_on_busy_channels_stress(short: bool) -> None:
    # Goroutines exchange numbered values through a small buffer and an
    # unbuffered channel while making cyclic garbage; with the collector's
    # threshold at its lowest, collections start at allocations all over the
    # runtime's code, inside channel operations included (on the pure path at
    # any point; on the C one where it calls back into Python). Each
    # finalizer tries to slip a -1 into a channel and an item out of it.
    # Nothing may hang, and every value must be accounted for.
    n = 5_000 if short else 40_000
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    buffered: Chan[int] = Chan(3)
    rendezvous: Chan[int] = Chan()
    stats = {"sent": 0, "busy": 0, "taken": 0, "took": []}

    class Garbage:
        def __init__(self, c: Chan[int]) -> None:
            self.me = self
            self.c = c

        def __del__(self) -> None:
            c = self.c
            if c.closed:
                return
            if getattr(c._lock, "_is_owned", bool)():
                stats["busy"] += 1  # type: ignore[operator]
            i, _ = select(send(c, -1), default=True)
            if i == 0:
                stats["sent"] += 1  # type: ignore[operator]
            value, _ok, received = c.try_recv()
            if received:
                stats["taken"] += 1  # type: ignore[operator]
                stats["took"].append(value)  # type: ignore[attr-defined]

    def producer(c: Chan[int]) -> None:
        for i in range(n):
            if rng.random() < 0.5:
                Garbage(c)
            c.send(i)
        c.close()

    def consume(c: Chan[int]) -> list[int]:
        got = []
        while True:
            if rng.random() < 0.5:
                v, ok = c.recv_ok()
            else:
                _, (v, ok) = select(recv_ok(c), recv(None))
            if not ok:
                return got
            if rng.random() < 0.5:
                Garbage(c)
            got.append(v)

    def sender(c: Chan[int], quit: Chan[None], wg: WaitGroup, i: int) -> None:
        Garbage(c)
        select(send(c, i), recv(quit))
        wg.done()

    def fan_in() -> tuple[Chan[int], list[int]]:
        # Many selects parked at once: past the pool of spare waiters, pass 2
        # makes new ones with the channels locked (the C select calls the
        # Python class there, a point where a collection can start).
        c: Chan[int] = Chan()
        quit: Chan[None] = Chan()
        got: list[int] = []
        for base in range(0, n, 200):
            # Where a collection starts moves with the collector's threshold.
            gc.set_threshold(rng.randint(1, 40), 50, 1000)
            wg = WaitGroup()
            for i in range(base, min(base + 200, n)):
                wg.add(1)
                go(sender, c, quit, wg, i)
            gosched()  # they run, find no receiver and park
            all_sent: Chan[None] = Chan()
            go(lambda wg=wg, all_sent=all_sent: (wg.wait(), all_sent.close()))
            while True:
                i, v = select(recv_ok(c), recv(all_sent))
                if i == 1:
                    break
                got.append(v[0])
        gc.set_threshold(1, 50, 1000)
        return c, got

    def check(c: Chan[int], got: list[int], ordered: bool) -> None:
        real = [v for v in got if v >= 0]
        taken = [v for v in stats["took"] if v >= 0]  # type: ignore[attr-defined]
        assert sorted(real + taken) == list(range(n)), f"seed {seed}: values lost or repeated"
        assert not ordered or real == sorted(real), f"seed {seed}: out of order"
        minus = got.count(-1) + stats["took"].count(-1)  # type: ignore[attr-defined]
        assert minus == stats["sent"], f"seed {seed}: {minus} -1s for {stats['sent']} sent"

    def main() -> None:
        for c in (buffered, rendezvous):
            stats.update(sent=0, taken=0, took=[])
            go(producer, c)
            check(c, consume(c), True)
        stats.update(sent=0, taken=0, took=[])
        c, got = fan_in()
        check(c, got, False)

    old = gc.get_threshold()
    gc.set_threshold(1, 50, 1000)
    try:
        run(main)
    finally:
        gc.set_threshold(*old)
        gc.collect()
    print(f"seed {seed}: {stats['busy']} finalizers ran inside an operation on their channel")


def test_the_message_is_the_same_on_both_paths() -> None:
    from goroutines._runtime.accel import speedups

    if speedups is None:
        pytest.skip("the accelerator's copy of the message is checked on the C path")
    lock = speedups.Lock()
    lock.acquire()
    with pytest.raises(RuntimeError) as e:
        lock.acquire()
    assert str(e.value) == REENTERED


def test_go_from_a_finalizer_is_the_way_to_block() -> None:
    # What the message advises: a finalizer starts a goroutine, which blocks
    # as long as it needs to, once the interrupted operation has ended.
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(1)
        c._sendq.append(stale_waiter(lambda: go(c.send, 2) and None))
        assert c.recv() == 1
        assert c.recv() == 2

    run(main)



def test_an_after_func_timer_stopped_by_the_thread_inside_its_stop_raises() -> None:
    # The timer's own lock: held by this thread (as when a finalizer runs in
    # the middle of Stop), Stop and Reset raise instead of waiting forever.
    from goroutines import after_func

    t = after_func(3600, lambda: None)
    t._func_lock.acquire()
    try:
        with pytest.raises(RuntimeError, match="already inside an operation"):
            t.stop()
        with pytest.raises(RuntimeError, match="already inside an operation"):
            t.reset(1)
    finally:
        t._func_lock.release()
    assert t.stop() is True

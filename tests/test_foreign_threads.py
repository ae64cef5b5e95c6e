"""A plain thread counts as a possible waker once it uses the runtime, also
when nothing it does blocks (docs/api.md#deadlock-and-possible-wakers).

Each case: goroutine 1 prepares what a daemon thread will use, starts the
thread and parks on a channel. The thread uses the runtime only in ways that
do not block, waits until it is older than the grace a daemon thread that has
not used the runtime gets (made short here: deadlock.NEW_THREAD_GRACE), and only
then wakes goroutine 1. Before every non-blocking operation registered its
thread, goroutine 1 was told "all goroutines are asleep" meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pytest

import goroutines
from goroutines import (
    Chan,
    Cond,
    Mutex,
    Once,
    RWMutex,
    Semaphore,
    Ticker,
    Timer,
    WaitGroup,
    after,
    after_func,
    recv,
    select,
    send,
    tick,
)
from goroutines import context as gcontext
from goroutines._runtime import deadlock, sched
from goroutines._runtime.g import WAITING

GRACE = 0.05  # NEW_THREAD_GRACE for these tests


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadlock, "NEW_THREAD_GRACE", GRACE)


def _wait_until_main_parked_past_the_grace() -> None:
    """Return once goroutine 1 has been parked for several grace periods and
    deadlock checks (an idle P looks again every FOREIGN_POLL)."""
    deadline = time.monotonic() + 30
    while True:
        g1 = sched._main_g
        if g1 is not None and g1.state == WAITING:
            break
        if time.monotonic() > deadline:
            raise AssertionError("goroutine 1 never parked")
        time.sleep(0.001)
    time.sleep(4 * GRACE + 3 * sched.FOREIGN_POLL)


def _run_case(prepare: Callable[[], Callable[[], object]]) -> None:
    """goroutine 1: prepare() returns what the daemon thread does; the thread
    does it, waits past the grace, then sends on a buffered channel (no
    blocking either) to wake goroutine 1."""

    def main() -> str:
        op = prepare()
        wake: Chan[str] = Chan(1)
        errors: list[BaseException] = []

        def thread() -> None:
            try:
                op()
            except BaseException as e:  # shown by the assertion below
                errors.append(e)
            _wait_until_main_parked_past_the_grace()
            wake.send("woken")

        threading.Thread(target=thread, daemon=True).start()
        v = wake.recv()
        assert not errors, errors
        assert v is not None
        return v

    # A false "all goroutines are asleep" raises Deadlock out of run().
    assert goroutines.run(main) == "woken"


def _filled(n: int = 1) -> Chan[int]:
    c: Chan[int] = Chan(n)
    for i in range(n):
        c.send(i)
    return c


def _locked_mutex() -> Mutex:
    m = Mutex()
    m.lock()
    return m


def _rlocked() -> RWMutex:
    rw = RWMutex()
    rw.rlock()
    return rw


def _wlocked() -> RWMutex:
    rw = RWMutex()
    rw.lock()
    return rw


def _wg(n: int) -> WaitGroup:
    wg = WaitGroup()
    wg.add(n)
    return wg


def _held_semaphore() -> Semaphore:
    s = Semaphore(1)
    s.acquire(gcontext.background())
    return s


def _closed_filled() -> Chan[int]:
    c = _filled(2)
    c.close()
    return c


def _cancel_ctx() -> Callable[[], object]:
    _, cancel = gcontext.with_cancel(gcontext.background())
    return cancel


def _timer_stop_reset() -> object:
    t = Timer(10)
    t.stop()
    t.reset(10)
    return t.stop()


def _ticker_stop_reset() -> None:
    t = Ticker(10)
    t.stop()
    t.reset(10)
    t.stop()


# name -> prepare (runs in goroutine 1) returning the thread's operation.
CASES: dict[str, Callable[[], Callable[[], object]]] = {
    # channels
    "chan send (into the buffer)": lambda: (lambda c: lambda: c.send(1))(Chan[int](1)),
    "chan try_send": lambda: (lambda c: lambda: c.try_send(1))(Chan[int](1)),
    "chan try_send (full)": lambda: (lambda c: lambda: c.try_send(2))(_filled()),
    "chan recv": lambda: (lambda c: lambda: c.recv())(_filled()),
    "chan recv_ok": lambda: (lambda c: lambda: c.recv_ok())(_filled()),
    "chan try_recv": lambda: (lambda c: lambda: c.try_recv())(_filled()),
    "chan try_recv (empty)": lambda: (lambda c: lambda: c.try_recv())(Chan[int](1)),
    "chan recv (closed)": lambda: (lambda c: lambda: (c.close(), c.recv()))(Chan[int]()),
    "chan close": lambda: (lambda c: lambda: c.close())(Chan[int]()),
    "chan iteration": lambda: (lambda c: lambda: list(c))(_closed_filled()),
    "send-only view": lambda: (lambda c: lambda: c.send_only().send(1))(Chan[int](1)),
    "recv-only view": lambda: (lambda c: lambda: c.recv_only().recv())(_filled()),
    # select
    "select (ready recv)": lambda: (lambda c: lambda: select(recv(c)))(_filled()),
    "select (ready send)": lambda: (lambda c: lambda: select(send(c, 1)))(Chan[int](1)),
    "select with default": lambda: (lambda c: lambda: select(recv(c), default=True))(Chan[int]()),
    # sync
    "Mutex.unlock": lambda: (lambda m: lambda: m.unlock())(_locked_mutex()),
    "Mutex.try_lock": lambda: (lambda m: lambda: m.try_lock())(Mutex()),
    "RWMutex.try_rlock": lambda: (lambda rw: lambda: rw.try_rlock())(RWMutex()),
    "RWMutex.runlock": lambda: (lambda rw: lambda: rw.runlock())(_rlocked()),
    "RWMutex.try_lock": lambda: (lambda rw: lambda: rw.try_lock())(RWMutex()),
    "RWMutex.unlock": lambda: (lambda rw: lambda: rw.unlock())(_wlocked()),
    "WaitGroup.add(1)": lambda: (lambda wg: lambda: wg.add(1))(WaitGroup()),
    "WaitGroup.add(-1)": lambda: (lambda wg: lambda: wg.add(-1))(_wg(2)),
    "WaitGroup.done": lambda: (lambda wg: lambda: wg.done())(_wg(2)),
    "WaitGroup.done (to zero)": lambda: (lambda wg: lambda: wg.done())(_wg(1)),
    "Cond.signal": lambda: (lambda c: lambda: c.signal())(Cond(Mutex())),
    "Cond.broadcast": lambda: (lambda c: lambda: c.broadcast())(Cond(Mutex())),
    "Once.do": lambda: (lambda o: lambda: o.do(lambda: None))(Once()),
    "Semaphore.release": lambda: (lambda s: lambda: s.release())(_held_semaphore()),
    "Semaphore.try_acquire": lambda: (lambda s: lambda: s.try_acquire())(Semaphore(1)),
    # context
    "context cancel": lambda: _cancel_ctx(),
    "context cancel (made there)": lambda: lambda: _cancel_ctx()(),
    # time
    "after": lambda: lambda: after(10),
    "tick": lambda: lambda: tick(10),
    "Timer stop/reset": lambda: _timer_stop_reset,
    "Timer.stop (made by goroutine 1)": lambda: (lambda t: lambda: t.stop())(Timer(10)),
    "Timer.reset (made by goroutine 1)": lambda: (lambda t: lambda: (t.reset(10), t.stop()))(
        Timer(10)
    ),
    "Ticker stop/reset": lambda: _ticker_stop_reset,
    "Ticker.stop (made by goroutine 1)": lambda: (lambda t: lambda: t.stop())(Ticker(10)),
    "after_func then stop": lambda: lambda: after_func(10, lambda: None).stop(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_thread_that_used_the_runtime_without_blocking_is_a_possible_waker(
    name: str, short_grace: None
) -> None:
    _run_case(CASES[name])


def test_a_registered_thread_stays_a_waker_over_many_rounds(short_grace: None) -> None:
    # prod_example in-process: a producer that sends into a buffer, with
    # slow work between sends, feeds a receiver that keeps running dry.
    def main() -> list[int | None]:
        ch: Chan[int] = Chan(10)

        def producer() -> None:
            for i in range(4):
                ch.send(i)
                time.sleep(3 * GRACE)  # slow work: past the grace each time

        threading.Thread(target=producer, daemon=True).start()
        return [ch.recv() for _ in range(4)]

    assert goroutines.run(main) == [0, 1, 2, 3]


def test_a_thread_that_never_used_the_runtime_does_not_hide_a_deadlock(
    short_grace: None,
) -> None:
    # The other half of the rule: a daemon thread that only exists counts for
    # the grace, then the deadlock is reported.
    release = threading.Event()
    t = threading.Thread(target=release.wait, daemon=True)
    t.start()
    try:
        for _ in range(5):
            t0 = time.monotonic()
            with pytest.raises(goroutines.Deadlock):
                goroutines.run(lambda: Chan[int]().recv())
            assert time.monotonic() - t0 < 5
    finally:
        release.set()
        t.join()


def _run_script(code: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def test_a_slow_daemon_producer_on_a_buffered_channel_is_no_deadlock() -> None:
    # The reported program, with the real one-second grace: each send comes
    # 0.7 s after the last, so the thread is past its grace before the last.
    code = """
        import threading, time
        from goroutines import Chan, run
        def main():
            ch = Chan(10)
            def producer():
                for i in range(3):
                    time.sleep(0.7)   # slow work between sends
                    ch.send(i)
            threading.Thread(target=producer, daemon=True).start()
            print([ch.recv() for _ in range(3)])
        run(main)
    """
    proc = _run_script(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[0, 1, 2]\n"


def test_the_main_thread_using_the_runtime_without_blocking_stays_goroutine_1() -> None:
    # A non-blocking use on the main thread before run() does not make it a
    # foreign thread: run() still makes it goroutine 1, and a deadlock there
    # is still reported.
    code = """
        from goroutines import Chan, Deadlock, Mutex, current, run
        from goroutines._runtime import deadlock, sched
        c = Chan(1)
        c.send(1)
        c.try_recv()
        m = Mutex(); m.try_lock(); m.unlock()
        assert not sched.tls.foreign
        print(run(lambda: current().id))
        try:
            run(lambda: Chan().recv())
        except Deadlock:
            print("deadlock")
    """
    proc = _run_script(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1\ndeadlock\n"

"""Cond: wait/signal/broadcast, ticket order, signal stealing, reacquiring
the locker, interrupted waits, OS threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from _synctest import Thread, wait_blocked, wait_thread_blocked
from goroutines import (
    AtomicInt,
    Chan,
    Cond,
    Deadlock,
    Mutex,
    RWMutex,
    after,
    go,
    gosched,
    recv,
    run,
    select,
)

WAIT = "sync.Cond.Wait"


def _locked_wait(lock: Callable[[], None], unlock: Callable[[], None], c: Cond) -> None:
    """Wait on c once, holding its lock as a waiter must."""
    lock()
    c.wait()
    unlock()


# Port of sync/cond_test.go TestCondSignal.
def test_cond_signal() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        n = 2
        running: Chan[bool] = Chan(n)
        awake: Chan[bool] = Chan(n)

        def waiter() -> None:
            m.lock()
            running.send(True)
            c.wait()
            awake.send(True)
            m.unlock()

        for _ in range(n):
            go(waiter)
        for _ in range(n):
            running.recv()  # wait for everyone to run
        while n > 0:
            i, _ = select(recv(awake), default=True)
            assert i == -1, "goroutine not asleep"
            m.lock()
            c.signal()
            m.unlock()
            awake.recv()  # a Deadlock if no goroutine wakes up
            i, _ = select(recv(awake), default=True)
            assert i == -1, "too many goroutines awake"
            n -= 1
        c.signal()

    run(main)


# Port of sync/cond_test.go TestCondSignalGenerations.
def test_cond_signal_generations() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        n = 100
        running: Chan[bool] = Chan(n)
        awake: Chan[int] = Chan(n)

        def waiter(i: int) -> None:
            m.lock()
            running.send(True)
            c.wait()
            awake.send(i)
            m.unlock()

        for i in range(n):
            go(waiter, i)
            if i > 0:
                a = awake.recv()
                assert a == i - 1, f"wrong goroutine woke up: want {i - 1}, got {a}"
            running.recv()
            m.lock()
            c.signal()
            m.unlock()

    run(main)


# Port of sync/cond_test.go TestCondBroadcast.
def test_cond_broadcast() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        n = 100
        running: Chan[int] = Chan(n)
        awake: Chan[int] = Chan(n)
        exit_ = [False]

        def waiter(g: int) -> None:
            m.lock()
            while not exit_[0]:
                running.send(g)
                c.wait()
                awake.send(g)
            m.unlock()

        for i in range(n):
            go(waiter, i)
        for i in range(n):
            for _ in range(n):
                running.recv()  # a Deadlock unless n are running
            if i == n - 1:
                m.lock()
                exit_[0] = True
                m.unlock()
            i_, _ = select(recv(awake), default=True)
            assert i_ == -1, "goroutine not asleep"
            m.lock()
            c.broadcast()
            m.unlock()
            seen = [False] * n
            for _ in range(n):
                g = awake.recv()
                assert g is not None
                assert not seen[g], "goroutine woke up twice"
                seen[g] = True
        i_, _ = select(recv(running), default=True)
        assert i_ == -1, "goroutine did not exit"
        c.broadcast()

    run(main)


# Port of sync/cond_test.go TestRace.
def test_race() -> None:
    def main() -> None:
        x = [0]
        c = Cond(Mutex())
        done: Chan[bool] = Chan()

        def first() -> None:
            c.l.lock()
            x[0] = 1
            c.wait()
            assert x[0] == 2, "want 2"
            x[0] = 3
            c.signal()
            c.l.unlock()
            done.send(True)

        def second() -> None:
            c.l.lock()
            while True:
                if x[0] == 1:
                    x[0] = 2
                    c.signal()
                    break
                c.l.unlock()
                gosched()
                c.l.lock()
            c.l.unlock()
            done.send(True)

        def third() -> None:
            c.l.lock()
            while True:
                if x[0] == 2:
                    c.wait()
                    assert x[0] == 3, "want 3"
                    break
                if x[0] == 3:
                    break
                c.l.unlock()
                gosched()
                c.l.lock()
            c.l.unlock()
            done.send(True)

        go(first)
        go(second)
        go(third)
        for _ in range(3):
            done.recv()

    run(main)


# Port of sync/cond_test.go TestCondSignalStealing.
@pytest.mark.timeout(30)
def test_cond_signal_stealing(short: bool) -> None:
    def main() -> None:
        for _ in range(100 if short else 1000):
            m = Mutex()
            cond = Cond(m)
            ch: Chan[None] = Chan()

            def first_waiter(m: Mutex = m, cond: Cond = cond, ch: Chan[None] = ch) -> None:
                m.lock()
                ch.send(None)
                cond.wait()
                m.unlock()
                ch.send(None)

            go(first_waiter)
            ch.recv()
            m.lock()
            m.unlock()
            # The first waiter is in wait(): we synchronized with it, then took
            # and released the mutex it held. Now race a broadcast against a
            # second waiter: the second may or may not be woken; the first must.
            done = [False]

            def second_waiter(m: Mutex = m, cond: Cond = cond, done: list[bool] = done) -> None:
                m.lock()
                while not done[0]:
                    cond.wait()
                m.unlock()

            go(cond.broadcast)
            go(second_waiter)
            i, _ = select(recv(ch), recv(after(2)))
            assert i == 0, "first waiter didn't get broadcast"
            m.lock()
            done[0] = True
            m.unlock()
            cond.broadcast()

    run(main)


def test_signal_wakes_the_longest_waiter() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        order: list[int] = []
        gs = []

        def waiter(i: int) -> None:
            with m:
                c.wait()
                order.append(i)

        for i in range(5):
            gs.append(go(waiter, i))
            wait_blocked(gs[-1], WAIT)
        for k in range(5):
            c.signal()  # holding c.l is allowed, not required
            while len(order) <= k:
                gosched()
        assert order == [0, 1, 2, 3, 4]

    run(main)


def test_signal_and_broadcast_with_no_waiters_do_nothing() -> None:
    def main() -> None:
        c = Cond(Mutex())
        c.signal()
        c.broadcast()
        m = c.l
        assert isinstance(m, Mutex)
        m.lock()
        g = go(_locked_wait, m.lock, m.unlock, c)
        m.unlock()
        wait_blocked(g, WAIT)
        c.signal()
        while g.state != "dead":
            gosched()

    run(main)


def test_wait_reacquires_the_locker_before_returning() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        holding = AtomicInt()

        def waiter() -> None:
            m.lock()
            c.wait()
            assert not m.try_lock(), "wait returned without the lock"
            holding.add(1)
            m.unlock()

        g = go(waiter)
        wait_blocked(g, WAIT)
        m.lock()  # free while the waiter waits
        c.signal()
        gosched()
        assert holding.load() == 0, "woken, but the lock is ours"
        wait_blocked(g, "sync.Mutex.Lock")
        m.unlock()
        while holding.load() == 0:
            gosched()

    run(main)


def test_cond_with_an_rlocker() -> None:
    def main() -> None:
        rw = RWMutex()
        c = Cond(rw.rlocker())
        rw.rlock()
        g = go(_locked_wait, rw.rlock, rw.runlock, c)
        wait_blocked(g, WAIT)
        assert not rw.try_lock()  # we still hold our read lock
        rw.runlock()
        assert rw.try_lock()  # the waiter released its read lock
        rw.unlock()
        c.broadcast()
        while g.state != "dead":
            gosched()

    run(main)


def test_wait_without_holding_the_lock_raises_go_s_error() -> None:
    def main() -> None:
        c = Cond(Mutex())
        with pytest.raises(RuntimeError, match=r"^sync: unlock of unlocked mutex$"):
            c.wait()
        assert c._abandoned == {0}
        # The abandoned ticket does not swallow the next signal.
        m = c.l
        assert isinstance(m, Mutex)
        g = go(_locked_wait, m.lock, m.unlock, c)
        wait_blocked(g, WAIT)
        c.signal()
        while g.state != "dead":
            gosched()

    run(main)


def test_waiting_forever_is_a_deadlock_and_relocks() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        with m:
            with pytest.raises(Deadlock) as info:
                c.wait()
            assert "sync.Cond.Wait" in str(info.value)
            assert not m.try_lock(), "wait reacquired the lock before raising"
        assert not c._waitq
        # The interrupted waiter's ticket does not swallow a later signal.
        g = go(_locked_wait, m.lock, m.unlock, c)
        wait_blocked(g, WAIT)
        c.signal()
        while g.state != "dead":
            gosched()

    run(main)


def test_killed_waiter_passes_its_signal_on() -> None:
    m = Mutex()
    c = Cond(m)
    woke: list[str] = []

    def waiter(name: str) -> None:
        with m:
            c.wait()
            woke.append(name)

    def main() -> None:
        a = go(waiter, "a")
        wait_blocked(a, WAIT)
        b = go(waiter, "b")
        wait_blocked(b, WAIT)
        c.signal()  # for "a"; run() returns (killing "a") before it runs

    run(main)
    assert woke == []
    assert not m._locked

    def main2() -> None:
        # "b" was killed too; a new waiter gets the next signal.
        d = go(waiter, "d")
        wait_blocked(d, WAIT)
        c.signal()
        while not woke:
            gosched()
        assert woke == ["d"]

    run(main2)


def test_threads_wait_and_goroutines_signal() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        ready = [0]
        n = 4

        def consumer() -> int:
            with m:
                while ready[0] == 0:
                    c.wait()
                ready[0] -= 1
            return 1

        ts = [Thread(consumer) for _ in range(n)]
        for t in ts:
            wait_thread_blocked(t.thread, WAIT)
        for _ in range(n):
            with m:
                ready[0] += 1
                c.signal()
        assert sum(t.join() for t in ts) == n

    run(main)


def test_goroutine_waits_and_a_thread_broadcasts() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        flag = [False]
        woke = AtomicInt()

        def waiter() -> None:
            with m:
                while not flag[0]:
                    c.wait()
            woke.add(1)

        gs = [go(waiter) for _ in range(5)]
        for g in gs:
            wait_blocked(g, WAIT)
        started = threading.Event()

        def broadcaster() -> None:
            started.set()
            with m:
                flag[0] = True
                c.broadcast()

        t = Thread(broadcaster)
        t.join()
        while woke.load() < 5:
            gosched()

    run(main)

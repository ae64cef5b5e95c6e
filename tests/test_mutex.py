"""Mutex: mutual exclusion, Go's normal and starvation modes, misuse,
deadlock, abandonment, and use from plain OS threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from _synctest import Thread, fast_switching, wait_blocked, wait_thread_blocked
from goroutines import (
    Chan,
    Deadlock,
    GoroutinePanic,
    Mutex,
    RWMutex,
    WaitGroup,
    after,
    go,
    gosched,
    recv,
    run,
    select,
    sleep,
)
from goroutines._sync.mutex import STARVATION_THRESHOLD

LOCK = "sync.Mutex.Lock"


# Port of sync/mutex_test.go TestMutex.
def test_mutex() -> None:
    def hammer(m: Mutex, loops: int, cdone: Chan[bool]) -> None:
        for _ in range(loops):
            m.lock()
            m.unlock()
        cdone.send(True)

    def main() -> None:
        m = Mutex()
        c: Chan[bool] = Chan()
        for _ in range(10):
            go(hammer, m, 1000, c)
        for _ in range(10):
            c.recv()

    run(main)


def test_mutex_excludes_under_contention() -> None:
    def main() -> None:
        m = Mutex()
        wg = WaitGroup()
        inside = [0]
        total = [0]

        def worker() -> None:
            for _ in range(300):
                with m:
                    inside[0] += 1
                    assert inside[0] == 1, "two holders at once"
                    gosched()  # let others run (and queue) while held
                    total[0] += 1
                    inside[0] -= 1
                gosched()

        for _ in range(8):
            wg.go(worker)
        wg.wait()
        assert total[0] == 8 * 300

    run(main)


MISUSE: dict[str, Callable[[], None]] = {}


def _misuse(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(f: Callable[[], None]) -> Callable[[], None]:
        MISUSE[name] = f
        return f

    return register


@_misuse("Mutex.Unlock")
def _mutex_unlock() -> None:
    Mutex().unlock()


@_misuse("Mutex.Unlock2")
def _mutex_unlock2() -> None:
    mu = Mutex()
    mu.lock()
    mu.unlock()
    mu.unlock()


@_misuse("RWMutex.Unlock")
def _rw_unlock() -> None:
    RWMutex().unlock()


@_misuse("RWMutex.Unlock2")
def _rw_unlock2() -> None:
    mu = RWMutex()
    mu.rlock()
    mu.unlock()


@_misuse("RWMutex.Unlock3")
def _rw_unlock3() -> None:
    mu = RWMutex()
    mu.lock()
    mu.unlock()
    mu.unlock()


@_misuse("RWMutex.RUnlock")
def _rw_runlock() -> None:
    RWMutex().runlock()


@_misuse("RWMutex.RUnlock2")
def _rw_runlock2() -> None:
    mu = RWMutex()
    mu.lock()
    mu.runlock()


@_misuse("RWMutex.RUnlock3")
def _rw_runlock3() -> None:
    mu = RWMutex()
    mu.rlock()
    mu.runlock()
    mu.runlock()


EXPECTED = {
    "Mutex.Unlock": "sync: unlock of unlocked mutex",
    "Mutex.Unlock2": "sync: unlock of unlocked mutex",
    "RWMutex.Unlock": "sync: Unlock of unlocked RWMutex",
    "RWMutex.Unlock2": "sync: Unlock of unlocked RWMutex",
    "RWMutex.Unlock3": "sync: Unlock of unlocked RWMutex",
    "RWMutex.RUnlock": "sync: RUnlock of unlocked RWMutex",
    "RWMutex.RUnlock2": "sync: RUnlock of unlocked RWMutex",
    "RWMutex.RUnlock3": "sync: RUnlock of unlocked RWMutex",
}


# Port of sync/mutex_test.go TestMutexMisuse (Go's fatal error is our RuntimeError).
@pytest.mark.parametrize("name", list(MISUSE))
def test_mutex_misuse(name: str) -> None:
    def main() -> None:
        with pytest.raises(RuntimeError) as info:
            MISUSE[name]()
        assert str(info.value) == EXPECTED[name]
        assert type(info.value) is RuntimeError

    run(main)


def test_misuse_from_a_thread_raises_the_same() -> None:
    def main() -> None:
        for name in MISUSE:
            t = Thread(MISUSE[name])
            with pytest.raises(RuntimeError, match=EXPECTED[name]):
                t.join()

    run(main)


# Port of sync/mutex_test.go TestMutexFairness.
@pytest.mark.timeout(20)
def test_mutex_fairness() -> None:
    def main() -> None:
        mu = Mutex()
        stop: Chan[bool] = Chan()

        def hog() -> None:
            while True:
                mu.lock()
                sleep(100e-6)
                mu.unlock()
                i, _ = select(recv(stop), default=True)
                if i == 0:
                    return

        go(hog)
        done: Chan[bool] = Chan(1)

        def polite() -> None:
            for _ in range(10):
                sleep(100e-6)
                mu.lock()
                mu.unlock()
            done.send(True)

        go(polite)
        i, _ = select(recv(done), recv(after(10)))
        stop.close()
        assert i == 0, "can't acquire Mutex in 10 seconds"

    run(main)


def _starve(mu: Mutex, events: list[str]) -> Callable[[], None]:
    def waiter() -> None:
        mu.lock()
        events.append("waiter")
        mu.unlock()

    return waiter


def test_woken_waiter_competes_with_newcomers_in_normal_mode() -> None:
    def main() -> None:
        mu = Mutex()
        events: list[str] = []
        mu.lock()
        g = go(_starve(mu, events))
        wait_blocked(g, LOCK)
        mu.unlock()  # normal mode: wakes the waiter to compete...
        assert mu.try_lock(), "a newcomer may barge in normal mode"
        wait_blocked(g, LOCK)  # ...so it lost, and queued again
        assert events == []
        mu.unlock()
        while not events:
            gosched()
        assert events == ["waiter"]

    run(main)


def test_waiter_blocked_over_1ms_gets_direct_handoff() -> None:
    def main() -> None:
        for _ in range(5):
            mu = Mutex()
            events: list[str] = []
            mu.lock()
            g = go(_starve(mu, events))
            wait_blocked(g, LOCK)
            sleep(2 * STARVATION_THRESHOLD)
            mu.unlock()  # normal mode: woken to compete
            assert mu.try_lock()  # the owner barges in again
            wait_blocked(g, LOCK)  # the waiter lost after waiting > 1 ms...
            assert mu._starving  # ...and switched the mutex to starvation mode
            mu.unlock()  # hand-off: the mutex goes straight to the waiter
            assert not mu.try_lock(), "no barging in starvation mode"
            assert mu._locked
            assert not mu._starving, "the last waiter ends starvation mode"
            while not events:
                gosched()
            assert events == ["waiter"]
            assert mu.try_lock()
            mu.unlock()

    run(main)


def test_starvation_mode_ends_when_a_fresh_waiter_is_handed_the_mutex() -> None:
    def main() -> None:
        mu = Mutex()
        order: list[str] = []

        def locker(name: str) -> None:
            mu.lock()
            order.append(name)
            mu.unlock()

        mu.lock()
        old = go(locker, "old")
        wait_blocked(old, LOCK)
        sleep(2 * STARVATION_THRESHOLD)
        mu.unlock()
        mu.lock()  # barge
        wait_blocked(old, LOCK)
        assert mu._starving
        young = go(locker, "young")
        wait_blocked(young, LOCK)
        mu.unlock()  # hand-off to "old"; "young" still queued, so still starving
        assert mu._starving
        while len(order) < 2:
            gosched()
        # "old" handed off to "young", which waited under 1 ms (or was last):
        # back to normal mode.
        assert order == ["old", "young"]
        assert not mu._starving
        assert not mu._locked

    run(main)


def test_lock_blocks_until_unlocked_by_another_goroutine() -> None:
    def main() -> None:
        mu = Mutex()
        mu.lock()
        unlocked = Chan[bool]()

        def other() -> None:
            unlocked.send(True)
            mu.unlock()  # a Mutex is not tied to the goroutine that locked it

        go(other)
        unlocked.recv()
        mu.lock()
        mu.unlock()

    run(main)


def test_relocking_a_held_mutex_is_a_deadlock() -> None:
    def main() -> None:
        mu = Mutex()
        mu.lock()
        with pytest.raises(Deadlock) as info:
            mu.lock()
        assert str(info.value).startswith("all goroutines are asleep - deadlock!")
        assert "sync.Mutex.Lock" in str(info.value)
        assert not mu._waitq, "the interrupted waiter left the queue"
        mu.unlock()
        assert mu.try_lock()
        mu.unlock()

    run(main)


def test_try_lock() -> None:
    def main() -> None:
        mu = Mutex()
        assert mu.try_lock()
        assert not mu.try_lock()
        mu.unlock()
        assert mu.try_lock()
        mu.unlock()

    run(main)


def test_wait_reason_is_sync_mutex_lock() -> None:
    def main() -> None:
        mu = Mutex()
        mu.lock()
        g = go(mu.lock)
        wait_blocked(g, LOCK)
        assert g.wait_reason == "sync.Mutex.Lock"
        mu.unlock()
        while g.state != "dead":
            gosched()
        assert mu._locked

    run(main)


def test_waiters_are_served_in_fifo_order_when_nobody_barges() -> None:
    def main() -> None:
        mu = Mutex()
        order: list[int] = []
        mu.lock()
        gs = []
        for i in range(10):

            def f(i: int = i) -> None:
                mu.lock()
                order.append(i)
                mu.unlock()

            gs.append(go(f))
            wait_blocked(gs[-1], LOCK)
        mu.unlock()
        while len(order) < 10:
            gosched()
        assert order == list(range(10))

    run(main)


def test_panic_delivered_while_locking_leaves_no_waiter() -> None:
    def main() -> None:
        mu = Mutex()
        mu.lock()

        def boom() -> None:
            raise ValueError("boom")

        go(boom)
        with pytest.raises(GoroutinePanic) as info:
            mu.lock()
        assert isinstance(info.value.__cause__, ValueError)
        assert not mu._waitq
        mu.unlock()
        assert mu.try_lock()

    run(main)


def test_killed_waiter_that_was_woken_passes_the_wake_on() -> None:
    mu = Mutex()
    events: list[str] = []

    def main() -> None:
        mu.lock()
        g = go(_starve(mu, events))
        wait_blocked(g, LOCK)
        mu.unlock()  # g is woken to compete, and run() returns before it runs

    run(main)
    assert events == []
    assert not mu._woken
    assert not mu._locked
    assert not mu._waitq

    def main2() -> None:
        mu.lock()
        mu.unlock()

    run(main2)


def test_killed_waiter_that_was_handed_the_mutex_unlocks_it() -> None:
    mu = Mutex()
    events: list[str] = []

    def main() -> None:
        mu.lock()
        g = go(_starve(mu, events))
        wait_blocked(g, LOCK)
        sleep(2 * STARVATION_THRESHOLD)
        mu.unlock()
        mu.lock()
        wait_blocked(g, LOCK)
        assert mu._starving
        mu.unlock()  # handed to g, which run() kills before it runs

    run(main)
    assert events == []
    assert not mu._locked
    assert not mu._starving


def test_killed_queued_waiter_leaves_the_queue() -> None:
    mu = Mutex()

    def main() -> None:
        mu.lock()
        for _ in range(3):
            g = go(mu.lock)
        wait_blocked(g, LOCK)
        assert len(mu._waitq) == 3

    run(main)
    assert not mu._waitq
    assert mu._locked


def test_mutex_across_threads() -> None:
    def main() -> None:
        mu = Mutex()
        counter = [0]
        n = 5000

        def work() -> None:
            for _ in range(n):
                mu.lock()
                v = counter[0]
                counter[0] = v + 1
                mu.unlock()

        with fast_switching():
            threads = [Thread(work) for _ in range(4)]
            for t in threads:
                t.join()
        assert counter[0] == 4 * n

    run(main)


def test_thread_blocks_on_a_mutex_held_by_a_goroutine() -> None:
    def main() -> None:
        mu = Mutex()
        mu.lock()
        got = threading.Event()

        def thread_body() -> None:
            mu.lock()
            got.set()
            mu.unlock()

        t = Thread(thread_body)
        wait_thread_blocked(t.thread, LOCK)
        assert not got.is_set()
        mu.unlock()
        t.join()
        assert got.is_set()

    run(main)


def test_goroutines_and_threads_share_a_mutex() -> None:
    def main() -> None:
        mu = Mutex()
        counter = [0]
        inside = [0]
        n = 2000

        def work(yield_inside: bool) -> None:
            for _ in range(n):
                mu.lock()
                inside[0] += 1
                assert inside[0] == 1
                if yield_inside:
                    gosched()
                inside[0] -= 1
                counter[0] += 1
                mu.unlock()

        wg = WaitGroup()
        with fast_switching():
            threads = [Thread(work, False) for _ in range(3)]
            for _ in range(3):
                wg.go(work, True)
            wg.wait()
            for t in threads:
                t.join()
        assert counter[0] == 6 * n

    run(main)


def test_goroutine_waits_for_a_mutex_held_by_a_thread() -> None:
    def main() -> None:
        mu = Mutex()
        held = threading.Event()
        release = threading.Event()

        def holder() -> None:
            mu.lock()
            held.set()
            release.wait(10)
            mu.unlock()

        t = Thread(holder)
        assert held.wait(10)
        g = go(mu.lock)
        wait_blocked(g, LOCK)
        release.set()
        t.join()
        while g.state != "dead":
            sleep(0.0005)
        assert mu._locked
        mu.unlock()

    run(main)


def test_with_statement_unlocks_on_exception() -> None:
    def main() -> None:
        mu = Mutex()
        with pytest.raises(KeyError), mu:
            raise KeyError("x")
        assert mu.try_lock()

    run(main)

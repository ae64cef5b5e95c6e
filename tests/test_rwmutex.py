"""RWMutex: many readers or one writer, writer preference, RLocker, misuse
(see test_mutex.py for Go's misuse table), deadlock, threads."""

from __future__ import annotations

import threading

import pytest

from _synctest import Thread, fast_switching, wait_blocked, wait_thread_blocked
from goroutines import (
    AtomicInt,
    Chan,
    Deadlock,
    RWMutex,
    WaitGroup,
    go,
    gosched,
    recv,
    run,
    select,
)

RLOCK = "sync.RWMutex.RLock"
LOCK = "sync.RWMutex.Lock"


def _parallel_readers(num_readers: int) -> None:
    m = RWMutex()
    clocked: Chan[bool] = Chan()
    cunlock: Chan[bool] = Chan()
    cdone: Chan[bool] = Chan()

    def reader() -> None:
        m.rlock()
        clocked.send(True)
        cunlock.recv()
        m.runlock()
        cdone.send(True)

    for _ in range(num_readers):
        go(reader)
    for _ in range(num_readers):  # every rlock succeeds while the others hold theirs
        clocked.recv()
    for _ in range(num_readers):
        cunlock.send(True)
    for _ in range(num_readers):
        cdone.recv()


# Port of sync/rwmutex_test.go TestParallelReaders.
def test_parallel_readers() -> None:
    def main() -> None:
        for n in (1, 3, 4, 50):
            _parallel_readers(n)

    run(main)


def _hammer_rwmutex(num_readers: int, iterations: int) -> None:
    # activity: active readers + 10000 * active writers.
    activity = AtomicInt()
    rwm = RWMutex()
    cdone: Chan[bool] = Chan()

    def reader() -> None:
        for i in range(iterations):
            rwm.rlock()
            n = activity.add(1)
            assert 1 <= n < 10000, f"wlock({n})"
            if i % 3 == 0:
                gosched()
            activity.add(-1)
            rwm.runlock()
        cdone.send(True)

    def writer() -> None:
        for i in range(iterations):
            rwm.lock()
            n = activity.add(10000)
            assert n == 10000, f"wlock({n})"
            if i % 2 == 0:
                gosched()
            activity.add(-10000)
            rwm.unlock()
        cdone.send(True)

    go(writer)
    i = 0
    while i < num_readers // 2:
        go(reader)
        i += 1
    go(writer)
    while i < num_readers:
        go(reader)
        i += 1
    for _ in range(2 + num_readers):
        cdone.recv()


# Port of sync/rwmutex_test.go TestRWMutex.
@pytest.mark.timeout(30)
def test_rw_mutex(short: bool) -> None:
    n = 20 if short else 200

    def main() -> None:
        for readers in (1, 3, 10, 5):
            _hammer_rwmutex(readers, n)

    run(main)


# Port of sync/rwmutex_test.go TestRLocker.
def test_r_locker() -> None:
    def main() -> None:
        wl = RWMutex()
        rl = wl.rlocker()
        wlocked: Chan[bool] = Chan(1)
        rlocked: Chan[bool] = Chan(1)
        n = 10

        def locker() -> None:
            for _ in range(n):
                rl.lock()
                rl.lock()
                rlocked.send(True)
                wl.lock()
                wlocked.send(True)

        go(locker)
        for _ in range(n):
            rlocked.recv()
            rl.unlock()
            i, _ = select(recv(wlocked), default=True)
            assert i == -1, "rlocker() didn't read-lock it"
            rl.unlock()
            wlocked.recv()
            i, _ = select(recv(rlocked), default=True)
            assert i == -1, "rlocker() didn't respect the write lock"
            wl.unlock()

    run(main)


def test_blocked_writer_holds_off_new_readers() -> None:
    def main() -> None:
        rw = RWMutex()
        order: list[str] = []
        rw.rlock()

        def writer() -> None:
            rw.lock()
            order.append("writer")
            rw.unlock()

        def reader() -> None:
            rw.rlock()
            order.append("reader")
            rw.runlock()

        w = go(writer)
        wait_blocked(w, LOCK)
        assert not rw.try_rlock(), "a pending writer must hold off new readers"
        r = go(reader)
        wait_blocked(r, RLOCK)
        rw.runlock()  # the last reader out lets the writer in
        while len(order) < 2:
            gosched()
        assert order == ["writer", "reader"]

    run(main)


def test_readers_queued_behind_a_writer_go_before_the_next_writer() -> None:
    def main() -> None:
        rw = RWMutex()
        order: list[str] = []
        rw.lock()

        def reader(i: int) -> None:
            rw.rlock()
            order.append(f"r{i}")
            gosched()
            rw.runlock()

        def writer() -> None:
            rw.lock()
            order.append("w2")
            rw.unlock()

        readers = [go(reader, i) for i in range(3)]
        for r in readers:
            wait_blocked(r, RLOCK)
        w2 = go(writer)
        wait_blocked(w2, LOCK)
        rw.unlock()
        while len(order) < 4:
            gosched()
        assert sorted(order[:3]) == ["r0", "r1", "r2"]
        assert order[3] == "w2"

    run(main)


def test_rlock_by_the_writer_is_a_deadlock() -> None:
    def main() -> None:
        rw = RWMutex()
        rw.lock()
        with pytest.raises(Deadlock) as info:
            rw.rlock()
        assert "sync.RWMutex.RLock" in str(info.value)
        assert not rw._readq
        rw.unlock()
        assert rw.try_rlock()
        rw.runlock()
        assert rw.try_lock()
        rw.unlock()

    run(main)


def test_lock_while_holding_a_read_lock_is_a_deadlock_and_leaves_no_trace() -> None:
    def main() -> None:
        rw = RWMutex()
        rw.rlock()
        with pytest.raises(Deadlock):
            rw.lock()
        # The interrupted writer gave up its claim: readers are welcome again.
        assert rw.try_rlock()
        rw.runlock()
        rw.runlock()
        assert rw.try_lock()
        rw.unlock()

    run(main)


def test_try_lock_and_try_rlock() -> None:
    def main() -> None:
        rw = RWMutex()
        assert rw.try_rlock()
        assert rw.try_rlock()
        assert not rw.try_lock()
        rw.runlock()
        rw.runlock()
        assert rw.try_lock()
        assert not rw.try_lock()
        assert not rw.try_rlock()
        rw.unlock()
        assert rw.try_rlock()
        rw.runlock()

    run(main)


def test_with_takes_the_write_lock_and_rlocker_the_read_lock() -> None:
    def main() -> None:
        rw = RWMutex()
        with rw:
            assert not rw.try_rlock()
        with rw.rlocker():
            assert rw.try_rlock()
            rw.runlock()
            assert not rw.try_lock()
        assert rw.try_lock()
        rw.unlock()

    run(main)


def test_killed_waiters_leave_the_rwmutex_usable() -> None:
    rw = RWMutex()

    def main() -> None:
        rw.rlock()
        w = go(rw.lock)
        wait_blocked(w, LOCK)
        r = go(rw.rlock)
        wait_blocked(r, RLOCK)
        w2 = go(rw.lock)
        wait_blocked(w2, "sync.RWMutex.Lock")

    run(main)  # kills the pending writer, the queued reader and writer

    def main2() -> None:
        assert not rw._readq
        rw.runlock()
        assert rw.try_lock()
        rw.unlock()

    run(main2)


def test_rwmutex_across_threads() -> None:
    def main() -> None:
        rw = RWMutex()
        activity = AtomicInt()
        n = 1500

        def reader() -> None:
            for _ in range(n):
                rw.rlock()
                assert 1 <= activity.add(1) < 10000
                activity.add(-1)
                rw.runlock()

        def writer() -> None:
            for _ in range(n):
                rw.lock()
                assert activity.add(10000) == 10000
                activity.add(-10000)
                rw.unlock()

        with fast_switching():
            ts = [Thread(reader), Thread(reader), Thread(writer), Thread(writer)]
            wg = WaitGroup()
            wg.go(reader)
            wg.go(writer)
            wg.wait()
            for t in ts:
                t.join()

    run(main)


def test_thread_reader_waits_for_a_goroutine_writer() -> None:
    def main() -> None:
        rw = RWMutex()
        rw.lock()
        got = threading.Event()

        def body() -> None:
            rw.rlock()
            got.set()
            rw.runlock()

        t = Thread(body)
        wait_thread_blocked(t.thread, RLOCK)
        assert not got.is_set()
        rw.unlock()
        t.join()
        assert got.is_set()

    run(main)

"""WaitGroup: add/done/wait, go(), reuse, misuse, deadlock, OS threads."""

from __future__ import annotations

import threading

import pytest

from _synctest import Thread, fast_switching, wait_blocked, wait_thread_blocked
from goroutines import (
    AtomicInt,
    Chan,
    Deadlock,
    GoroutinePanic,
    WaitGroup,
    go,
    gosched,
    recv,
    run,
    select,
)

WAIT = "sync.WaitGroup.Wait"


def _test_wait_group(wg1: WaitGroup, wg2: WaitGroup) -> None:
    n = 16
    wg1.add(n)
    wg2.add(n)
    exited: Chan[bool] = Chan(n)

    def worker() -> None:
        wg1.done()
        wg2.wait()
        exited.send(True)

    for _ in range(n):
        go(worker)
    wg1.wait()
    for _ in range(n):
        i, _ = select(recv(exited), default=True)
        assert i == -1, "WaitGroup released group too soon"
        wg2.done()
    for _ in range(n):
        exited.recv()  # blocks (a Deadlock) if the barrier fails to release someone


# Port of sync/waitgroup_test.go TestWaitGroup.
@pytest.mark.goroutines
def test_wait_group() -> None:
    wg1, wg2 = WaitGroup(), WaitGroup()
    for _ in range(8):  # the same groups again: they must be back to a clean state
        _test_wait_group(wg1, wg2)


# Port of sync/waitgroup_test.go TestWaitGroupMisuse.
def test_wait_group_misuse() -> None:
    def main() -> None:
        wg = WaitGroup()
        wg.add(1)
        wg.done()
        with pytest.raises(RuntimeError) as info:
            wg.done()
        assert str(info.value) == "sync: negative WaitGroup counter"
        assert wg._count == 0, "the failing add changes nothing"
        with pytest.raises(RuntimeError, match=r"^sync: negative WaitGroup counter$"):
            wg.add(-5)
        wg.wait()

    run(main)


# Port of sync/waitgroup_test.go TestWaitGroupRace.
def test_wait_group_race() -> None:
    def main() -> None:
        for _ in range(1000):
            wg = WaitGroup()
            n = AtomicInt()

            def inc(wg: WaitGroup = wg, n: AtomicInt = n) -> None:
                n.add(1)
                wg.done()

            wg.add(1)
            go(inc)
            wg.add(1)
            go(inc)
            wg.wait()
            assert n.load() == 2, "spurious wakeup from wait"

    run(main)


# Port of sync/waitgroup_test.go TestWaitGroupAlign (a WaitGroup inside another object).
def test_wait_group_align() -> None:
    class X:
        def __init__(self) -> None:
            self.x = b"x"
            self.wg = WaitGroup()

    def main() -> None:
        x = X()
        x.wg.add(1)
        go(lambda: x.wg.done())
        x.wg.wait()

    run(main)


@pytest.mark.goroutines
def test_wait_on_a_zero_counter_returns_at_once() -> None:
    wg = WaitGroup()
    wg.wait()
    wg.add(0)
    wg.wait()


@pytest.mark.goroutines
def test_wait_reason_and_every_waiter_wakes() -> None:
    wg = WaitGroup()
    wg.add(2)
    woke = AtomicInt()

    def waiter() -> None:
        wg.wait()
        woke.add(1)

    gs = [go(waiter) for _ in range(5)]
    for g in gs:
        wait_blocked(g, WAIT)
    wg.done()
    gosched()
    assert woke.load() == 0
    wg.done()
    while woke.load() < 5:
        gosched()


@pytest.mark.goroutines
def test_go_runs_the_function_and_counts_it() -> None:
    wg = WaitGroup()
    got: list[tuple[int, str]] = []

    def f(i: int, *, tag: str) -> None:
        gosched()
        got.append((i, tag))

    for i in range(10):
        wg.go(f, i, tag="t")
    assert wg._count == 10
    wg.wait()
    assert sorted(got) == [(i, "t") for i in range(10)]


def test_go_names_the_goroutine_after_the_function() -> None:
    def main() -> None:
        wg = WaitGroup()
        names: list[str] = []

        def worker() -> None:
            from goroutines import current

            names.append(current().name)

        wg.go(worker)
        wg.wait()
        assert names == [worker.__qualname__]

    run(main)


def test_go_rejects_what_go_rejects_without_counting() -> None:
    async def coro() -> None:
        pass

    def main() -> None:
        wg = WaitGroup()
        with pytest.raises(TypeError):
            wg.go(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            wg.go(coro)
        assert wg._count == 0

    run(main)


def test_go_counts_done_when_the_function_raises() -> None:
    def main() -> None:
        wg = WaitGroup()

        def boom() -> None:
            raise ValueError("boom")

        wg.go(boom)
        with pytest.raises(GoroutinePanic) as info:
            wg.wait()
        assert isinstance(info.value.__cause__, ValueError)
        assert wg._count == 0
        wg.wait()

    run(main)


@pytest.mark.goroutines
def test_reuse_after_wait_returns() -> None:
    wg = WaitGroup()
    for round_ in range(50):
        for _ in range(round_ % 5 + 1):
            wg.go(gosched)
        wg.wait()
        assert wg._count == 0


def test_waiting_with_nobody_to_call_done_is_a_deadlock() -> None:
    def main() -> None:
        wg = WaitGroup()
        wg.add(1)
        with pytest.raises(Deadlock) as info:
            wg.wait()
        assert "sync.WaitGroup.Wait" in str(info.value)
        assert not wg._waiters
        wg.done()
        wg.wait()

    run(main)


def test_bad_delta_type_raises_type_error() -> None:
    def main() -> None:
        wg = WaitGroup()
        with pytest.raises(TypeError, match="delta"):
            wg.add(1.5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="delta"):
            wg.add(True)
        assert wg._count == 0

    run(main)


def test_threads_call_done_while_a_goroutine_waits() -> None:
    def main() -> None:
        n = 8
        wg = WaitGroup()
        count = AtomicInt()

        def work() -> None:
            for _ in range(200):
                count.add(1)
            wg.done()

        wg.add(n)
        with fast_switching():
            ts = [Thread(work) for _ in range(n)]
            wg.wait()
        assert count.load() == n * 200
        for t in ts:
            t.join()

    run(main)


def test_thread_waits_for_goroutines() -> None:
    def main() -> None:
        wg = WaitGroup()
        wg.add(1)
        released = threading.Event()

        def body() -> None:
            wg.wait()
            released.set()

        t = Thread(body)
        wait_thread_blocked(t.thread, WAIT)
        assert not released.is_set()
        go(wg.done)
        t.join()
        assert released.is_set()

    run(main)


def test_many_threads_and_goroutines_wait_on_one_group() -> None:
    def main() -> None:
        for _ in range(20):
            wg = WaitGroup()
            wg.add(3)
            woke = AtomicInt()

            def waiter(wg: WaitGroup = wg, woke: AtomicInt = woke) -> None:
                wg.wait()
                woke.add(1)

            ts = [Thread(waiter) for _ in range(3)]
            for _ in range(3):
                go(waiter)
            for _ in range(3):
                go(wg.done)
            for t in ts:
                t.join()
            while woke.load() < 6:
                gosched()

    run(main)


def _boom() -> None:
    raise ValueError("boom in the group")


def test_wait_raises_the_panic_of_the_last_goroutine_of_the_group() -> None:
    # The group is done only after the panic is pending: main does not go
    # on as if every goroutine of the group had succeeded.
    def main() -> None:
        wg = WaitGroup()
        wg.go(lambda: None)
        wg.go(_boom)
        with pytest.raises(GoroutinePanic) as info:
            wg.wait()
        assert str(info.value.__cause__) == "boom in the group"

    for _ in range(20):
        run(main)


def test_wait_raises_the_panic_of_a_group_goroutine_on_another_thread(short: bool) -> None:
    # wg.go from a plain thread: the goroutine runs on the background P, and
    # its done() wakes main across threads; the panic must be pending first.
    def main() -> None:
        wg = WaitGroup()
        t = threading.Thread(target=wg.go, args=(_boom,))
        t.start()
        t.join()
        with pytest.raises(GoroutinePanic) as info:
            wg.wait()
        assert str(info.value.__cause__) == "boom in the group"

    with fast_switching():
        for _ in range(20 if short else 300):
            run(main)


def test_a_group_goroutine_on_another_thread_is_named_before_it_runs(short: bool) -> None:
    # wg.go from a plain thread: the background P may run the goroutine
    # before go() returns to name it; its panic must name the function.
    def main() -> str:
        wg = WaitGroup()
        t = threading.Thread(target=wg.go, args=(_boom,))
        t.start()
        t.join()
        with pytest.raises(GoroutinePanic) as info:
            wg.wait()
        return str(info.value)

    with fast_switching():
        for _ in range(20 if short else 300):
            text = run(main)
            assert text.endswith("[_boom] panicked: ValueError: boom in the group"), text


def test_a_group_goroutine_that_panics_still_counts_done_for_a_waiting_thread() -> None:
    # A plain thread waiting on the group is no goroutine 1: its wait
    # returns; the panic goes to goroutine 1.
    def main() -> None:
        wg = WaitGroup()
        wg.add(1)
        t = Thread(wg.wait)
        wait_thread_blocked(t.thread, WAIT)
        wg.done()
        t.join()
        wg.go(_boom)
        waiter = Thread(wg.wait)
        with pytest.raises(GoroutinePanic):
            waiter.join()  # main parks: _boom runs and panics
            gosched()  # (if the thread's report completed main's park first)
        waiter.thread.join(10)
        assert not waiter.thread.is_alive() and waiter.exc is None, waiter.exc

    run(main)


def test_wait_raises_a_panic_of_a_group_that_ended_just_before_its_fast_path() -> None:
    # The group ends, with a panic, between wait()'s first look for a pending
    # panic and its look at the counter: wait() must not return as if the
    # group had succeeded (it did, once in 16 full pure-path runs under load).
    import time

    class EndsTheGroupFirst:
        """wg's lock: main's first acquire inside wait() lets the group run
        to its end on another thread first."""

        def __init__(self, wg: WaitGroup, inner: object) -> None:
            self.wg, self.inner, self.armed = wg, inner, False

        def acquire(self, *args: object) -> bool:
            if self.armed and threading.current_thread() is threading.main_thread():
                self.armed = False
                t = threading.Thread(target=self.wg.go, args=(_boom,))
                t.start()
                t.join()
                while self.wg._count:  # the background P runs it to its end
                    time.sleep(0.001)
            return self.inner.acquire(*args)  # type: ignore[attr-defined, no-any-return]

        def release(self) -> None:
            self.inner.release()  # type: ignore[attr-defined]

    def main() -> None:
        wg = WaitGroup()
        lock = EndsTheGroupFirst(wg, wg._lock)
        wg._lock = lock  # type: ignore[assignment]
        lock.armed = True
        with pytest.raises(GoroutinePanic) as info:
            wg.wait()
        assert str(info.value.__cause__) == "boom in the group"

    for _ in range(5):
        run(main)

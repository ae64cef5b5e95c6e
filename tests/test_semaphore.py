"""Semaphore (x/sync/semaphore.Weighted): FIFO, big heads block small
requests, contexts, misuse, threads."""

from __future__ import annotations

import random

import pytest

from _synctest import Thread, fast_switching, wait_blocked, wait_thread_blocked
from goroutines import (
    AtomicInt,
    Chan,
    Deadlock,
    Semaphore,
    WaitGroup,
    after,
    errgroup,
    go,
    gosched,
    max_procs,
    recv,
    run,
    select,
    sleep,
)
from goroutines import context as ctxmod

SEM = "semacquire"
BG = ctxmod.background()


def _hammer_weighted(sem: Semaphore, n: int, loops: int) -> None:
    for _ in range(loops):
        sem.acquire(BG, n)
        sleep(random.random() * 1e-4)
        sem.release(n)


# Port of x/sync/semaphore/semaphore_test.go TestWeighted.
def test_weighted() -> None:
    def main() -> None:
        n = max(max_procs(), 4)
        loops = 2000 // n
        sem = Semaphore(n)
        wg = WaitGroup()
        for i in range(n):
            wg.go(_hammer_weighted, sem, i, loops)
        wg.wait()
        assert sem._cur == 0

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestWeightedPanic.
def test_weighted_panic() -> None:
    def main() -> None:
        w = Semaphore(1)
        with pytest.raises(RuntimeError) as info:
            w.release(1)
        assert str(info.value) == "semaphore: released more than held"
        assert w._cur == 0, "the failing release changes nothing"
        w.acquire(BG, 1)
        with pytest.raises(RuntimeError, match=r"^semaphore: released more than held$"):
            w.release(2)
        w.release(1)

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestWeightedTryAcquire.
def test_weighted_try_acquire() -> None:
    def main() -> None:
        sem = Semaphore(2)
        tries = []
        sem.acquire(BG, 1)
        tries.append(sem.try_acquire(1))
        tries.append(sem.try_acquire(1))
        sem.release(2)
        tries.append(sem.try_acquire(1))
        sem.acquire(BG, 1)
        tries.append(sem.try_acquire(1))
        assert tries == [True, False, True, False]

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestWeightedAcquire.
def test_weighted_acquire() -> None:
    def main() -> None:
        sem = Semaphore(2)

        def try_acquire(n: int) -> bool:
            ctx, cancel = ctxmod.with_timeout(BG, 0.01)
            try:
                sem.acquire(ctx, n)
                return True
            except ctxmod.DeadlineExceeded:
                return False
            finally:
                cancel()

        tries = []
        sem.acquire(BG, 1)
        tries.append(try_acquire(1))
        tries.append(try_acquire(1))
        sem.release(2)
        tries.append(try_acquire(1))
        sem.acquire(BG, 1)
        tries.append(try_acquire(1))
        assert tries == [True, False, True, False]

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestWeightedDoesntBlockIfTooBig.
def test_weighted_doesnt_block_if_too_big() -> None:
    def main() -> None:
        n = 2
        sem = Semaphore(n)
        ctx, cancel = ctxmod.with_cancel(BG)

        def too_big() -> None:
            with pytest.raises(ctxmod.Canceled):
                sem.acquire(ctx, n + 1)

        big = go(too_big)
        g, gctx = errgroup.with_context(BG)

        def small() -> None:
            sem.acquire(gctx, 1)
            sleep(0.001)
            sem.release(1)

        for _ in range(n * 3):
            g.go(small)
        g.wait()
        assert big.state == "waiting", "the too-big request waits for its context"
        cancel()
        while big.state != "dead":
            gosched()

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestLargeAcquireDoesntStarve.
def test_large_acquire_doesnt_starve() -> None:
    def main() -> None:
        n = max(max_procs(), 4)
        sem = Semaphore(n)
        running = [True]
        wg = WaitGroup()
        wg.add(n)

        def worker() -> None:
            try:
                while running[0]:
                    sleep(0.001)
                    sem.release(1)
                    sem.acquire(BG, 1)
            finally:
                sem.release(1)
                wg.done()

        for _ in range(n):
            sem.acquire(BG, 1)
            go(worker)
        sem.acquire(BG, n)
        running[0] = False
        sem.release(n)
        wg.wait()

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestAllocCancelDoesntStarve.
def test_alloc_cancel_doesnt_starve() -> None:
    def main() -> None:
        sem = Semaphore(10)
        sem.acquire(BG, 1)  # one "read lock" held
        failed: Chan[BaseException | None] = Chan(1)

        def writer() -> None:
            ctx, cancel = ctxmod.with_timeout(BG, 0.05)
            try:
                sem.acquire(ctx, 10)  # a "write lock" request that gives up
                failed.send(None)
            except ctxmod.DeadlineExceeded as e:
                failed.send(e)
            finally:
                cancel()

        w = go(writer)
        wait_blocked(w, SEM)
        done: Chan[None] = Chan()

        def reader() -> None:
            sem.acquire(BG, 1)  # queued behind the writer, served once it gives up
            sem.release(1)
            done.close()

        r = go(reader)
        wait_blocked(r, SEM)
        i, _ = select(recv(done), recv(after(5)))
        assert i == 0, "the reader starved behind a cancelled writer"
        assert isinstance(failed.recv(), ctxmod.DeadlineExceeded)

    run(main)


# Port of x/sync/semaphore/semaphore_test.go TestWeightedAcquireCanceled.
def test_weighted_acquire_canceled() -> None:
    def main() -> None:
        sem = Semaphore(2)
        ctx, cancel = ctxmod.with_cancel(BG)
        cancel()
        with pytest.raises(ctxmod.Canceled):
            sem.acquire(ctx, 1)  # free units, but the context ended first
        assert sem._cur == 0
        assert sem.try_acquire(2)

    run(main)


def test_big_request_at_the_head_holds_back_smaller_ones() -> None:
    def main() -> None:
        sem = Semaphore(4)
        sem.acquire(BG, 3)
        order: list[str] = []

        def acq(name: str, k: int) -> None:
            sem.acquire(BG, k)
            order.append(name)

        big = go(acq, "big", 4)
        wait_blocked(big, SEM)
        small = go(acq, "small", 1)
        wait_blocked(small, SEM)  # 1 unit is free, but "big" is first in line
        assert not sem.try_acquire(1), "try_acquire does not jump the queue"
        sem.release(3)
        while not order:
            gosched()
        assert order == ["big"]
        assert small.state == "waiting"
        sem.release(4)
        while len(order) < 2:
            gosched()
        assert order == ["big", "small"]
        sem.release(1)

    run(main)


def test_acquire_raises_the_context_error_and_leaves_no_trace() -> None:
    def main() -> None:
        sem = Semaphore(1)
        sem.acquire(BG)
        ctx, cancel = ctxmod.with_cancel(BG)
        got: Chan[BaseException] = Chan(1)

        def waiter() -> None:
            try:
                sem.acquire(ctx, 1)
            except ctxmod.Canceled as e:
                got.send(e)

        g = go(waiter)
        wait_blocked(g, SEM)
        cancel()
        err = got.recv()
        assert err is ctx.err()
        assert str(err) == "context canceled"
        assert not sem._waiters
        assert not ctx.done()._recvq  # type: ignore[union-attr]
        sem.release(1)
        assert sem.try_acquire(1)

    run(main)


def test_context_deadline_while_waiting() -> None:
    def main() -> None:
        sem = Semaphore(1)
        sem.acquire(BG)
        ctx, cancel = ctxmod.with_timeout(BG, 0.02)
        with pytest.raises(ctxmod.DeadlineExceeded, match="context deadline exceeded"):
            sem.acquire(ctx)
        cancel()
        assert sem._cur == 1
        assert not sem._waiters

    run(main)


def test_request_larger_than_the_size_waits_for_the_context() -> None:
    def main() -> None:
        sem = Semaphore(2)
        ctx, cancel = ctxmod.with_timeout(BG, 0.01)
        with pytest.raises(ctxmod.DeadlineExceeded):
            sem.acquire(ctx, 3)
        cancel()
        assert sem.try_acquire(2)
        assert not sem.try_acquire(3)

    run(main)


def test_request_larger_than_the_size_without_a_context_is_a_deadlock() -> None:
    def main() -> None:
        sem = Semaphore(2)
        with pytest.raises(Deadlock):
            sem.acquire(BG, 3)

    run(main)


def test_acquiring_held_units_forever_is_a_deadlock() -> None:
    def main() -> None:
        sem = Semaphore(1)
        sem.acquire(BG)
        with pytest.raises(Deadlock) as info:
            sem.acquire(BG)
        assert "semacquire" in str(info.value)
        assert not sem._waiters

    run(main)


def test_units_granted_as_the_context_ends_are_given_back() -> None:
    # Whichever wins, the semaphore ends up consistent: never both an error
    # and units held.
    def main() -> None:
        for i in range(300):
            sem = Semaphore(1)
            sem.acquire(BG)
            ctx, cancel = ctxmod.with_cancel(BG)
            result: Chan[str] = Chan(1)

            def waiter(
                sem: Semaphore = sem, ctx: ctxmod.Context = ctx, result: Chan[str] = result
            ) -> None:
                try:
                    sem.acquire(ctx)
                    result.send("acquired")
                except ctxmod.Canceled:
                    result.send("canceled")

            g = go(waiter)
            wait_blocked(g, SEM)
            if i % 2:
                sem.release()
                cancel()
            else:
                cancel()
                sem.release()
            r = result.recv()
            if r == "acquired":
                assert sem._cur == 1
                sem.release()
            assert sem._cur == 0, (i, r)
            assert not sem._waiters

    run(main)


def test_bad_arguments() -> None:
    def main() -> None:
        with pytest.raises(ValueError, match="n"):
            Semaphore(-1)
        with pytest.raises(TypeError, match="n"):
            Semaphore(1.5)  # type: ignore[arg-type]
        sem = Semaphore(1)
        with pytest.raises(ValueError, match="k"):
            sem.acquire(BG, -1)
        with pytest.raises(ValueError, match="k"):
            sem.release(-1)
        with pytest.raises(TypeError, match="k"):
            sem.try_acquire("1")  # type: ignore[arg-type]
        assert not sem.try_acquire(2), "try_acquire(k > n) is False"

    run(main)


@pytest.mark.parametrize("bad", [None, 5, "ctx", Chan[None]()], ids=lambda b: type(b).__name__)
def test_acquire_needs_a_context_and_says_so(bad: object) -> None:
    # Not an AttributeError from ctx.done(); the semaphore is left unchanged.
    def main() -> None:
        sem = Semaphore(1)
        for k in (1, 5):
            with pytest.raises(TypeError) as info:
                sem.acquire(bad, k)  # type: ignore[arg-type]
            assert str(info.value) == (
                f"Semaphore.acquire: ctx must be a Context, got {type(bad).__name__}"
            )
        assert sem.try_acquire(1)

    run(main)


def test_threads_and_goroutines_share_a_semaphore() -> None:
    def main() -> None:
        sem = Semaphore(3)
        inside = AtomicInt()
        peak = AtomicInt()

        def work() -> None:
            for _ in range(300):
                sem.acquire(BG, 1)
                n = inside.add(1)
                assert n <= 3
                if n > peak.load():
                    peak.store(n)
                gosched()
                inside.add(-1)
                sem.release(1)

        with fast_switching():
            ts = [Thread(work) for _ in range(3)]
            wg = WaitGroup()
            for _ in range(3):
                wg.go(work)
            wg.wait()
            for t in ts:
                t.join()
        assert sem._cur == 0

    run(main)


def test_thread_acquire_is_cancelled_by_a_goroutine() -> None:
    def main() -> None:
        sem = Semaphore(1)
        sem.acquire(BG)
        ctx, cancel = ctxmod.with_cancel(BG)

        def body() -> str:
            try:
                sem.acquire(ctx)
                return "acquired"
            except ctxmod.Canceled:
                return "canceled"

        t = Thread(body)
        wait_thread_blocked(t.thread, SEM)
        go(cancel)
        assert t.join() == "canceled"
        assert not sem._waiters

    run(main)


def test_grant_and_cancel_race_across_threads() -> None:
    # A thread waits; a goroutine and another thread release and cancel at
    # the same time. Whatever wins, no unit is lost or held twice.
    def main() -> None:
        with fast_switching():
            for _ in range(100):
                sem = Semaphore(1)
                sem.acquire(BG)
                ctx, cancel = ctxmod.with_cancel(BG)

                def waiter(sem: Semaphore = sem, ctx: ctxmod.Context = ctx) -> str:
                    try:
                        sem.acquire(ctx)
                    except ctxmod.Canceled:
                        return "canceled"
                    sem.release()
                    return "acquired"

                t = Thread(waiter)
                wait_thread_blocked(t.thread, SEM)
                canceller = Thread(cancel)
                sem.release()
                t.join()
                canceller.join()
                assert sem._cur == 0
                assert not sem._waiters
                assert sem.try_acquire(1)

    run(main)

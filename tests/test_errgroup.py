"""goroutines.errgroup: ports of x/sync/errgroup's tests and our own."""

from __future__ import annotations

import gc
import sys
import warnings

import pytest

from _synctest import wait_blocked
from goroutines import (
    AtomicInt,
    Chan,
    errgroup,
    go,
    gosched,
    recv,
    run,
    select,
    sleep,
)
from goroutines import context as C
from goroutines.errgroup import Group, with_context

BG = C.background()


def _returning(err: BaseException | None):  # type: ignore[no-untyped-def]
    """A task that "returns" err: raises it, or returns if it is None."""

    def task() -> None:
        if err is not None:
            raise err

    return task


# Port of x/sync/errgroup/errgroup_test.go TestZeroGroup.
def test_zero_group() -> None:
    def main() -> None:
        err1 = ValueError("errgroup_test: 1")
        err2 = ValueError("errgroup_test: 2")
        cases: list[list[BaseException | None]] = [
            [],
            [None],
            [err1],
            [err1, None],
            [err1, None, err2],
        ]
        for errs in cases:
            g = Group()
            first: BaseException | None = None
            for i, err in enumerate(errs):
                g.go(_returning(err))
                if first is None and err is not None:
                    first = err
                if first is None:
                    g.wait()  # returns None: no error
                else:
                    with pytest.raises(ValueError) as info:
                        g.wait()
                    assert info.value is first, f"errs[:{i + 1}] = {errs[: i + 1]}"

    run(main)


# Port of x/sync/errgroup/errgroup_test.go TestWithContext.
def test_with_context() -> None:
    def main() -> None:
        err_doom = ValueError("group_test: doomed")
        for errs, want in (
            ([], None),
            ([None], None),
            ([err_doom], err_doom),
            ([err_doom, None], err_doom),
        ):
            g, ctx = with_context(BG)
            for err in errs:
                g.go(_returning(err))
            if want is None:
                g.wait()
            else:
                with pytest.raises(ValueError) as info:
                    g.wait()
                assert info.value is want
            d = ctx.done()
            assert d is not None
            i, _ = select(recv(d), default=True)
            assert i == 0, f"errs={errs}: ctx.done() was not closed"

    run(main)


# Port of x/sync/errgroup/errgroup_test.go TestTryGo.
def test_try_go() -> None:
    def main() -> None:
        g = Group()
        n = 42
        g.set_limit(42)
        ch: Chan[None] = Chan()

        def fn() -> None:
            ch.send(None)

        for i in range(n):
            assert g.try_go(fn), f"try_go should succeed but failed at call {i}"
        assert not g.try_go(fn), "try_go is expected to fail but succeeded"

        def drain(k: int) -> None:
            for _ in range(k):
                ch.recv()

        go(drain, n)
        g.wait()
        assert g.try_go(fn), "try_go should succeed after all goroutines"
        go(drain, 1)
        g.wait()

        g.set_limit(1)  # switch the limit
        assert g.try_go(fn)
        assert not g.try_go(fn)
        go(drain, 1)
        g.wait()

        g.set_limit(0)  # block every call
        for _ in range(1 << 10):
            assert not g.try_go(fn)
        g.wait()

    run(main)


# Port of x/sync/errgroup/errgroup_test.go TestGoLimit.
def test_go_limit() -> None:
    def main() -> None:
        limit = 10
        g = Group()
        g.set_limit(limit)
        active = AtomicInt()

        def task() -> None:
            n = active.add(1)
            if n > limit:
                raise AssertionError(f"saw {n} active goroutines; want <= {limit}")
            sleep(1e-6)  # give other goroutines a chance to increment active
            active.add(-1)

        for _ in range(1 << 10):
            g.go(task)
        g.wait()

    run(main)


# Port of x/sync/errgroup/errgroup_test.go TestCancelCause.
def test_cancel_cause() -> None:
    def main() -> None:
        err_doom = ValueError("group_test: doomed")
        for errs, want in (
            ([], None),
            ([None], None),
            ([err_doom], err_doom),
            ([err_doom, None], err_doom),
        ):
            g, ctx = with_context(BG)
            for err in errs:
                g.try_go(_returning(err))
            if want is None:
                g.wait()
                assert isinstance(C.cause(ctx), C.Canceled)
            else:
                with pytest.raises(ValueError) as info:
                    g.wait()
                assert info.value is want
                assert C.cause(ctx) is want

    run(main)


def test_first_error_cancels_the_context_before_wait() -> None:
    def main() -> None:
        g, ctx = with_context(BG)
        boom = KeyError("boom")
        seen: Chan[BaseException | None] = Chan(1)

        def watcher() -> None:
            d = ctx.done()
            assert d is not None
            d.recv()
            seen.send(C.cause(ctx))

        def failer() -> None:
            raise boom

        g.go(watcher)
        g.go(failer)
        assert seen.recv() is boom
        assert isinstance(ctx.err(), C.Canceled)
        with pytest.raises(KeyError) as info:
            g.wait()
        assert info.value is boom

    run(main)


def test_wait_raises_the_first_error_after_all_functions_return() -> None:
    def main() -> None:
        g = Group()
        release: Chan[None] = Chan()
        finished = AtomicInt()
        first = ValueError("first")

        def fail_first() -> None:
            raise first

        def fail_later() -> None:
            release.recv()
            finished.add(1)
            raise ValueError("second")

        def slow_ok() -> None:
            release.recv()
            finished.add(1)

        g.go(fail_first)
        g.go(fail_later)
        g.go(slow_ok)
        waiter_done = Chan[BaseException]()

        def waiter() -> None:
            try:
                g.wait()
            except ValueError as e:
                assert finished.load() == 2, "wait raised before every function returned"
                waiter_done.send(e)

        w = go(waiter)
        wait_blocked(w, "sync.WaitGroup.Wait")
        release.send(None)
        release.send(None)
        assert waiter_done.recv() is first
        # wait again: the same object again, its traceback not grown
        with pytest.raises(ValueError) as info:
            g.wait()
        assert info.value is first

    run(main)


def test_go_blocks_at_the_limit() -> None:
    def main() -> None:
        g = Group()
        g.set_limit(2)
        release: Chan[None] = Chan()
        started = AtomicInt()

        def task() -> None:
            started.add(1)
            release.recv()

        g.go(task)
        g.go(task)
        launcher = go(g.go, task)
        wait_blocked(launcher, "chan send")
        while started.load() < 2:
            gosched()
        release.send(None)
        while started.load() < 3:
            gosched()
        release.send(None)
        release.send(None)
        g.wait()

    run(main)


def test_set_limit_while_active_raises_go_s_error() -> None:
    def main() -> None:
        g = Group()
        release: Chan[None] = Chan()
        g.set_limit(3)
        g.go(release.recv)
        g.go(release.recv)
        with pytest.raises(RuntimeError) as info:
            g.set_limit(5)
        assert str(info.value) == (
            "errgroup: modify limit while 2 goroutines in the group are still active"
        )
        unlimited = Group()
        unlimited.go(release.recv)
        with pytest.raises(RuntimeError, match="1 goroutines in the group are still active"):
            unlimited.set_limit(1)
        unlimited.set_limit(-1)  # removing a limit is always allowed, as in Go
        for _ in range(3):
            release.send(None)
        g.wait()
        unlimited.wait()
        g.set_limit(1)
        g.set_limit(-1)

    run(main)


def test_go_passes_arguments_and_names_the_goroutine() -> None:
    def main() -> None:
        g = Group()
        got: list[tuple[int, str, str]] = []

        def task(a: int, *, b: str) -> None:
            from goroutines import current

            got.append((a, b, current().name))

        g.go(task, 1, b="x")
        assert g.try_go(task, 2, b="y")
        g.wait()
        assert sorted(got) == [(1, "x", task.__qualname__), (2, "y", task.__qualname__)]

    run(main)


def test_go_rejects_non_callables_without_counting() -> None:
    def main() -> None:
        g = Group()
        with pytest.raises(TypeError):
            g.go(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            g.try_go(3)  # type: ignore[arg-type]
        g.wait()

    run(main)


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_a_base_exception_reaches_wait_unwrapped_and_never_passes_for_success(
    exc_type: type[BaseException],
) -> None:
    # Not an error of the group, but not a success either: wait() re-raises
    # the very object, unwrapped (as SystemExit reaches goroutine 1 from any
    # goroutine), after every function has returned; it cancels the group's
    # context like an error; and it is delivered once (no GoroutinePanic
    # follows at main's next runtime call).
    def main() -> None:
        g, ctx = with_context(BG)
        exc = exc_type()
        finished = AtomicInt()
        release: Chan[None] = Chan()

        def slow() -> None:
            release.recv()
            finished.add(1)

        def interrupted() -> None:
            raise exc

        g.go(slow)
        g.go(interrupted)
        ctx.done().recv()  # cancelled by the failure, before wait()
        assert C.cause(ctx) is exc
        go(release.close)
        with pytest.raises(exc_type) as info:
            g.wait()
        assert info.value is exc and finished.load() == 1
        gosched()
        Chan[int](1).send(0)  # more runtime calls: nothing else is pending
        with pytest.raises(exc_type):
            g.wait()  # the outcome stays

    run(main)


def test_a_base_exception_wins_over_an_earlier_error() -> None:
    def main() -> None:
        g = Group()
        err = ValueError("first")
        stop = KeyboardInterrupt()
        g.go(_returning(err))
        gosched()
        g.go(_returning(stop))
        with pytest.raises(KeyboardInterrupt) as info:
            g.wait()
        assert info.value is stop
        # An error after it does not replace it.
        h = Group()
        h.go(_returning(stop))
        gosched()
        h.go(_returning(err))
        with pytest.raises(KeyboardInterrupt):
            h.wait()

    run(main)


def test_killed_group_goroutines_stay_silent() -> None:
    # GreenletExit is how run() kills goroutines left behind: not a failure.
    groups: list[Group] = []

    def main() -> None:
        g = Group()
        groups.append(g)
        g.go(Chan[None]().recv)
        gosched()

    run(main)
    run(lambda: None)  # nothing pending from the killed one
    assert groups[0]._err is None


def test_a_function_returning_a_coroutine_fails_the_group() -> None:
    async def fetch() -> int:
        return 1

    def main() -> None:
        g, ctx = with_context(BG)
        g.go(lambda: fetch())
        with pytest.raises(TypeError) as info:
            g.wait()
        assert "returned a coroutine (" in str(info.value)
        assert "that nobody awaits" in str(info.value)
        assert C.cause(ctx) is info.value

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(main)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


@pytest.mark.parametrize("bad", [None, 5, "ctx"], ids=repr)
def test_with_context_needs_a_context(bad: object) -> None:
    with pytest.raises(TypeError) as info:
        with_context(bad)  # type: ignore[arg-type]
    assert str(info.value) == f"with_context: ctx must be a Context, got {type(bad).__name__}"


def test_set_limit_beyond_sys_maxsize_is_rejected_naming_n() -> None:
    g = Group()
    with pytest.raises(ValueError, match=r"^n must be <= sys.maxsize"):
        g.set_limit(2**100)
    g.set_limit(sys.maxsize)  # as good as no limit
    assert "limit=" + str(sys.maxsize) in repr(g)


def test_errgroup_module_exports() -> None:
    assert errgroup.__all__ == ["Group", "with_context"]

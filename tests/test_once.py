"""Once and once_func/once_value/once_values."""

from __future__ import annotations

import gc
import traceback
import weakref
from collections.abc import Callable

import pytest

from _synctest import Thread, fast_switching, wait_blocked
from goroutines import (
    AtomicInt,
    Chan,
    Deadlock,
    Once,
    WaitGroup,
    go,
    gosched,
    once_func,
    once_value,
    once_values,
    run,
)


# Port of sync/once_test.go TestOnce.
def test_once() -> None:
    def main() -> None:
        o = [0]
        once = Once()
        c: Chan[bool] = Chan()

        def incr() -> None:
            o[0] += 1

        def run_once() -> None:
            once.do(incr)
            assert o[0] == 1, f"once failed inside run: {o[0]} is not 1"
            c.send(True)

        for _ in range(10):
            go(run_once)
        for _ in range(10):
            c.recv()
        assert o[0] == 1

    run(main)


# Port of sync/once_test.go TestOncePanic.
def test_once_panic() -> None:
    def main() -> None:
        once = Once()

        def boom() -> None:
            raise RuntimeError("failed")

        with pytest.raises(RuntimeError, match="failed"):
            once.do(boom)
        called = []
        once.do(lambda: called.append(1))
        assert called == [], "Once.do called twice"

    run(main)


def test_concurrent_callers_wait_for_the_first_call() -> None:
    def main() -> None:
        once = Once()
        release: Chan[None] = Chan()
        calls = AtomicInt()
        finished = AtomicInt()

        def slow() -> None:
            calls.add(1)
            release.recv()

        def caller() -> None:
            once.do(slow)
            finished.add(1)

        first = go(caller)
        wait_blocked(first, "chan receive")
        others = [go(caller) for _ in range(5)]
        for g in others:
            wait_blocked(g, "sync.Mutex.Lock")
        assert finished.load() == 0
        release.send(None)
        while finished.load() < 6:
            gosched()
        assert calls.load() == 1

    run(main)


def test_recursive_do_is_a_deadlock() -> None:
    def main() -> None:
        once = Once()
        with pytest.raises(Deadlock):
            once.do(lambda: once.do(lambda: None))
        assert once._done, "the Once counts as done even though fn raised"

    run(main)


def test_once_from_threads_and_goroutines() -> None:
    def main() -> None:
        for _ in range(20):
            once = Once()
            calls = AtomicInt()

            def f(calls: AtomicInt = calls) -> None:
                calls.add(1)

            def caller(once: Once = once, f: Callable[[], None] = f) -> None:
                for _ in range(50):
                    once.do(f)

            with fast_switching():
                ts = [Thread(caller) for _ in range(3)]
                wg = WaitGroup()
                for _ in range(3):
                    wg.go(caller)
                wg.wait()
                for t in ts:
                    t.join()
            assert calls.load() == 1

    run(main)


# Port of sync/oncefunc_test.go TestOnceFunc.
def test_once_func() -> None:
    def main() -> None:
        calls = [0]

        def f() -> None:
            calls[0] += 1

        g = once_func(f)
        for _ in range(10):
            assert g() is None
        assert calls[0] == 1

    run(main)


# Port of sync/oncefunc_test.go TestOnceValue.
def test_once_value() -> None:
    def main() -> None:
        calls = [0]

        def f() -> int:
            calls[0] += 1
            return calls[0]

        g = once_value(f)
        for _ in range(10):
            assert g() == 1
        assert calls[0] == 1

    run(main)


# Port of sync/oncefunc_test.go TestOnceValues.
def test_once_values() -> None:
    def main() -> None:
        calls = [0]

        def f() -> tuple[int, int]:
            calls[0] += 1
            return calls[0], calls[0] + 1

        g = once_values(f)
        for _ in range(10):
            v1, v2 = g()
            assert (v1, v2) == (1, 2)
        assert calls[0] == 1

    run(main)


def _check_once_raises(calls: list[int], f: Callable[[], object]) -> None:
    seen: list[BaseException] = []
    for _ in ("first time", "second time", "third time"):
        with pytest.raises(ValueError, match="x") as info:
            f()
        seen.append(info.value)
    assert calls == [1]
    assert seen[0] is seen[1] is seen[2], "every call re-raises the same exception object"


# Port of sync/oncefunc_test.go TestOnceFuncPanic.
def test_once_func_panic() -> None:
    def main() -> None:
        calls: list[int] = []

        def f() -> None:
            calls.append(1)
            raise ValueError("x")

        _check_once_raises(calls, once_func(f))

    run(main)


# Port of sync/oncefunc_test.go TestOnceValuePanic.
def test_once_value_panic() -> None:
    def main() -> None:
        calls: list[int] = []

        def f() -> int:
            calls.append(1)
            raise ValueError("x")

        _check_once_raises(calls, once_value(f))

    run(main)


# Port of sync/oncefunc_test.go TestOnceValuesPanic.
def test_once_values_panic() -> None:
    def main() -> None:
        calls: list[int] = []

        def f() -> tuple[int, int]:
            calls.append(1)
            raise ValueError("x")

        _check_once_raises(calls, once_values(f))

    run(main)


def _once_func_panic() -> None:
    raise ValueError("x")


# Port of sync/oncefunc_test.go TestOnceFuncPanicTraceback.
def test_once_func_panic_traceback() -> None:
    def main() -> None:
        f = once_func(_once_func_panic)
        with pytest.raises(ValueError) as info:
            f()
        names = [fs.name for fs in traceback.extract_tb(info.value.__traceback__)]
        assert "_once_func_panic" in names

    run(main)


def test_replayed_exception_traceback_does_not_grow() -> None:
    def main() -> None:
        f = once_value(_once_func_panic)
        lengths = []
        for _ in range(5):
            try:
                f()
            except ValueError as e:
                lengths.append(len(traceback.extract_tb(e.__traceback__)))
        assert len(set(lengths[1:])) == 1, lengths

    run(main)


def test_concurrent_callers_all_see_the_first_exception() -> None:
    def main() -> None:
        release: Chan[None] = Chan()
        calls: list[int] = []

        def f() -> int:
            calls.append(1)
            release.recv()
            raise ValueError("x")

        g = once_value(f)
        got: Chan[BaseException] = Chan(5)

        def caller() -> None:
            try:
                g()
            except ValueError as e:
                got.send(e)

        gs = [go(caller) for _ in range(5)]
        wait_blocked(gs[0], "chan receive")
        for x in gs[1:]:
            wait_blocked(x, "sync.Mutex.Lock")
        release.send(None)
        errs = [got.recv() for _ in range(5)]
        assert calls == [1]
        assert all(e is errs[0] for e in errs)

    run(main)


class _Buf:
    pass


# Port of sync/oncefunc_test.go TestOnceXGC (the returning cases: a raised
# exception keeps its traceback, and so the frame of f, alive on purpose).
@pytest.mark.parametrize("kind", ["OnceFunc", "OnceValue", "OnceValues"])
def test_once_xgc(kind: str) -> None:
    def make(buf: _Buf) -> Callable[[], object]:
        if kind == "OnceFunc":
            return once_func(lambda: buf)
        if kind == "OnceValue":
            return once_value(lambda: (buf, None)[1])
        return once_values(lambda: (None, (buf, None)[1]))

    def main() -> None:
        buf = _Buf()
        ref = weakref.ref(buf)
        f = make(buf)
        del buf
        gc.collect()
        assert ref() is not None, "wrapped function collected too early"
        f()
        gc.collect()
        assert ref() is None, "the wrapped function must not be kept alive after the first call"
        f()

    run(main)

"""goroutines.context: ports of Go's context tests and our own behaviour tests."""

from __future__ import annotations

import gc
import random
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import pytest

from _synctest import Thread, wait_blocked, wait_thread_blocked
from goroutines import (
    Chan,
    Deadlock,
    RecvChan,
    RecvOnly,
    WaitGroup,
    after,
    current,
    go,
    gosched,
    num_goroutine,
    recv,
    run,
    select,
    sleep,
)
from goroutines import context as C
from goroutines._runtime import sched as _sched
from goroutines.context import (
    Canceled,
    Context,
    DeadlineExceeded,
    after_func,
    background,
    cause,
    todo,
    with_cancel,
    with_cancel_cause,
    with_deadline,
    with_deadline_cause,
    with_timeout,
    with_timeout_cause,
    with_value,
    without_cancel,
)

BG = background()


def is_done(ctx: Context) -> bool:
    """Go: select { case <-ctx.Done(): true; default: false }."""
    i, _ = select(recv(ctx.done()), default=True)
    return i == 0


def wait_done(ctx: Context, limit: float = 5.0) -> bool:
    i, _ = select(recv(ctx.done()), recv(after(limit)))
    return i == 0


class OtherContext(Context):
    """A Context that is none of context.py's types (Go's otherContext)."""

    def __init__(self, parent: Context) -> None:
        self.parent = parent

    def deadline(self) -> float | None:
        return self.parent.deadline()

    def done(self) -> RecvChan[None]:
        return self.parent.done()

    def err(self) -> Canceled | DeadlineExceeded | None:
        return self.parent.err()

    def value(self, key: object) -> Any:
        return self.parent.value(key)


class MyDoneCtx(OtherContext):
    """Provides a done channel of its own that never closes (Go's myDoneCtx)."""

    def done(self) -> RecvChan[None]:
        return Chan()


# Port of context/x_test.go TestBackground.
def test_background() -> None:
    def main() -> None:
        c = background()
        assert c is not None
        # Go's nil channel: a channel never closed, receive-only.
        assert isinstance(c.done(), RecvOnly)
        assert c.done() is todo().done()
        assert not is_done(c)
        assert repr(c) == "context.Background"
        assert c.err() is None and c.deadline() is None and c.value("k") is None

    run(main)


# Port of context/x_test.go TestTODO.
def test_todo() -> None:
    def main() -> None:
        c = todo()
        assert c is not None
        assert not is_done(c)
        assert repr(c) == "context.TODO"

    run(main)


# Port of context/x_test.go TestWithCancel.
def test_with_cancel() -> None:
    def main() -> None:
        c1, cancel = with_cancel(BG)
        assert repr(c1) == "context.Background.WithCancel"
        o = OtherContext(c1)
        c2, _ = with_cancel(o)
        contexts = [c1, o, c2]
        for i, c in enumerate(contexts):
            assert c.done() is not BG.done(), f"c[{i}].done() is never closed"
            assert c.err() is None, f"c[{i}].err() == {c.err()!r}"
            assert not is_done(c)
        cancel()
        for i, c in enumerate(contexts):
            # c2 hangs off a custom parent: a goroutine propagates the cancel.
            assert wait_done(c), f"c[{i}].done() blocked, but shouldn't have"
            assert isinstance(c.err(), Canceled), f"c[{i}].err() == {c.err()!r}"

    run(main)


# Port of context/x_test.go TestParentFinishesChild.
def test_parent_finishes_child() -> None:
    def main() -> None:
        # parent -> cancel_child; parent -> value_child -> timer_child
        parent, cancel = with_cancel(BG)
        cancel_child, stop1 = with_cancel(parent)
        value_child = with_value(parent, "key", "value")
        timer_child, stop2 = with_timeout(value_child, 36_000_000)
        for c in (parent, cancel_child, value_child, timer_child):
            assert not is_done(c)

        pc = parent
        assert isinstance(pc, C._CancelCtx)
        assert isinstance(cancel_child, C._CancelCtx)
        assert isinstance(timer_child, C._TimerCtx)
        assert pc._children is not None
        assert set(pc._children) == {cancel_child, timer_child}, "bad linkage"
        assert C._parent_cancel_ctx(cancel_child._parent) is pc
        assert C._parent_cancel_ctx(timer_child._parent) is pc

        cancel()
        assert not pc._children, "cancel didn't clear the parent's children"
        for name, c in [
            ("parent", parent),
            ("cancel_child", cancel_child),
            ("value_child", value_child),
            ("timer_child", timer_child),
        ]:
            assert is_done(c), f"{name}.done() blocked, but shouldn't have"
            assert isinstance(c.err(), Canceled), f"{name}.err() == {c.err()!r}"

        precanceled_child = with_value(parent, "key", "value")
        assert is_done(precanceled_child)
        assert isinstance(precanceled_child.err(), Canceled)
        stop1()
        stop2()

    run(main)


# Port of context/x_test.go TestChildFinishesFirst.
def test_child_finishes_first() -> None:
    def main() -> None:
        cancelable, stop = with_cancel(BG)
        for parent in (BG, cancelable):
            child, cancel = with_cancel(parent)
            assert not is_done(parent) and not is_done(child)
            assert isinstance(child, C._CancelCtx)
            pc = parent if isinstance(parent, C._CancelCtx) else None
            assert C._parent_cancel_ctx(child._parent) is pc
            if pc is not None:
                assert pc._children is not None and list(pc._children) == [child]
            cancel()
            if pc is not None:
                assert not pc._children, "child's cancel didn't remove it from its parent"
            assert is_done(child)
            assert isinstance(child.err(), Canceled)
            assert not is_done(parent)
            assert parent.err() is None
        stop()

    run(main)


def _test_deadline(c: Context, name: str, fail_after: float) -> None:
    assert wait_done(c, fail_after), f"{name}: context should have timed out"
    assert isinstance(c.err(), DeadlineExceeded), f"{name}: c.err() == {c.err()!r}"


# Port of context/x_test.go TestDeadline.
def test_deadline() -> None:
    def main() -> None:
        c, _ = with_deadline(BG, time.monotonic() + 0.05)
        assert repr(c).startswith("context.Background.WithDeadline(")
        _test_deadline(c, "with_deadline", 1)

        c, _ = with_deadline(BG, time.monotonic() + 0.05)
        _test_deadline(OtherContext(c), "with_deadline+other_context", 1)

        c, _ = with_deadline(BG, time.monotonic() + 0.05)
        c, _ = with_deadline(OtherContext(c), time.monotonic() + 4)
        _test_deadline(c, "with_deadline+other_context+with_deadline", 2)

        c, _ = with_deadline(BG, time.monotonic() - 0.001)
        _test_deadline(c, "with_deadline+in_the_past", 1)

        c, _ = with_deadline(BG, time.monotonic())
        _test_deadline(c, "with_deadline+now", 1)

    run(main)


# Port of context/x_test.go TestTimeout.
def test_timeout() -> None:
    def main() -> None:
        c, _ = with_timeout(BG, 0.05)
        assert repr(c).startswith("context.Background.WithDeadline(")
        _test_deadline(c, "with_timeout", 1)

        c, _ = with_timeout(BG, 0.05)
        _test_deadline(OtherContext(c), "with_timeout+other_context", 1)

        c, _ = with_timeout(BG, 0.05)
        c, _ = with_timeout(OtherContext(c), 3)
        _test_deadline(c, "with_timeout+other_context+with_timeout", 2)

    run(main)


# Port of context/x_test.go TestCanceledTimeout.
def test_canceled_timeout() -> None:
    def main() -> None:
        c, _ = with_timeout(BG, 1)
        o = OtherContext(c)
        c, cancel = with_timeout(o, 2)
        cancel()
        assert is_done(c)
        assert isinstance(c.err(), Canceled)

    run(main)


@dataclass(frozen=True)
class Key1:
    n: int


@dataclass(frozen=True)
class Key2:
    n: int


k1 = Key1(1)
k2 = Key2(1)  # same int as k1, different type
k3 = Key2(3)  # same type as k2, different int


# Port of context/x_test.go TestValues.
def test_values() -> None:
    def check(c: Context, name: str, v1: str, v2: str, v3: str) -> None:
        for key, want in ((k1, v1), (k2, v2), (k3, v3)):
            got = c.value(key)
            assert got == (want or None), f"{name}.value({key}) = {got!r}, want {want!r}"

    def main() -> None:
        c0 = background()
        check(c0, "c0", "", "", "")
        c1 = with_value(BG, k1, "c1k1")
        check(c1, "c1", "c1k1", "", "")
        assert repr(c1) == "context.Background.WithValue(Key1, c1k1)"
        c2 = with_value(c1, k2, "c2k2")
        check(c2, "c2", "c1k1", "c2k2", "")
        c3 = with_value(c2, k3, "c3k3")
        check(c3, "c3", "c1k1", "c2k2", "c3k3")
        c4 = with_value(c3, k1, None)
        check(c4, "c4", "", "c2k2", "c3k3")
        o0 = OtherContext(BG)
        check(o0, "o0", "", "", "")
        o1 = OtherContext(with_value(BG, k1, "c1k1"))
        check(o1, "o1", "c1k1", "", "")
        o2 = with_value(o1, k2, "o2k2")
        check(o2, "o2", "c1k1", "o2k2", "")
        o3 = OtherContext(c4)
        check(o3, "o3", "", "c2k2", "c3k3")
        o4 = with_value(o3, k3, None)
        check(o4, "o4", "", "c2k2", "")

    run(main)


# Port of context/x_test.go TestSimultaneousCancels.
def test_simultaneous_cancels() -> None:
    def main() -> None:
        root, cancel = with_cancel(BG)
        m: dict[Context, Any] = {root: cancel}
        q = [root]
        while q and len(m) < 100:
            parent = q.pop(0)
            for _ in range(4):
                ctx, cancel = with_cancel(parent)
                m[ctx] = cancel
                q.append(ctx)
        wg = WaitGroup()
        items = list(m.items())
        random.shuffle(items)
        for _, cancel in items:
            wg.go(cancel)
        random.shuffle(items)
        for ctx, _ in items:
            assert wait_done(ctx, 1), "timed out waiting for ctx.done()"
        done: Chan[None] = Chan()

        def waiter() -> None:
            wg.wait()
            done.close()

        go(waiter)
        i, _ = select(recv(done), recv(after(1)))
        assert i == 0, "timed out waiting for cancel functions"

    run(main)


# Port of context/x_test.go TestInterlockedCancels.
def test_interlocked_cancels() -> None:
    def main() -> None:
        parent, cancel_parent = with_cancel(BG)
        child, cancel_child = with_cancel(parent)

        def f() -> None:
            d = parent.done()
            assert d is not None
            d.recv()
            cancel_child()

        go(f)
        cancel_parent()
        assert wait_done(child, 1), "timed out waiting for child.done()"

    run(main)


def _test_layers(seed: int, test_timeout: bool) -> None:
    rng = random.Random(seed)
    timeout = 0.2
    min_layers = 30
    vals: list[object] = []
    cancels: list[Any] = []
    num_timers = 0
    ctx: Context = BG
    i = 0
    while i < min_layers or num_timers == 0 or not cancels or not vals:
        i += 1
        kind = rng.randrange(3)
        if kind == 0:
            v = object()
            ctx = with_value(ctx, v, v)
            vals.append(v)
        elif kind == 1:
            ctx, cancel = with_cancel(ctx)
            cancels.append(cancel)
        else:
            ctx, cancel = with_timeout(ctx, timeout)
            cancels.append(cancel)
            num_timers += 1

    def check_values(when: str) -> None:
        for key in vals:
            assert ctx.value(key) is key, f"seed={seed}: {when}: ctx.value({key}) is wrong"

    assert not is_done(ctx), f"seed={seed}: ctx should not be canceled yet"
    assert repr(ctx).startswith("context.Background."), f"seed={seed}"
    check_values("before cancel")
    if test_timeout:
        assert wait_done(ctx, timeout + 1), f"seed={seed}: ctx should have timed out"
        check_values("after timeout")
    else:
        rng.choice(cancels)()
        assert is_done(ctx), f"seed={seed}: ctx should be canceled"
        check_values("after cancel")
    for cancel in cancels:
        cancel()


# Port of context/x_test.go TestLayersCancel.
def test_layers_cancel() -> None:
    def main() -> None:
        for _ in range(20):
            _test_layers(random.randrange(1 << 30), False)

    run(main)


# Port of context/x_test.go TestLayersTimeout.
def test_layers_timeout() -> None:
    run(_test_layers, random.randrange(1 << 30), True)


# Port of context/x_test.go TestCancelRemoves.
def test_cancel_removes() -> None:
    def children(ctx: Context) -> int:
        assert isinstance(ctx, C._CancelCtx)
        return len(ctx._children or ())

    def main() -> None:
        ctx, _ = with_cancel(BG)
        assert children(ctx) == 0
        _, cancel = with_cancel(ctx)
        assert children(ctx) == 1
        cancel()
        assert children(ctx) == 0, "after cancelling a with_cancel child"

        ctx, _ = with_cancel(BG)
        _, cancel = with_timeout(ctx, 3600)
        assert children(ctx) == 1
        cancel()
        assert children(ctx) == 0, "after cancelling a with_timeout child"

        ctx, _ = with_cancel(BG)
        stop = after_func(ctx, lambda: None)
        assert children(ctx) == 1
        assert stop()
        assert children(ctx) == 0, "after stopping an after_func"

    run(main)


# Port of context/x_test.go TestWithCancelCanceledParent.
def test_with_cancel_canceled_parent() -> None:
    def main() -> None:
        parent, pcancel = with_cancel_cause(BG)
        cause_err = ValueError("cause")
        pcancel(cause_err)
        c, _ = with_cancel(parent)
        assert wait_done(c), "timeout waiting for done"
        assert isinstance(c.err(), Canceled)
        assert cause(c) is cause_err

    run(main)


# Port of context/x_test.go TestWithCancelSimultaneouslyCanceledParent.
def test_with_cancel_simultaneously_canceled_parent() -> None:
    def main() -> None:
        for _ in range(100):
            parent, pcancel = with_cancel_cause(BG)
            cause_err = ValueError("cause")
            go(pcancel, cause_err)
            c, _ = with_cancel(parent)
            assert wait_done(c), "timeout waiting for done"
            assert isinstance(c.err(), Canceled)
            assert cause(c) is cause_err

    run(main)


# Port of context/x_test.go TestWithValueChecksKey.
def test_with_value_checks_key() -> None:
    with pytest.raises(TypeError, match="nil key"):
        with_value(BG, None, "bar")


# Port of context/x_test.go TestInvalidDerivedFail.
def test_invalid_derived_fail() -> None:
    for derive in (
        lambda: with_cancel(None),  # type: ignore[arg-type]
        lambda: with_cancel_cause(None),  # type: ignore[arg-type]
        lambda: with_deadline(None, time.monotonic()),  # type: ignore[arg-type]
        lambda: with_timeout(None, 1),  # type: ignore[arg-type]
        lambda: with_value(None, "k", "v"),  # type: ignore[arg-type]
        lambda: without_cancel(None),  # type: ignore[arg-type]
    ):
        with pytest.raises(TypeError, match="nil parent"):
            derive()


# Port of context/x_test.go TestDeadlineExceededSupportsTimeout.
def test_deadline_exceeded_supports_timeout() -> None:
    e = DeadlineExceeded()
    assert isinstance(e, TimeoutError)
    assert str(e) == "context deadline exceeded"
    assert str(Canceled()) == "context canceled"
    assert not isinstance(Canceled(), TimeoutError)


# Port of context/x_test.go TestCustomContextGoroutines.
def test_custom_context_goroutines() -> None:
    def main() -> None:
        base = num_goroutine()

        def created(n: int) -> None:
            assert num_goroutine() == base + n, f"{num_goroutine() - base} goroutines, want {n}"

        _, cancel0 = with_cancel(MyDoneCtx(BG))
        created(1)
        cancel0()
        while num_goroutine() != base:
            gosched()  # the watcher sees the child cancelled and ends

        _, cancel0 = with_timeout(MyDoneCtx(BG), 3600)
        created(1)
        cancel0()
        while num_goroutine() != base:
            gosched()

        ctx1, cancel1 = with_cancel(BG)
        created(0)
        ctx2 = OtherContext(ctx1)
        ctx3, cancel3 = with_cancel(ctx2)
        created(0)  # ctx2 passes ctx1's done channel through: linked directly
        _, cancel3b = with_cancel(MyDoneCtx(ctx2))
        created(1)  # ctx1 is not providing done: it must not be used
        ctx4, cancel4 = with_timeout(ctx3, 3600)
        created(1)
        ctx5, cancel5 = with_cancel(ctx4)
        created(1)
        cancel5()
        created(1)
        _, cancel6 = with_timeout(ctx5, 3600)
        created(1)
        cancel6()
        cancel1()
        _, cancel7 = with_cancel(ctx5)
        created(1)
        for c in (cancel3, cancel3b, cancel4, cancel7):
            c()
        while num_goroutine() != base:
            gosched()

    run(main)


class CauseOnly(OtherContext):
    """A custom context that reports an error but knows no cause."""

    def __init__(self, err: Canceled) -> None:
        super().__init__(BG)
        self._err = err

    def err(self) -> Canceled | DeadlineExceeded | None:
        return self._err


# Port of context/x_test.go TestCause.
def test_cause() -> None:
    def main() -> None:
        parent_cause = ValueError("parentCause")
        child_cause = ValueError("childCause")
        tooslow = ValueError("tooslow")
        finishedEarly = ValueError("finishedEarly")

        def check(name: str, ctx: Context, err: type | None, want: object) -> None:
            if err is None:
                assert ctx.err() is None, name
            else:
                assert isinstance(ctx.err(), err), f"{name}: err() = {ctx.err()!r}"
            got = cause(ctx)
            if isinstance(want, type):
                assert isinstance(got, want), f"{name}: cause = {got!r}"
            else:
                assert got is want, f"{name}: cause = {got!r}, want {want!r}"

        ctx, _ = with_cancel(BG)
        check("with_cancel", ctx, None, None)

        ctx, cancel = with_cancel(BG)
        cancel()
        check("with_cancel canceled", ctx, Canceled, Canceled)
        assert cause(ctx) is ctx.err(), "without a cause, cause(ctx) is ctx.err()"

        ctx, cancel_cause = with_cancel_cause(BG)
        cancel_cause(child_cause)
        check("with_cancel_cause", ctx, Canceled, child_cause)

        ctx, cancel_cause = with_cancel_cause(BG)
        cancel_cause(None)
        check("with_cancel_cause nil", ctx, Canceled, Canceled)

        parent, pcancel = with_cancel_cause(BG)
        ctx, _ = with_cancel(parent)
        pcancel(parent_cause)
        check("parent canceled with cause", ctx, Canceled, parent_cause)

        parent, pcancel = with_cancel_cause(BG)
        ctx, ccancel = with_cancel_cause(parent)
        ccancel(child_cause)
        pcancel(parent_cause)
        check("child canceled first", ctx, Canceled, child_cause)

        parent, pcancel = with_cancel_cause(BG)
        ctx, ccancel = with_cancel_cause(parent)
        pcancel(parent_cause)
        ccancel(child_cause)
        check("parent canceled first", ctx, Canceled, parent_cause)

        ctx, cancel = with_timeout(BG, 0)
        check("with_timeout expired", ctx, DeadlineExceeded, DeadlineExceeded)
        cancel()
        check("with_timeout expired then canceled", ctx, DeadlineExceeded, DeadlineExceeded)

        ctx, cancel = with_timeout(BG, 3600)
        cancel()
        check("with_timeout canceled", ctx, Canceled, Canceled)

        parent, pcancel = with_cancel_cause(BG)
        ctx, cancel = with_timeout(parent, 3600)
        pcancel(parent_cause)
        check("parent of with_timeout canceled with cause", ctx, Canceled, parent_cause)
        cancel()

        ctx, cancel = with_timeout_cause(BG, 0, tooslow)
        check("with_timeout_cause expired", ctx, DeadlineExceeded, tooslow)
        cancel()

        ctx, cancel = with_timeout_cause(BG, 3600, tooslow)
        cancel()
        check("with_timeout_cause canceled", ctx, Canceled, Canceled)

        ctx, cancel = with_deadline_cause(BG, time.monotonic() + 3600, tooslow)
        parent_ctx, pcc = with_cancel_cause(ctx)
        pcc(finishedEarly)
        check("child of with_deadline_cause", parent_ctx, Canceled, finishedEarly)
        cancel()

        parent, pcancel = with_cancel_cause(BG)
        pcancel(parent_cause)
        check("with_value over canceled", with_value(parent, "k", "v"), Canceled, parent_cause)
        check("custom context over canceled", OtherContext(parent), Canceled, parent_cause)
        check("without_cancel", without_cancel(parent), None, None)

        err = Canceled()
        check("custom context with only err", CauseOnly(err), Canceled, err)

    run(main)


# Port of context/x_test.go TestCauseRace.
def test_cause_race() -> None:
    def main() -> None:
        for _ in range(50):
            cause_err = ValueError("TestCauseRace")
            ctx, cancel = with_cancel_cause(BG)
            go(cancel, cause_err)
            while ctx.err() is None:
                gosched()
            assert cause(ctx) is cause_err

    run(main)


def test_cause_race_with_threads() -> None:
    def main() -> None:
        for _ in range(50):
            cause_err = ValueError("race")
            ctx, cancel = with_cancel_cause(BG)
            t = Thread(cancel, cause_err)
            while True:
                e = ctx.err()
                c = cause(ctx)
                if e is not None:
                    # err set implies the cause is set: never an err without one
                    assert cause(ctx) is cause_err
                    break
                assert c is None
                gosched()
            t.join()

    run(main)


# Port of context/x_test.go TestWithoutCancel.
def test_without_cancel() -> None:
    def main() -> None:
        key, value = "key", "value"
        ctx = with_value(BG, key, value)
        ctx = without_cancel(ctx)
        assert ctx.value(key) == value
        assert repr(ctx).endswith(".WithoutCancel")
        parent, cancel = with_timeout(BG, 3600)
        child = without_cancel(with_value(parent, key, value))
        cancel()
        assert is_done(parent)
        assert child.done() is BG.done()
        assert child.err() is None
        assert child.deadline() is None
        assert child.value(key) == value
        assert cause(child) is None
        # A child derived from it links to nothing: no goroutine either.
        n = num_goroutine()
        grandchild, gcancel = with_cancel(child)
        assert num_goroutine() == n
        assert not is_done(grandchild)
        gcancel()

    run(main)


# Port of context/x_test.go TestAfterFuncCalledAfterCancel.
def test_after_func_called_after_cancel() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        donec: Chan[None] = Chan()
        stop = after_func(ctx, donec.close)
        i, _ = select(recv(donec), default=True)
        assert i == -1, "after_func called before context is done"
        cancel()
        i, _ = select(recv(donec), recv(after(5)))
        assert i == 0, "after_func not called after context is canceled"
        assert not stop(), "stop() = True, want False"

    run(main)


# Port of context/x_test.go TestAfterFuncCalledAfterTimeout.
def test_after_func_called_after_timeout() -> None:
    def main() -> None:
        ctx, cancel = with_timeout(BG, 0.005)
        donec: Chan[None] = Chan()
        after_func(ctx, donec.close)
        i, _ = select(recv(donec), recv(after(5)))
        assert i == 0, "after_func not called after timeout"
        cancel()

    run(main)


# Port of context/x_test.go TestAfterFuncCalledImmediately.
def test_after_func_called_immediately() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        cancel()
        donec: Chan[None] = Chan()
        after_func(ctx, donec.close)
        i, _ = select(recv(donec), recv(after(5)))
        assert i == 0, "after_func not called for already-canceled context"

    run(main)


# Port of context/x_test.go TestAfterFuncNotCalledAfterStop.
def test_after_func_not_called_after_stop() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        called = [False]
        stop = after_func(ctx, lambda: called.__setitem__(0, True))
        assert stop(), "stop() = False, want True"
        n = num_goroutine()
        cancel()
        assert num_goroutine() == n, "a goroutine was started for a stopped after_func"
        gosched()
        assert not called[0]
        assert not stop(), "stop() = True, want False"

    run(main)


# Port of context/x_test.go TestAfterFuncCalledAsynchronously.
def test_after_func_called_asynchronously() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        donec: Chan[Any] = Chan(1)
        canceller = current()

        def f() -> None:
            donec.send(current())

        after_func(ctx, f)
        cancel()  # returns before f runs: f has a goroutine of its own
        g = donec.recv()
        assert g is not canceller

    run(main)


def test_after_func_on_a_context_that_is_never_cancelled() -> None:
    def main() -> None:
        stop = after_func(BG, lambda: None)
        assert stop()
        assert not stop()

    run(main)


class AfterFuncContext(Context):
    """A custom context that supports registering after-funcs (Go's
    afterFuncContext in afterfunc_test.go)."""

    def __init__(self) -> None:
        self.after_funcs: dict[object, Any] = {}
        self._done: Chan[None] = Chan()
        self._err: Canceled | None = None

    def deadline(self) -> float | None:
        return None

    def done(self) -> RecvChan[None]:
        return self._done

    def err(self) -> Canceled | DeadlineExceeded | None:
        return self._err

    def value(self, key: object) -> Any:
        return None

    def after_func(self, f: Any) -> Any:
        k = object()
        self.after_funcs[k] = f

        def stop() -> bool:
            return self.after_funcs.pop(k, None) is not None

        return stop

    def cancel(self, err: Canceled) -> None:
        if self._err is not None:
            return
        self._err = err
        for f in self.after_funcs.values():
            go(f)
        self.after_funcs.clear()


# Port of context/afterfunc_test.go TestCustomContextAfterFuncCancel.
def test_custom_context_after_func_cancel() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext()
        ctx1, cancel = with_cancel(ctx0)
        ctx0.cancel(Canceled())
        assert wait_done(ctx1)
        cancel()

    run(main)


# Port of context/afterfunc_test.go TestCustomContextAfterFuncTimeout.
def test_custom_context_after_func_timeout() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext()
        ctx1, cancel = with_timeout(ctx0, 3600)
        ctx0.cancel(Canceled())
        assert wait_done(ctx1)
        cancel()

    run(main)


# Port of context/afterfunc_test.go TestCustomContextAfterFuncAfterFunc.
def test_custom_context_after_func_after_func() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext()
        donec: Chan[None] = Chan()
        stop = after_func(ctx0, donec.close)
        ctx0.cancel(Canceled())
        i, _ = select(recv(donec), recv(after(5)))
        assert i == 0
        stop()

    run(main)


# Port of context/afterfunc_test.go TestCustomContextAfterFuncUnregisterCancel.
def test_custom_context_after_func_unregister_cancel() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext()
        _, cancel1 = with_cancel(ctx0)
        _, cancel2 = with_cancel(ctx0)
        assert len(ctx0.after_funcs) == 2
        cancel1()
        cancel2()
        assert len(ctx0.after_funcs) == 0

    run(main)


# Port of context/afterfunc_test.go TestCustomContextAfterFuncUnregisterTimeout.
def test_custom_context_after_func_unregister_timeout() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext()
        _, cancel = with_timeout(ctx0, 3600)
        assert len(ctx0.after_funcs) == 1
        cancel()
        assert len(ctx0.after_funcs) == 0

    run(main)


# Port of context/afterfunc_test.go TestCustomContextAfterFuncUnregisterAfterFunc.
def test_custom_context_after_func_unregister_after_func() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext()
        stop = after_func(ctx0, lambda: None)
        assert len(ctx0.after_funcs) == 1
        stop()
        assert len(ctx0.after_funcs) == 0

    run(main)


# -- our own behaviour tests --------------------------------------------------


def test_err_is_the_same_instance_on_every_call_and_shared_by_descendants() -> None:
    def main() -> None:
        parent, cancel = with_cancel(BG)
        child, _ = with_cancel(parent)
        grandchild = with_value(child, "k", 1)
        cancel()
        e = parent.err()
        assert isinstance(e, Canceled)
        assert parent.err() is e
        assert child.err() is e
        assert grandchild.err() is e
        cancel()  # a second cancel changes nothing
        assert parent.err() is e

    run(main)


def test_done_is_one_channel_closed_on_cancel_and_works_in_select() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        d = ctx.done()
        assert isinstance(d, Chan)
        assert ctx.done() is d
        work: Chan[int] = Chan()
        got: list[str] = []

        def worker() -> None:
            while True:
                i, v = select(recv(work), recv(ctx.done()))
                if i == 1:
                    got.append("cancelled")
                    return
                got.append(f"job {v}")

        g = go(worker)
        work.send(1)
        work.send(2)
        wait_blocked(g, "select")
        cancel()
        while g.state != "dead":
            gosched()
        assert got == ["job 1", "job 2", "cancelled"]
        assert d.closed

    run(main)


def test_done_after_cancel_is_a_closed_channel() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        cancel()
        d = ctx.done()
        assert d is not None
        assert d.recv_ok() == (None, False)

    run(main)


def test_deadline_of_a_child_is_never_later_than_its_parent() -> None:
    def main() -> None:
        now = time.monotonic()
        parent, pc = with_deadline(BG, now + 10)
        assert parent.deadline() == now + 10
        later, c1 = with_deadline(parent, now + 20)
        assert later.deadline() == now + 10
        earlier, c2 = with_deadline(parent, now + 5)
        assert earlier.deadline() == now + 5
        v = with_value(earlier, "k", "v")
        assert v.deadline() == now + 5
        plain, c3 = with_cancel(earlier)
        assert plain.deadline() == now + 5
        assert with_cancel(BG)[0].deadline() is None
        for c in (c3, c2, c1, pc):
            c()

    run(main)


def test_deadline_timer_counts_as_a_waker_and_is_released_on_cancel() -> None:
    def main() -> None:
        p = _sched.getp()
        assert p is not None
        before = p.ntimers
        ctx, cancel = with_timeout(BG, 3600)
        assert p.ntimers == before + 1
        cancel()
        assert p.ntimers == before, "a cancelled context released its timer"
        ctx, cancel = with_timeout(BG, 0.01)
        d = ctx.done()
        assert d is not None
        d.recv()  # nothing else runs: the deadline timer is what wakes us
        assert isinstance(ctx.err(), DeadlineExceeded)
        assert p.ntimers == before
        cancel()

    run(main)


def test_waiting_on_a_context_nobody_cancels_is_a_deadlock() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        d = ctx.done()
        assert d is not None
        with pytest.raises(Deadlock):
            d.recv()
        cancel()

    run(main)


def _children_of(parent: Context) -> list[tuple[Context, Any]]:
    return [
        with_cancel(parent),
        with_cancel_cause(parent),
        with_timeout(parent, 3600),
        with_deadline(with_value(parent, "k", "v"), time.monotonic() + 3600),
    ]


def test_cancelled_child_is_not_kept_alive_by_its_parent() -> None:
    def main() -> None:
        parent, pcancel = with_cancel(BG)
        assert isinstance(parent, C._CancelCtx)
        refs = []
        for child, cancel in _children_of(parent):
            assert parent._children
            refs.append(weakref.ref(child))
            cancel()
            del child, cancel
        stop = after_func(parent, lambda: None)
        assert stop()
        del stop
        gc.collect()
        assert all(r() is None for r in refs), "a cancelled child is still alive"
        assert not parent._children
        # The parent itself is collectable once cancelled too (its timerless
        # state holds nothing of the runtime's).
        pref = weakref.ref(parent)
        pcancel()
        del parent, pcancel
        gc.collect()
        assert pref() is None

    run(main)


def test_cancelled_deadline_context_is_not_kept_alive_by_its_timer() -> None:
    def main() -> None:
        ctx, cancel = with_timeout(BG, 3600)
        ref = weakref.ref(ctx)
        cancel()
        del ctx, cancel
        gc.collect()
        assert ref() is None

    run(main)


def test_child_expiring_by_deadline_unlinks_itself() -> None:
    def main() -> None:
        parent, pcancel = with_cancel(BG)
        child, _ = with_timeout(parent, 0.005)
        assert wait_done(child)
        assert isinstance(parent, C._CancelCtx)
        assert not parent._children
        assert parent.err() is None
        pcancel()

    run(main)


def test_deep_chains_cancel_and_look_up_without_recursion() -> None:
    def main() -> None:
        root, cancel = with_cancel(BG)
        ctx: Context = root
        for i in range(5000):
            ctx = with_cancel(ctx)[0] if i % 2 else with_value(ctx, i, i)
        assert ctx.value(0) == 0
        assert ctx.value("missing") is None
        assert ctx.err() is None
        cancel()
        assert is_done(ctx)
        assert ctx.err() is root.err()

    run(main)


def test_cancel_cause_rejects_a_non_exception() -> None:
    def main() -> None:
        _, cancel = with_cancel_cause(BG)
        with pytest.raises(TypeError, match="cause"):
            cancel("nope")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="cause"):
            with_timeout_cause(BG, 1, "nope")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="when"):
            with_deadline(BG, "soon")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            after_func(BG, 42)  # type: ignore[arg-type]

    run(main)


def test_cancel_from_a_thread_wakes_a_goroutine() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        g = go(lambda: ctx.done().recv())
        wait_blocked(g, "chan receive")
        Thread(cancel).join()
        while g.state != "dead":
            gosched()
        assert isinstance(ctx.err(), Canceled)

    run(main)


def test_thread_waits_on_done_and_a_goroutine_cancels() -> None:
    def main() -> None:
        ctx, cancel = with_cancel(BG)
        t = Thread(lambda: ctx.done().recv_ok())
        wait_thread_blocked(t.thread, "chan receive")
        go(cancel)
        assert t.join() == (None, False)

    run(main)


def test_deadline_made_on_a_thread_fires() -> None:
    def body() -> object:
        ctx, cancel = with_timeout(BG, 0.01)
        d = ctx.done()
        assert d is not None
        d.recv()
        cancel()
        return ctx.err()

    def main() -> None:
        assert isinstance(Thread(body).join(), DeadlineExceeded)

    run(main)


def test_timeout_fires_while_the_main_goroutine_sleeps() -> None:
    def main() -> None:
        ctx, cancel = with_timeout(BG, 0.01)
        sleep(0.03)
        assert is_done(ctx)
        assert isinstance(ctx.err(), DeadlineExceeded)
        cancel()

    run(main)


def test_concurrent_cancels_from_threads_and_goroutines() -> None:
    def main() -> None:
        for _ in range(30):
            root, cancel = with_cancel(BG)
            leaves = []
            for _ in range(10):
                c, cc = with_cancel(root)
                leaves.append((c, cc))
            ts = [Thread(cc) for _, cc in leaves[:5]]
            for _, cc in leaves[5:]:
                go(cc)
            go(cancel)
            for c, _ in leaves:
                assert wait_done(c)
            for t in ts:
                t.join()
            assert isinstance(root, C._CancelCtx) and not root._children

    run(main)


def test_public_names() -> None:
    assert set(C.__all__) >= {
        "Context",
        "Canceled",
        "DeadlineExceeded",
        "background",
        "todo",
        "with_cancel",
        "with_cancel_cause",
        "with_timeout",
        "with_deadline",
        "with_value",
        "without_cancel",
        "after_func",
        "cause",
    }
    assert threading is not None


NOT_CONTEXTS = [5, "ctx", object(), Chan[None]()]


@pytest.mark.parametrize("bad", NOT_CONTEXTS, ids=lambda b: type(b).__name__)
def test_every_function_taking_a_context_names_it_in_a_type_error(bad: object) -> None:
    # Not an AttributeError from deep inside (or, for with_value and
    # without_cancel, no error at all: a context that fails later).
    calls: dict[str, tuple[str, Any]] = {
        "with_cancel": ("parent", lambda: with_cancel(bad)),  # type: ignore[arg-type]
        "with_cancel_cause": ("parent", lambda: with_cancel_cause(bad)),  # type: ignore[arg-type]
        "with_deadline": ("parent", lambda: with_deadline(bad, time.monotonic() + 1)),  # type: ignore[arg-type]
        "with_deadline_cause": (
            "parent",
            lambda: with_deadline_cause(bad, time.monotonic() + 1, None),  # type: ignore[arg-type]
        ),
        "with_timeout": ("parent", lambda: with_timeout(bad, 1)),  # type: ignore[arg-type]
        "with_timeout_cause": ("parent", lambda: with_timeout_cause(bad, 1, None)),  # type: ignore[arg-type]
        "with_value": ("parent", lambda: with_value(bad, "k", "v")),  # type: ignore[arg-type]
        "without_cancel": ("parent", lambda: without_cancel(bad)),  # type: ignore[arg-type]
        "after_func": ("ctx", lambda: after_func(bad, lambda: None)),  # type: ignore[arg-type]
        "cause": ("ctx", lambda: cause(bad)),  # type: ignore[arg-type]
    }
    for func, (name, call) in calls.items():
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == f"{func}: {name} must be a Context, got {type(bad).__name__}"


def test_cause_and_after_func_of_none_name_the_argument() -> None:
    with pytest.raises(TypeError, match=r"^cause: ctx must be a Context, got NoneType$"):
        cause(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^after_func: ctx must be a Context, got NoneType$"):
        after_func(None, lambda: None)  # type: ignore[arg-type]

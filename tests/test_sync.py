"""The sync toolkit as a whole: exported names, shapes promised by docs/api.md,
and behaviour shared by every primitive (wait reasons, use before run())."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

import goroutines
from _synctest import wait_blocked
from goroutines import (
    AtomicInt,
    Chan,
    Cond,
    Mutex,
    Once,
    RWMutex,
    Semaphore,
    WaitGroup,
    go,
    gosched,
    run,
)
from goroutines import context as ctxmod


def _locked_wait(lock: Callable[[], None], unlock: Callable[[], None], c: Cond) -> None:
    """Wait on c once, holding its lock as a waiter must."""
    lock()
    c.wait()
    unlock()


SYNC_NAMES = [
    "WaitGroup",
    "Mutex",
    "RWMutex",
    "Once",
    "once_func",
    "once_value",
    "once_values",
    "Cond",
    "Semaphore",
    "AtomicInt",
]


def test_sync_names_are_exported() -> None:
    for name in SYNC_NAMES:
        assert name in goroutines.__all__, name
        assert getattr(goroutines, name) is not None


@pytest.mark.parametrize("cls", [WaitGroup, Mutex, RWMutex, Once, Cond, Semaphore, AtomicInt])
def test_public_classes_are_final_and_document_their_go_equivalent(cls: type) -> None:
    assert getattr(cls, "__final__", False), f"{cls.__name__} is not @final"
    doc = inspect.getdoc(cls) or ""
    assert "Go:" in doc, f"{cls.__name__}'s docstring names no Go equivalent"
    for name, member in vars(cls).items():
        if name.startswith("_") or not callable(member):
            continue
        assert "Go" in (inspect.getdoc(member) or ""), f"{cls.__name__}.{name}"


def test_signatures_match_the_api() -> None:
    assert list(inspect.signature(Semaphore.acquire).parameters) == ["self", "ctx", "k"]
    assert inspect.signature(Semaphore.acquire).parameters["k"].default == 1
    assert inspect.signature(Semaphore.try_acquire).parameters["k"].default == 1
    assert inspect.signature(Semaphore.release).parameters["k"].default == 1
    assert inspect.signature(AtomicInt).parameters["value"].default == 0
    assert list(inspect.signature(Cond).parameters) == ["locker"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: _held(Mutex()).lock, "sync.Mutex.Lock"),
        (lambda: _held_rw_reader().lock, "sync.RWMutex.Lock"),
        (lambda: _held_rw_writer().rlock, "sync.RWMutex.RLock"),
        (lambda: _pending_wg().wait, "sync.WaitGroup.Wait"),
        (
            lambda: (lambda s: lambda: s.acquire(ctxmod.background()))(_full_sem()),
            "semacquire",
        ),
    ],
)
def test_wait_reasons_are_go_s(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    def main() -> None:
        g = go(make())
        wait_blocked(g, reason)
        assert g.wait_reason == reason
        assert f"[{reason}]" in goroutines.dump()

    run(main)


def _held(m: Mutex) -> Mutex:
    m.lock()
    return m


def _held_rw_reader() -> RWMutex:
    rw = RWMutex()
    rw.rlock()
    return rw


def _held_rw_writer() -> RWMutex:
    rw = RWMutex()
    rw.lock()
    return rw


def _pending_wg() -> WaitGroup:
    wg = WaitGroup()
    wg.add(1)
    return wg


def _full_sem() -> Semaphore:
    s = Semaphore(1)
    s.acquire(ctxmod.background())
    return s


def test_cond_wait_reason() -> None:
    def main() -> None:
        m = Mutex()
        c = Cond(m)
        g = go(_locked_wait, m.lock, m.unlock, c)
        wait_blocked(g, "sync.Cond.Wait")
        c.signal()
        while g.state != "dead":
            gosched()

    run(main)


def test_cond_accepts_any_locker() -> None:
    class ChanLocker:
        """A Locker made of a channel of capacity 1."""

        def __init__(self) -> None:
            self.c: Chan[None] = Chan(1)

        def lock(self) -> None:
            self.c.send(None)

        def unlock(self) -> None:
            self.c.recv()

    def main() -> None:
        lk = ChanLocker()
        c = Cond(lk)
        ready = [False]

        def waiter() -> None:
            lk.lock()
            while not ready[0]:
                c.wait()
            lk.unlock()

        g = go(waiter)
        wait_blocked(g, "sync.Cond.Wait")
        lk.lock()
        ready[0] = True
        c.broadcast()
        lk.unlock()
        while g.state != "dead":
            gosched()

    run(main)

    with pytest.raises(TypeError, match="locker"):
        Cond(object())  # type: ignore[arg-type]


def test_primitives_work_without_run() -> None:
    # The main thread's own code becomes goroutine 1 on first use
    # (docs/api.md#the-main-goroutine-and-the-implicit-model).
    code = textwrap.dedent(
        """
        from goroutines import Mutex, WaitGroup, Once, AtomicInt, go
        from goroutines import context
        mu, wg, n = Mutex(), WaitGroup(), AtomicInt()
        def work():
            with mu:
                n.add(1)
        for _ in range(10):
            wg.go(work)
        wg.wait()
        once = Once()
        once.do(lambda: n.add(100))
        once.do(lambda: n.add(100))
        ctx, cancel = context.with_timeout(context.background(), 0.01)
        ctx.done().recv()
        print(n.load(), type(ctx.err()).__name__)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout.split() == ["110", "DeadlineExceeded"]

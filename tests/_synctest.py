"""Helpers shared by the tests: wait until a goroutine or a thread is parked
with a given wait reason or until a condition holds (observable states, not
sleeps), and run a function on a plain OS thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from goroutines import Chan, Goroutine, after, gosched, recv, select, sleep
from goroutines._runtime import sched as _sched

LIMIT = 10.0  # seconds before a helper gives up and fails the test


def wait_until(cond: Callable[[], bool], what: str, rounds: int = 10_000) -> None:
    """Yield to the other goroutines until cond() holds (they must be runnable)."""
    for _ in range(rounds):
        if cond():
            return
        gosched()
    raise AssertionError(f"gave up waiting for {what}")


def wait_parked(g: Goroutine, reason: str) -> None:
    """Yield until g is parked with wait reason `reason` (it must get there
    by running on this thread)."""
    wait_until(
        lambda: g.state == "waiting" and g.wait_reason == reason, f"{g} to park in {reason!r}"
    )


def wait_blocked(g: Goroutine, reason: str) -> None:
    """Let other goroutines run until g is parked with wait reason `reason`."""
    deadline = time.monotonic() + LIMIT
    spins = 0
    while not (g.state == "waiting" and g.wait_reason == reason):
        if time.monotonic() > deadline:
            raise AssertionError(f"{g!r} never blocked on {reason!r}")
        spins += 1
        if spins % 64:
            gosched()
        else:
            sleep(0.0002)  # let goroutines that wait on other threads progress


def thread_parked(t: threading.Thread, reason: str) -> bool:
    w = _sched._parked_threads.get(t.ident or -1)
    return w is not None and w.reason == reason and not w.token.locked()


def wait_thread_blocked(t: threading.Thread, reason: str) -> None:
    """Until the foreign thread t is parked in the runtime with `reason`.
    Polls an observable state; the goroutine scheduler keeps running."""
    deadline = time.monotonic() + LIMIT
    while not thread_parked(t, reason):
        if time.monotonic() > deadline:
            raise AssertionError(f"thread {t.name} never blocked on {reason!r}")
        sleep(0.0002)


class Thread:
    """A plain OS thread running fn. join() from a goroutine parks only that
    goroutine (on a channel the thread sends to when it ends) and re-raises
    what fn raised."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.exc: BaseException | None = None
        self.result: Any = None
        self.finished: Chan[None] = Chan(1)

        def body() -> None:
            try:
                self.result = fn(*args)
            except BaseException as e:
                self.exc = e
            finally:
                self.finished.send(None)

        self.thread = threading.Thread(target=body, daemon=True)
        self.thread.start()

    def join(self) -> Any:
        i, _ = select(recv(self.finished), recv(after(LIMIT)))
        if i != 0:
            raise AssertionError("thread did not finish")
        self.thread.join(LIMIT)  # it has only to return now
        if self.exc is not None:
            raise self.exc
        return self.result


class fast_switching:
    """Make the GIL switch threads every 10 µs, so thread interleavings that
    are rare at the default 5 ms actually happen."""

    def __enter__(self) -> None:
        import sys

        self.old = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)

    def __exit__(self, *exc: object) -> None:
        import sys

        sys.setswitchinterval(self.old)

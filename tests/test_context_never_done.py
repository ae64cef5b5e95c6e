"""done() of a context that is never cancelled: one receive-only channel that
is never closed (Go returns a nil channel), so a receive from it blocks
forever, a select over it takes its other cases, and deriving from such a
context links nothing and starts no goroutine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _synctest import wait_blocked
from goroutines import (
    Chan,
    RecvOnly,
    Semaphore,
    go,
    num_goroutine,
    recv,
    recv_ok,
    run,
    select,
    send,
)
from goroutines import context as C
from goroutines.errgroup import with_context

BG = C.background()
NEVER = BG.done()


def never_cancelled() -> list[C.Context]:
    cancellable, cancel = C.with_cancel(BG)
    cancel()
    return [
        BG,
        C.todo(),
        C.with_value(BG, "k", 1),
        C.with_value(C.with_value(C.todo(), "k", 1), "j", 2),
        C.without_cancel(cancellable),
        C.with_value(C.without_cancel(cancellable), "k", 1),
        C.without_cancel(BG),
    ]


def test_every_never_cancelled_context_returns_one_receive_only_channel() -> None:
    assert type(NEVER) is RecvOnly
    for ctx in never_cancelled():
        assert ctx.done() is NEVER, repr(ctx)
        assert ctx.err() is None


def test_a_receive_from_it_is_never_ready() -> None:
    def main() -> None:
        for ctx in never_cancelled() * 50:
            assert select(recv(ctx.done()), default=True) == (-1, None)
            assert select(recv_ok(ctx.done()), default=True) == (-1, None)
            assert NEVER.try_recv() == (None, False, False)
        assert len(NEVER) == 0 and NEVER.cap == 0

    run(main)


def test_select_takes_the_other_case() -> None:
    def main() -> None:
        ready: Chan[int] = Chan(1)
        for i in range(200):
            ready.send(i)
            assert select(recv(NEVER), recv(ready)) == (1, i)
        # Also when the other case becomes ready only after the select parked.
        for i in range(50):
            later: Chan[int] = Chan()
            got: Chan[tuple[int, object]] = Chan(1)
            g = go(lambda later=later, got=got: got.send(select(recv(NEVER), recv(later))))
            wait_blocked(g, "select")
            later.send(i)
            assert got.recv() == (1, i)
        assert not C._never_chan._recvq, "a select left a waiter on the shared channel"

    run(main)


@pytest.mark.timeout(60)
def test_a_receive_from_it_blocks_forever_and_the_deadlock_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "main.py"
    script.write_text(
        textwrap.dedent(
            """
            from goroutines.context import background
            print("receiving", flush=True)
            background().done().recv()
            print("received")
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", str(script)],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert proc.stdout == "receiving\n"
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("fatal error: all goroutines are asleep - deadlock!")
    assert "goroutine 1 [chan receive]:" in proc.stderr


def test_sending_or_closing_raises() -> None:
    with pytest.raises(AttributeError, match="cannot close receive-only channel"):
        NEVER.close()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="cannot send to receive-only channel"):
        NEVER.send(None)  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="send case on a receive-only channel"):
        select(send(NEVER, None), default=True)  # type: ignore[call-overload]
    assert not C._never_chan.closed


def test_deriving_from_it_starts_no_goroutine_and_links_nothing() -> None:
    def main() -> None:
        for parent in never_cancelled() * 20:
            n = num_goroutine()
            c1, cancel1 = C.with_cancel(parent)
            c2, cancel2 = C.with_timeout(parent, 3600)
            c3, cancel3 = C.with_cancel_cause(parent)
            stop = C.after_func(parent, lambda: None)
            g, c4 = with_context(parent)
            assert num_goroutine() == n, "a watcher goroutine was started"
            for c in (c1, c2, c3, c4):
                assert c.done() is not NEVER
            cancel1()
            cancel2()
            cancel3(None)
            assert stop(), "after_func ran for a context never cancelled"
            g.wait()
            assert c1.err() is not None and parent.err() is None
        assert not C._never_chan._recvq

    run(main)


def test_semaphore_acquire_with_a_never_cancelled_context() -> None:
    def main() -> None:
        sem = Semaphore(2)
        for ctx in never_cancelled():
            sem.acquire(ctx, 2)
            got: Chan[int] = Chan(1)
            g = go(lambda ctx=ctx, got=got: (sem.acquire(ctx), got.send(1)))
            wait_blocked(g, "semacquire")
            assert not C._never_chan._recvq, "the waiter queued on the shared channel"
            sem.release(1)
            assert got.recv() == 1
            sem.release(1)
            sem.release(1)
        assert sem.try_acquire(2)

    run(main)

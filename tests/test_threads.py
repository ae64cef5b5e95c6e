"""Foreign threads: plain OS threads and asyncio loops using the runtime.

A plain thread that sends, receives, selects, locks or waits blocks as a
thread (a ThreadWaiter); go() from a foreign thread or from an asyncio loop
starts the goroutine on the background scheduler thread, where it runs while
the caller goes on; deadlock detection counts a foreign thread as a possible
waker only while it is alive and not parked in the runtime. Tests about the
main thread's implicit goroutine 1 run in a child process.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import goroutines
from goroutines import (
    Chan,
    ChannelClosedError,
    Deadlock,
    Mutex,
    WaitGroup,
    go,
    gosched,
    recv,
    recv_ok,
    run,
    select,
    send,
)
from goroutines._runtime import sched as _sched

LIMIT = 10.0


def wait_until(cond: Callable[[], bool], what: str) -> None:
    """Poll a state other threads change; goroutines of this thread run meanwhile."""
    deadline = time.monotonic() + LIMIT
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        if _sched.tls.p is not None:
            gosched()
        time.sleep(0.0005)


def thread_parked(t: threading.Thread, reason: str) -> bool:
    """t blocks in the runtime as a thread, with wait reason `reason`."""
    with _sched._sched_lock:
        w = _sched._parked_threads.get(t.ident or -1)
        return w is not None and w.reason == reason and not w.token.locked()


def p_idle(p: _sched.P) -> bool:
    """p sleeps with nothing to run, after its deadlock check (same lock)."""
    with _sched._sched_lock:
        return p.idle


class Thread:
    """A plain thread running fn; join() returns its result or raises its error.

    From a goroutine, join() parks only the goroutine (on a channel the thread
    sends to as it ends), so the goroutines the thread waits for can run."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.result: Any = None
        self.exc: BaseException | None = None
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
        if _sched.tls.p is not None:
            i, _ = select(recv(self.finished), recv(goroutines.after(LIMIT)))
            assert i == 0, "thread did not finish"
        self.thread.join(LIMIT)
        assert not self.thread.is_alive(), "thread did not finish"
        if self.exc is not None:
            raise self.exc
        return self.result


def in_child(fn: Callable[[], None]) -> None:
    """Run this module's fn in a fresh interpreter. For tests that expect a
    Deadlock: any thread another test left alive counts as a possible waker
    (docs/api.md#deadlock-and-possible-wakers), which would hide the deadlock."""
    here = Path(__file__)
    code = f"import sys; sys.path.insert(0, {str(here.parent)!r}); import {here.stem}; {here.stem}.{fn.__name__}()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def run_script(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# ---------------------------------------------------------------------------
# Plain threads block as threads


def test_a_thread_receiving_blocks_as_a_thread_until_a_goroutine_sends() -> None:
    def main() -> Any:
        c: Chan[str] = Chan()
        t = Thread(c.recv)
        wait_until(lambda: thread_parked(t.thread, "chan receive"), "the thread to park")
        c.send("to the thread")
        return t.join()

    assert run(main) == "to the thread"


def test_a_thread_sending_blocks_as_a_thread_until_a_goroutine_receives() -> None:
    def main() -> Any:
        c: Chan[str] = Chan()
        t = Thread(c.send, "from the thread")
        wait_until(lambda: thread_parked(t.thread, "chan send"), "the thread to park")
        v = c.recv()
        t.join()
        return v

    assert run(main) == "from the thread"


def test_a_thread_select_completes_exactly_one_case() -> None:
    # Two goroutines offer a value each; the thread's select takes one, the
    # other stays with its sender.
    def main() -> None:
        for _ in range(200):
            a: Chan[str] = Chan()
            b: Chan[str] = Chan()
            t = Thread(select, recv(a), recv_ok(b))
            wait_until(lambda t=t: thread_parked(t.thread, "select"), "the thread to park")
            done: Chan[str] = Chan(2)
            go(lambda a=a, done=done: (a.send("a"), done.send("a sent")))
            go(lambda b=b, done=done: (b.send("b"), done.send("b sent")))
            i, v = t.join()
            assert (i, v) in ((0, "a"), (1, ("b", True))), (i, v)
            assert done.recv() == ("a sent" if i == 0 else "b sent")
            left = b if i == 0 else a
            assert left.recv() == ("b" if i == 0 else "a")
            assert done.recv() is not None

    run(main)


def test_a_thread_select_with_a_send_case() -> None:
    def main() -> Any:
        a: Chan[int] = Chan()
        out: Chan[int] = Chan()
        t = Thread(select, recv(a), send(out, 42))
        wait_until(lambda: thread_parked(t.thread, "select"), "the thread to park")
        v = out.recv()
        return v, t.join()

    assert run(main) == (42, (1, None))


def test_close_wakes_blocked_threads() -> None:
    def main() -> None:
        r: Chan[int] = Chan()
        s: Chan[int] = Chan()
        receiver = Thread(r.recv_ok)
        sender = Thread(s.send, 1)
        wait_until(lambda: thread_parked(receiver.thread, "chan receive"), "receiver to park")
        wait_until(lambda: thread_parked(sender.thread, "chan send"), "sender to park")
        r.close()
        s.close()
        assert receiver.join() == (None, False)
        with pytest.raises(ChannelClosedError, match="send on closed channel"):
            sender.join()

    run(main)


def test_a_thread_locks_a_mutex_a_goroutine_holds() -> None:
    def main() -> list[str]:
        mu = Mutex()
        order: list[str] = []
        mu.lock()

        def thread() -> None:
            mu.lock()
            order.append("thread")
            mu.unlock()

        t = Thread(thread)
        wait_until(lambda: thread_parked(t.thread, "sync.Mutex.Lock"), "the thread to park")
        order.append("main")
        mu.unlock()
        t.join()
        return order

    assert run(main) == ["main", "thread"]


def test_a_thread_waits_on_a_waitgroup_of_goroutines() -> None:
    def main() -> int:
        wg = WaitGroup()
        gate: Chan[None] = Chan()
        done: list[int] = []
        for i in range(5):
            wg.add(1)
            go(lambda i=i: (gate.recv(), done.append(i), wg.done()))
        t = Thread(wg.wait)
        wait_until(lambda: thread_parked(t.thread, "sync.WaitGroup.Wait"), "the thread to park")
        gate.close()
        t.join()
        return len(done)

    assert run(main) == 5


# ---------------------------------------------------------------------------
# go() from foreign threads and asyncio loops


def test_go_from_a_thread_runs_on_the_background_scheduler_while_the_thread_goes_on() -> None:
    def thread() -> tuple[str, str | None]:
        started = threading.Event()
        out: Chan[str] = Chan(1)

        def goroutine() -> None:
            started.set()  # the caller is blocked in a plain threading wait
            out.send(threading.current_thread().name)

        go(goroutine)
        assert started.wait(LIMIT), "the goroutine did not run while its creator waited"
        return threading.current_thread().name, out.recv()

    t = Thread(thread)
    me, where = t.join()
    assert where == "goroutines-scheduler" and where != me


def test_go_from_an_asyncio_loop_runs_while_the_loop_runs() -> None:
    async def amain() -> str | None:
        out: Chan[str] = Chan()
        go(lambda: out.send(threading.current_thread().name))
        return await out.recv_async()

    t = Thread(asyncio.run, amain())
    assert t.join() == "goroutines-scheduler"


MAIN_THEN_LOOP = """
    import asyncio, threading
    import goroutines
    from goroutines import Chan, go, current, num_goroutine, recv, select_async

    c = Chan(1)
    c.send(1)
    assert c.recv() == 1 and current().id == 1  # the main thread is goroutine 1

    queued = Chan(1)
    go(lambda: queued.send("ran on goroutine 1's thread"))  # queued on main's P

    async def amain():
        out = Chan()
        # go() from the loop: the goroutine runs while the loop runs.
        go(lambda: out.send(threading.current_thread().name))
        print("go from the loop:", await out.recv_async())
        # Async operations on a P-owning thread, with a goroutine partner.
        go(lambda: out.send("v"))
        print("recv_async:", await out.recv_async())
        got = Chan()
        go(lambda: got.send(out.recv()))
        await out.send_async("w")
        print("goroutine got:", await got.recv_async())
        go(lambda: out.send("x"))
        print("select_async:", await select_async(recv(Chan()), recv(out)))
        # A blocking call from a coroutine parks goroutine 1 (the loop with it),
        # so the goroutine queued on its P runs.
        print("sync recv in the loop:", queued.recv())
        # A goroutine started from the loop can block for long: the loop goes on.
        stuck = Chan()
        go(stuck.recv)
        await asyncio.sleep(0)
        stuck.close()

    asyncio.run(amain())
    # After the loop, go() from goroutine 1 runs on the main thread again.
    back = Chan()
    go(lambda: back.send(threading.current_thread().name))
    print("after the loop:", back.recv())
"""


def test_goroutine_1_running_an_asyncio_loop() -> None:
    out = run_script(MAIN_THEN_LOOP)
    assert out.splitlines() == [
        "go from the loop: goroutines-scheduler",
        "recv_async: v",
        "goroutine got: w",
        "select_async: (1, 'x')",
        "sync recv in the loop: ran on goroutine 1's thread",
        "after the loop: MainThread",
    ], out


RUN_INSIDE_A_LOOP = """
    import asyncio, threading
    import goroutines
    from goroutines import Chan, go

    ended = []

    def main():
        out = Chan()
        go(lambda: out.send(threading.current_thread().name))
        where = out.recv()

        started = Chan(1)

        def left_behind():
            try:
                started.send(None)
                Chan().recv()
            finally:
                ended.append("killed")

        go(left_behind)
        started.recv()
        return where

    async def amain():
        # Like a Jupyter cell: run() from inside a running loop blocks the
        # loop; the goroutines it starts are its own.
        where = goroutines.run(main)
        print("goroutine ran on:", where)
        print("left-behind goroutine:", ended)

    asyncio.run(amain())
"""


def test_run_called_from_inside_a_running_loop_owns_its_goroutines() -> None:
    out = run_script(RUN_INSIDE_A_LOOP)
    assert out.splitlines() == [
        "goroutine ran on: MainThread",
        "left-behind goroutine: ['killed']",
    ], out


# ---------------------------------------------------------------------------
# Deadlock detection and foreign threads


def test_a_live_thread_not_parked_in_the_runtime_is_a_possible_waker() -> None:
    # A goroutine is blocked forever and main waits for the thread. The thread
    # sends only once main's P has gone idle, i.e. has run its deadlock check
    # while the thread was alive and not parked: no Deadlock may be reported.
    def main() -> str | None:
        p = _sched.tls.p
        assert p is not None
        forever: Chan[None] = Chan()
        go(forever.recv)
        c: Chan[str] = Chan()
        hello: Chan[str] = Chan(1)

        def thread() -> None:
            hello.send("uses the runtime")
            wait_until(lambda: p_idle(p), "main's P to go idle")
            c.send("from the thread")

        t = Thread(thread)
        v = c.recv()
        t.join()
        forever.close()
        return v

    assert run(main) == "from the thread"


def deadlock_once_the_thread_parks() -> None:
    def main() -> str:
        forever: Chan[None] = Chan()
        t = Thread(forever.recv)  # parks in the runtime for good
        try:
            Chan().recv()
        except Deadlock as e:
            assert thread_parked(t.thread, "chan receive")
            return str(e).splitlines()[0]
        finally:
            forever.close()
            t.join()
        return "no deadlock"

    assert run(main) == "all goroutines are asleep - deadlock!"


def test_deadlock_once_the_thread_parks_in_the_runtime_too() -> None:
    in_child(deadlock_once_the_thread_parks)


def deadlock_once_the_thread_exits() -> None:
    # The thread lives on (not parked) past main's first deadlock check, then
    # exits without sending: the idle P notices and reports the deadlock.
    def main() -> str:
        p = _sched.tls.p
        assert p is not None
        hello: Chan[str] = Chan(1)
        t = Thread(lambda: (hello.send("hi"), wait_until(lambda: p_idle(p), "P idle")))
        try:
            Chan().recv()
        except Deadlock as e:
            assert not t.thread.is_alive(), "deadlock reported while the thread lived"
            return str(e).splitlines()[0]
        finally:
            t.join()
        return "no deadlock"

    assert run(main) == "all goroutines are asleep - deadlock!"


def test_deadlock_once_the_thread_exits() -> None:
    in_child(deadlock_once_the_thread_exits)


IMPLICIT_MAIN_DEADLOCK = """
    import threading, time
    import goroutines
    from goroutines import Chan, Deadlock
    from goroutines._runtime import sched

    c = Chan(1)
    c.send(0)
    c.recv()  # the main thread is goroutine 1 now
    p = sched.tls.p

    def thread():
        c.send("thread")
        while True:  # alive, not parked, until main's P has checked for a deadlock
            with sched._sched_lock:
                if p.idle:
                    break
            time.sleep(0.001)

    t = threading.Thread(target=thread)
    t.start()
    print(c.recv())
    try:
        c.recv()
    except Deadlock as e:
        print("deadlock after the thread ended:", not t.is_alive())
        print(str(e).splitlines()[0])
"""


def test_implicit_goroutine_1_gets_the_deadlock_when_the_last_thread_ends() -> None:
    out = run_script(IMPLICIT_MAIN_DEADLOCK)
    assert out.splitlines() == [
        "thread",
        "deadlock after the thread ended: True",
        "all goroutines are asleep - deadlock!",
    ], out


def test_num_goroutine_does_not_count_foreign_threads() -> None:
    def main() -> int:
        t = Thread(lambda: goroutines.num_goroutine())
        inside = t.join()
        return inside - goroutines.num_goroutine()

    assert run(main) == 0

"""Deadlock detection: Go's classic deadlocked programs raise Deadlock in the
main goroutine; programs with a possible waker (a sleeper, a timer being
waited on, a blocking() call, an fd, a live plain thread) do not."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pytest

import goroutines
from goroutines import (
    Chan,
    Deadlock,
    Ticker,
    Timer,
    after,
    after_func,
    blocking,
    go,
    num_goroutine,
    recv,
    select,
    sleep,
    wait_readable,
)

HEADLINE = "all goroutines are asleep - deadlock!"



def deadlock_text(main: Callable[[], object]) -> str:
    """Run main, which must deadlock; the Deadlock's text."""
    with pytest.raises(Deadlock) as info:
        goroutines.run(main)
    text = str(info.value)
    assert text.startswith(HEADLINE + "\n"), text
    assert "selectors." not in text, "the dump shows the idle scheduler's frames"
    assert num_goroutine() == 1, "run() left goroutines behind after a deadlock"
    return text


def test_deadlock_is_a_runtime_error() -> None:
    assert issubclass(Deadlock, RuntimeError)


# ---------------------------------------------------------------------------
# Deadlocks


def test_recv_on_an_empty_channel_in_main_deadlocks() -> None:
    text = deadlock_text(lambda: Chan().recv())
    assert "goroutine 1 [chan receive]:" in text, text
    assert __file__ in text, "the dump must show main's stack"


def test_recv_on_a_buffered_empty_channel_in_main_deadlocks() -> None:
    text = deadlock_text(lambda: Chan(3).recv_ok())
    assert "goroutine 1 [chan receive]:" in text, text


def test_unbuffered_send_with_no_receiver_deadlocks() -> None:
    text = deadlock_text(lambda: Chan().send(1))
    assert "goroutine 1 [chan send]:" in text, text


def test_send_on_a_full_buffered_channel_deadlocks() -> None:
    def main() -> None:
        c: Chan[int] = Chan(2)
        c.send(1)
        c.send(2)
        c.send(3)

    text = deadlock_text(main)
    assert "goroutine 1 [chan send]:" in text, text


def test_a_cycle_of_goroutines_waiting_on_each_other_deadlocks() -> None:
    ids: list[int] = []

    def main() -> None:
        a: Chan[int] = Chan()
        b: Chan[int] = Chan()
        done: Chan[None] = Chan()

        def left() -> None:
            a.recv()  # waits for right, which waits for left
            b.send(1)
            done.send(None)

        def right() -> None:
            b.recv()
            a.send(1)
            done.send(None)

        ids.extend((go(left).id, go(right).id))
        done.recv()

    text = deadlock_text(main)
    first_block = text.split("\n\n")[1]
    assert first_block.startswith("goroutine 1 [chan receive]:"), text
    for gid in ids:
        assert f"goroutine {gid} [chan receive]:" in text, text
    assert text.count("created by ") == 2, text


def test_select_with_no_cases_deadlocks() -> None:
    text = deadlock_text(lambda: select())
    assert "goroutine 1 [select (no cases)]:" in text, text


def test_select_over_channels_nobody_uses_deadlocks() -> None:
    text = deadlock_text(lambda: select(recv(Chan()), recv(None)))
    assert "goroutine 1 [select]:" in text, text


def test_forgotten_timer_does_not_hide_a_deadlock() -> None:
    def main() -> None:
        t = Timer(3600)
        Chan().recv()
        t.stop()

    deadlock_text(main)


def test_forgotten_ticker_and_after_do_not_hide_a_deadlock() -> None:
    def main() -> None:
        t = Ticker(0.001)
        c = after(0.001)
        Chan().recv()
        t.stop()
        c.recv()

    deadlock_text(main)


def test_a_goroutine_blocked_forever_behind_a_finished_sleeper_deadlocks() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        go(lambda: (sleep(0.01), c.send(1)))
        c.recv()
        c.recv()  # the sleeper sent only once

    deadlock_text(main)


def test_every_goroutine_waiting_on_a_mutex_like_channel_deadlocks(short: bool) -> None:
    # Many goroutines blocked on one semaphore channel nobody releases.
    n = 100 if short else 1000

    def main() -> None:
        sem: Chan[None] = Chan(1)
        sem.send(None)  # taken and never given back
        for _ in range(n):
            go(sem.send, None)
        Chan().recv()

    text = deadlock_text(main)
    assert text.count("[chan send]:") == n, "the dump must list every blocked goroutine"


def test_a_thread_parked_in_the_runtime_is_no_waker() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        box: list[BaseException] = []

        def thread() -> None:
            try:
                c.recv()  # nobody ever sends
            except BaseException as e:
                box.append(e)

        t = threading.Thread(target=thread, daemon=True)
        t.start()
        try:
            Chan().recv()  # main and the thread both wait forever
        finally:
            c.close()
            t.join()

    deadlock_text(main)


def test_deadlock_is_raised_at_the_blocking_call_and_main_can_go_on() -> None:
    def main() -> str:
        try:
            Chan().recv()
        except Deadlock as e:
            caught = str(e).splitlines()[0]
        c: Chan[int] = Chan(1)
        c.send(5)
        return f"{caught} / then {c.recv()}"

    assert goroutines.run(main) == f"{HEADLINE} / then 5"


def test_consecutive_deadlocks_are_each_reported() -> None:
    for _ in range(3):
        deadlock_text(lambda: Chan().recv())


# ---------------------------------------------------------------------------
# Not deadlocks: something can still wake a goroutine


def test_a_sleeping_goroutine_that_will_send_is_no_deadlock() -> None:
    def main() -> int | None:
        c: Chan[int] = Chan()
        go(lambda: (sleep(0.05), c.send(1)))
        return c.recv()

    assert goroutines.run(main) == 1


def test_a_blocked_receive_on_after_is_no_deadlock() -> None:
    def main() -> float | None:
        return after(0.05).recv()

    assert isinstance(goroutines.run(main), float)


def test_a_timer_being_waited_on_is_no_deadlock() -> None:
    def main() -> float | None:
        t = Timer(0.05)
        assert t.c is not None
        return t.c.recv()

    assert isinstance(goroutines.run(main), float)


def test_a_select_with_a_timeout_is_no_deadlock() -> None:
    def main() -> int:
        return select(recv(Chan()), recv(after(0.05)))[0]

    assert goroutines.run(main) == 1


def test_an_after_func_that_will_send_is_no_deadlock() -> None:
    def main() -> str | None:
        c: Chan[str] = Chan()
        after_func(0.05, lambda: c.send("fn"))
        return c.recv()

    assert goroutines.run(main) == "fn"


def test_a_goroutine_in_a_blocking_call_is_no_deadlock() -> None:
    def main() -> str | None:
        c: Chan[str] = Chan()
        go(lambda: (blocking(time.sleep, 0.05), c.send("woke")))
        return c.recv()

    assert goroutines.run(main) == "woke"


def test_main_in_a_blocking_call_is_no_deadlock() -> None:
    def main() -> str:
        c: Chan[int] = Chan()
        go(c.recv)  # blocked until main sends
        blocking(time.sleep, 0.05)
        c.send(1)
        return "done"

    assert goroutines.run(main) == "done"


def test_a_plain_thread_that_will_send_later_is_no_deadlock() -> None:
    # The thread has not used the runtime yet when main parks: it sleeps as
    # a thread first. It must still count as a possible waker.
    def main() -> int | None:
        c: Chan[int] = Chan()
        t = threading.Thread(target=lambda: (time.sleep(0.05), c.send(7)))
        t.start()
        v = c.recv()
        t.join()
        return v

    for _ in range(3):
        assert goroutines.run(main) == 7


def test_a_daemon_thread_that_will_send_soon_is_no_deadlock() -> None:
    # A daemon thread that has not used the runtime yet counts as a possible
    # waker for a grace period (a second) after main first sees it.
    def main() -> int | None:
        c: Chan[int] = Chan()
        t = threading.Thread(target=lambda: (time.sleep(0.05), c.send(8)), daemon=True)
        t.start()
        v = c.recv()
        t.join()
        return v

    assert goroutines.run(main) == 8


def test_a_goroutine_waiting_on_an_fd_is_no_deadlock() -> None:
    def main() -> bytes:
        r, w = os.pipe()
        try:
            out: Chan[bytes] = Chan()
            go(lambda: (wait_readable(r), out.send(os.read(r, 10))))
            t = threading.Timer(0.05, os.write, (w, b"data"))
            t.start()
            v = out.recv()
            t.join()
            assert v is not None
            return v
        finally:
            os.close(r)
            os.close(w)

    assert goroutines.run(main) == b"data"


def test_a_deadlock_is_reported_once_the_last_waker_is_gone() -> None:
    # A thread that ends without sending: main is told once it is gone.
    def main() -> None:
        c: Chan[int] = Chan()
        t = threading.Thread(target=time.sleep, args=(0.05,))
        t.start()
        c.recv()

    t0 = time.monotonic()
    deadlock_text(main)
    assert time.monotonic() - t0 >= 0.05


def test_an_unrelated_daemon_thread_does_not_hide_a_deadlock_for_long() -> None:
    # A daemon thread blocked forever outside the runtime counts only for its
    # grace period; then the deadlock is reported.
    release = threading.Event()
    t = threading.Thread(target=release.wait, daemon=True)
    t.start()
    try:
        t0 = time.monotonic()
        deadlock_text(lambda: Chan().recv())
        assert time.monotonic() - t0 < 10
    finally:
        release.set()
        t.join()


def test_goroutines_deadlock_0_turns_detection_off() -> None:
    # The watchdog thread exists before goroutines is imported, so it is no
    # possible waker; it ends the child if main is (rightly) left blocked.
    code = textwrap.dedent(
        """
        import os, threading, time
        threading.Thread(target=lambda: (time.sleep(1), os._exit(7)), daemon=True).start()
        import goroutines
        try:
            goroutines.Chan().recv()
        except goroutines.Deadlock:
            print("deadlock reported")
        """
    )
    env = {**os.environ, "GOROUTINES_DEADLOCK": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    assert proc.returncode == 7 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    env["GOROUTINES_DEADLOCK"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=env
    )
    assert proc.returncode == 0 and proc.stdout == "deadlock reported\n", (
        proc.returncode,
        proc.stdout,
        proc.stderr,
    )

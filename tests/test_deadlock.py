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
    # The watchdog, a daemon thread, is a possible waker only for its first
    # second; it ends the child if main is (rightly) left blocked.
    code = textwrap.dedent(
        """
        import os, threading, time
        threading.Thread(target=lambda: (time.sleep(5), os._exit(7)), daemon=True).start()
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


# ---------------------------------------------------------------------------
# The main thread, and threads alive at import, before they use the runtime.
# Each case is a plain script in a fresh interpreter (whether the main thread
# has used the runtime is a property of the process), run RUNS times: the
# false Deadlock struck in nearly every run, but a scheduling accident must
# not hide it.

RUNS = 30


def run_scripts(code: str, runs: int, timeout: float = 60) -> list[subprocess.CompletedProcess[str]]:
    """Run code in `runs` fresh interpreters, a few at a time."""
    code = textwrap.dedent(code)
    done: list[subprocess.CompletedProcess[str]] = []
    batch = 4
    for start in range(0, runs, batch):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(min(batch, runs - start))
        ]
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += "\n[killed: timed out]"
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def assert_all_print(procs: list[subprocess.CompletedProcess[str]], expected: str) -> None:
    bad = [p for p in procs if p.returncode != 0 or p.stdout != expected]
    assert not bad, (
        f"{len(bad)} of {len(procs)} runs failed; first: status {bad[0].returncode}, "
        f"stdout {bad[0].stdout!r}, stderr:\n{bad[0].stderr}"
    )


def test_a_thread_sending_to_the_main_thread_before_its_first_runtime_call_is_no_deadlock(
    short: bool,
) -> None:
    # The thread may park in send before the main thread reaches recv: the
    # main thread, alive and not yet using the runtime, is a possible waker.
    code = """
        import threading
        from goroutines import Chan
        ch = Chan()
        th = threading.Thread(target=lambda: ch.send(42))
        th.start()
        print(ch.recv())
        th.join()
    """
    assert_all_print(run_scripts(code, 5 if short else RUNS), "42\n")


def test_a_thread_sending_to_an_asyncio_main_thread_is_no_deadlock(short: bool) -> None:
    code = """
        import asyncio, threading
        from goroutines import Chan
        ch = Chan()

        async def main() -> None:
            th = threading.Thread(target=lambda: ch.send(42))
            th.start()
            print(await ch.recv_async())
            th.join()

        asyncio.run(main())
    """
    assert_all_print(run_scripts(code, 5 if short else RUNS), "42\n")


def test_a_thread_started_before_import_that_sends_later_is_no_deadlock(short: bool) -> None:
    # A non-daemon thread alive at import counts while it is alive, as one
    # started later does: it sends once main has started waiting.
    code = """
        import threading
        go_on = threading.Event()
        box = []

        def sender() -> None:
            go_on.wait()
            box[0].send(42)

        th = threading.Thread(target=sender)
        th.start()
        from goroutines import Chan, run

        def main() -> None:
            ch = Chan()
            box.append(ch)
            go_on.set()
            print(ch.recv())

        run(main)
        th.join()
    """
    assert_all_print(run_scripts(code, 5 if short else RUNS), "42\n")


def test_a_daemon_thread_alive_at_import_counts_only_for_its_first_second() -> None:
    # The same rule as for a daemon thread started later, its age counted
    # from the import: after that a deadlock is reported, not hidden.
    code = """
        import threading, time
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        import goroutines
        t0 = time.monotonic()
        try:
            goroutines.Chan().recv()
        except goroutines.Deadlock:
            print("deadlock reported", time.monotonic() - t0 < 10)
    """
    assert_all_print(run_scripts(code, 1), "deadlock reported True\n")


def test_a_daemon_threads_grace_ending_as_the_p_falls_asleep_is_still_a_deadlock() -> None:
    # Each look at the detector's clock is a second later than the one
    # before: the grace of the daemon thread (alive since the import) has
    # not run out when the detector looks, and has when the P decides how
    # long to sleep. The P must still look again and report the deadlock,
    # not sleep for good (on a loaded machine the two looks did fall on
    # either side of the grace's end).
    code = """
        import itertools, threading
        threading.Thread(target=threading.Event().wait, daemon=True).start()
        import goroutines
        from goroutines._runtime import deadlock
        t0, seconds = deadlock.monotonic(), itertools.count()
        deadlock.monotonic = lambda: t0 + next(seconds)
        try:
            goroutines.Chan().recv()
        except goroutines.Deadlock:
            print("deadlock reported")
    """
    assert_all_print(run_scripts(code, 4, timeout=20), "deadlock reported\n")


@pytest.mark.parametrize("main_used_the_runtime", [False, True])
def test_a_thread_parked_forever_when_the_main_module_ends_is_told_deadlock(
    main_used_the_runtime: bool,
) -> None:
    # Once the main module has ended, the main thread (and its goroutines,
    # abandoned) can wake nobody: the thread the interpreter is about to
    # join is told, rather than waited for forever.
    code = f"""
        import threading
        from goroutines import Chan, Deadlock, current
        if {main_used_the_runtime}:
            current()

        def sender() -> None:
            try:
                Chan().send(1)
            except Deadlock as e:
                print(str(e).splitlines()[0])

        threading.Thread(target=sender).start()
    """
    assert_all_print(run_scripts(code, 3), HEADLINE + "\n")


def test_a_daemon_thread_parked_forever_when_the_main_module_ends_is_abandoned_quietly() -> None:
    # The interpreter waits for the non-daemon thread, not for the daemon
    # one: the non-daemon thread is told, the daemon one (parked first) is
    # abandoned with the process, without a traceback.
    code = """
        import threading, time
        from goroutines import Chan, Deadlock
        from goroutines._runtime import sched

        def parked(t):
            while t.ident not in sched._parked_threads:
                time.sleep(0.001)

        def daemon_worker():
            for job in Chan():
                pass

        def worker():
            try:
                Chan().recv()
            except Deadlock as e:
                print("non-daemon told:", str(e).splitlines()[0], flush=True)

        d = threading.Thread(target=daemon_worker, daemon=True)
        d.start()
        parked(d)
        w = threading.Thread(target=worker)
        w.start()
        parked(w)
        print("main done", flush=True)
    """
    for proc in run_scripts(code, 5):
        assert (proc.returncode, proc.stdout, proc.stderr) == (
            0,
            f"main done\nnon-daemon told: {HEADLINE}\n",
            "",
        ), (proc.returncode, proc.stdout, proc.stderr)

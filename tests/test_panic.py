"""Panics: an exception escaping a goroutine is never swallowed. It reaches the
main goroutine as GoroutinePanic (at its park, at its next runtime call, from
run(), or at interpreter exit with status 2)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pytest
from greenlet import GreenletExit

import goroutines
from _synctest import wait_until
from goroutines import (
    Chan,
    GoroutinePanic,
    after,
    blocking,
    go,
    gosched,
    num_goroutine,
    recv,
    select,
    sleep,
)


class Boom(Exception):
    pass


def boom(msg: str = "boom") -> None:
    raise Boom(msg)


def wait_dead(g: goroutines.Goroutine) -> None:
    """On a plain thread: until g (of the background P) has ended."""
    deadline = time.monotonic() + 10
    while g.state != "dead":
        assert time.monotonic() < deadline, f"{g} never ended"
        time.sleep(0.001)



def run_child(code: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_goroutine_panic_is_a_runtime_error() -> None:
    assert issubclass(GoroutinePanic, RuntimeError)


def test_panic_reaches_main_parked_in_recv_with_cause_and_goroutine() -> None:
    def main() -> None:
        g = go(boom, "bad thing")
        with pytest.raises(GoroutinePanic) as info:
            Chan().recv()
        e = info.value
        assert isinstance(e.__cause__, Boom) and str(e.__cause__) == "bad thing"
        assert e.goroutine is g
        assert g.state == "dead"
        assert f"goroutine {g.id}" in str(e) and "bad thing" in str(e), str(e)
        tb = e.__cause__.__traceback__
        names = []
        while tb is not None:
            names.append(tb.tb_frame.f_code.co_name)
            tb = tb.tb_next
        assert "boom" in names, f"the cause keeps the goroutine's traceback: {names}"

    goroutines.run(main)


@pytest.mark.parametrize(
    "park",
    [
        pytest.param(lambda: Chan().send(1), id="send"),
        pytest.param(lambda: select(recv(Chan()), recv(Chan())), id="select"),
        pytest.param(lambda: select(), id="select-no-cases"),
        pytest.param(lambda: sleep(3600), id="sleep"),
        pytest.param(lambda: after(3600).recv(), id="after"),
    ],
)
def test_panic_is_delivered_at_mains_current_park(park: Callable[[], object]) -> None:
    def main() -> None:
        go(boom)
        t0 = time.monotonic()
        with pytest.raises(GoroutinePanic):
            park()
        assert time.monotonic() - t0 < 5, "the panic was not delivered promptly"

    goroutines.run(main)


def test_panic_is_delivered_to_main_in_a_blocking_call() -> None:
    def main() -> None:
        release = threading.Event()
        go(boom)
        try:
            with pytest.raises(GoroutinePanic):
                blocking(release.wait, 30)
        finally:
            release.set()

    goroutines.run(main)


def test_panic_after_the_partner_completed_mains_operation_comes_at_the_next_call() -> None:
    # The goroutine completes main's receive, then panics: the receive keeps
    # its value, and the panic comes at main's next call into the runtime.
    def main() -> None:
        c: Chan[int] = Chan()

        def sender_then_panic() -> None:
            c.send(42)
            raise Boom("after the send")

        go(sender_then_panic)
        assert c.recv() == 42, "the completed receive must return its value"
        with pytest.raises(GoroutinePanic) as info:
            gosched()
        assert str(info.value.__cause__) == "after the send"

    goroutines.run(main)


def test_panic_while_main_computes_comes_at_its_next_runtime_call() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(1)  # buffered: main does not park
        # A goroutine of the background P panics meanwhile.
        t = threading.Thread(target=lambda: wait_dead(go(boom)))
        t.start()
        t.join()
        total = sum(range(1000))  # plain computing is not interrupted
        with pytest.raises(GoroutinePanic):
            c.recv()  # even though a value is ready
        assert total == 499500

    goroutines.run(main)


def test_run_raises_a_panic_that_main_did_not_meet() -> None:
    def main() -> str:
        # It panics on the background P; main computes and returns.
        t = threading.Thread(target=lambda: wait_dead(go(boom, "unmet")))
        t.start()
        t.join()
        return "main finished"

    with pytest.raises(GoroutinePanic) as info:
        goroutines.run(main)
    assert str(info.value.__cause__) == "unmet"
    assert num_goroutine() == 1


def test_the_first_panic_wins_and_later_ones_are_printed(capfd: pytest.CaptureFixture[str]) -> None:
    def main() -> None:
        go(boom, "first")
        go(boom, "second")
        go(boom, "third")
        with pytest.raises(GoroutinePanic) as info:
            gosched()  # all three panic while main is runnable, not parked
        assert str(info.value.__cause__) == "first"

    goroutines.run(main)
    err = capfd.readouterr().err
    assert "second" in err and "third" in err, err
    assert "panic: " in err, err
    assert "Boom: second" in err, err


def test_panic_in_a_goroutine_started_from_a_plain_thread_reaches_main() -> None:
    def main() -> None:
        t = threading.Thread(target=go, args=(boom, "from the background"))
        with pytest.raises(GoroutinePanic) as info:
            t.start()
            Chan().recv()
        t.join()
        assert str(info.value.__cause__) == "from the background"

    goroutines.run(main)


def test_system_exit_escaping_a_goroutine_reaches_main_unwrapped() -> None:
    def main() -> None:
        go(sys.exit, 3)
        Chan().recv()

    with pytest.raises(SystemExit) as info:
        goroutines.run(main)
    assert info.value.code == 3


def test_greenlet_exit_escaping_a_goroutine_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    def quits() -> None:
        raise GreenletExit

    def main() -> str:
        g = go(quits)
        wait_until(lambda: g.state == "dead", "the goroutine to end")
        sleep(0.001)
        return "fine"

    assert goroutines.run(main) == "fine"
    assert capfd.readouterr().err == ""


def test_a_panic_does_not_stop_other_goroutines_from_being_killed_cleanly() -> None:
    log: list[str] = []

    def main() -> None:
        def survivor() -> None:
            try:
                Chan().recv()
            finally:
                log.append("survivor finally")

        go(survivor)
        go(boom)
        Chan().recv()

    with pytest.raises(GoroutinePanic):
        goroutines.run(main)
    assert log == ["survivor finally"]
    assert goroutines.run(lambda: num_goroutine()) == 1


def test_an_undelivered_panic_is_printed_at_exit_with_status_2() -> None:
    proc = run_child(
        """
        import threading, time
        from goroutines import current, go

        current()  # main is goroutine 1

        def worker():
            raise ValueError("never delivered")

        def thread():  # the worker panics on the background P
            g = go(worker)
            while g.state != "dead":
                time.sleep(0.001)

        t = threading.Thread(target=thread)
        t.start()
        t.join()
        print("main done", flush=True)
        """
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stdout == "main done\n"
    assert proc.stderr.startswith("panic: "), proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr, proc.stderr
    assert "ValueError: never delivered" in proc.stderr, proc.stderr
    assert "in worker" in proc.stderr, proc.stderr


def test_an_undelivered_system_exit_exits_with_its_code() -> None:
    proc = run_child(
        """
        import sys, threading, time
        from goroutines import current, go

        current()

        def thread():  # on the background P: main never meets it
            g = go(sys.exit, 5)
            while g.state != "dead":
                time.sleep(0.001)

        t = threading.Thread(target=thread)
        t.start()
        t.join()
        print("main done")
        """
    )
    assert proc.returncode == 5, (proc.returncode, proc.stderr)
    assert proc.stdout == "main done\n", proc.stdout


def test_a_panic_delivered_in_the_implicit_model_ends_the_script_like_an_exception() -> None:
    proc = run_child(
        """
        from goroutines import Chan, go

        def worker():
            raise ValueError("delivered")

        go(worker)
        Chan().recv()
        """
    )
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "GoroutinePanic" in proc.stderr and "ValueError: delivered" in proc.stderr


def test_a_panic_with_an_asyncio_loop_on_the_main_thread_is_printed_and_exits_2() -> None:
    # The main thread runs an asyncio loop (a foreign thread): there is no
    # goroutine 1, now or later. Go prints the panic and exits 2 at once.
    proc = run_child(
        """
        import asyncio, threading
        from goroutines import Chan, go

        def worker():
            raise ValueError("no main goroutine")

        async def main():
            threading.Thread(target=go, args=(worker,)).start()
            await Chan().recv_async()  # nobody sends

        asyncio.run(main())
        print("not reached")
        """
    )
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "panic: " in proc.stderr and "ValueError: no main goroutine" in proc.stderr
    assert "not reached" not in proc.stdout


def test_a_panic_held_for_the_main_thread_ends_the_program_once_all_else_is_blocked() -> None:
    # The main thread never uses the runtime: the panic waits for it, but
    # the thread it joins is blocked in the runtime (on the goroutine that
    # panicked) and nothing else can act: Go would have exited at the panic.
    proc = run_child(
        """
        import threading
        from goroutines import Chan, go

        def thread():
            c = Chan()

            def worker():
                raise ValueError("held, then stranded")
                c.send(1)

            go(worker)
            c.recv()

        t = threading.Thread(target=thread)
        t.start()
        t.join()
        print("not reached")
        """
    )
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "panic: " in proc.stderr and "ValueError: held, then stranded" in proc.stderr
    assert "not reached" not in proc.stdout


HELD_FOR_MAIN = """
import threading, time
from goroutines import Chan, go

c = Chan(1)
c.send(1)  # a buffered send: main used the runtime but never parked

def worker():
    raise ValueError("from the background")

def thread():
    g = go(worker)
    while g.state != "dead":  # the goroutine runs on the background P
        time.sleep(0.001)

t = threading.Thread(target=thread)
t.start()
t.join()
print("main goes on", flush=True)
{then}
"""


def test_a_panic_held_for_the_main_thread_comes_at_its_next_runtime_call() -> None:
    # A goroutine started from a plain thread panics while the main thread
    # computes (it has not become goroutine 1: it never parked). The panic
    # waits for it: its next call into the runtime raises it.
    proc = run_child(
        HELD_FOR_MAIN.format(
            then="""
from goroutines import GoroutinePanic
try:
    c.recv()  # a value is ready: the panic comes first all the same
except GoroutinePanic as e:
    print("caught:", e.__cause__)
print(c.recv())
"""
        )
    )
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "main goes on\ncaught: from the background\n1\n", proc.stdout


def test_a_panic_held_for_the_main_thread_ends_the_program_when_main_ends() -> None:
    # The main thread never calls the runtime again: its own output comes
    # first, then the panic, status 2 (it used to exit at the panic, before
    # the main thread's output).
    proc = run_child(HELD_FOR_MAIN.format(then="print(sum(range(1000)), flush=True)"))
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "main goes on\n499500\n", proc.stdout
    assert proc.stderr.startswith("panic: goroutine "), proc.stderr
    assert "ValueError: from the background" in proc.stderr, proc.stderr


def test_a_panic_held_for_a_main_thread_that_never_imported_the_runtime() -> None:
    # The same when the main thread never touches goroutines at all (the
    # import too runs on the plain thread): main's output, then the panic.
    proc = run_child(
        """
        import threading, time

        def thread():
            import goroutines

            def worker():
                raise ValueError("nobody's main")

            g = goroutines.go(worker)
            while g.state != "dead":
                time.sleep(0.001)

        t = threading.Thread(target=thread)
        t.start()
        t.join()
        print("main's own output", flush=True)
        """
    )
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "main's own output\n", proc.stdout
    assert "ValueError: nobody's main" in proc.stderr, proc.stderr


def test_a_held_system_exit_ends_the_program_with_its_code_when_main_ends() -> None:
    code = HELD_FOR_MAIN.replace('raise ValueError("from the background")', "raise SystemExit(4)")
    proc = run_child(code.format(then=""))
    assert proc.returncode == 4, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "main goes on\n", proc.stdout


def test_an_undelivered_panic_ends_the_program_before_non_daemon_threads_are_joined() -> None:
    # At the end of the main module a pending panic ends the program: the
    # interpreter does not first wait for a thread that may wait forever.
    proc = run_child(
        """
        import threading, time
        from goroutines import current, go

        current()  # main is goroutine 1

        def worker():
            raise ValueError("undelivered")

        def thread():
            g = go(worker)
            while g.state != "dead":
                time.sleep(0.001)

        t = threading.Thread(target=thread)
        t.start()
        t.join()
        threading.Thread(target=threading.Event().wait).start()  # never ends
        print("main done", flush=True)
        """
    )
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "main done\n", proc.stdout
    assert "ValueError: undelivered" in proc.stderr, proc.stderr


def test_gosched_raises_the_panic_of_a_goroutine_that_ran_meanwhile() -> None:
    def main() -> None:
        go(boom, "while main yielded")
        with pytest.raises(GoroutinePanic) as info:
            gosched()  # boom runs and panics before main resumes
        assert str(info.value.__cause__) == "while main yielded"

    for _ in range(20):
        goroutines.run(main)


def test_a_park_that_fails_while_abandoning_keeps_the_first_exception_chained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A channel operation whose park ends in an exception (here a panic)
    # takes its waiter off the queue; if that raises too, the park's
    # exception is its __context__, as Python chains an exception raised
    # in an except block (the C port dropped it).
    real_abandon = Chan._abandon

    class AbandonFailed(Exception):
        pass

    def failing_abandon(self: Chan[object], w: object, q: object) -> None:
        real_abandon(self, w, q)  # type: ignore[arg-type]
        raise AbandonFailed

    def main() -> None:
        monkeypatch.setattr(Chan, "_abandon", failing_abandon)
        ops: list[Callable[[Chan[int]], object]] = [
            lambda c: c.recv(),
            lambda c: c.send(1),
            lambda c: c.recv_ok(),
        ]
        for op in ops:
            go(boom, "the park's exception")
            with pytest.raises(AbandonFailed) as info:
                op(Chan())
            ctx = info.value.__context__
            assert isinstance(ctx, GoroutinePanic), repr(ctx)
            assert str(ctx.__cause__) == "the park's exception"
        monkeypatch.undo()

    goroutines.run(main)


def test_panic_message_names_the_goroutine() -> None:
    def main() -> None:
        g = go(boom)
        g.name = "named-worker"
        with pytest.raises(GoroutinePanic, match="named-worker") as info:
            sleep(3600)
        assert info.value.goroutine is g

    goroutines.run(main)

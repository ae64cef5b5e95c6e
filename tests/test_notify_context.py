"""notify_context (Go's signal.NotifyContext), on Linux: a signal cancels the
context instead of its usual action, once; stop() puts the handlers back.

Each test runs a child process (signal handlers are process-wide); a child
prints "ready" once it is in the state under test, checked from inside, then
gets the signal from the test or sends it to itself.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="signal delivery tests are for Linux"
    ),
    pytest.mark.timeout(60),
]

# Children start with the signal dispositions of a terminal program, whatever
# the test runner's are, and with helpers for the checks.
PRELUDE = """
import faulthandler, os, signal, sys, threading
faulthandler.dump_traceback_later(40, exit=True)  # a hang shows every thread's stack
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
import goroutines
from goroutines import Chan, current, go, gosched, num_goroutine, run, sleep
from goroutines.context import (
    Canceled, SignalReceived, background, cause, notify_context, with_cancel,
)

def handlers():
    return (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))

def announce_when_parked(g, reason="chan receive"):
    def announce():
        while not (g.state == "waiting" and g.wait_reason == reason):
            gosched()
        print("ready", flush=True)
    go(announce)
"""


class Child:
    def __init__(self, code: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", PRELUDE + textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def expect(self, line: str) -> None:
        """Read stdout up to the line `line`."""
        assert self.proc.stdout is not None
        seen = []
        while True:
            got = self.proc.stdout.readline()
            if not got:
                out, err = self.finish()
                raise AssertionError(f"no {line!r}; stdout {[*seen, out]}, stderr {err}")
            seen.append(got)
            if got.rstrip("\n") == line:
                return

    def finish(self, timeout: float = 50) -> tuple[str, str]:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"child hung; stderr {self.proc.stderr.read()!r}") from None
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return out, err


def run_child(code: str) -> tuple[int, str, str]:
    child = Child(code)
    out, err = child.finish()
    return child.proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_from_outside_cancels_the_context_main_waits_on(sig: signal.Signals) -> None:
    child = Child(
        f"""
        def main():
            before = handlers()
            ctx, stop = notify_context(background())
            assert handlers() != before
            announce_when_parked(current())
            ctx.done().recv()
            assert isinstance(ctx.err(), Canceled), ctx.err()
            c = cause(ctx)
            assert type(c) is SignalReceived and c.signal == {int(sig)}, repr(c)
            print(c, flush=True)
            assert handlers() == before, (handlers(), before)
            stop()
            print("main returned", flush=True)
        run(main)
        """
    )
    child.expect("ready")
    child.proc.send_signal(sig)
    out, err = child.finish()
    assert child.proc.returncode == 0, err
    name = {signal.SIGINT: "interrupt", signal.SIGTERM: "terminated"}[sig]
    assert out == f"{name} signal received\nmain returned\n", (out, err)


def test_signals_sent_to_self_many_times_each_cancel_one_context() -> None:
    rc, out, err = run_child(
        """
        def main():
            outside = handlers()
            base = num_goroutine()
            for i in range(40):
                sig = (signal.SIGINT, signal.SIGTERM)[i % 2]
                ctx, stop = notify_context(background())
                assert num_goroutine() == base + 1  # the goroutine waiting for a signal
                os.kill(os.getpid(), sig)
                ctx.done().recv()
                assert cause(ctx).signal == sig
                assert handlers() == outside, (i, handlers(), outside)
                stop()
                stop()  # idempotent
                while num_goroutine() != base:
                    gosched()
            print("ok", flush=True)
        run(main)
        """
    )
    assert (rc, out) == (0, "ok\n"), err


@pytest.mark.parametrize(
    "sig, status",
    [(signal.SIGINT, -signal.SIGINT), (signal.SIGTERM, -signal.SIGTERM)],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_second_signal_ends_the_program_as_usual(sig: signal.Signals, status: int) -> None:
    child = Child(
        """
        def main():
            ctx, stop = notify_context(background())
            announce_when_parked(current())
            ctx.done().recv()
            print("cancelled", flush=True)
            # Shutting down slowly; a second signal must end it at once.
            announce_when_parked(current(), "sleep")
            sleep(30)
            print("slept", flush=True)
        run(main)
        """
    )
    child.expect("ready")
    child.proc.send_signal(sig)
    child.expect("cancelled")
    child.expect("ready")
    child.proc.send_signal(sig)
    out, err = child.finish()
    assert child.proc.returncode == status, (out, err)
    assert out == ""
    if sig == signal.SIGINT:
        assert err.rstrip().endswith("KeyboardInterrupt"), err


def test_stop_restores_the_handlers_and_cancels() -> None:
    rc, out, err = run_child(
        """
        def main():
            # The runtime's SIGINT handler under run(), and a program's own.
            mine = lambda signum, frame: print("mine", signum, flush=True)
            signal.signal(signal.SIGTERM, mine)
            outside = handlers()
            base = num_goroutine()
            ctx, stop = notify_context(background(), signal.SIGINT, signal.SIGTERM)
            assert handlers()[0] is not outside[0] and handlers()[1] is not mine
            stop()
            assert handlers() == outside
            assert isinstance(ctx.err(), Canceled) and type(cause(ctx)) is Canceled
            while num_goroutine() != base:
                gosched()
            os.kill(os.getpid(), signal.SIGTERM)  # mine again
            try:
                os.kill(os.getpid(), signal.SIGINT)  # KeyboardInterrupt again
                sleep(30)
            except KeyboardInterrupt:
                print("KeyboardInterrupt", flush=True)
        run(main)
        """
    )
    assert (rc, out) == (0, f"mine {int(signal.SIGTERM)}\nKeyboardInterrupt\n"), err


def test_once_the_parent_cancels_it_signals_are_handled_as_usual() -> None:
    rc, out, err = run_child(
        """
        def main():
            outside = handlers()
            base = num_goroutine()
            for i in range(20):
                parent, cancel = with_cancel(background())
                ctx, stop = notify_context(parent)
                cancel()
                ctx.done().recv()
                assert type(cause(ctx)) is Canceled
                while num_goroutine() != base:  # the goroutine waiting for signals ended
                    gosched()
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                    sleep(30)
                except KeyboardInterrupt:
                    pass
                else:
                    raise AssertionError("no KeyboardInterrupt")
                assert handlers()[0] == outside[0], (i, handlers())
                stop()
                assert handlers() == outside
            print("ok", flush=True)
        run(main)
        """
    )
    assert (rc, out) == (0, "ok\n"), err


def test_only_the_signals_asked_for() -> None:
    rc, out, err = run_child(
        """
        def main():
            ctx, stop = notify_context(background(), signal.SIGUSR1, signal.SIGUSR1)
            assert handlers()[0] is not signal.getsignal(signal.SIGUSR1)
            try:
                os.kill(os.getpid(), signal.SIGINT)
                sleep(30)
            except KeyboardInterrupt:
                print("KeyboardInterrupt", flush=True)
            assert ctx.err() is None
            os.kill(os.getpid(), signal.SIGUSR1)
            ctx.done().recv()
            print(cause(ctx), flush=True)
            assert signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL
            stop()
        run(main)
        """
    )
    assert (rc, out) == (0, "KeyboardInterrupt\nuser defined signal 1 signal received\n"), err


def test_nested_contexts_are_all_cancelled_by_one_signal() -> None:
    rc, out, err = run_child(
        """
        def main():
            outside = handlers()
            for i in range(20):
                parent, stop1 = notify_context(background())
                child, stop2 = notify_context(parent, signal.SIGINT)
                other, stop3 = notify_context(background(), signal.SIGINT)
                if i % 2:
                    stop1()  # the middle one stopped: it passes signals down
                    assert isinstance(parent.err(), Canceled)
                os.kill(os.getpid(), signal.SIGINT)
                for c in (parent, child, other):
                    c.done().recv()
                assert type(cause(other)) is SignalReceived
                assert type(cause(child)) is SignalReceived or i % 2
                assert handlers() == outside, (i, handlers())
                stop3()
                stop2()
                stop1()
                assert handlers() == outside
            print("ok", flush=True)
        run(main)
        """
    )
    assert (rc, out) == (0, "ok\n"), err


def test_stop_from_another_thread_hands_the_next_signal_to_the_previous_handler() -> None:
    rc, out, err = run_child(
        """
        def main():
            outside = handlers()
            ctx, stop = notify_context(background())
            t = threading.Thread(target=stop)
            t.start()
            t.join()
            assert isinstance(ctx.err(), Canceled) and type(cause(ctx)) is Canceled
            assert handlers() != outside  # only the main thread can put them back
            try:
                os.kill(os.getpid(), signal.SIGINT)
                sleep(30)
            except KeyboardInterrupt:
                print("KeyboardInterrupt", flush=True)
            assert handlers()[0] == outside[0]
        run(main)
        """
    )
    assert (rc, out) == (0, "KeyboardInterrupt\n"), err


def test_outside_run_and_without_the_runtime_handler() -> None:
    rc, out, err = run_child(
        """
        ctx, stop = notify_context(background())
        os.kill(os.getpid(), signal.SIGTERM)
        ctx.done().recv()  # the main thread is goroutine 1 from here on
        print(cause(ctx), flush=True)
        assert handlers()[1] == signal.SIG_DFL, handlers()
        stop()
        try:
            os.kill(os.getpid(), signal.SIGINT)
            sleep(30)
        except KeyboardInterrupt:
            print("KeyboardInterrupt", flush=True)
        """
    )
    assert (rc, out) == (0, "terminated signal received\nKeyboardInterrupt\n"), err


def test_the_arguments_and_the_thread_are_checked() -> None:
    rc, out, err = run_child(
        """
        import pytest
        outside = handlers()
        with pytest.raises(TypeError, match="cannot create context from nil parent"):
            notify_context(None)
        with pytest.raises(TypeError, match="signals must be ints, got str"):
            notify_context(background(), "SIGINT")
        with pytest.raises(ValueError):
            notify_context(background(), 12345)
        with pytest.raises(OSError):
            notify_context(background(), signal.SIGINT, signal.SIGKILL)
        assert handlers() == outside  # SIGINT's was put back
        errors = []
        def on_thread():
            try:
                notify_context(background())
            except ValueError as e:
                errors.append(str(e))
        t = threading.Thread(target=on_thread)
        t.start()
        t.join()
        assert errors and "main thread" in errors[0], errors
        assert handlers() == outside
        # A goroutine on the main thread may call it.
        def in_goroutine(out):
            out.send(notify_context(background(), signal.SIGUSR2))
        def main():
            out = Chan(1)
            go(in_goroutine, out)
            ctx, stop = out.recv()
            os.kill(os.getpid(), signal.SIGUSR2)
            ctx.done().recv()
            stop()
        run(main)
        print("ok", flush=True)
        """
    )
    assert (rc, out) == (0, "ok\n"), err

"""Signals (Linux): SIGINT raises KeyboardInterrupt in goroutine 1 only, at its
park or at once while it runs; SIGQUIT prints the dump and exits 2.

Each test runs a child process that prints "ready" once it is in the state
under test (checked from inside, never by sleeping), then gets the signal.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="signal delivery tests are for Linux"
)

# Children start with the signal dispositions of a terminal program, whatever
# the test runner's are (a background job may have SIGINT ignored).
PRELUDE = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGQUIT, signal.SIG_DFL)
"""

PROMPT = 1.0  # generous bound for "promptly" on a loaded machine


class Child:
    def __init__(self, code: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", PRELUDE + textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def expect(self, line: str) -> float:
        """Read stdout up to the line `line`; returns the time it arrived."""
        assert self.proc.stdout is not None
        seen = []
        while True:
            got = self.proc.stdout.readline()
            if not got:
                out, err = self.finish()
                raise AssertionError(
                    f"child ended before printing {line!r}; stdout {[*seen, out]}, stderr {err}"
                )
            seen.append(got)
            if got.rstrip("\n") == line:
                return time.monotonic()

    def kill(self, sig: int) -> float:
        self.proc.send_signal(sig)
        return time.monotonic()

    def finish(self, timeout: float = 30) -> tuple[str, str]:
        """Wait for the child; the rest of its stdout and its stderr.

        (Not communicate(): it would lose what readline() already buffered.
        The outputs are far below a pipe's capacity, so waiting first is safe.)
        """
        assert self.proc.stdout is not None and self.proc.stderr is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            hung = True
        else:
            hung = False
        out, err = self.proc.stdout.read(), self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        if hung:
            raise AssertionError(f"child hung; stdout {out!r}, stderr {err!r}")
        return out, err


# A child whose main goroutine parks in ch.recv() while three goroutines spin
# in gosched() loops; a fourth prints "ready" once main is parked.
PARKED_WITH_BUSY_GOROUTINES = """
import goroutines
from goroutines import Chan, current, go, gosched

def busy(k):
    try:
        while True:
            gosched()
    except KeyboardInterrupt:
        print(f"KeyboardInterrupt in goroutine {k}", flush=True)
        raise

def announce(g1):
    while not (g1.state == "waiting" and g1.wait_reason == "chan receive"):
        gosched()
    print("ready", flush=True)

def main():
    for k in range(3):
        go(busy, k)
    go(announce, current())
    c = Chan()
    try:
        c.recv()
        print("recv returned", flush=True)
    except KeyboardInterrupt:
        print("KeyboardInterrupt in main", flush=True)
    print("cleaned up", flush=True)
    return "main returned"

print(goroutines.run(main), flush=True)
"""


@pytest.mark.timeout(30)
def test_sigint_while_main_is_parked_raises_keyboard_interrupt_in_main_only() -> None:
    child = Child(PARKED_WITH_BUSY_GOROUTINES)
    child.expect("ready")
    sent = child.kill(signal.SIGINT)
    arrived = child.expect("KeyboardInterrupt in main")
    assert arrived - sent < PROMPT, f"KeyboardInterrupt took {arrived - sent:.2f} s"
    out, err = child.finish()
    assert child.proc.returncode == 0, err
    assert out == "cleaned up\nmain returned\n", out
    assert "KeyboardInterrupt" not in err, err


@pytest.mark.timeout(30)
def test_sigint_while_main_is_parked_with_nothing_else_running() -> None:
    child = Child(
        """
        import goroutines
        from goroutines import Chan, sleep

        def main():
            c = Chan()
            goroutines.go(sleep, 3600)  # keeps the program from deadlocking
            try:
                # runs once main has parked
                goroutines.after_func(0, lambda: print("ready", flush=True))
                c.recv()
            except KeyboardInterrupt:
                print("KeyboardInterrupt in main", flush=True)

        goroutines.run(main)
        """
    )
    child.expect("ready")
    sent = child.kill(signal.SIGINT)
    arrived = child.expect("KeyboardInterrupt in main")
    assert arrived - sent < PROMPT, f"KeyboardInterrupt took {arrived - sent:.2f} s"
    _, err = child.finish()
    assert child.proc.returncode == 0, err


@pytest.mark.timeout(30)
def test_sigint_while_main_computes_raises_at_once() -> None:
    child = Child(
        """
        import goroutines
        from goroutines import Chan, go

        def main():
            c = Chan()
            go(c.recv)  # another goroutine exists, parked
            n = 0
            try:
                print("ready", flush=True)
                while True:
                    n += 1
            except KeyboardInterrupt:
                print("KeyboardInterrupt in main", flush=True)
            c.send(1)
            return "done"

        print(goroutines.run(main), flush=True)
        """
    )
    child.expect("ready")
    sent = child.kill(signal.SIGINT)
    arrived = child.expect("KeyboardInterrupt in main")
    assert arrived - sent < PROMPT, f"KeyboardInterrupt took {arrived - sent:.2f} s"
    out, err = child.finish()
    assert child.proc.returncode == 0, err
    assert out == "done\n", out


@pytest.mark.timeout(30)
def test_sigint_while_main_is_in_a_blocking_call() -> None:
    child = Child(
        """
        import threading
        import goroutines

        def main():
            release = threading.Event()
            try:
                goroutines.after_func(0, lambda: print("ready", flush=True))
                goroutines.blocking(release.wait, 60)
            except KeyboardInterrupt:
                print("KeyboardInterrupt in main", flush=True)
            finally:
                release.set()

        goroutines.run(main)
        """
    )
    child.expect("ready")
    sent = child.kill(signal.SIGINT)
    arrived = child.expect("KeyboardInterrupt in main")
    assert arrived - sent < PROMPT, f"KeyboardInterrupt took {arrived - sent:.2f} s"
    child.finish()
    assert child.proc.returncode == 0


@pytest.mark.timeout(30)
def test_uncaught_sigint_in_the_implicit_model_ends_the_program_as_python_does() -> None:
    child = Child(
        """
        from goroutines import Chan, after_func, go, sleep

        go(sleep, 3600)
        after_func(0, lambda: print("ready", flush=True))
        Chan().recv()
        """
    )
    child.expect("ready")
    child.kill(signal.SIGINT)
    _, err = child.finish()
    assert child.proc.returncode == -signal.SIGINT, (child.proc.returncode, err)
    assert "KeyboardInterrupt" in err, err


@pytest.mark.timeout(30)
def test_sigquit_prints_the_dump_and_exits_2() -> None:
    child = Child(
        """
        import goroutines
        from goroutines import Chan, current, go, gosched, sleep

        def waiter(c):
            c.recv()

        def announce(g1, w):
            while g1.state != "waiting" or w.state != "waiting":
                gosched()
            print("ready", flush=True)
            sleep(3600)

        def main():
            c = Chan()
            w = go(waiter, c)
            go(announce, current(), w)
            Chan().recv()

        goroutines.run(main)
        """
    )
    child.expect("ready")
    child.kill(signal.SIGQUIT)
    _, err = child.finish()
    assert child.proc.returncode == 2, (child.proc.returncode, err)
    assert "goroutine 1 [chan receive]:" in err, err
    assert "goroutine 2 [chan receive]:" in err, err
    # goroutine 3 printed "ready" and may not have parked in sleep() yet
    assert re.search(r"^goroutine 3 \[(sleep|running)\]:$", err, re.M), err
    assert "created by " in err and ".main in goroutine 1" in err, err
    assert "selectors" not in err, "the dump shows the scheduler's frames"


# The signal's C-level handler runs on a plain thread (pthread_kill) while
# goroutine 1's P sleeps in its poller: the state a signal leaves when it
# lands after the P's last look at its queue but before epoll_wait. Only the
# wakeup fd can end that sleep (an hour here) before the handler runs.
SIGNAL_OFF_THE_MAIN_THREAD = """
import os, signal, threading, time
os.environ["GOROUTINES_DEADLOCK"] = "0"  # else a live thread bounds the sleep
import goroutines
from goroutines import Chan, current, go, gosched, sleep

def in_epoll_wait(native_id):
    # The kernel's view of the thread: asleep in epoll_wait (x86-64 and
    # arm64 syscall numbers), which no bytecode can follow.
    try:
        with open(f"/proc/self/task/{{native_id}}/syscall") as f:
            nr = f.read().split()[0]
    except OSError:
        return True
    return nr in ("232", "281", "441", "22")

def poke(p):
    while not (p.sleeping and in_epoll_wait(p.native_id)):
        time.sleep(0.001)
    signal.pthread_kill(threading.get_ident(), {sig})
    threading.Event().wait()  # a thread's end would wake the P: never end

def main():
    p = current().p
    go(sleep, 3600)
    threading.Thread(target=poke, args=(p,), daemon=True).start()
    try:
        Chan().recv()
    except KeyboardInterrupt:
        print("interrupted", flush=True)

if {fork}:  # the scenario in a fork child of a process whose P had its pipe
    goroutines.run(sleep, 0)
    pid = os.fork()
    if pid:
        os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
goroutines.run(main)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fork", [False, True], ids=["", "fork"])
@pytest.mark.parametrize("sig", ["SIGQUIT", "SIGINT"])
def test_a_signal_handled_off_the_main_thread_wakes_the_sleeping_p(sig: str, fork: bool) -> None:
    for _ in range(3):
        child = Child(SIGNAL_OFF_THE_MAIN_THREAD.format(sig=f"signal.{sig}", fork=fork))
        out, err = child.finish(timeout=15)
        if sig == "SIGQUIT":
            assert child.proc.returncode == 2, (child.proc.returncode, err)
            assert "goroutine 1 [chan receive]:" in err, err
        else:
            assert child.proc.returncode == 0, (child.proc.returncode, err)
            assert out == "interrupted\n", (out, err)


@pytest.mark.timeout(30)
def test_the_signal_wakeup_fd_is_taken_only_while_the_p_sleeps() -> None:
    child = Child(
        """
        import signal, socket
        import goroutines

        goroutines.run(goroutines.sleep, 0.01)  # the P slept in its poller
        print(signal.set_wakeup_fd(-1))  # nothing left set: free for asyncio, trio
        a, b = socket.socketpair()
        a.setblocking(False)
        signal.set_wakeup_fd(a.fileno())  # the program's own
        goroutines.run(goroutines.sleep, 0.01)
        print(signal.set_wakeup_fd(-1) == a.fileno())
        """
    )
    out, err = child.finish()
    assert child.proc.returncode == 0, err
    assert out.split() == ["-1", "True"], (out, err)


@pytest.mark.timeout(30)
def test_sigquit_while_main_computes_prints_the_dump_and_exits_2() -> None:
    child = Child(
        """
        import goroutines

        def spin():
            n = 0
            print("ready", flush=True)
            while True:
                n += 1

        goroutines.run(spin)
        """
    )
    child.expect("ready")
    child.kill(signal.SIGQUIT)
    _, err = child.finish()
    assert child.proc.returncode == 2, (child.proc.returncode, err)
    assert "goroutine 1 [running]:" in err, err
    assert "spin" in err, err


def test_sigint_handler_is_restored_for_programs_that_set_their_own() -> None:
    # A program with its own SIGINT handler keeps it: the runtime only
    # replaces Python's default one.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PRELUDE
            + textwrap.dedent(
                """
                import os, signal
                got = []
                signal.signal(signal.SIGINT, lambda s, f: got.append(s))
                import goroutines
                def main():
                    os.kill(os.getpid(), signal.SIGINT)
                    goroutines.sleep(0.01)
                    return got
                print(goroutines.run(main))
                """
            ),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"[{int(signal.SIGINT)}]", proc.stdout


@pytest.mark.timeout(60)
@pytest.mark.parametrize("main_waits_in", ["Event.wait", "Thread.join", "computing"])
def test_sigquit_dumps_when_the_main_thread_never_used_the_runtime(main_waits_in: str) -> None:
    # Goroutines started from a plain thread run on the background P; the
    # main thread never calls the runtime, so no P of its own installed the
    # handler: the import does.
    child = Child(
        f"""
        import threading
        from goroutines import Chan, go, gosched

        def parked(c):
            c.recv()

        def starter():
            g = go(parked, Chan())
            while g.state != "waiting":
                gosched()
            print("ready", flush=True)
            threading.Event().wait()

        th = threading.Thread(target=starter, daemon=True)
        th.start()
        if {main_waits_in!r} == "Event.wait":
            threading.Event().wait()
        elif {main_waits_in!r} == "Thread.join":
            th.join()
        else:
            n = 0
            while True:
                n += 1
        """
    )
    child.expect("ready")
    child.kill(signal.SIGQUIT)
    _, err = child.finish()
    assert child.proc.returncode == 2, (child.proc.returncode, err)
    assert err.startswith("SIGQUIT: quit\n"), err
    # (on the background P, which the dump names)
    assert re.search(r"^goroutine \d+ \[chan receive(, P\d+)?\]:$", err, re.M), err
    assert ".parked(...)" in err, err


def test_a_sigquit_handler_of_the_program_is_left_alone() -> None:
    # Set before the import or after it, the program's own handler stays.
    code = PRELUDE + textwrap.dedent(
        """
        import os, signal, threading
        got = []
        if {before}:
            signal.signal(signal.SIGQUIT, lambda s, f: got.append(s))
        import goroutines
        if not {before}:
            signal.signal(signal.SIGQUIT, lambda s, f: got.append(s))
        os.kill(os.getpid(), signal.SIGQUIT)
        threading.Event().wait(0.001)  # let the handler run
        print(got)
        """
    )
    for before in (True, False):
        proc = subprocess.run(
            [sys.executable, "-c", code.format(before=before)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, (before, proc.returncode, proc.stderr)
        assert proc.stdout.strip() == f"[{int(signal.SIGQUIT)}]", (before, proc.stdout)


def test_importing_off_the_main_thread_installs_no_sigquit_handler() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PRELUDE
            + textwrap.dedent(
                """
                import signal, threading
                th = threading.Thread(target=__import__, args=("goroutines",))
                th.start()
                th.join()
                print(signal.getsignal(signal.SIGQUIT) == signal.SIG_DFL)
                """
            ),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True\n", proc.stdout


@pytest.mark.timeout(60)
def test_sigquit_shows_a_panic_that_nobody_met_yet() -> None:
    # Goroutine 1 is stuck outside the runtime: the panic waits for it; the
    # dump of a stuck program says so.
    child = Child(
        """
        import threading, time
        from goroutines import current, go

        current()

        def worker():
            raise ValueError("waiting for main")

        def thread():
            g = go(worker)
            while g.state != "dead":
                time.sleep(0.001)
            print("ready", flush=True)

        threading.Thread(target=thread).start()
        threading.Event().wait()
        """
    )
    child.expect("ready")
    child.kill(signal.SIGQUIT)
    _, err = child.finish()
    assert child.proc.returncode == 2, (child.proc.returncode, err)
    assert "\npending Traceback (most recent call last):" in err, err
    assert "ValueError: waiting for main" in err, err


def test_a_sigint_in_the_standard_library_under_a_runtime_call_waits_for_the_runtime() -> None:
    # The handler raises KeyboardInterrupt at once only in the program's own
    # code. A SIGINT in Thread.start() under blocking() (threading's frame,
    # called by the runtime) was raised there, taken for a refused thread and
    # lost: the program hung in blocking(). The standard library's frames
    # are looked through; the first other frame decides.
    import copy

    from goroutines._runtime import panic

    seen: dict[str, Any] = {}

    class Probe:
        def __deepcopy__(self, memo: object) -> Probe:
            seen["frame"] = sys._getframe(1)  # copy.deepcopy's frame
            return self

    runtime_ns: dict[str, Any] = {"__name__": "goroutines._runtime.probe", "copy": copy}
    exec("def call(x):\n    return copy.deepcopy(x)\n", runtime_ns)
    runtime_ns["call"](Probe())
    assert panic._in_runtime(seen["frame"])
    copy.deepcopy(Probe())  # the same standard-library frame, called by the program
    assert not panic._in_runtime(seen["frame"])
    assert not panic._in_runtime(sys._getframe())
    seen.clear()

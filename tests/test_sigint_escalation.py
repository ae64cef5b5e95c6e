"""Ctrl-C is never silently ignored: a SIGINT that cannot reach goroutine 1
within about a second (another goroutine holds its thread: in C, or in a loop
that is not preempted) ends the process as an uncaught SIGINT does, after
printing which goroutine held the thread and its stack; stdio is flushed and
no finally block runs. Where it can reach goroutine 1 (preemption, a park),
it is delivered as KeyboardInterrupt as before; a notify_context that owns
SIGINT is never overruled.

Each child starts the test stand-in for the monitor thread (tests/_monitor.py),
prints "ready" once the hog runs, and gets SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from goroutines._runtime import preempt

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="signal delivery tests are for Linux"
)

TESTS = str(Path(__file__).parent)

PRELUDE = f"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {TESTS!r})
import _monitor
import goroutines as gr
_monitor.start()
"""

MESSAGE = "goroutines: SIGINT not delivered: goroutine {gid} [{name}] holds the thread"

PATHS = {
    "accelerated": {},
    "pure": {"GOROUTINES_PURE": "1", "GOROUTINES_EXPECT_SPEEDUPS": "0"},
}


def run_child(code: str, env: dict[str, str], timeout: float = 30) -> tuple[int, str, str, float]:
    """Start the child, wait for "ready", send SIGINT; (status, stdout, stderr,
    seconds from SIGINT to exit)."""
    full_env = dict(os.environ, **env)
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        bufsize=0,  # "ready" read byte by byte: nothing after it is read ahead and lost
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = b""
    while not first.endswith(b"\n"):
        byte = proc.stdout.read(1)
        if not byte:
            break
        first += byte
    if first.strip() != b"ready":
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"child not ready: {first!r} {out!r} {err!r}")
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"child hung after SIGINT; stdout {out!r}, stderr {err!r}") from None
    return proc.returncode, out.decode(), err.decode(), time.monotonic() - sent


def assert_escalated(status: int, out: str, err: str, took: float, gid: int, name: str) -> None:
    assert status == -signal.SIGINT, (status, out, err)
    assert MESSAGE.format(gid=gid, name=name) in err, err
    assert "finally" not in out, out  # no finally block ran
    assert "flushed" in out, out  # stdio was flushed
    assert "Traceback" not in err, err
    assert 0.9 <= took < 10, took


SPIN = """
def spin():
    print("ready", flush=True)
    sys.stdout.write("flushed\\n")  # left in the buffer
    while True:
        pass

def main():
    gr.go(spin)
    try:
        gr.Chan().recv()
    finally:
        print("finally", flush=True)

gr.run(main)
"""


@pytest.mark.parametrize("path", list(PATHS))
def test_sigint_during_a_spin_without_preemption(path: str) -> None:
    env = dict(PATHS[path], GOROUTINES_PREEMPT="0")
    status, out, err, took = run_child(SPIN, env)
    assert_escalated(status, out, err, took, 2, "spin")
    assert "spin(...)" in err, err  # the stack of the goroutine holding the thread


@pytest.mark.skipif(not preempt.supported(), reason="needs preemption")
def test_sigint_during_a_spin_with_preemption_is_delivered() -> None:
    status, out, err, took = run_child(SPIN, {})
    assert "finally" in out  # goroutine 1 got KeyboardInterrupt: its finally ran
    assert "KeyboardInterrupt" in err, err
    assert "SIGINT not delivered" not in err
    assert took < 5
    assert status in (-signal.SIGINT, 1), (status, err)


SLEEP = """
import time as _time

def sleeper():
    print("ready", flush=True)
    sys.stdout.write("flushed\\n")
    _time.sleep(100)   # not goroutines.sleep: holds the thread in C

def main():
    gr.go(sleeper)
    try:
        gr.Chan().recv()
    finally:
        print("finally", flush=True)

gr.run(main)
"""


@pytest.mark.parametrize("path", list(PATHS))
def test_sigint_during_time_sleep_in_a_goroutine(path: str) -> None:
    status, out, err, took = run_child(SLEEP, PATHS[path])
    assert_escalated(status, out, err, took, 2, "sleeper")
    assert "sleeper(...)" in err, err  # the stack of the goroutine holding the thread


CHAN_LOOP = """
def loop():
    ch = gr.Chan(1)
    print("ready", flush=True)
    sys.stdout.write("flushed\\n")
    while True:  # never parks: the buffer always has room
        ch.send(1)
        ch.recv()

def main():
    gr.go(loop)
    try:
        gr.Chan().recv()
    finally:
        print("finally", flush=True)

gr.run(main)
"""


@pytest.mark.parametrize("path", list(PATHS))
def test_sigint_during_a_channel_loop_without_preemption(path: str) -> None:
    env = dict(PATHS[path], GOROUTINES_PREEMPT="0")
    status, out, err, took = run_child(CHAN_LOOP, env)
    assert_escalated(status, out, err, took, 2, "loop")


@pytest.mark.skipif(not preempt.supported(), reason="needs preemption")
def test_sigint_during_an_accelerated_channel_loop_with_preemption_is_delivered() -> None:
    _status, out, err, _took = run_child(CHAN_LOOP, {})
    assert "finally" in out, (out, err)
    assert "KeyboardInterrupt" in err, err
    assert "SIGINT not delivered" not in err


NOTIFY = """
from goroutines import context

def sleeper():
    print("ready", flush=True)
    time.sleep(2.5)   # holds the thread past the grace period

def main():
    ctx, stop = context.notify_context(context.background(), signal.SIGINT)
    try:
        gr.go(sleeper)
        ctx.done().recv()
        print("cancelled", flush=True)
    finally:
        stop()

gr.run(main)
"""


def test_notify_context_owns_sigint() -> None:
    status, out, err, _took = run_child(NOTIFY, {})
    assert status == 0, (status, out, err)
    assert "cancelled" in out
    assert "SIGINT not delivered" not in err

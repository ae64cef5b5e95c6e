"""fork: after os.fork() the child has a working runtime (the forking code is
its goroutine 1; the parent's other goroutines do not exist there), and the
parent is unaffected. The forks happen in child interpreters, not in pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def run_script(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )


COMMON = """
import os, sys, time, traceback
import goroutines
from goroutines import Chan, Deadlock, blocking, current, go, gosched, num_goroutine, sleep

def child_checks(where):
    # The runtime of a forked child: only the forking goroutine, as goroutine 1.
    assert num_goroutine() == 1, f"{where}: num_goroutine() is {num_goroutine()}"
    assert current().id == 1, f"{where}: current() is {current()}"
    d = Chan()
    go(lambda: (sleep(0.01), d.send("sleep+chan")))
    got = [d.recv()]
    e = Chan(3)
    for i in range(3):
        go(e.send, i)
    got.append(sorted(e.recv() for _ in range(3)))
    got.append(blocking(lambda: "blocking"))
    try:
        Chan().recv()
    except Deadlock:
        got.append("deadlock detected")
    print(f"child from {where}:", got, flush=True)

def fork_and_check(where):
    pid = os.fork()
    if pid == 0:
        try:
            child_checks(where)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
"""

EXPECTED_CHILD = "['sleep+chan', [0, 1, 2], 'blocking', 'deadlock detected']"


def test_forked_child_of_main_goroutine_has_a_working_runtime() -> None:
    proc = run_script(
        COMMON
        + """
def main():
    c = Chan()
    bystander = go(c.recv)        # lives in the parent only
    blocking(time.sleep, 0)       # the parent has a helper thread
    gosched()
    code = fork_and_check("main")
    c.send("parent still works")  # the parent's goroutine is unaffected
    gosched()
    print("parent: child exit", code, "bystander", bystander.state, num_goroutine(), flush=True)

goroutines.run(main)
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"child from main: {EXPECTED_CHILD}",
        "parent: child exit 0 bystander dead 1",
    ], (proc.stdout, proc.stderr)


def test_forked_child_of_another_goroutine_makes_it_goroutine_1() -> None:
    proc = run_script(
        COMMON
        + """
def main():
    out = Chan()
    others = [go(sleep, 3600) for _ in range(3)]
    go(lambda: out.send(fork_and_check("goroutine")))
    code = out.recv()
    print("parent: child exit", code, "goroutines", num_goroutine(), flush=True)

goroutines.run(main)
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"child from goroutine: {EXPECTED_CHILD}",
        "parent: child exit 0 goroutines 4",
    ], (proc.stdout, proc.stderr)


def test_forked_child_in_the_implicit_model_exits_normally() -> None:
    proc = run_script(
        """
        import os
        from goroutines import Chan, go, sleep

        c = Chan()
        go(lambda: c.send("before fork"))
        print(c.recv(), flush=True)
        pid = os.fork()
        if pid == 0:
            d = Chan()
            go(lambda: (sleep(0.01), d.send("in child")))
            print(d.recv(), flush=True)
            raise SystemExit(0)
        _, status = os.waitpid(pid, 0)
        go(lambda: c.send("parent after fork"))
        print(c.recv(), os.waitstatus_to_exitcode(status), flush=True)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["before fork", "in child", "parent after fork 0"], (
        proc.stdout,
        proc.stderr,
    )


def test_forked_child_with_a_panic_exits_2() -> None:
    proc = run_script(
        """
        import os, threading, time
        from goroutines import go

        pid = os.fork()
        if pid == 0:
            def worker():
                raise ValueError("child panic")
            def thread():  # the panic is never met: gosched() would raise it
                g = go(worker)
                while g.state != "dead":
                    time.sleep(0.001)
            t = threading.Thread(target=thread)
            t.start()
            t.join()
        else:
            _, status = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(status), flush=True)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "child exit 2\n", (proc.stdout, proc.stderr)
    assert "ValueError: child panic" in proc.stderr

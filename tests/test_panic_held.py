"""A panic held for a main thread that has not used the runtime yet, met by
that thread's first runtime call: as goroutine 1 it raises there; from an
asyncio loop (a foreign thread: no goroutine 1, now or later) it ends the
program with status 2, as Go does for a panic nobody can meet."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=30,
    )


HELD_FIRST = """
    import asyncio, threading, time
    from goroutines import Chan, go
    from goroutines._runtime import sched

    def worker():
        raise ValueError("no main goroutine")

    async def main():
        t = threading.Thread(target=go, args=(worker,))
        t.start()
        t.join()
        while sched._pending_panic is None:  # held for the main thread
            time.sleep(0.001)
        await Chan().recv_async()  # its first use: from a loop, so foreign

    asyncio.run(main())
    print("not reached")
    """


@pytest.mark.parametrize("run", range(10))
def test_a_panic_held_before_the_main_threads_loop_uses_the_runtime_ends_the_program(
    run: int,
) -> None:
    proc = run_child(HELD_FIRST)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "panic: " in proc.stderr and "ValueError: no main goroutine" in proc.stderr
    assert "not reached" not in proc.stdout

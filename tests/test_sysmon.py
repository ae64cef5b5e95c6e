"""sysmon: hand-off of a stuck P's unstarted goroutines, max_procs, the
stuck-thread report, the dump's P column, run() killing on every P."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from goroutines import Chan, WaitGroup, dump, go, max_procs, run, sleep
from goroutines._runtime import sched as _sched
from goroutines._runtime import sysmon
from goroutines._runtime.g import allgs

pytestmark = pytest.mark.skipif(not sysmon.ENABLED, reason="GOROUTINES_SYSMON=0")


@pytest.fixture
def procs() -> Iterator[None]:
    old = max_procs()
    try:
        yield
    finally:
        max_procs(old)


def _wait_for(sem: threading.Semaphore, n: int) -> None:
    """Hold this goroutine's thread (outside the runtime: sysmon hands the
    goroutines queued behind it to another P) until n of them released sem."""
    for _ in range(n):
        assert sem.acquire(timeout=20), "the goroutines were not handed off"


def _stuck_and_fan_out(n: int, wait: float) -> tuple[bool, list[int], int]:
    """Goroutine 2 blocks goroutine 1's thread in Event.wait (a foreign call
    that releases the GIL); n goroutines started after it record the thread
    they run on, and the last one ends the wait. Returns (the wait was ended
    by them, their threads, goroutine 1's thread)."""
    ev = threading.Event()
    seen: list[int] = []
    lock = threading.Lock()
    box: list[bool] = []

    def block() -> None:
        box.append(ev.wait(wait))

    def record() -> None:
        with lock:
            seen.append(threading.get_ident())
            if len(seen) == n:
                ev.set()

    def main() -> None:
        wg = WaitGroup()
        wg.go(block)
        for _ in range(n):
            wg.go(record)
        wg.wait()

    run(main)
    return box[0], seen, threading.get_ident()


def test_unstarted_goroutines_leave_a_thread_stuck_in_a_foreign_call(procs: None) -> None:
    max_procs(2)
    for _ in range(5):
        ended_by_them, seen, mine = _stuck_and_fan_out(50, 20.0)
        assert ended_by_them, "the stuck thread's goroutines never ran elsewhere"
        assert len(seen) == 50
        assert mine not in seen  # none ran on the stuck thread


def test_max_procs_1_hands_nothing_off(procs: None) -> None:
    max_procs(1)
    ended_by_them, seen, mine = _stuck_and_fan_out(20, 0.3)
    assert not ended_by_them  # the wait timed out: nobody else ran them
    assert seen == [mine] * 20  # then they ran on goroutine 1's thread


def test_lowering_max_procs_stops_hand_offs_and_raising_it_resumes_them(procs: None) -> None:
    max_procs(3)
    assert _stuck_and_fan_out(10, 20.0)[0]
    assert max_procs(1) == 3
    assert not _stuck_and_fan_out(10, 0.3)[0]
    max_procs(2)
    assert _stuck_and_fan_out(10, 20.0)[0]


def test_a_started_goroutine_never_moves(procs: None) -> None:
    max_procs(4)
    ev = threading.Event()
    ch: Chan[int] = Chan()
    where: list[tuple[str, int]] = []
    fan = 30

    def started() -> None:
        where.append(("before", threading.get_ident()))
        ch.recv()  # parks; readied by a goroutine on another P
        where.append(("after", threading.get_ident()))

    def block() -> None:
        ev.wait(20)

    def other(i: int) -> None:
        if i == 0:
            ch.send(1)
        where.append(("other", threading.get_ident()))
        if sum(1 for w in where if w[0] == "other") == fan:
            ev.set()

    def main() -> None:
        wg = WaitGroup()
        wg.go(started)
        wg.go(block)
        for i in range(fan):
            wg.go(other, i)
        wg.wait()

    run(main)
    before = [t for k, t in where if k == "before"]
    after = [t for k, t in where if k == "after"]
    assert before == after == [threading.get_ident()]
    assert threading.get_ident() not in [t for k, t in where if k == "other"]


def _count_every_goroutine_once(n: int) -> None:
    counts = bytearray(n)
    total = [0]
    lock = threading.Lock()

    def work(i: int) -> None:
        if i % 997 == 0:
            time.sleep(0.002)  # stuck outside the runtime: a hand-off
        with lock:
            counts[i] += 1
            total[0] += i

    def main() -> None:
        wg = WaitGroup()
        for i in range(n):
            wg.go(work, i)
        wg.wait()

    run(main)
    assert total[0] == n * (n - 1) // 2
    assert counts == bytearray([1]) * n


def test_no_goroutine_is_lost_or_run_twice_across_hand_offs(procs: None, short: bool) -> None:
    for nprocs in (2, 3, 4):
        max_procs(nprocs)
        _count_every_goroutine_once(20_000 if short else 100_000)


def test_run_kills_the_goroutines_it_handed_to_other_ps(procs: None) -> None:
    max_procs(2)
    started = threading.Semaphore(0)
    cleaned: list[int] = []
    parked = Chan[int](100)

    def forever() -> None:
        try:
            parked.send(threading.get_ident())
            started.release()
            Chan[int]().recv()
        finally:
            cleaned.append(threading.get_ident())

    def main() -> None:
        go(_wait_for, started, 10)  # stuck until they all ran on another P
        for _ in range(10):
            go(forever)
        got = [parked.recv() for _ in range(10)]
        assert threading.get_ident() not in got

    run(main)
    assert len(cleaned) == 10
    assert threading.get_ident() not in cleaned  # killed on their own thread
    assert not [g for g in list(allgs.values()) if g.p is not None and g.p.g1 is None]


def test_the_dump_says_which_p_a_goroutine_is_on(procs: None) -> None:
    max_procs(2)
    started = threading.Semaphore(0)
    parked = Chan[int](1)
    text: list[str] = []

    def waiter() -> None:
        parked.send(1)
        started.release()
        Chan[int]().recv()

    def main() -> None:
        go(_wait_for, started, 1)  # stuck until the waiter ran on another P
        g = go(waiter)
        parked.recv()
        header = f"goroutine {g.id} [chan receive, P"
        for _ in range(2000):  # the waiter's next step, on its own thread
            text[:] = [dump()]
            if header in text[0]:
                break
            sleep(0.005)

    run(main)
    header = next(line for line in text[0].splitlines() if "[chan receive, P" in line)
    assert header.startswith("goroutine ") and header.endswith("]:"), header
    # goroutine 1's own P (P0) is not named
    assert "goroutine 1 [running]:" in text[0]


def _run_script(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


STUCK = """
    import time
    import goroutines as g

    def spin(ch):
        ch.send(1)

    def main():
        g.max_procs(1)
        for _ in range(3):
            ch = g.Chan()
            g.go(time.sleep, 0.3)
            g.go(spin, ch)
            ch.recv()
    g.run(main)
    print("done")
"""


def test_a_thread_stuck_in_time_sleep_is_reported_once_with_the_fix() -> None:
    r = _run_script(STUCK)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    assert r.stderr.count("has blocked its thread outside the runtime") == 1, r.stderr
    assert "goroutine 2 [sleep]" in r.stderr or "[sleep]" in r.stderr, r.stderr
    assert "fix: use goroutines.sleep" in r.stderr, r.stderr


def test_the_stuck_thread_report_can_be_turned_off() -> None:
    r = _run_script(STUCK, GOROUTINES_BLOCK_REPORT="0")
    assert r.returncode == 0, r.stderr
    assert "blocked its thread" not in r.stderr, r.stderr


def test_goroutine_1_joining_a_thread_with_nothing_waiting_is_not_reported() -> None:
    r = _run_script(
        """
        import threading, time
        import goroutines as g

        def main():
            t = threading.Thread(target=time.sleep, args=(0.4,))
            t.start()
            t.join()
        g.run(main)
        print("done")
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr


@pytest.mark.parametrize("env", [{}, {"GOROUTINES_SYSMON": "0"}])
def test_importing_the_library_starts_no_monitor(env: dict[str, str]) -> None:
    r = _run_script(
        """
        import threading
        import goroutines as g
        print(any(t.name == "goroutines-sysmon" for t in threading.enumerate()))
        g.run(lambda: None)
        print(any(t.name == "goroutines-sysmon" for t in threading.enumerate()))
        """,
        **env,
    )
    assert r.returncode == 0, r.stderr
    started = env.get("GOROUTINES_SYSMON") != "0"
    assert r.stdout.split() == ["False", str(started)], r.stdout


def test_deadlock_is_found_over_several_ps(procs: None) -> None:
    from goroutines import Deadlock

    max_procs(2)
    started = threading.Semaphore(0)
    parked = Chan[int](10)

    def forever() -> None:
        parked.send(1)
        started.release()
        Chan[int]().recv()

    def main() -> None:
        go(_wait_for, started, 5)  # stuck until they all ran on another P
        for _ in range(5):
            go(forever)
        for _ in range(5):
            parked.recv()
        Chan[int]().recv()  # everyone is asleep now, on two Ps

    with pytest.raises(Deadlock) as info:
        run(main)
    assert "all goroutines are asleep - deadlock!" in str(info.value)


def _pingpong(a: Chan[int], b: Chan[int], n: int) -> None:
    for i in range(n):
        a.send(i)
        b.recv()


def _pongping(a: Chan[int], b: Chan[int], n: int) -> None:
    for _ in range(n):
        a.recv()
        b.send(0)


def _pairs_behind_a_sleeper(nap: float) -> None:
    wg = WaitGroup()
    wg.go(time.sleep, nap)  # stuck outside the runtime: hand-offs
    for _ in range(20):
        a, b = Chan[int](), Chan[int]()
        wg.go(_pingpong, a, b, 50)
        wg.go(_pongping, a, b, 50)
    wg.wait()


def test_no_false_deadlock_while_hand_offs_move_goroutines(procs: None, short: bool) -> None:
    max_procs(3)
    for seed in range(20 if short else 60):
        run(_pairs_behind_a_sleeper, 0.002 + (seed % 5) * 0.001)


def test_max_procs_rejects_what_is_not_an_int() -> None:
    with pytest.raises(TypeError, match="max_procs: n must be an int or None"):
        max_procs("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        max_procs(True)


def test_max_procs_reads_without_changing(procs: None) -> None:
    old = max_procs(3)
    assert max_procs() == 3
    assert max_procs(0) == 3
    assert max_procs(-1) == 3
    assert _sched.procs == 3
    assert old >= 1


EXIT_WHILE_PS_BUSY = """
    import time
    import goroutines as g

    def spin():
        while True:
            sum(range(1000))

    def nap():
        while True:
            time.sleep(0.001)  # stuck outside the runtime, again and again

    def main():
        g.max_procs(3)
        g.go(time.sleep, 0.2)        # P0 stuck: the rest are handed off
        for i in range(30):
            g.go(spin if i % 2 else nap)
        g.sleep(0.05)
    g.run(main)
    print("done")
"""


@pytest.mark.parametrize("round_", range(3))
def test_exit_while_several_ps_are_busy_does_not_crash(round_: int) -> None:
    r = _run_script(EXIT_WHILE_PS_BUSY, GOROUTINES_BLOCK_REPORT="0")
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout == "done\n"


def test_a_forked_child_runs_its_own_monitor() -> None:
    r = _run_script(
        """
        import os, threading
        import goroutines as g

        def main():
            pid = os.fork()
            if pid == 0:
                alive = any(t.name == "goroutines-sysmon" for t in threading.enumerate())
                os._exit(0 if alive else 7)
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status))
        g.run(main)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0\n", r.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_thread_waiting_for_a_cpu_is_told_from_one_asleep_in_a_call() -> None:
    """The block report's last check: a thread that used no CPU since the
    last look but is runnable (a loaded machine did not schedule it) is not
    stuck; one asleep in a call is."""

    class FakeP:
        native_id = 0

    ready, stop = threading.Event(), threading.Event()
    ids: list[int] = []

    def asleep() -> None:
        ids.append(threading.get_native_id())
        ready.set()
        stop.wait(30)

    t = threading.Thread(target=asleep)
    t.start()
    try:
        assert ready.wait(10)
        p: Any = FakeP()
        p.native_id = ids[0]
        deadline = time.monotonic() + 10
        while sysmon._waits_for_cpu(p):  # between ready.set() and its wait
            assert time.monotonic() < deadline, "the thread never went to sleep"
            stop.wait(0.001)
        for _ in range(20):
            assert not sysmon._waits_for_cpu(p)
        p.native_id = threading.get_native_id()  # this thread, running now
        assert sysmon._waits_for_cpu(p)
        p.native_id = 2**31 - 1  # no such thread
        assert not sysmon._waits_for_cpu(p)
    finally:
        stop.set()
        t.join(10)

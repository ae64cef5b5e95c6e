"""Lock-order checking (`run --lockorder`): holding A while taking B, then B
while taking A, elsewhere, is a potential deadlock, reported once with both
stacks, even when the run did not deadlock. Consistent orders never are."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from goroutines import Cond, Mutex, Once, RWMutex, WaitGroup, _lockorder, go, gosched, run

ORIGINAL = {name: Mutex.__dict__[name] for name in ("lock", "unlock", "try_lock", "__enter__")}


@pytest.fixture(autouse=True)
def lockorder() -> Iterator[list[str]]:
    found: list[str] = []
    _lockorder.enable(found.append)
    try:
        yield found
    finally:
        _lockorder.disable()


def a_then_b(a: Mutex, b: Mutex) -> None:
    with a:
        with b:
            pass


def b_then_a(a: Mutex, b: Mutex) -> None:
    b.lock()
    a.lock()
    a.unlock()
    b.unlock()


def in_goroutines(*calls: tuple[Any, ...]) -> None:
    """Each call in a goroutine of its own, one after the other (no deadlock)."""

    def main() -> None:
        for fn, *args in calls:
            wg = WaitGroup()
            wg.add(1)

            def body(fn: Any = fn, args: Any = args, wg: WaitGroup = wg) -> None:
                try:
                    fn(*args)
                finally:
                    wg.done()

            go(body)
            wg.wait()

    run(main)


def test_an_inversion_is_reported_once_with_both_stacks(lockorder: list[str]) -> None:
    a, b = Mutex(), Mutex()
    in_goroutines((a_then_b, a, b), (b_then_a, a, b), (a_then_b, a, b), (b_then_a, a, b))
    assert len(lockorder) == 1, lockorder
    text = lockorder[0]
    assert text.startswith("POTENTIAL DEADLOCK: lock order inversion\n"), text
    assert f"took Mutex {id(a):#x} while holding Mutex {id(b):#x}:" in text, text
    assert f"took Mutex {id(b):#x} while holding Mutex {id(a):#x}:" in text, text
    assert "test_lockorder.a_then_b(...)" in text and "test_lockorder.b_then_a(...)" in text
    assert text.count(" was taken at:") == 2, text
    # two different goroutines
    assert len({line.split(" took ")[0] for line in text.splitlines() if " took " in line}) == 2
    assert _lockorder.reports() == lockorder


def test_a_consistent_order_is_never_reported(lockorder: list[str]) -> None:
    locks = [Mutex() for _ in range(5)]
    rw = RWMutex()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        for _ in range(50):
            chosen = sorted(rnd.sample(range(5), rnd.randrange(1, 4)))
            for i in chosen:
                locks[i].lock()
                if rnd.random() < 0.3:
                    gosched()
            if rnd.random() < 0.5:
                with rw:
                    pass
            for i in reversed(chosen):
                locks[i].unlock()

    def main() -> None:
        wg = WaitGroup()
        for seed in range(8):
            wg.add(1)
            go(lambda s=seed: (worker(s), wg.done()))
        wg.wait()

    for _ in range(3):
        run(main)
    assert lockorder == []


def test_a_longer_cycle_is_reported(lockorder: list[str]) -> None:
    a, b, c = Mutex(), Mutex(), Mutex()
    in_goroutines((a_then_b, a, b), (a_then_b, b, c))
    assert lockorder == []
    in_goroutines((a_then_b, c, a))
    assert len(lockorder) == 1
    assert lockorder[0].count(" while holding ") == 3, lockorder[0]


def test_read_locks_under_read_locks_add_no_edge(lockorder: list[str]) -> None:
    x, y = RWMutex(), RWMutex()

    def rr(p: RWMutex, q: RWMutex) -> None:
        p.rlock()
        q.rlock()
        q.runlock()
        p.runlock()

    def wr(p: RWMutex, q: RWMutex) -> None:
        p.lock()
        q.rlock()
        q.runlock()
        p.unlock()

    in_goroutines((rr, x, y), (rr, y, x))
    assert lockorder == []
    in_goroutines((wr, x, y), (wr, y, x))
    assert len(lockorder) == 1
    assert f"took RWMutex {id(y):#x} while holding RWMutex {id(x):#x}" in lockorder[0]
    assert "Mutex 0x" not in lockorder[0].replace("RWMutex 0x", "")  # not its inner Mutex


def test_try_lock_adds_no_edge_but_what_it_takes_is_held(lockorder: list[str]) -> None:
    a, b = Mutex(), Mutex()

    def try_b_under_a() -> None:
        with a:
            assert b.try_lock()
            b.unlock()

    def a_under_try_b() -> None:
        assert b.try_lock()
        a.lock()
        a.unlock()
        b.unlock()

    in_goroutines((try_b_under_a,), (a_under_try_b,))
    assert lockorder == []
    in_goroutines((a_then_b, a, b))  # a then b; b (try-locked) then a before: a cycle
    assert len(lockorder) == 1


def test_cond_wait_and_once_keep_the_bookkeeping_right(lockorder: list[str]) -> None:
    mu, other = Mutex(), Mutex()
    cond = Cond(mu)
    once = Once()

    def main() -> None:
        ready = [False]

        def waiter() -> None:
            with mu:
                while not ready[0]:
                    cond.wait()

        wg = WaitGroup()
        wg.add(1)
        go(lambda: (waiter(), wg.done()))
        gosched()
        with mu:
            ready[0] = True
            cond.broadcast()
        wg.wait()
        once.do(lambda: a_then_b(mu, other))
        a_then_b(mu, other)

    run(main)
    assert lockorder == []


def test_unlocked_by_another_goroutine(lockorder: list[str]) -> None:
    a, b = Mutex(), Mutex()

    def main() -> None:
        a.lock()
        done = WaitGroup()
        done.add(1)
        go(lambda: (a.unlock(), done.done()))  # Go allows it
        done.wait()
        b_then_a(a, b)  # a is no longer held by goroutine 1: no edge a -> b

    run(main)
    assert lockorder == []


def test_foreign_threads_are_holders_too(lockorder: list[str]) -> None:
    a, b = Mutex(), Mutex()
    for fn in (a_then_b, b_then_a):
        t = threading.Thread(target=fn, args=(a, b))
        t.start()
        t.join(10)
    assert len(lockorder) == 1
    assert "thread " in lockorder[0]


def test_disable_puts_the_methods_back() -> None:
    assert Mutex.__dict__["lock"] is not ORIGINAL["lock"]
    _lockorder.disable()
    for name, fn in ORIGINAL.items():
        assert Mutex.__dict__[name] is fn
    assert not _lockorder.enabled()
    _lockorder.enable()
    assert _lockorder.enabled()


INVERSION = """
import goroutines
from goroutines import Mutex, WaitGroup, go

a, b = Mutex(), Mutex()

def transfer_ab():
    with a:
        with b:
            pass

def transfer_ba():
    with b:
        with a:
            pass

for f in (transfer_ab, transfer_ba):
    wg = WaitGroup()
    wg.add(1)
    go(lambda f=f: (f(), wg.done()))
    wg.wait()
print("done")
"""


@pytest.mark.parametrize("pure", [False, True])
def test_run_lockorder_reports_and_exits_3(tmp_path: Any, pure: bool) -> None:
    script = tmp_path / "prog.py"
    script.write_text(INVERSION)
    env = None
    if pure:
        env = {**os.environ, "GOROUTINES_PURE": "1", "GOROUTINES_EXPECT_SPEEDUPS": "0"}
    r = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--lockorder", str(script)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert r.returncode == 3, r.stderr
    assert r.stdout == "done\n"
    assert r.stderr.startswith("POTENTIAL DEADLOCK: lock order inversion\n"), r.stderr
    assert "__main__.transfer_ab(...)" in r.stderr and "__main__.transfer_ba(...)" in r.stderr
    assert r.stderr.rstrip().endswith("goroutines: found 1 lock order inversion"), r.stderr
    ok = tmp_path / "ok.py"
    ok.write_text(INVERSION.replace("with b:\n        with a:", "with a:\n        with b:"))
    r = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--lockorder", str(ok)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


# Two goroutines bump a counter with no lock: a data race, whatever the schedule.
RACY_INVERSION = INVERSION.replace(
    'print("done")',
    """count = 0

def bump():
    global count
    count += 1

wg = WaitGroup()
wg.add(2)
for _ in range(2):
    go(lambda: (bump(), wg.done()))
wg.wait()
print("done", count)""",
)


def race_run(script: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GORACE"}
    return subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--race", str(script)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


@pytest.mark.skipif(
    os.environ.get("GOROUTINES_PURE") == "1",
    reason="run --race always runs the pure path: the accelerated run covers it",
)
def test_run_race_checks_the_lock_order_too(tmp_path: Any) -> None:
    """--race records the lock order as --lockorder does: an inversion alone
    exits 3; with a data race as well, both are reported and the race
    detector's 66 wins; a consistent order reports nothing."""
    script = tmp_path / "prog.py"
    script.write_text(INVERSION)
    r = race_run(script)
    assert r.returncode == 3, r.stderr
    assert r.stdout == "done\n"
    assert r.stderr.startswith("POTENTIAL DEADLOCK: lock order inversion\n"), r.stderr
    assert "__main__.transfer_ab(...)" in r.stderr and "__main__.transfer_ba(...)" in r.stderr
    assert "goroutines._race" not in r.stderr, r.stderr  # the detector's frames are left out
    assert "DATA RACE" not in r.stderr, r.stderr
    assert r.stderr.rstrip().endswith("goroutines: found 1 lock order inversion"), r.stderr

    racy = tmp_path / "racy.py"
    racy.write_text(RACY_INVERSION)
    r = race_run(racy)
    assert r.returncode == 66, r.stderr
    assert r.stdout == "done 2\n"
    assert r.stderr.count("POTENTIAL DEADLOCK: lock order inversion\n") == 1, r.stderr
    assert r.stderr.count("WARNING: DATA RACE") == 1, r.stderr
    assert "goroutines: found 1 lock order inversion" in r.stderr, r.stderr
    assert "Found 1 data race(s)" in r.stderr, r.stderr

    ok = tmp_path / "ok.py"
    ok.write_text(INVERSION.replace("with b:\n        with a:", "with a:\n        with b:"))
    r = race_run(ok)
    assert (r.returncode, r.stdout, r.stderr) == (0, "done\n", ""), r.stderr

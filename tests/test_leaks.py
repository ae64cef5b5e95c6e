"""goroutines.leaks(): goroutines blocked forever, found by a fixed point over
reachability. Each test starts goroutines of both kinds, waits until every one
of them is parked, and checks that leaks() names exactly the leaked ones: a
goroutine whose primitive only its own stack (or a leaked goroutine's) holds is
reported; one whose primitive a root holds (a global, a signal handler, an
atexit callable, a C reference, a thread-local, another thread, a timer, a
helper-thread call, a live goroutine's locals) never is.

Each runs under run(), which kills the goroutines left parked when main
returns. leaks() walks every object of the process: a few calls per test."""

from __future__ import annotations

import atexit
import ctypes
import random
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from goroutines import (
    Chan,
    Cond,
    Goroutine,
    Mutex,
    RWMutex,
    Semaphore,
    WaitGroup,
    after,
    after_func,
    blocking,
    go,
    gosched,
    leaks,
    recv,
    run,
    select,
    send,
    sleep,
)
from goroutines.context import background

HELD: list[Any] = []  # a module global: what it holds is reachable


def settle(gs: Iterable[Goroutine], timeout: float = 5.0) -> None:
    """Return once every goroutine of gs is parked ("waiting")."""
    gs = list(gs)
    deadline = time.monotonic() + timeout
    while any(g.state != "waiting" for g in gs):
        if time.monotonic() > deadline:
            raise AssertionError(f"not parked: {[g for g in gs if g.state != 'waiting']}")
        gosched()
        sleep(0.001)


def found(expected: Iterable[Goroutine], others: Iterable[Goroutine]) -> None:
    """leaks() names every goroutine of expected and none of others."""
    expected = list(expected)
    settle([*expected, *others])
    got = leaks()
    assert [g.id for g in got] == sorted(g.id for g in expected), (got, expected)


# -- leaked -----------------------------------------------------------------


def orphan_recv() -> Goroutine:
    ch = Chan[int]()
    return go(lambda: ch.recv())


def orphan_send() -> Goroutine:
    ch = Chan[int]()
    return go(ch.send, 1)


def orphan_range() -> Goroutine:
    ch = Chan[int]()

    def worker() -> None:
        for _ in ch:
            pass

    return go(worker)


def orphan_select() -> Goroutine:
    a, b = Chan[int](), Chan[int]()
    return go(lambda: select(recv(a), send(b, 1)))


def orphan_buffered_send() -> Goroutine:
    ch = Chan[int](1)
    ch.send(0)
    return go(ch.send, 1)


def orphan_waitgroup() -> Goroutine:
    wg = WaitGroup()
    wg.add(1)
    return go(wg.wait)


def orphan_mutex() -> Goroutine:
    mu = Mutex()
    mu.lock()
    return go(mu.lock)


def orphan_rwmutex() -> list[Goroutine]:
    rw = RWMutex()
    rw.rlock()
    return [go(rw.lock), go(rw.lock)]


def orphan_cond() -> Goroutine:
    mu = Mutex()
    cond = Cond(mu)

    def wait() -> None:
        mu.lock()
        cond.wait()

    return go(wait)


def orphan_semaphore() -> Goroutine:
    sem = Semaphore(1)
    sem.acquire(background(), 1)
    return go(sem.acquire, background(), 1)


def test_a_goroutine_waiting_on_what_only_its_own_stack_holds_is_leaked() -> None:
    def main() -> None:
        gs = [orphan_recv(), orphan_send(), orphan_range(), orphan_select(),
              orphan_buffered_send()]
        found(gs, [])
        assert {g.wait_reason for g in gs} == {"chan receive", "chan send", "select"}

    for _ in range(3):
        run(main)


def test_every_sync_primitive_is_followed() -> None:
    def main() -> None:
        gs = [orphan_waitgroup(), orphan_mutex(), *orphan_rwmutex(), orphan_cond(),
              orphan_semaphore()]
        found(gs, [])

    run(main)


def test_nil_channels_and_an_empty_select_block_for_good() -> None:
    def main() -> None:
        nil: Any = None
        gs = [go(select)]
        live_nil = go(lambda: select(recv(nil), recv(keep)))
        keep = Chan[int]()
        found(gs, [live_nil])

    run(main)


def test_a_partial_deadlock_is_found_while_main_goes_on() -> None:
    def lock_both(x: Mutex, y: Mutex, wg: WaitGroup) -> None:
        x.lock()
        wg.done()
        wg.wait()
        y.lock()

    def start() -> list[Goroutine]:
        a, b = Mutex(), Mutex()
        wg = WaitGroup()
        wg.add(2)
        return [go(lock_both, a, b, wg), go(lock_both, b, a, wg)]

    def ping_pong(x: Chan[int], y: Chan[int]) -> None:
        x.recv()
        y.send(1)

    def start_chans() -> list[Goroutine]:
        x, y = Chan[int](), Chan[int]()
        return [go(ping_pong, x, y), go(ping_pong, y, x)]

    def main() -> None:
        gs = start() + start_chans()
        busy = Chan[int]()
        worker = go(lambda: [busy.recv() for _ in range(3)])
        found(gs, [worker])
        for i in range(3):
            busy.send(i)  # main goes on

    run(main)


def test_a_chain_of_leaked_goroutines_is_leaked_and_a_chain_from_a_root_is_not() -> None:
    def chain(n: int, keep: bool) -> list[Goroutine]:
        chans = [Chan[int]() for _ in range(n)]
        gs = []
        for i in range(n):
            # goroutine i waits on chans[i] and holds chans[i + 1] (it would send there)
            nxt = chans[i + 1] if i + 1 < n else None
            gs.append(go(lambda c=chans[i], d=nxt: (c.recv(), d and d.send(1))))
        if keep:
            HELD.append(chans[0])
        return gs

    def main() -> None:
        leaked = chain(5, keep=False)
        live = chain(5, keep=True)
        try:
            found(leaked, live)
        finally:
            HELD.clear()

    run(main)


def test_a_finished_goroutine_keeps_nothing_alive() -> None:
    """A goroutine that has returned holds its function (and its closure) in
    the runtime's records: that does not make its channel reachable."""

    def main() -> None:
        def start() -> tuple[Goroutine, Goroutine]:
            c = Chan[int]()
            winner = go(lambda: c.send(1))
            loser = go(lambda: c.send(2))
            assert c.recv() in (1, 2)
            return winner, loser

        blocked: list[Goroutine] = []
        for _ in range(3):
            a, b = start()
            deadline = time.monotonic() + 5
            while a.state != "dead" and b.state != "dead":
                assert time.monotonic() < deadline
                sleep(0.001)
            blocked.append(b if a.state == "dead" else a)
            found(blocked, [])

    run(main)


def test_generators_and_contexts_on_the_stack() -> None:
    from goroutines.context import with_cancel, with_timeout

    def through_generator(keep: bool) -> Goroutine:
        ch = Chan[int]()
        if keep:
            HELD.append(ch)

        def values() -> Iterator[int]:
            while True:
                yield ch.recv()

        def consume() -> None:
            for _ in values():
                pass

        return go(consume)

    def waits_for_done(how: str) -> Goroutine:
        if how == "timeout":
            ctx, cancel = with_timeout(background(), 60)
        else:
            ctx, cancel = with_cancel(background())
        if how == "kept":
            HELD.append(cancel)
        elif how == "timeout":
            HELD.append(cancel)  # stopped at the end
        return go(lambda: ctx.done().recv())

    def main() -> None:
        leaked = [through_generator(False), waits_for_done("dropped")]
        live = [through_generator(True), waits_for_done("kept"), waits_for_done("timeout")]
        try:
            found(leaked, live)
        finally:
            for x in HELD:
                if callable(x):
                    x()
            HELD.clear()

    run(main)


# -- not leaked -------------------------------------------------------------


def test_roots_keep_what_they_reach_alive() -> None:
    """A global, a signal handler, an atexit callable, a C reference, a
    thread-local, a foreign thread's frame, a pending timer, a helper-thread
    call, a runnable goroutine's arguments, main's locals."""

    def main() -> None:
        live: list[Goroutine] = []
        cleanup: list[Callable[[], None]] = []

        g_global = Chan[int]()
        HELD.append(g_global)
        live.append(go(g_global.recv))

        def with_signal() -> None:
            ch = Chan[int]()
            old = signal.signal(signal.SIGUSR1, lambda *a: ch.close())
            cleanup.append(lambda: signal.signal(signal.SIGUSR1, old))
            live.append(go(ch.recv))

        def with_atexit() -> None:
            ch = Chan[int]()

            def at_exit() -> None:
                ch.close()

            atexit.register(at_exit)
            cleanup.append(lambda: atexit.unregister(at_exit))
            live.append(go(ch.recv))

        def with_c_reference() -> None:
            ch = Chan[int]()
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(ch))  # what a C container does
            addr = id(ch)
            cleanup.append(lambda: ctypes.pythonapi.Py_DecRef(ctypes.c_void_p(addr)))
            live.append(go(ch.recv))

        local = threading.local()

        def with_thread_local() -> None:
            local.ch = Chan[int]()
            live.append(go(local.ch.recv))

        def with_thread() -> None:
            ch = Chan[int]()
            start = threading.Event()
            stop = threading.Event()

            def thread() -> None:
                held = ch  # only this thread's frame holds it
                start.set()
                stop.wait(10)
                del held

            t = threading.Thread(target=thread)
            t.start()
            start.wait(10)
            cleanup.append(lambda: (stop.set(), t.join()))
            live.append(go(ch.recv))

        def with_timer() -> None:
            ch = Chan[int]()
            timer = after_func(60, lambda: ch.close())
            cleanup.append(timer.stop)
            live.append(go(ch.recv))
            live.append(go(lambda: select(recv(Chan[int]()), recv(after(60)))))

        def with_helper_thread() -> None:
            ch = Chan[int]()
            stop = threading.Event()
            started = Chan[None]()

            def helper(c: Chan[int]) -> None:
                stop.wait(10)

            def call() -> None:
                started.close()
                blocking(helper, ch)

            g = go(call)
            started.recv()
            cleanup.append(stop.set)
            live.append(go(ch.recv))
            live.append(g)

        registry: weakref.WeakValueDictionary[str, Chan[int]] = weakref.WeakValueDictionary()
        proxies: list[Any] = []

        def with_weak_references() -> None:
            ch = Chan[int]()
            registry["ch"] = ch  # registry["ch"].send(1) would wake it
            live.append(go(ch.recv))
            other = Chan[int]()
            proxies.append(weakref.proxy(other))
            live.append(go(other.recv))

        for f in (with_signal, with_atexit, with_c_reference, with_thread_local,
                  with_thread, with_timer, with_helper_thread, with_weak_references):
            f()
        mine = Chan[int]()
        live.append(go(mine.recv))
        try:
            found([], live)
        finally:
            for c in cleanup:
                c()
            HELD.clear()

    run(main)


def test_a_live_goroutine_keeps_what_its_locals_reach() -> None:
    def main() -> None:
        wake = Chan[int]()

        def holder(c: Chan[int]) -> None:
            wake.recv()  # parked on what main holds: live, so c stays reachable
            c.send(1)

        def start() -> list[Goroutine]:
            ch = Chan[int]()
            return [go(ch.recv), go(holder, ch)]

        waiter, h = start()
        # a runnable goroutine not yet started holds its channel in its arguments
        ch2 = Chan[int]()
        waiter2 = go(ch2.recv)
        settle([waiter, h, waiter2])
        go(lambda c: c.send(1), ch2)
        del ch2
        got = leaks()
        assert got == [], got
        wake.send(1)

    for _ in range(3):
        run(main)


def test_random_graphs_of_parked_goroutines() -> None:
    """Goroutine i waits on channel i and holds a few other channels in its
    locals; some channels are kept by a global. Leaked: exactly those whose
    channel no kept channel's waiter chain reaches (computed here)."""

    def main(seed: int) -> None:
        rnd = random.Random(seed)
        n = rnd.randrange(3, 12)

        def start() -> list[Goroutine]:
            chans = [Chan[int]() for _ in range(n)]
            gs = []
            for i in range(n):
                held = rnd.sample(range(n), rnd.randrange(0, 3))
                refs = [chans[j] for j in held]
                gs.append(go(lambda c=chans[i], r=refs: (c.recv(), r)))
                holds.append(set(held))
            for i in range(n):
                if rnd.random() < 0.2:
                    HELD.append(chans[i])
                    kept.add(i)
            return gs

        holds: list[set[int]] = []
        kept: set[int] = set()
        gs = start()
        live = set(kept)
        while True:
            more = {j for i in live for j in holds[i]} - live
            if not more:
                break
            live |= more
        try:
            found([gs[i] for i in range(n) if i not in live],
                  [gs[i] for i in live])
        finally:
            HELD.clear()

    for seed in range(12):
        run(main, seed)


def test_called_from_a_foreign_thread_and_with_nothing_parked() -> None:
    def main() -> list[Goroutine]:
        return leaks()

    assert run(main) == []
    result: list[Any] = []

    def thread() -> None:
        result.append(leaks())

    t = threading.Thread(target=thread)
    t.start()
    t.join(10)
    assert result == [[]]


@pytest.mark.parametrize("procs", [1, 2])
def test_goroutines_parked_on_other_ps_are_read_too(procs: int) -> None:
    from goroutines import max_procs

    old = max_procs(procs)
    try:
        def main() -> None:
            gs = [orphan_recv() for _ in range(20)]
            live = []
            for _ in range(5):
                ch = Chan[int]()
                HELD.append(ch)
                live.append(go(ch.recv))
            settle([*gs, *live])
            got = {g.id for g in leaks()}
            # a goroutine whose P idles on its greenlet cannot be read: never reported
            assert got <= {g.id for g in gs}
            assert not got & {g.id for g in live}
            HELD.clear()

        run(main)
    finally:
        max_procs(old)


# -- verify_none(blocked_forever=True) and the command line -------------------


def test_verify_none_can_count_only_the_goroutines_blocked_forever() -> None:
    from goroutines.testing import verify_none

    def main() -> None:
        server = Chan[int]()
        HELD.append(server)
        serving = go(server.recv)  # waits for something reachable: not a leak
        settle([serving])
        verify_none(timeout=0, blocked_forever=True)
        with pytest.raises(AssertionError):
            verify_none(timeout=0)  # the default contract: every goroutine counts
        leaked = orphan_recv()
        settle([leaked])
        with pytest.raises(AssertionError) as info:
            verify_none(timeout=0.01, blocked_forever=True)
        text = str(info.value)
        assert text.startswith("found 1 unexpected goroutine"), text
        assert f"goroutine {leaked.id} [chan receive]:" in text, text
        assert f"goroutine {serving.id} " not in text, text
        server.close()
        HELD.clear()

    run(main)


LEAKY = """
from goroutines import Chan, go

def worker(jobs):
    for job in jobs:
        pass

def start():
    jobs = Chan()
    for _ in range(3):
        go(worker, jobs)
    jobs.send(1)

start()
go(Chan().recv)
"""

CLEAN = """
from goroutines import Chan, WaitGroup, go

def worker(jobs, wg):
    for job in jobs:
        pass
    wg.done()

jobs, wg = Chan(), WaitGroup()
wg.add(3)
for _ in range(3):
    go(worker, jobs, wg)
jobs.send(1)
jobs.close()
wg.wait()
"""


def run_cli(tmp_path: Any, source: str, *options: str) -> Any:
    import subprocess
    import sys

    script = tmp_path / "prog.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "goroutines", "run", *options, str(script)],
        capture_output=True, text=True, timeout=60,
    )


def test_run_leaks_reports_grouped_by_creation_site_and_exits_3(tmp_path: Any) -> None:
    r = run_cli(tmp_path, LEAKY, "--leaks")
    assert r.returncode == 3, r.stderr
    err = r.stderr
    assert err.startswith("goroutineleak profile: total 4\n"), err
    assert "\n3 @ created by start at " in err and "prog.py:11\n" in err, err
    assert "\n1 @ created by <module> at " in err, err
    assert err.count("[chan receive]:") == 4, err
    assert "worker(...)" in err, err
    # the same program without --leaks: status 0, nothing said
    r = run_cli(tmp_path, LEAKY)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


def test_run_leaks_is_silent_on_a_program_that_cleans_up(tmp_path: Any) -> None:
    r = run_cli(tmp_path, CLEAN, "--leaks")
    assert (r.returncode, r.stderr) == (0, ""), r.stderr


def test_what_the_accelerators_parked_channel_operation_holds() -> None:
    """leaks() counts these references as the parked goroutine's own: a
    channel operation parked in the accelerator holds its queue, and a
    ChanIterator's step holds its channel. If the C code changes, so must
    _leaks.py."""
    from goroutines._runtime.accel import port

    if port("chan") is None:
        pytest.skip("the accelerator's chan port is not in use")

    def main() -> None:
        ch = Chan[int]()
        it = Chan[int]()

        def ranging() -> None:
            for _ in it:
                pass

        g1 = go(ch.recv)
        g2 = go(ranging)
        settle([g1, g2])
        q: Any = ch._recvq  # type: ignore[attr-defined]
        # the slot, the parked operation, this local, getrefcount's argument
        assert sys.getrefcount(q) == 4
        ch.close()
        held_by_iteration = sys.getrefcount(it)
        # the cell main and ranging share, the iterator, the step, the argument
        assert held_by_iteration == 4, held_by_iteration
        it.close()

    run(main)


AFTER_ASYNCIO = """
import asyncio
import gc

import goroutines


async def awaiting() -> None:
    loop = asyncio.get_running_loop()
    for _ in range(20):
        fut = loop.create_future()
        loop.call_soon(fut.set_result, None)
        await fut  # a future iterator, freed onto _asyncio's free list


def main() -> None:
    for _ in range(3):
        asyncio.run(awaiting())
        assert goroutines.leaks() == []
    gc.collect()


goroutines.run(main)
print("collected")
"""


def test_leaks_after_asyncio_leaves_the_collector_working(tmp_path: Any) -> None:
    """leaks() never follows a module's C state: CPython 3.12.0-3.12.5's
    _asyncio traverses its free list of future iterators, and handing those
    out (gc.get_referents) freed them twice, turned the free list into a
    cycle, and the next full collection never returned. A child process,
    since a collection looping in C cannot be interrupted."""
    import subprocess

    script = tmp_path / "after_asyncio.py"
    script.write_text(AFTER_ASYNCIO)
    r = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=50,
    )
    assert (r.returncode, r.stdout) == (0, "collected\n"), r.stderr

"""The optional C accelerator (goroutines._runtime._speedups, see accel.py).

The rest of the suite runs on whichever path is active (`make test` runs it
both ways); these tests cover what only the accelerator adds: its Lock type
(the park token and channel lock), the method wrapper that makes the C ports
look like the Python methods, the dump of a goroutine parked in C, and the
switch between the two paths.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import goroutines
from goroutines import Chan, ChannelClosedError, dump, go
from goroutines._chan import Chan as _Chan
from goroutines._runtime import accel
from goroutines._runtime.accel import speedups
from goroutines._runtime.g import allgs
from goroutines._runtime.waiter import new_token

# The accelerator with every port in use (GOROUTINES_PURE=<ports> turns some off).
needs_accel = pytest.mark.skipif(
    accel.active_ports() != frozenset(accel.PORTS),
    reason="the C accelerator (all of its ports) is not active",
)


def test_expected_path_is_active() -> None:
    # `make test` says which path each run must be on, so a build that
    # silently fell back to pure Python fails here instead of passing slowly.
    expect = os.environ.get("GOROUTINES_EXPECT_SPEEDUPS")
    if expect is None:
        pytest.skip("GOROUTINES_EXPECT_SPEEDUPS not set")
    assert (speedups is not None) == (expect == "1")


def test_pure_switch_turns_the_accelerator_off() -> None:
    code = "from goroutines._runtime.accel import speedups; print(speedups is None)"
    env = dict(os.environ, GOROUTINES_PURE="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "True", out.stderr


# -- Lock -------------------------------------------------------------------


@needs_accel
def test_lock_is_the_token_type() -> None:
    assert type(new_token()) is speedups.Lock
    assert type(Chan[int]()._lock) is speedups.Lock


@needs_accel
def test_lock_test_and_set() -> None:
    lock = speedups.Lock()
    assert not lock.locked()
    assert lock.acquire(False) is True
    assert lock.locked()
    assert lock.acquire(False) is False
    assert lock.acquire(blocking=False) is False
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError, match="release unlocked lock"):
        lock.release()


@needs_accel
def test_lock_argument_errors() -> None:
    import _thread

    lock = speedups.Lock()
    with pytest.raises(ValueError, match="non-blocking"):
        lock.acquire(False, 1.0)
    with pytest.raises(ValueError) as ref:  # the words changed in 3.13
        _thread.allocate_lock().acquire(True, -2)
    with pytest.raises(ValueError, match=str(ref.value)):
        lock.acquire(True, -2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        lock.acquire(wait=True)
    with pytest.raises(TypeError, match="at most 2"):
        lock.acquire(True, 1, 2)
    with pytest.raises(TypeError):
        speedups.Lock(1)
    assert not lock.locked()


@needs_accel
def test_lock_timeout_expires_while_held() -> None:
    lock = speedups.Lock()
    lock.acquire()
    t0 = time.monotonic()
    assert lock.acquire(timeout=0.05) is False
    assert time.monotonic() - t0 >= 0.04
    assert lock.acquire(True, 0) is False
    lock.release()
    assert lock.acquire(timeout=0.05) is True
    lock.release()


@needs_accel
def test_lock_context_manager() -> None:
    lock = speedups.Lock()
    with lock:
        assert lock.locked()
    assert not lock.locked()
    assert "unlocked" in repr(lock)


@needs_accel
@pytest.mark.timeout(60)
def test_lock_excludes_threads_and_wakes_every_waiter() -> None:
    # Threads that find the lock held sleep (GIL released) and must each be
    # woken by some release: a lost wake-up hangs this test.
    def worker(lock: Any, counts: list[int]) -> None:
        for _ in range(300):
            lock.acquire()
            counts[0] += 1  # inside now
            counts[1] = max(counts[1], counts[0])
            counts[2] += 1
            if counts[2] % 7 == 0:
                time.sleep(0)  # let others find it held
            counts[0] -= 1
            lock.release()

    for _ in range(20):
        lock = speedups.Lock()
        counts = [0, 0, 0]  # inside, most ever inside, total
        threads = [threading.Thread(target=worker, args=(lock, counts)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert counts[1] == 1
        assert counts[2] == 6 * 300
        assert not lock.locked()


@needs_accel
@pytest.mark.timeout(30)
def test_lock_released_by_another_thread() -> None:
    # Like _thread.lock (and unlike RLock), any thread may release it.
    lock = speedups.Lock()
    lock.acquire()
    got = threading.Event()

    def waiter() -> None:
        lock.acquire()
        got.set()

    t = threading.Thread(target=waiter)
    t.start()
    assert not got.wait(0.05)
    lock.release()
    assert got.wait(10)
    t.join()
    assert lock.locked()


# -- the method wrapper --------------------------------------------------------


@needs_accel
def test_accelerated_methods_keep_docs_and_signatures() -> None:
    for name in ("send", "recv", "recv_ok"):
        meth = getattr(_Chan, name)
        assert type(meth) is speedups.method
        py = meth.__wrapped__
        assert inspect.isfunction(py)
        assert meth.__doc__ == py.__doc__ and meth.__doc__
        assert meth.__name__ == name
        assert inspect.signature(meth) == inspect.signature(py)
        ch: Chan[int] = Chan(1)
        assert getattr(ch, name).__self__ is ch


@needs_accel
def test_accelerated_methods_hand_other_receivers_to_their_twins() -> None:
    # What the C port does not take, its Python twin raises about
    # (test_accel_faults compares the two paths case by case).
    with pytest.raises(AttributeError, match="'int' object has no attribute '_lock'"):
        _Chan.send(5, 1)  # type: ignore[arg-type]
    with pytest.raises(AttributeError, match="'str' object has no attribute '_timer'"):
        _Chan.recv("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Chan[int](1).send()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Chan[int](1).recv(2)  # type: ignore[call-arg]


@needs_accel
def test_uninitialised_channel_raises_instead_of_crashing() -> None:
    ch = _Chan.__new__(_Chan)
    with pytest.raises(AttributeError, match="_lock"):
        ch.send(1)
    with pytest.raises(AttributeError, match="_timer"):
        ch.recv()


def test_send_on_closed_channel_both_paths() -> None:
    def main() -> None:
        ch: Chan[int] = Chan(1)
        ch.send(1)
        ch.close()
        with pytest.raises(ChannelClosedError, match="send on closed channel"):
            ch.send(2)
        assert ch.recv_ok() == (1, True)
        assert ch.recv_ok() == (None, False)

    goroutines.run(main)


# -- dump ----------------------------------------------------------------------


def _assert_parked_in(block: str, op: str, caller: str) -> None:
    """The innermost entries are the channel's (the pure path shows its
    helpers too), the operation among them, then the caller's frame."""
    lines = block.splitlines()[1:]
    names, places = lines[0::2], lines[1::2]
    assert all(p.startswith("\t") for p in places), block
    n = 0
    while names[n].startswith("goroutines._chan."):
        assert "_chan.py:" in places[n], block
        n += 1
    assert op in names[:n], block
    assert caller in names[n], block


@pytest.mark.timeout(30)
def test_dump_names_the_channel_operation_of_a_parked_goroutine() -> None:
    def main() -> None:
        ch: Chan[int] = Chan()
        out: Chan[int] = Chan()

        def receiver() -> None:
            out.send(ch.recv() or 0)  # parks in recv

        def sender() -> None:
            out.send(0)
            ch.send(7)  # parks in send once receiver is gone

        go(receiver)
        goroutines.gosched()
        text = dump()
        block = next(b for b in text.split("\n\n") if "[chan receive]" in b)
        _assert_parked_in(block, "goroutines._chan.Chan.recv(...)", "receiver")
        ch.send(1)
        assert out.recv() == 1
        go(sender)
        assert out.recv() == 0
        goroutines.gosched()
        text = dump()
        block = next(b for b in text.split("\n\n") if "[chan send]" in b)
        _assert_parked_in(block, "goroutines._chan.Chan.send(...)", "sender")
        assert ch.recv() == 7

    goroutines.run(main)


# -- frame-stack chunk cache -------------------------------------------------------


@needs_accel
def test_frame_stack_cache_is_installed_once() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    if os.environ.get("GOROUTINES_ARENA") == "0":
        pytest.skip("GOROUTINES_ARENA=0 in this run")
    assert speedups.cache_frame_stacks() is True  # sched installed it; again is a no-op
    assert speedups.cache_frame_stacks() is True


@pytest.mark.timeout(60)
def test_goroutines_with_deep_and_shallow_frame_stacks_reuse_chunks() -> None:
    # Deep recursion needs frame-stack chunks larger than the cached 16 KiB
    # size (they pass through to the interpreter's allocator); shallow ones are
    # cached and reused. Rounds of many live goroutines of both kinds must all
    # compute the right answer.
    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    def main() -> None:
        for _ in range(5):
            out: Chan[int] = Chan(400)
            gate: Chan[None] = Chan()

            def worker(n: int, out: Chan[int] = out, gate: Chan[None] = gate) -> None:
                gate.recv()  # all alive at once
                out.send(depth(n))

            sizes = [600 if i % 3 == 0 else 3 for i in range(400)]
            for n in sizes:
                go(worker, n)
            gate.close()
            assert sorted(out.recv() or 0 for _ in sizes) == sorted(sizes)

    goroutines.run(main)


def test_channel_iterator_stops_for_good_once_closed_and_drained() -> None:
    def main() -> None:
        ch: Chan[int] = Chan(3)
        for v in (1, 2, 3):
            ch.send(v)
        ch.close()
        it = iter(ch)
        assert iter(it) is it
        assert list(it) == [1, 2, 3]
        assert list(it) == []
        with pytest.raises(StopIteration):
            next(it)

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_channel_iterator_parks_until_values_come() -> None:
    def main() -> None:
        ch: Chan[int] = Chan()

        def produce() -> None:
            for i in range(1000):
                ch.send(i)
            ch.close()

        go(produce)
        assert sum(ch) == sum(range(1000))

    goroutines.run(main)


# -- select ------------------------------------------------------------------------


@needs_accel
def test_select_is_the_accelerated_one() -> None:
    import goroutines._select as sel

    assert type(goroutines.select) is speedups.method
    assert goroutines.select is sel.select
    assert inspect.signature(goroutines.select) == inspect.signature(sel.select.__wrapped__)


@pytest.mark.timeout(60)
def test_select_over_many_cases_and_duplicates() -> None:
    # More cases than the C path takes (64) go to the Python twin; duplicates
    # of one channel are locked once. Either way exactly the ready one runs.
    from goroutines import recv, send

    def main() -> None:
        for ncases in (2, 63, 64, 65, 100):
            chans = [Chan[int](1) for _ in range(ncases)]
            for k in range(ncases):
                chans[k].send(k)
                cases = [recv(c) for c in chans] + [recv(chans[k])]
                i, v = goroutines.select(*cases)
                assert v == k and i in (k, ncases)
            full = Chan[int](1)
            full.send(0)
            i, v = goroutines.select(send(full, 1), send(full, 2), default=True)
            assert (i, v) == (-1, None)

    goroutines.run(main)


@pytest.mark.timeout(60)
def test_select_blocked_on_duplicates_is_woken_once() -> None:
    from goroutines import recv, send

    def main() -> None:
        for _ in range(200):
            a: Chan[int] = Chan()
            done: Chan[tuple[int, object]] = Chan(1)

            def chooser(a: Chan[int] = a, done: Chan[tuple[int, object]] = done) -> None:
                done.send(goroutines.select(recv(a), recv(a), send(a, 5)))

            go(chooser)
            goroutines.gosched()
            a.send(9)  # pairs with one of the two receive cases
            i, v = done.recv() or (None, None)
            assert i in (0, 1) and v == 9
            assert a.try_send(1) is False  # nothing of the select is left queued

    goroutines.run(main)


# -- go ----------------------------------------------------------------------------


def test_creation_site_is_the_callers_line_on_every_entry() -> None:
    # go() (C or Python), WaitGroup.go and errgroup's go pass a frame depth to
    # proc.go; each G must name the line that started it.
    from goroutines import WaitGroup, errgroup

    def noop() -> None:
        pass

    class Obj:
        def meth(self, x: int) -> None:
            pass

    def main() -> None:
        here = inspect.currentframe()
        assert here is not None
        g1 = go(noop); line1 = here.f_lineno  # noqa: E702
        g2 = go(Obj().meth, 1); line2 = here.f_lineno  # noqa: E702
        g3 = go(noop, **{}); line3 = here.f_lineno  # noqa: E702
        g4 = go(print, end=""); line4 = here.f_lineno  # noqa: E702  (keyword arguments)
        wg = WaitGroup()
        wg.go(noop)
        line5 = here.f_lineno - 1
        grp = errgroup.Group()
        grp.go(noop)
        line6 = here.f_lineno - 1
        for g, line in ((g1, line1), (g2, line2), (g3, line3), (g4, line4)):
            assert g.created_line == line, (g, g.created_line, line)
            assert g.created_code is here.f_code
        gs = [g for g in list(allgs.values()) if g.created_line in (line5, line6)]
        assert len(gs) == 2, gs
        wg.wait()
        grp.wait()

    goroutines.run(main)


def test_go_rejects_what_it_always_rejected() -> None:
    async def coro() -> None:
        pass

    def main() -> None:
        with pytest.raises(TypeError):
            go(coro)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            go(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            go()  # type: ignore[call-arg]

    goroutines.run(main)


# -- WaitGroup ---------------------------------------------------------------------


def test_waitgroup_fast_path_keeps_every_rule() -> None:
    from goroutines import WaitGroup

    def main() -> None:
        wg = WaitGroup()
        with pytest.raises(RuntimeError, match="sync: negative WaitGroup counter"):
            wg.done()
        with pytest.raises(RuntimeError, match="sync: negative WaitGroup counter"):
            wg.add(-1)
        with pytest.raises(TypeError):
            wg.add("1")  # type: ignore[arg-type]
        wg.add(2**70)  # beyond a C long: the Python twin
        wg.add(-(2**70))
        results: list[int] = []
        wg.add(3)
        for k in range(3):

            def work(k: int = k) -> None:
                results.append(k)
                wg.done()

            go(work)
        wg.wait()  # parks: the last done() wakes it (the Python twin's case)
        assert sorted(results) == [0, 1, 2]
        with pytest.raises(TypeError, match="got bool"):
            wg.add(True)  # an int subclass: the Python twin decides
        wg.wait()

    goroutines.run(main)


@pytest.mark.timeout(60)
def test_waitgroup_from_threads_and_goroutines() -> None:
    from goroutines import WaitGroup

    def main() -> None:
        for _ in range(20):
            wg = WaitGroup()
            wg.add(8)

            def thread_part(wg: WaitGroup) -> None:
                for _ in range(4):
                    wg.done()

            threads = [threading.Thread(target=thread_part, args=(wg,))]
            for t in threads:
                t.start()
            for _ in range(4):
                go(wg.done)
            wg.wait()
            for t in threads:
                t.join()

    goroutines.run(main)


def test_channel_construction_rules_on_both_paths() -> None:
    def main() -> None:
        huge: Chan[int] = Chan(sys.maxsize)  # as good as unbounded
        for i in range(1000):
            huge.send(i)
        assert len(huge) == 1000 and huge.cap == sys.maxsize
        assert huge.recv() == 0
        with pytest.raises(ValueError, match="makechan: size out of range"):
            Chan(sys.maxsize + 1)  # beyond what a buffer can hold
        assert Chan[int](capacity=2).cap == 2
        assert Chan[int]().cap == 0
        with pytest.raises(ValueError, match="makechan: size out of range"):
            Chan(-1)
        with pytest.raises(ValueError):
            Chan(-(10**30))
        with pytest.raises(TypeError):
            Chan(True)
        with pytest.raises(TypeError):
            Chan(1.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Chan(1, 2)  # type: ignore[call-arg]

    goroutines.run(main)


def test_keyword_arguments_reach_the_python_twin() -> None:
    # The C ports take positional arguments; a call with keywords goes to the
    # Python function with the same signature, so every spelling still works.
    from goroutines import WaitGroup, recv, recv_ok, send

    def main() -> None:
        wg = WaitGroup()
        wg.add(delta=1)
        wg.done()
        wg.wait()
        c: Chan[int] = Chan(capacity=1)
        assert goroutines.select(send(ch=c, value=5)) == (0, None)
        assert goroutines.select(recv_ok(ch=c), default=True) == (0, (5, True))
        assert goroutines.select(recv(ch=c), default=True) == (-1, None)

    goroutines.run(main)


def test_public_functions_pickle_and_print_like_functions() -> None:
    import pickle

    from goroutines import WaitGroup

    for f in (go, goroutines.select, goroutines.recv, Chan.send, Chan.recv, WaitGroup.add):
        assert pickle.loads(pickle.dumps(f)) is f
        assert f.__name__ in repr(f)

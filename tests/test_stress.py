"""Stress: thousands of goroutines through chains, selects, timers, helper
threads and foreign threads, each test bounded in time."""

from __future__ import annotations

import random
import threading
import time

import pytest

import goroutines
from goroutines import (
    Chan,
    blocking,
    go,
    gosched,
    num_goroutine,
    recv,
    select,
    send,
    sleep,
)


@pytest.mark.timeout(60)
def test_daisy_chain_of_ten_thousand_goroutines(short: bool) -> None:
    # Go's classic: each goroutine adds one to what its right neighbour sends
    # and passes it to the left.
    n = 2_000 if short else 10_000

    def main() -> int | None:
        leftmost: Chan[int] = Chan()
        left = leftmost
        for _ in range(n):
            right: Chan[int] = Chan()
            go(lambda left=left, right=right: left.send(1 + (right.recv() or 0)))
            left = right
        assert num_goroutine() == n + 1
        go(left.send, 1)
        return leftmost.recv()

    t0 = time.monotonic()
    assert goroutines.run(main) == n + 1
    assert time.monotonic() - t0 < 30


@pytest.mark.timeout(60)
def test_two_thousand_goroutines_selecting_over_shared_channels(short: bool) -> None:
    # Each goroutine loops on a select that sends to one shared channel,
    # receives from another, or sees stop closed. Once enough selects have
    # completed, stop is closed: every value sent was received exactly once
    # or is still in a buffer.
    n = 500 if short else 2_000
    target = 10 * n

    def main() -> None:
        chans: list[Chan[int]] = [Chan(), Chan(), Chan(2), Chan(5)]
        stop: Chan[None] = Chan()
        results: Chan[tuple[list[int], list[int]]] = Chan(n)
        completed = [0]

        def worker(k: int) -> None:
            rng = random.Random(k)
            sent: list[int] = []
            got: list[int] = []
            while True:
                a, b = rng.sample(chans, 2)
                value = k * 1_000_000 + len(sent)
                idx, v = select(send(a, value), recv(b), recv(stop))
                if idx == 2:
                    break
                completed[0] += 1
                if idx == 0:
                    sent.append(value)
                else:
                    assert v is not None
                    got.append(v)
            results.send((sent, got))

        for k in range(n):
            go(worker, k)
        for _ in range(100 * target):
            if completed[0] >= target:
                break
            gosched()
        assert completed[0] >= target, f"only {completed[0]} selects completed"
        stop.close()
        sent_all: list[int] = []
        got_all: list[int] = []
        for _ in range(n):
            sent, got = results.recv() or ([], [])
            sent_all += sent
            got_all += got
        for ch in chans:  # sent, never received
            while len(ch):
                got_all.append(ch.recv() or 0)
        assert len(set(got_all)) == len(got_all), "a value was received twice"
        assert sorted(sent_all) == sorted(got_all), (
            f"sent {len(sent_all)} values, received {len(got_all)}"
        )

    t0 = time.monotonic()
    goroutines.run(main)
    assert time.monotonic() - t0 < 45


@pytest.mark.timeout(60)
def test_selects_by_thousands_of_goroutines_complete_exactly_once(short: bool) -> None:
    # 2000 goroutines each block in one select over three shared channels;
    # a sender pushes exactly 2000 values through randomly chosen channels.
    n = 500 if short else 2_000

    def main() -> None:
        chans: list[Chan[int]] = [Chan(), Chan(1), Chan(3)]
        results: Chan[int] = Chan(n)

        def selector() -> None:
            _, v = select(recv(chans[0]), recv(chans[1]), recv(chans[2]))
            assert v is not None
            results.send(v)

        for _ in range(n):
            go(selector)
        gosched()
        rng = random.Random(1)
        for v in range(n):
            rng.choice(chans).send(v)
        got = sorted(results.recv() or 0 for _ in range(n))
        assert got == list(range(n))
        assert all(len(ch) == 0 for ch in chans)
        assert select(recv(results), default=True) == (-1, None)

    goroutines.run(main)


@pytest.mark.timeout(60)
def test_five_thousand_sleeping_goroutines(short: bool) -> None:
    n = 1_000 if short else 5_000

    def main() -> None:
        done: Chan[None] = Chan(n)
        rng = random.Random(5)
        for _ in range(n):
            d = rng.random() * 0.05
            go(lambda d=d: (sleep(d), done.send(None)))
        for _ in range(n):
            done.recv()

    t0 = time.monotonic()
    goroutines.run(main)
    assert time.monotonic() - t0 < 20


@pytest.mark.timeout(60)
def test_goroutine_tree_spawned_recursively(short: bool) -> None:
    depth = 10 if short else 12  # 2**depth leaves

    def main() -> int | None:
        def node(level: int, out: Chan[int]) -> None:
            if level == 0:
                out.send(1)
                return
            sub: Chan[int] = Chan()
            go(node, level - 1, sub)
            go(node, level - 1, sub)
            out.send((sub.recv() or 0) + (sub.recv() or 0))

        root: Chan[int] = Chan()
        go(node, depth, root)
        return root.recv()

    assert goroutines.run(main) == 2**depth


@pytest.mark.timeout(60)
def test_ping_pong_many_round_trips(short: bool) -> None:
    n = 20_000 if short else 100_000

    def main() -> int:
        ping: Chan[int] = Chan()
        pong: Chan[int] = Chan()

        def player() -> None:
            for v in ping:
                pong.send(v + 1)

        go(player)
        v = 0
        for _ in range(n):
            ping.send(v)
            v = pong.recv() or 0
        ping.close()
        return v

    t0 = time.monotonic()
    assert goroutines.run(main) == n
    assert time.monotonic() - t0 < 30


@pytest.mark.timeout(60)
def test_many_blocking_calls_run_concurrently(short: bool) -> None:
    n = 100 if short else 500

    def main() -> None:
        done: Chan[int] = Chan(n)
        for i in range(n):
            go(lambda i=i: done.send(blocking(lambda: (time.sleep(0.05), i)[1])))
        assert sorted(done.recv() or 0 for _ in range(n)) == list(range(n))

    t0 = time.monotonic()
    goroutines.run(main)
    # one after another they would take n * 50 ms
    assert time.monotonic() - t0 < n * 0.05 / 4


@pytest.mark.timeout(60)
def test_goroutines_started_from_many_threads(short: bool) -> None:
    nthreads = 4
    per_thread = 250 if short else 1_000

    def main() -> None:
        results: Chan[int] = Chan(64)

        def thread(t: int) -> None:
            for i in range(per_thread):
                go(results.send, t * per_thread + i)

        threads = [threading.Thread(target=thread, args=(t,)) for t in range(nthreads)]
        for th in threads:
            th.start()
        got = sorted(results.recv() or 0 for _ in range(nthreads * per_thread))
        for th in threads:
            th.join()
        assert got == list(range(nthreads * per_thread))

    goroutines.run(main)

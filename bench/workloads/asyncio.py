"""W1-W9 for asyncio: tasks, TaskGroup, asyncio.Queue.

asyncio has no rendezvous queue: ``asyncio.Queue(1)`` stands in for an
unbuffered channel, ``Queue(n)`` for a buffered one, and ``None`` is the end
marker that stands in for close(). It has no select either: W6 gives each
producer a forwarder task into one merged queue.

Each public function takes ``run`` so workloads/uvloop.py can run the same
coroutines on uvloop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import Any

from . import (
    BUFFER,
    PRODUCERS,
    WORKERS,
    check,
    check_overshoot,
    expected_prime,
    rss_bytes,
    sleep_durations,
    sum_of_squares,
)

Runner = Callable[[Coroutine[Any, Any, Any]], Any]

# --- W1 spawn -------------------------------------------------------------


async def _finish(counter: list[int]) -> None:
    counter[0] += 1


async def _spawn(n: int) -> float:
    counter = [0]
    t0 = perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(n):
            tg.create_task(_finish(counter))
    dt = perf_counter() - t0
    check("W1", "tasks finished", counter[0], n)
    return dt


def spawn(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_spawn(n))}


# --- W2 ping-pong ---------------------------------------------------------


async def _pinger(ping: asyncio.Queue[int | None], pong: asyncio.Queue[int]) -> None:
    while (v := await ping.get()) is not None:
        await pong.put(v + 1)


async def _ping_pong(n: int) -> float:
    ping: asyncio.Queue[int | None] = asyncio.Queue(1)
    pong: asyncio.Queue[int] = asyncio.Queue(1)
    task = asyncio.create_task(_pinger(ping, pong))
    total = 0
    t0 = perf_counter()
    for i in range(n):
        await ping.put(i)
        total += await pong.get()
    dt = perf_counter() - t0
    await ping.put(None)
    await task
    check("W2", "sum of replies", total, n * (n + 1) // 2)
    return dt


def ping_pong(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_ping_pong(n))}


# --- W3 buffered ----------------------------------------------------------


async def _produce(q: asyncio.Queue[int | None], n: int) -> None:
    for i in range(n):
        await q.put(i)
    await q.put(None)


async def _buffered(n: int) -> float:
    q: asyncio.Queue[int | None] = asyncio.Queue(BUFFER)
    t0 = perf_counter()
    task = asyncio.create_task(_produce(q, n))
    total = 0
    while (v := await q.get()) is not None:
        total += v
    dt = perf_counter() - t0
    await task
    check("W3", "sum received", total, n * (n - 1) // 2)
    return dt


def buffered(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_buffered(n))}


# --- W4 daisy chain -------------------------------------------------------


async def _whisper(left: asyncio.Queue[int], right: asyncio.Queue[int]) -> None:
    await left.put(1 + await right.get())


async def _daisy_chain(n: int) -> float:
    t0 = perf_counter()
    tasks = []
    leftmost: asyncio.Queue[int] = asyncio.Queue(1)
    left = leftmost
    for _ in range(n):
        right: asyncio.Queue[int] = asyncio.Queue(1)
        tasks.append(asyncio.create_task(_whisper(left, right)))
        left = right
    await left.put(1)
    result = await leftmost.get()
    dt = perf_counter() - t0
    await asyncio.gather(*tasks)
    check("W4", "whisper", result, n + 1)
    return dt


def daisy_chain(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_daisy_chain(n))}


# --- W5 prime sieve -------------------------------------------------------


async def _generate(q: asyncio.Queue[int]) -> None:
    i = 2
    while True:
        await q.put(i)
        i += 1


async def _filter(src: asyncio.Queue[int], dst: asyncio.Queue[int], prime: int) -> None:
    while True:
        i = await src.get()
        if i % prime:
            await dst.put(i)


async def _prime_sieve(n: int) -> float:
    t0 = perf_counter()
    q: asyncio.Queue[int] = asyncio.Queue(1)
    tasks = [asyncio.create_task(_generate(q))]
    prime = 0
    for _ in range(n):
        prime = await q.get()
        q1: asyncio.Queue[int] = asyncio.Queue(1)
        tasks.append(asyncio.create_task(_filter(q, q1, prime)))
        q = q1
    dt = perf_counter() - t0
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    check("W5", f"prime #{n}", prime, expected_prime(n))
    return dt


def prime_sieve(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_prime_sieve(n))}


# --- W6 select fan-in (forwarders: asyncio has no select) ------------------


async def _producer(q: asyncio.Queue[int | None], first: int, n: int) -> None:
    for i in range(first, first + n):
        await q.put(i)
    await q.put(None)


async def _forward(src: asyncio.Queue[int | None], merged: asyncio.Queue[int | None]) -> None:
    while (v := await src.get()) is not None:
        await merged.put(v)
    await merged.put(None)


async def _select_fan_in(n: int) -> float:
    merged: asyncio.Queue[int | None] = asyncio.Queue(1)
    t0 = perf_counter()
    async with asyncio.TaskGroup() as tg:
        for k in range(PRODUCERS):
            q: asyncio.Queue[int | None] = asyncio.Queue(1)
            tg.create_task(_producer(q, k * n, n))
            tg.create_task(_forward(q, merged))
        total = count = 0
        live = PRODUCERS
        while live:
            v = await merged.get()
            if v is None:
                live -= 1
            else:
                total += v
                count += 1
    dt = perf_counter() - t0
    m = PRODUCERS * n
    check("W6", "items received", count, m)
    check("W6", "sum received", total, m * (m - 1) // 2)
    return dt


def select_fan_in(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_select_fan_in(n))}


# --- W7 worker pool -------------------------------------------------------


async def _worker(jobs: asyncio.Queue[int | None], results: asyncio.Queue[int | None]) -> None:
    while (j := await jobs.get()) is not None:
        await results.put(j * j)


async def _feed(jobs: asyncio.Queue[int | None], n: int) -> None:
    for j in range(n):
        await jobs.put(j)
    for _ in range(WORKERS):
        await jobs.put(None)


async def _close_after(workers: list[asyncio.Task[None]], results: asyncio.Queue[int | None]) -> None:
    await asyncio.gather(*workers)
    await results.put(None)


async def _worker_pool(n: int) -> float:
    jobs: asyncio.Queue[int | None] = asyncio.Queue(BUFFER)
    results: asyncio.Queue[int | None] = asyncio.Queue(BUFFER)
    t0 = perf_counter()
    workers = [asyncio.create_task(_worker(jobs, results)) for _ in range(WORKERS)]
    feeder = asyncio.create_task(_feed(jobs, n))
    closer = asyncio.create_task(_close_after(workers, results))
    total = count = 0
    while (r := await results.get()) is not None:
        total += r
        count += 1
    dt = perf_counter() - t0
    await asyncio.gather(feeder, closer)
    check("W7", "results", count, n)
    check("W7", "sum of results", total, sum_of_squares(n))
    return dt


def worker_pool(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    return {"seconds": run(_worker_pool(n))}


# --- W8 memory ------------------------------------------------------------


async def _park(q: asyncio.Queue[None], started: list[int], n: int, all_started: asyncio.Event) -> None:
    started[0] += 1
    if started[0] == n:
        all_started.set()
    await q.get()


async def _memory(n: int) -> tuple[float, int]:
    q: asyncio.Queue[None] = asyncio.Queue()  # unbounded: releasing them never blocks
    started = [0]
    all_started = asyncio.Event()
    before = rss_bytes()
    t0 = perf_counter()
    tasks = [asyncio.create_task(_park(q, started, n, all_started)) for _ in range(n)]
    await all_started.wait()
    await asyncio.sleep(0)  # the last one reaches its get
    dt = perf_counter() - t0
    after = rss_bytes()
    for _ in range(n):
        q.put_nowait(None)
    await asyncio.gather(*tasks)
    check("W8", "tasks parked", started[0], n)
    return dt, after - before


def memory(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    dt, rss = run(_memory(n))
    return {"seconds": dt, "rss_bytes": rss}


# --- W9 timers ------------------------------------------------------------


async def _nap(d: float, overshoots: list[float]) -> None:
    t0 = perf_counter()
    await asyncio.sleep(d)
    overshoots.append(perf_counter() - t0 - d)


async def _timers(n: int) -> tuple[float, float]:
    durations = sleep_durations(n)
    overshoots: list[float] = []
    t0 = perf_counter()
    async with asyncio.TaskGroup() as tg:
        for d in durations:
            tg.create_task(_nap(d, overshoots))
    dt = perf_counter() - t0
    return dt, check_overshoot(overshoots, n)


def timers(n: int, run: Runner = asyncio.run) -> dict[str, float]:
    dt, over = run(_timers(n))
    return {"seconds": dt, "overshoot_s": over}

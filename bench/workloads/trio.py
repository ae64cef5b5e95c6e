"""W1-W9 for trio: nurseries and memory channels.

``trio.open_memory_channel(0)`` is a true rendezvous (unbuffered) channel;
closing the send side ends ``async for`` on the receive side, as close() does
in Go; ``clone()`` gives many senders or receivers one channel. trio has no
select: W6 gives each producer a forwarder task into one merged channel.
"""

from __future__ import annotations

from time import perf_counter

import trio

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

Send = trio.MemorySendChannel
Recv = trio.MemoryReceiveChannel

# --- W1 spawn -------------------------------------------------------------


async def _finish(counter: list[int]) -> None:
    counter[0] += 1


async def _spawn(n: int) -> float:
    counter = [0]
    t0 = perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(_finish, counter)
    dt = perf_counter() - t0
    check("W1", "tasks finished", counter[0], n)
    return dt


def spawn(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_spawn, n)}


# --- W2 ping-pong ---------------------------------------------------------


async def _pinger(ping: Recv[int], pong: Send[int]) -> None:
    async for v in ping:
        await pong.send(v + 1)


async def _ping_pong(n: int) -> float:
    ping_send, ping_recv = trio.open_memory_channel[int](0)
    pong_send, pong_recv = trio.open_memory_channel[int](0)
    total = 0
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_pinger, ping_recv, pong_send)
        t0 = perf_counter()
        for i in range(n):
            await ping_send.send(i)
            total += await pong_recv.receive()
        dt = perf_counter() - t0
        await ping_send.aclose()
    check("W2", "sum of replies", total, n * (n + 1) // 2)
    return dt


def ping_pong(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_ping_pong, n)}


# --- W3 buffered ----------------------------------------------------------


async def _produce(send: Send[int], n: int) -> None:
    async with send:
        for i in range(n):
            await send.send(i)


async def _buffered(n: int) -> float:
    send, recv = trio.open_memory_channel[int](BUFFER)
    total = 0
    async with trio.open_nursery() as nursery:
        t0 = perf_counter()
        nursery.start_soon(_produce, send, n)
        async for v in recv:
            total += v
        dt = perf_counter() - t0
    check("W3", "sum received", total, n * (n - 1) // 2)
    return dt


def buffered(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_buffered, n)}


# --- W4 daisy chain -------------------------------------------------------


async def _whisper(left: Send[int], right: Recv[int]) -> None:
    await left.send(1 + await right.receive())


async def _daisy_chain(n: int) -> float:
    async with trio.open_nursery() as nursery:
        t0 = perf_counter()
        leftmost_send, leftmost = trio.open_memory_channel[int](0)
        left = leftmost_send
        for _ in range(n):
            right_send, right = trio.open_memory_channel[int](0)
            nursery.start_soon(_whisper, left, right)
            left = right_send
        nursery.start_soon(left.send, 1)
        result = await leftmost.receive()
        dt = perf_counter() - t0
    check("W4", "whisper", result, n + 1)
    return dt


def daisy_chain(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_daisy_chain, n)}


# --- W5 prime sieve -------------------------------------------------------


async def _generate(send: Send[int]) -> None:
    i = 2
    while True:
        await send.send(i)
        i += 1


async def _filter(src: Recv[int], dst: Send[int], prime: int) -> None:
    async for i in src:
        if i % prime:
            await dst.send(i)


async def _prime_sieve(n: int) -> float:
    async with trio.open_nursery() as nursery:
        t0 = perf_counter()
        send, recv = trio.open_memory_channel[int](0)
        nursery.start_soon(_generate, send)
        prime = 0
        for _ in range(n):
            prime = await recv.receive()
            send1, recv1 = trio.open_memory_channel[int](0)
            nursery.start_soon(_filter, recv, send1, prime)
            recv = recv1
        dt = perf_counter() - t0
        nursery.cancel_scope.cancel()
    check("W5", f"prime #{n}", prime, expected_prime(n))
    return dt


def prime_sieve(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_prime_sieve, n)}


# --- W6 select fan-in (forwarders: trio has no select) ---------------------


async def _producer(send: Send[int], first: int, n: int) -> None:
    async with send:
        for i in range(first, first + n):
            await send.send(i)


async def _forward(src: Recv[int], merged: Send[int]) -> None:
    async with merged:
        async for v in src:
            await merged.send(v)


async def _select_fan_in(n: int) -> float:
    total = count = 0
    async with trio.open_nursery() as nursery:
        t0 = perf_counter()
        merged_send, merged = trio.open_memory_channel[int](0)
        async with merged_send:
            for k in range(PRODUCERS):
                send, recv = trio.open_memory_channel[int](0)
                nursery.start_soon(_producer, send, k * n, n)
                nursery.start_soon(_forward, recv, merged_send.clone())
        async for v in merged:  # ends when every forwarder closed its clone
            total += v
            count += 1
        dt = perf_counter() - t0
    m = PRODUCERS * n
    check("W6", "items received", count, m)
    check("W6", "sum received", total, m * (m - 1) // 2)
    return dt


def select_fan_in(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_select_fan_in, n)}


# --- W7 worker pool -------------------------------------------------------


async def _worker(jobs: Recv[int], results: Send[int]) -> None:
    async with jobs, results:
        async for j in jobs:
            await results.send(j * j)


async def _feed(jobs: Send[int], n: int) -> None:
    async with jobs:
        for j in range(n):
            await jobs.send(j)


async def _worker_pool(n: int) -> float:
    total = count = 0
    async with trio.open_nursery() as nursery:
        t0 = perf_counter()
        jobs_send, jobs = trio.open_memory_channel[int](BUFFER)
        results_send, results = trio.open_memory_channel[int](BUFFER)
        async with jobs, results_send:
            for _ in range(WORKERS):
                nursery.start_soon(_worker, jobs.clone(), results_send.clone())
        nursery.start_soon(_feed, jobs_send, n)
        async for r in results:  # ends when every worker closed its clone
            total += r
            count += 1
        dt = perf_counter() - t0
    check("W7", "results", count, n)
    check("W7", "sum of results", total, sum_of_squares(n))
    return dt


def worker_pool(n: int) -> dict[str, float]:
    return {"seconds": trio.run(_worker_pool, n)}


# --- W8 memory ------------------------------------------------------------


async def _park(recv: Recv[None], started: list[int], n: int, all_started: trio.Event) -> None:
    started[0] += 1
    if started[0] == n:
        all_started.set()
    try:
        await recv.receive()
    except trio.EndOfChannel:
        pass


async def _memory(n: int) -> tuple[float, int]:
    started = [0]
    all_started = trio.Event()
    async with trio.open_nursery() as nursery:
        send, recv = trio.open_memory_channel[None](0)
        before = rss_bytes()
        t0 = perf_counter()
        for _ in range(n):
            nursery.start_soon(_park, recv, started, n, all_started)
        await all_started.wait()
        await trio.sleep(0)  # the last one reaches its receive
        dt = perf_counter() - t0
        after = rss_bytes()
        await send.aclose()  # wakes every receiver with EndOfChannel
    check("W8", "tasks parked", started[0], n)
    return dt, after - before


def memory(n: int) -> dict[str, float]:
    dt, rss = trio.run(_memory, n)
    return {"seconds": dt, "rss_bytes": rss}


# --- W9 timers ------------------------------------------------------------


async def _nap(d: float, overshoots: list[float]) -> None:
    t0 = perf_counter()
    await trio.sleep(d)
    overshoots.append(perf_counter() - t0 - d)


async def _timers(n: int) -> tuple[float, float]:
    durations = sleep_durations(n)
    overshoots: list[float] = []
    t0 = perf_counter()
    async with trio.open_nursery() as nursery:
        for d in durations:
            nursery.start_soon(_nap, d, overshoots)
    dt = perf_counter() - t0
    return dt, check_overshoot(overshoots, n)


def timers(n: int) -> dict[str, float]:
    dt, over = trio.run(_timers, n)
    return {"seconds": dt, "overshoot_s": over}

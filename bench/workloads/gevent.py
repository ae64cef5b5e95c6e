"""W1-W9 for gevent: Greenlets, gevent.queue.Channel (unbuffered) and Queue(n).

gevent's queues iterate until ``StopIteration`` is put (its documented end
marker), which stands in for close(). gevent has no select over queues: W6
gives each producer a forwarder greenlet into one merged Channel. No monkey
patching: nothing here does blocking I/O.
"""

from __future__ import annotations

from time import perf_counter

import gevent
from gevent.event import Event
from gevent.queue import Channel, Queue

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

# --- W1 spawn -------------------------------------------------------------


def _finish(counter: list[int]) -> None:
    counter[0] += 1


def spawn(n: int) -> dict[str, float]:
    counter = [0]
    t0 = perf_counter()
    greenlets = [gevent.spawn(_finish, counter) for _ in range(n)]
    gevent.joinall(greenlets)
    dt = perf_counter() - t0
    check("W1", "greenlets finished", counter[0], n)
    return {"seconds": dt}


# --- W2 ping-pong ---------------------------------------------------------


def _pinger(ping: Channel, pong: Channel) -> None:
    for v in ping:
        pong.put(v + 1)


def ping_pong(n: int) -> dict[str, float]:
    ping, pong = Channel(), Channel()
    g = gevent.spawn(_pinger, ping, pong)
    total = 0
    t0 = perf_counter()
    for i in range(n):
        ping.put(i)
        total += pong.get()
    dt = perf_counter() - t0
    ping.put(StopIteration)
    g.join()
    check("W2", "sum of replies", total, n * (n + 1) // 2)
    return {"seconds": dt}


# --- W3 buffered ----------------------------------------------------------


def _produce(q: Queue, n: int) -> None:
    for i in range(n):
        q.put(i)
    q.put(StopIteration)


def buffered(n: int) -> dict[str, float]:
    q = Queue(BUFFER)
    t0 = perf_counter()
    gevent.spawn(_produce, q, n)
    total = 0
    for v in q:
        total += v
    dt = perf_counter() - t0
    check("W3", "sum received", total, n * (n - 1) // 2)
    return {"seconds": dt}


# --- W4 daisy chain -------------------------------------------------------


def _whisper(left: Channel, right: Channel) -> None:
    left.put(1 + right.get())


def daisy_chain(n: int) -> dict[str, float]:
    t0 = perf_counter()
    leftmost = Channel()
    left = leftmost
    for _ in range(n):
        right = Channel()
        gevent.spawn(_whisper, left, right)
        left = right
    gevent.spawn(left.put, 1)
    result = leftmost.get()
    dt = perf_counter() - t0
    check("W4", "whisper", result, n + 1)
    return {"seconds": dt}


# --- W5 prime sieve -------------------------------------------------------


def _generate(ch: Channel) -> None:
    i = 2
    while True:
        ch.put(i)
        i += 1


def _filter(src: Channel, dst: Channel, prime: int) -> None:
    for i in src:
        if i % prime:
            dst.put(i)


def prime_sieve(n: int) -> dict[str, float]:
    t0 = perf_counter()
    ch = Channel()
    greenlets = [gevent.spawn(_generate, ch)]
    prime = 0
    for _ in range(n):
        prime = ch.get()
        ch1 = Channel()
        greenlets.append(gevent.spawn(_filter, ch, ch1, prime))
        ch = ch1
    dt = perf_counter() - t0
    gevent.killall(greenlets)
    check("W5", f"prime #{n}", prime, expected_prime(n))
    return {"seconds": dt}


# --- W6 select fan-in (forwarders: gevent has no select) -------------------


def _producer(ch: Channel, first: int, n: int) -> None:
    for i in range(first, first + n):
        ch.put(i)
    ch.put(StopIteration)


_DONE = object()  # a forwarder's source has ended


def _forward(src: Channel, merged: Channel) -> None:
    for v in src:
        merged.put(v)
    merged.put(_DONE)


def select_fan_in(n: int) -> dict[str, float]:
    merged = Channel()
    t0 = perf_counter()
    for k in range(PRODUCERS):
        ch = Channel()
        gevent.spawn(_producer, ch, k * n, n)
        gevent.spawn(_forward, ch, merged)
    total = count = 0
    live = PRODUCERS
    while live:
        v = merged.get()
        if v is _DONE:
            live -= 1
        else:
            total += v
            count += 1
    dt = perf_counter() - t0
    m = PRODUCERS * n
    check("W6", "items received", count, m)
    check("W6", "sum received", total, m * (m - 1) // 2)
    return {"seconds": dt}


# --- W7 worker pool -------------------------------------------------------


def _worker(jobs: Queue, results: Queue) -> None:
    for j in jobs:
        results.put(j * j)


def _feed(jobs: Queue, n: int) -> None:
    for j in range(n):
        jobs.put(j)
    for _ in range(WORKERS):
        jobs.put(StopIteration)


def _close_after(workers: list[gevent.Greenlet], results: Queue) -> None:
    gevent.joinall(workers)
    results.put(StopIteration)


def worker_pool(n: int) -> dict[str, float]:
    jobs, results = Queue(BUFFER), Queue(BUFFER)
    t0 = perf_counter()
    workers = [gevent.spawn(_worker, jobs, results) for _ in range(WORKERS)]
    gevent.spawn(_feed, jobs, n)
    gevent.spawn(_close_after, workers, results)
    total = count = 0
    for r in results:
        total += r
        count += 1
    dt = perf_counter() - t0
    check("W7", "results", count, n)
    check("W7", "sum of results", total, sum_of_squares(n))
    return {"seconds": dt}


# --- W8 memory ------------------------------------------------------------


def _park(q: Queue, started: list[int], n: int, all_started: Event) -> None:
    started[0] += 1
    if started[0] == n:
        all_started.set()
    q.get()


def memory(n: int) -> dict[str, float]:
    q: Queue = Queue()  # unbounded: releasing them below never blocks
    started = [0]
    all_started = Event()
    before = rss_bytes()
    t0 = perf_counter()
    greenlets = [gevent.spawn(_park, q, started, n, all_started) for _ in range(n)]
    all_started.wait()
    gevent.sleep(0)  # the last one reaches its get
    dt = perf_counter() - t0
    after = rss_bytes()
    check("W8", "greenlets parked", started[0], n)
    check("W8", "greenlets still parked", sum(not g.dead for g in greenlets), n)
    # Not released: waking 100,000 getters of one gevent Queue takes ~100 s
    # (it grows quadratically). The process exit reclaims them.
    return {"seconds": dt, "rss_bytes": after - before}


# --- W9 timers ------------------------------------------------------------


def _nap(d: float, overshoots: list[float]) -> None:
    t0 = perf_counter()
    gevent.sleep(d)
    overshoots.append(perf_counter() - t0 - d)


def timers(n: int) -> dict[str, float]:
    durations = sleep_durations(n)
    overshoots: list[float] = []
    t0 = perf_counter()
    greenlets = [gevent.spawn(_nap, d, overshoots) for d in durations]
    gevent.joinall(greenlets)
    dt = perf_counter() - t0
    return {"seconds": dt, "overshoot_s": check_overshoot(overshoots, n)}

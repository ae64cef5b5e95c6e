"""W1-W9 for OS threads: threading.Thread, queue.Queue.

``queue.Queue(1)`` stands in for an unbuffered channel, ``Queue(n)`` for a
buffered one, and ``None`` is the end marker that stands in for close()
(``Queue.shutdown`` arrives only in 3.13). No select: W6 gives each producer a
forwarder thread into one merged queue. Threads cost an OS stack and a pid
each, so spec.py gives them smaller n where the full n is out of reach.
"""

from __future__ import annotations

import threading
from queue import Queue
from time import perf_counter
from time import sleep as _sleep

from . import (
    BUFFER,
    PRODUCERS,
    WORKERS,
    c_work_input,
    c_work_item,
    check,
    check_overshoot,
    expected_prime,
    rss_bytes,
    sleep_durations,
    sum_of_squares,
)


def _start(target: object, *args: object, daemon: bool = False) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=daemon)  # type: ignore[arg-type]
    t.start()
    return t


# --- W1 spawn -------------------------------------------------------------


def _finish(finished: list[None]) -> None:
    finished.append(None)  # list.append is atomic under the GIL


def spawn(n: int) -> dict[str, float]:
    finished: list[None] = []
    t0 = perf_counter()
    threads = [_start(_finish, finished) for _ in range(n)]
    for t in threads:
        t.join()
    dt = perf_counter() - t0
    check("W1", "threads finished", len(finished), n)
    return {"seconds": dt}


# --- W2 ping-pong ---------------------------------------------------------


def _pinger(ping: Queue[int | None], pong: Queue[int]) -> None:
    while (v := ping.get()) is not None:
        pong.put(v + 1)


def ping_pong(n: int) -> dict[str, float]:
    ping: Queue[int | None] = Queue(1)
    pong: Queue[int] = Queue(1)
    t = _start(_pinger, ping, pong)
    total = 0
    t0 = perf_counter()
    for i in range(n):
        ping.put(i)
        total += pong.get()
    dt = perf_counter() - t0
    ping.put(None)
    t.join()
    check("W2", "sum of replies", total, n * (n + 1) // 2)
    return {"seconds": dt}


# --- W3 buffered ----------------------------------------------------------


def _produce(q: Queue[int | None], n: int) -> None:
    for i in range(n):
        q.put(i)
    q.put(None)


def buffered(n: int) -> dict[str, float]:
    q: Queue[int | None] = Queue(BUFFER)
    t0 = perf_counter()
    t = _start(_produce, q, n)
    total = 0
    while (v := q.get()) is not None:
        total += v
    dt = perf_counter() - t0
    t.join()
    check("W3", "sum received", total, n * (n - 1) // 2)
    return {"seconds": dt}


# --- W4 daisy chain -------------------------------------------------------


def _whisper(left: Queue[int], right: Queue[int]) -> None:
    left.put(1 + right.get())


def daisy_chain(n: int) -> dict[str, float]:
    t0 = perf_counter()
    threads = []
    leftmost: Queue[int] = Queue(1)
    left = leftmost
    for _ in range(n):
        right: Queue[int] = Queue(1)
        threads.append(_start(_whisper, left, right))
        left = right
    left.put(1)
    result = leftmost.get()
    dt = perf_counter() - t0
    for t in threads:
        t.join()
    check("W4", "whisper", result, n + 1)
    return {"seconds": dt}


# --- W5 prime sieve -------------------------------------------------------


def _generate(q: Queue[int]) -> None:
    i = 2
    while True:
        q.put(i)
        i += 1


def _filter(src: Queue[int], dst: Queue[int], prime: int) -> None:
    while True:
        i = src.get()
        if i % prime:
            dst.put(i)


def prime_sieve(n: int) -> dict[str, float]:
    t0 = perf_counter()
    q: Queue[int] = Queue(1)
    _start(_generate, q, daemon=True)
    prime = 0
    for _ in range(n):
        prime = q.get()
        q1: Queue[int] = Queue(1)
        _start(_filter, q, q1, prime, daemon=True)  # left blocked at exit, as in Go
        q = q1
    dt = perf_counter() - t0
    check("W5", f"prime #{n}", prime, expected_prime(n))
    return {"seconds": dt}


# --- W6 select fan-in (forwarders: no select for queues) -------------------


def _producer(q: Queue[int | None], first: int, n: int) -> None:
    for i in range(first, first + n):
        q.put(i)
    q.put(None)


def _forward(src: Queue[int | None], merged: Queue[int | None]) -> None:
    while (v := src.get()) is not None:
        merged.put(v)
    merged.put(None)


def select_fan_in(n: int) -> dict[str, float]:
    merged: Queue[int | None] = Queue(1)
    threads = []
    t0 = perf_counter()
    for k in range(PRODUCERS):
        q: Queue[int | None] = Queue(1)
        threads.append(_start(_producer, q, k * n, n))
        threads.append(_start(_forward, q, merged))
    total = count = 0
    live = PRODUCERS
    while live:
        v = merged.get()
        if v is None:
            live -= 1
        else:
            total += v
            count += 1
    dt = perf_counter() - t0
    for t in threads:
        t.join()
    m = PRODUCERS * n
    check("W6", "items received", count, m)
    check("W6", "sum received", total, m * (m - 1) // 2)
    return {"seconds": dt}


# --- W7 worker pool -------------------------------------------------------


def _worker(jobs: Queue[int | None], results: Queue[int | None]) -> None:
    while (j := jobs.get()) is not None:
        results.put(j * j)


def _feed(jobs: Queue[int | None], n: int) -> None:
    for j in range(n):
        jobs.put(j)
    for _ in range(WORKERS):
        jobs.put(None)


def _close_after(workers: list[threading.Thread], results: Queue[int | None]) -> None:
    for t in workers:
        t.join()
    results.put(None)


def worker_pool(n: int) -> dict[str, float]:
    jobs: Queue[int | None] = Queue(BUFFER)
    results: Queue[int | None] = Queue(BUFFER)
    t0 = perf_counter()
    workers = [_start(_worker, jobs, results) for _ in range(WORKERS)]
    feeder = _start(_feed, jobs, n)
    closer = _start(_close_after, workers, results)
    total = count = 0
    while (r := results.get()) is not None:
        total += r
        count += 1
    dt = perf_counter() - t0
    feeder.join()
    closer.join()
    check("W7", "results", count, n)
    check("W7", "sum of results", total, sum_of_squares(n))
    return {"seconds": dt}


# --- W8 memory ------------------------------------------------------------


def _park(q: Queue[None], started: threading.Semaphore) -> None:
    started.release()
    q.get()


def memory(n: int) -> dict[str, float]:
    q: Queue[None] = Queue()  # unbounded: releasing them never blocks
    started = threading.Semaphore(0)
    before = rss_bytes()
    t0 = perf_counter()
    threads = [_start(_park, q, started) for _ in range(n)]
    for _ in range(n):
        started.acquire()
    _sleep(0.05)  # let the last ones reach their get (threads are preemptive)
    dt = perf_counter() - t0
    after = rss_bytes()
    for _ in range(n):
        q.put(None)
    for t in threads:
        t.join()
    return {"seconds": dt, "rss_bytes": after - before}


# --- W9 timers ------------------------------------------------------------


def _nap(d: float, overshoots: list[float]) -> None:
    t0 = perf_counter()
    _sleep(d)
    overshoots.append(perf_counter() - t0 - d)


def timers(n: int) -> dict[str, float]:
    durations = sleep_durations(n)
    overshoots: list[float] = []
    t0 = perf_counter()
    threads = [_start(_nap, d, overshoots) for d in durations]
    for t in threads:
        t.join()
    dt = perf_counter() - t0
    return {"seconds": dt, "overshoot_s": check_overshoot(overshoots, n)}


def _parallel_c_pool(n: int, workers: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    data, comp = c_work_input()
    t0 = perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        out = list(pool.map(lambda _: c_work_item(data, comp), range(n)))
    dt = perf_counter() - t0
    check("W11", "distinct results", len(set(out)), 1)
    return dt


def parallel_c(n: int) -> dict[str, float]:
    base = _parallel_c_pool(n, 1)
    return {"seconds": _parallel_c_pool(n, 2), "seconds_base": base}

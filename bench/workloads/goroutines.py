"""W1-W9 for goroutines: go, Chan, select, WaitGroup, sleep, each under run().

Written as a Go programmer would write them; bench/go/workloads.go has the
same programs in Go.
"""

from __future__ import annotations

import time
from time import perf_counter

from goroutines import Chan, WaitGroup, go, gosched, max_procs, recv_ok, run, select, sleep

from . import (
    BUFFER,
    PRODUCERS,
    W12_ROUNDS,
    W12_SLEEP,
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

# --- W1 spawn -------------------------------------------------------------


def _finish(counter: list[int], wg: WaitGroup) -> None:
    counter[0] += 1
    wg.done()


def _spawn(n: int) -> float:
    counter = [0]
    wg = WaitGroup()
    t0 = perf_counter()
    for _ in range(n):
        wg.add(1)
        go(_finish, counter, wg)
    wg.wait()
    dt = perf_counter() - t0
    check("W1", "goroutines finished", counter[0], n)
    return dt


def spawn(n: int) -> dict[str, float]:
    return {"seconds": run(_spawn, n)}


# --- W2 ping-pong ---------------------------------------------------------


def _pinger(ping: Chan[int], pong: Chan[int]) -> None:
    for v in ping:
        pong.send(v + 1)


def _ping_pong(n: int) -> float:
    ping, pong = Chan[int](), Chan[int]()
    go(_pinger, ping, pong)
    total = 0
    t0 = perf_counter()
    for i in range(n):
        ping.send(i)
        total += pong.recv()  # type: ignore[operator]
    dt = perf_counter() - t0
    ping.close()
    check("W2", "sum of replies", total, n * (n + 1) // 2)
    return dt


def ping_pong(n: int) -> dict[str, float]:
    return {"seconds": run(_ping_pong, n)}


# --- W3 buffered ----------------------------------------------------------


def _produce(ch: Chan[int], n: int) -> None:
    for i in range(n):
        ch.send(i)
    ch.close()


def _buffered(n: int) -> float:
    ch = Chan[int](BUFFER)
    t0 = perf_counter()
    go(_produce, ch, n)
    total = 0
    for v in ch:
        total += v
    dt = perf_counter() - t0
    check("W3", "sum received", total, n * (n - 1) // 2)
    return dt


def buffered(n: int) -> dict[str, float]:
    return {"seconds": run(_buffered, n)}


# --- W4 daisy chain -------------------------------------------------------


def _whisper(left: Chan[int], right: Chan[int]) -> None:
    left.send(1 + right.recv())  # type: ignore[operator]


def _daisy_chain(n: int) -> float:
    t0 = perf_counter()
    leftmost = Chan[int]()
    left = leftmost
    for _ in range(n):
        right = Chan[int]()
        go(_whisper, left, right)
        left = right
    go(left.send, 1)
    result = leftmost.recv()
    dt = perf_counter() - t0
    check("W4", "whisper", result, n + 1)
    return dt


def daisy_chain(n: int) -> dict[str, float]:
    return {"seconds": run(_daisy_chain, n)}


# --- W5 prime sieve -------------------------------------------------------


def _generate(ch: Chan[int]) -> None:
    i = 2
    while True:
        ch.send(i)
        i += 1


def _filter(src: Chan[int], dst: Chan[int], prime: int) -> None:
    for i in src:
        if i % prime:
            dst.send(i)


def _prime_sieve(n: int) -> float:
    t0 = perf_counter()
    ch = Chan[int]()
    go(_generate, ch)
    prime = 0
    for _ in range(n):
        prime = ch.recv()  # type: ignore[assignment]
        ch1 = Chan[int]()
        go(_filter, ch, ch1, prime)
        ch = ch1
    dt = perf_counter() - t0
    check("W5", f"prime #{n}", prime, expected_prime(n))
    return dt  # run() then ends the goroutines still parked in the sieve


def prime_sieve(n: int) -> dict[str, float]:
    return {"seconds": run(_prime_sieve, n)}


# --- W6 select fan-in -----------------------------------------------------


def _producer(ch: Chan[int], first: int, n: int) -> None:
    for i in range(first, first + n):
        ch.send(i)
    ch.close()


def _select_fan_in(n: int) -> float:
    chans: list[Chan[int] | None] = [Chan[int]() for _ in range(PRODUCERS)]
    t0 = perf_counter()
    for k, ch in enumerate(chans):
        go(_producer, ch, k * n, n)
    total = count = 0
    live = PRODUCERS
    while live:
        i, (v, ok) = select(*[recv_ok(ch) for ch in chans])
        if ok:
            total += v
            count += 1
        else:
            chans[i] = None  # a nil channel: never ready again
            live -= 1
    dt = perf_counter() - t0
    m = PRODUCERS * n
    check("W6", "items received", count, m)
    check("W6", "sum received", total, m * (m - 1) // 2)
    return dt


def select_fan_in(n: int) -> dict[str, float]:
    return {"seconds": run(_select_fan_in, n)}


# --- W7 worker pool -------------------------------------------------------


def _worker(jobs: Chan[int], results: Chan[int], wg: WaitGroup) -> None:
    for j in jobs:
        results.send(j * j)
    wg.done()


def _feed(jobs: Chan[int], n: int) -> None:
    for j in range(n):
        jobs.send(j)
    jobs.close()


def _close_after(wg: WaitGroup, results: Chan[int]) -> None:
    wg.wait()
    results.close()


def _worker_pool(n: int) -> float:
    jobs, results = Chan[int](BUFFER), Chan[int](BUFFER)
    wg = WaitGroup()
    t0 = perf_counter()
    for _ in range(WORKERS):
        wg.add(1)
        go(_worker, jobs, results, wg)
    go(_feed, jobs, n)
    go(_close_after, wg, results)
    total = count = 0
    for r in results:
        total += r
        count += 1
    dt = perf_counter() - t0
    check("W7", "results", count, n)
    check("W7", "sum of results", total, sum_of_squares(n))
    return dt


def worker_pool(n: int) -> dict[str, float]:
    return {"seconds": run(_worker_pool, n)}


# --- W8 memory ------------------------------------------------------------


def _park(ch: Chan[None], started: WaitGroup, finished: WaitGroup) -> None:
    started.done()
    ch.recv()
    finished.done()


def _memory(n: int) -> tuple[float, int]:
    ch = Chan[None]()
    started, finished = WaitGroup(), WaitGroup()
    started.add(n)
    finished.add(n)
    before = rss_bytes()
    t0 = perf_counter()
    for _ in range(n):
        go(_park, ch, started, finished)
    started.wait()
    gosched()  # the last one reaches its recv
    dt = perf_counter() - t0
    after = rss_bytes()
    ch.close()
    finished.wait()
    return dt, after - before


def memory(n: int) -> dict[str, float]:
    dt, rss = run(_memory, n)
    return {"seconds": dt, "rss_bytes": rss}


# --- W9 timers ------------------------------------------------------------


def _nap(d: float, overshoots: list[float], wg: WaitGroup) -> None:
    t0 = perf_counter()
    sleep(d)
    overshoots.append(perf_counter() - t0 - d)
    wg.done()


def _timers(n: int) -> tuple[float, float]:
    durations = sleep_durations(n)
    overshoots: list[float] = []
    wg = WaitGroup()
    t0 = perf_counter()
    for d in durations:
        wg.add(1)
        go(_nap, d, overshoots, wg)
    wg.wait()
    dt = perf_counter() - t0
    return dt, check_overshoot(overshoots, n)


def timers(n: int) -> dict[str, float]:
    dt, over = run(_timers, n)
    return {"seconds": dt, "overshoot_s": over}


# --- W11 parallel C work ---------------------------------------------------


def _c_item(data: bytes, comp: bytes, out: list[tuple[str, int]], i: int) -> None:
    out[i] = c_work_item(data, comp)


def _parallel_c(n: int) -> float:
    data, comp = c_work_input()
    out: list[tuple[str, int]] = [("", 0)] * n
    wg = WaitGroup()
    t0 = perf_counter()
    for i in range(n):
        wg.go(_c_item, data, comp, out, i)
    wg.wait()
    dt = perf_counter() - t0
    check("W11", "distinct results", len(set(out)), 1)
    check("W11", "result", out[0], c_work_item(data, comp))
    return dt


def parallel_c(n: int) -> dict[str, float]:
    max_procs(1)
    base = run(_parallel_c, n)
    max_procs(2)
    return {"seconds": run(_parallel_c, n), "seconds_base": base}


# --- W12 blocked thread ----------------------------------------------------


def _ping(a: Chan[int], b: Chan[int], rounds: int, wg: WaitGroup, ends: list[float]) -> None:
    for i in range(rounds):
        a.send(i)
        b.recv()
    ends.append(perf_counter())
    wg.done()


def _pong(a: Chan[int], b: Chan[int], rounds: int, wg: WaitGroup, ends: list[float]) -> None:
    for _ in range(rounds):
        b.send(a.recv())
    ends.append(perf_counter())
    wg.done()


def _blocked_thread(n: int, nap: float) -> float:
    rounds = W12_ROUNDS if n >= 1_000 else 100
    ends: list[float] = []
    wg = WaitGroup()
    t0 = perf_counter()
    if nap:
        go(time.sleep, nap)  # a foreign call: it holds the thread
    for _ in range(n // 2):
        a, b = Chan[int](), Chan[int]()
        wg.add(2)
        go(_ping, a, b, rounds, wg, ends)
        go(_pong, a, b, rounds, wg, ends)
    wg.wait()
    check("W12", "goroutines finished", len(ends), n // 2 * 2)
    return max(ends) - t0  # when the pairs were done, whatever goroutine 1 waited for


def blocked_thread(n: int) -> dict[str, float]:
    base = run(_blocked_thread, n, 0.0)
    return {"seconds": run(_blocked_thread, n, W12_SLEEP if n >= 1_000 else 0.2),
            "seconds_base": base}

"""Myth: "goroutines always run in parallel" -- measured.

Concurrency is about structure (many things in progress, overlapping in
time); parallelism is about execution (several things computing at the same
instant on several cores). Even in Go, goroutines run in parallel only when
there are several cores and GOMAXPROCS allows it. Here, Python code in
goroutines never runs in parallel: goroutines of one scheduler take turns
on one thread, and the GIL lets one thread run Python bytecode at a time.

The program measures the same CPU-bound job (counting primes below 120,000,
in 4 slices) four ways, and one wait-bound job:
  * sequentially, in one goroutine;
  * in 4 goroutines: no faster, they take turns on one thread;
  * in 4 goroutines calling blocking() (helper threads): no faster, the
    GIL serializes the bytecode;
  * in a process pool, called from a goroutine through blocking(): faster on
    a machine with several cores -- this is what to do for CPU-bound work;
  * 4 waits of 0.2 s (sleep) in 4 goroutines: 0.2 s in all, not 0.8 s:
    waiting overlaps perfectly. That is what goroutines are for.
Timings vary from run to run and machine to machine.

Shows: concurrency without parallelism for Python code, and processes as
the way to use several cores.

Run: python examples/myth_parallelism.py
"""

import os
import time
from concurrent.futures import ProcessPoolExecutor

from goroutines import WaitGroup, blocking, run, sleep

LIMIT = 120_000
SLICES = 4


def count_primes(lo: int, hi: int) -> int:
    """Pure-Python CPU work: how many primes in [lo, hi)."""
    count = 0
    for n in range(max(lo, 2), hi):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            count += 1
    return count


def slices() -> list[tuple[int, int]]:
    step = LIMIT // SLICES
    return [(i * step, (i + 1) * step) for i in range(SLICES)]


def timed(label: str, fn: object) -> float:
    assert callable(fn)
    start = time.perf_counter()
    total = fn()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {elapsed:5.2f}s   ({total} primes)" if total is not None
          else f"  {label:<34} {elapsed:5.2f}s")
    return elapsed


def sequential() -> int:
    return sum(count_primes(lo, hi) for lo, hi in slices())


def in_goroutines(use_threads: bool) -> int:
    parts = slices()
    results = [0] * len(parts)  # one element per goroutine: no two write the same
    wg = WaitGroup()

    def work(i: int, lo: int, hi: int) -> None:
        n = blocking(count_primes, lo, hi) if use_threads else count_primes(lo, hi)
        results[i] = n

    for i, (lo, hi) in enumerate(parts):
        wg.go(work, i, lo, hi)
    wg.wait()
    return sum(results)


def in_processes() -> int:
    def compute() -> int:
        with ProcessPoolExecutor(max_workers=SLICES) as pool:
            los, his = zip(*slices(), strict=True)
            return sum(pool.map(count_primes, los, his))

    return blocking(compute)  # the calling goroutine waits; the others run on


def waits() -> None:
    wg = WaitGroup()
    for _ in range(4):
        wg.go(sleep, 0.2)
    wg.wait()


def main() -> None:
    print(f"CPU-bound: primes below {LIMIT:,} in {SLICES} slices, {os.cpu_count()} CPUs")
    count_primes(0, LIMIT // 10)  # warm up, so the first timing is not penalized
    base = timed("sequential", sequential)
    g = timed("4 goroutines", lambda: in_goroutines(False))
    t = timed("4 goroutines + blocking() threads", lambda: in_goroutines(True))
    p = timed("process pool via blocking()", in_processes)
    print(f"  speed-up: goroutines x{base / g:.1f}, threads x{base / t:.1f}, "
          f"processes x{base / p:.1f}")
    print("Wait-bound: 4 x sleep(0.2)")
    timed("4 goroutines", waits)


if __name__ == "__main__":
    run(main)

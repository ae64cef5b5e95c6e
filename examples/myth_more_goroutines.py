"""Myth: "more goroutines is always faster" -- measured.

A goroutine is cheap, not free: starting one, switching to it and passing a
value over a channel each cost a few microseconds here (goroutine_cost.py
measures them). When the work per goroutine is tiny, the overhead is the
whole bill. Goroutines pay off when each one spends its time *waiting*
(network, disk, timers, other goroutines), not when they split up small
CPU-bound chunks -- and in Python such chunks gain nothing anyway (see
myth_parallelism.py).

The program squares 50,000 numbers and sums them three ways:
  * a plain loop;
  * one goroutine per number, each sending its result on a channel;
  * 4 worker goroutines, each summing a quarter and sending one result.
Then it fetches 100 fake pages (each waits 10 ms) with 1, 10 and 100
goroutines: there, more goroutines really are faster, up to the number of
things worth waiting for at once.

Shows: goroutine overhead swamping tiny CPU work, and goroutines winning
big when the work is waiting.

Run: python examples/myth_more_goroutines.py
"""

import time

from goroutines import Chan, WaitGroup, go, run, sleep

N = 50_000


def plain_loop() -> int:
    return sum(i * i for i in range(N))


def square(i: int, results: Chan[int]) -> None:
    results.send(i * i)


def sum_of_squares(start: int, step: int, results: Chan[int]) -> None:
    results.send(sum(i * i for i in range(start, N, step)))


def goroutine_per_item() -> int:
    results = Chan[int](N)
    for i in range(N):
        go(square, i, results)
    return sum(results.recv() or 0 for _ in range(N))


def four_workers() -> int:
    results = Chan[int](4)
    for w in range(4):
        go(sum_of_squares, w, 4, results)
    return sum(results.recv() or 0 for _ in range(4))


def fetch_pages(pages: int, workers: int) -> None:
    todo = Chan[int](pages)
    for page in range(pages):
        todo.send(page)
    todo.close()
    wg = WaitGroup()

    def worker() -> None:
        for _ in todo:
            sleep(0.01)  # waiting for the network

    for _ in range(workers):
        wg.go(worker)
    wg.wait()


def timed(label: str, fn: object) -> None:
    assert callable(fn)
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    suffix = f"  (sum {result})" if result is not None else ""
    print(f"  {label:<28} {elapsed * 1000:7.1f} ms{suffix}")


def main() -> None:
    print(f"CPU-bound: sum of squares of {N:,} numbers")
    timed("plain loop", plain_loop)
    timed(f"{N:,} goroutines", goroutine_per_item)
    timed("4 goroutines", four_workers)
    print("Wait-bound: 100 fetches of 10 ms each")
    for workers in (1, 10, 100):
        timed(f"{workers} goroutine(s)", lambda w=workers: fetch_pages(100, w))


if __name__ == "__main__":
    run(main)

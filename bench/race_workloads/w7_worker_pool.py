"""W7 under the race detector: n jobs through 8 workers and two channels of
capacity 128, a WaitGroup closing the results."""

import json
import sys
import time

from goroutines import Chan, WaitGroup, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
WORKERS = 8


def worker(jobs: Chan[int], results: Chan[int], wg: WaitGroup) -> None:
    for j in jobs:
        results.send(j * j)
    wg.done()


def feed(jobs: Chan[int], n: int) -> None:
    for j in range(n):
        jobs.send(j)
    jobs.close()


def close_after(wg: WaitGroup, results: Chan[int]) -> None:
    wg.wait()
    results.close()


jobs: Chan[int] = Chan(128)
results: Chan[int] = Chan(128)
wg = WaitGroup()
t0 = time.process_time()
for _ in range(WORKERS):
    wg.add(1)
    go(worker, jobs, results, wg)
go(feed, jobs, N)
go(close_after, wg, results)
total = sum(results)
dt = time.process_time() - t0
assert total == sum(j * j for j in range(N))
print(json.dumps({"cpu": dt, "n": N}))

"""Go by Example: Worker Pools, ported (https://gobyexample.com/worker-pools).

Shows: three workers share one jobs channel and report on a results
channel. Five jobs of 0.1 s each (Go's example: 1 s) finish in about 0.2 s,
because the workers wait concurrently. Closing jobs ends each worker's
`for j in jobs` loop.

Run: python examples/worker_pools.py
"""

import time

from goroutines import Chan, RecvChan, SendChan, go, run, sleep


def worker(id: int, jobs: RecvChan[int], results: SendChan[int]) -> None:
    for j in jobs:
        print("worker", id, "started  job", j)
        sleep(0.1)  # an expensive task
        print("worker", id, "finished job", j)
        results.send(j * 2)


def main() -> None:
    num_jobs = 5
    jobs = Chan[int](num_jobs)
    results = Chan[int](num_jobs)
    start = time.monotonic()

    for w in range(1, 4):
        go(worker, w, jobs, results)

    for j in range(1, num_jobs + 1):
        jobs.send(j)
    jobs.close()

    for _ in range(num_jobs):
        results.recv()

    print(f"{num_jobs} jobs took {time.monotonic() - start:.2f}s")


if __name__ == "__main__":
    run(main)

"""How fast this machine runs the two things every workload is made of.

``python -m bench.calibrate`` prints one JSON object: the cost of one
iteration of an empty Python loop and of one greenlet switch pair (there and
back), medians of several batches. The report shows them next to the tables,
so numbers from different machines (or from one machine under different
load) can be put in proportion.
"""

from __future__ import annotations

import json
import statistics
import sys
from time import perf_counter

from greenlet import getcurrent, greenlet


def loop_ns(n: int = 200_000, batches: int = 5) -> float:
    times = []
    for _ in range(batches):
        t0 = perf_counter()
        for _ in range(n):
            pass
        times.append((perf_counter() - t0) / n * 1e9)
    return statistics.median(times)


def switch_pair_ns(n: int = 50_000, batches: int = 5) -> float:
    main = getcurrent()

    def partner() -> None:
        while True:
            main.switch()

    other = greenlet(partner)
    times = []
    for _ in range(batches):
        t0 = perf_counter()
        for _ in range(n):
            other.switch()
        times.append((perf_counter() - t0) / n * 1e9)
    return statistics.median(times)


def main() -> int:
    result = {"loop_ns": loop_ns(), "switch_pair_ns": switch_pair_ns()}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

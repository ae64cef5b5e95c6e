"""A pure-Python compute loop under the race detector: attribute, subscript
and container accesses in goroutines, synchronized by a WaitGroup."""

import json
import sys
import time

from goroutines import WaitGroup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000


class Acc:
    def __init__(self) -> None:
        self.total = 0
        self.seen: list[int] = []


def work(acc: Acc, table: list[int], n: int) -> None:
    for i in range(n):
        acc.total += table[i % len(table)] * i
        if i % 1000 == 0:
            acc.seen.append(i)


t0 = time.process_time()
accs = [Acc() for _ in range(4)]
table = list(range(97))
wg = WaitGroup()
for a in accs:
    wg.go(work, a, table, N // 4)
wg.wait()
dt = time.process_time() - t0
print(json.dumps({"cpu": dt, "n": N, "total": sum(a.total for a in accs)}))

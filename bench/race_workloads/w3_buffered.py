"""W3 under the race detector: n ints through a channel of capacity 128."""

import json
import sys
import time

from goroutines import Chan, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def produce(ch: Chan[int], n: int) -> None:
    for i in range(n):
        ch.send(i)
    ch.close()


ch: Chan[int] = Chan(128)
t0 = time.process_time()
go(produce, ch, N)
total = 0
for v in ch:
    total += v
dt = time.process_time() - t0
assert total == N * (N - 1) // 2
print(json.dumps({"cpu": dt, "n": N}))

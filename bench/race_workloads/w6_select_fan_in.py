"""W6 under the race detector: 4 producers, one select receiving from all."""

import json
import sys
import time

from goroutines import Chan, go, recv_ok, select

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
PRODUCERS = 4


def producer(ch: Chan[int], first: int, n: int) -> None:
    for i in range(first, first + n):
        ch.send(i)
    ch.close()


chans: list[Chan[int] | None] = [Chan[int]() for _ in range(PRODUCERS)]
t0 = time.process_time()
for k, c in enumerate(chans):
    assert c is not None
    go(producer, c, k * N, N)
total = count = 0
live = PRODUCERS
while live:
    i, (v, ok) = select(*[recv_ok(c) for c in chans])
    if ok:
        total += v
        count += 1
    else:
        chans[i] = None  # a nil channel: never ready again
        live -= 1
dt = time.process_time() - t0
m = PRODUCERS * N
assert count == m and total == m * (m - 1) // 2
print(json.dumps({"cpu": dt, "n": N}))

"""W1 under the race detector: n goroutines that each mark their own slot
and finish (WaitGroup); distinct list elements are distinct locations."""

import json
import sys
import time

from goroutines import WaitGroup, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def finish(done: list[int], i: int, wg: WaitGroup) -> None:
    done[i] = 1
    wg.done()


done = [0] * N
wg = WaitGroup()
t0 = time.process_time()
for i in range(N):
    wg.add(1)
    go(finish, done, i, wg)
wg.wait()
dt = time.process_time() - t0
assert sum(done) == N
print(json.dumps({"cpu": dt, "n": N}))

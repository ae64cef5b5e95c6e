"""W8 under the race detector: n goroutines parked in recv at once; the
parent reads peak RSS."""

import json
import sys
import time

from goroutines import Chan, WaitGroup, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def park(ch: Chan[None], started: WaitGroup, finished: WaitGroup) -> None:
    started.done()
    ch.recv()
    finished.done()


ch: Chan[None] = Chan()
started, finished = WaitGroup(), WaitGroup()
started.add(N)
finished.add(N)
t0 = time.process_time()
for _ in range(N):
    go(park, ch, started, finished)
started.wait()
dt = time.process_time() - t0
ch.close()
finished.wait()
print(json.dumps({"cpu": dt, "n": N}))

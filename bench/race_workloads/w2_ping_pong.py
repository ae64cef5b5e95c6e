"""W2 under the race detector: n round trips over two unbuffered channels."""

import json
import sys
import time

from goroutines import Chan, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000


def pong(ping: Chan[int], back: Chan[int]) -> None:
    for v in ping:
        back.send(v)


ping: Chan[int] = Chan()
back: Chan[int] = Chan()
go(pong, ping, back)
t0 = time.process_time()
for i in range(N):
    ping.send(i)
    assert back.recv() == i
dt = time.process_time() - t0
ping.close()
print(json.dumps({"cpu": dt, "n": N}))

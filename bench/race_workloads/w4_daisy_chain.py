"""W4 under the race detector: Pike's daisy chain of n goroutines, all
alive at once, each handing a value to its neighbour: every vector clock
ends up with an entry per goroutine."""

import json
import sys
import time

from goroutines import Chan, RecvChan, SendChan, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000


def whisper(left: SendChan[int], right: RecvChan[int]) -> None:
    v = right.recv()
    assert v is not None
    left.send(1 + v)


t0 = time.process_time()
leftmost: Chan[int] = Chan()
left = leftmost
for _ in range(N):
    right: Chan[int] = Chan()
    go(whisper, left, right)
    left = right
left.send(1)
got = leftmost.recv()
dt = time.process_time() - t0
assert got == N + 1
print(json.dumps({"cpu": dt, "n": N}))

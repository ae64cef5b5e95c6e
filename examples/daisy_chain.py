"""Rob Pike, "Go Concurrency Patterns" (2012): the daisy chain (Chinese
whispers) of 100,000 goroutines.

Shows: goroutines are cheap enough to make a hundred thousand of them. Each
one receives a number from its right neighbour, adds one, and passes it to
its left neighbour. main starts the whisper at the right end with 1 and
reads 100001 at the left end. Every goroutine here waits on a channel, so
all 100,000 exist at the same time.

A hundred thousand goroutines that are all alive at once cost real
memory and time here, though: each one is a greenlet whose stack is copied
to the heap while it is parked, so expect about 10 KiB and several tens of
microseconds per goroutine -- around a gigabyte and ten seconds for the
whole chain on a small machine. Pass a smaller n to try it quickly.

Run: python examples/daisy_chain.py [n]      (n defaults to 100,000)
"""

import sys
import time

from goroutines import Chan, RecvChan, SendChan, go, num_goroutine, run


def whisper(left: SendChan[int], right: RecvChan[int]) -> None:
    left.send(1 + right.recv())


def main(n: int) -> None:
    start = time.perf_counter()
    leftmost = Chan[int]()
    left = leftmost
    for _ in range(n):
        right = Chan[int]()
        go(whisper, left, right)
        left = right
    print(f"started {num_goroutine() - 1:,} goroutines in {time.perf_counter() - start:.2f}s")

    go(right.send, 1)  # start the whisper at the far right
    print(leftmost.recv())
    print(f"total {time.perf_counter() - start:.2f}s")


if __name__ == "__main__":
    run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

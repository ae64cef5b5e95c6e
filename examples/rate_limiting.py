"""Go by Example: Rate Limiting, ported (https://gobyexample.com/rate-limiting).

Shows: a ticker channel as a rate limiter (one request per tick), then a
bursty limiter: a buffered channel pre-filled with 3 tokens and refilled by
a ticker, so the first 3 requests go at once and the rest wait for ticks.
A tick every 50 ms here (Go's example: 200 ms).

Run: python examples/rate_limiting.py
"""

import time

from goroutines import Chan, go, run, tick

INTERVAL = 0.05


def main() -> None:
    start = time.monotonic()

    requests = Chan[int](5)
    for i in range(1, 6):
        requests.send(i)
    requests.close()

    limiter = tick(INTERVAL)  # Go: time.Tick(200 * time.Millisecond)
    assert limiter is not None  # tick() gives None only for d <= 0
    for req in requests:
        limiter.recv()  # one request per tick
        print(f"request {req} at {time.monotonic() - start:.3f}s")

    bursty_limiter = Chan[float](3)
    for _ in range(3):
        bursty_limiter.send(time.monotonic())  # room for a burst of 3

    def refill() -> None:
        ticks = tick(INTERVAL)
        assert ticks is not None
        for t in ticks:
            bursty_limiter.send(t)

    go(refill)

    bursty_requests = Chan[int](5)
    for i in range(1, 6):
        bursty_requests.send(i)
    bursty_requests.close()

    burst_start = time.monotonic()
    for req in bursty_requests:
        bursty_limiter.recv()
        print(f"bursty request {req} at {time.monotonic() - burst_start:.3f}s")


if __name__ == "__main__":
    run(main)

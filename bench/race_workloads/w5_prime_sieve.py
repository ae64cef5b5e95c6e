"""W5 under the race detector: the first n primes, one filter goroutine per
prime (each new goroutine gets a copy of its creator's vector clock)."""

import json
import sys
import time

from goroutines import Chan, go

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300


def generate(ch: Chan[int]) -> None:
    i = 2
    while True:
        ch.send(i)
        i += 1


def sieve_filter(src: Chan[int], dst: Chan[int], prime: int) -> None:
    for i in src:
        if i % prime:
            dst.send(i)


t0 = time.process_time()
ch: Chan[int] = Chan()
go(generate, ch)
primes: list[int] = []
for _ in range(N):
    prime = ch.recv()
    assert prime is not None
    primes.append(prime)
    ch1: Chan[int] = Chan()
    go(sieve_filter, ch, ch1, prime)
    ch = ch1
dt = time.process_time() - t0
assert all(p % q for i, p in enumerate(primes) for q in primes[:i]), "not primes"
print(json.dumps({"cpu": dt, "n": N}))

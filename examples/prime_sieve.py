"""The concurrent prime sieve, ported from Go's classic example
(go.dev/doc/play/sieve.go, after Doug McIlroy's Unix pipeline sieve).

Shows: a chain of goroutines connected by unbuffered channels. generate()
sends 2, 3, 4, ...; every prime found adds one more filter goroutine to the
chain that drops that prime's multiples. After n primes the chain has n
filters, all running at once, each handing numbers to the next.

Run: python examples/prime_sieve.py [n]      (n defaults to 100)
"""

import sys

from goroutines import Chan, RecvChan, SendChan, go, num_goroutine, run


def generate(ch: SendChan[int]) -> None:
    """Send 2, 3, 4, ... to ch, forever."""
    i = 2
    while True:
        ch.send(i)
        i += 1


def sieve_filter(src: RecvChan[int], dst: SendChan[int], prime: int) -> None:
    """Copy the numbers from src to dst, dropping the multiples of prime."""
    for i in src:
        if i % prime != 0:
            dst.send(i)


def main(n: int) -> None:
    ch = Chan[int]()
    go(generate, ch)
    primes = []
    for _ in range(n):
        prime = ch.recv()
        assert prime is not None
        primes.append(prime)
        ch1 = Chan[int]()
        go(sieve_filter, ch, ch1, prime)
        ch = ch1
    for row in range(0, n, 10):
        print(" ".join(f"{p:4d}" for p in primes[row : row + 10]))
    print(f"{num_goroutine() - 1} goroutines in the chain")


if __name__ == "__main__":
    run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 100)

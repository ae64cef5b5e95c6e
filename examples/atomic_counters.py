"""Go by Example: Atomic Counters, ported
(https://gobyexample.com/atomic-counters).

Shows: 50 goroutines each add 1 to a shared AtomicInt (Go's atomic.Int64)
1000 times; a WaitGroup waits for them; the total is exactly 50,000.

An honest note: with cooperative scheduling, goroutines on one thread never
interrupt each other between two runtime calls, so a plain `ops += 1` would
also come out right in this program. Do not rely on it: goroutines started
from other threads run on another scheduler thread, and there Python threads
do interleave (pitfall_unsynchronized_counter.py shows a lost update).
AtomicInt states the intent and stays correct.

Run: python examples/atomic_counters.py
"""

from goroutines import AtomicInt, WaitGroup, run


def main() -> None:
    ops = AtomicInt()
    wg = WaitGroup()

    def add_a_thousand() -> None:
        for _ in range(1000):
            ops.add(1)

    for _ in range(50):
        wg.go(add_a_thousand)

    wg.wait()
    print("ops:", ops.load())


if __name__ == "__main__":
    run(main)

"""Pitfall: a counter shared without synchronization loses updates -- and
the fix, a Mutex.

Go original: 100 goroutines running `counter++` on a package-level int,
and its fix, `mu.Lock(); counter++; mu.Unlock()`.

In Go, `counter++` from 100 goroutines is a data race: the increment is a
read, an add and a write, and another goroutine on another core can write
in between, so updates are lost (and `go run -race` reports it).

Here a goroutine is switched out when it calls into the runtime and waits
(a channel operation, sleep, a lock, gosched(), blocking(), ...) and, on
CPython 3.12+ with the accelerator, when it has run for about 10 ms and is
preempted between two lines of its code; goroutines started from other
threads run on another OS thread, where Python interleaves anyway. These
goroutines are too short to be preempted, so without the gosched() the
program would usually print 100 -- until the day a switch lands between
the read and the write (a slow moment, a channel send to a logger, a
blocking() database call, a sleep for a retry). To make the race visible
every time, the wrong way below calls gosched() between the read and the
write -- standing for "any switch here". Every goroutine reads 0 before any
of them writes, and 99 updates are lost.

The right way holds a Mutex across the whole read-modify-write.

Shows: 99 of 100 updates lost without a lock, none lost with a Mutex.

Run: python examples/pitfall_unsynchronized_counter.py
"""

from goroutines import Mutex, WaitGroup, gosched, run

N = 100


def wrong_way() -> int:
    counter = 0
    wg = WaitGroup()

    def increment() -> None:
        nonlocal counter
        value = counter  # read
        gosched()  # any park here lets the other goroutines run
        counter = value + 1  # write back a value that may be stale

    for _ in range(N):
        wg.go(increment)
    wg.wait()
    return counter


def right_way() -> int:
    counter = 0
    mu = Mutex()  # guards counter
    wg = WaitGroup()

    def increment() -> None:
        nonlocal counter
        with mu:  # nobody else can read or write counter until we are done
            value = counter
            gosched()  # parking while holding the lock is safe, if slow
            counter = value + 1

    for _ in range(N):
        wg.go(increment)
    wg.wait()
    return counter


if __name__ == "__main__":
    print(f"WRONG: {N} goroutines increment a shared counter without a lock")
    print(f"  counter = {run(wrong_way)} (expected {N})")
    print("RIGHT: the same with a Mutex around the read-modify-write")
    print(f"  counter = {run(right_way)} (expected {N})")

"""A counter in a closure (nonlocal) incremented by goroutines (examples/pitfall_unsynchronized_counter.py's shape). (fixed)"""

from goroutines import Mutex, WaitGroup, gosched


def main() -> int:
    n = 0
    mu = Mutex()
    wg = WaitGroup()

    def bump() -> None:
        nonlocal n
        mu.lock()
        v = n
        gosched()
        n = v + 1
        mu.unlock()

    for _ in range(3):
        wg.go(bump)
    wg.wait()
    return n


print(main())

"""A counter in a closure (nonlocal) incremented by goroutines (examples/pitfall_unsynchronized_counter.py's shape). (racy)"""

from goroutines import WaitGroup, gosched


def main() -> int:
    n = 0

    wg = WaitGroup()

    def bump() -> None:
        nonlocal n

        v = n
        gosched()
        n = v + 1

    for _ in range(3):
        wg.go(bump)
    wg.wait()
    return n


print(main())

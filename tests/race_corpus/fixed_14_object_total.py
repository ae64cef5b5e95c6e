"""A total on a shared object updated by goroutines (fix: an atomic). (fixed)"""

from goroutines import AtomicInt, WaitGroup


class Stats:
    def __init__(self) -> None:
        self.total = 0
        self.atomic_total = AtomicInt()


stats = Stats()


def add(n: int) -> None:
    stats.atomic_total.add(n)


wg = WaitGroup()
for i in range(4):
    wg.go(add, i)
wg.wait()

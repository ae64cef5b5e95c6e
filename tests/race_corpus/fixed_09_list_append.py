"""Appends to a shared list from several goroutines (Go: append to a shared slice). (fixed)"""

from goroutines import Mutex, WaitGroup

out: list[int] = []
mu = Mutex()


def produce(i: int) -> None:
    mu.lock()
    out.append(i * i)
    mu.unlock()


wg = WaitGroup()
for i in range(4):
    wg.go(produce, i)
wg.wait()
print(sorted(out))

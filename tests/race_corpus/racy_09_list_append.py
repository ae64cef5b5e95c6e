"""Appends to a shared list from several goroutines (Go: append to a shared slice). (racy)"""

from goroutines import WaitGroup

out: list[int] = []


def produce(i: int) -> None:

    out.append(i * i)


wg = WaitGroup()
for i in range(4):
    wg.go(produce, i)
wg.wait()
print(sorted(out))

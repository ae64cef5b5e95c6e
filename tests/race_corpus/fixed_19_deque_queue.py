"""A deque used as a queue between goroutines without synchronization (fix: a channel). (fixed)"""

from collections import deque

from goroutines import Chan, go

q: deque[int] = deque()
ch: Chan[int] = Chan(4)
done: Chan[None] = Chan()


def producer() -> None:
    for i in range(3):
        ch.send(i)
    done.send(None)


go(producer)
got = []
for _ in range(3):
    got.append(ch.recv())
done.recv()
print(got)

"""A deque used as a queue between goroutines without synchronization (fix: a channel). (racy)"""

from collections import deque

from goroutines import Chan, go, gosched

q: deque[int] = deque()
ch: Chan[int] = Chan(4)
done: Chan[None] = Chan()


def producer() -> None:
    for i in range(3):
        q.append(i)
    done.send(None)


go(producer)
got = []
for _ in range(3):
    while not q:
        gosched()
    got.append(q.popleft())
done.recv()
print(got)

"""A buffered channel used as a lock with room for two (fix: capacity 1). (racy)"""

from goroutines import Chan, WaitGroup, gosched

sem: Chan[None] = Chan(2)


class Counter:
    n = 0


def inc() -> None:
    sem.send(None)
    v = Counter.n
    gosched()
    Counter.n = v + 1
    sem.recv()


wg = WaitGroup()
for _ in range(2):
    wg.go(inc)
wg.wait()
print(Counter.n)

"""Writing under a read lock (fix: the write lock). (fixed)"""

from goroutines import RWMutex, WaitGroup, gosched

rw = RWMutex()


class Hits:
    n = 0


def hit() -> None:
    rw.lock()
    v = Hits.n
    gosched()
    Hits.n = v + 1
    rw.unlock()


wg = WaitGroup()
for _ in range(2):
    wg.go(hit)
wg.wait()
print(Hits.n)

"""A weighted Semaphore guarding a counter (racy: room for two holders). (fixed)"""

from goroutines import Semaphore, WaitGroup, gosched
from goroutines.context import background

sem = Semaphore(1)


class Counter:
    n = 0


def inc() -> None:
    sem.acquire(background())
    v = Counter.n
    gosched()
    Counter.n = v + 1
    sem.release()


wg = WaitGroup()
for _ in range(2):
    wg.go(inc)
wg.wait()
print(Counter.n)

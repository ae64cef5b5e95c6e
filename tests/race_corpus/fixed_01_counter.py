"""An unsynchronized counter: counter++ from several goroutines. (fixed)"""

from goroutines import Mutex, WaitGroup, gosched

mu = Mutex()
counter = 0


def inc() -> None:
    global counter
    mu.lock()
    v = counter
    gosched()
    counter = v + 1
    mu.unlock()


wg = WaitGroup()
for _ in range(4):
    wg.go(inc)
wg.wait()
print(counter)

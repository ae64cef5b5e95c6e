"""An unsynchronized counter: counter++ from several goroutines. (racy)"""

from goroutines import WaitGroup, gosched

counter = 0


def inc() -> None:
    global counter

    v = counter
    gosched()
    counter = v + 1


wg = WaitGroup()
for _ in range(4):
    wg.go(inc)
wg.wait()
print(counter)

"""A Cond hands data from a producer to a consumer (racy: the producer writes again after signalling, outside the lock). (fixed)"""

from goroutines import Cond, Mutex, WaitGroup

mu = Mutex()
cond = Cond(mu)


class Box:
    ready = False
    data: list[int] | None = None


def producer() -> None:
    with mu:
        Box.data = [1, 2, 3]
        Box.ready = True
        cond.signal()


def consumer() -> None:
    with mu:
        while not Box.ready:
            cond.wait()
        print(Box.data)


wg = WaitGroup()
wg.go(consumer)
wg.go(producer)
wg.wait()

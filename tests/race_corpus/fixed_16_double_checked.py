"""Double-checked locking: the first check reads without the lock. (fixed)"""

from goroutines import Mutex, WaitGroup

mu = Mutex()


class Holder:
    value: "list[int] | None" = None


def get() -> list[int]:

    with mu:
        if Holder.value is None:
            Holder.value = [1, 2, 3]
        return Holder.value


wg = WaitGroup()
for _ in range(3):
    wg.go(get)
wg.wait()

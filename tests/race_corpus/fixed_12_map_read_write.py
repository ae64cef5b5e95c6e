"""A dict read by one goroutine while another writes it. (fixed)"""

from goroutines import RWMutex, WaitGroup

cache: dict[str, int] = {"a": 1}
rw = RWMutex()


def reader() -> None:
    rw.rlock()
    print(cache.get("a"))
    rw.runlock()


def writer() -> None:
    rw.lock()
    cache["a"] = 2
    rw.unlock()


wg = WaitGroup()
wg.go(reader)
wg.go(writer)
wg.wait()

"""A dict read by one goroutine while another writes it. (racy)"""

from goroutines import WaitGroup

cache: dict[str, int] = {"a": 1}


def reader() -> None:

    print(cache.get("a"))


def writer() -> None:

    cache["a"] = 2


wg = WaitGroup()
wg.go(reader)
wg.go(writer)
wg.wait()

"""A blocking() call on a helper thread mutates state that another goroutine reads. (racy)"""

from goroutines import WaitGroup, blocking


class Box:
    items: list[int] = []  # noqa: RUF012


def load() -> None:
    Box.items = [1, 2, 3]


def job() -> None:
    blocking(load)


wg = WaitGroup()
wg.go(job)
wg.go(lambda: print(len(Box.items)))
wg.wait()

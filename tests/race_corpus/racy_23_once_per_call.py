"""A new Once per call guards nothing (fix: one shared Once). (racy)"""

from goroutines import Once, WaitGroup


class Conn:
    pool: list[int] | None = None


def init() -> None:
    Conn.pool = [1]


def use() -> None:
    Once().do(init)


wg = WaitGroup()
for _ in range(3):
    wg.go(use)
wg.wait()

"""A loop variable captured late by a goroutine's closure. (racy)"""

from goroutines import WaitGroup


def show(i: int, out: list[int], k: int) -> None:
    out[k] = i


def main() -> None:
    out = [0, 0, 0]
    wg = WaitGroup()
    for i in range(3):
        wg.go(lambda: show(i, out, 0))  # noqa: B023 (the bug)
    wg.wait()
    print(out)


main()

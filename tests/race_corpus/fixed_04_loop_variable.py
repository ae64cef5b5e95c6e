"""A loop variable captured late by a goroutine's closure. (fixed)"""

from goroutines import WaitGroup


def show(i: int, out: list[int], k: int) -> None:
    out[k] = i


def main() -> None:
    out = [0, 0, 0]
    wg = WaitGroup()
    for i in range(3):
        wg.go(show, i, out, i)
    wg.wait()
    print(out)


main()

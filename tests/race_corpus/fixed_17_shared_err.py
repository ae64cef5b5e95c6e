"""Goroutines assign a shared err variable (Go: err captured by closures). (fixed)"""

from goroutines import WaitGroup


def fetch(u: str) -> str:
    if u == "bad":
        raise ValueError(u)
    return u


def main() -> None:
    err: Exception | None = None
    errs: list[Exception | None] = [None, None, None]
    wg = WaitGroup()
    for k, u in enumerate(["bad", "bad", "c"]):

        def task(u: str = u, k: int = k) -> None:
            nonlocal err
            try:
                fetch(u)
            except ValueError as e:
                errs[k] = e

        wg.go(task)
    wg.wait()
    print(err, errs)


main()

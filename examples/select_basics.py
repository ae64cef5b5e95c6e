"""Go by Example: Select, ported (https://gobyexample.com/select).

Shows: select waits on several channel operations at once and runs the one
that becomes ready. Two goroutines answer after 0.1 s and 0.2 s (Go's
example uses 1 s and 2 s); both waits overlap, so the whole program takes
about 0.2 s, not 0.3 s. `match` on (index, value) reads like Go's cases.

(The file is not called select.py: that would shadow Python's own `select`
module for every script in this directory.)

Run: python examples/select_basics.py
"""

import time

from goroutines import Chan, go, recv, run, select, sleep


def main() -> None:
    c1 = Chan[str]()
    c2 = Chan[str]()

    def answer(c: Chan[str], delay: float, msg: str) -> None:
        sleep(delay)  # stands in for a blocking RPC
        c.send(msg)

    start = time.monotonic()
    go(answer, c1, 0.1, "one")
    go(answer, c2, 0.2, "two")

    for _ in range(2):
        match select(recv(c1), recv(c2)):
            case (0, msg1):
                print("received", msg1)
            case (1, msg2):
                print("received", msg2)

    print(f"elapsed {time.monotonic() - start:.2f}s")


if __name__ == "__main__":
    run(main)

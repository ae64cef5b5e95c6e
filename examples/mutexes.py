"""Go by Example: Mutexes, ported (https://gobyexample.com/mutexes).

Shows: a Mutex guarding a dict of counters that three goroutines update.
`with self.mu:` is Go's `c.mu.Lock(); defer c.mu.Unlock()`. A Mutex is not
reentrant, as in Go.

Run: python examples/mutexes.py
"""

from goroutines import Mutex, WaitGroup, run


class Container:
    def __init__(self) -> None:
        self.mu = Mutex()  # guards counters
        self.counters = {"a": 0, "b": 0}

    def inc(self, name: str) -> None:
        with self.mu:
            self.counters[name] += 1


def main() -> None:
    c = Container()
    wg = WaitGroup()

    def do_increment(name: str, n: int) -> None:
        for _ in range(n):
            c.inc(name)

    wg.go(do_increment, "a", 10000)
    wg.go(do_increment, "a", 10000)
    wg.go(do_increment, "b", 10000)
    wg.wait()
    print(c.counters)


if __name__ == "__main__":
    run(main)

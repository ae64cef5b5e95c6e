"""Pitfall: a goroutine blocked forever on a channel nobody else holds -- a
leak no deadlock detector sees -- and how leaks() and `run --leaks` find it.

Go original: the "first response wins" query from Go's concurrency talks,

    func First(query string, replicas ...Search) Result {
        c := make(chan Result)
        for _, replica := range replicas {
            go func(r Search) { c <- r(query) }(replica)
        }
        return <-c
    }

First returns the fastest reply; the slower replicas then block forever on
`c <- ...`: nobody will ever receive, and nothing but their own stacks
holds `c` any more. The program goes on, so Go's runtime never complains;
each call leaks len(replicas) - 1 goroutines. Go 1.27's goroutine leak
profile finds them by reachability: a goroutine parked on a channel that no
root and no runnable goroutine can reach is blocked forever. goroutines
does the same: leaks() returns those goroutines, and
`python -m goroutines run --leaks` prints them, grouped by the place that
started them, when the script ends, and exits with status 3.

The fix: a buffer with room for every reply (make(chan Result,
len(replicas))), so each replica's send completes and it ends.

Shows: the goroutines leaks() finds after the wrong First, none after the
right one; a partial deadlock (two goroutines waiting for each other while
main goes on), found the same way.

Run: python examples/pitfall_goroutine_leak.py
     python -m goroutines run --leaks examples/pitfall_goroutine_leak.py wrong
                              (the leak profile on stderr, exit status 3)
     python -m goroutines run --leaks examples/pitfall_goroutine_leak.py right
                              (nothing reported, exit status 0)
"""

import sys
from collections.abc import Callable

from goroutines import Chan, go, leaks, sleep

Search = Callable[[str], str]


def replica(name: str, delay: float) -> Search:
    def search(query: str) -> str:
        sleep(delay)
        return f"{name}: result for {query!r}"

    return search


REPLICAS = [replica("fast", 0.001), replica("medium", 0.01), replica("slow", 0.02)]


def first_wrong(query: str, *replicas: Search) -> str:
    c = Chan[str]()  # unbuffered: the losers' sends never complete
    for r in replicas:
        go(lambda r=r: c.send(r(query)))
    return c.recv()


def first_right(query: str, *replicas: Search) -> str:
    c = Chan[str](len(replicas))  # room for every reply: nobody blocks
    for r in replicas:
        go(lambda r=r: c.send(r(query)))
    return c.recv()


def settle() -> None:
    """Give the slower replicas time to answer (and block, or end)."""
    sleep(0.1)


def partial_deadlock() -> None:
    """Two goroutines, each waiting for the other's message first."""
    ping, pong = Chan[str](), Chan[str]()

    def left() -> None:
        pong.recv()
        ping.send("hello")

    def right() -> None:
        ping.recv()
        pong.send("hello")

    go(left)
    go(right)


if __name__ == "__main__":
    which = sys.argv[1:]
    if which == ["wrong"]:
        print(first_wrong("golang", *REPLICAS))
        settle()
    elif which == ["right"]:
        print(first_right("golang", *REPLICAS))
        settle()
    else:
        print("WRONG: an unbuffered channel, the first reply taken")
        print(" ", first_wrong("golang", *REPLICAS))
        settle()
        for g in leaks():
            print(f"  leaked: goroutine [{g.wait_reason}] started at line {g.created_line}")
        print("RIGHT: a buffer with room for every reply")
        before = len(leaks())
        print(" ", first_right("golang", *REPLICAS))
        settle()
        print(f"  leaked: {len(leaks()) - before} more")
        print("A partial deadlock, while main goes on:")
        partial_deadlock()
        settle()
        for g in leaks()[before:]:
            print(f"  leaked: goroutine [{g.wait_reason}] {g.name}")

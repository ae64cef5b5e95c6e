"""Go by Example: Goroutines, ported (https://gobyexample.com/goroutines).

Shows: a direct, synchronous call next to the same function started as a
goroutine with go(f, arg), and a goroutine started from an anonymous
function (Go's `go func(msg string) { ... }("going")`).

Both goroutines' lines come out after "direct", in an order the scheduler
picks. Scheduling here is cooperative: a goroutine keeps running until it
calls into the runtime (a channel operation, sleep, ...), so each of them
prints its three lines in one go; in Go they may interleave. main waits with
a short sleep, as the original does; a WaitGroup (waitgroups.py) is the
robust way to wait.

Run: python examples/goroutine_basics.py
"""

from goroutines import go, run, sleep


def f(source: str) -> None:
    for i in range(3):
        print(source, ":", i)


def main() -> None:
    f("direct")  # an ordinary call: runs to the end before the next line

    go(f, "goroutine")  # Go: go f("goroutine")
    go(lambda msg: print(msg), "going")  # Go: go func(msg string) {...}("going")

    sleep(0.1)  # main parks here, so the two goroutines get to run
    print("done")


if __name__ == "__main__":
    run(main)

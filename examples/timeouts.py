"""Go by Example: Timeouts, ported (https://gobyexample.com/timeouts).

Shows: bounding a wait with select and after(d): whichever is ready first,
the result or the timer, wins. The first call takes 0.2 s against a 0.1 s
limit and times out; the second is given 0.3 s and gets its result.

The result channels have a buffer of 1 so that a worker that finishes after
the timeout can still deliver and exit, instead of blocking forever on a
send nobody will receive (a goroutine leak).

Run: python examples/timeouts.py
"""

from goroutines import Chan, after, go, recv, run, select, sleep


def slow_call(c: Chan[str], delay: float, result: str) -> None:
    sleep(delay)
    c.send(result)


def main() -> None:
    c1 = Chan[str](1)
    go(slow_call, c1, 0.2, "result 1")
    match select(recv(c1), recv(after(0.1))):
        case (0, res):
            print(res)
        case (1, _):
            print("timeout 1")

    c2 = Chan[str](1)
    go(slow_call, c2, 0.2, "result 2")
    match select(recv(c2), recv(after(0.3))):
        case (0, res):
            print(res)
        case (1, _):
            print("timeout 2")


if __name__ == "__main__":
    run(main)

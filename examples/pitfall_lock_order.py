"""Pitfall: two locks taken in opposite orders -- a deadlock that strikes
one run in a thousand -- and how `run --lockorder` reports it on a run that
did not deadlock.

Go original: the classic bank transfer,

    func transfer(from, to *Account, amount int) {
        from.mu.Lock()
        defer from.mu.Unlock()
        to.mu.Lock()
        defer to.mu.Unlock()
        from.balance -= amount
        to.balance += amount
    }

transfer(a, b) locks a then b; a concurrent transfer(b, a) locks b then a.
If each takes its first lock before the other takes its second, both wait
forever. Most runs never hit that window, so tests pass. Lock-order
checking (Linux's lockdep, the order checks of Go's runtime) records, for
each goroutine, which locks it holds when it takes another; A-then-B here
and B-then-A there is a cycle in that order graph, a potential deadlock
whether or not this run deadlocked. `python -m goroutines run --lockorder`
prints `POTENTIAL DEADLOCK: lock order inversion` with the stacks of both
acquisitions as soon as it sees the cycle, and exits with status 3 at the
end. `run --race` checks the lock order too.

The fix: one global order for the locks (here: by account number), so every
goroutine takes them in the same order.

Shows: both transfers complete (the run does not deadlock); under
--lockorder the wrong one is reported, the right one is not.

Run: python examples/pitfall_lock_order.py
     python -m goroutines run --lockorder examples/pitfall_lock_order.py wrong
                              (the report on stderr, exit status 3)
     python -m goroutines run --lockorder examples/pitfall_lock_order.py right
                              (nothing reported, exit status 0)
"""

import sys

from goroutines import Mutex, WaitGroup, go


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.mu = Mutex()


def transfer_wrong(src: Account, dst: Account, amount: int) -> None:
    with src.mu:  # the order depends on the direction of the transfer
        with dst.mu:
            src.balance -= amount
            dst.balance += amount


def transfer_right(src: Account, dst: Account, amount: int) -> None:
    first, second = sorted((src, dst), key=lambda acc: acc.number)
    with first.mu:  # always the lower account number first
        with second.mu:
            src.balance -= amount
            dst.balance += amount


def both_ways(transfer: object) -> tuple[int, int]:
    a, b = Account(1, 100), Account(2, 100)
    wg = WaitGroup()
    wg.add(2)
    for src, dst in ((a, b), (b, a)):
        go(lambda s=src, d=dst: (transfer(s, d, 10), wg.done()))  # type: ignore[operator]
    wg.wait()
    return a.balance, b.balance


if __name__ == "__main__":
    which = sys.argv[1:]
    if which != ["right"]:
        print("WRONG: lock the source, then the destination:", both_ways(transfer_wrong))
    if which != ["wrong"]:
        print("RIGHT: lock by account number:", both_ways(transfer_right))

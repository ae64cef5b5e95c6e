"""Go by Example: WaitGroups, ported (https://gobyexample.com/waitgroups).

Shows: WaitGroup waits for a set of goroutines to finish. wg.go(f, arg)
(Go 1.25's wg.Go) counts the goroutine in and out for you; the classic
spelling is wg.add(1) before go(...) and wg.done() in a `finally:`, which is
Go's `defer wg.Done()`. Workers finish in any order.

Pass arguments to go()/wg.go() rather than closing over a loop variable:
a Python closure sees the variable, not its value at that moment (Go before
1.22 had the same trap).

Run: python examples/waitgroups.py
"""

from goroutines import WaitGroup, go, run, sleep


def worker(id: int) -> None:
    print(f"Worker {id} starting")
    sleep(0.1)  # an expensive task
    print(f"Worker {id} done")


def worker_done(id: int, wg: WaitGroup) -> None:
    try:
        worker(id)
    finally:
        wg.done()  # Go: defer wg.Done()


def main() -> None:
    wg = WaitGroup()
    for i in range(1, 6):
        wg.go(worker, i)  # Go 1.25: wg.Go(func() { worker(i) })
    wg.wait()

    print("-- again, with add/done --")
    for i in range(6, 9):
        wg.add(1)
        go(worker_done, i, wg)
    wg.wait()
    print("all workers done")


if __name__ == "__main__":
    run(main)

"""How lightweight is a goroutine here? Measure it on this machine.

Shows what "lightweight" costs in bytes and microseconds, next to an OS
thread, so the claim can be checked rather than believed:
  * memory of a goroutine that has not run yet (go() only queues it) and of
    one that has run and is parked on a channel, from the growth of the
    process's resident set size (RSS) over N goroutines, divided by N;
  * time to start a goroutine and let it finish (go() + run + exit), and
    one channel round trip between two goroutines (two switches);
  * the same for OS threads (threading.Thread), for comparison: an OS
    thread reserves its whole stack (usually 8 MiB) as virtual memory, and
    touches only a few pages of it.
Numbers vary with the machine, the Python version and the load; run it a
few times. Memory is read from /proc/self/statm (Linux); elsewhere the
memory lines say n/a.

Run: python examples/goroutine_cost.py [N]     (N defaults to 20,000)
"""

import os
import sys
import threading
import time

from goroutines import Chan, go, gosched, max_procs, num_goroutine, run

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def memory() -> tuple[int, int] | None:
    """(resident, virtual) bytes of this process, or None where unknown."""
    try:
        with open("/proc/self/statm") as f:
            size, resident = f.read().split()[:2]
    except OSError:
        return None
    return int(resident) * PAGE, int(size) * PAGE


def per_item(before: tuple[int, int] | None, after: tuple[int, int] | None, n: int) -> str:
    if before is None or after is None:
        return "n/a"
    resident = (after[0] - before[0]) / n / 1024
    virtual = (after[1] - before[1]) / n / 1024
    return f"{resident:7.1f} KiB resident, {virtual:7.1f} KiB virtual"


def measure_goroutines(n: int) -> None:
    # One P: gosched() below lets every queued goroutine run before main is
    # back, which the measurements rely on (with several Ps some could have
    # been handed to another thread, had this one looked stuck).
    max_procs(1)
    block = Chan[None]()  # never sent on: parks every goroutine

    before = memory()
    for _ in range(n):
        go(block.recv)
    queued = memory()
    gosched()  # main goes to the back of the run queue: all n run and park
    parked = memory()
    print(f"  memory, queued, not yet run {per_item(before, queued, n)}")
    print(f"  memory, started and parked  {per_item(before, parked, n)}")
    block.close()  # wake them all; they finish
    gosched()

    start = time.perf_counter()
    for _ in range(n):
        go(int)  # the cheapest function: start, run, exit
    gosched()  # they all run and exit before main is back
    spawn = (time.perf_counter() - start) / n
    assert num_goroutine() == 1
    print(f"  start + run + exit          {spawn * 1e6:7.1f} us")

    ping, pong = Chan[int](), Chan[int]()

    def echo() -> None:
        for v in ping:
            pong.send(v)

    go(echo)
    rounds = n
    start = time.perf_counter()
    for i in range(rounds):
        ping.send(i)
        pong.recv()
    trip = (time.perf_counter() - start) / rounds
    ping.close()
    print(f"  channel round trip          {trip * 1e6:7.1f} us (two switches)")


def measure_threads(n: int) -> None:
    block = threading.Event()
    before = memory()
    threads = [threading.Thread(target=block.wait) for _ in range(n)]
    for t in threads:
        t.start()
    parked = memory()
    print(f"  memory, started and blocked {per_item(before, parked, n)}")
    block.set()
    for t in threads:
        t.join()

    start = time.perf_counter()
    for _ in range(n):
        t = threading.Thread(target=int)
        t.start()
        t.join()
    print(f"  start + run + join          {(time.perf_counter() - start) / n * 1e6:7.1f} us")


def main(n: int) -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    threads = max(1, n // 20)
    print(f"OS threads (N = {threads:,}):")  # first, while the heap is fresh
    measure_threads(threads)
    print(f"goroutines (N = {n:,}):")
    measure_goroutines(n)


if __name__ == "__main__":
    run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)

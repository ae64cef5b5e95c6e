"""Iterating a dict while another goroutine writes it (fix: copy under the lock). (racy)"""

from goroutines import Mutex, WaitGroup, gosched

mu = Mutex()
table: dict[int, int] = {1: 1}


def writer() -> None:
    with mu:
        table[1] = 2


def dumper() -> None:
    snap = table
    for k in snap:
        gosched()
        print(k)


wg = WaitGroup()
wg.go(dumper)
wg.go(writer)
wg.wait()

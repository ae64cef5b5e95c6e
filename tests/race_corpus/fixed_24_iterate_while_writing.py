"""Iterating a dict while another goroutine writes it (fix: copy under the lock). (fixed)"""

from goroutines import Mutex, WaitGroup, gosched

mu = Mutex()
table: dict[int, int] = {1: 1}


def writer() -> None:
    with mu:
        table[1] = 2


def dumper() -> None:
    with mu:
        snap = dict(table)
    for k in snap:
        gosched()
        print(k)


wg = WaitGroup()
wg.go(dumper)
wg.go(writer)
wg.wait()

"""wg.Add called inside the goroutine, racing with wg.Wait. (fixed)"""

from goroutines import Chan, WaitGroup, go

results: list[int] = []
wg = WaitGroup()
finished: Chan[None] = Chan(1)


def worker() -> None:

    results.append(42)
    wg.done()
    finished.send(None)


wg.add(1)
go(worker)
wg.wait()
print(len(results))
finished.recv()

"""wg.Add called inside the goroutine, racing with wg.Wait. (racy)"""

from goroutines import Chan, WaitGroup, go

results: list[int] = []
wg = WaitGroup()
finished: Chan[None] = Chan(1)


def worker() -> None:
    wg.add(1)
    results.append(42)
    wg.done()
    finished.send(None)


go(worker)
wg.wait()
print(len(results))
finished.recv()

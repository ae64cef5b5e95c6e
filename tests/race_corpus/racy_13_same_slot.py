"""Two goroutines write the same element of a shared list (the fix writes distinct elements). (racy)"""

from goroutines import WaitGroup

results = [0, 0]


def work(i: int) -> None:
    results[0] = i + 1


wg = WaitGroup()
for i in range(2):
    wg.go(work, i)
wg.wait()
print(results)

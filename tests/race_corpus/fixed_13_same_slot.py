"""Two goroutines write the same element of a shared list (the fix writes distinct elements). (fixed)"""

from goroutines import WaitGroup

results = [0, 0]


def work(i: int) -> None:
    results[i] = i + 1


wg = WaitGroup()
for i in range(2):
    wg.go(work, i)
wg.wait()
print(results)

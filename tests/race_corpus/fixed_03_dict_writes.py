"""A dict written by several goroutines (Go: concurrent map writes). (fixed)"""

from goroutines import Mutex, WaitGroup

seen: dict[str, int] = {}
mu = Mutex()


def record(name: str) -> None:
    mu.lock()
    seen[name] = len(name)
    mu.unlock()


wg = WaitGroup()
for n in ("a", "bb", "ccc"):
    wg.go(record, n)
wg.wait()
print(sorted(seen))

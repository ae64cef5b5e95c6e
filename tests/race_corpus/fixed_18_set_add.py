"""A set updated by several goroutines. (fixed)"""

from goroutines import Mutex, WaitGroup

visited: set[str] = set()
mu = Mutex()


def visit(url: str) -> None:
    mu.lock()
    visited.add(url)
    mu.unlock()


wg = WaitGroup()
for u in ("a", "b", "c"):
    wg.go(visit, u)
wg.wait()
print(len(visited))

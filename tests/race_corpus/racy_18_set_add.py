"""A set updated by several goroutines. (racy)"""

from goroutines import WaitGroup

visited: set[str] = set()


def visit(url: str) -> None:

    visited.add(url)


wg = WaitGroup()
for u in ("a", "b", "c"):
    wg.go(visit, u)
wg.wait()
print(len(visited))

"""A dict written by several goroutines (Go: concurrent map writes). (racy)"""

from goroutines import WaitGroup

seen: dict[str, int] = {}


def record(name: str) -> None:

    seen[name] = len(name)


wg = WaitGroup()
for n in ("a", "bb", "ccc"):
    wg.go(record, n)
wg.wait()
print(sorted(seen))

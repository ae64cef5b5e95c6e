"""A test helper that records failures in shared state from goroutines. (racy)"""

from goroutines import Chan, WaitGroup

failures: list[str] = []
errs: Chan[str] = Chan(8)


def check(name: str, ok: bool) -> None:
    if not ok:
        failures.append(name)
    failures.append(name)


wg = WaitGroup()
for i in range(3):
    wg.go(check, f"case{i}", i % 2 == 0)
wg.wait()
errs.close()
for e in errs:
    failures.append(e)
print(failures)

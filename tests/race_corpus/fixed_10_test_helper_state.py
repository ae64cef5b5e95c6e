"""A test helper that records failures in shared state from goroutines. (fixed)"""

from goroutines import Chan, WaitGroup

failures: list[str] = []
errs: Chan[str] = Chan(8)


def check(name: str, ok: bool) -> None:
    if not ok:
        errs.send(name)


wg = WaitGroup()
for i in range(3):
    wg.go(check, f"case{i}", i % 2 == 0)
wg.wait()
errs.close()
for e in errs:
    failures.append(e)
print(failures)

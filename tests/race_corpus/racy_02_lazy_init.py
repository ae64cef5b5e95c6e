"""Check-then-act lazy initialization (Go: if instance == nil { instance = new() }). (racy)"""

from goroutines import WaitGroup, gosched


class Registry:
    instance: "Registry | None" = None

    def __init__(self) -> None:
        self.items: dict[str, int] = {}


def get() -> Registry:
    if Registry.instance is None:
        gosched()
        Registry.instance = Registry()
    return Registry.instance


wg = WaitGroup()
for _ in range(3):
    wg.go(lambda: get().items.get("x"))
wg.wait()

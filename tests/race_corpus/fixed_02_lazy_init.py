"""Check-then-act lazy initialization (Go: if instance == nil { instance = new() }). (fixed)"""

from goroutines import Once, WaitGroup


class Registry:
    instance: "Registry | None" = None

    def __init__(self) -> None:
        self.items: dict[str, int] = {}


_once = Once()


def _make() -> None:
    Registry.instance = Registry()


def get() -> Registry:
    _once.do(_make)
    assert Registry.instance is not None
    return Registry.instance


wg = WaitGroup()
for _ in range(3):
    wg.go(lambda: get().items.get("x"))
wg.wait()

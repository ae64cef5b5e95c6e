"""Unsafe publication: a flag set after the data, polled without synchronization. (racy)"""

from goroutines import Chan, go, gosched


class Config:
    def __init__(self) -> None:
        self.data: list[int] = []
        self.ready = False


cfg = Config()
ready: Chan[None] = Chan()


def load() -> None:
    cfg.data = [1, 2, 3]
    cfg.ready = True


go(load)
while not cfg.ready:
    gosched()
print(sum(cfg.data))

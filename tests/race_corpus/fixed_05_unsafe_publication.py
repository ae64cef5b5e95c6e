"""Unsafe publication: a flag set after the data, polled without synchronization. (fixed)"""

from goroutines import Chan, go


class Config:
    def __init__(self) -> None:
        self.data: list[int] = []
        self.ready = False


cfg = Config()
ready: Chan[None] = Chan()


def load() -> None:
    cfg.data = [1, 2, 3]
    ready.send(None)


go(load)
ready.recv()
print(sum(cfg.data))

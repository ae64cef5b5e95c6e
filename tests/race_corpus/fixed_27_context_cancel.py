"""A worker publishes its result and cancels a context; main reads after done() (racy: cancel before the write). (fixed)"""

from goroutines import go
from goroutines.context import CancelFunc, background, with_cancel


class State:
    result = 0


def worker(cancel: CancelFunc) -> None:
    State.result = 42
    cancel()


ctx, cancel = with_cancel(background())
go(worker, cancel)
ctx.done().recv()
print(State.result)

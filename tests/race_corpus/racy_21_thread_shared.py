"""A plain thread writes an attribute a goroutine reads (fix: join the thread first). (racy)"""

import threading

from goroutines import WaitGroup


class State:
    value = 0


def bump() -> None:
    State.value = 7


t = threading.Thread(target=bump)
t.start()

wg = WaitGroup()
wg.go(lambda: print(State.value))
wg.wait()
t.join()

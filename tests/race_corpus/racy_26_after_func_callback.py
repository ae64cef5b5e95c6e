"""A timer callback (after_func) writes state that main reads after a sleep (fix: a channel). (racy)"""

from goroutines import Chan, after_func, sleep


class State:
    fired = False


got: Chan[None] = Chan(1)


def on_timer() -> None:
    State.fired = True
    got.send(None)


after_func(0.001, on_timer)
sleep(0.05)
print(State.fired)

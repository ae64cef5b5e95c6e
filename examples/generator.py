"""Rob Pike, "Go Concurrency Patterns" (2012): the generator pattern.

Shows: a function that returns a channel. boring() starts a goroutine that
keeps sending messages and hands back the receive side: the channel is a
handle on a running service. With two such services, main receives from
them in lockstep, Joe then Ann. The pauses between messages come from a
seeded random generator, so the output is the same on every run.

Run: python examples/generator.py
"""

import random

from goroutines import Chan, RecvChan, go, run, sleep


def boring(msg: str, seed: int) -> RecvChan[str]:
    c = Chan[str]()
    rng = random.Random(seed)

    def speak() -> None:
        i = 0
        while True:
            c.send(f"{msg} {i}")
            sleep(rng.random() * 0.02)  # Pike: up to 1 s
            i += 1

    go(speak)
    return c.recv_only()  # the caller may only receive


def main() -> None:
    c = boring("boring!", seed=1)
    for _ in range(5):
        print(f"You say: {c.recv()!r}")
    print("You're boring; I'm leaving.")

    joe = boring("Joe", seed=2)
    ann = boring("Ann", seed=3)
    for _ in range(5):
        print(joe.recv())  # Joe and Ann take turns: each receive waits
        print(ann.recv())
    print("You're both boring; I'm leaving.")


if __name__ == "__main__":
    run(main)

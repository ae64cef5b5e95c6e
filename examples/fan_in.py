"""Rob Pike, "Go Concurrency Patterns" (2012): fan-in with select, timeouts
and a quit channel.

Shows, in four parts:
  1. fan-in: one goroutine selects over Joe's and Ann's channels and
     forwards whatever is ready, so whoever is ready speaks first;
  2. a timeout per message: select against a fresh after(d) each time;
  3. a timeout for the whole conversation: one after(d) made before the loop;
  4. a quit channel with a round trip: main says "Bye!", the speaker cleans
     up and answers "See you!" on the same channel.
Pauses come from seeded random generators; the interleaving of Joe and Ann
follows their timers, so each speaker's own messages are always in order.

Run: python examples/fan_in.py
"""

import random

from goroutines import Chan, RecvChan, after, go, recv, run, select, send, sleep


def boring(msg: str, seed: int, max_pause: float = 0.02) -> RecvChan[str]:
    c = Chan[str]()
    rng = random.Random(seed)

    def speak() -> None:
        i = 0
        while True:
            c.send(f"{msg} {i}")
            sleep(rng.random() * max_pause)
            i += 1

    go(speak)
    return c.recv_only()


def fan_in(input1: RecvChan[str], input2: RecvChan[str]) -> RecvChan[str]:
    c = Chan[str]()

    def forward() -> None:
        while True:
            match select(recv(input1), recv(input2)):
                case (_, s):
                    c.send(s)

    go(forward)  # one goroutine instead of one per input, thanks to select
    return c.recv_only()


def boring_until_quit(msg: str, quit: Chan[str]) -> RecvChan[str]:
    c = Chan[str]()

    def speak() -> None:
        i = 0
        while True:
            match select(send(c, f"{msg} {i}"), recv(quit)):
                case (0, _):
                    i += 1
                case (1, _):
                    print("(cleaning up)")
                    quit.send("See you!")
                    return

    go(speak)
    return c.recv_only()


def main() -> None:
    print("1. fan-in")
    c = fan_in(boring("Joe", seed=1), boring("Ann", seed=2))
    for _ in range(10):
        print(c.recv())
    print("You're both boring; I'm leaving.")

    print("2. timeout per message")
    c = boring("Joe", seed=3, max_pause=0.1)
    while True:
        match select(recv(c), recv(after(0.08))):
            case (0, s):
                print(s)
            case (1, _):
                print("You're too slow.")
                break

    print("3. timeout for the whole conversation")
    c = boring("Joe", seed=4, max_pause=0.05)
    timeout = after(0.2)
    while True:
        match select(recv(c), recv(timeout)):
            case (0, s):
                print(s)
            case (1, _):
                print("You talk too much.")
                break

    print("4. quit channel")
    quit = Chan[str]()
    c = boring_until_quit("Joe", quit)
    for _ in range(random.Random(5).randrange(2, 6)):
        print(c.recv())
    quit.send("Bye!")
    print("Joe says:", quit.recv())


if __name__ == "__main__":
    run(main)

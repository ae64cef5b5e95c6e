"""Go by Example: Timers, ported (https://gobyexample.com/timers).

Shows: Timer(d) delivers one value on timer.c after d seconds; unlike
sleep(d) it can be stopped before it fires. Timer 2 is stopped before its
0.1 s are up, so the goroutine waiting for it never prints. (Go's example
uses 2 s and 1 s.)

Run: python examples/timers.py
"""

from goroutines import Timer, go, run, sleep


def main() -> None:
    timer1 = Timer(0.2)
    timer1.c.recv()  # blocks until the timer fires
    print("Timer 1 fired")

    timer2 = Timer(0.1)

    def wait_for_timer2() -> None:
        timer2.c.recv()
        print("Timer 2 fired")

    go(wait_for_timer2)
    if timer2.stop():  # True: it had not fired yet
        print("Timer 2 stopped")

    sleep(0.2)  # time enough for timer 2 to have fired, had it not been stopped


if __name__ == "__main__":
    run(main)

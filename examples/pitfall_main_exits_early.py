"""Pitfall: main returns before its goroutine runs -- and the fix, a WaitGroup.

Go original: `go func() { fmt.Println("Hello from goroutine") }()` as the
last line of main, and its fix with `var wg sync.WaitGroup`, `wg.Add(1)`,
`defer wg.Done()` and `wg.Wait()`.

The classic first surprise. go() only
makes the new goroutine runnable; it runs when the scheduler gets to it. If
main returns first, the program is over: in Go the process exits, here
run() ends the leftover goroutines (and a plain script simply stops). So
"hello" is never printed, and nothing reports an error -- the runtime has
nothing to complain about. The dump taken just before main returns shows
the goroutine still [runnable], never started.

The fix is to wait for the goroutine: a WaitGroup (or a channel, as in
channel_synchronization.py). A sleep() "to give it time" is not a fix: it
is a guess that fails on a slow day.

Shows: a goroutine that never runs (and the dump that proves it), then the fix.

Run: python examples/pitfall_main_exits_early.py
"""

import textwrap

from goroutines import WaitGroup, dump, go, run


def say_hello() -> None:
    print("  hello from a goroutine")


def wrong_way() -> None:
    go(say_hello)
    print("  main returns now; the runtime's view at this moment:")
    print(textwrap.indent(dump(), "    ").rstrip())


def say_hello_then_done(wg: WaitGroup) -> None:
    try:
        say_hello()
    finally:
        wg.done()


def right_way() -> None:
    wg = WaitGroup()
    wg.add(1)
    go(say_hello_then_done, wg)
    wg.wait()  # main parks here, so the goroutine runs
    print("  main returns after the goroutine is done")


if __name__ == "__main__":
    print("WRONG: start a goroutine and return")
    run(wrong_way)
    print("  (no hello: the goroutine never ran)")
    print()
    print("RIGHT: start a goroutine and wait for it with a WaitGroup")
    run(right_way)

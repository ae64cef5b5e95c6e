"""Pitfall: a send on an unbuffered channel with no receiver blocks forever
-- and the fix, a receiver goroutine.

Go original: `ch := make(chan int); ch <- 1` in main, and its fix,
`go func() { fmt.Println(<-ch) }()` before the send.

An unbuffered channel is a rendezvous: a send completes only when a
receiver takes the value. With no other goroutine, main's send can never
complete. Go's runtime notices that every goroutine is asleep and stops the
program with "fatal error: all goroutines are asleep - deadlock!" and a dump
of every goroutine. goroutines does the same: the blocked call raises
Deadlock in the main goroutine, and its message carries the dump in Go's
layout (goroutine 1 [chan send]: ...).

The fix: someone must receive. Start the receiver first (or give the
channel a buffer, if a value may wait for its reader).

Shows: the Go-style fatal error and goroutine dump, then the fix.

Run: python examples/pitfall_deadlock.py         (both ways, Deadlock caught)
     python examples/pitfall_deadlock.py wrong   (only the wrong way, uncaught:
                                                  a Python traceback, exit 1)
     python -m goroutines run examples/pitfall_deadlock.py wrong
                                                 (the same as Go prints it:
                                                  "fatal error: ...", exit 2)
"""

import sys
import textwrap

from goroutines import Chan, Deadlock, go, run


def wrong_way() -> None:
    ch = Chan[int]()
    ch.send(1)  # nobody will ever receive: blocks forever
    print(ch.recv())


def right_way() -> None:
    ch = Chan[int]()
    done = Chan[None]()

    def receiver() -> None:
        print("  received", ch.recv())
        done.close()

    go(receiver)
    ch.send(1)  # the receiver is there to take it
    done.recv()


if __name__ == "__main__":
    if sys.argv[1:] == ["wrong"]:
        wrong_way()  # uncaught: the program dies of it (the implicit model, no run())
    print("WRONG: send on an unbuffered channel that nobody receives from")
    try:
        run(wrong_way)
    except Deadlock as e:
        print("  the runtime says:")
        print(textwrap.indent(str(e), "    ").rstrip())
    print()
    print("RIGHT: start a receiver goroutine first")
    run(right_way)

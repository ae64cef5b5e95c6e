"""A 30-second tour of goroutines, for a terminal (`make demo`).

Shows, one titled section at a time: a worker pool with a live progress
line, the concurrent prime sieve, fan-in with select and a timeout, the fake
Google Search with replicas, a daisy chain of 20,000 goroutines, a
deadlock caught with its Go-style goroutine dump, a panic delivered to the
main goroutine, and a pipeline cancelled through a context.

Run: python examples/showcase.py           (or: make demo)
     python examples/showcase.py --fast    (no pauses, no animation)
"""

from __future__ import annotations

import os
import random
import sys
import textwrap
import time

from goroutines import (
    Chan,
    Deadlock,
    GoroutinePanic,
    RecvChan,
    SendChan,
    WaitGroup,
    after,
    go,
    gosched,
    num_goroutine,
    recv,
    run,
    select,
    send,
    sleep,
)
from goroutines.context import Context, background, with_cancel

FAST = "--fast" in sys.argv[1:]
TTY = sys.stdout.isatty() and not FAST
COLOR = TTY and "NO_COLOR" not in os.environ


def style(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if COLOR else text


def bold(text: str) -> str:
    return style("1", text)


def dim(text: str) -> str:
    return style("2", text)


def green(text: str) -> str:
    return style("32", text)


def red(text: str) -> str:
    return style("31", text)


def cyan(text: str) -> str:
    return style("36", text)


def pause(seconds: float) -> None:
    """A breath between sections (a goroutine-friendly sleep)."""
    if not FAST:
        sleep(seconds)


def title(n: int, text: str, blurb: str) -> None:
    print()
    print(bold(f"{n}. {text}"))
    print(dim(textwrap.fill(blurb, 76, initial_indent="   ", subsequent_indent="   ")))
    pause(0.8)


# 1. A worker pool ---------------------------------------------------------


def worker_pool() -> None:
    title(1, "A worker pool",
          "8 worker goroutines share one jobs channel; each job sleeps 0.2-0.8 s "
          "(think: an HTTP call). The line below is redrawn by main while it "
          "waits on the results channel.")
    rng = random.Random(42)
    n_jobs, n_workers = 48, 8
    durations = [rng.uniform(0.2, 0.8) for _ in range(n_jobs)]
    jobs = Chan[int](n_jobs)
    results = Chan[tuple[int, int]]()
    busy = [False] * n_workers

    def worker(w: int) -> None:
        for j in jobs:
            busy[w] = True
            sleep(durations[j])
            busy[w] = False
            results.send((w, j))

    for w in range(n_workers):
        go(worker, w)
    for j in range(n_jobs):
        jobs.send(j)
    jobs.close()

    start = time.monotonic()
    done = 0
    while done < n_jobs:
        results.recv()
        done += 1
        if TTY:
            bar = "#" * (done * 30 // n_jobs)
            lights = "".join(green("*") if b else dim(".") for b in busy)
            sys.stdout.write(f"\r   [{bar:<30}] {done:2d}/{n_jobs} jobs   workers {lights}"
                             f"   {time.monotonic() - start:4.1f}s ")
            sys.stdout.flush()
    elapsed = time.monotonic() - start
    if TTY:
        print()
    print(f"   {n_jobs} jobs done in {elapsed:.1f}s by {n_workers} goroutines "
          f"(one after another: {sum(durations):.1f}s)")


# 2. The prime sieve ---------------------------------------------------------


def prime_sieve() -> None:
    title(2, "The concurrent prime sieve",
          "A generator goroutine sends 2, 3, 4, ...; every prime found adds a "
          "filter goroutine to the chain, dropping its multiples. Each number "
          "travels down a chain of goroutines over unbuffered channels.")

    def generate(ch: SendChan[int]) -> None:
        i = 2
        while True:
            ch.send(i)
            i += 1

    def sieve_filter(src: RecvChan[int], dst: SendChan[int], prime: int) -> None:
        for i in src:
            if i % prime:
                dst.send(i)

    before = num_goroutine()
    ch = Chan[int]()
    go(generate, ch)
    line: list[str] = []
    for _ in range(300):
        prime = ch.recv()
        assert prime is not None
        line.append(f"{prime:5d}")
        if len(line) == 15:
            print("  " + cyan("".join(line)))
            line = []
            pause(0.1)
        ch1 = Chan[int]()
        go(sieve_filter, ch, ch1, prime)
        ch = ch1
    print(f"   300 primes; {num_goroutine() - before} goroutines in the chain right now")


# 3. Fan-in with select and a timeout ------------------------------------------


def boring(name: str, seed: int) -> RecvChan[str]:
    c = Chan[str]()
    rng = random.Random(seed)

    def speak() -> None:
        i = 0
        while True:
            c.send(f"{name} {i}")
            sleep(rng.uniform(0.05, 0.35))
            i += 1

    go(speak)
    return c.recv_only()


def fan_in_with_timeout() -> None:
    title(3, "Fan-in with select, and a timeout",
          "Joe and Ann talk at random intervals. One goroutine selects over both "
          "channels and forwards whichever is ready; main listens for 1.5 s "
          "(one after() for the whole conversation), then leaves.")
    joe, ann = boring("Joe", 1), boring("Ann", 2)
    merged = Chan[str]()

    def fan_in() -> None:
        while True:
            _, msg = select(recv(joe), recv(ann))
            merged.send(msg)

    go(fan_in)
    timeout = after(1.5)
    start = time.monotonic()
    while True:
        match select(recv(merged), recv(timeout)):
            case (0, msg):
                who = green(msg) if msg.startswith("Joe") else cyan(msg)
                print(f"   {time.monotonic() - start:4.2f}s  {who}")
            case (1, _):
                print(f"   {time.monotonic() - start:4.2f}s  " + bold("You talk too much."))
                return


# 4. Google Search 3.0 ------------------------------------------------------------


def google_search() -> None:
    title(4, "Google Search 3.0: replicas, first response wins",
          "Three fake backends (web, image, video), two replicas each, every "
          "replica answering after a random 0-99 ms. Ask all six at once, keep "
          "the first answer per backend, give up on the rest after 80 ms.")
    rng = random.Random(85)  # seeded: search 2 loses a backend to the timeout

    def replica(kind: str, n: int, c: SendChan[str]) -> None:
        latency = rng.randrange(100)
        sleep(latency / 1000)
        c.send(f"{kind}{n} answered in {latency:2d} ms")

    def first(kind: str, out: SendChan[str]) -> None:
        c = Chan[str](2)  # room for the loser: it must not block forever
        go(replica, kind, 1, c)
        go(replica, kind, 2, c)
        out.send(c.recv() or "")

    for attempt in range(1, 4):
        results = Chan[str](3)
        for kind in ("web", "image", "video"):
            go(first, kind, results)
        timeout = after(0.08)
        start = time.monotonic()
        got = []
        for _ in range(3):
            match select(recv(results), recv(timeout)):
                case (0, r):
                    got.append(r)
                case (1, _):
                    break
        ms = (time.monotonic() - start) * 1000
        note = red(" (timed out)") if len(got) < 3 else ""
        print(f"   search {attempt}: {len(got)} results in {ms:3.0f} ms{note}")
        for r in got:
            print(f"      {r}")
        pause(0.5)


# 5. A daisy chain of goroutines ---------------------------------------------------


def daisy_chain() -> None:
    n = 20_000
    title(5, f"A daisy chain of {n:,} goroutines",
          "Each goroutine receives from its right neighbour, adds one and sends "
          "to its left. All of them exist at once, each parked on a channel. "
          "(examples/daisy_chain.py does it with 100,000.)")

    def whisper(left: SendChan[int], right: RecvChan[int]) -> None:
        value = right.recv()
        assert value is not None
        left.send(value + 1)

    start = time.monotonic()
    leftmost = Chan[int]()
    left = leftmost
    for _ in range(n):
        right = Chan[int]()
        go(whisper, left, right)
        left = right
    print(f"   {num_goroutine():,} goroutines alive (main included), "
          f"made in {time.monotonic() - start:.2f}s")
    go(right.send, 1)
    value = leftmost.recv()
    print(f"   the whisper arrives: {bold(str(value))}   "
          f"({time.monotonic() - start:.2f}s in all, {num_goroutine()} goroutine left)")


# 6. A deadlock, caught -----------------------------------------------------------


def forgot_to_close() -> None:
    jobs = Chan[int]()
    results = Chan[int]()

    def summer() -> None:
        total = 0
        for j in jobs:  # ends only when jobs is closed...
            total += j
        results.send(total)

    go(summer)
    for j in range(1, 4):
        jobs.send(j)
    # ...and we forgot jobs.close(): both goroutines now wait forever.
    print(results.recv())


def deadlock() -> None:
    title(6, "A deadlock, caught",
          "main sends three jobs to a summing goroutine and waits for the sum -- "
          "but forgets to close the jobs channel. Nothing can ever happen again; "
          "the runtime notices and raises Deadlock in main, with Go's message and "
          "a dump of every goroutine.")
    try:
        run(forgot_to_close)
    except Deadlock as e:
        for line in str(e).splitlines():
            colored = red(line) if "deadlock" in line or line.startswith("goroutine ") else line
            print("   " + colored if line else "")


# 7. A panic, delivered to main -------------------------------------------------


def panicking_main() -> None:
    wg = WaitGroup()

    def ratio(a: int, b: int) -> None:
        sleep(0.05)
        print(f"   {a} / {b} = {a / b}")

    for a, b in [(1, 2), (3, 4), (5, 0), (7, 8)]:
        wg.go(ratio, a, b)
    wg.wait()  # the panic is delivered here
    print("   (never reached)")


def panic_to_main() -> None:
    title(7, "A panic, delivered to main",
          "An exception that escapes a goroutine is never swallowed: it is "
          "raised in the main goroutine as GoroutinePanic, wherever main is "
          "waiting, with the original exception as its __cause__.")
    try:
        run(panicking_main)
    except GoroutinePanic as e:
        print("   " + red(f"GoroutinePanic: {e}"))
        print(f"   __cause__: {e.__cause__!r}, from goroutine {e.goroutine.id if e.goroutine else '?'}")


# 8. Cancellation with context ---------------------------------------------------


def stage(ctx: Context, inbound: RecvChan[int] | None, fn: object) -> RecvChan[int]:
    out = Chan[int]()
    assert callable(fn)

    def loop() -> None:
        try:
            source = inbound if inbound is not None else range(1, 1_000_000)
            for n in source:
                index, _ = select(send(out, fn(n)), recv(ctx.done()))
                if index == 1:
                    return
        finally:
            out.close()

    go(loop)
    return out.recv_only()


def cancellation() -> None:
    title(8, "Cancellation with context",
          "A three-stage pipeline (count, square, add one) could run for a "
          "million numbers. main takes five results and cancels the context: "
          "every stage sees ctx.done() and returns; no goroutine is left behind.")
    ctx, cancel = with_cancel(background())
    out = stage(ctx, stage(ctx, stage(ctx, None, lambda n: n), lambda n: n * n),
                lambda n: n + 1)
    taken = [out.recv() for _ in range(5)]
    print(f"   took {taken}; goroutines running: {num_goroutine()}")
    cancel()
    for _ in range(100):
        if num_goroutine() == 1:
            break
        gosched()
    print(f"   after cancel(): {num_goroutine()} goroutine, ctx.err() = {ctx.err()!r}")


def main() -> None:
    start = time.monotonic()
    print(bold("goroutines") + " -- Go's concurrency model, in Python. A tour in 8 parts.")
    for section in (worker_pool, prime_sieve, fan_in_with_timeout, google_search,
                    daisy_chain):
        run(section)
        pause(1.5)
    deadlock()
    pause(1.5)
    panic_to_main()
    pause(1.5)
    run(cancellation)
    print()
    print(bold(f"Done in {time.monotonic() - start:.0f}s.") +
          " Everything ran on one OS thread. More: examples/ and docs/guide.md")


if __name__ == "__main__":
    main()

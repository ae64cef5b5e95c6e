"""The Go blog, "Go Concurrency Patterns: Pipelines and cancellation"
(Sameer Ajmani, 2014), ported, with a Context for the cancellation.

Shows: a pipeline is stages connected by channels; each stage is a group of
goroutines that receive from upstream, work, and send downstream.
  gen(ctx, *nums)   sends the numbers, then closes its channel;
  sq(ctx, in)       squares what it receives (fan-out: two sq goroutines
                    read the same channel);
  merge(ctx, *cs)   fans the sq outputs back in onto one channel, and
                    closes it when all of them are done (a WaitGroup).
First the pipeline runs to the end. Then the consumer takes just one value
and walks away: cancelling the context makes every stage's pending send
give up (select on ctx.done()), so all its goroutines return instead of
blocking forever, and num_goroutine() drops back to 1.

Run: python examples/pipeline_cancellation.py
"""

from goroutines import (
    Chan,
    RecvChan,
    WaitGroup,
    go,
    gosched,
    num_goroutine,
    recv,
    run,
    select,
    send,
)
from goroutines.context import Context, background, with_cancel


def gen(ctx: Context, *nums: int) -> RecvChan[int]:
    out = Chan[int]()

    def emit() -> None:
        try:
            for n in nums:
                index, _ = select(send(out, n), recv(ctx.done()))
                if index == 1:
                    return  # cancelled: stop sending
        finally:
            out.close()

    go(emit)
    return out.recv_only()


def sq(ctx: Context, inbound: RecvChan[int]) -> RecvChan[int]:
    out = Chan[int]()

    def square() -> None:
        try:
            for n in inbound:
                index, _ = select(send(out, n * n), recv(ctx.done()))
                if index == 1:
                    return
        finally:
            out.close()

    go(square)
    return out.recv_only()


def merge(ctx: Context, *cs: RecvChan[int]) -> RecvChan[int]:
    out = Chan[int]()
    wg = WaitGroup()

    def forward(c: RecvChan[int]) -> None:
        for n in c:
            index, _ = select(send(out, n), recv(ctx.done()))
            if index == 1:
                return

    for c in cs:
        wg.go(forward, c)

    def close_when_done() -> None:
        wg.wait()
        out.close()

    go(close_when_done)
    return out.recv_only()


def main() -> None:
    print("run to the end:")
    ctx = background()  # never cancelled
    source = gen(ctx, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    out = merge(ctx, sq(ctx, source), sq(ctx, source))  # fan-out, then fan-in
    print("  sum of squares:", sum(out))
    print("  goroutines left:", num_goroutine())

    print("take one value, then cancel:")
    ctx, cancel = with_cancel(background())
    source = gen(ctx, *range(1, 1001))
    out = merge(ctx, sq(ctx, source), sq(ctx, source))
    print("  first value:", out.recv())
    print("  goroutines running:", num_goroutine())
    cancel()  # tell every stage to stop
    for _ in range(100):  # let them notice and return
        if num_goroutine() == 1:
            break
        gosched()
    print("  goroutines after cancel:", num_goroutine())
    print("  ctx.err():", repr(ctx.err()))


if __name__ == "__main__":
    run(main)

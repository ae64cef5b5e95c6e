"""Go by Example: Context, ported without HTTP (https://gobyexample.com/context).

Shows: a Context carries cancellation (and deadlines, and request-scoped
values) to the goroutine doing the work. The original is an HTTP handler
that waits 10 s to answer and gives up when the client hangs up; here the
"server" is a goroutine, and the "client" hangs up by calling cancel(). A
second request gets a deadline instead (with_timeout) and a request id
(with_value).

Run: python examples/context.py
"""

from goroutines import Chan, SendChan, WaitGroup, after, recv, run, select, sleep
from goroutines.context import Context, background, with_cancel, with_timeout, with_value

REQUEST_ID = object()  # a private key, like Go's unexported key type


def hello(ctx: Context, reply: SendChan[str]) -> None:
    print("server: hello handler started, request", ctx.value(REQUEST_ID))
    try:
        match select(recv(after(10)), recv(ctx.done())):
            case (0, _):
                reply.send("hello")
            case (1, _):
                print("server:", ctx.err())
    finally:
        print("server: hello handler ended")  # Go: defer fmt.Println(...)


def main() -> None:
    wg = WaitGroup()
    reply = Chan[str](1)

    ctx, cancel = with_cancel(with_value(background(), REQUEST_ID, 1))
    wg.go(hello, ctx, reply)
    sleep(0.1)
    print("client: hanging up")  # in Go: Ctrl-C on curl
    cancel()
    wg.wait()

    ctx, cancel = with_timeout(with_value(background(), REQUEST_ID, 2), 0.1)
    wg.go(hello, ctx, reply)
    wg.wait()
    cancel()  # always call cancel: it releases the context's timer


if __name__ == "__main__":
    run(main)

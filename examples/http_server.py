"""An HTTP/1.1 keep-alive server and client on h11, with a graceful
shutdown through a context (Go's http.Server.Shutdown).

Shows: one goroutine per connection driving an h11 state machine over a
goroutines.net Conn, several requests on one kept-alive connection, and a
shutdown that stops accepting, closes idle connections at once, and lets a
request in flight finish (its response says ``Connection: close``) before
the server returns. The client is h11 too.

Run: python examples/http_server.py
"""

import h11

from goroutines import Mutex, WaitGroup, context, net, run, sleep


def respond(path: str) -> tuple[int, bytes]:
    if path == "/":
        return 200, b"hello, world\n"
    if path == "/slow":
        sleep(0.2)  # a request still running when the shutdown starts
        return 200, b"finished despite the shutdown\n"
    return 404, b"not found\n"


def serve_conn(conn: net.Conn, ctx: context.Context) -> None:
    h = h11.Connection(h11.SERVER)
    mu = Mutex()
    idle = [True]  # between requests (guarded by mu)

    def close_if_idle() -> None:
        with mu:
            if idle[0]:
                conn.close()  # an idle connection goes at once

    stop = context.after_func(ctx, close_if_idle)
    try:
        while True:
            if h.our_state is h11.MUST_CLOSE:
                return
            if h.our_state is h11.DONE and h.their_state is h11.DONE:
                h.start_next_cycle()  # keep-alive: ready for the next request
                with mu:
                    if ctx.err() is not None:
                        return  # shutting down: no next request
                    idle[0] = True
            event = h.next_event()
            if event is h11.NEED_DATA:
                try:
                    data = conn.read(65536)
                except net.NetClosedError:
                    return
                h.receive_data(data)
            elif isinstance(event, h11.Request):
                with mu:
                    idle[0] = False
                status, body = respond(event.target.decode())
                headers = [("content-type", "text/plain"), ("content-length", str(len(body)))]
                if ctx.err() is not None:
                    headers.append(("connection", "close"))
                conn.write(h.send(h11.Response(status_code=status, headers=headers)))
                conn.write(h.send(h11.Data(data=body)))
                conn.write(h.send(h11.EndOfMessage()))
            elif isinstance(event, h11.ConnectionClosed):
                return
    except h11.RemoteProtocolError:
        pass
    finally:
        stop()
        conn.close()


def serve(ln: net.Listener, ctx: context.Context, wg: WaitGroup) -> None:
    context.after_func(ctx, ln.close)  # shutdown: stop accepting
    while True:
        try:
            conn = ln.accept()
        except net.NetClosedError:
            return
        wg.go(serve_conn, conn, ctx)


class Client:
    """An HTTP/1.1 client on one kept-alive connection."""

    def __init__(self, addr: object) -> None:
        self.conn = net.dial("tcp", addr)  # type: ignore[arg-type]
        self.h = h11.Connection(h11.CLIENT)

    def get(self, path: str) -> tuple[int, bytes, bool]:
        if self.h.our_state is h11.DONE:
            self.h.start_next_cycle()
        req = h11.Request(method="GET", target=path, headers=[("host", "example")])
        self.conn.write(self.h.send(req) + self.h.send(h11.EndOfMessage()))
        status, body = 0, b""
        while True:
            event = self.h.next_event()
            if event is h11.NEED_DATA:
                self.h.receive_data(self.conn.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, body, self.h.our_state is h11.MUST_CLOSE

    def idle_closed(self) -> bool:
        """Whether the server closed this (idle) connection."""
        return self.conn.read(1) == b""


def main() -> None:
    ctx, shutdown = context.with_cancel(context.background())
    ln = net.listen("tcp", "127.0.0.1:0")
    wg = WaitGroup()
    wg.go(serve, ln, ctx, wg)

    keep = Client(ln.addr)
    for path in ["/", "/", "/missing"]:
        status, body, closing = keep.get(path)
        print(f"GET {path} -> {status} {body!r} (keep-alive: {not closing})")

    slow = Client(ln.addr)
    result: list[tuple[int, bytes, bool]] = []
    done = WaitGroup()
    done.go(lambda: result.append(slow.get("/slow")))
    sleep(0.05)  # the slow request is in flight
    shutdown()
    wg.wait()  # the server returns once the slow request is answered
    done.wait()
    status, body, closing = result[0]
    print(f"GET /slow -> {status} {body!r} (connection: {'close' if closing else 'keep-alive'})")
    print("idle connection closed by the shutdown:", keep.idle_closed())
    print("server stopped")
    try:
        net.dial("tcp", ln.addr).close()
        print("still accepting?!")
    except ConnectionRefusedError:
        print("new connections refused")


if __name__ == "__main__":
    run(main)

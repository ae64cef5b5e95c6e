"""A TCP proxy: two copy goroutines per connection, and half-close.

Shows: a proxy that accepts a client, dials the backend, and runs one
goroutine per direction, each ``net.copy`` from one side to the other; when
a side ends its stream, the copy half-closes the other side
(``close_write``), so a request-then-reply protocol sees the end of the
request while its reply still flows back. The backend here upper-cases what
it reads; the client sends 1 MB, half-closes, and reads the reply.

Run: python examples/tcp_proxy.py
"""

import hashlib

from goroutines import Chan, WaitGroup, go, net, run


def backend(ln: net.Listener) -> None:
    """Read the whole request, then answer it upper-cased (a reply that
    needs the end of the request: only a half-close delivers it)."""
    while True:
        try:
            conn = ln.accept()
        except net.NetClosedError:
            return

        def handle(c: net.Conn) -> None:
            with c:
                request = bytearray()
                while data := c.read(65536):
                    request += data
                c.write(bytes(request).upper())

        go(handle, conn)


def pipe(dst: net.Conn, src: net.Conn, moved: Chan[int]) -> None:
    n = net.copy(dst, src)
    dst.close_write()  # src ended its stream: pass the end on
    moved.send(n)


def proxy(front: net.Listener, backend_addr: object, moved: Chan[int]) -> None:
    while True:
        try:
            client = front.accept()
        except net.NetClosedError:
            return

        def connect(client: net.Conn) -> None:
            with client, net.dial("tcp", backend_addr) as upstream:  # type: ignore[arg-type]
                wg = WaitGroup()
                wg.go(pipe, upstream, client, moved)
                wg.go(pipe, client, upstream, moved)
                wg.wait()

        go(connect, client)


def main() -> None:
    back = net.listen("tcp", "127.0.0.1:0")
    front = net.listen("tcp", "127.0.0.1:0")
    moved = Chan[int](2)
    go(backend, back)
    go(proxy, front, back.addr, moved)

    request = b"hello through the proxy; " * 40_000  # 1 MB
    with net.dial("tcp", front.addr) as c:
        reply: Chan[bytes] = Chan(1)

        def read_reply() -> None:
            parts = []
            while data := c.read(65536):
                parts.append(data)
            reply.send(b"".join(parts))

        go(read_reply)
        c.write(request)
        c.close_write()
        answer = reply.recv() or b""
    print("request bytes:", len(request))
    print("reply bytes:  ", len(answer))
    print("reply is the request upper-cased:",
          hashlib.sha256(answer).digest() == hashlib.sha256(request.upper()).digest())
    print("bytes moved each way:", sorted([moved.recv() or 0, moved.recv() or 0]))
    front.close()
    back.close()


if __name__ == "__main__":
    run(main)

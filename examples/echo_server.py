"""An echo server and its clients, written the Go way with goroutines.net.

Shows: a TCP server that accepts connections in a loop and serves each in a
goroutine of its own, with code that reads as if it blocked (the netpoller
parks each goroutine until its socket is ready); 20 clients talking to it at
once, each checking that every message comes back; closing the listener to
stop the server (``accept`` raises NetClosedError, the loop ends).

Run: python examples/echo_server.py            (the demo: server and clients)
     python examples/echo_server.py :7000      (just the server, until Ctrl-C)
"""

import sys

from goroutines import Chan, WaitGroup, go, net, run


def handle(conn: net.Conn) -> None:
    """Echo everything back until the client half-closes, then half-close."""
    with conn:
        while data := conn.read(4096):
            conn.write(data)
        conn.close_write()


def serve(ln: net.Listener) -> None:
    while True:
        try:
            conn = ln.accept()
        except net.NetClosedError:
            return  # ln.close(): shut down
        go(handle, conn)


def client(addr: object, k: int, results: Chan[str]) -> None:
    with net.dial("tcp", addr) as c:  # type: ignore[arg-type]
        for i in range(10):
            msg = f"client {k} message {i}\n".encode()
            c.write(msg)
            got = b""
            while len(got) < len(msg):
                got += c.read(len(msg) - len(got))
            assert got == msg, (got, msg)
        c.close_write()
        assert c.read(100) == b""  # the server half-closed in turn
    results.send(f"client {k:2d}: 10 round trips ok")


def main() -> None:
    if len(sys.argv) > 1:
        ln = net.listen("tcp", sys.argv[1])
        print("echo server on", ln.addr)
        serve(ln)
        return
    ln = net.listen("tcp", "127.0.0.1:0")
    go(serve, ln)
    results = Chan[str](20)
    wg = WaitGroup()
    for k in range(20):
        wg.go(client, ln.addr, k, results)
    wg.wait()
    results.close()
    for line in sorted(results):
        print(line)
    ln.close()
    print("server stopped")


if __name__ == "__main__":
    run(main)

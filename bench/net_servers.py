"""The servers of the network benchmarks, one per runtime, each written the way
that runtime's documentation shows: echo servers (W13 echo, W15 idle
connections) and keep-alive hello-world HTTP/1.1 servers (W14, ``http-*``).

    python bench/net_servers.py RUNTIME

starts the server on 127.0.0.1, prints its port on one line, and serves until
killed. Every server reads up to 64 KiB and writes back what it read, one
task (goroutine, greenlet, thread) per connection, except ``uvloop-protocol``
(callbacks: asyncio's Protocol API, the fastest way to write a server on
uvloop, a ceiling rather than a peer).
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable

BUF = 65536
BACKLOG = 4096


def raise_nofile() -> None:
    """Soft open-files limit up to the hard one (10,000 connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        new = hard if hard != resource.RLIM_INFINITY else 65536
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def announce(port: int) -> None:
    print(port, flush=True)


def goroutines_server() -> None:
    from goroutines import go, net, run

    def handle(c: net.Conn) -> None:
        with c:
            while data := c.read(BUF):
                c.write(data)

    def main() -> None:
        ln = net.listen("tcp", "127.0.0.1:0", backlog=BACKLOG)
        announce(ln.addr[1])
        while True:
            go(handle, ln.accept())

    run(main)


def _asyncio_streams(runner: Callable[..., object]) -> None:
    import asyncio

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(BUF):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=BACKLOG)
        announce(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    runner(main())


def asyncio_server() -> None:
    import asyncio

    _asyncio_streams(asyncio.run)


def uvloop_server() -> None:
    import uvloop

    _asyncio_streams(uvloop.run)


def uvloop_protocol_server() -> None:
    import asyncio

    import uvloop

    class Echo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]

        def data_received(self, data: bytes) -> None:
            self.transport.write(data)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=BACKLOG)
        announce(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    uvloop.run(main())


def gevent_server() -> None:
    from gevent.server import StreamServer

    def handle(sock: object, addr: object) -> None:
        recv = sock.recv  # type: ignore[attr-defined]
        sendall = sock.sendall  # type: ignore[attr-defined]
        while data := recv(BUF):
            sendall(data)

    server = StreamServer(("127.0.0.1", 0), handle, backlog=BACKLOG)
    server.start()
    announce(server.address[1])
    server.serve_forever()


def trio_server() -> None:
    import trio

    async def handle(stream: trio.SocketStream) -> None:
        try:
            async for data in stream:
                await stream.send_all(data)
        except trio.BrokenResourceError:
            pass

    async def main() -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1", backlog=BACKLOG)
        announce(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(handle, listeners)

    trio.run(main)


def threads_server() -> None:
    import socketserver

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            recv = self.request.recv
            sendall = self.request.sendall
            while data := recv(BUF):
                sendall(data)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = BACKLOG

    with Server(("127.0.0.1", 0), Handler) as server:
        announce(server.server_address[1])
        server.serve_forever()


# ---------------------------------------------------------------------------
# W14: a keep-alive hello-world HTTP/1.1 server per runtime

BODY = b"Hello, World!"
HEADERS = [("content-type", "text/plain"), ("content-length", str(len(BODY)))]


def listening_socket() -> object:
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(BACKLOG)
    announce(sock.getsockname()[1])
    return sock


def http_goroutines_server() -> None:
    import h11

    from goroutines import go, net, run

    def handle(c: net.Conn) -> None:
        h = h11.Connection(h11.SERVER)
        with c:
            while True:
                ev = h.next_event()
                if ev is h11.NEED_DATA:
                    try:
                        data = c.read(BUF)
                    except ConnectionResetError:
                        return  # wrk resets its connections when it stops
                    h.receive_data(data)
                elif type(ev) is h11.Request:
                    c.write(h.send(h11.Response(status_code=200, headers=HEADERS))
                            + h.send(h11.Data(data=BODY)) + h.send(h11.EndOfMessage()))
                elif type(ev) is h11.EndOfMessage:
                    if h.our_state is h11.DONE:
                        h.start_next_cycle()
                else:
                    return  # ConnectionClosed, or PAUSED with nothing to do

    def main() -> None:
        ln = net.listen("tcp", "127.0.0.1:0", backlog=BACKLOG)
        announce(ln.addr[1])
        while True:
            go(handle, ln.accept())

    run(main)


def http_goroutines_httptools_server() -> None:
    import httptools

    from goroutines import go, net, run

    response = (b"HTTP/1.1 200 OK\r\n"
                + b"".join(f"{k}: {v}\r\n".encode() for k, v in HEADERS) + b"\r\n" + BODY)

    class Requests:
        __slots__ = ("complete",)

        def __init__(self) -> None:
            self.complete = 0

        def on_message_complete(self) -> None:
            self.complete += 1

    def handle(c: net.Conn) -> None:
        requests = Requests()
        parser = httptools.HttpRequestParser(requests)
        with c:
            while True:
                try:
                    data = c.read(BUF)
                except ConnectionResetError:
                    return
                if not data:
                    return
                try:
                    parser.feed_data(data)
                except httptools.HttpParserError:
                    return
                if requests.complete:
                    c.write(response * requests.complete)
                    requests.complete = 0
                    if not parser.should_keep_alive():
                        return

    def main() -> None:
        ln = net.listen("tcp", "127.0.0.1:0", backlog=BACKLOG)
        announce(ln.addr[1])
        while True:
            go(handle, ln.accept())

    run(main)


def http_gevent_server() -> None:
    from gevent.pywsgi import WSGIServer

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", HEADERS)
        return [BODY]

    server = WSGIServer(("127.0.0.1", 0), app, log=None, backlog=BACKLOG)
    server.start()
    announce(server.server_port)
    server.serve_forever()


async def _asgi_app(scope: dict[str, object], receive: Callable[..., object],
                    send: Callable[..., object]) -> None:
    await send({"type": "http.response.start", "status": 200,  # type: ignore[misc]
                "headers": [(k.encode(), v.encode()) for k, v in HEADERS]})
    await send({"type": "http.response.body", "body": BODY})  # type: ignore[misc]


def _uvicorn(http: str) -> None:
    import uvicorn

    sock = listening_socket()
    config = uvicorn.Config(_asgi_app, loop="uvloop", http=http, log_level="error",
                            access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])  # type: ignore[list-item]


def http_uvicorn_server() -> None:
    _uvicorn("httptools")


def http_uvicorn_h11_server() -> None:
    _uvicorn("h11")


def http_aiohttp_server() -> None:
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, sock=listening_socket(), print=None, access_log=None)  # type: ignore[arg-type]


def http_trio_server() -> None:
    import h11
    import trio

    async def handle(stream: trio.SocketStream) -> None:
        h = h11.Connection(h11.SERVER)
        try:
            while True:
                ev = h.next_event()
                if ev is h11.NEED_DATA:
                    h.receive_data(await stream.receive_some(BUF))
                elif type(ev) is h11.Request:
                    await stream.send_all(
                        h.send(h11.Response(status_code=200, headers=HEADERS))
                        + h.send(h11.Data(data=BODY)) + h.send(h11.EndOfMessage()))
                elif type(ev) is h11.EndOfMessage:
                    if h.our_state is h11.DONE:
                        h.start_next_cycle()
                else:
                    return
        except trio.BrokenResourceError:
            pass

    async def main() -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1", backlog=BACKLOG)
        announce(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(handle, listeners)

    trio.run(main)


SERVERS: dict[str, Callable[[], None]] = {
    "goroutines": goroutines_server,
    "goroutines-pure": goroutines_server,  # run with GOROUTINES_PURE=1
    "goroutines-nonetport": goroutines_server,  # run with GOROUTINES_PURE=net,netpoll
    "asyncio": asyncio_server,
    "uvloop": uvloop_server,
    "uvloop-protocol": uvloop_protocol_server,
    "gevent": gevent_server,
    "trio": trio_server,
    "threads": threads_server,
    "http-goroutines": http_goroutines_server,
    "http-goroutines-httptools": http_goroutines_httptools_server,
    "http-gevent": http_gevent_server,
    "http-uvicorn": http_uvicorn_server,
    "http-uvicorn-h11": http_uvicorn_h11_server,
    "http-aiohttp": http_aiohttp_server,
    "http-trio": http_trio_server,
}

if __name__ == "__main__":
    raise_nofile()
    SERVERS[sys.argv[1]]()

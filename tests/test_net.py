"""goroutines.net: listeners, connections, packet connections, deadlines,
close, half-close, errors, concurrency. Loopback only."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import goroutines
from _synctest import Thread, wait_blocked
from goroutines import Chan, WaitGroup, go, gosched, net, now, sleep
from goroutines import context as gcontext
from goroutines.errors import Deadlock, GoroutinePanic
from goroutines.net import Conn, DeadlineExceeded, Listener, NetClosedError


def has_ipv6() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def echo_server(ln: Listener) -> None:
    """Serve ln: echo every connection until its end of stream, then
    half-close; return when ln is closed."""

    def handle(c: Conn) -> None:
        with c:
            while True:
                try:
                    data = c.read(65536)
                except (ConnectionResetError, NetClosedError):
                    return
                if not data:
                    c.close_write()
                    return
                c.write(data)

    while True:
        try:
            c = ln.accept()
        except NetClosedError:
            return
        go(handle, c)


def read_exactly(c: Conn, n: int) -> bytes:
    parts = []
    while n:
        data = c.read(n)
        assert data, "unexpected end of stream"
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def read_all(c: Conn) -> bytes:
    parts = []
    while data := c.read(65536):
        parts.append(data)
    return b"".join(parts)


def serve(network: str = "tcp", address: str = "127.0.0.1:0") -> Listener:
    ln = net.listen(network, address)
    go(echo_server, ln)
    return ln


# ---------------------------------------------------------------------------
# listen, dial, accept, addresses


@pytest.mark.parametrize(
    "network,address",
    [("tcp", "127.0.0.1:0"), ("tcp4", ":0"), ("tcp", ("127.0.0.1", 0)), ("tcp", "localhost:0")],
)
def test_echo_round_trips(network: str, address: Any) -> None:
    def main() -> None:
        with serve(network, address) as ln:
            host, port = ln.addr[:2]
            assert port != 0
            if host in ("0.0.0.0", "::"):
                host = "127.0.0.1"
            with net.dial("tcp", net.join_host_port(host, port)) as c:
                for i in range(50):
                    msg = f"message {i}".encode()
                    assert c.write(msg) == len(msg)
                    assert read_exactly(c, len(msg)) == msg

    goroutines.run(main)


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
@pytest.mark.parametrize("address", ["[::1]:0", ("::1", 0)])
def test_ipv6_loopback(address: Any) -> None:
    def main() -> None:
        with net.listen("tcp6", address) as ln:
            go(echo_server, ln)
            host, port = ln.addr[:2]
            assert host == "::1"
            with net.dial("tcp6", net.join_host_port(host, port)) as c:
                assert c.remote_addr[:2] == ("::1", port)
                c.write(b"six")
                assert read_exactly(c, 3) == b"six"

    goroutines.run(main)


def test_unix_socket_round_trip_and_its_file_goes_with_the_listener() -> None:
    def main() -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sock")
            ln = net.listen("unix", path)
            go(echo_server, ln)
            assert ln.addr == path and os.path.exists(path)
            with net.dial("unix", path) as c:
                assert c.remote_addr == path
                c.write(b"unix")
                c.close_write()
                assert read_all(c) == b"unix"
            ln.close()
            assert not os.path.exists(path)

    goroutines.run(main)


def test_conn_addresses_match_both_ends() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            accepted: Chan[Conn] = Chan(1)
            go(lambda: accepted.send(ln.accept()))
            c = net.dial("tcp", ln.addr)
            s = accepted.recv()
            assert s is not None
            with c, s:
                assert c.remote_addr == ln.addr == s.local_addr
                assert s.remote_addr == c.local_addr
                assert isinstance(c.fileno(), int) and c.fileno() >= 0
                assert c.fileno() != s.fileno()
                nodelay = socket.socket(fileno=os.dup(c.fileno()))
                with nodelay:
                    assert nodelay.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                assert "Conn" in repr(c)
            assert c.fileno() == -1
            assert "closed" in repr(c)

    goroutines.run(main)


def test_dial_resolves_names_on_a_helper_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    real = net._getaddrinfo
    lookups: list[int] = []

    def slow_getaddrinfo(*args: Any) -> Any:
        if args[0] != "localhost":
            return real(*args)  # literals are parsed in place
        lookups.append(threading.get_ident())
        time.sleep(0.05)  # a slow resolver: blocks its thread, not the P
        return real(*args)

    monkeypatch.setattr(net._addr, "_getaddrinfo", slow_getaddrinfo)

    def main() -> None:
        with serve() as ln:
            ticks = [0]

            def ticker() -> None:
                while ticks[0] < 10_000:
                    ticks[0] += 1
                    gosched()

            go(ticker)
            with net.dial("tcp", f"localhost:{ln.addr[1]}") as c:
                c.write(b"named")
                assert read_exactly(c, 5) == b"named"
            assert ticks[0] > 0, "the P was blocked during the lookup"
            assert lookups and lookups[0] != threading.get_ident()
            ticks[0] = 10_000

    goroutines.run(main)


# ---------------------------------------------------------------------------
# read, write, close, half-close


def test_read_returns_empty_at_end_of_stream_and_for_zero() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            assert c.read(0) == b""
            c.write(b"abc")
            c.close_write()  # the server echoes, then half-closes
            assert read_all(c) == b"abc"
            assert c.read(10) == b""
            assert c.read(10) == b""

    goroutines.run(main)


def test_half_close_lets_the_other_direction_go_on() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            got: Chan[bytes] = Chan(1)

            def server() -> None:
                s = ln.accept()
                with s:
                    data = read_all(s)  # until the client's close_write
                    s.write(b"reply to " + data)
                    got.send(data)

            go(server)
            with net.dial("tcp", ln.addr) as c:
                c.write(b"question")
                c.close_write()
                assert got.recv() == b"question"
                assert read_all(c) == b"reply to question"
                with pytest.raises(BrokenPipeError) as ei:
                    c.write(b"more")  # after close_write: EPIPE
                assert ei.value.written == 0  # type: ignore[attr-defined]

    goroutines.run(main)


def test_read_into_fills_a_buffer() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            c.write(bytearray(b"into"))
            buf = bytearray(10)
            n = 0
            while n < 4:
                n += c.read_into(memoryview(buf)[n:])
            assert bytes(buf[:4]) == b"into"

    goroutines.run(main)


def test_close_is_idempotent_and_later_operations_raise_net_closed() -> None:
    def main() -> None:
        with serve() as ln:
            c = net.dial("tcp", ln.addr)
            c.close()
            c.close()
            with pytest.raises(NetClosedError) as ei:
                c.write(b"x")
            assert ei.value.written == 0  # type: ignore[attr-defined]
            for op in (
                lambda: c.read(1),
                lambda: c.write(b"x"),
                lambda: c.close_write(),
                lambda: c.set_deadline(None),
                lambda: c.read_into(bytearray(1)),
            ):
                with pytest.raises(NetClosedError, match="use of closed network connection"):
                    op()
            assert isinstance(NetClosedError(), OSError)
        with pytest.raises(NetClosedError):
            ln.accept()

    goroutines.run(main)


def test_large_write_with_a_slow_reader_arrives_whole() -> None:
    size = 64 << 20

    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            digest: Chan[tuple[int, str]] = Chan(1)

            def slow_reader() -> None:
                with ln.accept() as s:
                    h = hashlib.sha256()
                    n = 0
                    reads = 0
                    while data := s.read(256 << 10):
                        h.update(data)
                        n += len(data)
                        reads += 1
                        if reads % 16 == 0:
                            sleep(0.001)  # slower than the writer
                    digest.send((n, h.hexdigest()))

            go(slow_reader)
            payload = random.Random(7).randbytes(size)
            with net.dial("tcp", ln.addr) as c:
                assert c.write(payload) == size
                c.close_write()
                n, hexd = digest.recv() or (0, "")
            assert n == size
            assert hexd == hashlib.sha256(payload).hexdigest()

    goroutines.run(main)


def test_concurrent_writes_never_interleave() -> None:
    writers, block = 8, 200_000

    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            got: Chan[bytes] = Chan(1)
            go(lambda: got.send(read_all(ln.accept())))
            with net.dial("tcp", ln.addr) as c:
                wg = WaitGroup()
                for k in range(writers):
                    wg.go(c.write, bytes([65 + k]) * block)
                wg.wait()
                c.close_write()
                data = got.recv() or b""
        assert len(data) == writers * block
        for i in range(writers):
            chunk = data[i * block : (i + 1) * block]
            assert chunk == chunk[:1] * block, f"write {i} interleaved with another"
        assert sorted(data[i * block] for i in range(writers)) == list(range(65, 65 + writers))

    goroutines.run(main)


def test_concurrent_reads_are_served_one_at_a_time() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            out: Chan[bytes] = Chan(4)
            gs = [go(lambda: out.send(c.read(1))) for _ in range(4)]
            # One reader waits in the netpoller, the others for the read lock.
            for g in gs:
                wait_blocked(g, "IO wait" if g is gs[0] else "semacquire")
            c.write(b"abcd")
            got = sorted((out.recv() or b"") for _ in range(4))
            assert got == [b"a", b"b", b"c", b"d"]

    goroutines.run(main)


# ---------------------------------------------------------------------------
# close wakes whoever is blocked


def test_close_wakes_readers_writers_and_lock_waiters() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            peer: Chan[Conn] = Chan(1)
            go(lambda: peer.send(ln.accept()))
            c = net.dial("tcp", ln.addr)
            s = peer.recv()
            assert s is not None
            errs: Chan[BaseException | None] = Chan(10)

            def attempt(fn: Callable[[], object]) -> None:
                try:
                    fn()
                    errs.send(None)
                except BaseException as e:
                    errs.send(e)

            readers = [go(attempt, lambda: c.read(10)) for _ in range(3)]
            writer = go(attempt, lambda: c.write(b"x" * (64 << 20)))  # fills both buffers
            wait_blocked(writer, "IO wait")
            for g in readers:
                wait_blocked(g, "IO wait" if g is readers[0] else "semacquire")
            c.close()
            got = [errs.recv() for _ in range(4)]
            assert all(isinstance(e, NetClosedError) for e in got), got
            w = next(e for e in got if getattr(e, "written", 0))
            assert 0 < w.written < 64 << 20  # type: ignore[attr-defined]
            s.close()

    goroutines.run(main)


def test_close_wakes_accept() -> None:
    def main() -> None:
        ln = net.listen("tcp", "127.0.0.1:0")
        out: Chan[BaseException] = Chan(1)

        def acceptor() -> None:
            try:
                ln.accept()
            except NetClosedError as e:
                out.send(e)

        g = go(acceptor)
        wait_blocked(g, "IO wait")
        ln.close()
        assert isinstance(out.recv(), NetClosedError)

    goroutines.run(main)


def test_close_from_a_plain_thread_wakes_a_goroutine() -> None:
    def main() -> None:
        with serve() as ln:
            c = net.dial("tcp", ln.addr)
            g_out: Chan[BaseException] = Chan(1)

            def reader() -> None:
                try:
                    c.read(1)
                except NetClosedError as e:
                    g_out.send(e)

            g = go(reader)
            wait_blocked(g, "IO wait")
            t = Thread(c.close)
            t.join()
            assert isinstance(g_out.recv(), NetClosedError)

    goroutines.run(main)


def test_a_plain_thread_reads_and_is_woken_by_close_and_deadlines() -> None:
    def main() -> None:
        with serve() as ln:
            c = net.dial("tcp", ln.addr)

            blocking_next: Chan[None] = Chan(1)

            def thread_io() -> list[Any]:
                seen: list[Any] = []
                c.write(b"from a thread")
                seen.append(read_exactly(c, 13))
                c.set_read_deadline(now() + 0.05)
                try:
                    c.read(1)
                except DeadlineExceeded as e:
                    seen.append(e)
                c.set_read_deadline(None)
                blocking_next.send(None)
                try:
                    c.read(1)  # closed by the goroutine below
                except NetClosedError as e:
                    seen.append(e)
                return seen

            t = Thread(thread_io)
            # The thread waits in poll() with its wake-up pipe listed on the fd.
            blocking_next.recv()
            deadline = time.monotonic() + 10
            while not c._pd.rthreads:
                assert time.monotonic() < deadline, "the thread never blocked"
                sleep(0.001)
            sleep(0.01)
            c.close()
            t.join()
            assert t.result[0] == b"from a thread"
            assert isinstance(t.result[1], DeadlineExceeded)
            assert isinstance(t.result[2], NetClosedError)

    goroutines.run(main)


def test_a_closed_conn_hides_no_deadlock() -> None:
    def main() -> None:
        with serve() as ln:
            c = net.dial("tcp", ln.addr)
            reader = go(lambda: c.read(1))
            wait_blocked(reader, "IO wait")
            ln.close()
            c.close()  # the reader panics with NetClosedError ...
            Chan[None]().recv()  # ... and nothing else can wake main

    with pytest.raises((Deadlock, GoroutinePanic)) as ei:
        goroutines.run(main)
    if isinstance(ei.value, GoroutinePanic):
        assert isinstance(ei.value.__cause__, NetClosedError)


# ---------------------------------------------------------------------------
# deadlines


def test_deadline_in_the_past_fails_at_once_even_with_data_waiting() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            c.write(b"x")
            c.set_read_deadline(now() - 1)
            with pytest.raises(DeadlineExceeded, match="i/o timeout") as ei:
                c.read(1)
            assert isinstance(ei.value, TimeoutError)
            c.set_read_deadline(None)
            assert c.read(1) == b"x"
            c.set_write_deadline(now() - 1)
            with pytest.raises(DeadlineExceeded) as wi:
                c.write(b"y")
            assert wi.value.written == 0  # type: ignore[attr-defined]
            c.set_deadline(None)
            c.write(b"y")
            assert c.read(1) == b"y"

    goroutines.run(main)


def test_deadline_in_the_future_wakes_a_waiting_read() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            start = now()
            c.set_deadline(start + 0.05)
            with pytest.raises(DeadlineExceeded):
                c.read(1)
            assert now() - start >= 0.045
            # It stays expired until moved.
            with pytest.raises(DeadlineExceeded):
                c.read(1)

    goroutines.run(main)


def test_deadline_moved_while_waiting() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            out: Chan[BaseException | bytes] = Chan(1)

            def reader() -> None:
                try:
                    out.send(c.read(1))
                except DeadlineExceeded as e:
                    out.send(e)

            c.set_read_deadline(now() + 3600)
            g = go(reader)
            wait_blocked(g, "IO wait")
            start = now()
            c.set_read_deadline(start + 0.03)  # moved earlier while it waits
            assert isinstance(out.recv(), DeadlineExceeded)
            assert now() - start >= 0.025

            c.set_read_deadline(now() + 0.02)
            g = go(reader)
            wait_blocked(g, "IO wait")
            c.set_read_deadline(now() + 3600)  # moved later: it keeps waiting
            sleep(0.05)
            assert g.state == "waiting"
            c.write(b"!")
            assert out.recv() == b"!"

    goroutines.run(main)


def test_deadline_cleared_while_waiting() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            out: Chan[BaseException | bytes] = Chan(1)

            def reader() -> None:
                try:
                    out.send(c.read(1))
                except DeadlineExceeded as e:
                    out.send(e)

            c.set_read_deadline(now() + 0.03)
            g = go(reader)
            wait_blocked(g, "IO wait")
            c.set_read_deadline(None)
            sleep(0.06)
            assert g.state == "waiting"
            c.write(b"?")
            assert out.recv() == b"?"

    goroutines.run(main)


def test_write_deadline_with_a_stalled_reader_reports_what_was_written() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            peer: Chan[Conn] = Chan(1)
            go(lambda: peer.send(ln.accept()))
            with net.dial("tcp", ln.addr) as c:
                s = peer.recv()
                assert s is not None
                payload = b"z" * (64 << 20)  # made first: it takes a while
                c.set_write_deadline(now() + 0.2)
                with pytest.raises(DeadlineExceeded) as ei:
                    c.write(payload)
                written = ei.value.written  # type: ignore[attr-defined]
                assert 0 < written < 64 << 20
                c.close_write()
                c.set_write_deadline(None)
                assert len(read_all(s)) == written  # nothing else went out
                s.close()

    goroutines.run(main)


def test_accept_deadline() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            ln.set_deadline(now() + 0.02)
            with pytest.raises(DeadlineExceeded):
                ln.accept()

    goroutines.run(main)


# ---------------------------------------------------------------------------
# errors from the system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dial_refused() -> None:
    def main() -> None:
        with pytest.raises(ConnectionRefusedError):
            net.dial("tcp", f"127.0.0.1:{free_port()}")
        with pytest.raises(FileNotFoundError):
            net.dial("unix", "/nonexistent/socket/path")

    goroutines.run(main)


def test_reset_by_peer_surfaces_as_connection_reset() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            peer: Chan[Conn] = Chan(1)
            go(lambda: peer.send(ln.accept()))
            with net.dial("tcp", ln.addr) as c:
                s = peer.recv()
                assert s is not None
                with socket.socket(fileno=os.dup(s.fileno())) as raw:
                    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()  # linger 0: an RST
                with pytest.raises(ConnectionResetError):
                    while True:
                        if not c.read(10):
                            pytest.fail("a reset read as end of stream")

    goroutines.run(main)


def test_write_to_a_closed_peer_surfaces_as_broken_pipe_or_reset() -> None:
    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln:
            peer: Chan[Conn] = Chan(1)
            go(lambda: peer.send(ln.accept()))
            with net.dial("tcp", ln.addr) as c:
                s = peer.recv()
                assert s is not None
                s.close()
                with pytest.raises((BrokenPipeError, ConnectionResetError)) as ei:
                    for _ in range(1000):
                        c.write(b"x" * 1024)
                        sleep(0.001)
                assert hasattr(ei.value, "written")

    goroutines.run(main)


# ---------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: net.listen("tcp", "nonsense"), ValueError, "missing port in address"),
        (lambda: net.listen("tcp", "127.0.0.1:70000"), ValueError, "invalid port"),
        (lambda: net.listen("tcp", ("127.0.0.1", -1)), ValueError, "invalid port"),
        (lambda: net.listen("tcp", "1:2:3"), ValueError, "too many colons"),
        (lambda: net.listen("tcp", "[::1"), ValueError, "missing ']'"),
        (lambda: net.listen("tcpx", ":0"), ValueError, "unknown network tcpx"),
        (lambda: net.listen("udp", ":0"), ValueError, "unknown network udp"),
        (lambda: net.listen(1, ":0"), TypeError, "network must be a str"),  # type: ignore[arg-type]
        (lambda: net.listen("tcp", 8080), TypeError, "address must be"),  # type: ignore[arg-type]
        (lambda: net.listen("tcp", "127.0.0.1:http-nonsense"), ValueError, "unknown port"),
        (lambda: net.listen("tcp4", "[::1]:0"), ValueError, "no suitable address"),
        (lambda: net.listen("unix", ""), TypeError, "socket path"),
        (lambda: net.dial("tcp", "127.0.0.1:1", timeout="1"), TypeError, "timeout"),  # type: ignore[arg-type]
        (lambda: net.listen_packet("tcp", ":0"), ValueError, "unknown network tcp"),
        (lambda: net.dial_context(None, "tcp", ":1"), TypeError, "Context"),  # type: ignore[arg-type]
    ],
    ids=[
        "nonsense", "port-range", "negative-port", "colons", "bracket", "network",
        "udp-listen", "network-type", "address-type", "service", "family", "unix-empty",
        "timeout-type", "packet-network", "ctx",
    ],
)
def test_bad_input_raises_a_clear_error(
    call: Callable[[], object], exc: type[BaseException], match: str
) -> None:
    def main() -> None:
        with pytest.raises(exc, match=match):
            call()

    goroutines.run(main)


def test_bad_arguments_to_conn_methods() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr) as c:
            with pytest.raises(ValueError, match="n must be >= 0, got -1"):
                c.read(-1)
            with pytest.raises(TypeError, match="n must be an int"):
                c.read("3")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="got str; encode it first"):
                c.write("text")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="bytes-like"):
                c.write(3)  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="deadline"):
                c.set_deadline("soon")  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="NaN"):
                c.set_read_deadline(float("nan"))
            # Still usable afterwards.
            c.write(b"ok")
            assert read_exactly(c, 2) == b"ok"

    goroutines.run(main)


@pytest.mark.parametrize(
    "hostport,host,port",
    [("127.0.0.1:80", "127.0.0.1", "80"), (":0", "", "0"), ("[::1]:443", "::1", "443"),
     ("localhost:http", "localhost", "http"), ("[fe80::1%eth0]:1", "fe80::1%eth0", "1")],
)
def test_split_and_join_host_port(hostport: str, host: str, port: str) -> None:
    assert net.split_host_port(hostport) == (host, port)
    assert net.join_host_port(host, port) == hostport


# ---------------------------------------------------------------------------
# dial_context


def test_dial_context_gives_the_contexts_error() -> None:
    def main() -> None:
        with serve() as ln:
            ctx, cancel = gcontext.with_cancel(gcontext.background())
            with net.dial_context(ctx, "tcp", ln.addr) as c:
                c.write(b"ctx")
                assert read_exactly(c, 3) == b"ctx"
            cancel()
            with pytest.raises(gcontext.Canceled):
                net.dial_context(ctx, "tcp", ln.addr)
            tctx, tcancel = gcontext.with_timeout(gcontext.background(), 0)
            with pytest.raises(gcontext.DeadlineExceeded):
                net.dial_context(tctx, "tcp", f"localhost:{ln.addr[1]}")
            tcancel()

    goroutines.run(main)


def test_dial_with_a_timeout_connects() -> None:
    def main() -> None:
        with serve() as ln, net.dial("tcp", ln.addr, timeout=5) as c:
            c.write(b"t")
            assert c.read(1) == b"t"

    goroutines.run(main)


# ---------------------------------------------------------------------------
# PacketConn


def test_packet_conn_round_trip_deadline_and_close() -> None:
    def main() -> None:
        a = net.listen_packet("udp", "127.0.0.1:0")
        b = net.listen_packet("udp4", ("127.0.0.1", 0))
        with a, b:
            assert a.write_to(b"ping", b.local_addr) == 4
            data, addr = b.read_from(100)
            assert (data, addr) == (b"ping", a.local_addr)
            b.write_to(bytearray(b"pong"), net.join_host_port(*a.local_addr))
            assert a.read_from(2) == (b"po", b.local_addr)  # truncated to n
            a.set_read_deadline(now() + 0.02)
            with pytest.raises(DeadlineExceeded):
                a.read_from(10)
            a.set_deadline(None)
            out: Chan[BaseException] = Chan(1)

            def reader() -> None:
                try:
                    a.read_from(10)
                except NetClosedError as e:
                    out.send(e)

            g = go(reader)
            wait_blocked(g, "IO wait")
            a.close()
            assert isinstance(out.recv(), NetClosedError)
            with pytest.raises(NetClosedError):
                a.write_to(b"x", b.local_addr)
            with pytest.raises(TypeError, match="str"):
                b.write_to("x", a.local_addr)  # type: ignore[arg-type]
            assert "PacketConn" in repr(b)

    goroutines.run(main)


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
def test_packet_conn_ipv6() -> None:
    def main() -> None:
        with net.listen_packet("udp6", "[::1]:0") as a, net.listen_packet("udp6", "[::1]:0") as b:
            a.write_to(b"v6", net.join_host_port("::1", b.local_addr[1]))
            data, addr = b.read_from(10)
            assert data == b"v6" and addr[1] == a.local_addr[1]

    goroutines.run(main)


# ---------------------------------------------------------------------------
# copy


def test_copy_through_a_proxy_with_half_close() -> None:
    def main() -> None:
        with serve() as backend, net.listen("tcp", "127.0.0.1:0") as front:

            def proxy() -> None:
                client = front.accept()
                upstream = net.dial("tcp", backend.addr)
                done = WaitGroup()

                def pipe(dst: Conn, src: Conn) -> None:
                    net.copy(dst, src)
                    dst.close_write()

                done.go(pipe, upstream, client)
                done.go(pipe, client, upstream)
                done.wait()
                client.close()
                upstream.close()

            go(proxy)
            payload = random.Random(3).randbytes(3 << 20)
            with net.dial("tcp", front.addr) as c:
                got: Chan[bytes] = Chan(1)
                go(lambda: got.send(read_all(c)))
                c.write(payload)
                c.close_write()
                assert got.recv() == payload

    goroutines.run(main)


def test_copy_rejects_bad_buffer_sizes() -> None:
    with pytest.raises(ValueError):
        net.copy(None, None, bufsize=0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# many connections


def checksum_clients(addr: Any, n: int, seed: int) -> None:
    """n client goroutines, each sends a random payload and checks the echo."""
    rng = random.Random(seed)
    payloads = [rng.randbytes(rng.randrange(1, 4096)) for _ in range(n)]
    results: Chan[tuple[int, bytes]] = Chan(n)

    def client(i: int) -> None:
        with net.dial("tcp", addr) as c:
            c.write(struct.pack("!I", i) + payloads[i])
            c.close_write()
            data = read_all(c)
            results.send((struct.unpack("!I", data[:4])[0], data[4:]))

    for i in range(n):
        go(client, i)
    seen: set[int] = set()
    for _ in range(n):
        r = results.recv()
        assert r is not None
        i, body = r
        assert i not in seen, f"connection {i} answered twice"
        seen.add(i)
        assert hashlib.md5(body).digest() == hashlib.md5(payloads[i]).digest(), f"conn {i}"
    assert seen == set(range(n))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_thousand_concurrent_connections_lose_and_duplicate_nothing(
    seed: int, short: bool
) -> None:
    n = 200 if short else 1000

    def main() -> None:
        with serve() as ln:
            checksum_clients(ln.addr, n, seed)

    goroutines.run(main)


def test_connections_from_plain_threads() -> None:
    def main() -> None:
        with serve() as ln:
            errors: list[BaseException] = []

            def client(k: int) -> None:
                try:
                    for i in range(20):
                        with net.dial("tcp", ln.addr) as c:
                            msg = f"{k}:{i}".encode() * 100
                            c.write(msg)
                            c.close_write()
                            assert read_all(c) == msg
                except BaseException as e:
                    errors.append(e)

            threads = [Thread(client, k) for k in range(8)]
            for t in threads:
                t.join()
            assert errors == []

    goroutines.run(main)


def test_net_works_from_a_thread_without_any_goroutine() -> None:
    box: list[Any] = []

    def thread() -> None:
        ln = net.listen("tcp", "127.0.0.1:0")
        c = net.dial("tcp", ln.addr)
        s = ln.accept()
        c.write(b"plain")
        box.append(s.read(5))
        s.set_read_deadline(now() + 0.02)
        try:
            s.read(1)
        except DeadlineExceeded as e:
            box.append(e)
        for x in (c, s, ln):
            x.close()

    t = threading.Thread(target=thread)
    t.start()
    t.join(20)
    assert box[0] == b"plain" and isinstance(box[1], DeadlineExceeded)


@pytest.fixture
def no_leaked_fds() -> Iterator[None]:
    before = len(os.listdir("/proc/self/fd"))
    yield
    after = len(os.listdir("/proc/self/fd"))
    assert after <= before + 2, f"{after - before} file descriptors leaked"


def test_closed_objects_leave_no_fd_behind(no_leaked_fds: None) -> None:
    def main() -> None:
        for _ in range(50):
            with serve() as ln, net.dial("tcp", ln.addr) as c:
                c.write(b"x")
                assert c.read(1) == b"x"
        sleep(0.01)

    goroutines.run(main)
    gosched()


def test_connections_while_another_p_polls_too(racy: None) -> None:
    # A second P (the background scheduler thread) drains the shared epoll
    # as well: the first edge of a new socket may be taken there before the
    # registration returns, and must not be lost.
    started = threading.Event()
    t = threading.Thread(target=lambda: (go(started.set), started.wait(10)))
    t.start()
    t.join()
    assert started.is_set()

    def main() -> None:
        with serve() as ln:
            for i in range(300):
                with net.dial("tcp", ln.addr) as c:
                    c.write(b"%d" % i)
                    assert c.read(10) == b"%d" % i

    goroutines.run(main)


# -- the package's layout ------------------------------------------------------


def test_the_net_packages_modules_import_in_the_stated_order() -> None:
    import ast
    import re
    from pathlib import Path

    root = Path(net.__file__).parent
    doc = ast.get_docstring(ast.parse((root / "__init__.py").read_text())) or ""
    m = re.search(r"Import order inside it:\s*(.*?)\s*\(", doc, re.S)
    assert m is not None
    order = [w.strip() for w in m.group(1).split(",")]
    assert sorted(order) == sorted(p.stem for p in root.glob("_*.py") if p.stem != "__init__")
    rank = {name: i for i, name in enumerate(order)}
    for name in order:
        tree = ast.parse((root / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                assert rank[node.module] < rank[name], f"{name} imports {node.module}"


def test_the_package_keeps_its_names_and_the_pipe_shares_the_context_manager() -> None:
    for name in net.__all__:
        assert getattr(net, name) is not None
    assert net.PipeConn.__enter__ is net.Conn.__enter__ is net._Closer.__enter__
    assert net.PipeConn.__exit__ is net.Listener.__exit__ is net._Closer.__exit__
    a, b = net.pipe()
    with a as got:
        assert got is a
    with pytest.raises(NetClosedError):
        a.read(1)
    b.close()

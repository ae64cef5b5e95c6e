"""Conn's read after a short read: the socket was empty then, so the next
read waits for an edge before it tries (no recv that says EAGAIN). Data,
end of stream and errors that arrive around that wait must never be missed.
Loopback only; a deadline on every read turns a missed edge into a failure
instead of a hang."""

from __future__ import annotations

import hashlib
import random
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

import pytest

import goroutines
from _netpair import GUARD, pair
from _synctest import Thread
from goroutines import go, net, now
from goroutines.net import Conn, DeadlineExceeded


def guarded_read(c: Conn, n: int) -> bytes:
    c.set_read_deadline(now() + GUARD)
    try:
        return c.read(n)
    except DeadlineExceeded:
        pytest.fail("a read missed data that had arrived (it waited for an edge already taken)")


def guarded_read_into(c: Conn, n: int) -> bytes:
    buf = bytearray(n)
    c.set_read_deadline(now() + GUARD)
    try:
        got = c.read_into(buf)
    except DeadlineExceeded:
        pytest.fail("read_into missed data that had arrived")
    return bytes(buf[:got])


def writer(raw: socket.socket, chunks: list[bytes], seed: int) -> None:
    """Send the chunks from an OS thread of its own, at uneven moments (a
    random amount of work between them), then end the stream."""
    rng = random.Random(seed)
    for chunk in chunks:
        for _ in range(rng.randrange(0, 300)):
            pass
        raw.sendall(chunk)
    raw.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("reader", ["read", "read_into"])
def test_data_racing_the_wait_after_a_short_read_is_never_missed(
    seed: int, reader: str, racy: None
) -> None:
    rng = random.Random(seed)
    read: Callable[[Conn, int], bytes] = guarded_read if reader == "read" else guarded_read_into

    def main() -> None:
        for it in range(15):
            chunks = [rng.randbytes(rng.randrange(1, 200)) for _ in range(rng.randrange(50, 200))]
            want = b"".join(chunks)
            c, raw = pair()
            t = threading.Thread(target=writer, args=(raw, chunks, seed * 1000 + it))
            t.start()
            got = []
            with c:
                # Asking for more than a chunk: most reads are short, and the
                # next read waits first while the writer races it.
                while data := read(c, rng.choice((256, 1024, 65536))):
                    got.append(data)
            t.join()
            raw.close()
            body = b"".join(got)
            assert len(body) == len(want)
            assert hashlib.md5(body).digest() == hashlib.md5(want).digest()

    goroutines.run(main)


def second_p() -> None:
    """Start the background P (a goroutine started from a plain thread): it
    drains the shared epoll too, so an edge may be taken there between a
    short read and the wait that follows it."""
    started = threading.Event()
    t = threading.Thread(target=lambda: (go(started.set), started.wait(10)))
    t.start()
    t.join()
    assert started.is_set()


def pinger(raw: socket.socket, rounds: list[bytes], seed: int, errors: list[BaseException]) -> None:
    """Each round: a length, the message in two sends at uneven moments,
    then wait for the reader's ack before the next (a lost edge of the
    second send leaves the reader waiting: nothing else comes)."""
    rng = random.Random(seed)
    try:
        for msg in rounds:
            cut = rng.randrange(0, len(msg) + 1)
            raw.sendall(struct.pack("!H", len(msg)) + msg[:cut])
            for _ in range(rng.randrange(0, 400)):
                pass
            if cut < len(msg):
                raw.sendall(msg[cut:])
            if raw.recv(1) != b"k":
                raise AssertionError("no ack")
        raw.shutdown(socket.SHUT_WR)
    except BaseException as e:
        errors.append(e)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reader", ["read", "read_into"])
def test_an_edge_between_a_short_read_and_its_wait_is_never_lost(
    seed: int, reader: str, racy: None
) -> None:
    second_p()
    rng = random.Random(seed)
    read: Callable[[Conn, int], bytes] = guarded_read if reader == "read" else guarded_read_into

    def main() -> None:
        for it in range(4):
            rounds = [rng.randbytes(rng.randrange(1, 300)) for _ in range(300)]
            c, raw = pair()
            errors: list[BaseException] = []
            t = threading.Thread(target=pinger, args=(raw, rounds, seed * 100 + it, errors))
            t.start()
            with c:
                buf = b""
                for msg in rounds:
                    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                        data = read(c, 65536)
                        assert data, "unexpected end of stream"
                        buf += data
                    n = struct.unpack("!H", buf[:2])[0]
                    assert buf[2 : 2 + n] == msg
                    buf = buf[2 + n :]
                    c.write(b"k")
                assert read(c, 65536) == b""
            t.join()
            raw.close()
            assert errors == []

    goroutines.run(main)


@pytest.mark.parametrize("seed", range(4))
def test_many_connections_racing_short_reads_with_a_second_p(seed: int, racy: None) -> None:
    second_p()
    rng = random.Random(seed)

    def main() -> None:
        ln = net.listen("tcp", "127.0.0.1:0")
        results: goroutines.Chan[tuple[int, bytes]] = goroutines.Chan(64)

        def serve(c: Conn) -> None:
            # Echo in pieces of uneven size, as data comes.
            with c:
                while data := guarded_read(c, 4096):
                    for i in range(0, len(data), 7):
                        c.write(data[i : i + 7])
                c.close_write()

        def server() -> None:
            while True:
                try:
                    c = ln.accept()
                except net.NetClosedError:
                    return
                go(serve, c)

        def client(k: int, payload: bytes) -> None:
            with net.dial("tcp", ln.addr) as c:
                c.write(struct.pack("!I", k))
                for i in range(0, len(payload), 50):
                    c.write(payload[i : i + 50])
                c.close_write()
                parts = []
                while data := guarded_read(c, 100):
                    parts.append(data)
                body = b"".join(parts)
                results.send((struct.unpack("!I", body[:4])[0], body[4:]))

        go(server)
        n = 64
        payloads = [rng.randbytes(rng.randrange(1, 3000)) for _ in range(n)]
        for k in range(n):
            go(client, k, payloads[k])
        seen = set()
        for _ in range(n):
            r = results.recv()
            assert r is not None
            k, body = r
            assert k not in seen
            seen.add(k)
            assert body == payloads[k], f"connection {k}"
        ln.close()

    goroutines.run(main)


def send_and_end(raw: socket.socket, msg: bytes) -> None:
    raw.sendall(msg)
    raw.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("seed", range(3))
def test_end_of_stream_right_after_a_short_read_is_seen(seed: int, racy: None) -> None:
    # Data and the FIN may come in one edge, which the read that got the
    # data consumed: the next read must still see the end of the stream.
    rng = random.Random(seed)

    def main() -> None:
        for _ in range(40):
            c, raw = pair()
            msg = rng.randbytes(rng.randrange(1, 100))
            park_first = rng.random() < 0.5

            if park_first:
                # The reader is parked when data and FIN come.
                t = Thread(send_and_end, raw, msg)
                got = guarded_read(c, 1000)
                t.join()
            else:
                send_and_end(raw, msg)
                got = guarded_read(c, 1000)
            while len(got) < len(msg):
                got += guarded_read(c, 1000)
            assert got == msg
            assert guarded_read(c, 1000) == b""
            assert guarded_read(c, 1000) == b""
            c.close()
            raw.close()

    goroutines.run(main)


def test_reset_right_after_a_short_read_is_seen(racy: None) -> None:
    def main() -> None:
        for _ in range(40):
            c, raw = pair()
            raw.sendall(b"last words")
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()  # an RST
            got = b""
            outcome: Any = None
            while outcome is None:
                try:
                    data = guarded_read(c, 1000)
                except ConnectionResetError as e:
                    outcome = e
                else:
                    if not data:
                        outcome = "eof"
                    got += data
            assert b"last words".startswith(got)
            c.close()

    goroutines.run(main)


def test_a_short_read_marks_the_socket_empty_and_a_full_one_does_not() -> None:
    def main() -> None:
        c, raw = pair()
        with c:
            raw.sendall(b"abc")
            assert guarded_read(c, 10) == b"abc"
            assert c._drained  # the next read waits first
            raw.sendall(b"defgh")
            assert guarded_read(c, 5) == b"defgh"
            assert not c._drained  # a full read: more may be there
            raw.sendall(b"ij")
            assert guarded_read(c, 2) == b"ij"
            assert not c._drained
            raw.close()
            assert guarded_read(c, 10) == b""
            assert not c._drained  # end of stream: the next read tries at once
            assert guarded_read(c, 10) == b""

    goroutines.run(main)


def test_a_plain_thread_reads_after_a_short_read() -> None:
    # A thread without a P waits in poll(), level-triggered: the wait first
    # after a short read returns as soon as anything is there.
    c, raw = pair()
    chunks = [bytes([i]) * (i + 1) for i in range(100)]
    t = threading.Thread(target=writer, args=(raw, chunks, 7))
    t.start()
    got = []
    with c:
        while data := guarded_read(c, 4096):
            got.append(data)
    t.join()
    raw.close()
    assert b"".join(got) == b"".join(chunks)


def test_deadline_and_close_still_end_the_wait_after_a_short_read() -> None:
    def main() -> None:
        c, raw = pair()
        raw.sendall(b"x")
        assert guarded_read(c, 10) == b"x"
        assert c._drained
        c.set_read_deadline(now() + 0.05)
        with pytest.raises(DeadlineExceeded):
            c.read(10)
        c.set_read_deadline(None)
        raw.sendall(b"y")
        assert guarded_read(c, 10) == b"y"
        assert c._drained
        done: goroutines.Chan[BaseException] = goroutines.Chan(1)

        def reader() -> None:
            try:
                c.read(10)
            except BaseException as e:
                done.send(e)

        go(reader)
        goroutines.sleep(0)
        c.close()
        e = done.recv()
        assert isinstance(e, net.NetClosedError)
        raw.close()

    goroutines.run(main)

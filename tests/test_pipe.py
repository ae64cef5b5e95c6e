"""goroutines.net.pipe(): Go's net.Pipe - synchronous, in memory, full
duplex, with a Conn's methods, closing rules and deadlines (on the bubble's
clock inside a synctest bubble)."""

from __future__ import annotations

import io

import pytest

import goroutines.net as net
from _synctest import Thread
from goroutines import Chan, WaitGroup, go, now, synctest
from goroutines.net import DeadlineExceeded, NetClosedError, pipe

EPOCH = 946684800.0

# Each test runs as goroutine 1 of its own run() and fails on goroutines left behind.
pytestmark = pytest.mark.goroutines


def rounds(short: bool, n: int) -> int:
    return max(n // 10, 2) if short else n


def read_all(c: net.Conn | object, n: int = 7) -> bytes:
    out = bytearray()
    while True:
        d = c.read(n)  # type: ignore[attr-defined]
        if not d:
            return bytes(out)
        out += d


def test_exported_by_net() -> None:
    assert "pipe" in net.__all__
    assert net.pipe is pipe


def test_write_is_read_in_pieces_of_one_write(short: bool) -> None:
    for _ in range(rounds(short, 200)):
        a, b = pipe()
        got: Chan[bytes] = Chan(1)
        go(lambda got=got, b=b: got.send(read_all(b, 3)))
        assert a.write(b"hello world") == 11
        assert a.write(b"") == 0
        a.close()
        assert got.recv() == b"hello world"
        b.close()


def test_read_takes_at_most_one_write() -> None:
    def body() -> list[bytes]:
        a, b = pipe()
        wg = WaitGroup()
        wg.go(lambda: (a.write(b"ab"), a.write(b"cdef")))
        out = [b.read(100), b.read(100)]
        wg.wait()
        return out

    assert synctest.test(body) == [b"ab", b"cdef"]


def test_write_blocks_until_it_is_read() -> None:
    def body() -> list[str]:
        a, b = pipe()
        log: list[str] = []

        def writer() -> None:
            a.write(b"xyz")
            log.append("written")

        go(writer)
        synctest.wait()  # durably blocked on the pipe's channels
        assert log == []
        assert b.read(2) == b"xy"
        synctest.wait()
        assert log == []
        assert b.read(2) == b"z"
        synctest.wait()
        return log

    assert synctest.test(body) == ["written"]


def test_full_duplex(short: bool) -> None:
    for _ in range(rounds(short, 50)):
        a, b = pipe()
        data_a = bytes(range(256)) * 20
        data_b = b"q" * 3000
        got_a: Chan[bytes] = Chan(1)
        got_b: Chan[bytes] = Chan(1)

        def side(c: object, data: bytes, got: Chan[bytes]) -> None:
            go(lambda: (c.write(data), c.close_write()))  # type: ignore[attr-defined]
            got.send(read_all(c, 100))

        go(side, a, data_a, got_a)
        go(side, b, data_b, got_b)
        assert got_a.recv() == data_b
        assert got_b.recv() == data_a
        a.close()
        b.close()


def test_concurrent_writes_never_interleave(short: bool) -> None:
    for _ in range(rounds(short, 30)):
        a, b = pipe()
        wg = WaitGroup()
        for letter in b"abcd":
            wg.go(a.write, bytes([letter]) * 500)
        closer = WaitGroup()
        closer.go(lambda wg=wg, a=a: (wg.wait(), a.close()))
        data = read_all(b, 7)
        closer.wait()
        assert sorted(data) == sorted(b"a" * 500 + b"b" * 500 + b"c" * 500 + b"d" * 500)
        runs = [data[i : i + 500] for i in range(0, 2000, 500)]
        assert all(len(set(r)) == 1 for r in runs)


def test_read_into() -> None:
    a, b = pipe()
    go(a.write, b"abcdef")
    buf = bytearray(4)
    assert b.read_into(buf) == 4
    assert buf == b"abcd"
    assert b.read_into(buf) == 2
    assert buf[:2] == b"ef"
    a.close()
    assert b.read_into(buf) == 0


def test_close_rules() -> None:
    a, b = pipe()
    a.close()
    a.close()  # again: nothing
    assert b.read(10) == b""
    with pytest.raises(NetClosedError, match="io: read/write on closed pipe"):
        a.read(10)
    with pytest.raises(NetClosedError) as e:
        a.write(b"x")
    assert e.value.written == 0  # type: ignore[attr-defined]
    with pytest.raises(BrokenPipeError):
        b.write(b"x")
    b.close()


def test_close_wakes_blocked_operations(short: bool) -> None:
    for _ in range(rounds(short, 100)):

        def body() -> list[str]:
            a, b = pipe()
            c, d = pipe()
            out: Chan[str] = Chan(4)

            def reader() -> None:
                try:
                    a.read(5)
                except NetClosedError:
                    out.send("reader: closed")

            def writer() -> None:
                try:
                    a.write(b"abcdef")
                except NetClosedError as e:
                    out.send(f"writer: closed after {e.written}")  # type: ignore[attr-defined]

            def peer_writer() -> None:
                try:
                    d.write(b"zz")
                except BrokenPipeError:
                    out.send("peer writer: broken pipe")

            def peer_reader() -> None:
                out.send(f"peer reader: {d.read(5)!r}")

            for f in (reader, writer, peer_writer, peer_reader):
                go(f)
            synctest.wait()
            a.close()
            c.close()
            got = sorted(out.recv() or "" for _ in range(4))
            b.close()
            d.close()
            return got

        assert synctest.test(body) == [
            "peer reader: b''",
            "peer writer: broken pipe",
            "reader: closed",
            "writer: closed after 0",
        ]


def test_close_write_and_close_read() -> None:
    a, b = pipe()
    a.close_write()
    assert b.read(10) == b""
    with pytest.raises(BrokenPipeError):
        a.write(b"x")
    go(b.write, b"back")
    assert a.read(10) == b"back"  # reads go on
    b.close_read()
    with pytest.raises(BrokenPipeError):
        a.write(b"y")
    assert b.read(3) == b""
    a.close()
    b.close()


def test_deadlines_on_the_bubble_clock(short: bool) -> None:
    for _ in range(rounds(short, 100)):

        def body() -> list[tuple[str, float]]:
            a, b = pipe()
            log: list[tuple[str, float]] = []
            b.set_read_deadline(now() + 5)
            try:
                b.read(1)
            except DeadlineExceeded as e:
                assert "i/o timeout" in str(e)
                log.append(("read", now() - EPOCH))
            with pytest.raises(DeadlineExceeded):
                b.read(1)  # still expired
            b.set_read_deadline(None)
            a.set_write_deadline(now() + 2)
            try:
                a.write(b"nobody reads")
            except DeadlineExceeded as e:
                log.append(("write", now() - EPOCH))
                assert e.written == 0  # type: ignore[attr-defined]
            a.set_deadline(None)
            go(a.write, b"ok")
            assert b.read(2) == b"ok"
            a.close()
            b.close()
            return log

        assert synctest.test(body) == [("read", 5.0), ("write", 7.0)]


def test_deadline_moved_while_waiting() -> None:
    def body() -> list[float]:
        a, b = pipe()
        out: list[float] = []

        def reader() -> None:
            try:
                b.read(1)
            except DeadlineExceeded:
                out.append(now() - EPOCH)

        b.set_read_deadline(now() + 100)
        wg = WaitGroup()
        wg.go(reader)
        synctest.wait()
        b.set_read_deadline(now() + 3)  # applies to the read already waiting
        wg.wait()
        wg.go(reader)
        synctest.wait()
        b.set_read_deadline(now() - 1)  # in the past: wakes it at once
        wg.wait()
        a.close()
        return out

    assert synctest.test(body) == [3.0, 3.0]


def test_from_plain_threads() -> None:
    a, b = pipe()
    t = Thread(lambda: a.write(b"from a thread") and a.close())
    assert read_all(b) == b"from a thread"
    t.join()


def test_conn_surface_and_bad_input() -> None:
    a, b = pipe()
    assert a.local_addr == "pipe" and a.remote_addr == "pipe"
    with pytest.raises(io.UnsupportedOperation):
        a.fileno()
    with pytest.raises(TypeError, match="got str"):
        a.write("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got int"):
        a.write(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        a.read(-1)
    with pytest.raises(TypeError, match="n must be an int"):
        a.read(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="deadline must be"):
        a.set_deadline("soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        a.set_read_deadline(float("nan"))
    assert a.read(0) == b""
    with b as c:
        assert c is b
    assert a.read(5) == b""  # the with block closed b
    with pytest.raises(NetClosedError):
        b.read(5)
    a.close()


def test_net_copy_between_pipes() -> None:
    a, b = pipe()
    c, d = pipe()
    payload = bytes(range(256)) * 40

    def feed() -> None:
        a.write(payload)
        a.close()

    def pump() -> None:
        net.copy(c, b)
        c.close()

    go(feed)
    go(pump)
    assert read_all(d, 1000) == payload
    d.close()
    b.close()

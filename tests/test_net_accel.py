"""The accelerator's net port (Conn.read / Conn.write in C) against its Python
twin: both run on the same inputs, each on a fresh connection in the same
state, and must give the same result or raise the same exception (type,
message, ``.written``), and leave the Conn and its fdMutex in the same state
(references, read and write locks, the drained flag). The net test files run
on whichever path is on; this one compares the two in one process (the C
functions called directly, the twin through the installed method's
``__wrapped__``)."""

from __future__ import annotations

import hashlib
import random
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

import goroutines
from _netpair import GUARD, pair
from _synctest import Thread
from goroutines import go, net, now
from goroutines._runtime import accel
from goroutines.net import Conn

ext = accel.port("net")
pytestmark = pytest.mark.skipif(ext is None, reason="the accelerator's net port is off here")


def paths() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """path -> (read, write)."""
    return {
        "c": (ext.conn_read, ext.conn_write),
        "python": (Conn.read.__wrapped__, Conn.write.__wrapped__),  # type: ignore[attr-defined]
    }


def state(c: Conn) -> tuple[Any, ...]:
    mu = c._mu
    return (mu.refs, mu.rlocked, mu.wlocked, mu.closing, c._drained, c.fileno() == -1)


def outcome(f: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", f())
    except BaseException as e:
        return ("raise", type(e).__name__, str(e), getattr(e, "written", None))


def both(scenario: Callable[[Callable[..., Any], Callable[..., Any]], Any]) -> None:
    """Run scenario on each path (in a goroutine) and compare what it returns."""
    got: dict[str, Any] = {}
    for name, (read, write) in paths().items():

        def main(
            read: Callable[..., Any] = read, write: Callable[..., Any] = write, name: str = name
        ) -> None:
            got[name] = scenario(read, write)

        goroutines.run(main)
    assert got["c"] == got["python"]


# -- reads ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 64, 65536])
def test_read_of_what_arrived(n: int) -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with c, raw:
            raw.sendall(b"hello")
            c.set_read_deadline(now() + GUARD)
            first = outcome(lambda: read(c, n))
            return first, state(c)

    both(scenario)


@pytest.mark.parametrize("bad", [-1, "3", 2.0, True, None, 2**70])
def test_read_bad_sizes(bad: Any) -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with c, raw:
            return outcome(lambda: read(c, bad)), state(c)

    both(scenario)


def test_read_after_a_short_read_waits_for_the_next_data() -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with c, raw:
            raw.sendall(b"one")
            c.set_read_deadline(now() + GUARD)
            a = read(c, 100)
            drained = c._drained
            t = Thread(raw.sendall, b"two")
            b = read(c, 100)
            t.join()
            raw.shutdown(socket.SHUT_WR)
            end = read(c, 100)
            return a, drained, b, end, state(c)

    both(scenario)


def test_read_end_of_stream_and_reset() -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with c:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            raw.close()  # linger 0: a reset
            c.set_read_deadline(now() + GUARD)
            r = outcome(lambda: read(c, 10))
            return r, state(c)

    both(scenario)


def test_read_deadlines_past_moved_and_closed() -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with raw:
            c.set_read_deadline(now() - 1)
            past = outcome(lambda: read(c, 10))
            s1 = state(c)
            c.set_read_deadline(now() + 0.05)
            soon = outcome(lambda: read(c, 10))  # parks, then the deadline passes
            c.set_read_deadline(None)
            c.close()
            closed = outcome(lambda: read(c, 10))
            return past, s1, soon, closed, state(c)

    both(scenario)


def test_close_wakes_a_parked_read_and_the_socket_is_closed_by_it() -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with raw:
            done: goroutines.Chan[Any] = goroutines.Chan(1)
            go(lambda: done.send(outcome(lambda: read(c, 10))))
            goroutines.sleep(0.02)
            c.close()
            return done.recv(), state(c)

    both(scenario)


# -- writes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"x", b"hello" * 100, bytearray(b"ba"), memoryview(b"mv"), "str", 5, None]
)
def test_write_inputs(data: Any) -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with c, raw:
            r = outcome(lambda: write(c, data))
            raw.settimeout(GUARD)
            got = raw.recv(1000) if r[0] == "ok" and r[1] else b""
            return r, got, state(c)

    both(scenario)


def test_write_closed_deadline_and_broken_pipe() -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        c.set_write_deadline(now() - 1)
        past = outcome(lambda: write(c, b"abc"))
        c.set_write_deadline(None)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        raw.close()
        goroutines.sleep(0.02)
        broken = outcome(lambda: write(c, b"x" * 100))
        if broken[0] == "raise":
            broken = ("raise", broken[1] in ("BrokenPipeError", "ConnectionResetError"), broken[3])
        s = state(c)
        c.close()
        closed = outcome(lambda: write(c, b"abc"))
        return past, broken, s, closed, state(c)

    both(scenario)


def test_a_write_cut_short_by_its_deadline_carries_the_count() -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        c, raw = pair()
        with c, raw:
            c.set_write_deadline(now() + 0.1)
            r = outcome(lambda: write(c, b"z" * (64 << 20)))  # nobody reads
            assert r[0] == "raise" and r[1] == "DeadlineExceeded"
            assert isinstance(r[3], int) and 0 <= r[3] < 64 << 20
            return r[:3], state(c)

    both(scenario)


@pytest.mark.parametrize("seed", range(5))
def test_large_writes_and_reads_across_goroutines_arrive_whole(seed: int) -> None:
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        rng = random.Random(seed)
        blobs = [rng.randbytes(rng.choice([1, 100, 5000, 300_000])) for _ in range(20)]
        c, raw = pair()
        ln = net.listen("tcp", "127.0.0.1:0")
        d = net.dial("tcp", ln.addr)
        s = ln.accept()
        ln.close()
        raw.close()
        c.close()
        done: goroutines.Chan[str] = goroutines.Chan(1)

        def writer() -> None:
            for b in blobs:
                write(d, b)
            d.close_write()

        def reader() -> None:
            h = hashlib.sha256()
            s.set_read_deadline(now() + GUARD)
            while True:
                chunk = read(s, rng.choice([1, 7, 4096, 65536]))
                if not chunk:
                    break
                h.update(chunk)
            done.send(h.hexdigest())

        go(writer)
        go(reader)
        got = done.recv()
        d.close()
        s.close()
        return got == hashlib.sha256(b"".join(blobs)).hexdigest(), state(s), state(d)

    both(scenario)


@pytest.mark.parametrize("seed", range(5))
def test_concurrent_readers_and_writers_share_one_conn(seed: int) -> None:
    # Contended locks go to the twin's queue and hand-off; the C path must
    # interleave with it: every message whole, none lost or doubled.
    def scenario(read: Callable[..., Any], write: Callable[..., Any]) -> Any:
        ln = net.listen("tcp", "127.0.0.1:0")
        d = net.dial("tcp", ln.addr)
        s = ln.accept()
        ln.close()
        msgs = [bytes([i]) * 64 for i in range(1, 41)]
        wg = goroutines.WaitGroup()
        for k in range(4):
            wg.go(lambda k=k: [write(d, m) for m in msgs[k::4]])
        got: list[bytes] = []
        rwg = goroutines.WaitGroup()
        buf = bytearray()
        lock = goroutines.Mutex()

        def reader() -> None:
            s.set_read_deadline(now() + GUARD)
            while True:
                chunk = read(s, 64)
                if not chunk:
                    return
                with lock:
                    buf.extend(chunk)

        for _ in range(3):
            rwg.go(reader)
        wg.wait()
        d.close_write()
        rwg.wait()
        got = [bytes(buf[i : i + 64]) for i in range(0, len(buf), 64)]
        d.close()
        s.close()
        return sorted(got) == sorted(msgs), state(s)

    both(scenario)


def test_a_plain_thread_reads_and_writes_through_the_port() -> None:
    for name, (read, write) in paths().items():
        c, raw = pair()
        out: list[Any] = []

        def body(
            c: Conn = c,
            read: Callable[..., Any] = read,
            write: Callable[..., Any] = write,
            out: list[Any] = out,
        ) -> None:
            c.set_read_deadline(now() + GUARD)
            out.append(read(c, 10))
            out.append(write(c, b"back"))

        t = threading.Thread(target=body)
        t.start()
        raw.sendall(b"ping")
        t.join(GUARD)
        raw.settimeout(GUARD)
        assert out == [b"ping", 4], name
        assert raw.recv(10) == b"back"
        c.close()
        raw.close()


def test_the_port_is_installed_on_conn_only() -> None:
    assert type(Conn.read).__name__ == "method"
    assert Conn.read.__wrapped__.__qualname__ == "Conn.read"  # type: ignore[attr-defined]
    assert net.TLSConn.read is not Conn.read  # TLS reads records its own way


# -- the netpoller's wait and dispatch (port "netpoll") -------------------------

npext = accel.port("netpoll")


def np_paths() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """path -> (wait, _dispatch)."""
    from goroutines._runtime import netpoll as np

    return {
        "c": (npext.np_wait, npext.np_dispatch),
        "python": (np.wait.__wrapped__, np._dispatch.__wrapped__),  # type: ignore[attr-defined]
    }


def pd_state(pd: Any) -> tuple[Any, ...]:
    return (pd.rready, pd.wready, pd.rhup, len(pd.rwaiters), len(pd.wwaiters), pd.closing)


def np_both(scenario: Callable[[Callable[..., Any], Callable[..., Any]], Any]) -> None:
    got: dict[str, Any] = {}
    for name, (wait, dispatch) in np_paths().items():

        def main(
            wait: Callable[..., Any] = wait,
            dispatch: Callable[..., Any] = dispatch,
            name: str = name,
        ) -> None:
            got[name] = scenario(wait, dispatch)

        goroutines.run(main)
    assert got["c"] == got["python"]


@pytest.mark.skipif(npext is None, reason="the accelerator's netpoll port is off here")
def test_wait_consumes_the_ready_flag_and_raises_for_closing_and_deadlines() -> None:
    from goroutines._runtime import netpoll as np

    def scenario(wait: Callable[..., Any], dispatch: Callable[..., Any]) -> Any:
        a, b = socket.socketpair()
        with a, b:
            pd = np.open_fd(a.fileno())
            np.poll_shared()  # the registration's own edges, before the scenario's
            out = []
            pd.wready = True
            out.append((outcome(lambda: wait(pd, np.WRITE)), pd_state(pd)))
            np.set_deadline(pd, np.READ, now() - 1)
            out.append((outcome(lambda: wait(pd, np.READ)), pd_state(pd)))
            np.set_deadline(pd, np.READ, now() + 0.03)
            out.append((outcome(lambda: wait(pd, np.READ)), pd_state(pd)))  # the timer fires
            np.set_deadline(pd, np.READ, None)
            np.close_fd(pd)
            out.append((outcome(lambda: wait(pd, np.READ)), pd_state(pd)))
            return out

    np_both(scenario)


@pytest.mark.skipif(npext is None, reason="the accelerator's netpoll port is off here")
def test_dispatch_wakes_waiters_or_keeps_the_edge_and_deadlines_move_while_waiting() -> None:
    from goroutines._runtime import netpoll as np

    def scenario(wait: Callable[..., Any], dispatch: Callable[..., Any]) -> Any:
        a, b = socket.socketpair()
        with a, b:
            pd = np.open_fd(a.fileno())
            np.poll_shared()  # the registration's own edges, before the scenario's
            pd.rready = pd.wready = False
            out: list[Any] = []
            # no waiter: the edge is kept (the ready flags), rhup is sticky
            dispatch(a.fileno(), np._EP_IN | np._EP_HUP)
            out.append(pd_state(pd))
            pd.rready = False
            dispatch(a.fileno() + 10_000, np._EP_IN)  # an fd nobody polls: nothing
            # a parked reader woken by an edge; a parked writer by a moved deadline
            done: goroutines.Chan[Any] = goroutines.Chan(2)
            go(lambda: done.send(("r", outcome(lambda: wait(pd, np.READ)))))
            go(lambda: done.send(("w", outcome(lambda: wait(pd, np.WRITE)))))
            goroutines.sleep(0.02)
            out.append(pd_state(pd))
            dispatch(a.fileno(), np._EP_IN)
            np.set_deadline(pd, np.WRITE, now() + 0.02)  # looks again, then expires
            got = sorted([done.recv(), done.recv()])
            out.append(got)
            out.append(pd_state(pd))
            np.close_fd(pd)
            return out

    np_both(scenario)


@pytest.mark.skipif(npext is None, reason="the accelerator's netpoll port is off here")
def test_close_wakes_many_waiting_goroutines_through_the_port() -> None:
    from goroutines._runtime import netpoll as np

    def scenario(wait: Callable[..., Any], dispatch: Callable[..., Any]) -> Any:
        a, b = socket.socketpair()
        with a, b:
            pd = np.open_fd(a.fileno())
            np.poll_shared()
            done: goroutines.Chan[Any] = goroutines.Chan(20)
            for i in range(20):
                mode = np.READ if i % 2 else np.WRITE
                pd.wready = False
                go(lambda mode=mode: done.send(outcome(lambda: wait(pd, mode))))
            goroutines.sleep(0.02)
            np.close_fd(pd)
            return sorted(str(done.recv()) for _ in range(20)), pd_state(pd)

    np_both(scenario)

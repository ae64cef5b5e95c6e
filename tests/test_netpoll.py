"""The netpoller under goroutines.net: raw fds (wait_readable, wait_writable,
notify_closing), timeouts, fds closed or reused behind the runtime's back,
deadlock detection, polling while the P is busy, and threads."""

from __future__ import annotations

import os
import random
import resource
import socket
import subprocess
import sys
import threading
import time

import pytest

import goroutines
from _synctest import Thread, wait_blocked
from goroutines import (
    Chan,
    WaitGroup,
    go,
    gosched,
    net,
    notify_closing,
    sleep,
    wait_readable,
    wait_writable,
)
from goroutines._runtime import netpoll
from goroutines.errors import Deadlock, GoroutinePanic
from goroutines.net import DeadlineExceeded, NetClosedError


def test_wait_readable_times_out_with_deadline_exceeded() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            start = time.monotonic()
            with pytest.raises(DeadlineExceeded, match="i/o timeout") as ei:
                wait_readable(a, timeout=0.03)
            assert isinstance(ei.value, TimeoutError)
            assert time.monotonic() - start >= 0.025
            with pytest.raises(DeadlineExceeded):
                wait_readable(a, timeout=0)  # a look: not ready
            b.send(b"x")
            wait_readable(a, timeout=0)  # ready: returns at once
            wait_readable(a, timeout=5)
            wait_writable(b, timeout=0)

    goroutines.run(main)


def test_wait_writable_times_out_on_a_full_socket() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            a.setblocking(False)
            try:
                while True:
                    a.send(b"x" * 65536)
            except BlockingIOError:
                pass
            with pytest.raises(DeadlineExceeded):
                wait_writable(a, timeout=0.02)
            g = go(lambda: wait_writable(a, timeout=10))
            wait_blocked(g, "IO wait")
            b.setblocking(False)
            try:
                while b.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass
            while g.state != "dead":
                sleep(0.001)

    goroutines.run(main)


def test_bad_timeouts_are_rejected() -> None:
    with pytest.raises(TypeError, match="timeout"):
        wait_readable(0, timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        wait_readable(0, timeout=float("nan"))


def test_closing_a_raw_socket_wakes_its_waiter() -> None:
    # A server's listening socket closed while a goroutine waits on it: the
    # waiter wakes with NetClosedError, the program does not hang.
    def main() -> list[str]:
        got: list[str] = []
        ln = socket.socket()
        ln.bind(("127.0.0.1", 0))
        ln.listen()
        wg = WaitGroup()

        def waiter() -> None:
            try:
                wait_readable(ln)
            except NetClosedError as e:
                got.append(str(e))

        wg.go(waiter)
        sleep(0.05)
        ln.close()
        wg.wait()
        return got

    assert goroutines.run(main) == ["use of closed network connection"]


def test_a_closed_raw_fd_hides_no_deadlock() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        g = go(lambda: wait_readable(a))
        wait_blocked(g, "IO wait")
        a.close()
        b.close()
        Chan[None]().recv()

    with pytest.raises((Deadlock, GoroutinePanic)) as ei:
        goroutines.run(main)
    if isinstance(ei.value, GoroutinePanic):
        assert isinstance(ei.value.__cause__, NetClosedError)


def test_notify_closing_wakes_goroutines_and_threads() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        errs: Chan[BaseException | None] = Chan(4)

        def waiter() -> None:
            try:
                wait_readable(a)
                errs.send(None)
            except NetClosedError as e:
                errs.send(e)

        gs = [go(waiter) for _ in range(2)]
        for g in gs:
            wait_blocked(g, "IO wait")
        t = Thread(waiter)
        pd = netpoll._pds[a.fileno()]
        while not pd.rthreads:
            sleep(0.001)
        notify_closing(a)
        got = [errs.recv() for _ in range(3)]
        t.join()
        assert all(isinstance(e, NetClosedError) for e in got), got
        a.close()
        b.close()
        notify_closing(12345)  # an fd nobody waits on: nothing to do

    goroutines.run(main)


def test_a_reused_fd_number_never_inherits_a_stale_registration() -> None:
    # Sockets closed while goroutines wait on them, and new ones getting the
    # same numbers: a goroutine waiting on a new socket is always woken when
    # data arrives, and every waiter on a closed one gets NetClosedError.
    def one(seed: int) -> None:
        rng = random.Random(seed)
        live: list[tuple[socket.socket, socket.socket, Chan[str]]] = []
        closed: list[Chan[str]] = []
        numbers: set[int] = set()
        reused = 0

        def waiter(s: socket.socket, out: Chan[str]) -> None:
            try:
                wait_readable(s, timeout=10)
                out.send("ready")
            except NetClosedError:
                out.send("closed")

        for _ in range(40):
            if rng.random() < 0.5 or not live:
                a, b = socket.socketpair()
                reused += a.fileno() in numbers
                numbers.add(a.fileno())
                out: Chan[str] = Chan(1)
                g = go(waiter, a, out)
                wait_blocked(g, "IO wait")
                if rng.random() < 0.5:
                    b.send(b"!")
                    assert out.recv() == "ready"
                    a.recv(1)
                    out = Chan(1)
                    g = go(waiter, a, out)
                    wait_blocked(g, "IO wait")
                live.append((a, b, out))
            else:
                a, b, out = live.pop(rng.randrange(len(live)))
                a.close()
                b.close()
                closed.append(out)
        for a, b, out in live:
            b.send(b"!")
            assert out.recv() == "ready", "a waiter on a reused fd number was never woken"
            a.close()
            b.close()
        for out in closed:
            assert out.recv() == "closed"
        assert reused > 0, "no fd number was reused: the test tested nothing"

    for seed in range(30):
        goroutines.run(one, seed)


def test_fd_reuse_with_a_new_socket_waited_on_after_the_old_closed() -> None:
    def main() -> None:
        for _ in range(50):
            a, b = socket.socketpair()
            old = a.fileno()
            stale: Chan[BaseException] = Chan(1)

            def old_waiter(a: socket.socket, stale: Chan[BaseException]) -> None:
                try:
                    wait_readable(a, timeout=10)
                except NetClosedError as e:
                    stale.send(e)

            g = go(old_waiter, a, stale)
            wait_blocked(g, "IO wait")
            a.close()
            b.close()
            c, d = socket.socketpair()
            assert old in (c.fileno(), d.fileno())
            reader, writer = (c, d) if c.fileno() == old else (d, c)
            out: Chan[bytes] = Chan(1)
            def new_waiter(reader: socket.socket, out: Chan[bytes]) -> None:
                wait_readable(reader, timeout=10)
                out.send(reader.recv(10))

            go(new_waiter, reader, out)
            writer.send(b"new")
            assert out.recv() == b"new"
            assert isinstance(stale.recv(), NetClosedError)
            c.close()
            d.close()

    goroutines.run(main)


def test_a_busy_p_still_polls_its_sockets() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            out: Chan[bytes] = Chan(1)
            g = go(lambda: (wait_readable(a), out.send(a.recv(10))))
            wait_blocked(g, "IO wait")
            threading.Timer(0.01, b.send, (b"busy",)).start()
            # goroutine 1 never parks: it yields in a bounded loop, so the
            # fd is seen by the P's periodic poll, not by an idle wait.
            for _ in range(2_000_000):
                if g.state == "dead":
                    break
                gosched()
            assert g.state == "dead", "the P never polled while busy"
            assert out.recv() == b"busy"

    goroutines.run(main)


def test_an_unread_socket_does_not_make_an_idle_p_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = [0]
    real = netpoll.poll_shared

    def counting() -> int:
        calls[0] += 1
        return real()

    monkeypatch.setattr(netpoll, "poll_shared", counting)

    def main() -> None:
        with net.listen("tcp", "127.0.0.1:0") as ln, net.dial("tcp", ln.addr):
            s = ln.accept()
            s.write(b"nobody reads this")
            sleep(0.01)
            calls[0] = 0
            sleep(0.2)  # idle: an edge-triggered registration reports nothing more
            s.close()
        assert calls[0] < 10, f"the idle P polled {calls[0]} times"

    goroutines.run(main)


def test_poll_shared_can_be_called_from_any_thread() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            out: Chan[str] = Chan(1)
            g = go(lambda: (wait_readable(a), out.send("woken")))
            wait_blocked(g, "IO wait")
            b.send(b"x")
            n: list[int] = []
            t = threading.Thread(target=lambda: n.append(netpoll.poll_shared()))
            t.start()
            t.join()
            assert out.recv() == "woken"

    goroutines.run(main)


def test_a_thread_waits_on_an_fd_above_1024() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1100:
        pytest.skip("the open-files limit is below 1100")
    if soft < 1100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1100, hard))
    try:
        a, b = socket.socketpair()
        high = os.dup2(a.fileno(), 1050)
        a.close()
        done = threading.Event()

        def thread() -> None:
            wait_readable(high, timeout=10)
            done.set()

        t = threading.Thread(target=thread)
        t.start()
        b.send(b"x")
        t.join(10)
        assert done.is_set()
        with pytest.raises(DeadlineExceeded):
            os.read(high, 1)
            wait_readable(high, timeout=0.01)
        os.close(high)
        b.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_thread_wait_on_a_closed_fd_raises() -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(NetClosedError):
        wait_readable(r, timeout=1)

    def main() -> None:
        with pytest.raises(NetClosedError):
            wait_readable(r, timeout=1)

    goroutines.run(main)


def test_many_goroutines_on_one_raw_fd_all_wake() -> None:
    def main() -> None:
        a, b = socket.socketpair()
        with a, b:
            out: Chan[int] = Chan(20)
            gs = [go(lambda k=k: (wait_readable(a), out.send(k))) for k in range(20)]
            for g in gs:
                wait_blocked(g, "IO wait")
            b.send(b"!")
            assert sorted(out.recv() or 0 for _ in range(20)) == list(range(20))

    goroutines.run(main)


FORK_PROGRAM = """
import os
import goroutines
from goroutines import net


def main():
    with net.listen("tcp", "127.0.0.1:0") as ln, net.dial("tcp", ln.addr) as c:
        s = ln.accept()
        pid = os.fork()
        if pid == 0:  # the child: new sockets, its own epoll
            code = 1
            try:
                with net.listen("tcp", "127.0.0.1:0") as ln2, net.dial("tcp", ln2.addr) as c2:
                    s2 = ln2.accept()
                    c2.write(b"child")
                    code = 0 if s2.read(5) == b"child" else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "the child failed"
        # The parent's registrations survived the child's.
        c.write(b"parent")
        assert s.read(6) == b"parent"
        s.close()
    print("ok")


goroutines.run(main)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_has_a_netpoller_of_its_own() -> None:
    # In a child interpreter: pytest's own process has threads to fork.
    proc = subprocess.run([sys.executable, "-c", FORK_PROGRAM], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr

"""Conn: a stream connection (TCP or Unix) on the netpoller. Go: ``net.Conn``
(TCPConn, UnixConn).

Conn.read and Conn.write (with _wait_drained, and _fd's rwlock / rwunlock
fast paths) are the Python twins of the accelerator's port ``net``
(``_speedups/net.c``), wired at the end of this module: a change to them is
a change to the port (tests/test_twins.py)."""

from __future__ import annotations

import socket
from typing import Any

from .._runtime import accel as _accel
from .._runtime import clock as _clock
from .._runtime import netpoll as _np
from .._runtime.errors import DeadlineExceeded, NetClosedError
from ._fd import (
    _READ,
    _SEND_FLAGS,
    _WRITE,
    _buffer,
    _check_size,
    _expired,
    _FdMutex,
    _NetFD,
    _short,
)


class Conn(_NetFD):
    """A stream connection (TCP or Unix), safe for concurrent use by many
    goroutines and threads. Made by dial, dial_context and Listener.accept.
    Go: ``net.Conn``."""

    __slots__ = ("_drained", "_laddr", "_raddr")

    def __init__(self, sock: socket.socket, remote_addr: Any = None) -> None:
        """Wrap a connected stream socket (it becomes non-blocking and is
        closed with the Conn)."""
        if not isinstance(sock, socket.socket):
            raise TypeError(f"Conn needs a socket.socket, got {type(sock).__name__}")
        self._init_fd(sock)
        # The last read returned less than it asked for: the socket was
        # empty then (guarded by the read lock; see _wait_drained).
        self._drained = False
        self._laddr: Any = None  # looked up on first use
        self._raddr: Any = remote_addr

    def __repr__(self) -> str:
        state = " closed" if self._mu.closing else ""
        return f"<{type(self).__name__} {self._laddr!r} -> {self._raddr!r}{state}>"

    @property
    def local_addr(self) -> Any:
        """This end's address (a tuple, or a path for Unix sockets; None if
        unknown once closed). Go: ``LocalAddr()``."""
        if self._laddr is None:
            try:
                self._laddr = self._sock.getsockname()
            except OSError:
                return None
        return self._laddr

    @property
    def remote_addr(self) -> Any:
        """The peer's address (None if unknown once closed). Go: ``RemoteAddr()``."""
        if self._raddr is None:
            try:
                self._raddr = self._sock.getpeername()
            except OSError:
                return None
        return self._raddr

    def read(self, n: int) -> bytes:
        """Read up to n bytes: whatever has arrived, at least one byte; parks
        until some arrive. ``b""`` at the end of the stream (and for n == 0).

        Raises DeadlineExceeded once the read deadline has passed,
        NetClosedError once closed, ConnectionResetError and the like as
        the system reports them. Go: ``Read(b)``.
        """
        if n.__class__ is not int or n < 0:
            _check_size("read", n)
        mu = self._mu
        mu.rwlock(True)
        try:
            if n == 0:
                return b""
            pd = self._pd
            recv = self._sock.recv
            if self._drained:
                self._wait_drained(pd)
            while True:
                d = pd.rdeadline
                if d and _expired(d):
                    raise DeadlineExceeded()
                try:
                    data = recv(n)
                except BlockingIOError:
                    _np.wait(pd, _READ)
                    continue
                except InterruptedError:
                    continue
                if 0 < len(data) < n:
                    self._drained = True
                return data
        finally:
            if mu.rwunlock(True):
                self._last()

    def read_into(self, buf: Any) -> int:
        """Read into a writable buffer; the number of bytes read (0 at the end
        of the stream). Otherwise as read."""
        mv = memoryview(buf)
        mu = self._mu
        mu.rwlock(True)
        try:
            if mv.nbytes == 0:
                return 0
            pd = self._pd
            recv_into = self._sock.recv_into
            if self._drained:
                self._wait_drained(pd)
            while True:
                d = pd.rdeadline
                if d and _expired(d):
                    raise DeadlineExceeded()
                try:
                    got = recv_into(mv)
                except BlockingIOError:
                    _np.wait(pd, _READ)
                    continue
                except InterruptedError:
                    continue
                if 0 < got < mv.nbytes:
                    self._drained = True
                return got
        finally:
            if mu.rwunlock(True):
                self._last()

    def _wait_drained(self, pd: _np.PollDesc) -> None:
        """The last read emptied the socket (it returned less than it asked
        for): wait for the edge of what arrived since, rather than try a recv
        that would say EAGAIN (see netpoll's header). Unless an edge said end
        of stream or an error, which a short read leaves pending. Holds the
        read lock."""
        self._drained = False
        if pd.rhup:
            return
        d = pd.rdeadline
        if d and _expired(d):
            raise DeadlineExceeded()
        _np.wait(pd, _READ)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write all of data, parking while the socket's buffer is full;
        returns len(data). Concurrent writes never interleave.

        Raises (with ``.written``, the bytes that went out) DeadlineExceeded
        once the write deadline has passed, NetClosedError once closed,
        BrokenPipeError / ConnectionResetError as the system reports them.
        TypeError for a str. Go: ``Write(b)`` (n == len(b) or an error).
        """
        if data.__class__ is bytes:
            mv: Any = data
            total = len(data)
        else:
            mv = _buffer("write", data)
            total = mv.nbytes
        mu = self._mu
        try:
            mu.rwlock(False)
        except NetClosedError as e:
            raise _short(e, 0)  # noqa: B904 - the same exception, annotated
        sent = 0
        try:
            pd = self._pd
            send = self._sock.send
            while True:
                d = pd.wdeadline
                if d and _expired(d):
                    raise DeadlineExceeded()
                try:
                    if sent:
                        sent += send(mv[sent:], _SEND_FLAGS)
                    else:
                        if total == 0:
                            return 0
                        sent = send(mv, _SEND_FLAGS)
                        if sent >= total:
                            return total
                        if mv.__class__ is bytes:
                            mv = memoryview(mv)  # slices without copies
                    if sent >= total:
                        return total
                except BlockingIOError:
                    _np.wait(pd, _WRITE)
                except InterruptedError:
                    pass
        except OSError as e:
            raise _short(e, sent)  # noqa: B904 - the same exception, annotated
        finally:
            if mu.rwunlock(False):
                self._last()

    def close_write(self) -> None:
        """Shut down the writing side (the peer reads end of stream); reads
        go on. Go: ``CloseWrite()`` (TCPConn, UnixConn)."""
        mu = self._mu
        mu.incref()
        try:
            self._sock.shutdown(socket.SHUT_WR)
        finally:
            if mu.decref():
                self._last()

    def close_read(self) -> None:
        """Shut down the reading side. Go: ``CloseRead()``."""
        mu = self._mu
        mu.incref()
        try:
            self._sock.shutdown(socket.SHUT_RD)
        finally:
            if mu.decref():
                self._last()


if _accel.port("net") is not None:
    _accel.wire(
        "net",
        Conn,
        {"read": "conn_read", "write": "conn_write"},
        cls=Conn,
        fdmutex=_FdMutex,
        polldesc=_np.PollDesc,
        py_read=Conn.read,
        py_write=Conn.write,
        netpoll=_np,
        clock=_clock,
        deadline_exceeded=DeadlineExceeded,
        send_flags=_SEND_FLAGS,
    )

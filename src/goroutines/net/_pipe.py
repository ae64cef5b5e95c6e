"""``goroutines.net.pipe()``: a synchronous, in-memory, full-duplex connection
(Go's ``net.Pipe``), re-exported by ``goroutines.net``.

Each end is a ``PipeConn`` with the methods of ``goroutines.net.Conn``
(``read``, ``read_into``, ``write``, ``close``, ``close_write``,
``close_read``, ``local_addr``, ``remote_addr``, the three deadline setters,
context manager), so code written against a Conn runs on it. There is no
buffering: a write blocks until the other end has read all of it, each read
takes part or all of one write (Go's rule). Since every wait is on channels
and ``select``, a goroutine of a synctest bubble blocked on a pipe is durably
blocked, and deadlines are on the runtime's clock (``goroutines.now()``),
the bubble's inside a bubble: network code is tested on it with virtual time.

The construction follows Go's: per direction, a channel the writer offers its
bytes on and one the reader answers with how many it took; a ``done``
channel per end, closed by ``close``; per end and direction, one closed by
``close_write`` / ``close_read``; and a deadline per direction (Go's
pipeDeadline: a channel closed by an ``after_func`` timer). Errors, in the
library's words: a closed end's own operations raise ``NetClosedError``
("io: read/write on closed pipe", Go's ``io.ErrClosedPipe``); a read after
the other end closed (or called ``close_write``) returns ``b""``; a write
after the other end closed (or called ``close_read``) raises
``BrokenPipeError``, as a socket's does; an expired deadline raises
``DeadlineExceeded``. A failed write carries ``.written``, the bytes the
other end took before it, as ``Conn.write``'s errors do.
"""

from __future__ import annotations

import io
from typing import Any, Final

from .._chan import Chan
from .._runtime import clock as _clock
from .._runtime.errors import DeadlineExceeded, NetClosedError
from .._select import recv, select, send
from .._sync import Mutex, Once
from .._time import Timer, after_func
from ._fd import _check_deadline, _Closer
from ._fd import _short as _written

__all__ = ["PipeConn", "pipe"]

ERR_CLOSED_PIPE: Final = "io: read/write on closed pipe"
PIPE_ADDR: Final = "pipe"  # Go's pipeAddr: network and address "pipe"


class _Deadline:
    """Go's pipeDeadline: ``wait()`` is a channel closed once the deadline
    has passed; ``set`` applies to the operations already waiting on it."""

    __slots__ = ("_cancel", "_mu", "_timer")

    def __init__(self) -> None:
        self._mu = Mutex()
        self._timer: Timer | None = None
        self._cancel: Chan[None] = Chan()

    def set(self, t: float | None) -> None:
        with self._mu:
            timer = self._timer
            if timer is not None and not timer.stop():
                self._cancel.recv()  # its function is closing _cancel: wait for it
            self._timer = None
            closed = self._cancel.closed
            if t is None:
                if closed:
                    self._cancel = Chan()
                return
            d = t - _clock.read()
            if d > 0:
                if closed:
                    self._cancel = Chan()
                self._timer = after_func(d, self._cancel.close)
                return
            if not closed:
                self._cancel.close()

    def wait(self) -> Chan[None]:
        with self._mu:
            return self._cancel


class _Ends:
    """The channels of one direction, shared by the writing and reading end."""

    __slots__ = ("ack", "data", "rd_shut", "wr_shut")

    def __init__(self) -> None:
        self.data: Chan[memoryview] = Chan()
        self.ack: Chan[int] = Chan()
        self.wr_shut: Chan[None] = Chan()  # the writing end's close_write
        self.rd_shut: Chan[None] = Chan()  # the reading end's close_read


class PipeConn(_Closer):
    """One end of ``goroutines.net.pipe()``: a ``goroutines.net.Conn`` in
    memory (module docstring), safe for concurrent use by many goroutines
    and threads. Go: the ``net.Conn`` ``net.Pipe`` returns."""

    __slots__ = ("__weakref__", "_close_once", "_done", "_in", "_out", "_peer_done",
                 "_rd_deadline", "_shut_once", "_wr_deadline", "_wr_mu")

    def __init__(self, inbound: _Ends, outbound: _Ends, done: Chan[None], peer_done: Chan[None]) -> None:
        self._in = inbound
        self._out = outbound
        self._done = done
        self._peer_done = peer_done
        self._wr_mu = Mutex()  # writes never interleave
        self._rd_deadline = _Deadline()
        self._wr_deadline = _Deadline()
        self._close_once = Once()
        self._shut_once = (Once(), Once())

    def __repr__(self) -> str:
        state = " closed" if self._done.closed else ""
        return f"<PipeConn{state}>"

    @property
    def local_addr(self) -> str:
        """``"pipe"`` (Go's pipeAddr)."""
        return PIPE_ADDR

    @property
    def remote_addr(self) -> str:
        """``"pipe"`` (Go's pipeAddr)."""
        return PIPE_ADDR

    def fileno(self) -> int:
        """A pipe has no file descriptor: raises io.UnsupportedOperation."""
        raise io.UnsupportedOperation("fileno: a net.pipe() end has no file descriptor")

    # -- reading ------------------------------------------------------------

    def _take(self, n: int) -> memoryview | None:
        """Wait for the other end's next write and take up to n bytes of it;
        None at end of stream."""
        ends = self._in
        if self._done.closed:
            raise NetClosedError(ERR_CLOSED_PIPE)
        if self._peer_done.closed or ends.wr_shut.closed or ends.rd_shut.closed:
            return None
        dl = self._rd_deadline.wait()
        if dl.closed:
            raise DeadlineExceeded()
        i, v = select(
            recv(ends.data), recv(self._done), recv(self._peer_done), recv(ends.wr_shut),
            recv(ends.rd_shut), recv(dl),
        )
        if i == 0:
            assert isinstance(v, memoryview)
            chunk = v[:n]
            ends.ack.send(len(chunk))
            return chunk
        if i == 1:
            raise NetClosedError(ERR_CLOSED_PIPE)
        if i == 5:
            raise DeadlineExceeded()
        return None

    def read(self, n: int) -> bytes:
        """Read up to n bytes of the other end's current write; parks until
        it writes. ``b""`` at the end of the stream (the other end closed, or
        called close_write) and for n == 0. Raises DeadlineExceeded once the
        read deadline has passed, NetClosedError once this end is closed.
        Go: ``Read(b)``."""
        if n.__class__ is not int or n < 0:
            if isinstance(n, bool) or not isinstance(n, int):
                raise TypeError(f"read: n must be an int, got {type(n).__name__}")
            raise ValueError(f"read: n must be >= 0, got {n}")
        if n == 0:
            if self._done.closed:
                raise NetClosedError(ERR_CLOSED_PIPE)
            return b""
        chunk = self._take(n)
        return b"" if chunk is None else bytes(chunk)

    def read_into(self, buf: Any) -> int:
        """Read into a writable buffer; the number of bytes read (0 at the end
        of the stream). Otherwise as read."""
        mv = memoryview(buf).cast("B")
        if mv.readonly:
            raise TypeError("read_into: the buffer must be writable")
        if mv.nbytes == 0:
            if self._done.closed:
                raise NetClosedError(ERR_CLOSED_PIPE)
            return 0
        chunk = self._take(mv.nbytes)
        if chunk is None:
            return 0
        k = len(chunk)
        mv[:k] = chunk
        return k

    # -- writing ------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write all of data: parks until the other end has read all of it;
        returns len(data). Concurrent writes never interleave. Raises (with
        ``.written``) DeadlineExceeded once the write deadline has passed,
        NetClosedError once this end is closed, BrokenPipeError once the
        other end is closed (or called close_read, or this end close_write).
        TypeError for a str. Go: ``Write(b)``."""
        if isinstance(data, str):
            raise TypeError("write: data must be bytes-like (bytes, bytearray, memoryview), got str; "
                            "encode it first")
        try:
            mv = memoryview(data).cast("B")
        except TypeError:
            raise TypeError(
                f"write: data must be bytes-like (bytes, bytearray, memoryview), got {type(data).__name__}"
            ) from None
        ends = self._out
        self._check_write(ends, 0)
        total = mv.nbytes
        n = 0
        with self._wr_mu:
            once = True
            while once or n < total:
                once = False
                self._check_write(ends, n)
                dl = self._wr_deadline.wait()
                i, _ = select(
                    send(ends.data, mv[n:]), recv(self._done), recv(self._peer_done),
                    recv(ends.rd_shut), recv(ends.wr_shut), recv(dl),
                )
                if i == 0:
                    n += ends.ack.recv() or 0
                    continue
                if i == 1:
                    raise _written(NetClosedError(ERR_CLOSED_PIPE), n)
                if i == 5:
                    raise _written(DeadlineExceeded(), n)
                raise _written(BrokenPipeError(ERR_CLOSED_PIPE), n)
        return n

    def _check_write(self, ends: _Ends, n: int) -> None:
        if self._done.closed:
            raise _written(NetClosedError(ERR_CLOSED_PIPE), n)
        if self._peer_done.closed or ends.rd_shut.closed or ends.wr_shut.closed:
            raise _written(BrokenPipeError(ERR_CLOSED_PIPE), n)
        if self._wr_deadline.wait().closed:
            raise _written(DeadlineExceeded(), n)

    # -- closing and deadlines ----------------------------------------------

    def close(self) -> None:
        """Close this end: its blocked and later operations raise
        NetClosedError; the other end reads end of stream and its writes
        raise BrokenPipeError. Closing again does nothing. Go: ``Close()``."""
        self._close_once.do(self._done.close)

    def close_write(self) -> None:
        """Shut down this end's writing side: the other end reads end of
        stream; reads here go on. Go: ``CloseWrite()`` (of TCPConn)."""
        self._shut_once[0].do(self._out.wr_shut.close)

    def close_read(self) -> None:
        """Shut down this end's reading side: reads here return ``b""``, the
        other end's writes raise BrokenPipeError. Go: ``CloseRead()``."""
        self._shut_once[1].do(self._in.rd_shut.close)

    def set_deadline(self, t: float | None) -> None:
        """Set the read and the write deadline (a goroutines.now() time, or
        None for none); it applies to operations already waiting. Go:
        ``SetDeadline(t)``."""
        t = _check_deadline(t)
        self._rd_deadline.set(t)
        self._wr_deadline.set(t)

    def set_read_deadline(self, t: float | None) -> None:
        """The read deadline alone. Go: ``SetReadDeadline(t)``."""
        self._rd_deadline.set(_check_deadline(t))

    def set_write_deadline(self, t: float | None) -> None:
        """The write deadline alone. Go: ``SetWriteDeadline(t)``."""
        self._wr_deadline.set(_check_deadline(t))


def pipe() -> tuple[PipeConn, PipeConn]:
    """A synchronous, in-memory, full-duplex connection: two ends, each a
    Conn; what one writes the other reads, with no buffering (a write waits
    for the reads that take it). Go: ``net.Pipe()``."""
    a_to_b = _Ends()
    b_to_a = _Ends()
    done_a: Chan[None] = Chan()
    done_b: Chan[None] = Chan()
    a = PipeConn(b_to_a, a_to_b, done_a, done_b)
    b = PipeConn(a_to_b, b_to_a, done_b, done_a)
    return a, b

"""The socket every goroutines.net object wraps: ``_NetFD`` (Go's netFD +
internal/poll.FD), its ``_FdMutex`` (Go's fdMutex), ``_Closer`` (the
context-manager methods, shared with the in-memory pipe), and the argument
checks the operations share."""

from __future__ import annotations

import socket
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from .._runtime import accel as _accel
from .._runtime import clock as _clock
from .._runtime import netpoll as _np
from .._runtime import proc as _proc
from .._runtime import sched as _sched
from .._runtime.errors import NetClosedError
from .._runtime.g import WAIT_SEMACQUIRE
from .._runtime.waiter import Waiter, new_token

_READ = _np.READ
_WRITE = _np.WRITE
_tls = _sched.tls
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)
_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0) | getattr(socket, "SOCK_CLOEXEC", 0)
T = TypeVar("T")


# ---------------------------------------------------------------------------
# Go's fdMutex: serialised reads, serialised writes, and references


_mutex_lock: Any = _accel.lock_type("net")  # an fdMutex's (the port takes it in C)


class _FdMutex:
    """Reference count, closing flag and the read and write locks of one
    socket (Go's internal/poll fdMutex). Fields guarded by ``lock``.

    Invariants, whenever ``lock`` is free:
      * refs counts the operations holding the socket (each holder of the
        read or write lock among them) plus one for close() while it runs;
      * closing never goes back to False; once closing, nobody new gets a
        reference, and the socket is closed when refs drops to 0;
      * rq / wq hold the waiters for a held read / write lock; a waiter is
        handed the lock (its token won, ``ok`` True) with its reference.
    """

    __slots__ = ("closer", "closing", "destroy", "lock", "refs", "rlocked", "rq", "wlocked", "wq")

    def __init__(self, destroy: Callable[[], None] | None = None) -> None:
        self.lock = _mutex_lock()  # guards every field below
        self.refs = 0
        self.closing = False
        self.rlocked = False
        self.wlocked = False
        # Made on first contention: most sockets never queue anybody, and a
        # deque costs ~600 bytes (10,000 idle connections hold these).
        self.rq: list[Waiter] | None = None
        self.wq: list[Waiter] | None = None
        self.closer: Waiter | None = None  # close() waiting for the last reference
        # The owner's _last (a weak method: no cycle), for an abandoned wait.
        self.destroy: Any = None if destroy is None else weakref.WeakMethod(destroy)

    def incref(self) -> None:
        """A reference for an operation that needs neither lock."""
        with self.lock:
            if self.closing:
                raise NetClosedError()
            self.refs += 1

    def decref(self) -> bool:
        """Drop a reference; True when the caller must close the socket now."""
        with self.lock:
            self.refs -= 1
            return self.closing and self.refs == 0

    def rwlock(self, read: bool) -> None:
        """Take the read (or write) lock and a reference; parks while another
        operation of that direction holds it. Raises NetClosedError."""
        lock = self.lock
        lock.acquire()
        if self.closing:
            lock.release()
            raise NetClosedError()
        if read:
            if not self.rlocked:
                self.rlocked = True
                self.refs += 1
                lock.release()
                return
            q = self.rq
            if q is None:
                q = self.rq = []
        else:
            if not self.wlocked:
                self.wlocked = True
                self.refs += 1
                lock.release()
                return
            q = self.wq
            if q is None:
                q = self.wq = []
        if _tls.p is None:
            _sched.getp()
        w = _proc.current_waiter(new_token())
        q.append(w)
        lock.release()
        try:
            w.park(WAIT_SEMACQUIRE)
        except BaseException:
            with lock:
                if w in q:
                    q.remove(w)
                    handed = False
                else:
                    handed = w.ok
            if handed and self.rwunlock(read):
                # Handed the lock as the park ended otherwise, and it was the
                # last reference of a closing socket: close it.
                last = self.destroy() if self.destroy is not None else None
                if last is not None:
                    last()
            raise
        if not w.ok:
            raise NetClosedError()

    def rwunlock(self, read: bool) -> bool:
        """Give the lock to the next waiter or free it, and drop the caller's
        reference; True when the caller must close the socket now."""
        lock = self.lock
        lock.acquire()
        q = self.rq if read else self.wq
        while q and not self.closing:
            w = q.pop(0)
            if w.token.acquire(False):
                w.ok = True
                w.done = True
                lock.release()  # the lock and a reference pass to w
                w.wake()
                return False
        if read:
            self.rlocked = False
        else:
            self.wlocked = False
        self.refs -= 1
        close = self.closing and self.refs == 0
        lock.release()
        return close

    def start_close(self) -> bool:
        """Mark closing and take a reference; wake the waiters for the locks
        with NetClosedError. False when it was closing already."""
        with self.lock:
            if self.closing:
                return False
            self.closing = True
            self.refs += 1
            ws = (self.rq or []) + (self.wq or [])
            self.rq = self.wq = None
        for w in ws:
            if w.token.acquire(False):
                w.ok = False
                w.done = True
                w.wake()
        return True

    def finish_close(self) -> bool:
        """close()'s end: drop its reference; True when the caller must close
        the socket now, else wait until the last operation has closed it (Go's
        Close waits the same way, so the fd is closed when close returns)."""
        lock = self.lock
        lock.acquire()
        self.refs -= 1
        if self.refs == 0:
            lock.release()
            return True
        if _tls.p is None:
            _sched.getp()
        w = _proc.current_waiter(new_token())
        self.closer = w
        lock.release()
        w.park(WAIT_SEMACQUIRE)
        return False

    def closed(self) -> None:
        """The socket is closed: wake close() if it waits for that."""
        with self.lock:
            w = self.closer
            self.closer = None
        if w is not None and w.token.acquire(False):
            w.ok = True
            w.done = True
            w.wake()


def _check_deadline(t: object) -> float | None:
    if t is None:
        return None
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise TypeError(
            f"deadline must be a goroutines.now() time (int or float) or None, got {type(t).__name__}"
        )
    if t != t:
        raise ValueError("deadline must be a time, got NaN")
    return float(t)


def _check_size(op: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{op}: n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"{op}: n must be >= 0, got {n}")
    return n


def _buffer(op: str, data: object) -> memoryview:
    if isinstance(data, str):
        raise TypeError(f"{op}: data must be bytes-like (bytes, bytearray, memoryview), got str; "
                        "encode it first")
    try:
        mv = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{op}: data must be bytes-like (bytes, bytearray, memoryview), got {type(data).__name__}"
        ) from None
    if mv.itemsize != 1 or mv.ndim != 1 or not mv.c_contiguous:
        mv = mv.cast("B") if mv.c_contiguous else memoryview(mv.tobytes())
    return mv


def _expired(d: float) -> bool:
    return bool(d) and d <= _clock.read()


def _short(e: BaseException, written: int) -> BaseException:
    """e, carrying how many bytes went out before it (``.written``)."""
    try:
        e.written = written  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with slots
        pass
    return e


# ---------------------------------------------------------------------------
# The socket every object below wraps


class _Closer:
    """The context-manager methods of everything ``goroutines.net`` hands
    out (sockets and pipe ends): ``with`` closes it at the end."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _NetFD(_Closer):
    """A non-blocking socket registered with the netpoller, its fdMutex and
    its deadlines (Go's netFD + poll.FD). Shared by the public classes."""

    __slots__ = ("__weakref__", "_mu", "_pd", "_sock")

    _sock: socket.socket
    _pd: _np.PollDesc
    _mu: _FdMutex

    def _init_fd(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._mu = _FdMutex(self._last)
        self._pd = _np.open_fd(sock.fileno())

    def fileno(self) -> int:
        """The socket's file descriptor (-1 once closed). Do not read or close
        it behind the object's back."""
        return self._sock.fileno()

    def close(self) -> None:
        """Close it: every goroutine and thread blocked on it wakes with
        NetClosedError, later operations raise NetClosedError. Idempotent.
        Go: ``Close()``."""
        mu = self._mu
        if not mu.start_close():
            return
        _np.close_fd(self._pd)
        if mu.finish_close():
            self._destroy()

    def _destroy(self) -> None:
        self._sock.close()

    def _last(self) -> None:
        """The last reference of a closing socket went: close it, and wake close()."""
        self._destroy()
        self._mu.closed()

    def set_deadline(self, t: float | None) -> None:
        """Set the read and write deadlines: an absolute ``goroutines.now()``
        time, or None for none. Operations already waiting see it; once it
        passes they raise DeadlineExceeded. Go: ``SetDeadline(t)``."""
        self._set_deadline(_READ | _WRITE, _check_deadline(t))

    def set_read_deadline(self, t: float | None) -> None:
        """The read deadline alone (see set_deadline). Go: ``SetReadDeadline(t)``."""
        self._set_deadline(_READ, _check_deadline(t))

    def set_write_deadline(self, t: float | None) -> None:
        """The write deadline alone (see set_deadline). Go: ``SetWriteDeadline(t)``."""
        self._set_deadline(_WRITE, _check_deadline(t))

    def _set_deadline(self, mode: int, t: float | None) -> None:
        mu = self._mu
        mu.incref()
        try:
            _np.set_deadline(self._pd, mode, t)
        finally:
            if mu.decref():
                self._last()

"""goroutines.net: Go's net package on the netpoller.

Servers and clients written the Go way: one goroutine per connection, code
that reads as if it blocked, and the netpoller (_runtime/netpoll.py) parking
each goroutine until its socket is ready. ``listen``/``dial``/``dial_context``
make a ``Listener`` or a ``Conn``; ``listen_packet`` a ``PacketConn`` (UDP);
``tls_client``/``tls_server`` wrap a Conn in TLS (an ``ssl.SSLContext``);
``copy`` is Go's ``io.Copy``.

Every socket is non-blocking and registered once with the netpoller
(edge-triggered). An operation tries the system call first, and waits for
readiness only after it said EAGAIN (Go's internal/poll.FD).

Concurrency (Go's fdMutex, ``_FdMutex`` below): a Conn may be used by many
goroutines and threads at once. Reads are serialised among themselves, and
so are writes (a write is never interleaved with another: each goes out
whole, or raises), while a read and a write run at the same time. Every
operation holds a reference to the socket: ``close()`` marks it closing,
wakes every goroutine blocked on it (in the netpoller or queued for the
read or write lock) with NetClosedError, and the socket is closed by the
last operation to let go of it, so a system call never runs on an fd
number that was closed and reused meanwhile.

Deadlines (Go's SetDeadline): an absolute ``goroutines.now()`` time per
direction; None clears it. It applies to operations already waiting and
can be moved while they wait; once it has passed every operation of that
direction raises DeadlineExceeded (``i/o timeout``), before trying, until
it is moved or cleared. A write cut short raises with ``.written``, the
number of bytes that went out.

Name resolution (``getaddrinfo``) runs on a blocking() helper thread, so a
goroutine resolving a name never blocks its P (Go's cgo resolver does the
same); IP literals are parsed in place.

Departures from Go, on purpose:
  * ``close()`` is idempotent (Python's convention for files and sockets,
    and ``with`` after an explicit close); Go's second Close returns
    ErrClosed. Every other operation on a closed Conn raises NetClosedError.
  * ``listen("tcp", ":port")`` listens on IPv4's wildcard address
    (``0.0.0.0``), not on a dual-stack socket; use "tcp6" or "[::]:port"
    for IPv6.
  * Addresses are Python's socket addresses: ``(host, port)`` tuples (four
    items for IPv6) and paths for Unix sockets, not net.Addr values.

Lock order: an ``_FdMutex``'s ``lock`` is a leaf taken before nothing but
park tokens (tried); a TLS connection's ``_ssl_lock`` is held only around
one non-blocking OpenSSL call (the OpenSSL object may not be entered by two
threads at once; the interpreter releases the GIL inside it).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import ssl
import sys
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, TypeVar, final

from ._chan import Chan
from ._go import go, notify_closing, wait_readable, wait_writable
from ._pipe import pipe as pipe
from ._runtime import blocking as _blocking
from ._runtime import clock as _clock
from ._runtime import netpoll as _np
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.errors import DeadlineExceeded, NetClosedError
from ._runtime.g import WAIT_SEMACQUIRE
from ._runtime.waiter import Waiter, new_token
from ._select import recv, select
from .context import Context

__all__ = [
    "Conn",
    "DeadlineExceeded",
    "Listener",
    "NetClosedError",
    "PacketConn",
    "TLSConn",
    "copy",
    "dial",
    "dial_context",
    "join_host_port",
    "listen",
    "listen_packet",
    "notify_closing",
    "pipe",
    "split_host_port",
    "tls_client",
    "tls_server",
    "wait_readable",
    "wait_writable",
]

Address = str | tuple[Any, ...]
"""A network address: ``"host:port"`` as Go writes it, a Python socket
address tuple, or a Unix socket's path."""

_READ = _np.READ
_WRITE = _np.WRITE
_tls = _sched.tls
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)
_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0) | getattr(socket, "SOCK_CLOEXEC", 0)

_STREAM_NETWORKS = ("tcp", "tcp4", "tcp6", "unix")
_PACKET_NETWORKS = ("udp", "udp4", "udp6")
T = TypeVar("T")


# ---------------------------------------------------------------------------
# Go's fdMutex: serialised reads, serialised writes, and references


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
        self.lock = threading.Lock()  # guards every field below
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


# ---------------------------------------------------------------------------
# Addresses


def split_host_port(hostport: str) -> tuple[str, str]:
    """Split ``"host:port"``, ``"[host]:port"`` or ``":port"`` into host and
    port. Raises ValueError naming the problem. Go: ``net.SplitHostPort``."""
    if not isinstance(hostport, str):
        raise TypeError(f"address must be a str, got {type(hostport).__name__}")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ValueError(f"address {hostport}: missing ']' in address")
        host, rest = hostport[1:end], hostport[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"address {hostport}: missing port in address")
        return host, rest[1:]
    i = hostport.rfind(":")
    if i < 0:
        raise ValueError(f"address {hostport}: missing port in address")
    host, port = hostport[:i], hostport[i + 1 :]
    if ":" in host:
        raise ValueError(f"address {hostport}: too many colons in address")
    return host, port


def join_host_port(host: str, port: int | str) -> str:
    """``"host:port"``, with brackets around an IPv6 host. Go: ``net.JoinHostPort``."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def _port(port: Any, address: object) -> int:
    if isinstance(port, bool):
        raise TypeError(f"address {address!r}: port must be an int, got bool")
    if isinstance(port, str):
        if port.isdigit():
            n = int(port)
        elif port == "":
            raise ValueError(f"address {address}: missing port in address")
        else:
            try:
                n = socket.getservbyname(port)
            except OSError:
                raise ValueError(f"address {address}: unknown port") from None
    elif isinstance(port, int):
        n = port
    else:
        raise TypeError(f"address {address!r}: port must be an int, got {type(port).__name__}")
    if not 0 <= n <= 65535:
        raise ValueError(f"address {address}: invalid port")
    return n


def _check_network(op: str, network: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(network, str):
        raise TypeError(f"{op}: network must be a str, got {type(network).__name__}")
    if network not in allowed:
        raise ValueError(
            f"{op} {network}: unknown network {network} (expected one of {', '.join(allowed)})"
        )
    return network


def _families(network: str) -> tuple[int, ...]:
    if network.endswith("4"):
        return (socket.AF_INET,)
    if network.endswith("6"):
        return (socket.AF_INET6,)
    return (socket.AF_INET, socket.AF_INET6)


def _host_port(op: str, network: str, address: object) -> tuple[str, int]:
    if isinstance(address, str):
        host, port = split_host_port(address)
        return host, _port(port, address)
    if isinstance(address, tuple) and len(address) in (2, 4) and isinstance(address[0], str):
        return address[0], _port(address[1], address)
    raise TypeError(
        f"{op} {network}: address must be 'host:port' or a (host, port) tuple, got {address!r}"
    )


def _literal(host: str) -> int | None:
    """The family of an IP literal (zone allowed), else None."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return socket.AF_INET if ip.version == 4 else socket.AF_INET6


def _getaddrinfo(host: str, port: int, family: int, socktype: int, flags: int) -> list[Any]:
    return socket.getaddrinfo(host, port, family, socktype, 0, flags)


def _resolve(
    op: str, network: str, address: object, socktype: int, passive: bool, ctx: Context | None = None
) -> list[tuple[int, Any]]:
    """[(family, sockaddr)] for an inet address: literals at once, names on a
    helper thread (a goroutine's P never blocks in getaddrinfo)."""
    host, port = _host_port(op, network, address)
    fams = _families(network)
    if host == "":
        # Go: an empty host listens on every address, dials the local system.
        if passive:
            host = "::" if fams == (socket.AF_INET6,) else "0.0.0.0"
        else:
            host = "::1" if fams == (socket.AF_INET6,) else "127.0.0.1"
    if isinstance(address, tuple) and len(address) == 4:
        fam = socket.AF_INET6
        if fam not in fams:
            raise ValueError(f"{op} {network}: address {address!r}: IPv6 address for {network}")
        return [(fam, (host, port, address[2], address[3]))]
    lit = _literal(host)
    family = fams[0] if len(fams) == 1 else socket.AF_UNSPEC
    if lit is not None:
        if lit not in fams:
            raise ValueError(f"{op} {network}: address {host}: no suitable address")
        infos = _getaddrinfo(host, port, lit, socktype, socket.AI_NUMERICHOST)
    else:
        flags = socket.AI_PASSIVE if passive else 0
        try:
            if ctx is not None:
                infos = _resolve_in_ctx(ctx, host, port, family, socktype, flags)
            else:
                infos = _blocking.blocking_call(
                    _getaddrinfo, (host, port, family, socktype, flags), {}
                )
        except socket.gaierror as e:
            raise socket.gaierror(e.errno, f"{op} {network}: lookup {host}: {e.strerror}") from None
    out = [(fam, sa) for fam, _t, _p, _c, sa in infos if fam in fams]
    if passive:
        # Go listens on one of a name's addresses, an IPv4 one first.
        out.sort(key=lambda t: t[0] != socket.AF_INET)
    if not out:
        raise OSError(errno.EADDRNOTAVAIL, f"{op} {network}: lookup {host}: no suitable address")
    return out


def _resolve_in_ctx(
    ctx: Context, host: str, port: int, family: int, socktype: int, flags: int
) -> list[Any]:
    """getaddrinfo on a helper thread, given up (the context's error) once
    ctx is done. The lookup itself cannot be interrupted: it finishes on its
    own and its result is dropped."""
    err = ctx.err()
    if err is not None:
        raise err
    if _sched.getp() is None:
        return _getaddrinfo(host, port, family, socktype, flags)
    box: Chan[tuple[bool, Any]] = Chan(1)  # buffered: the lookup never waits for us

    def lookup() -> None:
        try:
            r: tuple[bool, Any] = (
                True,
                _blocking.blocking_call(_getaddrinfo, (host, port, family, socktype, flags), {}),
            )
        except Exception as e:
            r = (False, e)
        box.send(r)

    go(lookup)
    i, v = select(recv(box), recv(ctx.done()))
    if i == 1:
        err = ctx.err()
        assert err is not None
        raise err
    assert v is not None
    ok, value = v
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _unix_path(op: str, network: str, address: object) -> str | bytes:
    if isinstance(address, (str, bytes)) and address:
        return address
    if isinstance(address, os.PathLike):
        p: str | bytes = os.fspath(address)
        if p:
            return p
    raise TypeError(f"{op} {network}: address must be a socket path, got {address!r}")


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


class _NetFD:
    """A non-blocking socket registered with the netpoller, its fdMutex and
    its deadlines (Go's netFD + poll.FD). Shared by the public classes."""

    __slots__ = ("__weakref__", "_mu", "_pd", "_sock")

    _sock: socket.socket
    _pd: _np.PollDesc
    _mu: _FdMutex

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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


# ---------------------------------------------------------------------------
# Conn


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


# ---------------------------------------------------------------------------
# Listener


@final
class Listener(_NetFD):
    """A stream listener (TCP or Unix). Go: ``net.Listener``."""

    __slots__ = ("_addr", "_unlink")

    def __init__(self, sock: socket.socket, unlink: str | bytes | None = None) -> None:
        """Wrap a listening socket (listen() makes them)."""
        self._init_fd(sock)
        self._addr: Any = sock.getsockname()
        self._unlink = unlink

    def __repr__(self) -> str:
        state = " closed" if self._mu.closing else ""
        return f"<Listener {self._addr!r}{state}>"

    @property
    def addr(self) -> Any:
        """The address it listens on (with the port the system chose for
        port 0). Go: ``Addr()``."""
        return self._addr

    def accept(self) -> Conn:
        """Wait for and return the next connection. Raises NetClosedError once
        the listener is closed (a server loop's way out), DeadlineExceeded
        past its deadline. Go: ``Accept()``."""
        mu = self._mu
        mu.rwlock(True)
        try:
            pd = self._pd
            sock = self._sock
            accept = sock._accept  # type: ignore[attr-defined]
            while True:
                d = pd.rdeadline
                if d and _expired(d):
                    raise DeadlineExceeded()
                try:
                    fd, addr = accept()
                except BlockingIOError:
                    _np.wait(pd, _READ)
                    continue
                except InterruptedError:
                    continue
                except ConnectionAbortedError:
                    continue  # Go retries ECONNABORTED too
                s = socket.socket(sock.family, sock.type, sock.proto, fileno=fd)
                if sock.family != socket.AF_UNIX:
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return Conn(s, addr if addr else None)
        finally:
            if mu.rwunlock(True):
                self._last()

    def _destroy(self) -> None:
        self._sock.close()
        if self._unlink is not None:
            try:
                os.unlink(self._unlink)
            except OSError:
                pass
            self._unlink = None

    def close(self) -> None:
        """Stop listening: goroutines blocked in accept wake with
        NetClosedError; a Unix socket's file is removed. Idempotent.
        Go: ``Close()``."""
        _NetFD.close(self)


def listen(network: str, address: Address, *, backlog: int = 4096) -> Listener:
    """Listen on a local address: ``"tcp"``, ``"tcp4"`` or ``"tcp6"`` with
    ``"host:port"`` (``":0"``: every address, a free port; ``"[::1]:0"``) or
    a (host, port) tuple; ``"unix"`` with a path. Raises ValueError or
    TypeError for a bad network or address, OSError (e.g. EADDRINUSE) as the
    system reports it. Go: ``net.Listen(network, address)``.
    """
    _check_network("listen", network, _STREAM_NETWORKS)
    if network == "unix":
        path = _unix_path("listen", network, address)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | _NONBLOCK)
        try:
            sock.bind(path)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        unlink = path if not (isinstance(path, str) and path.startswith("\0")) else None
        return Listener(sock, unlink)
    err: BaseException | None = None
    for fam, sa in _resolve("listen", network, address, socket.SOCK_STREAM, True):
        sock = socket.socket(fam, socket.SOCK_STREAM | _NONBLOCK)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6 and network == "tcp6":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(sa)
            sock.listen(backlog)
        except OSError as e:
            sock.close()
            if err is None:
                err = e
            continue
        except BaseException:
            sock.close()
            raise
        return Listener(sock)
    assert err is not None
    raise err


# ---------------------------------------------------------------------------
# Dialing


def dial(network: str, address: Address, *, timeout: float | None = None) -> Conn:
    """Connect to address (see listen for the forms; a host name is resolved
    on a helper thread), trying each of its IP addresses in turn, within
    timeout seconds overall (None: the system's own limit). TCP_NODELAY is
    on, as in Go. Raises ConnectionRefusedError and the like, DeadlineExceeded
    (``i/o timeout``) when the timeout passes. Go: ``net.DialTimeout``.
    """
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f"dial: timeout must be seconds or None, got {type(timeout).__name__}")
        deadline: float | None = _clock.read() + timeout
    else:
        deadline = None
    return _dial("dial", network, address, deadline, None)


def dial_context(ctx: Context, network: str, address: Address) -> Conn:
    """dial, bounded by a context: its deadline limits the dial, and once it
    is done the dial gives up with the context's error (``Canceled``, or the
    context's ``DeadlineExceeded``). Go: ``Dialer.DialContext``."""
    if not isinstance(ctx, Context):
        raise TypeError(f"dial_context: ctx must be a Context, got {type(ctx).__name__}")
    err = ctx.err()
    if err is not None:
        raise err
    return _dial("dial", network, address, ctx.deadline(), ctx)


def _dial(
    op: str, network: str, address: Address, deadline: float | None, ctx: Context | None
) -> Conn:
    _check_network(op, network, _STREAM_NETWORKS)
    if network == "unix":
        targets: list[tuple[int, Any]] = [(socket.AF_UNIX, _unix_path(op, network, address))]
    else:
        targets = _resolve(op, network, address, socket.SOCK_STREAM, False, ctx)
    first: BaseException | None = None
    for fam, sa in targets:
        try:
            return _connect(fam, sa, deadline, ctx)
        except (DeadlineExceeded, NetClosedError):
            raise
        except OSError as e:
            if ctx is not None and ctx.err() is not None:
                raise ctx.err() from None  # type: ignore[misc]
            if first is None:
                first = e
    assert first is not None
    raise first


def _connect(fam: int, sa: Any, deadline: float | None, ctx: Context | None) -> Conn:
    sock = socket.socket(fam, socket.SOCK_STREAM | _NONBLOCK)
    try:
        if fam != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex(sa)
    except BaseException:
        sock.close()
        raise
    if err not in (0, errno.EISCONN, errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY, errno.EINTR):
        sock.close()
        raise OSError(err, f"dial: connect to {sa!r}: {os.strerror(err)}")
    conn = Conn(sock)
    stop: Callable[[], bool] | None = None
    try:
        if err != 0 and err != errno.EISCONN:
            if deadline is not None:
                _np.set_deadline(conn._pd, _WRITE, deadline)
            if ctx is not None:
                pd = conn._pd
                stop = _after_done(ctx, lambda: _np.set_deadline(pd, _WRITE, -1.0))
            while True:
                try:
                    _np.wait(conn._pd, _WRITE)
                except DeadlineExceeded:
                    if ctx is not None and ctx.err() is not None:
                        raise ctx.err() from None  # type: ignore[misc]
                    raise
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err in (errno.EINPROGRESS, errno.EALREADY, errno.EINTR):
                    continue
                if err not in (0, errno.EISCONN):
                    raise OSError(err, f"dial: connect to {sa!r}: {os.strerror(err)}")
                try:
                    sock.getpeername()
                except OSError:
                    continue  # not connected yet (a spurious edge)
                break
            _np.set_deadline(conn._pd, _WRITE, None)
    except BaseException:
        if stop is not None:
            stop()
        conn.close()
        raise
    if stop is not None:
        stop()
    return conn


def _after_done(ctx: Context, f: Callable[[], object]) -> Callable[[], bool]:
    from .context import after_func

    return after_func(ctx, f)


# ---------------------------------------------------------------------------
# PacketConn (UDP)


@final
class PacketConn(_NetFD):
    """A datagram socket (UDP), safe for concurrent use. Go: ``net.PacketConn``."""

    __slots__ = ("_addr", "_network")

    def __init__(self, sock: socket.socket, network: str = "udp") -> None:
        """Wrap a bound datagram socket (listen_packet makes them)."""
        self._init_fd(sock)
        self._addr: Any = sock.getsockname()
        self._network = network

    def __repr__(self) -> str:
        state = " closed" if self._mu.closing else ""
        return f"<PacketConn {self._addr!r}{state}>"

    @property
    def local_addr(self) -> Any:
        """The address it is bound to. Go: ``LocalAddr()``."""
        return self._addr

    def read_from(self, n: int) -> tuple[bytes, Any]:
        """Receive one datagram, truncated to n bytes: (data, sender's
        address). Parks until one arrives; DeadlineExceeded, NetClosedError as
        for Conn.read. Go: ``ReadFrom(b)``."""
        _check_size("read_from", n)
        mu = self._mu
        mu.rwlock(True)
        try:
            pd = self._pd
            recvfrom = self._sock.recvfrom
            while True:
                d = pd.rdeadline
                if d and _expired(d):
                    raise DeadlineExceeded()
                try:
                    return recvfrom(n)
                except BlockingIOError:
                    _np.wait(pd, _READ)
                except InterruptedError:
                    pass
        finally:
            if mu.rwunlock(True):
                self._last()

    def write_to(self, data: bytes | bytearray | memoryview, addr: Address) -> int:
        """Send data as one datagram to addr (``"host:port"`` or a tuple);
        returns len(data). Go: ``WriteTo(b, addr)``."""
        mv = _buffer("write_to", data)
        if isinstance(addr, str) or (isinstance(addr, tuple) and len(addr) == 2):
            fam = self._sock.family
            net = "udp6" if fam == socket.AF_INET6 else "udp4"
            targets = _resolve("write_to", net, addr, socket.SOCK_DGRAM, False)
            sa = targets[0][1]
        else:
            sa = addr
        mu = self._mu
        mu.rwlock(False)
        try:
            pd = self._pd
            sendto = self._sock.sendto
            while True:
                d = pd.wdeadline
                if d and _expired(d):
                    raise DeadlineExceeded()
                try:
                    return sendto(mv, sa)
                except BlockingIOError:
                    _np.wait(pd, _WRITE)
                except InterruptedError:
                    pass
        finally:
            if mu.rwunlock(False):
                self._last()


def listen_packet(network: str, address: Address) -> PacketConn:
    """A datagram socket bound to a local address: ``"udp"``, ``"udp4"`` or
    ``"udp6"`` with ``"host:port"`` (``":0"`` for a free port) or a tuple.
    Go: ``net.ListenPacket(network, address)``."""
    _check_network("listen_packet", network, _PACKET_NETWORKS)
    err: BaseException | None = None
    for fam, sa in _resolve("listen_packet", network, address, socket.SOCK_DGRAM, True):
        sock = socket.socket(fam, socket.SOCK_DGRAM | _NONBLOCK)
        try:
            sock.bind(sa)
        except OSError as e:
            sock.close()
            if err is None:
                err = e
            continue
        return PacketConn(sock, network)
    assert err is not None
    raise err


# ---------------------------------------------------------------------------
# TLS


@final
class TLSConn(Conn):
    """A Conn wrapped in TLS (crypto/tls's Conn): reads and writes carry
    records; the handshake runs on first use or by ``handshake()``, and every
    record's I/O parks through the netpoller (``SSLWantReadError`` /
    ``SSLWantWriteError`` become waits), with the Conn's deadlines.
    Made by tls_client and tls_server. Go: ``tls.Conn``."""

    __slots__ = ("_handshaken", "_ssl_lock")

    def _wrap(self, conn: Conn, context: ssl.SSLContext, server: bool, hostname: str | None) -> None:
        if not isinstance(context, ssl.SSLContext):
            raise TypeError(f"TLS needs an ssl.SSLContext, got {type(context).__name__}")
        if not isinstance(conn, Conn) or isinstance(conn, TLSConn):
            raise TypeError(f"TLS wraps a plain Conn, got {type(conn).__name__}")
        mu = conn._mu
        mu.rwlock(True)
        try:
            mu.rwlock(False)
            try:
                ssock = context.wrap_socket(
                    conn._sock,
                    server_side=server,
                    server_hostname=hostname,
                    do_handshake_on_connect=False,
                )
            finally:
                mu.rwunlock(False)
        finally:
            mu.rwunlock(True)
        # The SSLSocket took the fd over (the same number, still registered).
        conn._sock = ssock
        self._sock = ssock
        self._pd = conn._pd
        self._mu = mu
        self._laddr = conn.local_addr
        self._raddr = conn.remote_addr
        self._handshaken = False
        self._drained = False  # Conn.read's; TLSConn reads records its own way
        self._ssl_lock = threading.Lock()  # one OpenSSL call at a time

    def _io(self, fn: Callable[..., T], *args: Any) -> T:
        """Run one SSL call until it completes, waiting through the netpoller
        when it wants to read or write. Holds no fdMutex lock itself."""
        pd = self._pd
        lock = self._ssl_lock
        while True:
            try:
                with lock:
                    return fn(*args)
            except ssl.SSLWantReadError:
                if _expired(pd.rdeadline):
                    raise DeadlineExceeded() from None
                _np.wait(pd, _READ)
            except ssl.SSLWantWriteError:
                if _expired(pd.wdeadline):
                    raise DeadlineExceeded() from None
                _np.wait(pd, _WRITE)
            except InterruptedError:
                pass

    def handshake(self) -> None:
        """Run the TLS handshake now (else the first read or write does).
        Raises ssl.SSLError when it fails, DeadlineExceeded past a deadline.
        Go: ``Handshake()``."""
        if self._handshaken:
            return
        mu = self._mu
        mu.rwlock(False)
        try:
            mu.rwlock(True)
            try:
                if not self._handshaken:
                    sock: Any = self._sock
                    self._io(sock.do_handshake)
                    self._handshaken = True
            finally:
                if mu.rwunlock(True):
                    self._last()
        finally:
            if mu.rwunlock(False):
                self._last()

    @property
    def ssl_object(self) -> ssl.SSLSocket:
        """The underlying ssl.SSLSocket, for getpeercert(), cipher(),
        selected_alpn_protocol() and the like (not for I/O)."""
        sock: Any = self._sock
        return sock  # type: ignore[no-any-return]

    def read(self, n: int) -> bytes:
        """Read up to n bytes of plaintext (``b""`` at the end of the
        stream). Otherwise as Conn.read."""
        _check_size("read", n)
        if not self._handshaken:
            self.handshake()
        mu = self._mu
        mu.rwlock(True)
        try:
            if n == 0:
                return b""
            if _expired(self._pd.rdeadline):
                raise DeadlineExceeded()
            return self._io(self._sock.recv, n)
        finally:
            if mu.rwunlock(True):
                self._last()

    def read_into(self, buf: Any) -> int:
        """Read plaintext into a writable buffer (see Conn.read_into)."""
        data = self.read(memoryview(buf).nbytes)
        memoryview(buf)[: len(data)] = data
        return len(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write all of data as TLS records; as Conn.write."""
        mv = _buffer("write", data)
        total = mv.nbytes
        if not self._handshaken:
            self.handshake()
        mu = self._mu
        try:
            mu.rwlock(False)
        except NetClosedError as e:
            raise _short(e, 0)  # noqa: B904 - the same exception, annotated
        sent = 0
        try:
            send = self._sock.send
            while sent < total:
                if _expired(self._pd.wdeadline):
                    raise DeadlineExceeded()
                sent += self._io(send, mv[sent : sent + 65536])
            return total
        except OSError as e:
            raise _short(e, sent)  # noqa: B904 - the same exception, annotated
        finally:
            if mu.rwunlock(False):
                self._last()

    def close_write(self) -> None:
        """Send TLS's close_notify, then shut the socket's writing side.
        Go: ``CloseWrite()``."""
        mu = self._mu
        mu.rwlock(False)
        try:
            sslobj: Any = getattr(self._sock, "_sslobj", None)
            if sslobj is not None:
                try:
                    with self._ssl_lock:
                        sslobj.shutdown()
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, ssl.SSLError, OSError):
                    pass  # the alert went out (or could not): the peer's is not awaited
            self._sock.shutdown(socket.SHUT_WR)
        finally:
            if mu.rwunlock(False):
                self._last()


def tls_client(conn: Conn, context: ssl.SSLContext, server_hostname: str | None = None) -> TLSConn:
    """The client side of TLS over conn (which it takes over). The handshake
    happens on first use or at ``handshake()``; server_hostname is checked
    against the certificate when the context says so. Go: ``tls.Client``."""
    t = TLSConn.__new__(TLSConn)
    t._wrap(conn, context, False, server_hostname)
    return t


def tls_server(conn: Conn, context: ssl.SSLContext) -> TLSConn:
    """The server side of TLS over conn (which it takes over). Go: ``tls.Server``."""
    t = TLSConn.__new__(TLSConn)
    t._wrap(conn, context, True, None)
    return t


# ---------------------------------------------------------------------------
# copy


class _Reader(Protocol):
    def read(self, n: int) -> bytes: ...


class _Writer(Protocol):
    def write(self, data: bytes) -> int: ...


def copy(dst: _Writer, src: _Reader, *, bufsize: int = 65536) -> int:
    """Copy from src to dst until src's end of stream; returns the number of
    bytes copied. Raises what a read or write raises (a write's exception
    carries ``.written``). It does not close or half-close either side: a
    proxy calls ``close_write()`` on dst after it. Go: ``io.Copy(dst, src)``."""
    _check_size("copy", bufsize)
    if bufsize == 0:
        raise ValueError("copy: bufsize must be > 0")
    total = 0
    read = src.read
    write = dst.write
    while True:
        data = read(bufsize)
        if not data:
            return total
        write(data)
        total += len(data)


if sys.platform == "win32":  # pragma: no cover
    raise ImportError("goroutines.net needs a POSIX system with epoll (Linux)")

"""TLS over a Conn (crypto/tls's Conn, Client and Server): handshake and
records driven by the netpoller.

Lock order: a TLS connection's ``_ssl_lock`` is held only around one
non-blocking OpenSSL call (the OpenSSL object may not be entered by two
threads at once; the interpreter releases the GIL inside it)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any, final

from .._runtime import netpoll as _np
from .._runtime.errors import DeadlineExceeded, NetClosedError
from ._conn import Conn
from ._fd import _READ, _WRITE, T, _buffer, _check_size, _expired, _short


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

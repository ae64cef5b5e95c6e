"""Listener and listen(): stream listeners (TCP and Unix). Go: ``net.Listener``,
``net.Listen``."""

from __future__ import annotations

import os
import socket
from typing import Any, final

from .._runtime import netpoll as _np
from .._runtime.errors import DeadlineExceeded
from ._addr import _STREAM_NETWORKS, Address, _check_network, _resolve, _unix_path
from ._conn import Conn
from ._fd import _NONBLOCK, _READ, _expired, _NetFD


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

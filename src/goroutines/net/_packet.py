"""PacketConn and listen_packet(): datagram sockets (UDP). Go:
``net.PacketConn``, ``net.ListenPacket``."""

from __future__ import annotations

import socket
from typing import Any, final

from .._runtime import netpoll as _np
from .._runtime.errors import DeadlineExceeded
from ._addr import _PACKET_NETWORKS, Address, _check_network, _resolve
from ._fd import _NONBLOCK, _READ, _WRITE, _buffer, _check_size, _expired, _NetFD


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

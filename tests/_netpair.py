"""A TCP pair for the network tests that need a Conn and a plain socket."""

from __future__ import annotations

import socket

from goroutines import net
from goroutines.net import Conn

GUARD = 20.0  # seconds: a read that waits this long missed its data


def pair() -> tuple[Conn, socket.socket]:
    """A Conn (accepted over TCP loopback) and the blocking socket at its other end."""
    ln = net.listen("tcp", "127.0.0.1:0")
    try:
        raw = socket.create_connection(ln.addr[:2])
        c = ln.accept()
    finally:
        ln.close()
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c, raw

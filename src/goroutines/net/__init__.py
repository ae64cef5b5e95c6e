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

The package, one module per concern (this file only re-exports):
  * ``_fd``: ``_NetFD``, the socket every object wraps (registration,
    close, deadlines), its ``_FdMutex``, ``_Closer`` (the context-manager
    methods, shared with the pipe) and the argument checks;
  * ``_addr``: Go's address forms, ``split_host_port``/``join_host_port``,
    resolution on a helper thread;
  * ``_conn``: ``Conn`` (TCP and Unix streams);
  * ``_listen``: ``Listener``, ``listen``;
  * ``_dial``: ``dial``, ``dial_context``;
  * ``_packet``: ``PacketConn``, ``listen_packet`` (UDP);
  * ``_tls``: ``TLSConn``, ``tls_client``, ``tls_server``;
  * ``_copy``: ``copy``;
  * ``_pipe``: ``pipe`` and ``PipeConn`` (Go's ``net.Pipe``, in memory).
Import order inside it: _fd, _addr, _conn, _listen, _dial, _packet, _tls,
_copy, _pipe (each imports only modules before it).

Lock order: an ``_FdMutex``'s ``lock`` is a leaf taken before nothing but
park tokens (tried); a TLS connection's ``_ssl_lock`` is held only around
one non-blocking OpenSSL call (the OpenSSL object may not be entered by two
threads at once; the interpreter releases the GIL inside it).
"""

from __future__ import annotations

import sys

from .._go import notify_closing, wait_readable, wait_writable
from .._runtime.errors import DeadlineExceeded, NetClosedError
from ._addr import (
    _PACKET_NETWORKS,
    _STREAM_NETWORKS,
    Address,
    _check_network,
    _families,
    _getaddrinfo,
    _host_port,
    _literal,
    _port,
    _resolve,
    _resolve_in_ctx,
    _unix_path,
    join_host_port,
    split_host_port,
)
from ._conn import Conn
from ._copy import _Reader, _Writer, copy
from ._dial import _after_done, _connect, _dial, dial, dial_context
from ._fd import (
    _NONBLOCK,
    _READ,
    _SEND_FLAGS,
    _WRITE,
    _buffer,
    _check_deadline,
    _check_size,
    _Closer,
    _expired,
    _FdMutex,
    _NetFD,
    _short,
)
from ._listen import Listener, listen
from ._packet import PacketConn, listen_packet
from ._pipe import PipeConn, pipe
from ._tls import TLSConn, tls_client, tls_server

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

# Names the package's modules define for one another, kept reachable here.
_internal = (
    _PACKET_NETWORKS, _STREAM_NETWORKS, Address, _check_network, _families, _getaddrinfo,
    _host_port, _literal, _port, _resolve, _resolve_in_ctx, _unix_path, _connect, _dial,
    _NONBLOCK, _READ, _SEND_FLAGS, _WRITE, _buffer, _check_deadline, _check_size, _Closer,
    _expired, _FdMutex, _NetFD, _short, PipeConn, _Reader, _Writer, _after_done,
)
del _internal

if sys.platform == "win32":  # pragma: no cover
    raise ImportError("goroutines.net needs a POSIX system with epoll (Linux)")

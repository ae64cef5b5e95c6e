"""dial() and dial_context(): connecting, with a timeout or a context, through
the netpoller (a non-blocking connect, then a wait for writability). Go:
``net.DialTimeout``, ``Dialer.DialContext``."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import Any

from .._runtime import clock as _clock
from .._runtime import netpoll as _np
from .._runtime.errors import DeadlineExceeded, NetClosedError
from ..context import Context, after_func
from ._addr import _STREAM_NETWORKS, Address, _check_network, _resolve, _unix_path
from ._conn import Conn
from ._fd import _NONBLOCK, _WRITE


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
    return after_func(ctx, f)

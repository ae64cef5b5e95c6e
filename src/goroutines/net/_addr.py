"""Addresses as Go writes them (``"host:port"``, ``"[::1]:0"``), Python's
socket addresses, and name resolution on a helper thread (a goroutine's P
never blocks in getaddrinfo, as Go's cgo resolver does not block its M's P)."""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Any

from .._chan import Chan
from .._go import go
from .._runtime import blocking as _blocking
from .._runtime import sched as _sched
from .._select import recv, select
from ..context import Context

Address = str | tuple[Any, ...]
"""A network address: ``"host:port"`` as Go writes it, a Python socket
address tuple, or a Unix socket's path."""
_STREAM_NETWORKS = ("tcp", "tcp4", "tcp6", "unix")
_PACKET_NETWORKS = ("udp", "udp4", "udp6")


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

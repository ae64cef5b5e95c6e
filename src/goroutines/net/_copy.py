"""copy(): Go's ``io.Copy``, for proxies."""

from __future__ import annotations

from typing import Protocol

from ._fd import _check_size


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

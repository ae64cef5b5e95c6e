"""Atomics: AtomicInt (Go's sync/atomic.Int64).

Invariant: every write of ``_value`` happens under ``_lock``, so each
operation is linearizable against every other, from goroutines and from real
OS threads (free-threaded builds included), not only under the GIL. ``load``
reads without the lock: reading one attribute is a single atomic step, and it
sees the last completed write.

Departure from Go: the value is a Python int, so it never wraps around at 64
bits.
"""

from __future__ import annotations

from typing import final

from ._runtime.waiter import new_lock


def _check(v: object, name: str) -> int:
    if type(v) is int:
        return v
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    return int(v)


@final
class AtomicInt:
    """An integer updated atomically, safe across goroutines and OS threads.

    Go: ``atomic.Int64``.
    """

    __slots__ = ("__weakref__", "_lock", "_value")

    def __init__(self, value: int = 0) -> None:
        self._lock = new_lock()  # guards writes of _value
        self._value = _check(value, "value")

    def load(self) -> int:
        """The current value. Go: ``x.Load()``."""
        return self._value

    def store(self, v: int) -> None:
        """Set the value. Go: ``x.Store(v)``."""
        v = _check(v, "v")
        lock = self._lock
        lock.acquire()
        self._value = v
        lock.release()

    def add(self, d: int) -> int:
        """Add d and return the new value. Go: ``x.Add(d)``."""
        if type(d) is not int:
            d = _check(d, "d")
        lock = self._lock
        lock.acquire()
        v = self._value + d
        self._value = v
        lock.release()
        return v

    def swap(self, v: int) -> int:
        """Set the value to v and return the old one. Go: ``x.Swap(v)``."""
        v = _check(v, "v")
        lock = self._lock
        lock.acquire()
        old = self._value
        self._value = v
        lock.release()
        return old

    def compare_and_swap(self, old: int, new: int) -> bool:
        """If the value is old, set it to new and return True; else False.
        Go: ``x.CompareAndSwap(old, new)``."""
        new = _check(new, "new")
        lock = self._lock
        lock.acquire()
        if self._value == old:
            self._value = new
            lock.release()
            return True
        lock.release()
        return False

    def __repr__(self) -> str:
        return f"AtomicInt({self._value})"


__all__ = ["AtomicInt"]

"""The error classes the runtime core raises, defined here so that the core
imports nothing above it; ``goroutines.errors`` re-exports them (the same
class objects).

    BaseException
     +-- Exception
     |    +-- RuntimeError
     |    |    +-- Deadlock            all goroutines are asleep - deadlock!
     |    |    +-- GoroutinePanic      an exception escaped a goroutine
     |    |    +-- ChannelClosedError  send on closed channel / close of closed channel
     |    +-- OSError
     |         +-- TimeoutError
     |         |    +-- DeadlineExceeded  i/o timeout (the network layer)
     |         +-- NetClosedError        use of closed network connection
     +-- RuntimeFault                  a broken runtime invariant (never caught by
                                       ``except Exception``; Go's ``throw``)

DeadlineExceeded and NetClosedError are raised by the network layer built on
the netpoller (``goroutines.net``); they live here so that the netpoller can
raise them when a deadline expires or an fd is closed under its waiters.

Invariants: this module imports nothing from goroutines at run time, and it
holds no lock (it has no place in the lock-order table, see sched.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .g import G

__all__ = [
    "ChannelClosedError",
    "Deadlock",
    "DeadlineExceeded",
    "GoroutinePanic",
    "NetClosedError",
    "RuntimeFault",
    "throw",
]


class Deadlock(RuntimeError):
    """Every goroutine is blocked and nothing can ever wake any of them.

    ``str()`` starts with ``all goroutines are asleep - deadlock!`` and carries
    the goroutine dump. Go: ``fatal error: all goroutines are asleep - deadlock!``
    """

    __module__ = "goroutines.errors"  # its public home (tracebacks, pickling)


class GoroutinePanic(RuntimeError):
    """An exception escaped a goroutine; the original is ``__cause__``.

    ``.goroutine`` is the goroutine that panicked. Go: an unrecovered ``panic``.
    """

    __module__ = "goroutines.errors"  # its public home (tracebacks, pickling)

    goroutine: G | None

    def __init__(self, message: str, goroutine: G | None = None) -> None:
        super().__init__(message)
        self.goroutine = goroutine


class ChannelClosedError(RuntimeError):
    """``send on closed channel`` or ``close of closed channel``."""

    __module__ = "goroutines.errors"  # its public home (tracebacks, pickling)


class DeadlineExceeded(TimeoutError):
    """A network operation's deadline passed: ``i/o timeout``.

    Go: ``os.ErrDeadlineExceeded`` (whose message is ``i/o timeout``).
    """

    def __init__(self, message: str = "i/o timeout") -> None:
        super().__init__(message)


class NetClosedError(OSError):
    """An operation on a connection or listener closed meanwhile (or before):
    ``use of closed network connection``. Go: ``net.ErrClosed``."""

    def __init__(self, message: str = "use of closed network connection") -> None:
        super().__init__(message)


class RuntimeFault(BaseException):
    """A broken runtime invariant: a bug in goroutines itself, never user misuse.

    Derives from ``BaseException`` so ``except Exception`` cannot hide it.
    Go: ``runtime.throw``.
    """

    __module__ = "goroutines.errors"  # its public home (tracebacks, pickling)


def throw(message: str) -> RuntimeFault:
    """Build the fault for a broken invariant (raise the result)."""
    return RuntimeFault("goroutines: fatal error: " + message)

"""Errors raised by the goroutines runtime.

    BaseException
     +-- Exception
     |    +-- RuntimeError
     |         +-- Deadlock            all goroutines are asleep - deadlock!
     |         +-- GoroutinePanic      an exception escaped a goroutine
     |         +-- ChannelClosedError  send on closed channel / close of closed channel
     +-- RuntimeFault                  a broken runtime invariant (never caught by
                                       ``except Exception``; Go's ``throw``)

Misuse of the sync primitives raises plain ``RuntimeError`` with Go's words
(``sync: unlock of unlocked mutex``); bad arguments raise ``TypeError`` or
``ValueError`` naming the argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runtime.g import G

__all__ = ["ChannelClosedError", "Deadlock", "GoroutinePanic", "RuntimeFault"]


class Deadlock(RuntimeError):
    """Every goroutine is blocked and nothing can ever wake any of them.

    ``str()`` starts with ``all goroutines are asleep - deadlock!`` and carries
    the goroutine dump. Go: ``fatal error: all goroutines are asleep - deadlock!``
    """


class GoroutinePanic(RuntimeError):
    """An exception escaped a goroutine; the original is ``__cause__``.

    ``.goroutine`` is the goroutine that panicked. Go: an unrecovered ``panic``.
    """

    goroutine: G | None

    def __init__(self, message: str, goroutine: G | None = None) -> None:
        super().__init__(message)
        self.goroutine = goroutine


class ChannelClosedError(RuntimeError):
    """``send on closed channel`` or ``close of closed channel``."""


class RuntimeFault(BaseException):
    """A broken runtime invariant: a bug in goroutines itself, never user misuse.

    Derives from ``BaseException`` so ``except Exception`` cannot hide it.
    Go: ``runtime.throw``.
    """


def throw(message: str) -> RuntimeFault:
    """Build the fault for a broken invariant (raise the result)."""
    return RuntimeFault("goroutines: fatal error: " + message)

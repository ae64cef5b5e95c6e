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

The classes are defined in the runtime core (``_runtime/errors.py``), which
raises them without importing upward; these are the same class objects.
"""

from __future__ import annotations

from ._runtime.errors import ChannelClosedError as ChannelClosedError
from ._runtime.errors import Deadlock as Deadlock
from ._runtime.errors import GoroutinePanic as GoroutinePanic
from ._runtime.errors import RuntimeFault as RuntimeFault
from ._runtime.errors import throw as throw

__all__ = ["ChannelClosedError", "Deadlock", "GoroutinePanic", "RuntimeFault"]

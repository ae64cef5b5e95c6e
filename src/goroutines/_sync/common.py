"""What the sync primitives share: the blocking step, the spurious-wake
error, the int check.

Invariant kept by every caller of wait_granted: a Waiter is queued (by
``enqueue``) only under the primitive's own lock, and a queued Waiter whose
token is already won is stale (its park ended by a panic, a Deadlock, a kill
or a task's cancellation): wakers skip it, and ``abandon`` takes it out of the
queue or gives back what a waker granted it (the abandonment rule, see
``_sync/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from .._runtime import sched as _sched
from .._runtime.waiter import Waiter


def wait_granted(
    w: Waiter,
    enqueue: Callable[[Waiter], bool],
    abandon: Callable[[Waiter], None],
    reason: str,
) -> None:
    """Block the caller until a waker grants w what it waits for.

    enqueue(w) grants it at once (True) or queues w; then park with Go's wait
    reason. If the park ends in an exception, abandon(w) gives back what was
    granted meanwhile (the abandonment rule) before it propagates.
    """
    if enqueue(w):
        return
    try:
        w.park(reason)
    except BaseException:
        abandon(w)
        raise
    if not w.done:
        raise spurious(reason)


def spurious(what: str) -> BaseException:
    """The runtime error for a park that ended with nothing granted."""
    return _sched.throw(f"{what}: woken without a wake-up")


def check_int(value: object, name: str) -> int:
    """value as an int; TypeError naming ``name`` for a bool or a non-int."""
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


__all__ = ["check_int", "spurious", "wait_granted"]

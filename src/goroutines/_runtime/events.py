"""The runtime's event layer: one stream of what goroutines do, for the tools.

Producers are the core's own code at the moments Go's tracer records (a G
created, started, parked with its wait reason, readied, resumed, finished,
yielding or preempted; a ``blocking()`` call; a timer firing; sysmon handing
goroutines to another P; a garbage collection) and the C ports' twins of
those moments (``trace_emit`` in ``_speedups/sched.c``). Each site is one
test of a module global:

    if events.hook is not None:
        events.hook(KIND, g, arg)

so with no subscriber the cost is a global load and a compare (a pointer
test in C). Consumers (``goroutines.trace``) ``subscribe(fn)``; ``fn(kind, g,
arg)`` then runs on the thread where the event happened, at the moment it
happened, and must be quick, take no runtime lock, never park and never
raise (what it raises is reported as unraisable and dropped, the runtime
goes on).

Why the C ports emit instead of tracing running the pure path: the race
detector can turn the accelerator off because it is a command-line mode
that re-executes the interpreter (``run --race``), while ``trace.start()``
is called in a running program whose channels and goroutines already use
the ports. Only three of the ports' sites see state changes that no Python
code sees (park, resume and ready: ``park_g`` and ``ready`` in C); the C go
port hands go() to its twin while a hook is set (creating a G is not the hot
path), and the channel and select events are recorded by the tracer around
the public methods, which the ports do not bypass.

The event numbers are part of the C code (``EV_*`` in ``_speedups.h``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

from . import accel

CREATE = 0  # g was created (arg: None); emitted by its creator
START = 1  # g starts running its function, on this thread
PARK = 2  # g parks (g.wait_reason is set just after: the tracer reads it on RESUME's pair)
READY = 3  # g is made runnable by the current goroutine or thread
RESUME = 4  # g runs again after a park, a yield or a preemption
FINISH = 5  # g's function returned or raised
GOSCHED = 6  # g yields (gosched): runnable, at the back of the run queue
PREEMPT = 7  # g is preempted (arg: None)
BLOCKING = 8  # g hands a call to a blocking() helper (arg: the function)
BLOCKING_DONE = 9  # the blocking() call returned or raised (arg: the function)
TIMER = 10  # a timer fires on this thread (arg: the timer); g: None
HANDOFF = 11  # sysmon moved goroutines to another P (g: None; arg: (from P id, to P id, n))
GC_START = 12  # a garbage collection starts (g: None; arg: the generation)
GC_END = 13  # it ends (arg: the generation)
CHAN = 14  # a channel operation starts (arg: (op, chan)), --trace-chan only
CHAN_DONE = 15  # it ends (arg: (op, chan, ok))
SELECT = 16  # a select starts (arg: number of cases)
SELECT_DONE = 17  # it ends (arg: the chosen case, -1 for default)

NAMES = (
    "create",
    "start",
    "park",
    "ready",
    "resume",
    "finish",
    "gosched",
    "preempt",
    "blocking",
    "blocking done",
    "timer",
    "handoff",
    "gc start",
    "gc end",
    "chan",
    "chan done",
    "select",
    "select done",
)

Hook = Callable[[int, Any, Any], None]

# What every event site calls; None while nothing subscribes. Written only by
# _publish, under _lock.
hook: Hook | None = None

_lock = threading.Lock()  # a leaf: subscribing and unsubscribing
_subscribers: list[Hook] = []


def subscribe(fn: Hook) -> None:
    """Send every event to fn(kind, g, arg) from now on."""
    if not callable(fn):
        raise TypeError(f"subscribe() needs a callable, got {fn!r}")
    with _lock:
        _subscribers.append(fn)
        _publish()


def unsubscribe(fn: Hook) -> None:
    """Stop sending events to fn (no error if it was not subscribed)."""
    with _lock:
        if fn in _subscribers:
            _subscribers.remove(fn)
        _publish()


def subscribed() -> bool:
    """Whether any consumer listens (the event sites' ``hook is not None``)."""
    return hook is not None


def _fan_out(subs: tuple[Hook, ...]) -> Hook:
    def fan_out(kind: int, g: Any, arg: Any) -> None:
        for fn in subs:
            fn(kind, g, arg)

    return fan_out


def _gc_phase(phase: str, info: dict[str, int]) -> None:
    h = hook
    if h is not None:
        h(GC_START if phase == "start" else GC_END, None, info.get("generation", 0))


def _publish() -> None:
    """Set hook (and the accelerator's copy of it) from _subscribers; the GC
    callback is installed while anything listens."""
    global hook
    subs = tuple(_subscribers)
    h: Hook | None
    if not subs:
        h = None
    elif len(subs) == 1:
        h = subs[0]
    else:
        h = _fan_out(subs)
    hook = h
    speedups = accel.port("sched")
    if speedups is not None:
        speedups.set_trace_hook(h)
    if h is None:
        if _gc_phase in gc.callbacks:
            gc.callbacks.remove(_gc_phase)
    elif _gc_phase not in gc.callbacks:
        gc.callbacks.append(_gc_phase)


__all__ = [
    "BLOCKING",
    "BLOCKING_DONE",
    "CHAN",
    "CHAN_DONE",
    "CREATE",
    "FINISH",
    "GC_END",
    "GC_START",
    "GOSCHED",
    "HANDOFF",
    "NAMES",
    "PARK",
    "PREEMPT",
    "READY",
    "RESUME",
    "SELECT",
    "SELECT_DONE",
    "START",
    "TIMER",
    "hook",
    "subscribe",
    "subscribed",
    "unsubscribe",
]

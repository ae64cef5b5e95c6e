"""The runtime's event layer: one stream of what goroutines do, for the tools.

Producers are the core's own code at the moments Go's tracer records (a G
created, started, parked with its wait reason, readied, resumed, finished,
yielding or preempted; a ``blocking()`` call; a timer firing; sysmon handing
goroutines to another P; a garbage collection) and the C ports' twins of
those moments (``trace_emit`` in ``_speedups/sched.c``). Each site is one
test of a module global:

    if events.hook is not None:
        events.hook(KIND, g, arg)

(``hooks[KIND]`` for the sites outside SCHED_KINDS), so with no subscriber
the cost is a global load and a compare (a pointer test in C). Consumers (``goroutines.trace``) ``subscribe(fn)``; ``fn(kind, g,
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
path).

Two families of events. The core's (CREATE .. GC_END, BLOCKING_RUN*) come
from the sites above, through ``hook``. The operations' (CHAN .. UNLOCK:
channel operations, selects, the happens-before edges of every
synchronizing operation, lock waits) come from the public layer's methods,
which the core cannot see: ``goroutines._opevents`` wraps those methods
while, and only while, some subscriber asks for one of these kinds (it
registers itself here with ``register_op_source`` and is told which kinds
are wanted), and calls the per-kind ``hooks``. So with no subscriber the public methods are the
plain ones, and a subscriber that wants only some kinds is called for
those only (``subscribe(fn, kinds)``): the race detector
(``_race/hooks.py``) takes the edges, the lock-order checker
(``_lockorder.py``) the lock waits, the tracer the scheduler's events and,
on request, the channel operations; sysmon is a producer (HANDOFF,
PREEMPT).

The event numbers are part of the C code (``EV_*`` in ``_speedups.h``).
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable
from time import monotonic_ns
from typing import Any

from . import accel

CREATE = 0  # g was created (arg: g itself, for its name and parent); emitted by its creator
START = 1  # g starts running its function, on this thread
PARK = 2  # g parks (arg: the wait reason)
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
# The happens-before edges of Go's memory model (goroutines._opevents says
# which operation emits which): everything this goroutine or thread did so far
# happens before whatever follows a later ACQUIRE of the same (obj, role).
RELEASE = 18  # arg: (obj, role): obj's clock named role takes this thread's
ACQUIRE = 19  # arg: (obj, role): this thread's clock takes obj's clock role
LOCK = 20  # a Mutex or RWMutex lock is asked for (arg: (mutex, read, caller frame, may wait))
LOCKED = 21  # it was taken (arg: (mutex, read, caller frame))
UNLOCK = 22  # it is about to be released (arg: (mutex, read))
BLOCKING_RUN = 23  # a helper thread starts a blocking() call (g: the goroutine that waits)
BLOCKING_RUN_DONE = 24  # it ends, on the helper thread (g: the same goroutine)

KINDS = 25
# Emitted by goroutines._opevents's wrappers; the rest by the core's sites.
OP_KINDS = frozenset({CHAN, CHAN_DONE, SELECT, SELECT_DONE, RELEASE, ACQUIRE, LOCK, LOCKED, UNLOCK})
CORE_KINDS = frozenset(range(KINDS)) - OP_KINDS
# The scheduler's state changes and what it does on its own: their sites
# (the C ports' among them) call ``hook``. The other core sites (go()'s
# CREATE, blocking()'s, the GC callback) call ``hooks[kind]``, so that a
# subscriber of those alone (the race detector wants CREATE and
# BLOCKING_RUN) adds nothing to every park, ready and resume.
SCHED_KINDS = frozenset({START, PARK, READY, RESUME, FINISH, GOSCHED, PREEMPT, TIMER, HANDOFF})

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
    "release",
    "acquire",
    "lock",
    "locked",
    "unlock",
    "blocking run",
    "blocking run done",
)

Hook = Callable[[int, Any, Any], None]
# A recorded event: (monotonic ns, kind, goroutine id or 0, the thread's P or
# None, arg).
Record = tuple[int, int, int, Any, Any]

# What the sites of SCHED_KINDS call; None while nothing subscribes to one of
# them. Written only by _publish, under _lock.
hook: Hook | None = None

_lock = threading.Lock()  # subscribing, the recorder, the ops' (un)install: takes no other
_subscribers: list[tuple[Hook, frozenset[int]]] = []
_recording = False

# Per kind, what its subscribers get (their fan-out, or the one), None for a
# kind nobody wants: the core sites not in SCHED_KINDS call hooks[kind], and
# so do the operations' wrappers (goroutines._opevents). Written only by
# _publish, under _lock.
hooks: list[Hook | None] = [None] * KINDS
_op_source: Callable[[frozenset[int]], None] | None = None
_ops_wanted: frozenset[int] = frozenset()  # what _op_source was last told

# sched.tls (this thread's P), registered by sched at its import: the
# recorder's twin reads the P from it (sched comes after this module).
_tls: Any = None


def register_tls(tls: Any) -> None:
    """sched registers its thread-local state (tls.p) here."""
    global _tls
    _tls = tls


# -- the recorder: the tracer's buffer -----------------------------------------
# A consumer that is not a Python function: the accelerator's rec_* write
# each event into a C array (no Python call, no object per event until
# rec_take), the twins below into a list or a bounded deque. The C ports'
# park, ready and resume sites write to it directly (trace_emit), so the hook
# the accelerator calls leaves the recorder out (_publish).

_rec_buf: list[Record] | deque[Record] | None = None
_rec_left: deque[Record] = deque()  # stopped, not yet taken
_rec_count = 0


def rec_start(capacity: int, ring: bool) -> None:
    """Record from now on: into a ring of capacity records that drops the
    oldest (ring), else into a growing list."""
    global _rec_buf, _rec_count
    if _rec_buf is not None:
        raise RuntimeError("rec_start: the recorder is already recording")
    _rec_left.clear()  # what an earlier recording left untaken
    if ring:
        if capacity < 1:
            raise ValueError("rec_start: a ring needs a capacity of at least 1")
        _rec_buf = deque(maxlen=capacity)
    else:
        _rec_buf = []
    _rec_count = 0


def rec_record(kind: int, g: Any, arg: Any) -> None:
    """Record one event (from Python code: the event sites call it through
    hook; g is a G, None, or an id of the tracer's own)."""
    global _rec_count
    buf = _rec_buf
    if buf is not None:
        p = None if _tls is None else _tls.p
        gid = 0 if g is None else g if type(g) is int else g.id  # a G, or its id
        buf.append((monotonic_ns(), kind, gid, p, arg))
        _rec_count += 1


def rec_stop() -> int:
    """Stop recording; how many records the ring dropped. The records stay,
    for rec_take."""
    global _rec_buf, _rec_left
    buf = _rec_buf
    _rec_buf = None
    if buf is None:
        return 0
    _rec_left = deque(buf)
    return _rec_count - len(buf)


def rec_take(n: int) -> list[Record]:
    """Take out up to n of the oldest records; [] once none is left. Only
    after rec_stop."""
    if _rec_buf is not None:
        raise RuntimeError("rec_take: stop the recorder first (rec_stop)")
    left = _rec_left
    out: list[Record] = []
    while left and len(out) < n:
        out.append(left.popleft())
    return out


def start_recording(capacity: int | None = None) -> None:
    """Record every event (the tracer): all of them, or the last capacity."""
    global _recording
    with _lock:
        if _recording:
            raise RuntimeError("the event recorder is already recording")
        rec_start(capacity or 0, capacity is not None)
        _recording = True
        _publish()


def stop_recording() -> int:
    """Stop recording; the number of events the ring dropped. Take the
    records with take_records()."""
    global _recording
    with _lock:
        _recording = False
        _publish()
        return rec_stop()


def forget_recording() -> None:
    """In the child of a fork: stop recording and drop what was recorded (the
    parent writes it). The lock may have been held by a thread that does not
    exist in the child: it is replaced."""
    global _lock, _recording
    _lock = threading.Lock()
    if _recording:
        _recording = False
        _publish()
        rec_stop()
        rec_start(0, False)  # frees the inherited records
        rec_stop()


def take_records(n: int = 65536) -> list[Record]:
    """Up to n of the oldest recorded events, taken out; [] once none is
    left. Only after stop_recording()."""
    return rec_take(n)


def subscribe(fn: Hook, kinds: frozenset[int] | set[int] | None = None) -> None:
    """Send fn(kind, g, arg) the events of these kinds from now on (None:
    every kind)."""
    if not callable(fn):
        raise TypeError(f"subscribe() needs a callable, got {fn!r}")
    want = frozenset(range(KINDS)) if kinds is None else frozenset(kinds)
    bad = [k for k in want if not (type(k) is int and 0 <= k < KINDS)]
    if bad:
        raise ValueError(f"subscribe(): no such event kind: {bad[0]!r}")
    with _lock:
        _subscribers.append((fn, want))
        _publish()


def unsubscribe(fn: Hook) -> None:
    """Stop sending events to fn (every subscription of it; no error if it
    was not subscribed)."""
    with _lock:
        _subscribers[:] = [s for s in _subscribers if s[0] != fn]
        _publish()


def subscribed() -> bool:
    """Whether any consumer listens to the scheduler's sites (``hook is not None``)."""
    return hook is not None


def register_op_source(update: Callable[[frozenset[int]], None]) -> None:
    """The public layer's operations (goroutines._opevents) register how to
    emit: update(kinds) is called with the operation kinds somebody wants
    whenever that set changes (empty: stop emitting), under this module's
    lock."""
    global _op_source
    with _lock:
        _op_source = update
        _publish()


def _fan_out(subs: tuple[Hook, ...]) -> Hook:
    def fan_out(kind: int, g: Any, arg: Any) -> None:
        for fn in subs:
            fn(kind, g, arg)

    return fan_out


def _gc_phase(phase: str, info: dict[str, int]) -> None:
    kind = GC_START if phase == "start" else GC_END
    h = hooks[kind]
    if h is not None:
        h(kind, None, info.get("generation", 0))


def _combine(subs: tuple[Hook, ...]) -> Hook | None:
    if not subs:
        return None
    if len(subs) == 1:
        return subs[0]
    return _fan_out(subs)


def _dispatch(table: list[Hook | None]) -> Hook:
    """One hook for subscribers that want different kinds: each event goes to
    the subscribers of its kind."""

    def dispatch(kind: int, g: Any, arg: Any) -> None:
        h = table[kind]
        if h is not None:
            h(kind, g, arg)

    return dispatch


def _hook_for(subs: list[tuple[Hook, frozenset[int]]], kinds: frozenset[int]) -> Hook | None:
    """The hook the sites of these kinds call: None when no subscriber wants
    any of them, a subscriber itself (or their fan-out) when they all want
    all of them, else a dispatcher by kind."""
    subs = [s for s in subs if s[1] & kinds]
    if not subs:
        return None
    if all(kinds <= w for _, w in subs):
        return _combine(tuple(fn for fn, _ in subs))
    table: list[Hook | None] = [
        _combine(tuple(fn for fn, w in subs if k in w)) if k in kinds else None
        for k in range(KINDS)
    ]
    return _dispatch(table)


def _publish() -> None:
    """Set hook (and the accelerator's copy of it), hooks and the
    operations' wrappers from _subscribers and the recorder (which takes
    every core kind); the GC callback is installed while anything listens to
    GC events. The accelerator's copy leaves its own recorder out: its sites
    write to it directly."""
    global hook, _ops_wanted
    subs = list(_subscribers)
    rec: list[tuple[Hook, frozenset[int]]] = [(rec_record, CORE_KINDS)] if _recording else []
    hook = _hook_for(subs + rec, SCHED_KINDS)
    speedups = accel.port("sched")
    if speedups is not None:
        # Set while anyone wants a core kind: the C go port then leaves go()
        # to its twin, which emits CREATE.
        speedups.set_trace_hook(_hook_for(subs, CORE_KINDS))
    for k in range(KINDS):
        hooks[k] = _combine(tuple(fn for fn, w in subs + rec if k in w))
    wanted = frozenset(k for k in OP_KINDS if hooks[k] is not None)
    if _op_source is not None and wanted != _ops_wanted:
        _ops_wanted = wanted
        _op_source(wanted)
    if hooks[GC_START] is None and hooks[GC_END] is None:
        if _gc_phase in gc.callbacks:
            gc.callbacks.remove(_gc_phase)
    elif _gc_phase not in gc.callbacks:
        gc.callbacks.append(_gc_phase)


# The accelerator's recorder while its port "sched" is on.
if accel.port("sched") is not None:
    _sp: Any = accel.port("sched")
    rec_start = _sp.rec_start
    rec_record = _sp.rec_record
    rec_stop = _sp.rec_stop
    rec_take = _sp.rec_take

__all__ = [
    "ACQUIRE",
    "BLOCKING",
    "BLOCKING_DONE",
    "BLOCKING_RUN",
    "BLOCKING_RUN_DONE",
    "CHAN",
    "CHAN_DONE",
    "CORE_KINDS",
    "CREATE",
    "FINISH",
    "GC_END",
    "GC_START",
    "GOSCHED",
    "HANDOFF",
    "KINDS",
    "LOCK",
    "LOCKED",
    "NAMES",
    "OP_KINDS",
    "PARK",
    "PREEMPT",
    "READY",
    "RELEASE",
    "Record",
    "RESUME",
    "SCHED_KINDS",
    "SELECT",
    "SELECT_DONE",
    "START",
    "TIMER",
    "UNLOCK",
    "forget_recording",
    "hook",
    "hooks",
    "rec_record",
    "rec_start",
    "rec_stop",
    "rec_take",
    "register_op_source",
    "register_tls",
    "start_recording",
    "stop_recording",
    "subscribe",
    "subscribed",
    "take_records",
    "unsubscribe",
]

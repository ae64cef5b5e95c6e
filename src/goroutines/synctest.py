"""Testing concurrent code on a fake clock (Go's ``testing/synctest``, Go 1.25).

``test(fn)`` runs ``fn`` in a new goroutine, the root of a *bubble*: every
goroutine it starts, transitively, is in the bubble too. Inside, time is a
fake clock that starts at 2000-01-01 00:00:00 UTC (``EPOCH``,
946684800.0) and stands still while any goroutine of the bubble can run;
when every one of them is *durably blocked*, the clock jumps to the bubble's
next timer and fires it. ``sleep``, ``after``, ``tick``, ``Timer``,
``Ticker``, ``after_func``, context deadlines, net deadlines and
``goroutines.now()`` all read it, so an hour of timeouts runs in
milliseconds, the same way every time::

    from goroutines import go, now, sleep, synctest

    def body() -> None:
        start = now()                 # 946684800.0, always
        go(lambda: sleep(1))
        sleep(2)                      # the goroutine above has finished
        assert now() - start == 2

    synctest.test(body)

Durably blocked (Go's definition): parked on a channel operation or a
``select``, in ``sleep``, ``WaitGroup.wait``, ``Cond.wait`` or a
``Semaphore``'s acquire. Not durable: a ``Mutex``/``RWMutex`` (Go's rule:
held briefly, and maybe by a goroutine outside), waiting for a file
descriptor or in ``blocking()`` (something outside the bubble may end the
wait), and ``wait()`` itself. ``goroutines.net.pipe()`` is built on
channels, so a goroutine blocked on a pipe is durably blocked: network code
is tested through it.

``wait()`` blocks the calling goroutine of a bubble until every other
goroutine of the bubble is durably blocked. ``test`` returns when the root
and every goroutine of the bubble have exited (it returns what ``fn``
returned). When every goroutine left is durably blocked and no timer of the
bubble is pending, nothing can ever wake them: ``test`` ends them (they see
``GreenletExit``, so their ``finally`` blocks run) and raises ``Deadlock``
with Go's words ("deadlock: all goroutines in bubble are blocked", or
"deadlock: main bubble goroutine has exited but blocked goroutines remain")
and their stacks. An exception raised by ``fn`` ends the bubble's other
goroutines the same way and is raised by ``test``. A deadlock is reported
once the bubble has stayed so, unchanged, for a short real-time grace
(50 ms): a wake-up from outside the bubble (for a goroutine of it waiting on
a channel made outside) may still come.

How it works. The bubble is a ContextVar (``_runtime.clock.bubble``) set in
the context the root is started in; go() runs every goroutine in a copy of
its creator's context, on the accelerated path as on the pure one, so
membership needs no hook in go() or in the C accelerator's fast paths: the
accelerated channel operations, parks and wakes run unchanged for a bubble's
goroutines (a channel operation compares the channel's bubble with None, and
reads the caller's bubble only for a bubble's channel). The accelerator reads no clock and keeps no timer heap (its
scheduler calls timers.run_due, in Python), so nothing of a bubble's time
goes through C either. While a bubble exists the runtime's clock is bubble-aware, and
timers set inside a bubble go to a heap of the bubble's own
(``_runtime/timers.py``), which no P runs. The goroutine that called
``test`` is the bubble's driver, outside the bubble: it yields
(``gosched``) until no goroutine of the bubble is runnable, then looks at
their states and wait reasons (what ``dump()`` shows) and wakes the caller
of ``wait()``, or advances the clock and runs the due timers, or reports the
deadlock. A bubble's goroutines are created on the driver's P and never
handed to another one (sysmon's hand-off skips them), so all of them, and the
driver, take turns on one thread: while the driver looks, none of them runs.
When some goroutine of the bubble is blocked but not durably, the driver
waits a little, in real time, before it looks again.

A channel made by a goroutine of a bubble belongs to the bubble, and so do
its timers and tickers (Go 1.25): the channel records its creator's bubble
(``Chan._bubble``), and its operations from any goroutine or thread not in
the bubble, even after the bubble has ended, raise ChannelClosedError with
Go's words ("send on synctest channel from outside bubble", _chan.py,
_select.py, _time.py). Go makes them fatal errors.

Differences from Go: a goroutine of the bubble blocked on a channel made
outside the bubble counts as durably blocked (in Go it does not); a
``time.monotonic() + d`` deadline computed inside a bubble is a real-clock
reading, about 26 years before the bubble's clock: use ``goroutines.now()``.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable
from typing import Any, Final, TypeVar

from greenlet import GreenletExit

from . import _time
from ._go import go
from ._runtime import clock as _clock
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.dump import dump as _dump
from ._runtime.errors import Deadlock
from ._runtime.g import (
    DEAD,
    WAIT_CHAN_RECEIVE,
    WAIT_CHAN_RECEIVE_NIL,
    WAIT_CHAN_SEND,
    WAIT_CHAN_SEND_NIL,
    WAIT_COND,
    WAIT_SELECT,
    WAIT_SELECT_NO_CASES,
    WAIT_SEMACQUIRE,
    WAIT_SLEEP,
    WAIT_WAITGROUP,
    WAITING,
    G,
    allgs,
)
from ._runtime.timers import BubbleHeap
from ._runtime.waiter import Waiter, new_lock, new_token

__all__ = ["EPOCH", "test", "wait"]

T = TypeVar("T")

EPOCH: Final = 946684800.0
"""Where a bubble's clock starts: 2000-01-01 00:00:00 UTC, in seconds."""

WAIT_SYNCTEST_WAIT: Final = "synctest.Wait"  # Go's waitReasonSynctestWait

# The wait reasons that are durable blocking (module docstring).
DURABLE: Final = frozenset(
    {
        WAIT_CHAN_RECEIVE,
        WAIT_CHAN_RECEIVE_NIL,
        WAIT_CHAN_SEND,
        WAIT_CHAN_SEND_NIL,
        WAIT_SELECT,
        WAIT_SELECT_NO_CASES,
        WAIT_SLEEP,
        WAIT_WAITGROUP,
        WAIT_COND,
        WAIT_SEMACQUIRE,
    }
)

# Go's panic messages (runtime/synctest.go).
MSG_ALL_BLOCKED: Final = "deadlock: all goroutines in bubble are blocked"
MSG_MAIN_EXITED: Final = "deadlock: main bubble goroutine has exited but blocked goroutines remain"

# The driver's real-time pause while some goroutine of the bubble is blocked
# but not durably (a Mutex, an fd, blocking()): it grows to the maximum.
_PAUSE_MIN: Final = 0.0005
_PAUSE_MAX: Final = 0.01
# How long, in real time, a bubble that looks deadlocked must stay unchanged
# before the deadlock is reported (_still_stuck).
_GRACE: Final = 0.05

_ids = iter(range(1, 1 << 62))


class _Bubble:
    """One bubble: its clock, timers, root and the caller of wait()."""

    __slots__ = ("ctx", "exc", "heap", "id", "now", "result", "root", "root_done", "waiter", "waiter_g")

    def __init__(self) -> None:
        self.id = next(_ids)
        self.now = EPOCH
        self.heap = BubbleHeap(new_lock())
        self.ctx: contextvars.Context = contextvars.copy_context()
        self.root: G | None = None
        self.root_done = False
        self.result: Any = None
        self.exc: BaseException | None = None
        self.waiter: Waiter | None = None
        self.waiter_g: G | None = None

    def __repr__(self) -> str:
        return f"<synctest bubble {self.id} at {self.now - EPOCH:.6f}s>"


def _in(b: _Bubble, g: G) -> bool:
    ctx = g.context
    return ctx is not None and ctx.get(_clock.bubble) is b


def _members(b: _Bubble) -> list[G]:
    """The live goroutines of b (each runs in a copy of a context holding b)."""
    return [g for g in list(allgs.values()) if g.state != DEAD and _in(b, g)]


def _root(b: _Bubble, fn: Callable[[], Any]) -> None:
    try:
        b.result = fn()
    except GreenletExit:
        pass  # ended by the driver (a deadlock) or by run() killing goroutines
    except BaseException as e:  # raised again by test(), in the caller
        b.exc = e
    finally:
        b.root_done = True


def test(fn: Callable[[], T]) -> T:
    """Run ``fn()`` in a new goroutine at the root of a bubble with a fake
    clock, wait until every goroutine of the bubble has exited, and return
    what ``fn`` returned (the module docstring says how time moves).

    Raises ``Deadlock`` when every goroutine left in the bubble is durably
    blocked and no timer of the bubble is pending; what ``fn`` raised, if it
    did. Call it from a goroutine or a thread that may run goroutines (the
    main thread, a test), not from inside a bubble. Go: ``synctest.Test``.
    """
    if not callable(fn):
        raise TypeError(f"synctest.test: fn must be callable, got {type(fn).__name__}")
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(
            f"synctest.test: fn must be a plain function, got the async function {fn!r}"
        )
    if _clock.bubble.get(None) is not None:
        raise RuntimeError("synctest.Run called from within a synctest bubble")
    if _sched.getp() is None:
        raise RuntimeError(
            "synctest.test: called from a foreign thread (an asyncio loop's), which "
            "cannot run goroutines"
        )
    b = _Bubble()
    b.ctx.run(_clock.bubble.set, b)
    _clock.enter_bubble()
    try:
        # Started inside the bubble's context: go() gives the root a copy of
        # it, and go() puts it on this P, which it never leaves.
        b.root = b.ctx.run(go, _root, b, fn)
        _drive(b)
    finally:
        _clock.exit_bubble()
    if b.exc is not None:
        raise b.exc
    result: T = b.result
    return result


def _drive(b: _Bubble) -> None:
    """The driver's loop (module docstring)."""
    pause = 0.0
    while True:
        _proc.gosched()
        members = _members(b)
        if not members:
            return
        if any(g.state != WAITING for g in members):
            pause = 0.0
            continue
        if b.exc is not None:  # fn raised: nothing of the bubble may go on
            _end(b, members)
            return
        w, wg = b.waiter, b.waiter_g
        others = members if w is None else [g for g in members if g is not wg]
        if all(g.wait_reason in DURABLE for g in others):
            if w is not None:
                b.waiter = b.waiter_g = None
                if w.token.acquire(False):
                    w.done = True
                    w.wake()
                pause = 0.0
                continue
            when = b.heap.next_when()
            if when is None:
                if not _still_stuck(b, members):
                    pause = 0.0
                    continue
                msg = MSG_MAIN_EXITED if b.root_done else MSG_ALL_BLOCKED
                text = msg + "\n\n" + _bubble_dump(members)
                _end(b, members)
                raise Deadlock(text)
            if when > b.now:
                b.now = when
            for t in b.heap.pop_due(b.now):
                b.ctx.run(t.f, t.arg, b.now)
            pause = 0.0
            continue
        # Blocked, not durably: something outside the bubble (or a Mutex)
        # ends it. Wait in real time; the driver is outside the bubble.
        pause = min(max(pause * 2, _PAUSE_MIN), _PAUSE_MAX)
        _time.sleep(pause)


def _snapshot(gs: list[G]) -> list[tuple[int, str, str, int]]:
    return [(g.id, g.state, g.wait_reason, id(g.token)) for g in gs]


def _still_stuck(b: _Bubble, members: list[G]) -> bool:
    """Before a deadlock is reported: whether the bubble stays exactly as it
    is for a short real-time grace (_GRACE). A goroutine of the bubble may
    wait on a channel made outside it, which a goroutine or thread outside
    will serve (Go does not count that wait as durable; here it cannot be
    told apart): such a wake-up comes within the grace, and the bubble goes
    on instead of failing."""
    before = _snapshot(members)
    waited = 0.0
    pause = _PAUSE_MIN
    while waited < _GRACE:
        _time.sleep(pause)
        waited += pause
        pause = min(pause * 2, _PAUSE_MAX)
        _proc.gosched()
        if _snapshot(_members(b)) != before or b.heap.next_when() is not None:
            return False
    return True


def _end(b: _Bubble, members: list[G]) -> None:
    """End the bubble's goroutines, all parked: each is woken with
    GreenletExit (its finally blocks run), until none is left."""
    for _ in range(100):
        for g in members:
            tok = g.token
            if g.state == WAITING and tok is not None and tok.acquire(False):
                g.throw_exc = GreenletExit()
                _proc.ready(g)
        b.waiter = b.waiter_g = None
        _proc.gosched()
        members = _members(b)
        while members and any(g.state != WAITING for g in members):
            _proc.gosched()
            members = _members(b)
        if not members:
            return


def _bubble_dump(members: list[G]) -> str:
    """dump()'s blocks for the given goroutines only."""
    ids = {f"goroutine {g.id} [" for g in members}
    blocks = [blk for blk in _dump().split("\n\n") if _head(blk) in ids]
    return "\n\n".join(blocks).rstrip("\n") + "\n"


def _head(block: str) -> str:
    head, sep, _ = block.partition("[")
    return head + sep


def wait() -> None:
    """Block until every other goroutine of the caller's bubble is durably
    blocked. Raises RuntimeError outside a bubble, or while another goroutine
    of the bubble waits. Go: ``synctest.Wait``."""
    b = _clock.bubble.get(None)
    if b is None:
        raise RuntimeError("goroutine is not in a bubble")
    if b.waiter is not None:
        raise RuntimeError("wait already in progress")
    p = _sched.getp()
    assert p is not None and p.curg is not None
    token = new_token()
    w = _proc.current_waiter(token)
    b.waiter = w
    b.waiter_g = p.curg
    try:
        w.park(WAIT_SYNCTEST_WAIT)
    except BaseException:
        if token.acquire(False) or b.waiter is w:
            b.waiter = b.waiter_g = None
        raise

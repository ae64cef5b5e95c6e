"""Time: sleep, after, tick, Timer, Ticker, after_func (Go 1.23 semantics).

Channel timers follow Go 1.23 (runtime/time.go with asynctimerchan=0):
  * The channel behaves as unbuffered: ``len``/``cap`` are 0, and once
    ``stop()`` or ``reset()`` returns, no value from before the call is ever
    received. Internally it holds at most one value.
  * A timer sits in a P's heap only while a receiver is blocked on its channel
    (``_block``/``_unblock``). Otherwise an expired timer fills its channel
    lazily when someone looks (``_maybe_run``, Go's maybeRunChan). So a Timer
    nobody references is garbage, and one nobody waits on is no reason to
    call a program alive: ``t = Timer(3600); Chan().recv()`` deadlocks.
  * ``stop()``/``reset()`` return True if the timer was pending or its value
    was still unreceived (which they discard).
``sleep``, ``after_func`` timers and context deadlines always sit in a heap and
count as possible wakers.

A Timer or Ticker made by a goroutine of a synctest bubble is on the
bubble's fake clock and belongs to the bubble, as its channel does (_chan.py):
``stop()`` and ``reset()`` from any goroutine or thread not in that bubble
raise ChannelClosedError with Go's words ("stop of synctest timer from
outside bubble"), and so does receiving from its channel. Go checks stop and
reset only for a caller outside every bubble; a caller in another bubble
raises here too, since its reset would move the timer to that bubble's clock.

Times are readings of the runtime's clock (``_clock.read()``, what
``goroutines.now()`` returns: _runtime/clock.py): every ``when``, and the
values timer channels send. A foreign thread's sleep alone waits on
``time.monotonic()``, since it sleeps the OS thread.

Invariants, whenever the timer's lock (its channel's lock) is free:
  * self._when == 0 <=> the timer is stopped or has fired (one-shot);
  * self._rt.entry is not None implies self._when > 0;
  * for channel timers, self._rt.entry is not None implies self._blocked > 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import monotonic
from time import sleep as _os_sleep
from typing import Any, Final, final

from ._chan import Chan, RecvOnly
from ._runtime import clock as _clock
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime import timers as _timers
from ._runtime.g import WAIT_SLEEP
from ._runtime.timers import RTimer
from ._runtime.waiter import Waiter, new_lock, new_token
from .errors import ChannelClosedError

_tls = _sched.tls

# Go's words (runtime/time.go) for stop and reset of a timer of a synctest
# bubble from outside it (the module docstring).
OUTSIDE_STOP: Final = "stop of synctest timer from outside bubble"
OUTSIDE_RESET: Final = "reset of synctest timer from outside bubble"


def _check_bubble(bubble: Any, msg: str) -> None:
    """Raise ChannelClosedError(msg) unless the caller runs in bubble, the
    synctest bubble a timer was made in (not None)."""
    if _clock.bubble.get(None) is not bubble:
        raise ChannelClosedError(msg)


def check_duration(d: object, name: str = "d") -> float:
    """Validate a duration in seconds (int or float, not bool, not NaN)."""
    if isinstance(d, bool) or not isinstance(d, (int, float)):
        raise TypeError(f"{name} must be a duration in seconds (int or float), got {type(d).__name__}")
    if math.isnan(d):
        raise ValueError(f"{name} must be a duration in seconds, got NaN")
    return float(d)


def _timer_p() -> _sched.P:
    p = _sched.getp()
    if p is None:
        _sched.note_foreign()
        return _proc.background_p()
    return p


def sleep(d: float) -> None:
    """Pause the current goroutine for d seconds (d <= 0 just yields).

    Other goroutines run meanwhile. From a foreign thread it sleeps the thread.
    Go: ``time.Sleep(d)``.
    """
    d = check_duration(d)
    p = _sched.getp()
    if p is None:
        if d > 0:
            _thread_sleep(d)
        return
    if _sched.attention:
        _proc.check_attention()
    if d <= 0:
        _proc.gosched()
        return
    g = p.curg
    assert g is not None
    token = new_token()
    rt = RTimer(_wake_sleeper, (g, token))
    _timers.add(p, rt, _clock.read() + d)
    try:
        _proc.park(WAIT_SLEEP, token)
    except BaseException:
        _timers.delete(rt)
        raise


# The longest time.sleep() of a foreign thread's sleep(); time.sleep raises
# OverflowError beyond ~292 years (and for inf), Go's durations reach 290.
_THREAD_SLEEP_MAX = 86400.0


def _thread_sleep(d: float) -> None:
    """Sleep the calling thread for d seconds (d > 0; inf: forever), on
    time.monotonic(): the OS sleeps in real time, whatever the runtime's clock."""
    deadline = monotonic() + d
    while True:
        left = deadline - monotonic()
        if left <= 0:
            return
        _os_sleep(min(left, _THREAD_SLEEP_MAX))


def _wake_sleeper(arg: Any, now: float) -> None:
    g, token = arg
    if token.acquire(False):
        _proc.ready_from_timer(g)


class _ChanTimer:
    """The shared machinery of Timer and Ticker: a timer that feeds a channel."""

    __slots__ = ("__weakref__", "_blocked", "_c", "_period", "_rt", "_when")

    def __init__(self, d: float, period: float) -> None:
        c: Chan[float] = Chan(1)
        c._timer = self
        self._c = c
        self._period = period
        self._blocked = 0
        self._rt = RTimer(_ChanTimer._fire, self)
        self._when = _clock.read() + max(d, 0.0)  # Go: d <= 0 means now

    # Called by channel operations (c._lock held only where said).

    def _maybe_run(self) -> None:
        """Before a receive: an expired timer not in a heap fills its channel now."""
        if self._rt.entry is not None:
            return
        when = self._when
        if when == 0 or when > _clock.read():
            return
        self._fire(_clock.read())

    def _block(self) -> None:
        """A receiver is queued on the channel (c._lock held)."""
        self._blocked += 1
        if self._when > 0 and self._rt.entry is None:
            _timers.add(_timer_p(), self._rt, self._when)

    def _unblock(self) -> None:
        """A queued receiver left (c._lock not held)."""
        lock = self._c._lock
        lock.acquire()
        self._blocked -= 1
        if self._blocked == 0 and self._rt.entry is not None:
            _timers.delete(self._rt)
        lock.release()

    def _fire(self, now: float) -> None:
        """Deliver the time to the channel if the timer is due (no lock held)."""
        c = self._c
        lock = c._lock
        lock.acquire()
        when = self._when
        if when == 0 or when > now:
            lock.release()
            return
        if self._period > 0:
            # The next tick after now, skipping those a slow receiver missed.
            # In floats: the count of missed periods overflows int() and
            # float for a period of a denormal's size (it ticks at every
            # look, then); a period of inf ticks never.
            period = self._period
            missed = (now - when) // period
            nxt = when + period * (1.0 + missed) if missed < math.inf else now
            self._when = nxt if nxt > now else now + period
            if self._blocked > 0:
                _timers.add(_timer_p() if self._rt.p is None else self._rt.p, self._rt, self._when)
        else:
            self._when = 0
            if self._rt.entry is not None:
                _timers.delete(self._rt)
        partner: Waiter | None = None
        rq = c._recvq
        while rq:
            w = rq.popleft()
            if w.token.acquire(False):
                partner = w
                break
        # The value is the time the timer was due, as Go 1.23 sends Now() minus
        # the delay: a timer run late (lazily, when its channel is looked at)
        # still tells when it fired, so values keep their deadlines' order.
        if partner is None and not c._buf:
            c._buf.append(when)  # a Ticker whose last tick is unreceived drops this one
        lock.release()
        if partner is not None:
            partner.value = when
            partner.ok = True
            partner.done = True
            partner.wake()

    def _stop_locked(self) -> bool:
        pending = self._when > 0
        self._when = 0
        if self._rt.entry is not None:
            _timers.delete(self._rt)
        if self._c._buf:
            self._c._buf.clear()
            pending = True
        return pending

    def _reset_locked(self, d: float) -> bool:
        pending = self._stop_locked()
        self._when = _clock.read() + max(d, 0.0)  # Go: d <= 0 means now
        if self._blocked > 0:
            _timers.add(self._rt.p or _timer_p(), self._rt, self._when)
        return pending


@final
class Timer:
    """A single event: after d seconds the current time (a ``goroutines.now()``
    reading) is sent on ``.c``.

    ``after_func`` makes timers whose ``.c`` is None and which call a function
    in its own goroutine instead. Go: ``time.NewTimer(d)``.
    """

    __slots__ = ("__weakref__", "_bubble", "_ct", "_fn", "_func_lock", "_rt", "c")

    # The channel; None for after_func timers (typed for the common case).
    c: RecvOnly[float]

    def __init__(self, d: float) -> None:
        d = check_duration(d)
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        self._ct: _ChanTimer | None = _ChanTimer(d, 0.0)
        self.c = self._ct._c.recv_only()
        self._bubble: Any = self._ct._c._bubble  # the creator's synctest bubble, or None
        self._fn: Callable[[], Any] | None = None
        self._rt: RTimer | None = None
        self._func_lock: Any = None

    @classmethod
    def _func(cls, d: float, fn: Callable[[], Any]) -> Timer:
        t = cls.__new__(cls)
        t._ct = None
        t.c = None  # type: ignore[assignment]
        t._bubble = _clock.bubble.get(None) if _clock._nbubbles else None
        t._fn = fn
        t._func_lock = new_lock()  # guards _rt's arming
        t._rt = RTimer(_run_func, t)
        _timers.add(_timer_p(), t._rt, _clock.read() + d)
        return t

    def stop(self) -> bool:
        """Stop the timer. True if it was pending (or its value unreceived,
        which is discarded); False if it had fired or was stopped. Go: ``t.Stop()``."""
        if self._bubble is not None:
            _check_bubble(self._bubble, OUTSIDE_STOP)
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        ct = self._ct
        if ct is None:
            assert self._rt is not None
            self._func_lock.acquire()
            stopped = _timers.delete(self._rt)
            self._func_lock.release()
            return stopped
        lock = ct._c._lock
        lock.acquire()
        pending = ct._stop_locked()
        lock.release()
        return pending

    def reset(self, d: float) -> bool:
        """Restart the timer to fire d seconds from now (works on a fired or
        stopped timer). Returns what stop() would have. Go: ``t.Reset(d)``."""
        d = check_duration(d)
        if self._bubble is not None:
            _check_bubble(self._bubble, OUTSIDE_RESET)
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        ct = self._ct
        if ct is None:
            assert self._rt is not None
            self._func_lock.acquire()
            pending = _timers.delete(self._rt)
            _timers.add(self._rt.p or _timer_p(), self._rt, _clock.read() + d)
            self._func_lock.release()
            return pending
        lock = ct._c._lock
        lock.acquire()
        pending = ct._reset_locked(d)
        lock.release()
        return pending

    def __repr__(self) -> str:
        return f"<Timer at {id(self):#x}>"


def _run_func(t: Timer, now: float) -> None:
    fn = t._fn
    assert fn is not None
    _go_from_timer(fn)


def _go_from_timer(fn: Callable[[], Any]) -> None:
    from ._go import go

    go(fn)


@final
class Ticker:
    """Sends the time (a ``goroutines.now()`` reading) on ``.c`` every d
    seconds; drops ticks a slow receiver misses. Go: ``time.NewTicker(d)``."""

    __slots__ = ("__weakref__", "_ct", "c")

    def __init__(self, d: float) -> None:
        d = check_duration(d)
        if d <= 0:
            raise ValueError("non-positive interval for NewTicker")
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        self._ct = _ChanTimer(d, d)
        self.c: RecvOnly[float] = self._ct._c.recv_only()

    def stop(self) -> None:
        """Turn the ticker off; no more ticks are received. Go: ``t.Stop()``."""
        bubble = self._ct._c._bubble
        if bubble is not None:
            _check_bubble(bubble, OUTSIDE_STOP)
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._ct._c._lock
        lock.acquire()
        self._ct._stop_locked()
        lock.release()

    def reset(self, d: float) -> None:
        """Stop and restart with period d. Go: ``t.Reset(d)``."""
        d = check_duration(d)
        if d <= 0:
            raise ValueError("non-positive interval for Ticker.Reset")
        bubble = self._ct._c._bubble
        if bubble is not None:
            _check_bubble(bubble, OUTSIDE_RESET)
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        ct = self._ct
        lock = ct._c._lock
        lock.acquire()
        ct._period = d
        ct._reset_locked(d)
        lock.release()

    def __repr__(self) -> str:
        return f"<Ticker every {self._ct._period}s at {id(self):#x}>"


def after(d: float) -> RecvOnly[float]:
    """A channel that receives the time (a ``goroutines.now()`` reading) after
    d seconds. Go: ``time.After(d)``."""
    return Timer(d).c


def tick(d: float) -> RecvOnly[float] | None:
    """A channel of ticks every d seconds; None (Go's nil channel) for d <= 0.
    Go: ``time.Tick(d)``."""
    d = check_duration(d)
    if d <= 0:
        return None
    return Ticker(d).c


def after_func(d: float, fn: Callable[[], Any]) -> Timer:
    """Call fn in its own goroutine after d seconds; ``.c`` is None.
    Go: ``time.AfterFunc(d, f)``."""
    d = check_duration(d)
    if not callable(fn):
        raise TypeError(f"after_func: fn must be callable, got {type(fn).__name__}")
    return Timer._func(d, fn)

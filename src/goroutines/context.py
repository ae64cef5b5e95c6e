"""context: cancellation, deadlines and request-scoped values (Go's context package).

A port of context/context.go. The tree:
  * ``background()``/``todo()``: never cancelled; ``done()`` is _never_done,
    a receive-only view of a channel nobody sends on or closes (a receive
    blocks forever, as from Go's nil channel), recognised by identity
    (_never_cancelled), so deriving from them links nothing and starts no
    watcher. ``without_cancel`` and ``with_value`` over them return it too.
  * ``with_cancel``/``with_cancel_cause``: a _CancelCtx. ``with_deadline``/
    ``with_timeout``: a _TimerCtx (a _CancelCtx plus a runtime timer in a P's
    heap, which counts as a possible waker for deadlock detection).
    ``after_func``: an _AfterFuncCtx. ``with_value``: a _ValueCtx.
    ``without_cancel``: a _WithoutCancelCtx.
  * propagate_cancel links a new cancellable child to its nearest cancellable
    ancestor (found through ``value(_CANCEL_CTX_KEY)``, Go's &cancelCtxKey) by
    entering it in that ancestor's ``_children``; a custom parent that has an
    ``after_func(f) -> stop`` method (Go's afterFuncer) is asked to call back;
    any other custom parent is watched by a goroutine, as in Go.

Invariants, whenever c._lock is free (c a _CancelCtx):
  * c._err is None until c is cancelled; then c._err, c._cause are set once
    and c._done is closed (or is the shared closed channel if nobody had asked
    for it).
  * c._children holds the cancellable children registered while c was live;
    it is None once c is cancelled. A child leaves it when cancelled itself,
    so a cancelled child is not kept alive by its parent.
  * A _TimerCtx's timer is in a heap only while the context is live.
Locks: no two contexts' locks are ever held together. A context's lock may be
held while taking its done channel's lock (close) or a P's timer lock.

Departures from Go, on purpose:
  * A cancellable context's ``done()`` returns the Chan itself
    (docs/api.md#context); closing it yourself is misuse. A context that is
    never cancelled returns _never_done, where Go returns nil: a
    receive-only view, so sending on it or closing it raises at once.
  * ``err()`` returns an exception instance made when the context is
    cancelled (the same instance on every call; descendants cancelled with it
    share it) rather than a package-level sentinel, because a Python exception
    carries its traceback: test it with ``isinstance(err, Canceled)``.
  * Cancelling walks the descendants with an explicit stack after releasing
    each lock, rather than recursing under the parent's lock, so deep chains
    cannot exhaust the Python stack. When cancel returns, every descendant is
    cancelled, as in Go.
  * Deadlines are ``goroutines.now()`` readings (the runtime's clock:
    ``time.monotonic()`` seconds outside a synctest bubble), not wall-clock
    times; ``with_value`` rejects a None key with TypeError (Go panics "nil
    key"), and every function that takes a context rejects anything that is
    not a Context with a TypeError naming the argument (Go would fail later,
    at a nil dereference).
"""

from __future__ import annotations

import abc
import math
import signal
import threading
from collections.abc import Callable
from typing import Any, Final, TypeAlias, final

from ._chan import Chan, RecvChan, RecvOnly
from ._go import _is_async
from ._runtime import clock as _clock
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime import timers as _timers
from ._runtime.timers import RTimer
from ._runtime.waiter import new_lock
from ._select import recv, select
from ._sigrelay import _SignalRelay
from ._time import check_duration
from .errors import ChannelClosedError

CancelFunc: TypeAlias = Callable[[], None]
"""Cancels its context; later calls do nothing. Go: ``context.CancelFunc``."""

CancelCauseFunc: TypeAlias = Callable[[BaseException | None], None]
"""Cancels its context with a cause (None: Canceled). Go: ``context.CancelCauseFunc``."""


class Canceled(Exception):
    """The context was cancelled. ``str()`` is ``context canceled``.
    Go: ``context.Canceled``."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context canceled",)))


class DeadlineExceeded(TimeoutError):
    """The context's deadline passed. ``str()`` is ``context deadline exceeded``.
    Go: ``context.DeadlineExceeded``."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context deadline exceeded",)))


class Context(abc.ABC):
    """Carries a deadline, a cancellation signal and values across API
    boundaries. Safe to use from several goroutines and threads at once.

    Subclass it (implementing all four methods) to write your own, as a Go
    type implements the interface. Go: ``context.Context``.
    """

    __slots__ = ()

    @abc.abstractmethod
    def deadline(self) -> float | None:
        """When the context will be cancelled (a ``goroutines.now()`` reading),
        or None if it has no deadline. Go: ``ctx.Deadline()``."""

    @abc.abstractmethod
    def done(self) -> RecvChan[None]:
        """A channel closed when the context is cancelled, usable in
        ``select``. A context that can never be cancelled returns a
        receive-only channel that is never closed, so a receive from it
        blocks forever (Go's nil channel). Go: ``ctx.Done()``.

        (A custom context may still return None for "never cancelled": the
        functions of this module treat it as that channel.)"""

    @abc.abstractmethod
    def err(self) -> Canceled | DeadlineExceeded | None:
        """None while ``done()`` is open; then why it closed, the same
        instance on every call. Go: ``ctx.Err()``."""

    @abc.abstractmethod
    def value(self, key: object) -> Any:
        """The value for key along the chain of contexts, or None.
        Go: ``ctx.Value(key)``."""


_CANCEL_CTX_KEY: Final = object()  # a cancellable context returns itself for it

_closed_chan: Chan[None] = Chan()  # Go's closedchan: done() of a context
_closed_chan.close()  # cancelled before anybody asked for its channel

# done() of every context that is never cancelled: nobody sends on this
# channel or closes it, and its receive-only view keeps anybody from doing so.
_never_chan: Final[Chan[None]] = Chan()
_never_done: Final[RecvOnly[None]] = _never_chan.recv_only()


def _never_cancelled(done: object) -> bool:
    """Whether done, a context's done(), says the context is never cancelled:
    _never_done (by identity), or None from a custom context."""
    return done is _never_done or done is None


def _name(c: Context) -> str:
    return repr(c)


# ---------------------------------------------------------------------------
# The context types


@final
class _EmptyCtx(Context):
    """background() and todo(): never cancelled, no values, no deadline."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def deadline(self) -> float | None:
        return None

    def done(self) -> RecvChan[None]:
        return _never_done

    def err(self) -> Canceled | DeadlineExceeded | None:
        return None

    def value(self, key: object) -> Any:
        return None

    def __repr__(self) -> str:
        return self._name


_background: Final = _EmptyCtx("context.Background")
_todo: Final = _EmptyCtx("context.TODO")


class _CancelCtx(Context):
    """with_cancel's context (Go's cancelCtx)."""

    __slots__ = ("__weakref__", "_cause", "_children", "_done", "_err", "_lock", "_parent")

    def __init__(self, parent: Context) -> None:
        self._parent = parent
        self._lock = new_lock()  # guards the four fields below
        self._done: Chan[None] | None = None  # made on first done()
        self._children: dict[_CancelCtx, None] | None = None
        self._err: Canceled | DeadlineExceeded | None = None
        self._cause: BaseException | None = None

    def deadline(self) -> float | None:
        return self._parent.deadline()

    def done(self) -> Chan[None]:
        d = self._done
        if d is not None:
            return d
        lock = self._lock
        lock.acquire()
        d = self._done
        if d is None:
            d = self._done = Chan()
        lock.release()
        return d

    def err(self) -> Canceled | DeadlineExceeded | None:
        return self._err  # one reference, written once: no lock needed

    def value(self, key: object) -> Any:
        return _value(self, key)

    def _cancel_one(
        self, err: Canceled | DeadlineExceeded, cause: BaseException | None
    ) -> list[_CancelCtx] | None:
        """Cancel this context alone: set err and cause, close done, detach
        the children and return them for the caller to cancel. None if it was
        already cancelled."""
        lock = self._lock
        lock.acquire()
        if self._err is not None:
            lock.release()
            return None
        self._err = err
        self._cause = cause if cause is not None else err
        d = self._done
        if d is None:
            self._done = _closed_chan
        else:
            try:
                d.close()  # never parks: closing only wakes
            except ChannelClosedError:
                if not d.closed:
                    # Made in a synctest bubble, cancelled from outside it:
                    # Go's "close of synctest channel from outside bubble".
                    lock.release()
                    raise
                # else somebody closed it by hand
        children = self._children
        self._children = None
        lock.release()
        return list(children) if children else []

    def _cancel_func(self) -> None:
        _cancel(self, True, Canceled(), None)

    def _cancel_cause_func(self, cause: BaseException | None = None) -> None:
        if cause is not None and not isinstance(cause, BaseException):
            raise TypeError(f"cause must be an exception or None, got {type(cause).__name__}")
        _cancel(self, True, Canceled(), cause)

    def __repr__(self) -> str:
        return _name(self._parent) + ".WithCancel"


@final
class _TimerCtx(_CancelCtx):
    """with_deadline's context (Go's timerCtx): a _CancelCtx and a timer."""

    __slots__ = ("_deadline", "_timer", "_timer_cause")

    def __init__(self, parent: Context, when: float, cause: BaseException | None) -> None:
        _CancelCtx.__init__(self, parent)
        self._deadline = when
        self._timer: RTimer | None = None  # under _lock; in a heap while live
        self._timer_cause = cause

    def deadline(self) -> float | None:
        return self._deadline

    def _cancel_one(
        self, err: Canceled | DeadlineExceeded, cause: BaseException | None
    ) -> list[_CancelCtx] | None:
        children = _CancelCtx._cancel_one(self, err, cause)
        lock = self._lock
        lock.acquire()
        rt = self._timer
        self._timer = None
        lock.release()
        if rt is not None:
            _timers.delete(rt)
        return children

    def __repr__(self) -> str:
        when = self._deadline
        return f"{_name(self._parent)}.WithDeadline({when:.6f} [{when - _clock.read():.6f}s])"


def _fire_deadline(c: _TimerCtx, now: float) -> None:
    """The deadline timer, run by its P with no lock held."""
    _cancel(c, True, DeadlineExceeded(), c._timer_cause)


@final
class _AfterFuncCtx(_CancelCtx):
    """after_func's context (Go's afterFuncCtx): runs f once when cancelled,
    unless stop() got there first."""

    __slots__ = ("_claimed", "_f")

    def __init__(self, parent: Context, f: Callable[[], object]) -> None:
        _CancelCtx.__init__(self, parent)
        self._f: Callable[[], object] | None = f
        self._claimed = False  # under _lock: f has been started or stopped (Go's once)

    def _claim(self) -> bool:
        lock = self._lock
        lock.acquire()
        first = not self._claimed
        self._claimed = True
        lock.release()
        return first

    def _cancel_one(
        self, err: Canceled | DeadlineExceeded, cause: BaseException | None
    ) -> list[_CancelCtx] | None:
        children = _CancelCtx._cancel_one(self, err, cause)
        if self._claim():
            f = self._f
            self._f = None
            if f is not None:
                _proc.go(f, (), {}, 1)
        return children

    def _stop(self) -> bool:
        if not self._claim():
            return False
        self._f = None
        _cancel(self, True, Canceled(), None)
        return True

    def __repr__(self) -> str:
        return _name(self._parent) + ".AfterFunc"


@final
class _ValueCtx(Context):
    """with_value's context (Go's valueCtx)."""

    __slots__ = ("_key", "_parent", "_val")

    def __init__(self, parent: Context, key: object, val: object) -> None:
        self._parent = parent
        self._key = key
        self._val = val

    def deadline(self) -> float | None:
        return _skip(self).deadline()

    def done(self) -> RecvChan[None]:
        return _skip(self).done()

    def err(self) -> Canceled | DeadlineExceeded | None:
        return _skip(self).err()

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __repr__(self) -> str:
        return f"{_name(self._parent)}.WithValue({_stringify(self._key)}, {_stringify(self._val)})"


def _stringify(v: object) -> str:
    # Like Go's stringify: strings as they are, other values by type only (a
    # context's repr should not leak what it carries).
    if isinstance(v, str):
        return v
    if v is None:
        return "<nil>"
    return type(v).__qualname__


@final
class _WithoutCancelCtx(Context):
    """without_cancel's context: the parent's values, never cancelled."""

    __slots__ = ("_parent",)

    def __init__(self, parent: Context) -> None:
        self._parent = parent

    def deadline(self) -> float | None:
        return None

    def done(self) -> RecvChan[None]:
        return _never_done

    def err(self) -> Canceled | DeadlineExceeded | None:
        return None

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __repr__(self) -> str:
        return _name(self._parent) + ".WithoutCancel"


@final
class _StopCtx(Context):
    """Stands in for a custom parent that called us back via its after_func:
    unlinking a child from it calls the stop function (Go's stopCtx)."""

    __slots__ = ("_parent", "_stop")

    def __init__(self, parent: Context, stop: Callable[[], object]) -> None:
        self._parent = parent
        self._stop = stop

    def deadline(self) -> float | None:
        return self._parent.deadline()

    def done(self) -> RecvChan[None]:
        return self._parent.done()

    def err(self) -> Canceled | DeadlineExceeded | None:
        return self._parent.err()

    def value(self, key: object) -> Any:
        return _value(self._parent, key)

    def __repr__(self) -> str:
        return _name(self._parent)


def _skip(c: Context) -> Context:
    """The nearest ancestor-or-self that is not a _ValueCtx (they delegate
    deadline/done/err; a loop, not recursion, for long chains)."""
    while type(c) is _ValueCtx:
        c = c._parent
    return c


def _value(c: Context, key: object) -> Any:
    """Mirrors context.go value(): walk up the chain without recursing."""
    while True:
        t = type(c)
        if t is _ValueCtx:
            k = c._key  # type: ignore[attr-defined]
            if k is key or k == key:
                return c._val  # type: ignore[attr-defined]
            c = c._parent  # type: ignore[attr-defined]
        elif t is _CancelCtx or t is _TimerCtx or t is _AfterFuncCtx:
            if key is _CANCEL_CTX_KEY:
                return c
            c = c._parent  # type: ignore[attr-defined]
        elif t is _WithoutCancelCtx:
            if key is _CANCEL_CTX_KEY:
                return None  # cause() and propagation stop here
            c = c._parent  # type: ignore[attr-defined]
        elif t is _StopCtx:
            c = c._parent  # type: ignore[attr-defined]
        elif t is _EmptyCtx:
            return None
        else:
            return c.value(key)


# ---------------------------------------------------------------------------
# Linking and cancelling


def _parent_cancel_ctx(parent: Context) -> _CancelCtx | None:
    """Mirrors context.go parentCancelCtx: the _CancelCtx whose done channel
    parent.done() is, if any (a custom wrapper with its own channel has none)."""
    done = parent.done()
    if _never_cancelled(done) or done is _closed_chan:
        return None
    p = _value(parent, _CANCEL_CTX_KEY)
    if not isinstance(p, _CancelCtx) or p._done is not done:
        return None
    return p


def _propagate_cancel(parent: Context, child: _CancelCtx) -> None:
    """Mirrors context.go propagateCancel: arrange for child to be cancelled
    when parent is."""
    done = parent.done()
    if _never_cancelled(done):
        return  # parent is never cancelled: nothing to link, no watcher
    if select(recv(done), default=True)[0] == 0:  # Go: case <-done, default
        _cancel(child, False, parent.err() or Canceled(), cause(parent))
        return
    p = _parent_cancel_ctx(parent)
    if p is not None:
        lock = p._lock
        lock.acquire()
        err = p._err
        if err is not None:
            c = p._cause
            lock.release()
            _cancel(child, False, err, c)
            return
        if p._children is None:
            p._children = {}
        p._children[child] = None
        lock.release()
        return
    af = getattr(parent, "after_func", None)
    if callable(af):
        # Go's afterFuncer: the custom parent calls us back when cancelled.
        def on_parent_done() -> None:
            _cancel(child, False, parent.err() or Canceled(), cause(parent))

        child._parent = _StopCtx(parent, af(on_parent_done))
        return
    _proc.go(_watch_parent, (parent, child), {}, 1)


def _watch_parent(parent: Context, child: _CancelCtx) -> None:
    """A custom parent we cannot link to: wait for either to end (Go does this
    with a goroutine too)."""
    i, _ = select(recv(parent.done()), recv(child.done()))
    if i == 0:
        _cancel(child, False, parent.err() or Canceled(), cause(parent))


def _remove_child(parent: Context, child: _CancelCtx) -> None:
    """Mirrors context.go removeChild."""
    if type(parent) is _StopCtx:
        parent._stop()
        return
    p = _parent_cancel_ctx(parent)
    if p is None:
        return
    lock = p._lock
    lock.acquire()
    if p._children is not None:
        p._children.pop(child, None)
    lock.release()


def _cancel(
    c: _CancelCtx,
    remove_from_parent: bool,
    err: Canceled | DeadlineExceeded,
    cause: BaseException | None,
) -> None:
    """Cancel c and all its descendants (Go's cancelCtx.cancel)."""
    if _sched.tls.p is None and not _sched.tls.foreign:
        _sched.note_use()  # a foreign thread: count it as a possible waker
    children = c._cancel_one(err, cause)
    if children is None:
        return  # already cancelled
    if remove_from_parent:
        _remove_child(c._parent, c)
    cause = c._cause
    while children:
        more = children.pop()._cancel_one(err, cause)
        if more:
            children.extend(more)


def _check_parent(parent: object, func: str, name: str = "parent") -> None:
    """TypeError naming the argument, for anything that is not a Context."""
    if not isinstance(parent, Context):
        if parent is None and name == "parent":
            raise TypeError("cannot create context from nil parent")  # Go's words
        raise TypeError(f"{func}: {name} must be a Context, got {type(parent).__name__}")


def _check_cause(cause: object) -> None:
    if cause is not None and not isinstance(cause, BaseException):
        raise TypeError(f"cause must be an exception or None, got {type(cause).__name__}")


def _timer_p() -> _sched.P:
    p = _sched.getp()
    if p is None:
        _sched.note_foreign()
        return _proc.background_p()
    return p


# ---------------------------------------------------------------------------
# The public functions


def background() -> Context:
    """The root of every context tree: never cancelled, no values, no
    deadline. Go: ``context.Background()``."""
    return _background


def todo() -> Context:
    """Like background(), for code that has no context yet. Go: ``context.TODO()``."""
    return _todo


def with_cancel(parent: Context) -> tuple[Context, CancelFunc]:
    """A child of parent and a function that cancels it (and its descendants).

    The child's ``done()`` closes when cancel is called or parent's closes,
    whichever comes first; call cancel when done with it to release its link
    to parent. Go: ``context.WithCancel(parent)``.
    """
    _check_parent(parent, "with_cancel")
    c = _CancelCtx(parent)
    _propagate_cancel(parent, c)
    return c, c._cancel_func


def with_cancel_cause(parent: Context) -> tuple[Context, CancelCauseFunc]:
    """Like with_cancel, but cancel takes a cause (an exception), which
    ``cause(ctx)`` then returns; ``ctx.err()`` is still Canceled.
    Go: ``context.WithCancelCause(parent)``."""
    _check_parent(parent, "with_cancel_cause")
    c = _CancelCtx(parent)
    _propagate_cancel(parent, c)
    return c, c._cancel_cause_func


def with_deadline(parent: Context, when: float) -> tuple[Context, CancelFunc]:
    """A child of parent cancelled at ``when`` (a ``goroutines.now()`` reading)
    with DeadlineExceeded, or earlier by cancel or parent. Its deadline is
    never later than parent's. Go: ``context.WithDeadline(parent, d)``."""
    _check_parent(parent, "with_deadline")
    return _with_deadline(parent, when, None)


def with_deadline_cause(
    parent: Context, when: float, cause: BaseException | None
) -> tuple[Context, CancelFunc]:
    """with_deadline whose expiry sets ``cause(ctx)`` to cause.
    Go: ``context.WithDeadlineCause(parent, d, cause)``."""
    _check_parent(parent, "with_deadline_cause")
    return _with_deadline(parent, when, cause)


def _with_deadline(
    parent: Context, when: float, cause: BaseException | None
) -> tuple[Context, CancelFunc]:
    """with_deadline_cause's work, its parent checked by its caller."""
    _check_cause(cause)
    if isinstance(when, bool) or not isinstance(when, (int, float)) or math.isnan(when):
        raise TypeError(f"when must be a goroutines.now() reading, got {when!r}")
    when = float(when)
    cur = parent.deadline()
    if cur is not None and cur < when:
        return with_cancel(parent)  # the parent's deadline comes first anyway
    c = _TimerCtx(parent, when, cause)
    _propagate_cancel(parent, c)
    if when <= _clock.read():
        _cancel(c, True, DeadlineExceeded(), cause)
        return c, c._cancel_func
    p = _timer_p()
    lock = c._lock
    lock.acquire()
    if c._err is None:
        rt = RTimer(_fire_deadline, c)
        c._timer = rt
        _timers.add(p, rt, when)
    lock.release()
    return c, c._cancel_func


def with_timeout(parent: Context, d: float) -> tuple[Context, CancelFunc]:
    """``with_deadline(parent, goroutines.now() + d)``. Go: ``context.WithTimeout``."""
    _check_parent(parent, "with_timeout")
    return _with_deadline(parent, _clock.read() + check_duration(d), None)


def with_timeout_cause(
    parent: Context, d: float, cause: BaseException | None
) -> tuple[Context, CancelFunc]:
    """``with_deadline_cause(parent, goroutines.now() + d, cause)``.
    Go: ``context.WithTimeoutCause``."""
    _check_parent(parent, "with_timeout_cause")
    return _with_deadline(parent, _clock.read() + check_duration(d), cause)


def with_value(parent: Context, key: object, val: object) -> Context:
    """A child of parent whose ``value(key)`` is val (other keys are looked up
    along the chain). Use keys of your own type, not strings, to avoid
    collisions. Raises TypeError for a None key. Go: ``context.WithValue``."""
    _check_parent(parent, "with_value")
    if key is None:
        raise TypeError("with_value: nil key")
    return _ValueCtx(parent, key, val)


def without_cancel(parent: Context) -> Context:
    """A child with parent's values that is never cancelled when parent is:
    no deadline, ``done()`` None, ``err()`` None. Go: ``context.WithoutCancel``."""
    _check_parent(parent, "without_cancel")
    return _WithoutCancelCtx(parent)


def after_func(ctx: Context, f: Callable[[], object]) -> Callable[[], bool]:
    """Arrange to call f in its own goroutine once ctx is done (at once if it
    already is). Returns stop: it unlinks f and returns True if it stopped f
    from being started, False if f had been started or stopped already.
    Go: ``context.AfterFunc(ctx, f)``."""
    _check_parent(ctx, "after_func", "ctx")
    if not callable(f) or _is_async(f):
        raise TypeError(f"after_func: f must be a plain callable, got {f!r}")
    a = _AfterFuncCtx(ctx, f)
    _propagate_cancel(ctx, a)
    return a._stop


def cause(ctx: Context) -> BaseException | None:
    """Why ctx was cancelled: the cause given to its cancel function (or to a
    ``*_cause`` constructor), else ``ctx.err()``; None while it is live.
    Go: ``context.Cause(ctx)``."""
    _check_parent(ctx, "cause", "ctx")
    cc = _value(ctx, _CANCEL_CTX_KEY)
    if isinstance(cc, _CancelCtx):
        # The cause alone, read under the lock that sets it with err (as Go
        # does): falling back to ctx.err() after reading None would return a
        # cancel that landed in between as its own cause.
        lock = cc._lock
        lock.acquire()
        c = cc._cause
        lock.release()
        return c
    # Not below a cancellable context of this module: no cause but the error.
    return ctx.err()


# ---------------------------------------------------------------------------
# notify_context: Go's signal.NotifyContext


class SignalReceived(Canceled):
    """The cause of a notify_context's cancellation: which signal arrived
    (``.signal``). It is a Canceled, as ``ctx.err()`` is."""

    def __init__(self, signum: int) -> None:
        sig = signal.Signals(signum)
        name = signal.strsignal(sig) or sig.name
        super().__init__(f"{name.lower()} signal received")
        self.signal = sig


_DEFAULT_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


def notify_context(parent: Context, *signals: int) -> tuple[Context, CancelFunc]:
    """A child of parent cancelled when one of the signals arrives, and a
    stop function. Go: ``signal.NotifyContext(parent, signals...)``.

    With no signals given it listens for SIGINT and SIGTERM (Go's listens
    for every signal; a Python program wants these two). While it listens, a
    Ctrl-C cancels the context instead of raising KeyboardInterrupt in the
    main goroutine. The first signal cancels it with ``Canceled`` as
    ``err()`` and a ``SignalReceived`` naming the signal as ``cause(ctx)``,
    and puts the previous handlers back: a second signal ends the program as
    it would have without notify_context (KeyboardInterrupt, status 130; a
    SIGTERM kills it). So does any signal once the context is cancelled
    otherwise (by its parent).

    stop() cancels the context (if no signal did), puts the previous
    handlers back and ends the goroutine that waits for the signals; call it
    when done with the context. Called from another thread than the main
    one, it cannot touch the handlers: the next of those signals is then
    handled as the previous handler would have, and puts it back.

    Python runs signal handlers on the main thread only, so notify_context
    must be called there (in goroutine 1 or another goroutine running on that
    thread); elsewhere it raises ValueError, as ``signal.signal`` does.
    """
    _check_parent(parent, "notify_context")
    sigs: list[signal.Signals] = []
    for s in signals or _DEFAULT_SIGNALS:
        if isinstance(s, bool) or not isinstance(s, int):
            raise TypeError(f"notify_context: signals must be ints, got {type(s).__name__}")
        sig = signal.Signals(s)  # ValueError for a number that is no signal
        if sig not in sigs:
            sigs.append(sig)
    if threading.current_thread() is not threading.main_thread():
        raise ValueError(
            "notify_context: signal handlers can only be installed from the main thread "
            "(Python runs them there): call it there and pass the context on"
        )
    ctx, cancel = with_cancel_cause(parent)
    relay = _SignalRelay(ctx, cancel, SignalReceived, after_func)
    try:
        relay.install(tuple(sigs))
    except BaseException:
        cancel(None)
        raise
    return ctx, relay.stop


__all__ = [
    "CancelCauseFunc",
    "CancelFunc",
    "Canceled",
    "Context",
    "DeadlineExceeded",
    "SignalReceived",
    "after_func",
    "background",
    "cause",
    "notify_context",
    "todo",
    "with_cancel",
    "with_cancel_cause",
    "with_deadline",
    "with_deadline_cause",
    "with_timeout",
    "with_timeout_cause",
    "with_value",
    "without_cancel",
]

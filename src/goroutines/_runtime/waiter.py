"""Waiter: what sits in a wait queue (Go's sudog), one mechanism for all blockers.

A Waiter stands for one blocked operation of one blocker: a goroutine
(GWaiter: park switches to the scheduler, wake readies the G), a plain OS
thread (ThreadWaiter: park acquires a lock, wake releases it) or an asyncio
task (AsyncWaiter: park awaits a future, wake resolves it thread-safely).
Channels, select, Mutex, WaitGroup, Cond, Semaphore and context are written
once against this interface.

Protocol (the park token):
  * Every park has a token, an unlocked ``_thread.lock``. Waiters of one select
    share one token, so exactly one case can win.
  * A waker first wins the token (``token.acquire(False)`` - an atomic
    test-and-set), then fills in the result fields, then calls ``wake()``.
    Losing the token means somebody else owns that wake-up: skip the waiter.
  * Result fields are written only by the token's winner and read by the
    parked side only after it has been woken.
  * ``wake()`` is called without holding any primitive's lock.
"""

from __future__ import annotations

from _thread import RLock as _RLock
from _thread import allocate_lock
from _thread import get_ident as _get_ident
from collections.abc import Callable
from time import sleep as _sleep
from typing import TYPE_CHECKING, Any, Final, Protocol

from greenlet import getcurrent, greenlet

if TYPE_CHECKING:
    from .g import G

from . import events as _events
from .accel import port as _accel_port
from .errors import throw

REENTERED: Final = (
    "this thread is already inside an operation on this channel or primitive (a "
    "__del__, weakref callback or signal handler ran in the middle of it), so waiting "
    "for it here would hang forever; do blocking work from such code in a goroutine of "
    "its own: go(fn)"
)
"""The RuntimeError of a blocking acquire by the thread that holds the lock
(the accelerator's Lock says the same, word for word)."""

# typeshed calls RLock final and knows nothing of its _is_owned(): typed as Any.
_RLockBase: Any = _RLock
_rlock_acquire = _RLock.acquire
_rlock_release = _RLock.release
_rlock_is_owned: Any = _RLockBase._is_owned


class Lock(_RLockBase):  # type: ignore[misc]
    """The pure path's internal lock of a channel or primitive: _thread.lock's
    interface, and it knows which thread holds it.

    Python code can run in the middle of a runtime operation, on the thread
    that performs it and with the primitive's lock held: a ``__del__`` run by
    a collection that an allocation started, a weakref callback, a signal
    handler. If that code operates on the same primitive, a plain lock would
    wait for itself forever, where nothing (deadlock detection included) can
    see it. This one raises RuntimeError(REENTERED) when its holder asks for
    it without a timeout; with a timeout, or acquire(False), the holder gets
    False (after the timeout), as for any other held lock (an RLock would let
    the holder in, onto state it is in the middle of changing). Go needs none of this: it runs finalizers in a
    goroutine of their own, never inside the runtime; CPython runs them
    wherever the collection happens, so the runtime cannot move them.

    Twin of the accelerator's Lock (_speedups/lock.c), which records its owner in
    C; on the pure path the owner check costs a Python call per acquire.
    """

    __slots__ = ()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if _rlock_is_owned(self):
            if blocking:
                if timeout == -1:
                    raise RuntimeError(REENTERED)
                if timeout > 0:
                    _sleep(timeout)  # what a plain lock would wait: nobody can release it
            return False
        if blocking is True and timeout == -1:
            return _rlock_acquire(self)  # the usual call, without arguments to parse
        return _rlock_acquire(self, blocking, timeout)

    __enter__ = acquire

    def __exit__(self, *exc_info: object) -> None:
        _rlock_release(self)

    def locked(self) -> bool:
        if _rlock_is_owned(self):
            return True
        if _rlock_acquire(self, False):
            _rlock_release(self)
            return False
        return True


class Token(Protocol):
    """A park token, or a lock of the core (see the module header and the
    lock order in sched.py): ``_thread.lock``, the Lock above, or the
    accelerator's Lock. A token is won with ``acquire(False)`` only; a lock
    is also waited for (``acquire()``) and released."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...

    def locked(self) -> bool: ...


# The park token: the accelerator's Lock, whose uncontended acquire/release is
# a flag flip, or a plain _thread.lock (a token is only ever won with
# acquire(False), by whichever thread wakes its owner).
new_token: Callable[[], Token] = (
    allocate_lock if _accel_port("lock") is None else _accel_port("lock").Lock
)
# The internal lock of a channel or primitive (WaitGroup, Mutex, context...):
# the accelerator's Lock, or the Lock above; either raises RuntimeError rather
# than let the thread that holds it wait for itself.
new_lock: Any = Lock if _accel_port("lock") is None else _accel_port("lock").Lock


class Waiter:
    """Base waiter. Fields are for the primitive that queues it."""

    __slots__ = ("case", "chan", "done", "elem", "ok", "token", "value")

    def __init__(self, token: Token) -> None:
        self.token = token
        self.elem: Any = None  # value a sender offers
        self.value: Any = None  # value handed to a receiver
        self.ok = False  # True: completed; False: e.g. woken by close
        self.done = False  # set by the winner: this waiter (of a select) fired
        self.case = -1  # select case index
        self.chan: Any = None

    def fired(self) -> bool:
        return self.token.locked()

    def wake(self) -> None:
        raise NotImplementedError

    def park(self, reason: str) -> None:
        raise NotImplementedError

    def sibling(self, token: Token) -> Waiter:
        """Another waiter of the same blocker and wake mechanism (select cases)."""
        raise NotImplementedError


class GWaiter(Waiter):
    __slots__ = ("g",)

    def __init__(self, g: G, token: Token) -> None:
        # Every field set here, without Waiter.__init__: one call less on
        # every blocking channel operation.
        self.token = token
        self.elem = None
        self.value = None
        self.ok = False
        self.done = False
        self.case = -1
        self.chan = None
        self.g = g

    def wake(self) -> None:
        # proc.ready, inlined: this runs on every hand-off to a goroutine.
        # Same order, same RuntimeFault on failure (see proc.ready).
        g = self.g
        if _events.hook is not None:
            _events.hook(_events.READY, g, None)
        p: Any = g.p
        if p is None:
            raise throw(f"ready: goroutine {g.id} has no P")
        try:
            if p.ident == _get_ident():
                old = p.runnext
                if old is not None:
                    p.runq.append(old)
                g.state = "runnable"
                p.runnext = g
            else:
                g.state = "runnable"
                p.inbound.append(g)
                if p.sleeping:
                    p.wakeup()
        except BaseException as e:
            raise throw(f"ready: goroutine {g.id} could not be made runnable") from e

    def park(self, reason: str) -> None:
        _park(reason, self.token)

    def sibling(self, token: Token) -> GWaiter:
        return GWaiter(self.g, token)


class ThreadWaiter(Waiter):
    """A plain OS thread blocked in the runtime: it blocks as a thread."""

    __slots__ = ("exc", "lock", "reason", "thread")

    def __init__(self, token: Token, lock: Token | None = None) -> None:
        Waiter.__init__(self, token)
        if lock is None:
            lock = allocate_lock()
            lock.acquire()
        self.lock = lock
        self.thread = _get_ident()
        self.exc: BaseException | None = None  # set by the deadlock detector
        self.reason = ""

    def wake(self) -> None:
        self.lock.release()

    def park(self, reason: str) -> None:
        _park_thread(self, reason)

    def sibling(self, token: Token) -> ThreadWaiter:
        return ThreadWaiter(token, self.lock)


class AsyncOp(greenlet):  # type: ignore[misc]
    """The greenlet in which an asyncio task runs one blocking runtime operation.

    _aio.py runs the ordinary blocking code (``Chan.send``, ``select``, a
    Mutex's ``lock``...) in an AsyncOp on the loop's thread. Its park is an
    AsyncWaiter park: the greenlet is suspended and the task awaits instead.
    """

    __slots__ = ("loop",)


class AsyncWaiter(Waiter):
    """An asyncio task blocked in the runtime.

    park() runs in the task's AsyncOp greenlet: it switches back to the task,
    handing it this waiter, and returns (or raises) when the task resumes the
    greenlet. The task awaits ``future``; wake(), from any thread, resolves it
    on the loop's thread: through ``call_soon_threadsafe``, or directly when
    it is called on that thread while the loop runs (another task of the same
    loop completing the operation). ``woken`` records the wake-up even when the
    future was cancelled meanwhile. The waiters of one select share the first
    one's future and flag (``first``).
    Fields other than the result ones are touched on the loop's thread only.
    """

    __slots__ = ("first", "future", "loop", "thread", "woken")

    def __init__(self, token: Token, loop: Any, first: AsyncWaiter | None = None) -> None:
        Waiter.__init__(self, token)
        self.first = self if first is None else first
        self.loop = loop
        self.thread = _get_ident()  # the loop's thread
        self.future: Any = None  # made by the awaiting task
        self.woken = False

    def wake(self) -> None:
        first = self.first
        loop = first.loop
        if first.thread == _get_ident() and _running_loop() is loop:
            first.resolve()
            return
        try:
            loop.call_soon_threadsafe(first.resolve)
        except RuntimeError:  # the loop is closed: nobody awaits this any more
            pass

    def resolve(self) -> None:
        """On the loop's thread: record the wake-up and resolve the future."""
        self.woken = True
        fut = self.future
        if fut is not None and not fut.done():
            fut.set_result(None)

    def park(self, reason: str) -> None:
        getcurrent().parent.switch(self.first)

    def sibling(self, token: Token) -> AsyncWaiter:
        return AsyncWaiter(token, None, self.first)


def foreign_waiter(token: Token) -> Waiter:
    """The Waiter of a blocker that is not a goroutine: the asyncio task whose
    operation runs in this AsyncOp greenlet, else the calling thread."""
    gr = getcurrent()
    if type(gr) is AsyncOp:
        return AsyncWaiter(token, gr.loop)
    return ThreadWaiter(token)


_get_running_loop: Any = None


def _running_loop() -> Any:
    """asyncio's running loop of this thread (asyncio is imported by then)."""
    global _get_running_loop
    if _get_running_loop is None:
        from asyncio import events

        _get_running_loop = events._get_running_loop
    return _get_running_loop()


def _unset_ready(g: G) -> None:  # replaced by proc at import
    raise RuntimeError("scheduler not initialised")


def _unset_park(reason: str, token: Token) -> None:  # replaced by proc at import
    raise RuntimeError("scheduler not initialised")


_ready = _unset_ready
_park = _unset_park
_park_thread: Any = None


def ready(g: G) -> None:
    """proc.ready, for the core modules below proc (deadlock.py)."""
    _ready(g)


def park(reason: str, token: Token) -> None:
    """proc.park, for the core modules below proc (netpoll.py)."""
    _park(reason, token)


def install(ready: Any, park: Any, park_thread: Any) -> None:
    """Called once by proc.py: the scheduler's ready/park entry points.

    Waiters, and the core modules below proc, reach the scheduler through
    these (the modules below proc cannot import it)."""
    global _ready, _park, _park_thread
    _ready = ready
    _park = park
    _park_thread = park_thread


__all__ = [
    "REENTERED",
    "AsyncOp",
    "AsyncWaiter",
    "GWaiter",
    "Lock",
    "ThreadWaiter",
    "Waiter",
    "foreign_waiter",
    "new_lock",
    "new_token",
]

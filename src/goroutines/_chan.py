"""Channels: Chan[T] and its directional views (Go's runtime/chan.go).

Invariants, whenever c._lock is free:
  * c._recvq or c._sendq holds no live waiter, except while one select waits
    on both sides of c (it never pairs with itself: its waiters are queued only
    after its own poll found nothing ready).
  * c._buf non-empty implies c._recvq holds no live waiter;
    len(c._buf) < c._cap implies c._sendq holds no live waiter.
  * c._closed never returns to False.
  * A waiter in a queue whose token is already won is stale (a select that
    completed elsewhere, a park that was interrupted): dequeuers skip it.
Lock rule: never hold c._lock across a park; dequeue, unlock, then wake.

c._lock knows which thread holds it (waiter.Lock, or the accelerator's Lock).
Python code can run in the middle of an operation on c, on its thread, with
the lock held (a __del__ that a collection runs, a signal handler). If it
operates on c too, it must not wait for itself: try_send, try_recv and a
select with a default find c busy (not ready), and a blocking operation
raises RuntimeError (waiter.REENTERED). Go never meets this: it runs
finalizers in a goroutine of their own.

c._lock is a real lock on every operation, fast paths included: channels are
shared with plain OS threads, asyncio loops in other threads and the background
scheduler, and "only one thread has touched it so far" is not a proof of
anything under the GIL's thread switches or on free-threaded builds.

A plain thread's operation, blocking or not, registers it as a possible waker
for deadlock detection (sched.note_use; one thread-local read for a goroutine,
none on the accelerator's ports, which read the P anyway).

A channel made by a goroutine of a synctest bubble belongs to it
(``c._bubble``, Go 1.25's hchan.bubble; None outside every bubble): send,
receive (try_*, iteration and the asyncio forms included), close and select
on it from any other goroutine or thread - outside every bubble, in another
bubble, after the bubble has ended - raise ChannelClosedError with Go's
words ("send on synctest channel from outside bubble"), before anything is
done (check_bubble). len and cap are not checked (Go's chanlen and chancap
are not). Costs outside bubbles: the creator reads ``clock._nbubbles`` (the
accelerator a C copy of it, kept by clock.watch_bubbles; the bubble's
ContextVar is read only while some bubble exists); an operation compares
``c._bubble`` with None.

Timer channels (``Timer.c``, ``after``, ``tick``) carry ``c._timer``: a receive
first lets an expired timer fill the channel (Go's maybeRunChan), and a
blocked receiver puts the timer in a heap for as long as it waits (Go 1.23's
blockTimerChan). Their ``len`` and ``cap`` are 0: they behave as unbuffered.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar, final, runtime_checkable

from . import _aio
from . import errors as _errors
from ._runtime import accel as _accel
from ._runtime import clock as _clock
from ._runtime import dump as _dump
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.g import WAIT_CHAN_RECEIVE, WAIT_CHAN_SEND
from ._runtime.waiter import GWaiter, Waiter, new_lock, new_token
from .errors import ChannelClosedError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)

_NO_BUFFER: Any = ()
_MAX_CAPACITY: Final = sys.maxsize
_current_waiter = _proc.current_waiter
_park_g = _proc.park_g
_tls = _sched.tls


@runtime_checkable
class RecvChan(Protocol[T_co]):
    """The receive side of a channel (Go's ``<-chan T``)."""

    def recv(self) -> T_co | None: ...
    def recv_ok(self) -> tuple[T_co | None, bool]: ...
    def __iter__(self) -> Iterator[T_co]: ...
    def __len__(self) -> int: ...
    @property
    def cap(self) -> int: ...
    def recv_async(self) -> Coroutine[Any, Any, T_co | None]: ...
    def recv_ok_async(self) -> Coroutine[Any, Any, tuple[T_co | None, bool]]: ...
    def __aiter__(self) -> AsyncIterator[T_co]: ...


@runtime_checkable
class SendChan(Protocol[T_contra]):
    """The send side of a channel (Go's ``chan<- T``)."""

    def send(self, value: T_contra, /) -> None: ...
    def close(self) -> None: ...
    def __len__(self) -> int: ...
    @property
    def cap(self) -> int: ...
    def send_async(self, value: T_contra, /) -> Coroutine[Any, Any, None]: ...


def _check_capacity(capacity: object) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(
            f"Chan capacity must be an int, got {type(capacity).__name__} {capacity!r}"
        )
    if capacity < 0:
        raise ValueError(f"Chan capacity must be >= 0, got {capacity} (makechan: size out of range)")
    if capacity > _MAX_CAPACITY:
        # No buffer can hold more (len() could not even count it); Go
        # rejects a buffer larger than memory with the same words.
        raise ValueError(
            f"Chan capacity must be <= sys.maxsize ({_MAX_CAPACITY}), got {capacity} "
            "(makechan: size out of range)"
        )
    return capacity


# Go's words (runtime/chan.go, select.go) for an operation on a channel of a
# synctest bubble from outside it.
OUTSIDE_SEND: Final = "send on synctest channel from outside bubble"
OUTSIDE_RECV: Final = "receive on synctest channel from outside bubble"
OUTSIDE_CLOSE: Final = "close of synctest channel from outside bubble"
OUTSIDE_SELECT: Final = "select on synctest channel from outside bubble"


def check_bubble(c: Chan[Any], msg: str) -> None:
    """Raise ChannelClosedError(msg) unless the caller runs in c's synctest
    bubble; only for a channel made in one (c._bubble is not None). msg is
    one of the OUTSIDE_* words above. Go: chansend's, chanrecv's, closechan's
    and selectgo's bubble checks."""
    if _clock.bubble.get(None) is not c._bubble:
        raise ChannelClosedError(msg)


@final
class Chan(Generic[T]):
    """A channel: unbuffered (rendezvous) when capacity is 0, else a FIFO buffer.

    Safe to use from goroutines, plain OS threads and asyncio tasks at once.
    Go: ``make(chan T, capacity)``.
    """

    __slots__ = (
        "__weakref__",
        "_bubble",
        "_buf",
        "_cap",
        "_closed",
        "_lock",
        "_recvq",
        "_sendq",
        "_timer",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # @final, enforced: the runtime (and its C ports, which check for
        # exactly this class) treats a channel as a Chan and nothing else.
        raise TypeError(
            "type 'Chan' is not an acceptable base type: Chan is final "
            "(wrap a Chan, or type against RecvChan/SendChan)"
        )

    def __init__(self, capacity: int = 0) -> None:
        self._cap = _check_capacity(capacity)
        self._lock = new_lock()  # guards every field below
        # An unbuffered channel never buffers: an empty tuple stands in for
        # the deque (every path appends only while len(buf) < cap).
        self._buf: deque[Any] = deque() if self._cap else _NO_BUFFER
        self._closed = False
        self._recvq: deque[Waiter] = deque()
        self._sendq: deque[Waiter] = deque()
        self._timer: Any = None
        # The creator's synctest bubble, or None (the module docstring).
        self._bubble: Any = _clock.bubble.get(None) if _clock._nbubbles else None

    # -- send ---------------------------------------------------------------

    def send(self, value: T, /) -> None:
        """Send value; blocks until a receiver takes it (unbuffered) or it is buffered.

        Raises ChannelClosedError("send on closed channel") if the channel is
        closed, also when it is closed while the sender waits. Go: ``ch <- v``.
        """
        if _sched.attention:
            _proc.check_attention()
        p = _tls.p
        if p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        if self._bubble is not None:
            check_bubble(self, OUTSIDE_SEND)
        lock.acquire()
        if self._closed:
            lock.release()
            raise ChannelClosedError("send on closed channel")
        rq = self._recvq
        while rq:
            w = rq.popleft()
            if w.token.acquire(False):
                lock.release()
                w.value = value
                w.ok = True
                w.done = True
                w.wake()
                return
        if len(self._buf) < self._cap:
            self._buf.append(value)
            lock.release()
            return
        if p is None:
            self._block_foreign(lock, self._sendq, value, WAIT_CHAN_SEND)
            return
        g = p.curg
        w = g.waiter
        if w is None:
            w = g.waiter = GWaiter(g, None)  # type: ignore[arg-type]  # token set below
        token = w.token = new_token()
        w.elem = value
        self._sendq.append(w)
        lock.release()
        try:
            _park_g(p, g, WAIT_CHAN_SEND, token)
        except BaseException:
            self._abandon(w, self._sendq)
            raise
        finally:
            w.elem = None
        if not w.ok:
            raise ChannelClosedError("send on closed channel")

    def try_send(self, value: T, /) -> bool:
        """Send without blocking; False if it would block. Go: select with default.

        False too when this thread is in the middle of an operation on the
        channel (a finalizer or signal handler interrupted it): the channel
        cannot be looked at before that operation ends.
        """
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        if self._bubble is not None:
            check_bubble(self, OUTSIDE_SEND)
        if lock._is_owned():
            return False
        lock.acquire()
        if self._closed:
            lock.release()
            raise ChannelClosedError("send on closed channel")
        rq = self._recvq
        while rq:
            w = rq.popleft()
            if w.token.acquire(False):
                lock.release()
                w.value = value
                w.ok = True
                w.done = True
                w.wake()
                return True
        if len(self._buf) < self._cap:
            self._buf.append(value)
            lock.release()
            return True
        lock.release()
        return False

    # -- receive ------------------------------------------------------------

    def recv(self) -> T | None:
        """Receive a value; blocks until one is available.

        Returns None once the channel is closed and drained (None is also a
        legal value: use recv_ok to tell them apart). Go: ``v := <-ch``.
        """
        # recv and recv_ok repeat the same fast path on purpose: sharing it
        # would cost a call and a tuple on every receive; the blocking part
        # (_recv_block) is shared.
        if _sched.attention:
            _proc.check_attention()
        p = _tls.p
        if p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        timer = self._timer
        if self._bubble is not None:
            check_bubble(self, OUTSIDE_RECV)
        if timer is not None:
            timer._maybe_run()
        lock = self._lock
        lock.acquire()
        buf = self._buf
        if buf:
            value = buf.popleft()
            if self._sendq:
                self._refill(lock)
            else:
                lock.release()
            return value  # type: ignore[no-any-return]
        sq = self._sendq
        while sq:
            w = sq.popleft()
            if w.token.acquire(False):
                lock.release()
                value = w.elem
                w.ok = True
                w.done = True
                w.wake()
                return value  # type: ignore[no-any-return]
        if self._closed:
            lock.release()
            return None
        return self._recv_block(lock, timer, p)[0]

    def recv_ok(self) -> tuple[T | None, bool]:
        """Receive; ``(value, True)``, or ``(None, False)`` once closed and drained.

        Go: ``v, ok := <-ch``.
        """
        if _sched.attention:
            _proc.check_attention()
        p = _tls.p
        if p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        timer = self._timer
        if self._bubble is not None:
            check_bubble(self, OUTSIDE_RECV)
        if timer is not None:
            timer._maybe_run()
        lock = self._lock
        lock.acquire()
        buf = self._buf
        if buf:
            value = buf.popleft()
            if self._sendq:
                self._refill(lock)
            else:
                lock.release()
            return value, True
        sq = self._sendq
        while sq:
            w = sq.popleft()
            if w.token.acquire(False):
                lock.release()
                value = w.elem
                w.ok = True
                w.done = True
                w.wake()
                return value, True
        if self._closed:
            lock.release()
            return None, False
        return self._recv_block(lock, timer, p)

    def _refill(self, lock: Any) -> None:
        """A buffered value was taken: move the first blocked sender's value
        into the buffer and wake it. Called with lock held; releases it."""
        sq = self._sendq
        while sq:
            w = sq.popleft()
            if w.token.acquire(False):
                self._buf.append(w.elem)
                lock.release()
                w.ok = True
                w.done = True
                w.wake()
                return
        lock.release()

    def _recv_block(self, lock: Any, timer: Any, p: Any) -> tuple[T | None, bool]:
        """Queue the caller (on p, its thread's P, or None) as a receiver and
        park. Called with lock held."""
        if p is None:
            return self._block_foreign(lock, self._recvq, None, WAIT_CHAN_RECEIVE)
        g = p.curg
        w = g.waiter
        if w is None:
            w = g.waiter = GWaiter(g, None)  # type: ignore[arg-type]  # token set below
        token = w.token = new_token()
        self._recvq.append(w)
        if timer is not None:
            timer._block()
        lock.release()
        try:
            _park_g(p, g, WAIT_CHAN_RECEIVE, token)
        except BaseException:
            self._abandon(w, self._recvq)
            raise
        finally:
            if timer is not None:
                timer._unblock()
        value = w.value
        w.value = None
        return value, w.ok

    def _block_foreign(
        self, lock: Any, q: deque[Waiter], value: Any, reason: str
    ) -> tuple[T | None, bool]:
        """Block a caller without a P yet (a foreign thread, or the main thread
        on its first runtime call). Called with lock held."""
        w = _current_waiter(new_token())
        w.elem = value
        q.append(w)
        timer = self._timer if q is self._recvq else None
        if timer is not None:
            timer._block()
        lock.release()
        try:
            w.park(reason)
        except BaseException:
            self._abandon(w, q)
            raise
        finally:
            if timer is not None:
                timer._unblock()
        if q is self._sendq and not w.ok:
            raise ChannelClosedError("send on closed channel")
        return w.value, w.ok

    def try_recv(self) -> tuple[T | None, bool, bool]:
        """Receive without blocking: ``(value, ok, received)``; received is False
        if it would block, or if this thread is in the middle of an operation on
        the channel (see try_send). Go: select with a default case."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        if self._bubble is not None:
            check_bubble(self, OUTSIDE_RECV)
        if lock._is_owned():
            return None, False, False
        timer = self._timer
        if timer is not None:
            timer._maybe_run()
        lock.acquire()
        buf = self._buf
        sq = self._sendq
        if buf:
            value = buf.popleft()
            while sq:
                w = sq.popleft()
                if w.token.acquire(False):
                    buf.append(w.elem)
                    lock.release()
                    w.ok = True
                    w.done = True
                    w.wake()
                    return value, True, True
            lock.release()
            return value, True, True
        while sq:
            w = sq.popleft()
            if w.token.acquire(False):
                lock.release()
                value = w.elem
                w.ok = True
                w.done = True
                w.wake()
                return value, True, True
        closed = self._closed
        lock.release()
        if closed:
            return None, False, True
        return None, False, False

    def _abandon(self, w: Waiter, q: deque[Waiter]) -> None:
        """A park ended by an exception: make sure w leaves q."""
        w.token.acquire(False)
        lock = self._lock
        lock.acquire()
        try:
            q.remove(w)
        except ValueError:
            pass
        lock.release()

    # -- close --------------------------------------------------------------

    def close(self) -> None:
        """Close the channel: blocked receivers get ``(None, False)``, blocked
        senders raise. Raises ChannelClosedError("close of closed channel") the
        second time. Go: ``close(ch)``."""
        if _tls.p is None and not _tls.foreign:
            _sched.note_use()  # a foreign thread: count it as a possible waker
        lock = self._lock
        if self._bubble is not None:
            check_bubble(self, OUTSIDE_CLOSE)
        lock.acquire()
        if self._closed:
            lock.release()
            raise ChannelClosedError("close of closed channel")
        self._closed = True
        woken: list[Waiter] = []
        for w in self._recvq:
            if w.token.acquire(False):
                w.value = None
                w.ok = False
                w.done = True
                woken.append(w)
        self._recvq.clear()
        for w in self._sendq:
            if w.token.acquire(False):
                w.ok = False
                w.done = True
                woken.append(w)
        self._sendq.clear()
        lock.release()
        for w in woken:
            w.wake()

    # -- the rest -----------------------------------------------------------

    def __iter__(self) -> Iterator[T]:
        """Receive until the channel is closed and drained. Go: ``for v := range ch``."""
        recv_ok = self.recv_ok
        while True:
            value, ok = recv_ok()
            if not ok:
                return
            yield value  # type: ignore[misc]

    def __len__(self) -> int:
        """Values buffered now. Go: ``len(ch)``."""
        if self._timer is not None:
            return 0
        return len(self._buf)

    @property
    def cap(self) -> int:
        """The capacity. Go: ``cap(ch)``."""
        if self._timer is not None:
            return 0
        return self._cap

    @property
    def closed(self) -> bool:
        """Whether close() has been called (a snapshot; Go has no equivalent)."""
        return self._closed

    def send_only(self) -> SendOnly[T]:
        """A view with only the send side. Go: ``chan<- T``."""
        return SendOnly(self)

    def recv_only(self) -> RecvOnly[T]:
        """A view with only the receive side. Go: ``<-chan T``."""
        return RecvOnly(self)

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<Chan cap={self.cap} len={len(self)}{state} at {id(self):#x}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (SendOnly, RecvOnly)):
            return other._c is self
        return self is other

    def __hash__(self) -> int:
        return id(self)

    # -- asyncio (see _aio.py) ----------------------------------------------

    def send_async(self, value: T, /) -> Coroutine[Any, Any, None]:
        """Send from asyncio code: ``await ch.send_async(v)``.

        Suspends the task (not the thread) until a receiver takes the value
        (unbuffered) or it is buffered; raises ChannelClosedError as send
        does. Cancelling the task withdraws the send; if it had already
        completed, it returns normally and the cancellation is re-delivered at
        the task's next await. Go: ``ch <- v``.
        """
        return _send_async(self, value)

    def recv_async(self) -> Coroutine[Any, Any, T | None]:
        """Receive from asyncio code: ``v = await ch.recv_async()``.

        Suspends the task until a value is available; None once the channel
        is closed and drained. Cancelling the task withdraws the receive; if a
        value had already been handed over, it is returned and the
        cancellation is re-delivered at the task's next await. Go: ``<-ch``.
        """
        return _recv_async(self)

    def recv_ok_async(self) -> Coroutine[Any, Any, tuple[T | None, bool]]:
        """recv_ok from asyncio code: ``v, ok = await ch.recv_ok_async()``
        (cancellation as in recv_async). Go: ``v, ok := <-ch``."""
        return _recv_ok_async(self)

    def __aiter__(self) -> AsyncIterator[T]:
        """``async for v in ch``: receive until the channel is closed and
        drained. Go: ``for v := range ch``."""
        return _aiter(self)


# What a view lacks, in Go's words (its compile errors): called only for an
# attribute the view does not have, so a plain lookup costs nothing more.
_NOT_ON_RECV_ONLY: Final = {
    "send": "cannot send to receive-only channel",
    "try_send": "cannot send to receive-only channel",
    "send_async": "cannot send to receive-only channel",
    "close": "cannot close receive-only channel",
}
_NOT_ON_SEND_ONLY: Final = {
    "recv": "cannot receive from send-only channel",
    "recv_ok": "cannot receive from send-only channel",
    "try_recv": "cannot receive from send-only channel",
    "recv_async": "cannot receive from send-only channel",
    "recv_ok_async": "cannot receive from send-only channel",
}


def _misuse(view: object, name: str, why: dict[str, str]) -> AttributeError:
    """The AttributeError for view.name, saying why when name is the other side's."""
    msg = f"{type(view).__name__!r} object has no attribute {name!r}"
    if name in why:
        msg += f" (invalid operation: {why[name]})"
    return AttributeError(msg, name=name, obj=view)


@final
class RecvOnly(Generic[T_co]):
    """Receive-only view of a channel (Go's ``<-chan T``). Equal to its channel."""

    __slots__ = ("_c",)

    def __init__(self, c: Chan[Any]) -> None:
        self._c = c

    def recv(self) -> T_co | None:
        """Receive a value (see Chan.recv)."""
        return self._c.recv_ok()[0]

    def recv_ok(self) -> tuple[T_co | None, bool]:
        """Receive with the ok flag (see Chan.recv_ok)."""
        return self._c.recv_ok()

    def try_recv(self) -> tuple[T_co | None, bool, bool]:
        """Receive without blocking (see Chan.try_recv)."""
        return self._c.try_recv()

    def __iter__(self) -> Iterator[T_co]:
        return iter(self._c)

    if not TYPE_CHECKING:  # type checkers reject these names already

        def __getattr__(self, name: str) -> Any:
            raise _misuse(self, name, _NOT_ON_RECV_ONLY)

    def __len__(self) -> int:
        return len(self._c)

    @property
    def cap(self) -> int:
        return self._c.cap

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (SendOnly, RecvOnly)):
            return other._c is self._c
        return other is self._c

    def __hash__(self) -> int:
        return id(self._c)

    def __repr__(self) -> str:
        return "<-" + repr(self._c)

    def recv_async(self) -> Coroutine[Any, Any, T_co | None]:
        """Receive from asyncio code (see Chan.recv_async)."""
        return _recv_async(self._c)

    def recv_ok_async(self) -> Coroutine[Any, Any, tuple[T_co | None, bool]]:
        """Receive with the ok flag from asyncio code (see Chan.recv_ok_async)."""
        return _recv_ok_async(self._c)

    def __aiter__(self) -> AsyncIterator[T_co]:
        return _aiter(self._c)


@final
class SendOnly(Generic[T_contra]):
    """Send-only view of a channel (Go's ``chan<- T``). Equal to its channel."""

    __slots__ = ("_c",)

    def __init__(self, c: Chan[Any]) -> None:
        self._c = c

    def send(self, value: T_contra, /) -> None:
        """Send a value (see Chan.send)."""
        self._c.send(value)

    def try_send(self, value: T_contra, /) -> bool:
        """Send without blocking (see Chan.try_send)."""
        return self._c.try_send(value)

    def close(self) -> None:
        """Close the channel (see Chan.close)."""
        self._c.close()

    if not TYPE_CHECKING:  # type checkers reject these names already

        def __getattr__(self, name: str) -> Any:
            raise _misuse(self, name, _NOT_ON_SEND_ONLY)

    def __len__(self) -> int:
        return len(self._c)

    @property
    def cap(self) -> int:
        return self._c.cap

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (SendOnly, RecvOnly)):
            return other._c is self._c
        return other is self._c

    def __hash__(self) -> int:
        return id(self._c)

    def __repr__(self) -> str:
        return "chan<- " + repr(self._c)

    def send_async(self, value: T_contra, /) -> Coroutine[Any, Any, None]:
        """Send from asyncio code (see Chan.send_async)."""
        return _send_async(self._c, value)


def unwrap(ch: object) -> Chan[Any] | None:
    """The channel behind a channel or a view (None stays None)."""
    if type(ch) is Chan:
        return ch
    if ch is None:
        return None
    if type(ch) is RecvOnly or type(ch) is SendOnly:
        return ch._c
    raise TypeError(f"expected a channel (Chan, a view of one, or None), got {type(ch).__name__}")


# -- asyncio (see _aio.py) --------------------------------------------------

# True while a channel trace runs (goroutines.trace): the asyncio operations
# then skip their fast paths and always run the (recorded) blocking method.
_traced = False


async def _send_async(c: Chan[T], value: T) -> None:
    """Chan.send_async (see _aio.py)."""
    _aio.note_thread()
    if _traced or not c.try_send(value):
        await _aio.call(c.send, value)


async def _recv_ok_async(c: Chan[T]) -> tuple[T | None, bool]:
    """Chan.recv_ok_async (see _aio.py)."""
    _aio.note_thread()
    if not _traced:
        value, ok, received = c.try_recv()
        if received:
            return value, ok
    return await _aio.call(c.recv_ok)


async def _recv_async(c: Chan[T]) -> T | None:
    """Chan.recv_async (see _aio.py)."""
    return (await _recv_ok_async(c))[0]


async def _aiter(c: Chan[T]) -> AsyncIterator[T]:
    """Chan.__aiter__: receive until the channel is closed and drained."""
    while True:
        value, ok = await c.recv_ok_async()
        if not ok:
            return
        yield value  # type: ignore[misc]


# The goroutine dump names these frames for a goroutine parked in the C ports
# of send and recv (which leave no Python frame): the Python twins' code.
_dump.register_op_frame(WAIT_CHAN_SEND, __name__, Chan.send.__code__)
_dump.register_op_frame(WAIT_CHAN_RECEIVE, __name__, Chan.recv.__code__)

if _accel.port("chan") is not None:
    # The accelerator's port "chan" (accel.py). The Python methods above stay
    # the reference: the C ones call them for every case they leave to Python
    # (timer channels, callers without a P, a pending panic or signal), and
    # help() and inspect see their docs and signatures.
    _accel.wire(
        "chan",
        Chan,
        {
            "__init__": "chan_init",
            "send": "chan_send",
            "recv": "chan_recv",
            "recv_ok": "chan_recv_ok",
            "__iter__": "chan_iter",
        },
        cls=Chan,
        closed_error=_errors.ChannelClosedError,
        no_buffer=_NO_BUFFER,
        py_init=Chan.__init__,
        py_send=Chan.send,
        py_recv=Chan.recv,
        py_recv_ok=Chan.recv_ok,
        py_iter=Chan.__iter__,
        bubble=_clock.bubble,
    )
    _clock.watch_bubbles(_accel.speedups.chan_bubbles)

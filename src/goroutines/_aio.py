"""Channels and select from asyncio: ``await ch.send_async(v)``, ``ch.recv_async()``,
``ch.recv_ok_async()``, ``async for v in ch``, ``await select_async(...)``.

How. An async operation first tries the non-blocking form (``try_send``,
``try_recv``, ``select(default=True)``). When that would block, it runs the
ordinary blocking operation (``Chan.send``, ``Chan.recv_ok``, ``select``) in an
AsyncOp greenlet on the loop's thread (``call``). There the runtime sees a
foreign blocker and ``current_waiter`` hands out an AsyncWaiter, whose park
switches back to the task; the task awaits the waiter's future and, once a
partner has woken it, switches back into the greenlet, where the blocking
operation finishes exactly as it does for a thread. So the channel and select
algorithms exist once, and every primitive written against Waiter (Mutex,
WaitGroup, Semaphore...) gets its async form as ``await call(mu.lock)``.
Rejected: a private "complete now or enqueue this waiter" method per operation
(``Chan._send_enqueue``, select's passes 1-2 factored out). That is a second
copy of each optimised fast path to keep in step, and one more per primitive;
the greenlet costs about a microsecond, only when the operation blocks.

Cancellation (a CancelledError thrown into the task at its await):
  * The task wins the park token: nobody completed the operation. The error
    is thrown into the greenlet, where the blocking operation's own abandon
    path takes its waiter(s) off the queues under the channel locks (select:
    pass 3), and it propagates to the task.
  * A partner won the token first: the operation completed (a value was
    handed over or taken, or the channel was closed). The task waits for the
    partner's wake-up (its future may have been cancelled: it awaits a fresh
    one until the waiter's ``resolve`` has run), lets the operation finish and
    returns its result (or raises its ChannelClosedError): no value is lost or
    delivered twice. Then it re-delivers the cancellation: ``Task.uncancel()``
    then ``Task.cancel(msg)`` keep the count of cancellation requests that
    ``asyncio.timeout`` and TaskGroup rely on, and the task's next await that
    suspends raises CancelledError. Before 3.13, ``uncancel()`` does not clear
    a pending cancellation, so an ``asyncio.timeout`` block left with no await
    after such an operation lets the cancellation surface after the block.
  * Any other exception thrown at the await (GeneratorExit when the coroutine
    is closed): the same token rule; when the token is lost the task cannot
    wait for the result, so the greenlet is killed and the exception raised.
A fast path completes without suspending, so it is no cancellation point (as
with asyncio.Queue.get on a non-empty queue).

A thread that owns a P and runs a loop (goroutine 1's thread, after using the
runtime): while the greenlet runs, the thread's P is hidden (``_tls.p`` None,
``_tls.foreign`` True), so the operation blocks as a foreign blocker and never
parks goroutine 1 from inside the greenlet.

Invariants:
  * An AsyncOp greenlet runs only on its loop's thread, only while its task
    has switched into it, and its parent is the task's greenlet then.
  * The task resumes a parked greenlet normally only after the waiter's
    ``resolve`` ran (``woken``), so the waker's result fields are written;
    it throws into it only after winning the park token itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from greenlet import GreenletExit, getcurrent

from ._runtime import sched as _sched
from ._runtime.waiter import AsyncOp, AsyncWaiter

if TYPE_CHECKING:
    from ._chan import Chan
    from ._select import Case

T = TypeVar("T")

_tls = _sched._tls


def _note_thread() -> None:
    """Count a loop thread without a P as a foreign thread that used the runtime
    (a possible waker for deadlock detection), like its blocking calls do."""
    if _tls.p is None and not _tls.foreign:
        _sched.getp()


def _resume(op: AsyncOp, exc: BaseException | None, args: tuple[Any, ...] = ()) -> Any:
    """Switch into op (start it with args, or throw exc into its park)."""
    op.parent = getcurrent()
    p = _tls.p
    if p is None:
        return op.throw(exc) if exc is not None else op.switch(*args)
    foreign = _tls.foreign
    _sched._set_p(None)
    _tls.foreign = True
    try:
        return op.throw(exc) if exc is not None else op.switch(*args)
    finally:
        _sched._set_p(p)
        _tls.foreign = foreign


async def call(fn: Callable[..., T], *args: Any) -> T:
    """Run the blocking runtime operation ``fn(*args)`` for the current task.

    Suspends the task, not the thread, while fn is parked; returns what fn
    returns, raises what it raises. See the module header for cancellation.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    _note_thread()
    op = AsyncOp(fn)
    op.loop = loop
    cancelled: BaseException | None = None
    try:
        result = _resume(op, None, args)
        while not op.dead:
            w: AsyncWaiter = result
            exc: BaseException | None = None
            while not w.woken:
                fut = w.future
                if fut is None or fut.done():
                    fut = w.future = loop.create_future()
                try:
                    await fut
                except BaseException as e:
                    if w.token.acquire(False):
                        exc = e  # nobody completed the operation: abandon it
                        break
                    if not isinstance(e, asyncio.CancelledError):
                        _resume(op, GreenletExit())
                        raise
                    cancelled = e  # completed by a partner: its wake-up is on the way
            result = _resume(op, exc)
    except asyncio.CancelledError:
        raise
    except BaseException:
        if cancelled is not None:
            _redeliver(cancelled)
        raise
    if cancelled is not None:
        _redeliver(cancelled)
    return result  # type: ignore[no-any-return]


def _redeliver(e: BaseException) -> None:
    """Cancel the current task again, at its next await (see the header)."""
    import asyncio

    task = asyncio.current_task()
    if task is None:
        return
    task.uncancel()
    task.cancel(e.args[0] if e.args else None)


async def send(c: Chan[T], value: T) -> None:
    """Chan.send_async."""
    _note_thread()
    if not c.try_send(value):
        await call(c.send, value)


async def recv_ok(c: Chan[T]) -> tuple[T | None, bool]:
    """Chan.recv_ok_async."""
    _note_thread()
    value, ok, received = c.try_recv()
    if received:
        return value, ok
    return await call(c.recv_ok)


async def recv(c: Chan[T]) -> T | None:
    """Chan.recv_async."""
    return (await recv_ok(c))[0]


async def aiter(c: Chan[T]) -> AsyncIterator[T]:
    """Chan.__aiter__: receive until the channel is closed and drained."""
    while True:
        value, ok = await c.recv_ok_async()
        if not ok:
            return
        yield value  # type: ignore[misc]


async def select_async(*cases: Case, default: bool = False) -> tuple[int, Any]:
    """select from asyncio code: ``await select_async(recv(a), send(b, v))``.

    The same semantics as select (exactly one case completes; among ready
    cases one is chosen uniformly at random; a None channel is never ready;
    with ``default=True`` and nothing ready it returns ``(-1, None)``), but it
    suspends the task instead of blocking the thread. Cancelling the task
    withdraws every case; if a case had already completed, its result is
    returned and the cancellation is re-delivered at the task's next await.
    Go: ``select { ... }``.
    """
    from ._select import select

    _note_thread()
    result = select(*cases, default=True)
    if result[0] >= 0 or default:
        return result
    return await call(select, *cases)


__all__ = ["aiter", "call", "recv", "recv_ok", "select_async", "send"]

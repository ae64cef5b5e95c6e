"""The asyncio bridge under channels and select: ``await ch.send_async(v)``,
``ch.recv_async()``, ``ch.recv_ok_async()``, ``async for v in ch`` (_chan.py),
``await select_async(...)`` (_select_async.py), ``await call(mu.lock)``.

This module imports neither _chan nor _select: they import it (``call``,
``note_thread``), so the channel and select modules sit above it.

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

Cancellation (a CancelledError thrown into the task at its await). The rule:
an operation that completed returns its result (or raises its
ChannelClosedError); it is never lost and never reported as cancelled. A
cancellation that comes after the operation completed is raised at the task's
next await that suspends; if the task finishes before it suspends again (the
operation is its whole coroutine, ``create_task(ch.recv_async())``, or the
last thing it awaits), the cancellation came too late and the task ends
normally with its result.
  * The task wins the park token: nobody completed the operation. The error
    is thrown into the greenlet, where the blocking operation's own abandon
    path takes its waiter(s) off the queues under the channel locks (select:
    pass 3), and it propagates to the task.
  * A partner won the token first: the operation completed (a value was
    handed over or taken, or the channel was closed). The task waits for the
    partner's wake-up (its future may have been cancelled: it awaits a fresh
    one until the waiter's ``resolve`` has run) and lets the operation
    finish. If the operation parks again (a Mutex woken to compete and beaten
    to it), that park is the next await: the task withdraws it at once.
    Otherwise the operation returns, and the cancellation is handed back to
    the task by a callback (``_deliver_late_cancel``) that the loop runs once
    the task has suspended again or finished.
  * Any other exception thrown at the await (GeneratorExit when the coroutine
    is closed): the same token rule; when the token is lost the task cannot
    wait for the result, so the greenlet is killed and the exception raised.
A fast path completes without suspending, so it is no cancellation point (as
with asyncio.Queue.get on a non-empty queue).

Why a callback, and not ``Task.cancel()`` before returning (rejected). The
CancelledError was thrown into the task by ``Task.__step``, which had already
cleared ``_must_cancel``; ``cancelling()`` counts the request(s). Calling
``uncancel()`` then ``cancel()`` in the task sets ``_must_cancel`` again
(the task is not waiting on a future), and on 3.11-3.13 ``__step`` then
cancels the task *instead of* taking the coroutine's return value when the
coroutine returns with ``_must_cancel`` set ("cancelled right before coro
stops"): the received value, or the fact that a send was delivered, is
discarded - the loss this rule exists to prevent. Before 3.13 ``uncancel()``
also leaves ``_must_cancel`` set when the count drops to zero, so an
``asyncio.timeout`` block left with no await after the operation would let
its cancellation escape the block. Instead the task keeps the request
counted (``cancelling()`` stays as it is: a cancellation *is* pending) and
``loop.call_soon`` schedules the delivery. The task runs on until its next
suspending await, so the callback runs after that (anything that wakes the
task there is scheduled later than the callback), and then:
  * the task is done: the cancellation came too late; ``uncancel()`` takes
    back the late requests, and the result stands;
  * the late requests have been withdrawn (``cancelling()`` is back to
    ``before``, its value when the operation began, less the request the
    CancelledError stood for if the task had cancelled itself before it: an
    ``asyncio.timeout`` or TaskGroup block was left with no exception and
    called ``uncancel()``): nothing to deliver;
  * else ``uncancel()`` then ``cancel(msg)``: the count is unchanged and the
    future the task now waits on is cancelled (or, after a bare yield,
    ``_must_cancel`` is set for the step already scheduled), so
    CancelledError with the original message is raised at that await, where
    ``asyncio.timeout`` turns it into TimeoutError as usual.
This uses only the public Task API (``cancelling``, ``uncancel``, ``cancel``,
``done``), whose behaviour in these cases is the same on 3.11, 3.12 and 3.13.

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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from greenlet import GreenletExit, getcurrent

from ._runtime import sched as _sched
from ._runtime.waiter import AsyncOp, AsyncWaiter

if TYPE_CHECKING:
    from asyncio import AbstractEventLoop, Task

T = TypeVar("T")

_tls = _sched.tls


def note_thread() -> None:
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
    _sched.set_p(None)
    _tls.foreign = True
    try:
        return op.throw(exc) if exc is not None else op.switch(*args)
    finally:
        _sched.set_p(p)
        _tls.foreign = foreign


async def call(fn: Callable[..., T], *args: Any) -> T:
    """Run the blocking runtime operation ``fn(*args)`` for the current task.

    Suspends the task, not the thread, while fn is parked; returns what fn
    returns, raises what it raises. See the module header for cancellation.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    note_thread()
    task = asyncio.current_task(loop)
    before = task.cancelling() if task is not None else 0
    op = AsyncOp(fn)
    op.loop = loop
    late: BaseException | None = None  # a CancelledError that came after a completion
    try:
        result = _resume(op, None, args)
        while not op.dead:
            w: AsyncWaiter = result
            exc: BaseException | None = None
            if late is not None and w.token.acquire(False):
                exc, late = late, None  # parked again: this is the next await
            while exc is None and not w.woken:
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
                    late = e  # completed by a partner: its wake-up is on the way
                    if task is not None:
                        # A request made before the operation began (the task
                        # cancelled itself) was not counted in ``before``.
                        before = min(before, task.cancelling() - 1)
            result = _resume(op, exc)
    except asyncio.CancelledError:
        raise
    except BaseException:
        if late is not None and task is not None:
            _cancel_later(loop, task, before, late)
        raise
    if late is not None and task is not None:
        _cancel_later(loop, task, before, late)
    return result  # type: ignore[no-any-return]


def _cancel_later(loop: AbstractEventLoop, task: Task[Any], before: int, e: BaseException) -> None:
    """Hand a cancellation that came after the operation completed back to
    task, at its next suspending await (see the header)."""
    loop.call_soon(_deliver_late_cancel, task, before, e.args[0] if e.args else None)


def _deliver_late_cancel(task: Task[Any], before: int, msg: Any) -> None:
    """Runs once task has suspended again or finished (see the header).
    before: task.cancelling() before the late requests (-1 if the
    CancelledError came from no request: it is delivered all the same)."""
    if task.done():
        for _ in range(task.cancelling() - before):  # too late: the result stands
            task.uncancel()
    elif task.cancelling() > before:
        task.uncancel()
        task.cancel(msg)


__all__ = ["call", "note_thread"]

"""errgroup: goroutines working on subtasks of one task (x/sync/errgroup).

A port of golang.org/x/sync/errgroup. A function "returns an error" by
raising an Exception; ``wait()`` re-raises the first one (the same object,
with its original traceback) once every function has returned. A function
that returns a coroutine (``g.go(lambda: fetch())`` with an ``async def
fetch``) fails with TypeError: nobody would ever run it.

A BaseException that is not an Exception (KeyboardInterrupt, SystemExit) is
not an error of the group but must not pass for success either: it cancels
the group's context like an error and ``wait()`` re-raises it, unwrapped, in
preference to any error, as SystemExit reaches goroutine 1 unwrapped from any
goroutine. ``wait()`` is where the group's outcome is delivered, so that is
where it goes (escaping the goroutine as well would deliver it twice).
GreenletExit (goroutines being killed) stays silent.

Invariants:
  * ``_wg`` counts the goroutines started and not yet returned.
  * With a limit, ``_sem`` (a buffered Chan, as in Go) holds one token per
    active goroutine; each goroutine releases the token of the channel it took
    it from, so a later set_limit cannot strand it.
  * ``_err`` is written under ``_err_lock``: once for an Exception (Go's
    errOnce), and once more if a non-Exception BaseException follows one.

Departure from Go: ``set_limit`` raises whenever goroutines of the group are
active (the rule Go documents), not only when a limit was already in force
(the only case Go's implementation can detect).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import CoroutineType
from typing import Any, ParamSpec, final

from greenlet import GreenletExit

from ._chan import Chan
from ._go import _is_async, _reject
from ._runtime import preempt as _preempt
from ._runtime import proc as _proc
from ._runtime.waiter import new_lock
from ._sync import WaitGroup
from .context import CancelCauseFunc, Context, with_cancel_cause

P = ParamSpec("P")


@final
class Group:
    """A collection of goroutines working on subtasks of the same task.

    ``Group()`` has no limit and cancels nothing on error; ``with_context``
    makes one tied to a context. Go: ``errgroup.Group``.
    """

    __slots__ = ("__weakref__", "_cancel", "_err", "_err_lock", "_sem", "_tb", "_wg")

    def __init__(self) -> None:
        self._wg = WaitGroup()
        self._sem: Chan[None] | None = None  # one token per active goroutine, with a limit
        self._cancel: CancelCauseFunc | None = None
        self._err_lock = new_lock()  # guards the two fields below
        self._err: BaseException | None = None
        self._tb: Any = None

    def go(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
        """Call ``fn(*args, **kwargs)`` in a new goroutine; blocks while the
        group is at its limit. The first exception fn raises cancels the
        group's context (with_context) and is what wait() raises.
        Go: ``g.Go(f)``."""
        if not callable(fn) or _is_async(fn):
            _reject(fn)
        sem = self._sem
        if sem is not None:
            sem.send(None)
        self._start(sem, fn, args, kwargs)

    def try_go(self, fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Like go() if the group is below its limit; returns whether it
        started the goroutine. Go: ``g.TryGo(f)``."""
        if not callable(fn) or _is_async(fn):
            _reject(fn)
        sem = self._sem
        if sem is not None and not sem.try_send(None):
            return False
        self._start(sem, fn, args, kwargs)
        return True

    def _start(
        self,
        sem: Chan[None] | None,
        fn: Callable[..., object],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self._wg.add(1)
        g = _proc.go(_run, (self, sem, fn, args, kwargs), {}, 3)
        g.name = getattr(fn, "__qualname__", None) or repr(fn)

    def _fail(self, e: BaseException) -> None:
        lock = self._err_lock
        lock.acquire()
        old = self._err
        first = old is None
        if first or (isinstance(old, Exception) and not isinstance(e, Exception)):
            self._err = e
            self._tb = e.__traceback__
        lock.release()
        if first and self._cancel is not None:
            self._cancel(e)

    def wait(self) -> None:
        """Block until every function started by go() has returned; then
        re-raise the first exception one of them raised (the same object), or
        return None. A KeyboardInterrupt, SystemExit or other BaseException
        that is not an Exception is re-raised in preference to an error.
        Cancels the group's context either way. Go: ``g.Wait()``."""
        self._wg.wait()
        err = self._err
        if self._cancel is not None:
            self._cancel(err)
        if err is not None:
            raise err.with_traceback(self._tb)

    def set_limit(self, n: int) -> None:
        """Allow at most n active goroutines (negative: no limit). Raises
        RuntimeError if goroutines of the group are active. Go: ``g.SetLimit(n)``."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 0:
            self._sem = None
            return
        if n > sys.maxsize:
            raise ValueError(f"n must be <= sys.maxsize ({sys.maxsize}), got {n}")
        active = self._wg._count
        if active != 0:
            raise RuntimeError(
                f"errgroup: modify limit while {active} goroutines in the group are still active"
            )
        self._sem = Chan(n)

    def __repr__(self) -> str:
        limit = "none" if self._sem is None else str(self._sem.cap)
        return f"<errgroup.Group active={self._wg._count} limit={limit} at {id(self):#x}>"


def _run(
    group: Group,
    sem: Chan[None] | None,
    fn: Callable[..., object],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    try:
        r = fn(*args, **kwargs)
        if r is not None and r.__class__ is CoroutineType:
            r.close()  # it never ran: closed, it warns nobody of that
            raise TypeError(
                f"{getattr(fn, '__qualname__', fn)!s} returned a coroutine ({r.__qualname__}) "
                "that nobody awaits: a goroutine runs a plain function, so the coroutine "
                "never runs; await it in asyncio instead"
            )
    except GreenletExit:
        raise
    except BaseException as e:
        group._fail(e)
    finally:
        if sem is not None:
            sem.recv()
        group._wg.add(-1)


# A preemption may switch fn out with this frame below it (_runtime/preempt.py).
_preempt.register_callers(_run.__code__)


def with_context(ctx: Context) -> tuple[Group, Context]:
    """A new Group and a context derived from ctx, cancelled the first time a
    function raises or the first time wait() returns, whichever comes first;
    ``context.cause()`` of it is that exception. Go: ``errgroup.WithContext(ctx)``."""
    if not isinstance(ctx, Context):
        raise TypeError(f"with_context: ctx must be a Context, got {type(ctx).__name__}")
    derived, cancel = with_cancel_cause(ctx)
    g = Group()
    g._cancel = cancel
    return g, derived


__all__ = ["Group", "with_context"]

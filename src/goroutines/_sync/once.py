"""sync.Once and the once_func/once_value/once_values wrappers (Go's
sync/once.go and sync/oncefunc.go).

Invariants:
  * ``Once._done`` goes False -> True exactly once, under ``_m``, after fn
    returned or raised; it is never reset. Reading it True without the lock
    (the fast path) therefore means fn's effects are complete.
  * ``_m`` is held while fn runs: later callers of ``do`` wait on it, so fn
    calling ``do`` on the same Once deadlocks, as in Go.
  * A once_* wrapper drops fn after its first call (Go: ``f = nil``) and
    replays the outcome: the same value, or the same exception object, its
    traceback reset to the first call's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, final

from .._runtime import preempt as _preempt
from .mutex import Mutex

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")


@final
class Once:
    """Performs exactly one action.

    ``do(fn)`` calls fn only the first time do is called on this Once; other
    callers block until that call returns. If fn raises, the first caller gets
    the exception and the Once still counts as done: later calls return
    without calling fn. fn calling do on the same Once deadlocks, as in Go.
    Go: ``sync.Once``.
    """

    __slots__ = ("__weakref__", "_done", "_m")

    def __init__(self) -> None:
        self._done = False  # goes False -> True once, under _m, after fn returned
        self._m = Mutex()  # held while fn runs: later callers wait on it

    def do(self, fn: Callable[[], object]) -> None:
        """Call fn if and only if this is the first call of do. Go: ``once.Do(f)``."""
        # Lock-free fast path: _done is a single reference written once, after
        # fn has returned; reading True means fn's effects are complete.
        if self._done:
            return
        m = self._m
        m.lock()
        try:
            if not self._done:
                try:
                    fn()
                finally:
                    self._done = True
        finally:
            m.unlock()

    def __repr__(self) -> str:
        return f"<Once done={self._done} at {id(self):#x}>"


class _OnceValue(Generic[T]):
    """once_value's function object: calls fn once and replays its outcome."""

    __slots__ = ("__weakref__", "_exc", "_fn", "_keep", "_once", "_tb", "_value")

    def __init__(self, fn: Callable[[], T], keep: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self._fn: Callable[[], T] | None = fn
        self._keep = keep  # False for once_func: its result is not kept alive
        self._once = Once()
        self._value: T | None = None
        self._exc: BaseException | None = None
        self._tb: Any = None

    def _run(self) -> None:
        fn = self._fn
        self._fn = None  # not kept alive after the first call (Go: f = nil)
        assert fn is not None
        try:
            value = fn()
            if self._keep:
                self._value = value
        except BaseException as e:
            self._exc = e
            self._tb = e.__traceback__
            raise

    def __call__(self) -> T:
        once = self._once
        if not once._done:
            once.do(self._run)  # the first caller gets fn's exception from here
        exc = self._exc
        if exc is not None:
            # The same object every time; its traceback reset to the first
            # call's so that it does not grow with every re-raise.
            raise exc.with_traceback(self._tb)
        return self._value  # type: ignore[return-value]


# fn runs under Once's Mutex, which a preempted goroutine may hold (as in Go):
# a preemption may switch fn out with these frames below it (_runtime/preempt.py).
_preempt.register_callers(Once.do.__code__, _OnceValue._run.__code__, _OnceValue.__call__.__code__)


def once_func(fn: Callable[[], object]) -> Callable[[], None]:
    """A function that calls fn only once, however often and concurrently it is
    called. If fn raises, every call re-raises that same exception object.
    Go: ``sync.OnceFunc(f)``."""
    ov: _OnceValue[Any] = _OnceValue(fn, keep=False)

    def call() -> None:
        ov()

    call.__qualname__ = getattr(fn, "__qualname__", "once_func")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


def once_value(fn: Callable[[], T]) -> Callable[[], T]:
    """A function that calls fn only once and returns its value on every call.
    If fn raises, every call re-raises that same exception object.
    Go: ``sync.OnceValue(f)``."""
    return _OnceValue(fn)


def once_values(fn: Callable[[], tuple[T1, T2]]) -> Callable[[], tuple[T1, T2]]:
    """once_value for a function returning a pair: ``a, b = f()``.
    Go: ``sync.OnceValues(f)``."""
    return _OnceValue(fn)


__all__ = ["Once", "once_func", "once_value", "once_values"]

"""Goroutines and the runtime: go(), run(), current(), gosched(), blocking(), ...

The public face of ``_runtime``; see _runtime/sched.py for how it works
(its docstring maps the core's modules).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from ._runtime import accel as _accel
from ._runtime import blocking as _blocking
from ._runtime import netpoll as _netpoll
from ._runtime import preempt as _preempt
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.dump import dump as _dump
from ._runtime.g import G, allgs

P = ParamSpec("P")
T = TypeVar("T")

Goroutine = G
_sched_go = _proc.go

_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def _reject(fn: object) -> None:
    """TypeError with the fix, for what go() cannot run."""
    if inspect.iscoroutine(fn) or inspect.isgenerator(fn) or inspect.isawaitable(fn):
        raise TypeError(
            f"go() needs a function, got a {type(fn).__name__} object: you called the "
            "function instead of passing it. Write go(f, x), not go(f(x))"
        )
    if not callable(fn):
        raise TypeError(
            f"go() needs a callable, got {type(fn).__name__} {fn!r}. Pass the function "
            "and its arguments separately: go(f, x), not go(f(x))"
        )
    raise TypeError(
        f"go() cannot run {getattr(fn, '__qualname__', fn)!r}: it is an async function. "
        "Goroutines run plain functions; await it in asyncio instead, or make it a "
        "plain def"
    )


def _is_async(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    if code is not None:
        return bool(code.co_flags & _ASYNC_FLAGS)
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


def go(fn: Callable[P, Any], /, *args: P.args, **kwargs: P.kwargs) -> G:
    """Start ``fn(*args, **kwargs)`` as a new goroutine; never blocks.

    The goroutine runs in a copy of the caller's contextvars context. From a
    foreign thread it starts on the background scheduler thread. Raises
    TypeError at once for a non-callable or an async function.
    Go: ``go fn(args...)``.
    """
    try:
        flags = fn.__code__.co_flags
    except AttributeError:  # not a Python function or method
        if not callable(fn) or _is_async(fn):
            _reject(fn)
    else:
        if flags & _ASYNC_FLAGS:
            _reject(fn)
    return _sched_go(fn, args, kwargs, 2)


def current() -> G:
    """The goroutine that calls it. Raises RuntimeError on a foreign thread."""
    p = _sched.getp()
    if p is None or p.curg is None:
        raise RuntimeError(
            "current(): called from a foreign thread, which is not a goroutine"
        )
    return p.curg


def gosched() -> None:
    """Yield to other runnable goroutines. Go: ``runtime.Gosched()``."""
    _proc.gosched()


def num_goroutine() -> int:
    """How many goroutines exist now (1 in a fresh program).
    Go: ``runtime.NumGoroutine()``."""
    _sched.getp()
    return len(allgs)


def max_procs(n: int | None = None) -> int:
    """GOMAXPROCS: returns the setting in force before the call; ``n >= 1`` sets
    it, ``n < 1`` or None only reads. Go: ``runtime.GOMAXPROCS(n)``.

    The number of Ps that may run goroutines, each on its own thread:
    goroutine 1's P, the background P (goroutines started by plain threads and
    asyncio loops) and the Ps sysmon starts to take the not-yet-started
    goroutines of a P whose thread is stuck outside the runtime. With 1 no
    goroutine is ever handed to another thread (the background P still runs
    those of threads without a P). Lowering it starts no new P and stops
    handing work to the Ps beyond it; a P keeps its thread while it has
    goroutines (started ones cannot move). The default: env GOMAXPROCS, else
    the CPU count.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int)):
        raise TypeError(f"max_procs: n must be an int or None, got {type(n).__name__}")
    old = _sched.procs
    if n is not None and n >= 1:
        _sched.procs = n
    return old


def run(main: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run main as the main goroutine and return its result.

    Raises what main raises, Deadlock, or GoroutinePanic. Goroutines still
    alive when it returns are killed (their ``finally`` blocks run), so a later
    run() starts clean. Raises RuntimeError when called from a goroutine.
    """
    if not callable(main) or _is_async(main):
        _reject(main)
    return _proc.run(main, args, kwargs)


# main may be preempted with run() below it (_runtime/preempt.py).
_preempt.register_callers(run.__code__)


def blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking call on a helper thread; only the calling goroutine waits.

    The goroutine waits with reason ``"syscall"`` and gets fn's result or
    exception. Outside a goroutine it just calls fn.
    """
    if not callable(fn) or _is_async(fn):
        _reject(fn)
    return _blocking.blocking_call(fn, args, kwargs)


def dump() -> str:
    """Every goroutine's id, state, wait reason, stack and creation site, in
    the layout of Go's SIGQUIT dump."""
    _sched.getp()
    return _dump()


def _fileno(fd: Any) -> int:
    if isinstance(fd, int) and not isinstance(fd, bool):
        if fd < 0:
            raise ValueError(f"fd must be a non-negative file descriptor, got {fd}")
        return fd
    if hasattr(fd, "fileno"):
        return int(fd.fileno())
    raise TypeError(f"fd must be an int or have fileno(), got {type(fd).__name__}")


# -- File descriptors: the netpoller's public face (see _runtime/netpoll.py) --


def _timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"timeout must be a duration in seconds (int or float) or None, "
            f"got {type(timeout).__name__}"
        )
    if timeout != timeout:
        raise ValueError("timeout must be a duration in seconds, got NaN")
    return float(timeout)


def wait_readable(fd: Any, timeout: float | None = None) -> None:
    """Park until fd is readable (wait reason ``"IO wait"``), at most timeout
    seconds (None: no limit; 0: just look).

    Raises DeadlineExceeded (``i/o timeout``) when the timeout passes first,
    NetClosedError when fd is not open or is closed meanwhile (notify_closing,
    or a close noticed before the runtime sleeps). On a foreign thread it
    blocks the thread in ``poll()``.
    """
    _netpoll.wait_fd(_fileno(fd), _netpoll.READ, _timeout(timeout))


def wait_writable(fd: Any, timeout: float | None = None) -> None:
    """Park until fd is writable (wait reason ``"IO wait"``); see wait_readable."""
    _netpoll.wait_fd(_fileno(fd), _netpoll.WRITE, _timeout(timeout))


def notify_closing(fd: Any) -> None:
    """Wake every goroutine and thread waiting on fd in wait_readable or
    wait_writable with NetClosedError, and forget fd: call it before closing
    an fd others may be waiting on. Never blocks."""
    _netpoll.notify_closing(_fileno(fd))


if _accel.port("go") is not None:
    # The accelerator's port "go" (accel.py; proc.py set it up): plain
    # functions and methods started from a goroutine; it calls the function
    # above for everything else.
    # Rebound through globals() so that type checkers keep the signature above.
    _accel.speedups.setup_public_go(go)
    _accel.install(globals(), {"go": _accel.speedups.go})

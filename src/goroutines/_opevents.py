"""The operations' events: what channels, select and the sync types do.

The core's event sites (``_runtime/events.py``) see goroutines being made,
parked and woken; they do not see which channel a goroutine sent on, which
case a select took, or which Mutex a goroutine holds. Those are facts of the
public layer's methods, and three tools want them: the tracer (channel
operations and selects, ``--trace-chan``), the race detector (the
happens-before edges of Go's memory model) and the lock-order checker (which
lock a goroutine waits for while holding which). This module is where those
events come from, once, for all three.

Free when off: the methods are not touched while nobody subscribes to an
operation kind (``events.OP_KINDS``). ``events`` calls ``update(kinds)``
whenever the kinds wanted change; it replaces the methods that emit them on
their classes by wrappers that emit and call the originals (the C
accelerator's ports among them: the wrappers sit in front of whatever the
class holds), in three groups (channels, locks, the other sync types), and
puts the originals of a group back once none of its kinds is wanted. A select
calls the hook ``_select.set_traced`` gives it (so a ``select`` imported by
name is covered too), and the asyncio operations skip their fast paths
(``_chan._traced``) so that they run the wrapped methods. A wrapper reads
``events.hooks[kind]`` at each event, so a kind nobody wants costs a list
read and a compare.

The edges, as Go's memory model states them (RELEASE before the operation
publishes, ACQUIRE after it takes):

* A channel: each send releases into the channel's ``s`` clock before it
  starts, each receive acquires it when it returns with a value or the close
  (``close`` releases into ``s`` too). Each receive releases into the ``r``
  clock (an unbuffered channel's before it starts, a buffered one's when it
  has taken the value), which each completed send acquires: the k-th receive
  happens before the (k+C)-th send completes. A select does the same for
  the case it runs. These clocks join every send (receive) so far, so a
  consumer may order more than Go does, never less.
* Mutex and RWMutex: unlock releases ``w``, lock acquires it; an RWMutex's
  unlock releases ``u`` too, which rlock acquires, and runlock releases
  ``w`` (RUnlock -> the next Lock, Unlock -> the next RLock).
* WaitGroup: add and done release ``w``, wait acquires it. Once: the
  function's return releases ``o``, every do() acquires it when it returns.
  Cond: signal and broadcast release ``c``, a wait acquires it when it
  returns. Semaphore: release releases ``s``, acquire acquires it.
  AtomicInt: every operation acquires and releases ``a`` (Go's atomics
  synchronize).
* ``context.after_func(ctx, f)``: the call happens before f starts.

``go()`` (the core's CREATE, emitted before the new goroutine can run) and
``blocking()`` (BLOCKING_RUN on the helper thread) are core events.
"""

from __future__ import annotations

import functools
import sys
from _thread import get_ident
from collections.abc import Callable, Iterator
from typing import Any

from . import _atomic, _chan, _semaphore, context
from . import _select as _select_mod
from ._go import _is_async
from ._runtime import events as _ev
from ._runtime.sched import tls as _tls
from ._sync import cond as _cond
from ._sync import mutex as _mutex
from ._sync import once as _once
from ._sync import rwmutex as _rwmutex
from ._sync import waitgroup as _waitgroup

_hooks = _ev.hooks
CHAN, CHAN_DONE = _ev.CHAN, _ev.CHAN_DONE
SELECT, SELECT_DONE = _ev.SELECT, _ev.SELECT_DONE
RELEASE, ACQUIRE = _ev.RELEASE, _ev.ACQUIRE
LOCK, LOCKED, UNLOCK = _ev.LOCK, _ev.LOCKED, _ev.UNLOCK

def _g() -> Any:
    """The goroutine running here, or None (a thread outside goroutines)."""
    p = _tls.p
    return p.curg if p is not None else None


def _release(obj: object, role: str) -> None:
    h = _hooks[RELEASE]
    if h is not None:
        h(RELEASE, None, (obj, role))


def _acquire(obj: object, role: str) -> None:
    h = _hooks[ACQUIRE]
    if h is not None:
        h(ACQUIRE, None, (obj, role))


# -- channels ------------------------------------------------------------------


def _send(orig: Callable[..., Any]) -> Callable[..., Any]:
    def send(self: Any, value: Any, /) -> None:
        h = _hooks[CHAN]
        g = _g() if h is not None else None
        if h is not None:
            h(CHAN, g, ("send", id(self)))
        _before_send(self)
        ok = False
        try:
            orig(self, value)
            _after_send(self)
            ok = True
        finally:
            h = _hooks[CHAN_DONE]
            if h is not None:
                h(CHAN_DONE, g, ("send", id(self), ok))

    return send


def _recv_op(name: str) -> Callable[[Any], Any]:
    """recv and recv_ok."""

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def recv(self: Any) -> Any:
            h = _hooks[CHAN]
            g = _g() if h is not None else None
            if h is not None:
                h(CHAN, g, (name, id(self)))
            _before_recv(self)
            ok = False
            try:
                r = orig(self)
                _after_recv(self)  # (a receive that saw the close acquires it too)
                ok = bool(r[1]) if name == "recv_ok" else True
            finally:
                h = _hooks[CHAN_DONE]
                if h is not None:
                    h(CHAN_DONE, g, (name, id(self), ok))
            return r

        return recv

    return make


def _before_send(c: Any) -> None:
    _release(c, "s")


def _after_send(c: Any) -> None:
    _acquire(c, "r")


def _before_recv(c: Any) -> None:
    if not c._cap:
        _release(c, "r")


def _after_recv(c: Any) -> None:
    _acquire(c, "s")
    if c._cap:
        _release(c, "r")


def _try_send(orig: Callable[..., Any]) -> Callable[..., Any]:
    def try_send(self: Any, value: Any, /) -> bool:
        _before_send(self)
        ok = bool(orig(self, value))
        if ok:
            _after_send(self)
        return ok

    return try_send


def _try_recv(orig: Callable[..., Any]) -> Callable[..., Any]:
    def try_recv(self: Any) -> Any:
        _before_recv(self)
        r = orig(self)
        if r[2]:
            _after_recv(self)
        return r

    return try_recv


def _close(orig: Callable[..., Any]) -> Callable[..., Any]:
    def close(self: Any) -> None:
        h = _hooks[CHAN]
        g = _g() if h is not None else None
        if h is not None:
            h(CHAN, g, ("close", id(self)))
        _release(self, "s")
        ok = False
        try:
            orig(self)
            ok = True
        finally:
            h = _hooks[CHAN_DONE]
            if h is not None:
                h(CHAN_DONE, g, ("close", id(self), ok))

    return close


def _iter(orig: Callable[..., Any]) -> Callable[..., Any]:
    def iterate(self: Any) -> Iterator[Any]:
        recv_ok = self.recv_ok  # the wrapped one
        while True:
            v, ok = recv_ok()
            if not ok:
                return
            yield v

    return iterate


# select: its hook (see _select.set_traced) records the select around a nested
# call of select itself, which the hook lets through.
_inside: set[int] = set()  # threads in an emitting select, until its nested call


def _select(cases: tuple[Any, ...], default: bool) -> tuple[int, Any] | None:
    key = get_ident()
    if key in _inside:  # the nested call below: run it
        _inside.discard(key)
        return None
    h = _hooks[SELECT]
    g = _g() if h is not None else None
    if h is not None:
        h(SELECT, g, len(cases))
    chans: list[Any] = []
    sends: list[bool] = []
    Chan = _chan.Chan
    send = _select_mod.SEND
    for case in cases:
        c = None
        is_send = False
        if type(case) is tuple and len(case) == 3 and type(case[0]) is Chan:
            c = case[0]
            is_send = case[1] is send
            if is_send:
                _before_send(c)
            else:
                _before_recv(c)
        chans.append(c)
        sends.append(is_send)
    chosen = -2
    _inside.add(key)
    try:
        r: tuple[int, Any] = _select_mod.select(*cases, default=default)
        chosen = r[0]
        if chosen >= 0:
            c = chans[chosen]
            if c is not None:
                if sends[chosen]:
                    _after_send(c)
                else:
                    _after_recv(c)
        return r
    finally:
        _inside.discard(key)  # (an error before the nested call reached select)
        h = _hooks[SELECT_DONE]
        if h is not None:
            h(SELECT_DONE, g, chosen)


# -- sync ----------------------------------------------------------------------


def _lock(read: bool, role: str) -> Callable[[Any], Any]:
    """lock() / rlock() (and __enter__): LOCK, the wait, LOCKED, ACQUIRE."""

    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def lock(self: Any) -> None:
            hooks = _hooks
            h = hooks[LOCK]
            frame = sys._getframe(1) if h is not None or hooks[LOCKED] is not None else None
            if h is not None:
                h(LOCK, None, (self, read, frame, True))
            orig(self)
            h = hooks[LOCKED]
            if h is not None:
                h(LOCKED, None, (self, read, frame))
            h = hooks[ACQUIRE]
            if h is not None:
                h(ACQUIRE, None, (self, role))

        return lock

    return make


def _try_lock(read: bool, role: str) -> Callable[[Any], Any]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def try_lock(self: Any) -> bool:
            h = _hooks[LOCK]
            frame = sys._getframe(1) if h is not None or _hooks[LOCKED] is not None else None
            if h is not None:
                h(LOCK, None, (self, read, frame, False))
            ok: bool = orig(self)
            if ok:
                h = _hooks[LOCKED]
                if h is not None:
                    h(LOCKED, None, (self, read, frame))
                _acquire(self, role)
            return ok

        return try_lock

    return make


def _unlock(read: bool, roles: tuple[str, ...]) -> Callable[[Any], Any]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def unlock(self: Any) -> None:
            hooks = _hooks
            h = hooks[UNLOCK]
            if h is not None:
                h(UNLOCK, None, (self, read))
            h = hooks[RELEASE]
            if h is not None:
                for role in roles:
                    h(RELEASE, None, (self, role))
            orig(self)

        return unlock

    return make


def _rel_before(role: str) -> Callable[[Any], Any]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def f(self: Any, *a: Any) -> Any:
            h = _hooks[RELEASE]
            if h is not None:
                h(RELEASE, None, (self, role))
            return orig(self, *a)

        return f

    return make


def _acq_after(role: str) -> Callable[[Any], Any]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def f(self: Any, *a: Any) -> Any:
            r = orig(self, *a)
            h = _hooks[ACQUIRE]
            if h is not None:
                h(ACQUIRE, None, (self, role))
            return r

        return f

    return make


def _acq_if(role: str) -> Callable[[Any], Any]:
    def make(orig: Callable[..., Any]) -> Callable[..., Any]:
        def f(self: Any, *a: Any) -> Any:
            r = orig(self, *a)
            if r:
                _acquire(self, role)
            return r

        return f

    return make


def _once_do(orig: Callable[..., Any]) -> Callable[..., Any]:
    def do(self: Any, fn: Callable[[], object]) -> None:
        def run() -> object:
            try:
                return fn()
            finally:
                _release(self, "o")

        orig(self, run)
        _acquire(self, "o")

    return do


def _atomic_op(orig: Callable[..., Any]) -> Callable[..., Any]:
    def op(self: Any, *a: Any) -> Any:
        _acquire(self, "a")
        r = orig(self, *a)
        _release(self, "a")
        return r

    return op


def _after_func(orig: Callable[..., Any]) -> Callable[..., Any]:
    def after_func(ctx: Any, f: Callable[[], object]) -> Callable[[], bool]:
        if not callable(f) or _is_async(f):
            return orig(ctx, f)  # type: ignore[no-any-return]  # its TypeError
        token = object()
        _release(token, "f")

        @functools.wraps(f)
        def started() -> object:
            _acquire(token, "f")
            return f()

        return orig(ctx, started)  # type: ignore[no-any-return]

    return after_func


# -- install / remove ------------------------------------------------------------

# The wrappers come in three groups, each put on only while one of the kinds
# that need it is wanted: the tracer's channel trace leaves Mutex alone, the
# lock-order checker leaves channels alone.
_NEEDS = {
    "chan": frozenset({CHAN, CHAN_DONE, SELECT, SELECT_DONE, RELEASE, ACQUIRE}),
    "locks": frozenset({LOCK, LOCKED, UNLOCK, RELEASE, ACQUIRE}),
    "sync": frozenset({RELEASE, ACQUIRE}),
}
# group -> (owner, attribute name, original) of every method it replaced.
_saved: dict[str, list[tuple[Any, str, Any]]] = {}


def wrap_method(owner: Any, name: str, make: Callable[[Any], Any]) -> Any:
    """Replace owner.name (a class's own attribute, or a module's) by
    make(original), with the original's name and doc; return the original.
    (The race detector wraps threading's classes with it too.)"""
    orig = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    new = make(orig)
    try:
        functools.update_wrapper(new, orig)
    except (AttributeError, TypeError):
        pass
    setattr(owner, name, new)
    return orig


def _replace(group: str, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    _saved[group].append((owner, name, wrap_method(owner, name, make)))


def _install(group: str) -> None:
    _saved[group] = []
    if group == "chan":
        C = _chan.Chan
        _replace(group, C, "send", _send)
        _replace(group, C, "recv", _recv_op("recv"))
        _replace(group, C, "recv_ok", _recv_op("recv_ok"))
        _replace(group, C, "try_send", _try_send)
        _replace(group, C, "try_recv", _try_recv)
        _replace(group, C, "close", _close)
        _replace(group, C, "__iter__", _iter)
        _saved[group].append((_chan, "_traced", _chan._traced))
        _chan._traced = True  # the asyncio operations take the wrapped methods
        _select_mod.set_traced(_select)
    elif group == "locks":
        M = _mutex.Mutex
        _replace(group, M, "lock", _lock(False, "w"))
        _replace(group, M, "__enter__", _lock(False, "w"))
        _replace(group, M, "try_lock", _try_lock(False, "w"))
        _replace(group, M, "unlock", _unlock(False, ("w",)))
        RW = _rwmutex.RWMutex
        _replace(group, RW, "lock", _lock(False, "w"))  # after every unlock and runlock
        _replace(group, RW, "__enter__", _lock(False, "w"))
        _replace(group, RW, "try_lock", _try_lock(False, "w"))
        _replace(group, RW, "unlock", _unlock(False, ("u", "w")))  # and -> the next RLock
        _replace(group, RW, "rlock", _lock(True, "u"))
        _replace(group, RW, "try_rlock", _try_lock(True, "u"))
        _replace(group, RW, "runlock", _unlock(True, ("w",)))
    else:
        WG = _waitgroup.WaitGroup
        _replace(group, WG, "add", _rel_before("w"))
        _replace(group, WG, "done", _rel_before("w"))
        _replace(group, WG, "wait", _acq_after("w"))
        _replace(group, _once.Once, "do", _once_do)
        Cd = _cond.Cond
        _replace(group, Cd, "signal", _rel_before("c"))
        _replace(group, Cd, "broadcast", _rel_before("c"))
        _replace(group, Cd, "wait", _acq_after("c"))
        S = _semaphore.Semaphore
        _replace(group, S, "release", _rel_before("s"))
        _replace(group, S, "acquire", _acq_after("s"))
        _replace(group, S, "try_acquire", _acq_if("s"))
        for name in ("load", "store", "add", "swap", "compare_and_swap"):
            _replace(group, _atomic.AtomicInt, name, _atomic_op)
        _replace(group, context, "after_func", _after_func)


def _remove(group: str) -> None:
    if group == "chan":
        _select_mod.set_traced(None)
    for owner, name, orig in reversed(_saved.pop(group)):
        setattr(owner, name, orig)


def update(wanted: frozenset[int]) -> None:
    """Emit the operation kinds wanted, from the wrappers that need them, and
    put the other methods back (the event layer calls it, under its lock)."""
    for group, needs in _NEEDS.items():
        on = bool(needs & wanted)
        if on and group not in _saved:
            _install(group)
        elif not on and group in _saved:
            _remove(group)


def installed() -> list[str]:
    """Which groups of wrappers are on (tests)."""
    return sorted(_saved)


_ev.register_op_source(update)

__all__ = ["installed", "update", "wrap_method"]

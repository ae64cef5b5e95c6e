"""select: wait on several channel operations, complete exactly one.

Mirrors runtime/select.go selectgo, with one change of method for pass 1:
instead of a random permutation (pollorder) scanned until the first ready
case, every case is checked and one of the ready ones is picked uniformly at
random. The result has the same distribution (uniform among ready cases) and
costs no shuffle; a random start offset with a wrap-around scan would be
cheaper still but is *not* uniform (the case after a run of unready ones is
favoured), so it was rejected.

Pass 1 runs with every channel of the select locked, in one global order
(lockorder: by id, duplicates once), so the set of ready cases cannot change
under it. It counts a case whose partner queue is non-empty as ready without
looking at the waiters: one of them may be stale (its select has won
elsewhere, its park was interrupted). Completing the chosen case drops stale
waiters; if none was live, pass 1 runs again, now without them (so this
terminates). The choice stays uniform among the live ready cases: every
round picks uniformly among its candidates, and a round that picks a stale
one only removes it.
Pass 2 queues one waiter per case, all sharing one park token, so exactly one
partner can win; pass 3, after waking, takes the losers off their queues.
A select never pairs with itself: its waiters are queued only after its own
poll found nothing ready.

A select run by Python code that interrupted an operation on one of its
channels, on the same thread (a __del__ that a collection runs, a signal
handler), finds that channel's lock held by its own thread: waiting for it
would never end. It unlocks what it took and selects again with that
channel's cases as on a nil channel (_select_busy): it completes if another
case is ready or it has a default, else raises RuntimeError.

A case is a plain tuple ``(chan, kind, value)`` whose kind is one of three
private markers: made by recv/recv_ok/send, it costs one tuple, where an
object with attributes cost several times as much (W6 builds four cases per
select), and no other tuple can pass for one.
"""

from __future__ import annotations

from collections.abc import Callable
from random import random, sample
from typing import Any, Final, Generic, Literal, NoReturn, TypeAlias, TypeVar, final, overload

from ._chan import (
    OUTSIDE_SELECT,
    Chan,
    RecvChan,
    RecvOnly,
    SendChan,
    SendOnly,
    check_bubble,
    unwrap,
)
from ._runtime import accel as _accel
from ._runtime import proc as _proc
from ._runtime import sched as _sched
from ._runtime.g import WAIT_SELECT, WAIT_SELECT_NO_CASES
from ._runtime.waiter import REENTERED, GWaiter, Waiter, new_token
from .errors import ChannelClosedError

T = TypeVar("T")
R_co = TypeVar("R_co", covariant=True)
# The result types of select's cases, in order (see the overloads of select).
R0 = TypeVar("R0")
R1 = TypeVar("R1")
R2 = TypeVar("R2")
R3 = TypeVar("R3")
R4 = TypeVar("R4")
R5 = TypeVar("R5")
R6 = TypeVar("R6")
R7 = TypeVar("R7")

_tls = _sched.tls

# Spare GWaiters for pass 2, as Go keeps spare sudogs: a select that parks
# would otherwise make and free one per case. A waiter goes back only after
# pass 3, when no queue holds it and no dequeuer still can (they drop or win
# waiters under the channel's lock, and a winner is done with it once wake()
# has readied the G). List pop/extend are atomic, so threads can share it.
_spare: list[GWaiter] = []
_spare_pop = _spare.pop
_SPARE_MAX: Final = 64


@final
class _Kind(Generic[R_co]):
    """What a case does: one of RECV, RECV_OK, SEND (compared by identity).

    Its type parameter, for type checkers only, is what select returns for
    the case: a case is a ``Case[int | None]`` when select gives an
    ``int | None`` for it.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RECV: Final[_Kind[Any]] = _Kind("recv")
RECV_OK: Final[_Kind[Any]] = _Kind("recv_ok")
SEND: Final[_Kind[None]] = _Kind("send")
_KINDS: Final = (RECV, RECV_OK, SEND)

Case: TypeAlias = "tuple[Chan[Any] | None, _Kind[R_co], Any]"
"""One select case: made by ``recv(ch)``, ``recv_ok(ch)`` or ``send(ch, v)``.

``Case[R]`` is a case for which select returns an R: ``recv`` on a channel
of T makes a ``Case[T | None]``, ``recv_ok`` a ``Case[tuple[T | None, bool]]``,
``send`` a ``Case[None]``. A bare ``Case`` is ``Case[Any]``.
"""


def _chan_for(ch: object, sending: bool) -> Chan[Any] | None:
    if sending and type(ch) is RecvOnly:
        raise TypeError("select: send case on a receive-only channel")
    if not sending and type(ch) is SendOnly:
        raise TypeError("select: receive case on a send-only channel")
    return unwrap(ch)


# The constructors test for a Chan or None inline: a call less per case.


# Each constructor has an overload for a channel and one for None, so that an
# Optional channel (``Chan[int] | None``) infers T: mypy splits the union over
# the overloads, where a single ``RecvChan[T] | None`` parameter would not.


@overload
def recv(ch: RecvChan[T]) -> Case[T | None]: ...
@overload
def recv(ch: None) -> Case[None]: ...
def recv(ch: RecvChan[T] | None) -> Case[T | None]:
    """Select case: receive from ch; the select returns the value (None once closed)."""
    c: object = ch
    if type(c) is Chan or c is None:
        return (c, RECV, None)
    return (_chan_for(c, False), RECV, None)


@overload
def recv_ok(ch: RecvChan[T]) -> Case[tuple[T | None, bool]]: ...
@overload
def recv_ok(ch: None) -> Case[tuple[None, bool]]: ...
def recv_ok(ch: RecvChan[T] | None) -> Case[tuple[T | None, bool]]:
    """Select case: receive from ch; the select returns ``(value, ok)``."""
    c: object = ch
    if type(c) is Chan or c is None:
        return (c, RECV_OK, None)
    return (_chan_for(c, False), RECV_OK, None)


@overload
def send(ch: SendChan[T], value: T) -> Case[None]: ...
@overload
def send(ch: None, value: object) -> Case[None]: ...
def send(ch: SendChan[T] | None, value: T) -> Case[None]:
    """Select case: send value on ch; the select returns None for it."""
    c: object = ch
    if type(c) is Chan or c is None:
        return (c, SEND, value)
    return (_chan_for(c, True), SEND, value)


def _case_error(cases: tuple[object, ...]) -> TypeError | None:
    """The error for the first of cases that is not a case, if any."""
    for i, case in enumerate(cases):
        if type(case) is not tuple or len(case) != 3 or case[1] not in _KINDS:
            return TypeError(
                f"select: case {i} is {case!r}; use recv(ch), recv_ok(ch) or send(ch, value)"
            )
    return None


def _dedupe(chans: list[Chan[Any]]) -> list[Chan[Any]]:
    """chans sorted by id, each channel once."""
    lockorder = [chans[0]]
    for ch in chans:
        if ch is not lockorder[-1]:
            lockorder.append(ch)
    return lockorder


def _unlock_before(chans: list[Chan[Any]], stop: Chan[Any]) -> None:
    """Release the locks taken so far: those of chans (sorted by id) before stop."""
    last = None
    for ch in chans:
        if ch is stop:
            return
        if ch is not last:
            ch._lock.release()
            last = ch


def _select_busy(cases: tuple[Case[Any], ...], default: bool) -> tuple[int, Any]:
    """select when this thread already holds the lock of some of its channels.

    The thread is in the middle of an operation on them (a finalizer or a
    signal handler interrupted it): their state cannot be looked at before
    that operation ends, and waiting for it would never end. Their cases
    count as not ready, as on a nil channel: the select completes if another
    case is ready, or with its default; else it raises RuntimeError.
    """
    masked = tuple(
        (None, kind, value) if ch is not None and ch._lock._is_owned() else (ch, kind, value)
        for ch, kind, value in cases
    )
    i, result = select(*masked, default=True)
    if i < 0 and not default:
        raise RuntimeError(REENTERED)
    return i, result


# The channel tracer's hook (goroutines.trace), None while no channel trace
# runs: select calls it first; it returns select's result after recording
# the select around a nested call of select, or None (that nested call: go
# on). A hook here, not a wrapper of the module's name, so that a select
# imported by name before the trace started is recorded too.
_traced: Callable[[tuple[Any, ...], bool], tuple[int, Any] | None] | None = None


def set_traced(fn: Callable[[tuple[Any, ...], bool], tuple[int, Any] | None] | None) -> None:
    """Install (or with None remove) the channel tracer's hook; the
    accelerator's select leaves every select to this module meanwhile."""
    global _traced
    _traced = fn
    speedups = _accel.port("select")
    if speedups is not None:
        speedups.set_select_traced(fn is not None)


def check_default(default: object) -> None:
    """select's and select_async's default must be a bool."""
    if default is not False and default is not True:
        raise TypeError(f"select: default must be a bool, got {type(default).__name__}")


# The overloads keep each case's result type: select(recv(a), send(b, v))
# with a a Chan[int] returns ``tuple[Literal[0], int | None] | tuple[Literal[1],
# None]``, which a ``match`` on the index (or a test of ``result[0]``)
# narrows. ``default=True`` adds ``(-1, None)``; select() without cases and
# without a default never returns. Past eight cases, or with ``*cases``, the
# value is the join of the cases' types.
@overload
def select(*, default: Literal[False] = False) -> NoReturn: ...
@overload
def select(*, default: bool) -> tuple[Literal[-1], None]: ...
@overload
def select(c0: Case[R0], /, *, default: Literal[False] = False) -> tuple[Literal[0], R0]: ...
@overload
def select(
    c0: Case[R0], /, *, default: bool
) -> tuple[Literal[0], R0] | tuple[Literal[-1], None]: ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], /, *, default: Literal[False] = False
) -> tuple[Literal[0], R0] | tuple[Literal[1], R1]: ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], /, *, default: bool
) -> tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[-1], None]: ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], /, *, default: Literal[False] = False
) -> tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[2], R2]: ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], /, *, default: bool
) -> (
    tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[2], R2] | tuple[Literal[-1], None]
): ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], c3: Case[R3], /, *, default: Literal[False] = False
) -> (
    tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[2], R2] | tuple[Literal[3], R3]
): ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], c3: Case[R3], /, *, default: bool
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[-1], None]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
): ...
@overload
def select(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], c3: Case[R3], c4: Case[R4], /, *, default: bool
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[-1], None]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    /,
    *,
    default: bool,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[-1], None]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    /,
    *,
    default: bool,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
    | tuple[Literal[-1], None]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    c7: Case[R7],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
    | tuple[Literal[7], R7]
): ...
@overload
def select(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    c7: Case[R7],
    /,
    *,
    default: bool,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
    | tuple[Literal[7], R7]
    | tuple[Literal[-1], None]
): ...
@overload
def select(*cases: Case[R0], default: bool = False) -> tuple[int, R0]: ...
def select(*cases: Case[Any], default: bool = False) -> tuple[int, Any]:
    """Complete exactly one of the cases, blocking until one can proceed.

    Returns ``(index, value)`` of the case that ran: the received value for
    ``recv``, ``(value, ok)`` for ``recv_ok``, None for ``send``. Among ready
    cases one is chosen uniformly at random. With ``default=True`` and nothing
    ready, returns ``(-1, None)`` at once. A case on a None channel is never
    ready; ``select()`` with no cases blocks forever. A send case chosen on a
    closed channel raises ChannelClosedError. Called by a finalizer or signal
    handler that interrupted an operation on one of its channels, it counts
    that channel's cases as not ready and, if it would have to wait, raises
    RuntimeError instead of waiting forever. A case on a channel made in a
    synctest bubble the caller is not in raises ChannelClosedError ("select
    on synctest channel from outside bubble") before anything is done.
    Go: ``select { ... }``.
    """
    if _traced is not None:  # a channel trace runs (see set_traced)
        traced = _traced(cases, default)
        if traced is not None:
            return traced
    if default is not False and default is not True:
        check_default(default)
    if _sched.attention:
        _proc.check_attention()
    p = _tls.p
    if p is None and not _tls.foreign:
        _sched.note_use()  # a foreign thread: count it as a possible waker
    chans: list[Chan[Any]] = []
    try:
        for case in cases:
            if type(case) is not tuple:
                raise TypeError
            ch, kind, _ = case  # ValueError for a tuple of another length
            if kind is not RECV_OK and kind is not RECV and kind is not SEND:
                raise TypeError
            if ch is not None:
                chans.append(ch)
                if ch._bubble is not None:
                    check_bubble(ch, OUTSIDE_SELECT)
                if ch._timer is not None and kind is not SEND and not ch._lock._is_owned():
                    ch._timer._maybe_run()
    except (TypeError, ValueError):
        # Not a case - or an error of _maybe_run's own, raised as it is.
        err = _case_error(cases)
        if err is None:
            raise
        raise err from None
    n = len(chans)
    if not n:
        if default:
            return -1, None
        # Go says "select" when every case has a nil channel, and
        # "select (no cases)" only for an empty select {}.
        _proc.current_waiter(new_token()).park(WAIT_SELECT if cases else WAIT_SELECT_NO_CASES)
        raise AssertionError("unreachable: a select with no cases was woken")
    if n > 1:
        chans.sort(key=id)
    # Exactly one of: a partner to wake once unlocked and (i, result) to
    # return; (i, result) alone (buffer, closed channel, default); or the
    # waiters of pass 2 to park on.
    partner: Waiter | None = None
    result: Any = None
    i = -1
    waiters: list[Waiter] = []
    lockorder = chans
    last = None
    for ch in chans:
        if ch is not last:
            try:
                ch._lock.acquire()
            except BaseException:
                busy = ch._lock._is_owned()
                _unlock_before(chans, ch)
                if busy:
                    return _select_busy(cases, default)
                raise
            last = ch
        elif lockorder is chans:
            lockorder = _dedupe(chans)  # a channel in several cases: locked once
    try:
        while True:
            # Pass 1: which cases can proceed now?
            ready: list[int] = []
            i = 0
            for ch, kind, _ in cases:
                if ch is not None:
                    if kind is SEND:
                        if ch._recvq or ch._closed or len(ch._buf) < ch._cap:
                            ready.append(i)
                    elif ch._buf or ch._sendq or ch._closed:
                        ready.append(i)
                i += 1
            if not ready:
                break
            i = ready[0] if len(ready) == 1 else ready[int(random() * len(ready))]
            ch, kind, value = cases[i]
            assert ch is not None
            if kind is SEND:
                if ch._closed:
                    raise ChannelClosedError("send on closed channel")
                rq = ch._recvq
                while rq:
                    w = rq.popleft()
                    if w.token.acquire(False):
                        w.value = value
                        w.ok = True
                        w.done = True
                        partner = w
                        break
                else:
                    if len(ch._buf) < ch._cap:
                        ch._buf.append(value)
                    else:
                        continue  # the receivers we saw were stale: poll again
                break
            buf = ch._buf
            sq = ch._sendq
            if buf:
                result = buf.popleft()
                while sq:
                    w = sq.popleft()
                    if w.token.acquire(False):
                        buf.append(w.elem)
                        w.ok = True
                        w.done = True
                        partner = w
                        break
            else:
                while sq:
                    w = sq.popleft()
                    if w.token.acquire(False):
                        result = w.elem
                        w.ok = True
                        w.done = True
                        partner = w
                        break
                else:
                    if not ch._closed:
                        continue  # the senders we saw were stale: poll again
                    if kind is RECV_OK:
                        result = (None, False)
                    break
            if kind is RECV_OK:
                result = (result, True)
            break
        if not ready:
            if default:
                return -1, None  # (unlocked by the finally clause)
            # Pass 2: queue a waiter on every channel, sharing one token.
            token = new_token()
            g = None if p is None else p.curg
            first: Waiter | None = None if g is not None else _proc.current_waiter(token)
            order: Any = range(len(cases))
            if len(lockorder) < n:
                # Cases on one channel queue in random order, as Go's (its
                # lockorder comes from a random pollorder): a partner arriving
                # later must not always pick the first of them.
                order = sample(order, len(cases))
            for i in order:
                ch, kind, value = cases[i]
                if ch is None:
                    continue
                if g is None:
                    assert first is not None
                    w = first.sibling(token) if waiters else first
                elif not _spare:
                    w = GWaiter(g, token)
                else:
                    try:
                        w = _spare_pop()
                    except IndexError:  # another thread took the last one
                        w = GWaiter(g, token)
                    else:
                        w.g = g
                        w.token = token
                        w.done = False
                w.case = i
                w.chan = ch
                if kind is SEND:
                    w.elem = value
                    ch._sendq.append(w)
                else:
                    ch._recvq.append(w)
                    if ch._timer is not None:
                        ch._timer._block()
                waiters.append(w)
    finally:
        for ch in lockorder:
            ch._lock.release()
    if not waiters:
        if partner is not None:
            partner.wake()
        return i, result
    try:
        if g is not None:
            assert p is not None
            _proc.park_g(p, g, WAIT_SELECT, token)
        else:
            assert first is not None
            first.park(WAIT_SELECT)
    finally:
        # Pass 3: dequeue from every channel but the winner's.
        token.acquire(False)
        winner = None
        for w in waiters:
            ch = w.chan
            if w.done:
                winner = w
            else:
                # A dequeuer may have dropped it as stale already.
                lock = ch._lock
                lock.acquire()
                q = ch._recvq
                if w in q:
                    q.remove(w)
                else:
                    q = ch._sendq
                    if w in q:
                        q.remove(w)
                lock.release()
            w.elem = w.chan = None
            if ch._timer is not None and cases[w.case][1] is not SEND:
                ch._timer._unblock()
    if winner is None:
        raise _sched.throw("selectgo: woken without a winning case")
    i = winner.case
    value = winner.value
    ok = winner.ok
    winner.value = None
    if g is not None and len(_spare) < _SPARE_MAX:
        for w in waiters:
            w.g = None  # type: ignore[attr-defined]  # keep no G alive
        _spare.extend(waiters)  # type: ignore[arg-type]  # all GWaiters (g is set)
    kind = cases[i][1]
    if kind is SEND:
        if not ok:
            raise ChannelClosedError("send on closed channel")
        return i, None
    if kind is RECV_OK:
        return i, (value, ok)
    return i, value


if _accel.port("select") is not None:
    # The accelerator's port "select" (accel.py): select for goroutines whose
    # cases are on plain channels, and the case constructors for a Chan or
    # None; they call the functions above for everything else.
    # Rebound through globals() so that type checkers keep the signature above.
    _accel.setup(
        "select",
        recv=RECV,
        recv_ok=RECV_OK,
        send=SEND,
        spare=_spare,
        py_select=select,
        wait_select=WAIT_SELECT,
    ).setup_cases(recv, recv_ok, send)
    _accel.install(
        globals(),
        {
            "select": _accel.speedups.select,
            "recv": _accel.speedups.case_recv,
            "recv_ok": _accel.speedups.case_recv_ok,
            "send": _accel.speedups.case_send,
        },
    )

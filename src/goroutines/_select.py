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
under it. A ready case can still fail to complete when the partner waiter it
saw belongs to another select that has just won elsewhere: then pass 1 runs
again (the stale waiter has been dropped, so this terminates).
Pass 2 queues one waiter per case, all sharing one park token, so exactly one
partner can win; pass 3, after waking, takes the losers off their queues.
A select never pairs with itself: its waiters are queued only after its own
poll found nothing ready.
"""

from __future__ import annotations

from random import random, sample
from typing import Any, Final, TypeVar, final

from ._chan import Chan, RecvChan, RecvOnly, SendChan, SendOnly, unwrap
from ._runtime import sched as _sched
from ._runtime.g import WAIT_SELECT, WAIT_SELECT_NO_CASES
from ._runtime.waiter import GWaiter, Waiter, new_token
from .errors import ChannelClosedError

T = TypeVar("T")

_tls = _sched._tls

RECV: Final = 0
RECV_OK: Final = 1
SEND: Final = 2


@final
class Case:
    """One select case: made by ``recv(ch)``, ``recv_ok(ch)`` or ``send(ch, v)``."""

    __slots__ = ("chan", "kind", "value")

    def __init__(self, chan: Chan[Any] | None, kind: int, value: Any) -> None:
        self.chan = chan
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        what = ("recv", "recv_ok", "send")[self.kind]
        return f"{what}({self.chan!r})"


def _chan_for(ch: object, sending: bool) -> Chan[Any] | None:
    if type(ch) is Chan:
        return ch
    if sending and type(ch) is RecvOnly:
        raise TypeError("select: send case on a receive-only channel")
    if not sending and type(ch) is SendOnly:
        raise TypeError("select: receive case on a send-only channel")
    return unwrap(ch)


def recv(ch: RecvChan[T] | None) -> Case:
    """Select case: receive from ch; the select returns the value (None once closed)."""
    return Case(_chan_for(ch, False), RECV, None)


def recv_ok(ch: RecvChan[T] | None) -> Case:
    """Select case: receive from ch; the select returns ``(value, ok)``."""
    return Case(_chan_for(ch, False), RECV_OK, None)


def send(ch: SendChan[T] | None, value: T) -> Case:
    """Select case: send value on ch; the select returns None for it."""
    return Case(_chan_for(ch, True), SEND, value)


def _reject_cases(cases: tuple[object, ...]) -> None:
    for i, case in enumerate(cases):
        if type(case) is not Case:
            raise TypeError(
                f"select: case {i} is {case!r}; use recv(ch), recv_ok(ch) or send(ch, value)"
            )


def select(*cases: Case, default: bool = False) -> tuple[int, Any]:
    """Complete exactly one of the cases, blocking until one can proceed.

    Returns ``(index, value)`` of the case that ran: the received value for
    ``recv``, ``(value, ok)`` for ``recv_ok``, None for ``send``. Among ready
    cases one is chosen uniformly at random. With ``default=True`` and nothing
    ready, returns ``(-1, None)`` at once. A case on a None channel is never
    ready; ``select()`` with no cases blocks forever. A send case chosen on a
    closed channel raises ChannelClosedError. Go: ``select { ... }``.
    """
    if _sched.attention:
        _sched.check_attention()
    w: Waiter
    chans: list[Chan[Any]] = []
    for case in cases:
        if type(case) is not Case:
            _reject_cases(cases)
        ch = case.chan
        if ch is not None:
            chans.append(ch)
            if ch._timer is not None and case.kind != SEND:
                ch._timer._maybe_run()
    if not chans:
        if default:
            return -1, None
        # Go says "select" when every case has a nil channel, and
        # "select (no cases)" only for an empty select {}.
        _sched.current_waiter(new_token()).park(WAIT_SELECT if cases else WAIT_SELECT_NO_CASES)
        raise AssertionError("unreachable: a select with no cases was woken")
    if len(chans) == 1:
        lockorder = chans
    else:
        chans.sort(key=id)
        lockorder = [chans[0]]
        for ch in chans:
            if ch is not lockorder[-1]:
                lockorder.append(ch)
    for ch in lockorder:
        ch._lock.acquire()
    locked = True
    try:
        while True:
            # Pass 1: which cases can proceed now? (Stale waiters at a queue's
            # head - their token already won elsewhere - are dropped.)
            ready: list[int] = []
            i = 0
            for case in cases:
                ch = case.chan
                if ch is not None:
                    if case.kind == SEND:
                        q = ch._recvq
                        while q and q[0].token.locked():
                            q.popleft()
                        if q or ch._closed or len(ch._buf) < ch._cap:
                            ready.append(i)
                    elif ch._buf or ch._closed:
                        ready.append(i)
                    else:
                        q = ch._sendq
                        while q and q[0].token.locked():
                            q.popleft()
                        if q:
                            ready.append(i)
                i += 1
            if not ready:
                break
            i = ready[0] if len(ready) == 1 else ready[int(random() * len(ready))]
            case = cases[i]
            ch = case.chan
            assert ch is not None
            partner: Waiter | None = None
            if case.kind == SEND:
                if ch._closed:
                    _unlock(lockorder)
                    locked = False
                    raise ChannelClosedError("send on closed channel")
                rq = ch._recvq
                while rq:
                    w = rq.popleft()
                    if w.token.acquire(False):
                        partner = w
                        break
                if partner is not None:
                    _unlock(lockorder)
                    locked = False
                    partner.value = case.value
                    partner.ok = True
                    partner.done = True
                    partner.wake()
                    return i, None
                if len(ch._buf) < ch._cap:
                    ch._buf.append(case.value)
                    _unlock(lockorder)
                    locked = False
                    return i, None
                continue  # the receiver we saw was stale: poll again
            buf = ch._buf
            sq = ch._sendq
            if buf:
                value = buf.popleft()
                while sq:
                    w = sq.popleft()
                    if w.token.acquire(False):
                        buf.append(w.elem)
                        partner = w
                        break
                _unlock(lockorder)
                locked = False
                if partner is not None:
                    partner.ok = True
                    partner.done = True
                    partner.wake()
                return i, ((value, True) if case.kind == RECV_OK else value)
            while sq:
                w = sq.popleft()
                if w.token.acquire(False):
                    partner = w
                    break
            if partner is not None:
                _unlock(lockorder)
                locked = False
                value = partner.elem
                partner.ok = True
                partner.done = True
                partner.wake()
                return i, ((value, True) if case.kind == RECV_OK else value)
            if ch._closed:
                _unlock(lockorder)
                locked = False
                return i, ((None, False) if case.kind == RECV_OK else None)
            # the sender we saw was stale: poll again
        if default:
            _unlock(lockorder)
            locked = False
            return -1, None
        # Pass 2: queue a waiter on every channel, sharing one token.
        token = new_token()
        p = _tls.p
        first: Waiter = _sched.current_waiter(token) if p is None else GWaiter(p.curg, token)
        waiters: list[Waiter] = []
        order: Any = range(len(cases))
        if len(lockorder) < len(chans):
            # Cases on one channel queue in random order, as Go's (its
            # lockorder comes from a random pollorder): a partner arriving
            # later must not always pick the first of them.
            order = sample(order, len(cases))
        for i in order:
            case = cases[i]
            ch = case.chan
            if ch is None:
                continue
            w = first if not waiters else first.sibling(token)
            w.case = i
            w.chan = ch
            if case.kind == SEND:
                w.elem = case.value
                ch._sendq.append(w)
            else:
                ch._recvq.append(w)
                if ch._timer is not None:
                    ch._timer._block()
            waiters.append(w)
        _unlock(lockorder)
        locked = False
    finally:
        if locked:
            _unlock(lockorder)
    try:
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
                ch._lock.acquire()
                q = ch._sendq if cases[w.case].kind == SEND else ch._recvq
                if w in q:  # a dequeuer may have dropped it as stale already
                    q.remove(w)
                ch._lock.release()
            if ch._timer is not None and cases[w.case].kind != SEND:
                ch._timer._unblock()
    if winner is None:
        raise _sched.throw("selectgo: woken without a winning case")
    i = winner.case
    kind = cases[i].kind
    if kind == SEND:
        if not winner.ok:
            raise ChannelClosedError("send on closed channel")
        return i, None
    if kind == RECV_OK:
        return i, (winner.value, winner.ok)
    return i, winner.value


def _unlock(lockorder: list[Chan[Any]]) -> None:
    for ch in reversed(lockorder):
        ch._lock.release()

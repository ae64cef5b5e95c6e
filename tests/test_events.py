"""The event layer: the core's sites (_runtime/events.py), the operations'
events (goroutines._opevents), subscriptions by kind, and that nothing is
touched while nobody listens."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from goroutines import (
    AtomicInt,
    Chan,
    Cond,
    Mutex,
    Once,
    RWMutex,
    Semaphore,
    WaitGroup,
    _opevents,
    blocking,
    context,
    go,
    recv,
    run,
    select,
)
from goroutines import _chan as _chan_mod
from goroutines import _select as _select_mod
from goroutines._runtime import events

# The methods the operations' events replace while anyone listens.
_METHODS = [
    (Chan, ("send", "recv", "recv_ok", "try_send", "try_recv", "close", "__iter__")),
    (Mutex, ("lock", "unlock", "try_lock", "__enter__")),
    (RWMutex, ("lock", "unlock", "rlock", "runlock", "try_lock", "try_rlock", "__enter__")),
    (WaitGroup, ("add", "done", "wait")),
    (Once, ("do",)),
    (Cond, ("signal", "broadcast", "wait")),
    (Semaphore, ("acquire", "release", "try_acquire")),
    (AtomicInt, ("load", "store", "add", "swap", "compare_and_swap")),
]


def _plain() -> dict[tuple[type, str], Any]:
    return {(cls, n): cls.__dict__[n] for cls, names in _METHODS for n in names}


PLAIN = _plain()
PLAIN_AFTER_FUNC = context.after_func


class Recorder:
    """A subscriber that keeps (kind, goroutine id or None, arg, thread)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int | None, Any, int]] = []
        self.lock = threading.Lock()

    def __call__(self, kind: int, g: Any, arg: Any) -> None:
        with self.lock:
            self.seen.append((kind, None if g is None else g.id, arg, threading.get_ident()))

    def kinds(self) -> list[int]:
        return [k for k, _, _, _ in self.seen]


@pytest.fixture
def sub() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    events.unsubscribe(r)
    assert _opevents.installed() == []


def _edges(r: Recorder, obj: object) -> list[tuple[str, str]]:
    """The RELEASE/ACQUIRE events on obj, in order: ("rel"|"acq", role)."""
    out = []
    for kind, _, arg, _ in r.seen:
        if kind in (events.RELEASE, events.ACQUIRE) and arg[0] is obj:
            out.append(("rel" if kind == events.RELEASE else "acq", arg[1]))
    return out


# -- subscriptions -----------------------------------------------------------------


def test_nothing_is_replaced_while_nobody_listens() -> None:
    assert events.hook is None
    assert _opevents.installed() == []
    assert _plain() == PLAIN
    assert context.after_func is PLAIN_AFTER_FUNC
    assert _select_mod._traced is None
    assert _chan_mod._traced is False


def _replaced() -> set[type]:
    now = _plain()
    return {cls for (cls, n), f in now.items() if f is not PLAIN[(cls, n)]}


def test_the_wrappers_a_kind_needs_and_no_others() -> None:
    a, b, c = Recorder(), Recorder(), Recorder()
    try:
        events.subscribe(a, {events.RELEASE})  # the race detector: every group
        assert _opevents.installed() == ["chan", "locks", "sync"]
        assert _replaced() == {cls for cls, _ in _METHODS}
        assert context.after_func is not PLAIN_AFTER_FUNC
        assert _select_mod._traced is not None and _chan_mod._traced is True
        assert events.hook is None  # an operation-only subscriber leaves the core's sites free
        events.subscribe(b, {events.LOCK})  # the lock-order checker: locks only
        events.unsubscribe(a)
        assert _opevents.installed() == ["locks"]
        assert _replaced() == {Mutex, RWMutex}
        assert context.after_func is PLAIN_AFTER_FUNC
        assert _select_mod._traced is None and _chan_mod._traced is False
        events.subscribe(c, {events.CHAN, events.SELECT})  # a channel trace: channels only
        events.unsubscribe(b)
        assert _opevents.installed() == ["chan"]
        assert _replaced() == {Chan}
        assert _select_mod._traced is not None
    finally:
        for r in (a, b, c):
            events.unsubscribe(r)
    assert _opevents.installed() == []
    assert _plain() == PLAIN
    assert context.after_func is PLAIN_AFTER_FUNC
    assert _select_mod._traced is None and _chan_mod._traced is False


def test_a_subscriber_gets_only_its_kinds(sub: Recorder) -> None:
    other = Recorder()
    events.subscribe(sub, {events.PARK})
    events.subscribe(other, {events.CREATE, events.FINISH})
    try:

        def main() -> None:
            ch: Chan[int] = Chan()
            go(ch.send, 1)
            ch.recv()

        run(main)
    finally:
        events.unsubscribe(other)
    assert sub.kinds() and set(sub.kinds()) == {events.PARK}
    assert {events.CREATE, events.FINISH} == set(other.kinds())
    assert events.hook is not None  # sub still listens to a core kind
    events.unsubscribe(sub)
    assert events.hook is None


def test_the_race_detectors_core_kinds_leave_the_schedulers_sites_free(sub: Recorder) -> None:
    """CREATE and BLOCKING_RUN (what the race detector wants) come through
    hooks[kind]: every park, ready and resume still finds hook None."""
    events.subscribe(sub, {events.CREATE, events.BLOCKING_RUN, events.BLOCKING_RUN_DONE})
    assert events.hook is None
    assert events.hooks[events.CREATE] is sub

    def main() -> None:
        ch: Chan[int] = Chan()
        go(ch.send, 1)
        ch.recv()
        blocking(int)

    run(main)
    assert sub.kinds() == [events.CREATE, events.BLOCKING_RUN, events.BLOCKING_RUN_DONE]


def test_subscribe_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="callable"):
        events.subscribe(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no such event kind: 99"):
        events.subscribe(Recorder(), {99})
    assert events.hook is None and _opevents.installed() == []


def test_the_gc_callback_is_there_only_while_gc_events_are_wanted(sub: Recorder) -> None:
    events.subscribe(sub, {events.PARK})
    assert events._gc_phase not in gc.callbacks
    events.unsubscribe(sub)
    events.subscribe(sub, {events.GC_START})
    assert events._gc_phase in gc.callbacks
    gc.collect()
    assert events.GC_START in sub.kinds()
    events.unsubscribe(sub)
    assert events._gc_phase not in gc.callbacks


# -- the edges of Go's memory model --------------------------------------------------


@pytest.mark.parametrize("rounds", range(20))
def test_unbuffered_channel_edges(sub: Recorder, rounds: int) -> None:
    events.subscribe(sub, {events.RELEASE, events.ACQUIRE})
    ch: Chan[int] = Chan()

    def main() -> None:
        done: Chan[None] = Chan()

        def receiver() -> None:
            assert ch.recv() == 5
            done.close()

        go(receiver)
        ch.send(5)
        done.recv()

    run(main)
    e = _edges(sub, ch)
    # sender: release s ... acquire r; receiver: release r ... acquire s
    assert sorted(e) == [("acq", "r"), ("acq", "s"), ("rel", "r"), ("rel", "s")]
    assert e.index(("rel", "s")) < e.index(("acq", "s"))
    assert e.index(("rel", "r")) < e.index(("acq", "r"))


def test_buffered_channel_edges_and_close(sub: Recorder) -> None:
    events.subscribe(sub, {events.RELEASE, events.ACQUIRE})
    ch: Chan[int] = Chan(2)

    def main() -> None:
        ch.send(1)
        assert ch.recv_ok() == (1, True)
        ch.close()
        assert ch.recv_ok() == (None, False)  # a receive that sees the close acquires it

    run(main)
    assert _edges(sub, ch) == [
        ("rel", "s"),
        ("acq", "r"),  # the send completes: the (k-C)-th receive before it
        ("acq", "s"),  # the receive: the send before it
        ("rel", "r"),  # a buffered receive releases once it has the value
        ("rel", "s"),  # close
        ("acq", "s"),  # the receive that sees the close
        ("rel", "r"),
    ]


def test_select_takes_the_chosen_cases_edge(sub: Recorder) -> None:
    events.subscribe(sub, {events.RELEASE, events.ACQUIRE, events.SELECT, events.SELECT_DONE})
    a: Chan[int] = Chan(1)
    b: Chan[int] = Chan(1)

    def main() -> None:
        b.send(3)
        assert select(recv(a), recv(b)) == (1, 3)

    run(main)
    assert _edges(sub, a) == []  # buffered receives release after taking: none on a
    assert ("acq", "s") in _edges(sub, b)
    sel = [(k, arg) for k, _, arg, _ in sub.seen if k in (events.SELECT, events.SELECT_DONE)]
    assert sel == [(events.SELECT, 2), (events.SELECT_DONE, 1)]


def test_sync_types_edges(sub: Recorder) -> None:
    events.subscribe(sub, {events.RELEASE, events.ACQUIRE})
    mu, rw, wg, once, cond = Mutex(), RWMutex(), WaitGroup(), Once(), Cond(Mutex())
    sem, n = Semaphore(2), AtomicInt()

    def main() -> None:
        with mu:
            pass
        rw.rlock()
        rw.runlock()
        with rw:
            pass
        wg.add(1)
        wg.done()
        wg.wait()
        once.do(lambda: None)
        once.do(lambda: None)
        cond.signal()
        sem.acquire(context.background())
        sem.release()
        n.add(1)

    run(main)
    assert _edges(sub, mu) == [("acq", "w"), ("rel", "w")]
    assert _edges(sub, rw) == [
        ("acq", "u"),  # rlock: after every Unlock
        ("rel", "w"),  # runlock -> the next Lock
        ("acq", "w"),
        ("rel", "u"),  # Unlock -> the next RLock and Lock
        ("rel", "w"),
    ]
    e = _edges(sub, wg)  # (the pure path's done() is an add(-1): one release more)
    assert e[-1] == ("acq", "w") and set(e[:-1]) == {("rel", "w")} and len(e) >= 3
    assert _edges(sub, once) == [("rel", "o"), ("acq", "o"), ("acq", "o")]
    assert _edges(sub, cond) == [("rel", "c")]
    assert _edges(sub, sem) == [("acq", "s"), ("rel", "s")]
    assert _edges(sub, n) == [("acq", "a"), ("rel", "a")]


def test_after_func_registration_happens_before_f(sub: Recorder) -> None:
    events.subscribe(sub, {events.RELEASE, events.ACQUIRE})
    ran: list[int] = []

    def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        done: Chan[None] = Chan()

        def f() -> None:
            ran.append(1)
            done.close()

        context.after_func(ctx, f)
        cancel()
        done.recv()

    run(main)
    assert ran == [1]
    rel = [a[0] for k, _, a, _ in sub.seen if k == events.RELEASE and a[1] == "f"]
    acq = [a[0] for k, _, a, _ in sub.seen if k == events.ACQUIRE and a[1] == "f"]
    assert len(rel) == 1 and acq == rel


# -- locks ------------------------------------------------------------------------------


def test_lock_events_carry_the_callers_frame(sub: Recorder) -> None:
    events.subscribe(sub, {events.LOCK, events.LOCKED, events.UNLOCK})
    mu = Mutex()
    frames: list[Any] = []

    def main() -> None:
        frames.append(__import__("sys")._getframe())
        with mu:
            pass
        assert mu.try_lock()
        mu.unlock()

    run(main)
    mine = [(k, a) for k, _, a, _ in sub.seen if a[0] is mu]
    assert [k for k, _ in mine] == [
        events.LOCK,
        events.LOCKED,
        events.UNLOCK,
        events.LOCK,
        events.LOCKED,
        events.UNLOCK,
    ]
    assert mine[0][1][1:] == (False, frames[0], True)  # may wait
    assert mine[3][1][1:] == (False, frames[0], False)  # try_lock: does not wait
    assert mine[1][1][2] is frames[0]


# -- the core's events ------------------------------------------------------------------


def test_blocking_runs_on_a_helper_as_the_waiting_goroutine(sub: Recorder) -> None:
    events.subscribe(
        sub, {events.BLOCKING, events.BLOCKING_RUN, events.BLOCKING_RUN_DONE, events.BLOCKING_DONE}
    )
    me: list[int] = []

    def work() -> int:
        return threading.get_ident()

    def main() -> None:
        me.append(go_id())
        for _ in range(5):
            blocking(work)

    def go_id() -> int:
        from goroutines import current

        return current().id

    run(main)
    kinds = sub.kinds()
    assert kinds == [
        events.BLOCKING,
        events.BLOCKING_RUN,
        events.BLOCKING_RUN_DONE,
        events.BLOCKING_DONE,
    ] * 5
    main_thread = threading.get_ident()
    for kind, gid, _, ident in sub.seen:
        assert gid == me[0]
        on_helper = kind in (events.BLOCKING_RUN, events.BLOCKING_RUN_DONE)
        assert (ident != main_thread) == on_helper


def test_create_comes_before_the_goroutine_can_run(sub: Recorder) -> None:
    events.subscribe(sub, {events.CREATE, events.START})

    def main() -> None:
        wg = WaitGroup()
        for _ in range(50):
            wg.go(lambda: None)
        wg.wait()

    run(main)
    first: dict[int, int] = {}
    for i, (kind, gid, _, _) in enumerate(sub.seen):
        assert gid is not None
        if kind == events.START:
            assert gid in first, f"goroutine {gid} started before its CREATE"
        else:
            first[gid] = i
    assert len(first) == 50

"""kill: ending the goroutines a run() leaves behind, each on its own P's thread.

run() kills the goroutines of its own P (kill_others) and asks every other P
that is not a run()'s own to kill its own (_kill_other_ps): a greenlet can
only be thrown into from its thread, so a P does it in its scheduler
(proc._find_runnable calls _kill_here when p.kill_req is set).

Invariants: p.killing is set only by p's thread while it kills; p.kill_req
is set by run() (another thread) and cleared by p's thread (_kill_done),
which then sets the Event.
"""

from __future__ import annotations

import sys
import threading
from time import monotonic

from greenlet import GreenletExit, getcurrent

from . import sched as _sched
from .g import DEAD, RUNNING, G, allgs
from .panic import _print_panic
from .sched import P, _all_ps


def kill_others(p: P) -> None:
    """Kill every goroutine of p but its goroutine 1 (run() returning)."""
    p.killing = True
    try:
        _kill_gs(p, None)
    finally:
        p.killing = False
        if p.g1 is not None:
            p.curg = p.g1
            p.g1.state = RUNNING
            p.g1.token = None


def _kill_gs(p: P, spare: G | None) -> None:
    """On p's thread, with p.killing set: throw GreenletExit into every
    goroutine of p but its goroutine 1 and spare (their finally blocks run),
    then forget p's queues, timers and fd waits."""
    me = getcurrent()
    _clear_queues(p)
    for _ in range(3):  # goroutines started by dying ones, then theirs
        victims = [
            g for g in list(allgs.values()) if g.p is p and g is not p.g1 and g is not spare
        ]
        if not victims:
            break
        for g in victims:
            gr = g.greenlet
            if gr is None or gr.dead:
                g.state = DEAD
                allgs.pop(g.id, None)
                continue
            tok = g.token
            if tok is not None:
                tok.acquire(False)
            gr.parent = me
            p.curg = g
            g.state = RUNNING
            try:
                gr.throw(GreenletExit)
            except BaseException as e:  # pragma: no cover - defensive
                _print_panic(e, g, "while run() was killing goroutines")
            g.state = DEAD
            allgs.pop(g.id, None)
        _clear_queues(p)
    with p.timer_lock:
        for entry in p.timers:
            t = entry[2]
            if t is not None:
                t.entry = None
        p.timers.clear()
        p.ntimers = 0
    for fd in list(p.io_waiters):
        p.io_waiters.pop(fd, None)
        try:
            p.selector.unregister(fd)
        except (KeyError, ValueError):
            pass
    p.nio = 0


def _clear_queues(p: P) -> None:
    p.runq.clear()
    p.timerq.clear()
    p.runnext = None
    p.inbound.clear()


# How long run() waits for the other Ps to kill their goroutines.
KILL_WAIT = 1.0


def _kill_other_ps(p: P) -> None:
    """run() on p returning: ask every other P that is not a run()'s own (the
    background P, the hand-off Ps) to kill its goroutines on its own thread
    (a greenlet cannot be thrown into from another thread), and wait up to
    KILL_WAIT. Skipped while another run() is in progress (its goroutines
    may be there). A P whose thread stays stuck outside the runtime is
    reported; it kills them when it comes back."""
    with _sched._sched_lock:
        if any(q.in_run for q in _all_ps if q is not p):
            return
        others = [q for q in _all_ps if q is not p and q.g1 is None]
    if not others:
        return
    owned = {g.p for g in list(allgs.values()) if g.state != DEAD}
    reqs: list[tuple[P, threading.Event]] = []
    for q in others:
        if q in owned:
            ev = threading.Event()
            q.kill_req = ev
            q.wakeup()
            reqs.append((q, ev))
    deadline = monotonic() + KILL_WAIT  # real time: a real thread's wait
    for q, ev in reqs:
        if not ev.wait(max(0.0, deadline - monotonic())):
            g = q.curg
            who = f"goroutine {g.id} [{g.name}]" if g is not None else "its thread"
            sys.stderr.write(
                f"goroutines: run() returned while {who} held P{q.id}'s thread outside "
                f"the runtime for over {KILL_WAIT:g}s: its goroutines are abandoned "
                "(killed when it returns)\n"
            )


def _kill_here(p: P) -> None:
    """run() asked p (not its own P) to kill its goroutines: _find_runnable
    does it on p's thread, in whichever greenlet called it - a goroutine
    parking, yielding or just finished, or p's home loop."""
    me = getcurrent()
    cur = p.curg
    mine = None
    if cur is not None and cur.greenlet is me and cur.state != DEAD and me is not p.home:
        mine = cur
    p.killing = True
    _kill_gs(p, mine)
    if mine is not None:
        # The caller dies too: it unwinds (its finally blocks run) to its
        # worker, which returns (p.killing) to p's home loop; the loop
        # finishes with _kill_done.
        me.parent = p.home
        raise GreenletExit
    _kill_done(p)


def _kill_done(p: P) -> None:
    p.killing = False
    p.curg = None  # type: ignore[assignment]
    req = p.kill_req
    p.kill_req = None
    if req is not None:
        req.set()

"""fork: the child of a fork keeps only the forking goroutine, as its goroutine 1.

Every other P's thread is gone in the child, and so are their goroutines:
their greenlets are kept referenced forever (_graveyard), never run and
never collected (collection would run their finally blocks). The locks of
the lock-order table (sched.py) may have been held by a thread that does
not exist in the child: each is replaced by a new one. blocking.py resets
its helper pool with an at-fork hook of its own, registered after this one.
"""

from __future__ import annotations

import os
import threading
from _thread import get_ident
from typing import Any

from . import exit as _exit
from . import g as _gmod
from . import proc as _proc
from . import sched as _sched
from . import sysmon as _sysmon
from .g import RUNNING, allgs
from .sched import _set_attention, tls
from .waiter import new_lock


def _after_fork_child() -> None:
    """The child keeps only the forking goroutine, as its goroutine 1."""
    _sched._sched_lock = threading.Lock()
    _proc._bg_lock = threading.Lock()
    _exit._exit_cond = threading.Condition(threading.Lock())
    _exit._exit_parked.clear()
    _sched._main_ident = threading.main_thread().ident  # (threading's fork hook ran first)
    _sched._blocking_calls = 0  # blocking.py resets its helper pool
    _sched._foreign_threads.clear()
    _sched._parked_threads.clear()
    _proc._bg_p = None
    _sysmon._after_fork_child()
    _sched._pending_panic = None
    _sched._panic_in_flight = False
    _sched._sigint_pending = False
    _set_attention(False)
    p = tls.p
    _graveyard.append(list(allgs.values()))
    allgs.clear()
    _sched._all_ps.clear()
    if p is None:
        _sched._main_g = None
        tls.foreign = False
        return
    _graveyard.append(p.free_workers)
    p.free_workers = []
    p.ident = get_ident()
    p.native_id = threading.get_native_id()
    p.timer_lock = new_lock()
    p.runq.clear()
    p.timerq.clear()
    p.runnext = None
    p.inbound.clear()
    for entry in p.timers:
        if entry[2] is not None:
            entry[2].entry = None
    p.timers.clear()
    p.ntimers = 0
    p.io_waiters.clear()
    p.nio = 0
    p.idle = False
    p.sleeping = False
    p.stuck = None
    p.kill_req = None
    p.killing = False
    p.selector.close()
    os.close(p.wake_r)
    os.close(p.wake_w)
    p._open_poller()
    g = p.curg
    assert g is not None
    g.id = 1
    g.name = "main" if g.fn is None else g.name
    g.state = RUNNING
    p.g1 = g
    p.home = g.greenlet
    _sched._main_g = g
    allgs[1] = g
    _gmod.reset_ids(2)
    _sched._all_ps.append(p)
    _sysmon.start()  # the parent's monitor thread is not in the child


# Greenlets of goroutines that do not exist in a forked child: kept referenced
# so they are never collected (collection would run their finally blocks).
_graveyard: list[Any] = []

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)

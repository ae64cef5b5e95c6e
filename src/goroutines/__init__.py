"""goroutines: Go's concurrency model in Python.

Goroutines on a runtime scheduler, channels and select, timers, the sync
toolkit, context and errgroup, and a runtime that reports deadlocks and never
swallows a panic. See README.md and docs/.
"""

from ._atomic import AtomicInt as AtomicInt
from ._chan import Chan as Chan
from ._chan import RecvChan as RecvChan
from ._chan import RecvOnly as RecvOnly
from ._chan import SendChan as SendChan
from ._chan import SendOnly as SendOnly
from ._go import Goroutine as Goroutine
from ._go import blocking as blocking
from ._go import current as current
from ._go import dump as dump
from ._go import go as go
from ._go import gosched as gosched
from ._go import max_procs as max_procs
from ._go import notify_closing as notify_closing
from ._go import num_goroutine as num_goroutine
from ._go import run as run
from ._go import wait_readable as wait_readable
from ._go import wait_writable as wait_writable
from ._leaks import leaks as leaks
from ._runtime.clock import now as now
from ._select import recv as recv
from ._select import recv_ok as recv_ok
from ._select import select as select
from ._select import send as send
from ._select_async import select_async as select_async
from ._semaphore import Semaphore as Semaphore
from ._sync import Cond as Cond
from ._sync import Mutex as Mutex
from ._sync import Once as Once
from ._sync import RWMutex as RWMutex
from ._sync import WaitGroup as WaitGroup
from ._sync import once_func as once_func
from ._sync import once_value as once_value
from ._sync import once_values as once_values
from ._time import Ticker as Ticker
from ._time import Timer as Timer
from ._time import after as after
from ._time import after_func as after_func
from ._time import sleep as sleep
from ._time import tick as tick
from .errors import ChannelClosedError as ChannelClosedError
from .errors import Deadlock as Deadlock
from .errors import GoroutinePanic as GoroutinePanic

__all__ = [
    "AtomicInt",
    "Chan",
    "ChannelClosedError",
    "Cond",
    "Deadlock",
    "Goroutine",
    "GoroutinePanic",
    "Mutex",
    "Once",
    "RWMutex",
    "RecvChan",
    "RecvOnly",
    "SendChan",
    "SendOnly",
    "Semaphore",
    "Ticker",
    "Timer",
    "WaitGroup",
    "after",
    "after_func",
    "blocking",
    "current",
    "dump",
    "go",
    "gosched",
    "leaks",
    "max_procs",
    "notify_closing",
    "now",
    "num_goroutine",
    "once_func",
    "once_value",
    "once_values",
    "recv",
    "recv_ok",
    "run",
    "select",
    "select_async",
    "send",
    "sleep",
    "tick",
    "wait_readable",
    "wait_writable",
]
__version__ = "0.1.0"

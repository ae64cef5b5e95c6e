"""G: one goroutine, and the table of all live goroutines (Go's ``allgs``).

A G is plain data. Its greenlet is created only when it first runs (a G that has
not started can still move to any P), and a finished goroutine's greenlet is
reused for the next unstarted G (see proc.py), as Go reuses its G structs.

Invariants:
  * g.state is one of RUNNABLE, RUNNING, WAITING, DEAD; only the P that owns
    g changes it, except ``ready`` from another thread (WAITING -> RUNNABLE),
    which happens only after that thread won g's park token.
  * Every G that is not DEAD is in ``allgs``; a parked G is therefore never
    garbage-collected together with the channel it waits on.
  * g.token is the park token of g's current park: whoever acquires it (a
    partner, a timer, panic or signal delivery, the deadlock detector) is the
    one and only waker of that park.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from contextvars import Context
from types import CodeType
from typing import TYPE_CHECKING, Any, Final, Literal, final

if TYPE_CHECKING:
    from .sched import P
    from .waiter import Token

# A G's states (Go's _Grunnable, _Grunning, _Gwaiting, _Gdead).
GState = Literal["runnable", "running", "waiting", "dead"]
RUNNABLE: Final = "runnable"
RUNNING: Final = "running"
WAITING: Final = "waiting"
DEAD: Final = "dead"

# Wait reasons, verbatim from Go's runtime/runtime2.go waitReasonStrings.
WAIT_CHAN_RECEIVE: Final = "chan receive"
WAIT_CHAN_RECEIVE_NIL: Final = "chan receive (nil chan)"
WAIT_CHAN_SEND: Final = "chan send"
WAIT_CHAN_SEND_NIL: Final = "chan send (nil chan)"
WAIT_SELECT: Final = "select"
WAIT_SELECT_NO_CASES: Final = "select (no cases)"
WAIT_SLEEP: Final = "sleep"
WAIT_IO: Final = "IO wait"
WAIT_SYSCALL: Final = "syscall"
WAIT_MUTEX: Final = "sync.Mutex.Lock"
WAIT_RWMUTEX_RLOCK: Final = "sync.RWMutex.RLock"
WAIT_RWMUTEX_LOCK: Final = "sync.RWMutex.Lock"
WAIT_WAITGROUP: Final = "sync.WaitGroup.Wait"
WAIT_COND: Final = "sync.Cond.Wait"
WAIT_SEMACQUIRE: Final = "semacquire"

_ids = itertools.count(2)  # 1 is reserved for the main goroutine
_ids_lock = threading.Lock()  # guards replacing _ids (reset by run())


def next_id() -> int:
    # next() on itertools.count is a single C call: atomic under the GIL.
    return next(_ids)


def reset_ids(start: int) -> None:
    global _ids
    with _ids_lock:
        _ids = itertools.count(start)


@final
class KwCall(tuple[tuple[Any, ...], dict[str, Any]]):
    """G.args of a goroutine started with keyword arguments: (args, kwargs).

    Nearly every goroutine has none, and its G.args is the plain tuple: a G
    field for kwargs would be one more for the garbage collector to visit
    in every G, at every collection.
    """

    __slots__ = ()


@final
class G:
    """A goroutine (Go's ``g``). Public as ``goroutines.Goroutine``.

    ``id``: unique, the main goroutine is 1. ``name``: defaults to the function's
    ``__qualname__``, writable. ``state``: ``"runnable"``, ``"running"``,
    ``"waiting"`` or ``"dead"``. ``wait_reason``: Go's words for why it waits.
    """

    # Few fields on purpose: the garbage collector visits every field of every
    # G at each collection while the G lives, and spawning 100,000 goroutines
    # spends as much time there as in go() itself. _name is unset until read.
    # proc.go() sets the same fields as __init__ (without calling it).
    __slots__ = (
        "__weakref__",
        "_name",
        "args",
        "context",
        "created_code",
        "created_lasti",
        "fn",
        "greenlet",
        "id",
        "p",
        "parent_id",
        "state",
        "throw_exc",
        "token",
        "wait_reason",
        "waiter",
    )

    id: int
    state: GState
    wait_reason: str
    _name: str

    def __init__(
        self,
        gid: int,
        fn: Callable[..., Any] | None,
        args: tuple[Any, ...],
        p: P | None,
        context: Context | None = None,
        parent_id: int = 0,
        created_code: CodeType | None = None,
        created_lasti: int = 0,
    ) -> None:
        self.id = gid
        self.fn = fn
        self.args = args  # or a KwCall
        self.p = p
        self.state = RUNNABLE
        self.wait_reason = ""
        self.greenlet: Any = None
        # The context fn runs in: a copy of the creator's, or None for an
        # empty one (the usual case, made only if fn sets a ContextVar).
        self.context = context
        self.token: Token | None = None
        self.throw_exc: BaseException | None = None
        self.parent_id = parent_id
        # The creation site: the code and instruction offset of go()'s caller.
        # Its line number is worked out only when asked for (created_line):
        # f_lineno decodes the line table on every go().
        self.created_code = created_code
        self.created_lasti = created_lasti
        # The GWaiter of this G's plain channel operations, made on first use
        # and reused: a non-select park leaves no reference to it behind.
        self.waiter: Any = None

    @property
    def is_main(self) -> bool:
        """The goroutine that run() (or the main thread) started: its P's g1."""
        p = self.p
        return p is not None and p.g1 is self

    @property
    def created_line(self) -> int:
        """The line of the go() call that created this goroutine (0: unknown)."""
        code = self.created_code
        if code is None:
            return 0
        lasti = self.created_lasti
        for start, end, line in code.co_lines():
            if start <= lasti < end:
                return line or 0
        return 0

    @property
    def name(self) -> str:
        try:
            return self._name
        except AttributeError:  # computed from fn on first read
            pass
        fn = self.fn
        if fn is None:
            name = "main" if self.is_main else "?"
        else:
            name = getattr(fn, "__qualname__", None) or repr(fn)
        self._name = name
        return name

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Goroutine.name must be a str, got {type(value).__name__}")
        self._name = value

    def __repr__(self) -> str:
        reason = f" [{self.wait_reason}]" if self.state == WAITING else ""
        return f"<Goroutine {self.id} {self.name!r} {self.state}{reason}>"


# Every live goroutine, by id (Go's allgs). Mutated under the GIL by single
# dict operations, which are atomic.
allgs: dict[int, G] = {}

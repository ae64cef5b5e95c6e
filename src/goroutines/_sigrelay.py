"""notify_context's machinery (goroutines.context.notify_context): the
signal handlers, the pipe and the goroutine that cancels the context.

It sits below goroutines.context, which passes in what it needs from there
(the cancel function, the cause for a signal, after_func).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from ._go import blocking, go
from ._runtime import panic as _panic

if TYPE_CHECKING:
    from .context import CancelCauseFunc, Context


class _SignalRelay:
    """One notify_context's handlers, pipe and watcher goroutine.

    The handler runs on the main thread between any two bytecodes, maybe
    while that thread holds a context's, a channel's or the scheduler's lock,
    so it takes none: it wins ``_once`` (a non-blocking acquire), writes the
    signal number into a pipe and puts the previous handlers back. The
    watcher goroutine, parked in blocking(os.read), cancels the context.
    stop() writes 0 instead. Exactly one byte is ever written (whoever wins
    ``_once``), and the watcher closes the pipe after reading it.

    Handlers nest: a relay installed over another one's handler passes each
    signal down to it (both contexts are cancelled, as every channel given to
    Go's signal.Notify gets the signal). A relay stopped or fired hands a
    signal it still receives to the previous handler, after putting it back
    (stop() from a thread other than the main one cannot do that itself).
    """

    __slots__ = ("_after_func", "_cancel", "_cause", "_ctx", "_once", "_prev", "_rfd", "_wfd")

    def __init__(
        self,
        ctx: Context,
        cancel: CancelCauseFunc,
        cause: Callable[[int], BaseException],
        after_func: Callable[[Context, Callable[[], object]], object],
    ) -> None:
        self._ctx = ctx
        self._cancel = cancel
        self._cause = cause  # the cause for a signal number (SignalReceived)
        self._after_func = after_func  # context.after_func (this module is below it)
        self._once = threading.Lock()
        self._prev: dict[signal.Signals, Any] = {}
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._wfd, False)

    def install(self, signals: tuple[signal.Signals, ...]) -> None:
        try:
            for sig in signals:
                self._prev[sig] = signal.signal(sig, self._handle)
        except BaseException:
            self._restore()
            os.close(self._rfd)
            os.close(self._wfd)
            raise
        go(self._watch)
        # Cancelled by its parent: stop waiting (the handlers then hand
        # signals on, as after the first signal).
        self._after_func(self._ctx, lambda: self._fire(0))

    def _watch(self) -> None:
        # Parked in blocking(): a signal may come, so nothing here is a
        # deadlock, as a Go program waiting for a signal is none.
        try:
            data = blocking(self._read)
        except BaseException:
            # Killed (run() ended without stop()): let the helper thread's
            # read end. The pipe is left open: that read may not have begun.
            self._fire(0)
            raise
        os.close(self._rfd)
        os.close(self._wfd)
        if data and data[0]:
            self._cancel(self._cause(data[0]))

    def _read(self) -> bytes:
        """On a helper thread: wait for the byte, with the relayed signals
        blocked there, so that the kernel hands them to a thread that will
        run the handler (the main thread) rather than to this one, whose
        read would just resume without waking the main thread."""
        if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
            return os.read(self._rfd, 1)
        old = signal.pthread_sigmask(signal.SIG_BLOCK, set(self._prev))
        try:
            return os.read(self._rfd, 1)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _fire(self, signum: int) -> bool:
        """Write signum for the watcher, if nobody did; whether this did."""
        if not self._once.acquire(False):
            return False
        os.write(self._wfd, bytes((signum,)))
        return True

    def _restore(self) -> None:
        """Put back the previous handlers where this relay's is still the one
        installed (a later handler installed over it keeps it as its own
        previous one, and passes signals down). Main thread only."""
        for sig, prev in self._prev.items():
            if signal.getsignal(sig) == self._handle:
                if sig == signal.SIGINT:
                    prev = _panic.sigint_handler_to_restore(prev)
                signal.signal(sig, prev if prev is not None else signal.SIG_DFL)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._deliver(signum, frame, False)

    def _deliver(self, signum: int, frame: FrameType | None, taken: bool) -> None:
        """The signal handler; taken: a relay installed over this one has
        cancelled its context with this signal already."""
        # Once the context is cancelled (by its parent too), signals are
        # handled as usual: err() is one read, no lock.
        if self._ctx.err() is None and self._fire(signum):
            taken = True
        self._restore()  # a second signal ends the program as usual
        prev = self._prev.get(signal.Signals(signum))
        below = getattr(prev, "__self__", None)
        if type(below) is _SignalRelay:
            below._deliver(signum, frame, taken)
        elif not taken:
            _pass_on(signum, frame, prev)

    def stop(self) -> None:
        self._cancel(None)
        self._fire(0)
        if threading.current_thread() is threading.main_thread():
            self._restore()


def _pass_on(signum: int, frame: FrameType | None, prev: Any) -> None:
    """Handle the signal as the handler prev would have."""
    if callable(prev):
        prev(signum, frame)
    elif prev != signal.SIG_IGN:  # the default action (or a handler set in C)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

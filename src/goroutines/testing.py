"""Helpers for tests of concurrent code: ``verify_none``, in the spirit of
uber's goleak ``VerifyNone``.

A test that returns while goroutines it started are still alive has leaked
them: blocked on a channel nobody will use again, they hold their stacks and
everything those reference until the process ends, and in a test suite they
leak into the next test. ``verify_none`` looks at every goroutine other than
its caller; those that are still finishing (a goroutine that was sent its
last value and has not run since) get a moment, with short retries, before
it fails. It fails with ``AssertionError``, as a test's assertion does, and
lists each leaked goroutine with its stack and creation site, in the layout
of ``dump()``.

Like goleak, and unlike a reachability analysis (Go's leak profile), it
counts every goroutine alive at the end, blocked forever or not: a test
should stop what it starts. Goroutines that belong to the test's fixtures,
or to a library that keeps a goroutine for the life of the process, are
ignored by their top function (the innermost function of their stack
outside this library, as goleak's ``IgnoreTopFunction``) or by their creation site (the function
that called ``go()``, as goleak's ``IgnoreCreatedBy``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import _go
from ._leaks import leaks
from ._time import sleep

__all__ = ["verify_none"]

# The retries: the first pause, the longest, and the default total.
_FIRST_PAUSE = 0.001
_MAX_PAUSE = 0.1
_DEFAULT_TIMEOUT = 1.0

_HEADER = re.compile(r"goroutine (\d+) \[")
_CREATED_BY = re.compile(r"created by (\S+) in goroutine \d+")

Ignore = str | Callable[..., Any]


def _names(what: Ignore | Iterable[Ignore]) -> frozenset[str]:
    """'module.qualname' strings from names and functions."""
    items: Iterable[Ignore] = [what] if isinstance(what, str) or callable(what) else what
    out: set[str] = set()
    for item in items:
        if isinstance(item, str):
            out.add(item)
        elif callable(item):
            module = getattr(item, "__module__", None)
            qualname = getattr(item, "__qualname__", None)
            if not isinstance(qualname, str):
                raise TypeError(f"verify_none: cannot ignore {item!r}: it has no __qualname__")
            out.add(f"{module}.{qualname}" if module else qualname)
        else:
            raise TypeError(
                f"verify_none: ignore by a function or its 'module.qualname', "
                f"got {type(item).__name__}"
            )
    return frozenset(out)


def _caller_id() -> int:
    """The caller's goroutine id; 0 on a foreign thread (not a goroutine)."""
    try:
        return _go.current().id
    except RuntimeError:
        return 0


def _top_function(block: str) -> str | None:
    """The innermost function of a dump block outside this library: the
    program's code where the goroutine is (the library's own frames, such as
    Chan.recv's, differ between the C accelerator and the pure path)."""
    for line in block.split("\n")[1:]:
        if line.startswith("created by "):
            break
        if line.endswith("(...)") and not line.startswith("goroutines."):
            return line[: -len("(...)")]
    return None


def _leaked(
    me: int, top: frozenset[str], created_by: frozenset[str], forever: bool = False
) -> list[str]:
    """The dump blocks of the goroutines that count as leaked now. Goroutine 1,
    the main goroutine, never counts: it is the program (or the test
    runner), as goleak leaves out the main goroutine's stack."""
    out: list[str] = []
    only: set[int] | None = None
    for block in _go.dump().split("\n\n"):
        block = block.strip("\n")
        m = _HEADER.match(block)
        if m is None or int(m.group(1)) in (me, 1):
            continue
        if _top_function(block) in top:
            continue
        c = _CREATED_BY.search(block)
        if c is not None and c.group(1) in created_by:
            continue
        if forever:
            if only is None:
                only = {g.id for g in leaks()}
            if int(m.group(1)) not in only:
                continue
        out.append(block)
    return out


def verify_none(
    *,
    ignore_top_function: Ignore | Iterable[Ignore] = (),
    ignore_created_by: Ignore | Iterable[Ignore] = (),
    timeout: float = _DEFAULT_TIMEOUT,
    blocked_forever: bool = False,
) -> None:
    """Fail unless no goroutine but the caller (and goroutine 1) is alive.

    Retries for up to ``timeout`` seconds (pausing 1 ms, then doubling up to
    100 ms: the caller sleeps, so the others run), as goroutines still
    finishing are not leaks. Ignores goroutines whose top function (the
    innermost function of their stack outside ``goroutines`` itself), or
    whose creator (the function that called ``go()``), is named in
    ``ignore_top_function`` / ``ignore_created_by``: a function, or its
    ``"module.qualname"`` as ``dump()`` prints it, or a list of them.
    Raises ``AssertionError`` listing each leaked goroutine with its stack
    and creation site; ``TypeError`` for an ignore entry that is neither a
    name nor a function, ``ValueError`` for a negative timeout. From a
    foreign thread every goroutine counts. ``blocked_forever=True``: only
    the goroutines that ``goroutines.leaks()`` proves blocked forever count
    (a goroutine still waiting for something reachable, such as a server
    loop, does not). Go: goleak's
    ``goleak.VerifyNone(t, opts...)``.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"verify_none: timeout must be a number, got {type(timeout).__name__}")
    if timeout < 0:
        raise ValueError(f"verify_none: negative timeout {timeout}")
    top = _names(ignore_top_function)
    created_by = _names(ignore_created_by)
    me = _caller_id()
    waited = 0.0
    pause = _FIRST_PAUSE
    while True:
        leaked = _leaked(me, top, created_by, bool(blocked_forever))
        if not leaked:
            return
        if waited >= timeout:
            break
        step = min(pause, timeout - waited)
        sleep(step)
        waited += step
        pause = min(pause * 2, _MAX_PAUSE)
    n = len(leaked)
    raise AssertionError(
        f"found {n} unexpected goroutine{'s' if n != 1 else ''} "
        f"(still alive after {timeout:g} s):\n\n" + "\n\n".join(leaked)
    )

"""Interpreter exit with other Ps (goroutines._runtime.exit)."""

from __future__ import annotations

import threading
import time
from _thread import allocate_lock

import pytest

from goroutines._runtime import exit as exit_mod

LIMIT = 10.0


class FakeP:
    """The fields of a P that _safe_at_exit reads."""

    def __init__(self) -> None:
        self.ident = 0
        self.g1 = None
        self.curg = None


@pytest.mark.parametrize("round_", range(20))
def test_a_p_counts_as_parked_only_once_it_waits_without_the_gil(round_: int) -> None:
    # _park_for_exit's two steps: the thread says it is parked, then waits for
    # good. Between them it still needs the GIL, and the interpreter must not
    # finalize: a thread taking the GIL back during finalization is stopped
    # where it is, inside its greenlet. Here the thread is held between the
    # two steps, then let go.
    between = threading.Event()
    go_on = threading.Event()
    forever = allocate_lock()
    forever.acquire()
    ident: list[int] = []
    p = FakeP()

    def parker() -> None:
        ident.append(threading.get_ident())
        exit_mod._exit_parked.add(p)  # type: ignore[arg-type]
        between.set()
        go_on.wait(LIMIT)
        exit_mod._block_forever(forever)

    t = threading.Thread(target=parker, daemon=True)
    t.start()
    try:
        assert between.wait(LIMIT)
        p.ident = ident[0]
        assert not exit_mod._safe_at_exit(p)  # type: ignore[arg-type]
        go_on.set()
        deadline = time.monotonic() + LIMIT
        while not exit_mod._safe_at_exit(p):  # type: ignore[arg-type]
            assert time.monotonic() < deadline, "the parked thread never counted as waiting"
            time.sleep(0.001)
    finally:
        exit_mod._exit_parked.discard(p)  # type: ignore[arg-type]
        forever.release()
        t.join(LIMIT)
    assert not t.is_alive()
    # A thread that has ended is safe too.
    assert exit_mod._safe_at_exit(p)  # type: ignore[arg-type]

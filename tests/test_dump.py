"""The goroutine dump's stack walks (goroutines._runtime.dump)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from goroutines import Chan, WaitGroup, current, dump, go, run
from goroutines._runtime import dump as dump_mod
from goroutines._runtime import proc
from goroutines._runtime.g import allgs


class _DeadFrame:
    """Stands for the frame a greenlet's bottom frame links to after that frame
    returned: touching it is what crashed the interpreter."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the walk went below a greenlet's bottom frame (read {name})")


def _frame(code: Any, back: Any, module: str = "user") -> SimpleNamespace:
    return SimpleNamespace(
        f_code=code, f_back=back, f_globals={"__name__": module}, f_lineno=code.co_firstlineno
    )


def test_stack_walks_stop_at_the_bottom_of_a_runtime_greenlet() -> None:
    def user_fn() -> None:
        pass

    for root in (proc._worker, proc._g0_main):
        bottom = _frame(root.__code__, _DeadFrame(), module=proc.__name__)
        top = _frame(user_fn.__code__, bottom)
        lines = dump_mod._frame_lines(top)  # type: ignore[arg-type]
        assert lines[0].endswith("user_fn(...)") and len(lines) == 2
        # A parked G's walk looks for the scheduler loop and must stop there too.
        assert dump_mod._from_park(top) is top  # type: ignore[arg-type]


def test_dumping_goroutines_running_on_another_thread_while_it_churns_workers() -> None:
    # A P on another thread starts and finishes goroutines (new worker
    # greenlets) without pause while the main thread dumps it: every walk of
    # its live stack stops at the worker's bottom frame.
    stop = threading.Event()
    started = threading.Event()

    def churn() -> None:
        def main() -> None:
            started.set()
            while not stop.is_set():
                wg = WaitGroup()
                c: Chan[int] = Chan()
                for _ in range(20):
                    wg.go(lambda: None)
                go(c.send, 1)
                c.recv()
                wg.wait()

        run(main)

    t = threading.Thread(target=churn)
    t.start()
    try:
        assert started.wait(10)
        for _ in range(300):
            text = dump()
            assert "goroutine" in text
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()


def test_a_goroutine_running_on_another_thread_is_shown_as_go_does() -> None:
    # Its frames change under any walk: Go prints no stack for it either.
    spinning = threading.Event()
    stop = threading.Event()
    ids: list[int] = []

    def main() -> None:
        ids.append(current().id)
        spinning.set()
        n = 0
        while not stop.is_set():  # runs Python code: never parks
            n += 1

    t = threading.Thread(target=run, args=(main,))
    t.start()
    try:
        assert spinning.wait(10)
        block = next(b for b in dump().split("\n\n") if b.startswith(f"goroutine {ids[0]} "))
        p = allgs[ids[0]].p
        assert p is not None and p.id != 0
        assert block.splitlines() == [
            f"goroutine {ids[0]} [running, P{p.id}]:",  # not goroutine 1's P: named
            "\tgoroutine running on other thread; stack unavailable",
        ], block
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()

"""go(): what it accepts, and what a goroutine's function may return.

A goroutine runs a plain function. An ``async def`` function passed to go()
is refused at once; a plain function that returns a coroutine (the classic
``go(lambda: fetch())``) can only be caught when it returns: the goroutine
then panics with TypeError, and the coroutine, which would never run, is
closed so that Python does not also warn that it was never awaited. Every
test runs on whichever path the process is on (the C go() port or the
Python one; both run goroutines through proc._worker).
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import goroutines
from goroutines import Chan, GoroutinePanic, go


async def fetch(x: int = 0) -> int:
    return x


def returns_a_coroutine(x: int) -> Any:
    return fetch(x)


CALLS: dict[str, Callable[[], goroutines.Goroutine]] = {
    "lambda": lambda: go(lambda: fetch()),
    "one-arg": lambda: go(returns_a_coroutine, 1),
    "many-args": lambda: go(lambda a, b, c, d, e: fetch(a), 1, 2, 3, 4, 5),
    "kwargs": lambda: go(returns_a_coroutine, x=2),
    "bound-method": lambda: go(_Holder().method),
}


class _Holder:
    def method(self) -> Any:
        return fetch()


@pytest.mark.parametrize("call", list(CALLS))
def test_goroutine_returning_a_coroutine_panics_with_type_error(call: str) -> None:
    def main() -> None:
        g = CALLS[call]()
        with pytest.raises(GoroutinePanic) as e:
            Chan[int]().recv()  # the panic is delivered here, else: Deadlock
        assert e.value.goroutine is g
        cause = e.value.__cause__
        assert type(cause) is TypeError, repr(cause)
        assert str(cause) == (
            f"{g.name} returned a coroutine (fetch) that nobody awaits: a goroutine runs "
            "a plain function, so the coroutine never runs; await it in asyncio instead"
        )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        goroutines.run(main)
        gc.collect()
    never_awaited = [w for w in caught if "never awaited" in str(w.message)]
    assert never_awaited == [], [str(w.message) for w in never_awaited]


def test_goroutine_returning_other_values_is_fine() -> None:
    def main() -> None:
        done: Chan[None] = Chan(3)
        for value in (42, "text", fetch):  # fetch itself: a function, not a coroutine
            go(lambda v=value: (done.send(None), v)[1])
        for _ in range(3):
            done.recv()
        goroutines.gosched()

    goroutines.run(main)


def test_go_refuses_an_async_function_or_a_coroutine_at_once() -> None:
    def main() -> None:
        with pytest.raises(TypeError, match="async function"):
            go(fetch)
        coro = fetch()
        try:
            with pytest.raises(TypeError, match="you called the function"):
                go(coro)  # type: ignore[arg-type]
        finally:
            coro.close()

    goroutines.run(main)


def test_a_waitgroup_goroutine_returning_a_coroutine_panics_with_type_error() -> None:
    def main() -> None:
        wg = goroutines.WaitGroup()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "coroutine ... was never awaited"
            wg.go(lambda: fetch())
            with pytest.raises(GoroutinePanic) as e:
                wg.wait()
            gc.collect()
        cause = e.value.__cause__
        assert type(cause) is TypeError, repr(cause)
        assert "returned a coroutine (fetch) that nobody awaits" in str(cause)

    goroutines.run(main)

"""goroutines.testing.verify_none: goleak's VerifyNone. These tests run
under the project's pytest plugin, which checks for leaks after each of
them too (each cleans up the goroutines it leaks on purpose)."""

from __future__ import annotations

import threading

import pytest

from goroutines import Chan, WaitGroup, go, sleep
from goroutines.testing import verify_none

pytestmark = pytest.mark.goroutines


def blocked(ch: Chan[None]) -> None:
    ch.recv()


def start_blocked(ch: Chan[None]) -> None:
    go(blocked, ch)


def test_no_goroutine_but_the_caller_passes() -> None:
    verify_none(timeout=0)


def test_goroutines_finishing_within_the_retries_pass() -> None:
    for i in range(20):
        go(sleep, 0.001 * i)
    verify_none()


def test_a_blocked_goroutine_is_reported_with_its_stack() -> None:
    ch = Chan[None]()
    go(blocked, ch)
    with pytest.raises(AssertionError) as info:
        verify_none(timeout=0.05)
    text = str(info.value)
    assert text.startswith("found 1 unexpected goroutine (still alive after 0.05 s):"), text
    assert "goroutine 2 [chan receive]:" in text, text
    assert "test_verify_none.blocked(...)" in text, text
    assert "created by test_verify_none.test_a_blocked_goroutine_is_reported_with_its_stack" \
        in text, text
    ch.close()


def test_ignore_by_top_function_and_by_creation_site() -> None:
    ch = Chan[None]()
    go(blocked, ch)
    start_blocked(ch)
    verify_none(ignore_top_function=blocked, timeout=0)
    verify_none(ignore_top_function=["test_verify_none.blocked"], timeout=0)
    with pytest.raises(AssertionError) as info:
        verify_none(ignore_created_by=start_blocked, timeout=0)
    assert str(info.value).startswith("found 1 unexpected goroutine "), info.value
    assert "created by test_verify_none.test_ignore_by_top_function" in str(info.value)
    with pytest.raises(AssertionError, match="found 2 unexpected goroutines"):
        verify_none(ignore_top_function="test_verify_none.start_blocked", timeout=0)
    ch.close()


def test_every_leak_is_listed() -> None:
    ch = Chan[None]()
    for _ in range(5):
        go(blocked, ch)
    with pytest.raises(AssertionError, match="found 5 unexpected goroutines") as info:
        verify_none(timeout=0)
    assert str(info.value).count("test_verify_none.blocked(...)") == 5
    ch.close()


def test_from_a_foreign_thread_every_goroutine_but_the_main_counts() -> None:
    ch = Chan[None]()
    wg = WaitGroup()
    wg.go(blocked, ch)
    errors: list[BaseException] = []

    def check() -> None:
        try:
            verify_none(timeout=0.01)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=check)
    t.start()
    t.join()
    assert len(errors) == 1 and "found 1 unexpected goroutine" in str(errors[0]), errors
    assert "goroutine 1 " not in str(errors[0])
    ch.close()
    wg.wait()


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="ignore by a function or its 'module\\.qualname'"):
        verify_none(ignore_top_function=[3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="negative timeout"):
        verify_none(timeout=-1)
    with pytest.raises(TypeError, match="timeout must be a number"):
        verify_none(timeout="1")  # type: ignore[arg-type]

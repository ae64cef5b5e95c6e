"""AtomicInt: every operation atomic across goroutines and real OS threads."""

from __future__ import annotations

import threading

import pytest

from _synctest import fast_switching
from goroutines import AtomicInt, WaitGroup, gosched, run


def test_operations() -> None:
    x = AtomicInt()
    assert x.load() == 0
    assert AtomicInt(7).load() == 7
    x.store(5)
    assert x.load() == 5
    assert x.add(3) == 8
    assert x.add(-10) == -2
    assert x.swap(42) == -2
    assert x.load() == 42
    assert x.compare_and_swap(42, 1)
    assert x.load() == 1
    assert not x.compare_and_swap(42, 2)
    assert x.load() == 1
    assert repr(x) == "AtomicInt(1)"


def test_values_do_not_wrap_around_at_64_bits() -> None:
    x = AtomicInt(2**63 - 1)
    assert x.add(1) == 2**63


def test_bad_types_raise_type_error() -> None:
    with pytest.raises(TypeError, match="value"):
        AtomicInt(1.5)  # type: ignore[arg-type]
    x = AtomicInt()
    with pytest.raises(TypeError, match="d"):
        x.add("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="v"):
        x.store(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="new"):
        x.compare_and_swap(0, 2.0)  # type: ignore[arg-type]
    assert x.load() == 0


def test_add_is_atomic_across_threads() -> None:
    x = AtomicInt()
    n, per = 8, 20000

    def work() -> None:
        for _ in range(per):
            x.add(1)

    with fast_switching():
        ts = [threading.Thread(target=work) for _ in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert x.load() == n * per


def test_compare_and_swap_is_atomic_across_threads() -> None:
    # A CAS loop increment: lost updates would show as a short count.
    x = AtomicInt()
    n, per = 6, 5000
    wins = [0] * n

    def work(i: int) -> None:
        for _ in range(per):
            while True:
                old = x.load()
                if x.compare_and_swap(old, old + 1):
                    wins[i] += 1
                    break

    with fast_switching():
        ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert x.load() == n * per == sum(wins)


def test_swap_hands_out_each_value_once_across_threads() -> None:
    x = AtomicInt(0)
    n, per = 4, 5000
    seen: list[list[int]] = [[] for _ in range(n)]
    counter = AtomicInt(1)

    def work(i: int) -> None:
        for _ in range(per):
            seen[i].append(x.swap(counter.add(1)))

    with fast_switching():
        ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    got = [*sorted(v for s in seen for v in s), x.load()]
    assert len(got) == len(set(got)), "a value was swapped out twice"


def test_add_from_goroutines_and_threads_together() -> None:
    def main() -> None:
        x = AtomicInt()
        wg = WaitGroup()

        def work(yielding: bool) -> None:
            for i in range(3000):
                x.add(1)
                if yielding and i % 7 == 0:
                    gosched()

        with fast_switching():
            ts = [threading.Thread(target=work, args=(False,)) for _ in range(3)]
            for t in ts:
                t.start()
            for _ in range(3):
                wg.go(work, True)
            wg.wait()
            for t in ts:
                t.join()
        assert x.load() == 6 * 3000

    run(main)

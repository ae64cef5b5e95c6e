"""The race detector's vector clocks against a plain model.

Random programs of release/acquire/fork steps by several threads on a few
synchronization clocks run on the detector's clocks (shared bases, folds,
the hand-off copies and the no-op acquires of a clock's known dominators)
and on plain dicts; after every step each clock must hold exactly the
model's entries. The fold thresholds are lowered so that the shared-base
paths run with a few dozen threads.
"""

from __future__ import annotations

import random

import pytest

from goroutines._race import detector as d


def _entries(x: d.Thread | d.SyncClock, keys: set[int]) -> dict[int, int]:
    return {k: v for k in keys if (v := x.at(k))}


def _max(a: dict[int, int], b: dict[int, int]) -> dict[int, int]:
    out = dict(a)
    for k, v in b.items():
        if v > out.get(k, 0):
            out[k] = v
    return out


class _Me:
    """Who the detector thinks runs (whatever the test process runs)."""

    t: d.Thread | None = None

    def __call__(self) -> d.Thread:
        assert self.t is not None
        return self.t


@pytest.fixture
def me(monkeypatch: pytest.MonkeyPatch) -> _Me:
    who = _Me()
    monkeypatch.setattr(d, "current", who)
    return who


def _program(me: _Me, seed: int, nthreads: int, nclocks: int, steps: int) -> None:
    rng = random.Random(seed)
    first = d.Thread(1000, {}, "thread 1000", 0)
    threads = [first]
    model_t: dict[int, dict[int, int]] = {first.tid: {first.tid: first.c}}
    clocks = [d.SyncClock() for _ in range(nclocks)]
    model_s: list[dict[int, int]] = [{} for _ in clocks]
    # A hand-off pattern most of the time (the copies' fast path), any
    # thread on any clock otherwise.
    for _ in range(steps):
        t = rng.choice(threads)
        me.t = t
        op = rng.random()
        if op < 0.05 and len(threads) < nthreads:
            vc, _site = d.fork_clock(0)
            child = d.Thread(1000 + len(threads), vc[1], "child", 0, vc[0])
            model_t[child.tid] = {**model_t[t.tid], child.tid: child.c}
            model_t[t.tid][t.tid] = t.c
            threads.append(child)
            continue
        i = rng.randrange(len(clocks)) if rng.random() < 0.3 else threads.index(t) % len(clocks)
        sc = clocks[i]
        if op < 0.55:
            d.release(sc)
            model_s[i] = _max(model_s[i], model_t[t.tid])
            model_t[t.tid][t.tid] = t.c
        else:
            d.acquire(sc)
            model_t[t.tid] = _max(model_t[t.tid], model_s[i])
        keys = set(model_t)
        for u in threads:
            assert _entries(u, keys) == model_t[u.tid], (seed, "thread", u.tid)
        for j, s in enumerate(clocks):
            assert _entries(s, keys) == model_s[j], (seed, "clock", j)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", range(12))
def test_clocks_match_the_model(seed: int, me: _Me) -> None:
    _program(me, seed, nthreads=8, nclocks=3, steps=600)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", range(6))
def test_clocks_match_the_model_with_shared_bases(
    seed: int, me: _Me, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(d, "_FOLD_MIN", 6)
    monkeypatch.setattr(d, "_ADOPT_FOLD", 3)
    _program(me, 100 + seed, nthreads=40, nclocks=4, steps=1500)


@pytest.mark.timeout(60)
def test_hand_off_copies_and_skips(me: _Me) -> None:
    """A sender and a receiver by turns: after the first exchange a release
    is a copy of the releaser's clock and an acquire of a clock the
    acquirer dominates changes nothing."""
    s, r = d.Thread(2000, {}, "s", 0), d.Thread(2001, {}, "r", 0)
    sc = d.SyncClock()
    for _ in range(5):
        me.t = s
        d.release(sc)
        assert sc.d1 is s
        assert sc.extra == {2000: s.c - 1}
        assert sc.extra is not s.extra
        me.t = r
        d.acquire(sc)
        assert sc.d2 is r
        assert r.at(2000) == s.c - 1
        before = dict(r.extra)
        d.acquire(sc)  # again: nothing new
        assert r.extra == before
    # A release by a third thread that knows less: a join, no dominator.
    u = d.Thread(2002, {}, "u", 0)
    me.t = u
    d.release(sc)
    assert sc.d1 is None and sc.d2 is None
    assert sc.at(2000) == s.c - 1 and sc.at(2002) == u.c - 1

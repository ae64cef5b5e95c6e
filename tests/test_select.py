"""select: default, nil (None) channels, recv/recv_ok/send cases, blocking,
exactly-once completion under competition from goroutines and threads."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

import goroutines
from _synctest import wait_parked, wait_until
from goroutines import (
    Chan,
    ChannelClosedError,
    Deadlock,
    after,
    go,
    gosched,
    recv,
    recv_ok,
    select,
    send,
)


def test_default_runs_when_no_case_is_ready() -> None:
    def main() -> None:
        empty: Chan[int] = Chan(1)
        full: Chan[int] = Chan(1)
        full.send(0)
        unbuffered: Chan[int] = Chan()
        got = select(
            recv(empty), send(full, 1), send(unbuffered, 2), recv_ok(unbuffered), default=True
        )
        assert got == (-1, None), got
        assert len(full) == 1 and full.recv() == 0, "a send case ran although default was taken"

    goroutines.run(main)


def test_default_is_never_taken_when_a_case_is_ready() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        for i in range(500):
            c.send(i)
            got = select(recv(c), default=True)
            assert got == (0, i), f"iteration {i}: {got}"
            got = select(send(c, i), default=True)
            assert got == (0, None), f"iteration {i}: {got}"
            assert c.recv() == i

    goroutines.run(main)


def test_default_select_pairs_with_a_blocked_partner() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        g = go(c.send, 3)
        wait_parked(g, "chan send")
        assert select(recv(c), default=True) == (0, 3)
        out: list[int | None] = []
        g = go(lambda: out.append(c.recv()))
        wait_parked(g, "chan receive")
        assert select(send(c, 4), default=True) == (0, None)
        wait_until(lambda: g.state == "dead", "the receiver")
        assert out == [4]

    goroutines.run(main)


def test_none_channel_cases_are_never_ready() -> None:
    def main() -> None:
        assert select(recv(None), recv_ok(None), send(None, 1), default=True) == (-1, None)
        c: Chan[int] = Chan(1)
        for i in range(300):
            c.send(i)
            got = select(recv(None), send(None, 5), recv(c), recv_ok(None))
            assert got == (2, i), f"iteration {i}: a None channel case ran: {got}"

    goroutines.run(main)


def test_select_over_only_none_channels_blocks_forever() -> None:
    def main() -> None:
        g = go(select, recv(None), send(None, 1))
        wait_parked(g, "select")
        with pytest.raises(Deadlock) as info:
            select(recv(None))
        text = str(info.value)
        assert text.startswith("all goroutines are asleep - deadlock!"), text
        assert f"goroutine {g.id} [select]:" in text, text

    goroutines.run(main)


def test_select_with_no_cases_blocks_forever() -> None:
    def main() -> None:
        g = go(select)
        wait_parked(g, "select (no cases)")
        gosched()
        assert g.state == "waiting", "select() returned"
        with pytest.raises(Deadlock) as info:
            select()
        text = str(info.value)
        assert text.startswith("all goroutines are asleep - deadlock!"), text
        assert "goroutine 1 [select (no cases)]:" in text, text
        assert f"goroutine {g.id} [select (no cases)]:" in text, text

    goroutines.run(main)


def test_select_with_no_cases_and_default_returns_default() -> None:
    def main() -> None:
        assert select(default=True) == (-1, None)

    goroutines.run(main)


def test_recv_ok_case_returns_value_and_ok() -> None:
    def main() -> None:
        c: Chan[int | None] = Chan(2)
        c.send(7)
        c.send(None)
        assert select(recv_ok(c)) == (0, (7, True))
        assert select(recv_ok(c)) == (0, (None, True))
        c.close()
        assert select(recv_ok(c)) == (0, (None, False))
        assert select(recv(c)) == (0, None)
        # Blocked, then woken by a send and by a close.
        d: Chan[int] = Chan()
        out: Chan[tuple[int, object]] = Chan(2)
        g = go(lambda: out.send(select(recv(None), recv_ok(d))))
        wait_parked(g, "select")
        d.send(9)
        assert out.recv() == (1, (9, True))
        g = go(lambda: out.send(select(recv_ok(d), recv(None))))
        wait_parked(g, "select")
        d.close()
        assert out.recv() == (0, (None, False))

    goroutines.run(main)


def test_recv_case_returns_none_once_closed_and_drained() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(1)
        c.close()
        assert select(recv(c)) == (0, 1)
        assert select(recv(c)) == (0, None)

    goroutines.run(main)


def test_send_case_on_a_closed_channel_raises() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        c.close()
        with pytest.raises(ChannelClosedError, match=r"^send on closed channel$"):
            select(send(c, 1))

    goroutines.run(main)


def test_blocked_send_case_raises_when_its_channel_is_closed() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        other: Chan[int] = Chan()
        out: Chan[str] = Chan(1)

        def sender() -> None:
            try:
                select(send(c, 1), recv(other))
                out.send("select returned")
            except ChannelClosedError as e:
                out.send(str(e))

        g = go(sender)
        wait_parked(g, "select")
        c.close()
        assert out.recv() == "send on closed channel"
        # The select left other's queue: a send there finds nobody.
        assert select(send(other, 1), default=True) == (-1, None)

    goroutines.run(main)


def test_select_returns_the_index_of_the_case_that_ran() -> None:
    def main() -> None:
        a: Chan[str] = Chan(1)
        b: Chan[str] = Chan(1)
        c: Chan[str] = Chan(1)
        b.send("b")
        assert select(recv(a), recv(b), send(c, "c")) in {(1, "b"), (2, None)}
        a.send("a")
        match select(recv(a), recv(None)):
            case (0, v):
                assert v == "a"
            case other:
                raise AssertionError(f"unexpected {other}")

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_select_chooses_uniformly_among_ready_cases_only() -> None:
    # Port of the idea of runtime/chan_test.go TestSelectFairness, with
    # unready and nil cases between the ready ones: a scan from a random
    # start would favour the ready case after a run of unready ones (here
    # case 3 would win 3/7 of the time instead of 1/4).
    rounds = 6000

    def main() -> list[int]:
        full = [Chan[int](rounds) for _ in range(3)]
        for c in full:
            for i in range(rounds):
                c.send(i)
        empty: Chan[int] = Chan(1)
        unbuffered: Chan[int] = Chan()
        room: Chan[int] = Chan(rounds)
        counts = [0] * 7
        for _ in range(rounds):
            i, _v = select(
                recv(full[0]),
                recv(empty),
                recv_ok(unbuffered),
                recv(full[1]),
                recv(None),
                send(room, 0),
                recv_ok(full[2]),
            )
            counts[i] += 1
        return counts

    counts = goroutines.run(main)
    assert counts[1] == counts[2] == counts[4] == 0, counts
    # expected 1500 each, standard deviation 34
    assert all(1300 < counts[i] < 1700 for i in (0, 3, 5, 6)), counts


@pytest.mark.timeout(30)
def test_select_skips_a_partner_that_already_won_elsewhere() -> None:
    # g blocks in a select over two sends; receiving from b makes its waiter
    # on a stale until g runs again. A select of this goroutine that sees
    # that waiter must not count it as a sender, whatever else is ready.
    def main() -> None:
        a: Chan[int] = Chan()
        b: Chan[int] = Chan()
        ready: Chan[int] = Chan(1000)
        for i in range(200):
            g = go(select, send(a, 1), send(b, 2))
            wait_parked(g, "select")
            assert b.recv() == 2  # g is runnable, not yet running
            assert select(recv(a), default=True) == (-1, None), f"iteration {i}"
            g = go(select, send(a, 1), send(b, 2))
            wait_parked(g, "select")
            assert b.recv() == 2
            ready.send(i)
            assert select(recv_ok(a), recv(ready)) == (1, i), f"iteration {i}"
        # a works as before: nothing was left behind on it
        go(a.send, 7)
        assert a.recv() == 7
        assert select(recv(a), default=True) == (-1, None)

    goroutines.run(main)


def test_select_times_out_with_after() -> None:
    def main() -> None:
        never: Chan[int] = Chan()
        idx, v = select(recv(never), recv(after(0.01)))
        assert idx == 1 and isinstance(v, float), (idx, v)

    goroutines.run(main)


def test_select_waits_with_reason_select() -> None:
    def main() -> None:
        a: Chan[int] = Chan()
        g = go(select, recv(a), send(a, 1))
        wait_parked(g, "select")
        assert g.wait_reason == "select" and g.state == "waiting"
        a.send(2)  # pairs with the receive case

    goroutines.run(main)


def test_select_with_the_same_channel_twice_completes_once() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        for i in range(200):
            g = go(select, send(c, 1), send(c, 2), send(c, 3))
            wait_parked(g, "select")
            v = c.recv()
            assert v in (1, 2, 3)
            assert select(recv(c), default=True) == (-1, None), f"iteration {i}: sent twice"
            wait_until(lambda g=g: g.state == "dead", "the select to return")

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_blocked_select_fires_exactly_once_among_competing_goroutines(short: bool) -> None:
    # Several goroutines block in selects over three channels, each select
    # with both receive cases and a send case to another channel; several
    # senders feed the channels. Every value is received exactly once, every
    # select completes exactly one case, and nothing is left over.
    per_selector = 200 if short else 1000
    nselectors = 5

    def main() -> None:
        chans: list[Chan[int]] = [Chan(), Chan(), Chan(1)]
        echo: Chan[tuple[int, int]] = Chan()
        results: Chan[Counter[str]] = Chan()
        received: Counter[int] = Counter()
        total = per_selector * nselectors

        def selector(k: int) -> None:
            count: Counter[str] = Counter()
            for i in range(per_selector):
                idx, v = select(
                    recv(chans[0]), recv_ok(chans[1]), recv(chans[2]), send(echo, (k, i))
                )
                if idx == 3:
                    count["sent"] += 1
                else:
                    value = v[0] if idx == 1 else v
                    assert isinstance(value, int), (idx, v)
                    received[value] += 1
                    count["received"] += 1
            results.send(count)

        def feeder(start: int, n: int) -> None:
            rng = random.Random(start)
            for v in range(start, start + n):
                chans[rng.randrange(3)].send(v)

        for k in range(nselectors):
            go(selector, k)
        # The selectors take between 0 and `total` values from the feeders;
        # an echo receiver consumes what they send; we stop when all are done.
        echoed: Counter[tuple[int, int]] = Counter()
        done_selectors = 0
        sums: Counter[str] = Counter()
        feeding: list[goroutines.Goroutine] = []
        next_value = 0
        while done_selectors < nselectors:
            if len(feeding) < 3:
                feeding.append(go(feeder, next_value, 1))
                next_value += 1
            idx, v = select(recv(echo), recv(results))
            if idx == 0:
                echoed[v] += 1
            else:
                sums += v
                done_selectors += 1
            feeding = [g for g in feeding if g.state != "dead"]
        assert sums["sent"] + sums["received"] == total, sums
        assert sums["sent"] == sum(echoed.values()), (sums, len(echoed))
        assert all(n == 1 for n in echoed.values()), "an echo value arrived twice"
        assert all(n == 1 for n in received.values()), "a value was received twice"
        # The values nobody received are held by blocked feeders or sit in
        # chans[2]'s buffer.
        wait_until(
            lambda: all(g.state in ("dead", "waiting") for g in feeding), "feeders to settle"
        )
        leftover = sum(g.state == "waiting" for g in feeding) + len(chans[2])
        assert len(received) + leftover == next_value, (len(received), leftover, next_value)

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_select_in_plain_threads_fires_exactly_once(short: bool, racy: None) -> None:
    # Threads block in selects (their waiters share one token and one lock)
    # against goroutines sending on both channels: each value is received once.
    n = 300 if short else 1500

    def main() -> None:
        a: Chan[int] = Chan()
        b: Chan[int] = Chan()
        got: Chan[list[int]] = Chan()

        def thread_receiver() -> None:
            values = []
            while True:
                _, (value, ok) = select(recv_ok(a), recv_ok(b))
                if not ok:
                    break
                values.append(value)
            got.send(values)

        threads = [threading.Thread(target=thread_receiver) for _ in range(3)]
        for t in threads:
            t.start()

        def sender(ch: Chan[int], start: int) -> None:
            for v in range(start, start + n):
                ch.send(v)

        done: Chan[None] = Chan()
        go(lambda: (sender(a, 0), done.send(None)))
        go(lambda: (sender(b, n), done.send(None)))
        done.recv()
        done.recv()
        a.close()
        values: list[int] = []
        for _ in threads:
            values += got.recv() or []
        for t in threads:
            t.join()
        assert sorted(values) == list(range(2 * n)), (
            f"{len(values)} values received, {len(set(values))} distinct, expected {2 * n}"
        )

    goroutines.run(main)


def test_select_sends_exactly_one_value_when_several_receivers_wait() -> None:
    def main() -> None:
        a: Chan[str] = Chan()
        b: Chan[str] = Chan()
        out: Chan[str | None] = Chan(10)
        for ch in (a, a, b, b):
            g = go(lambda ch=ch: out.send(ch.recv()))
            wait_parked(g, "chan receive")
        for i in range(4):
            idx, _ = select(send(a, f"a{i}"), send(b, f"b{i}"))
            assert idx in (0, 1)
        got = sorted(out.recv() or "" for _ in range(4))
        assert [s[0] for s in got] == ["a", "a", "b", "b"], got
        assert select(recv(out), default=True) == (-1, None)

    goroutines.run(main)


def test_select_is_usable_from_a_foreign_thread_with_a_timeout() -> None:
    box: list[tuple[int, object]] = []

    def thread() -> None:
        c: Chan[int] = Chan()
        box.append(select(recv(c), recv(after(0.01))))

    t = threading.Thread(target=thread)
    t.start()
    t.join(10)
    assert not t.is_alive(), "select in a thread never timed out"
    assert box and box[0][0] == 1, box


@pytest.mark.parametrize("bad", ["yes", 1, 0, None, [True]], ids=repr)
def test_select_default_must_be_a_bool(bad: object) -> None:
    # Go's default is syntax; here it is a flag, and anything but a bool
    # (a truthy string among them) is a mistake - the same TypeError on both
    # paths, with cases, on a None channel only, and with none.
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(1)
        for cases in ((recv(c),), (recv(None),), ()):
            with pytest.raises(TypeError) as e:
                select(*cases, default=bad)  # type: ignore[arg-type]
            assert str(e.value) == f"select: default must be a bool, got {type(bad).__name__}"
        assert len(c) == 1  # nothing was received
        assert select(recv(c), default=True) == (0, 1)
        assert c.try_send(2) and select(recv(c), default=False) == (0, 2)

    goroutines.run(main)

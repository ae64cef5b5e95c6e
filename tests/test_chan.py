"""Channels: Chan[T], its directional views, close, range, and Go's chan tests.

Every test runs inside goroutines.run(), so it starts with a clean runtime and
leaves none of its goroutines behind. Tests that need a real race between
OS threads use plain threads, which block on channels as threads.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

import goroutines
from _synctest import wait_parked, wait_until
from goroutines import (
    Chan,
    ChannelClosedError,
    RecvChan,
    SendChan,
    go,
    gosched,
    recv,
    recv_ok,
    select,
    send,
)


def start_thread(fn: Callable[..., Any], *args: Any) -> threading.Thread:
    # Not a daemon: a live non-daemon thread is a possible waker from its
    # start, before its first channel operation (daemon ones only briefly).
    t = threading.Thread(target=fn, args=args)
    t.start()
    return t


# ---------------------------------------------------------------------------
# Ports of Go's runtime/chan_test.go


@pytest.mark.timeout(30)
def test_chan(short: bool) -> None:
    # Port of runtime/chan_test.go TestChan.
    n = 20 if short else 60
    per_sender = 100

    def main() -> None:
        for cap_ in range(n):
            # A receive from an empty channel blocks until a send.
            c: Chan[int] = Chan(cap_)
            got: list[int | None] = []
            g = go(lambda c=c, got=got: got.append(c.recv()))
            wait_parked(g, "chan receive")
            assert got == [], f"chan[{cap_}]: receive from an empty channel did not block"
            c.send(0)
            wait_until(lambda g=g: g.state == "dead", "the receiver to finish")
            assert got == [0], f"chan[{cap_}]: receiver got {got}"

            # A non-blocking receive from an empty channel takes the default.
            idx, _ = select(recv(c), default=True)
            assert idx == -1, f"chan[{cap_}]: non-blocking receive from an empty channel ran"

            # A send to a full channel blocks until a receive.
            for i in range(cap_):
                c.send(i)
            sent: list[bool] = []
            g = go(lambda c=c, sent=sent: (c.send(7), sent.append(True)))
            wait_parked(g, "chan send")
            assert sent == [], f"chan[{cap_}]: send to a full channel did not block"
            assert c.recv() == (0 if cap_ > 0 else 7)
            wait_until(lambda g=g: g.state == "dead", "the sender to finish")
            assert sent == [True]
            for i in range(1, cap_):
                assert c.recv() == i
            if cap_ > 0:
                assert c.recv() == 7, f"chan[{cap_}]: the blocked send's value got lost"

            # A closed channel yields the zero value (None), with ok False.
            c.close()
            for _ in range(3):
                assert c.recv() is None
                assert c.recv_ok() == (None, False)

            # Close wakes a blocked receiver.
            c = Chan(cap_)
            done: Chan[tuple[Any, bool]] = Chan(1)
            g = go(lambda c=c, done=done: done.send(c.recv_ok()))
            wait_parked(g, "chan receive")
            c.close()
            assert done.recv() == (None, False), f"chan[{cap_}]: close did not wake the receiver"

            # Values come out uncorrupted and in FIFO order, with recv and recv_ok.
            for use_ok in (False, True):
                c = Chan(cap_)

                def producer(c: Chan[int] = c) -> None:
                    for i in range(100):
                        c.send(i)

                go(producer)
                for i in range(100):
                    if use_ok:
                        v, ok = c.recv_ok()
                        assert ok, f"chan[{cap_}]: recv_ok not ok at {i}"
                    else:
                        v = c.recv()
                    assert v == i, f"chan[{cap_}]: received {v}, expected {i}"

            # Four senders, four receivers: everyone gets what was sent.
            c = Chan(cap_)
            results: Chan[dict[int, int]] = Chan()

            def sender(c: Chan[int] = c) -> None:
                for i in range(per_sender):
                    c.send(i)

            def receiver(c: Chan[int] = c, results: Chan[dict[int, int]] = results) -> None:
                seen: dict[int, int] = {}
                for _ in range(per_sender):
                    v = c.recv()
                    assert v is not None
                    seen[v] = seen.get(v, 0) + 1
                results.send(seen)

            for _ in range(4):
                go(sender)
                go(receiver)
            total: dict[int, int] = {}
            for _ in range(4):
                for k, v in results.recv().items():  # type: ignore[union-attr]
                    total[k] = total.get(k, 0) + v
            assert total == {i: 4 for i in range(per_sender)}, f"chan[{cap_}]: got {total}"

            # len and cap.
            c = Chan(cap_)
            assert len(c) == 0 and c.cap == cap_, f"chan[{cap_}]: len {len(c)} cap {c.cap}"
            for i in range(cap_):
                c.send(i)
            assert len(c) == cap_ and c.cap == cap_, f"chan[{cap_}]: len {len(c)} cap {c.cap}"

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_nonblock_recv_race(short: bool, racy: None) -> None:
    # Port of runtime/chan_test.go TestNonblockRecvRace.
    # A channel that holds a value, or is closed, is always ready: a
    # non-blocking receive racing with close() must never take the default.
    n = 300 if short else 2000

    def main() -> None:
        failures: list[int] = []
        for i in range(n):
            c: Chan[int] = Chan(1)
            c.send(1)
            done = threading.Event()

            def poll(c: Chan[int] = c, i: int = i, done: threading.Event = done) -> None:
                idx, _ = select(recv(c), default=True)
                if idx == -1:
                    failures.append(i)
                done.set()

            start_thread(poll)
            c.close()
            c.recv()  # the value or the close: either way it does not block
            done.wait()
        assert not failures, f"non-blocking receive took the default at iterations {failures[:10]}"

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_nonblock_select_race(short: bool, racy: None) -> None:
    # Port of runtime/chan_test.go TestNonblockSelectRace.
    # At every moment c1 or c2 holds a value, so a select over both with a
    # default must always find one ready, even while another thread moves them.
    n = 300 if short else 2000

    def main() -> None:
        done: Chan[bool] = Chan(1)
        for i in range(n):
            c1: Chan[int] = Chan(1)
            c2: Chan[int] = Chan(1)
            c1.send(1)

            def poll(c1: Chan[int] = c1, c2: Chan[int] = c2) -> None:
                idx, _ = select(recv(c1), recv(c2), default=True)
                done.send(idx != -1)

            start_thread(poll)
            c2.send(1)
            select(recv(c1), default=True)
            assert done.recv(), f"iteration {i}: no channel was ready"

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_nonblock_select_race2(short: bool, racy: None) -> None:
    # Port of runtime/chan_test.go TestNonblockSelectRace2: the same with a close.
    n = 300 if short else 2000

    def main() -> None:
        done: Chan[bool] = Chan(1)
        for i in range(n):
            c1: Chan[int] = Chan(1)
            c2: Chan[int] = Chan()
            c1.send(1)

            def poll(c1: Chan[int] = c1, c2: Chan[int] = c2) -> None:
                idx, _ = select(recv(c1), recv(c2), default=True)
                done.send(idx != -1)

            start_thread(poll)
            c2.close()
            select(recv(c1), default=True)
            assert done.recv(), f"iteration {i}: no channel was ready"

    goroutines.run(main)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("cap_", [0, 10])
def test_self_select(cap_: int, short: bool) -> None:
    # Port of runtime/chan_test.go TestSelfSelect.
    # Goroutines run selects that both send to and receive from one channel;
    # on an unbuffered channel a select must never hand its value to itself.
    iters = 300 if short else 1000

    def main() -> None:
        c: Chan[int] = Chan(cap_)
        wg_done: Chan[None] = Chan()
        errors: list[str] = []

        def worker(p: int) -> None:
            for i in range(iters):
                # Go varies the order of the cases; the outcome must not care.
                if p == 0 or i % 2 == 0:
                    idx, v = select(send(c, p), recv(c))
                    if idx == 1 and cap_ == 0 and v == p:
                        errors.append(f"goroutine {p} received its own value at {i}")
                else:
                    idx, v = select(recv(c), send(c, p))
                    if idx == 0 and cap_ == 0 and v == p:
                        errors.append(f"goroutine {p} received its own value at {i}")
            wg_done.send(None)

        for p in range(2):
            go(worker, p)
        for _ in range(2):
            wg_done.recv()
        assert not errors, errors[:5]

    goroutines.run(main)


def test_self_select_with_several_goroutines(short: bool) -> None:
    # Five goroutines each loop on a select that offers its own id on an
    # unbuffered channel and accepts any value from it: a select can only
    # ever receive another goroutine's id. They stop when quit is closed.
    target = 1000 if short else 5000

    def main() -> None:
        c: Chan[int] = Chan()
        quit_: Chan[None] = Chan()
        results: Chan[list[str]] = Chan()
        done = [0]

        def worker(p: int) -> None:
            errors = []
            i = 0
            while True:
                i += 1
                receive = recv(c)
                cases = [send(c, p), receive, recv(quit_)]
                if i % 2:
                    cases[0], cases[1] = cases[1], cases[0]
                idx, v = select(*cases)
                if idx == 2:
                    break
                done[0] += 1
                if cases[idx] is receive and v == p:
                    errors.append(f"goroutine {p} received its own value at {i}")
            results.send(errors)

        for p in range(5):
            go(worker, p)
        wait_until(lambda: done[0] >= target, f"{target} completed selects", rounds=10 * target)
        quit_.close()
        errors: list[str] = []
        for _ in range(5):
            errors += results.recv() or []
        assert not errors, errors[:5]

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_select_stress(short: bool) -> None:
    # Port of runtime/chan_test.go TestSelectStress.
    # Four channels (two unbuffered, caps 2 and 3). Per channel: a plain
    # sender and a plain receiver of N values, plus a select that sends N
    # values on all four and one that receives N from all four (a case is
    # switched off, Go's nil channel, when its N are done).
    n = 1000 if short else 5000

    def main() -> None:
        chans: list[Chan[int]] = [Chan(0), Chan(0), Chan(2), Chan(3)]
        done: Chan[str] = Chan()
        received: list[int] = [0, 0, 0, 0]

        def plain_sender(k: int) -> None:
            for i in range(n):
                chans[k].send(i)
            done.send(f"sender {k}")

        def plain_receiver(k: int) -> None:
            for _ in range(n):
                chans[k].recv()
                received[k] += 1
            done.send(f"receiver {k}")

        def select_sender() -> None:
            counts = [0, 0, 0, 0]
            live: list[Chan[int] | None] = list(chans)
            while any(ch is not None for ch in live):
                idx, _ = select(*(send(ch, 1) for ch in live))
                counts[idx] += 1
                if counts[idx] == n:
                    live[idx] = None
            done.send("select sender")

        def select_receiver() -> None:
            counts = [0, 0, 0, 0]
            live: list[Chan[int] | None] = list(chans)
            while any(ch is not None for ch in live):
                idx, _ = select(*(recv(ch) for ch in live))
                counts[idx] += 1
                received[idx] += 1
                if counts[idx] == n:
                    live[idx] = None
            done.send("select receiver")

        for k in range(4):
            go(plain_sender, k)
            go(plain_receiver, k)
        go(select_sender)
        go(select_receiver)
        finished = sorted(done.recv() or "" for _ in range(10))
        assert len(finished) == 10
        assert received == [2 * n] * 4, f"received per channel {received}, expected {2 * n}"

    goroutines.run(main)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("ncases", [2, 3, 4])
def test_select_fairness(ncases: int, short: bool) -> None:
    # Port of runtime/chan_test.go TestSelectFairness, for 2 to 4 ready cases.
    # Every case is always ready; a fair select picks each with probability
    # 1/k. Each count must lie within 6 standard deviations of its mean
    # (a false alarm has probability below 1e-8), which still catches any
    # bias above about 4% of the mean.
    trials = 6000 if short else 30_000

    def main() -> None:
        chans: list[Chan[int]] = [Chan(trials + 1) for _ in range(ncases)]
        for k, ch in enumerate(chans):
            for _ in range(trials + 1):
                ch.send(k)
        never: Chan[int] = Chan()  # an unready case among the ready ones
        counts = [0] * ncases
        cases = [recv(never), *(recv(ch) for ch in chans), recv(None)]
        for _ in range(trials):
            idx, v = select(*cases)
            assert idx == v + 1, f"case {idx} returned the value of channel {v}"
            counts[v] += 1
        p = 1 / ncases
        mean = trials * p
        sd = (trials * p * (1 - p)) ** 0.5
        for k, got in enumerate(counts):
            assert abs(got - mean) <= 6 * sd, (
                f"unfair select over {ncases} ready cases: counts {counts}, mean {mean:.0f}, "
                f"sd {sd:.1f}; case {k} is {abs(got - mean) / sd:.1f} sd off"
            )

    goroutines.run(main)


@pytest.mark.parametrize("cap_", [0, 100])
def test_pseudo_random_send(cap_: int) -> None:
    # Port of runtime/chan_test.go TestPseudoRandomSend.
    # A select with two send cases on one channel sends 0 or 1 at random.
    n = 100

    def main() -> None:
        c: Chan[int] = Chan(cap_)
        got: Chan[list[int]] = Chan()

        def reader() -> None:
            values = []
            for _ in range(n):
                gosched()
                v = c.recv()
                assert v is not None
                values.append(v)
            got.send(values)

        go(reader)
        for _ in range(n):
            select(send(c, 1), send(c, 0))
        values = got.recv() or []
        ones = sum(values)
        zeros = n - ones
        assert zeros > n // 10 and ones > n // 10, (
            f"want pseudo-random sends, got {zeros} zeros and {ones} ones (chan cap {cap_})"
        )

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_multi_consumer(short: bool) -> None:
    # Port of runtime/chan_test.go TestMultiConsumer.
    # 23 workers move values from one buffered channel to another, some
    # yielding at random; every value arrives exactly once.
    nwork = 23
    niter = 5000 if short else 27_183

    def main() -> None:
        q: Chan[int] = Chan(nwork * 3)
        r: Chan[int] = Chan(nwork * 3)
        finished: Chan[None] = Chan()
        rng = random.Random(271828)

        def worker() -> None:
            for v in q:
                if rng.random() < 0.3:
                    gosched()
                r.send(v)
            finished.send(None)

        def closer() -> None:
            for _ in range(nwork):
                finished.recv()
            r.close()

        for _ in range(nwork):
            go(worker)
        go(closer)

        def producer() -> None:
            for i in range(niter):
                q.send(i)
            q.close()

        go(producer)
        expected_sum = niter * (niter - 1) // 2
        count = 0
        total = 0
        for v in r:
            count += 1
            total += v
        assert count == niter and total == expected_sum, (
            f"received {count} values summing to {total}, expected {niter} summing to "
            f"{expected_sum}"
        )

    goroutines.run(main)


def test_select_duplicate_channel() -> None:
    # Port of runtime/chan_test.go TestSelectDuplicateChannel.
    # One select queues twice on c (and once on d). When d wins, both of its
    # waiters must leave c's queue, so a later send on c reaches the receiver
    # that queued after it.
    def main() -> None:
        c: Chan[int] = Chan()
        d: Chan[int] = Chan()
        e: Chan[int] = Chan()

        def a() -> None:
            select(recv(c), recv(c), recv(d))
            e.send(9)

        ga = go(a)
        wait_parked(ga, "select")
        got: list[int | None] = []
        gb = go(lambda: got.append(c.recv()))
        wait_parked(gb, "chan receive")
        d.send(7)  # wakes a; it must take both of its waiters off c
        assert e.recv() == 9
        c.send(8)  # must reach b, not the select that already finished
        wait_until(lambda: gb.state == "dead", "b to receive")
        assert got == [8]

    goroutines.run(main)


@pytest.mark.timeout(30)
def test_close_races_with_senders_receivers_and_selects(short: bool, racy: None) -> None:
    # Close from a plain thread while goroutines are blocked in send, recv
    # and select on the channel, and while a thread sends: every blocked
    # receiver sees the close, every blocked sender raises, nothing hangs,
    # and no value is received that was not sent.
    rounds = 100 if short else 400

    def main() -> None:
        for r in range(rounds):
            c: Chan[int] = Chan(r % 3)
            results: Chan[str] = Chan(16)

            def receiver(c: Chan[int] = c, results: Chan[str] = results) -> None:
                while True:
                    v, ok = c.recv_ok()
                    if not ok:
                        results.send("closed")
                        return
                    if v not in (1, 2):
                        results.send(f"bad value {v}")

            def sender(c: Chan[int] = c, results: Chan[str] = results) -> None:
                try:
                    while True:
                        c.send(1)
                except ChannelClosedError as e:
                    results.send(str(e))

            def selector(c: Chan[int] = c, results: Chan[str] = results) -> None:
                try:
                    while True:
                        idx, v = select(recv_ok(c), send(c, 2))
                        if idx == 0 and not v[1]:
                            results.send("closed")
                            return
                except ChannelClosedError as e:
                    results.send(str(e))

            def thread_sender(c: Chan[int] = c, results: Chan[str] = results) -> None:
                try:
                    for _ in range(50):
                        c.send(1)
                    results.send("thread done")
                except ChannelClosedError as e:
                    results.send(str(e))

            go(receiver)
            go(receiver)
            go(sender)
            go(selector)
            t = start_thread(thread_sender)
            # Start the closer before main parks: a selector alone with a
            # buffered channel can spin through it without ever parking, and
            # goroutines are not preempted.
            closer = start_thread(c.close)
            outcomes = [results.recv() for _ in range(5)]
            closer.join()
            t.join()
            allowed = {"closed", "send on closed channel", "thread done"}
            assert set(outcomes) <= allowed, f"round {r}: outcomes {outcomes}"
            assert outcomes.count("closed") >= 2, f"round {r}: outcomes {outcomes}"

    goroutines.run(main)


# ---------------------------------------------------------------------------
# Our own channel tests


def test_unbuffered_send_returns_only_after_a_receiver_took_the_value() -> None:
    def main() -> None:
        c: Chan[str] = Chan()
        trace: list[str] = []

        def sender() -> None:
            trace.append("send start")
            c.send("x")
            trace.append("send returned")

        g = go(sender)
        wait_parked(g, "chan send")
        assert trace == ["send start"], trace
        trace.append("recv " + str(c.recv()))
        wait_until(lambda: g.state == "dead", "the sender to return")
        assert trace == ["send start", "recv x", "send returned"], trace

    goroutines.run(main)


def test_unbuffered_send_from_main_completes_when_a_goroutine_receives() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        took: list[int | None] = []

        def receiver() -> None:
            took.append(c.recv())

        go(receiver)
        c.send(5)
        assert took == [5], "send returned before the receiver had the value"

    goroutines.run(main)


def test_buffered_channel_is_fifo_and_does_not_block_until_full() -> None:
    def main() -> None:
        c: Chan[int] = Chan(5)
        for i in range(5):
            c.send(i)  # never blocks: main would deadlock otherwise
            assert len(c) == i + 1
        assert [c.recv() for _ in range(5)] == [0, 1, 2, 3, 4]
        assert len(c) == 0

    goroutines.run(main)


@pytest.mark.parametrize("cap_", [0, 2])
def test_blocked_senders_are_served_fifo(cap_: int) -> None:
    def main() -> None:
        c: Chan[int] = Chan(cap_)
        for i in range(cap_):
            c.send(-1 - i)
        for i in range(6):
            g = go(c.send, i)
            wait_parked(g, "chan send")
        got = [c.recv() for _ in range(cap_ + 6)]
        assert got == [-1 - i for i in range(cap_)] + list(range(6)), got

    goroutines.run(main)


def test_blocked_receivers_are_served_fifo() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        order: Chan[tuple[int, int | None]] = Chan(10)
        for i in range(6):
            g = go(lambda i=i: order.send((i, c.recv())))
            wait_parked(g, "chan receive")
        for v in range(100, 106):
            c.send(v)
        got = sorted(order.recv() for _ in range(6))  # type: ignore[type-var]
        assert got == [(i, 100 + i) for i in range(6)], got

    goroutines.run(main)


def test_close_wakes_every_blocked_receiver_with_none_false() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        out: Chan[tuple[int | None, bool]] = Chan(10)
        gs = [go(lambda: out.send(c.recv_ok())) for _ in range(5)]
        for g in gs:
            wait_parked(g, "chan receive")
        c.close()
        got = [out.recv() for _ in range(5)]
        assert got == [(None, False)] * 5, got

    goroutines.run(main)


def test_close_wakes_blocked_senders() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.send(0)
        out: Chan[str] = Chan(10)

        def sender(i: int) -> None:
            try:
                c.send(i)
                out.send("sent")
            except ChannelClosedError as e:
                out.send(str(e))

        gs = [go(sender, i) for i in range(5)]
        for g in gs:
            wait_parked(g, "chan send")
        c.close()
        got = [out.recv() for _ in range(5)]
        assert got == ["send on closed channel"] * 5, got
        assert c.recv_ok() == (0, True), "the buffered value must survive the close"
        assert c.recv_ok() == (None, False)

    goroutines.run(main)


def test_receivers_drain_the_buffer_before_seeing_the_close() -> None:
    def main() -> None:
        c: Chan[int | None] = Chan(3)
        c.send(1)
        c.send(None)
        c.send(3)
        c.close()
        assert len(c) == 3
        assert c.recv_ok() == (1, True)
        assert c.recv_ok() == (None, True)
        assert c.recv() == 3
        assert c.recv_ok() == (None, False)
        assert c.recv() is None

    goroutines.run(main)


def test_send_on_closed_channel_raises() -> None:
    def main() -> None:
        for cap_ in (0, 1):
            c: Chan[int] = Chan(cap_)
            c.close()
            with pytest.raises(ChannelClosedError, match=r"^send on closed channel$"):
                c.send(1)
            with pytest.raises(ChannelClosedError, match=r"^send on closed channel$"):
                select(send(c, 1))
            with pytest.raises(ChannelClosedError, match=r"^send on closed channel$"):
                select(send(c, 1), default=True)

    goroutines.run(main)


def test_close_twice_raises() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        c.close()
        with pytest.raises(ChannelClosedError, match=r"^close of closed channel$"):
            c.close()
        with pytest.raises(ChannelClosedError, match=r"^close of closed channel$"):
            c.send_only().close()

    goroutines.run(main)


def test_channel_closed_error_is_a_runtime_error() -> None:
    assert issubclass(ChannelClosedError, RuntimeError)


def test_for_loop_ends_on_the_ok_flag_not_on_none() -> None:
    def main() -> None:
        c: Chan[int | None] = Chan()

        def producer() -> None:
            for v in (1, None, 2, None):
                c.send(v)
            c.close()

        go(producer)
        assert list(c) == [1, None, 2, None]

    goroutines.run(main)


def test_for_loop_over_a_closed_empty_channel_ends_at_once() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        c.close()
        assert list(c) == []
        assert list(c.recv_only()) == []

    goroutines.run(main)


def test_recv_only_view_lacks_the_send_side() -> None:
    c: Chan[int] = Chan(1)
    r = c.recv_only()
    for name in ("send", "close", "try_send", "send_only"):
        with pytest.raises(AttributeError):
            getattr(r, name)
    assert not hasattr(r, "send")


def test_send_only_view_lacks_the_receive_side() -> None:
    c: Chan[int] = Chan(1)
    s = c.send_only()
    for name in ("recv", "recv_ok", "try_recv", "recv_only", "__iter__"):
        with pytest.raises(AttributeError):
            getattr(s, name)
    with pytest.raises(TypeError):
        iter(s)  # type: ignore[call-overload]


def test_views_compare_and_hash_equal_to_their_channel() -> None:
    c: Chan[int] = Chan(1)
    other: Chan[int] = Chan(1)
    r, s = c.recv_only(), c.send_only()
    assert r == c and c == r and s == c and c == s and r == s and s == r
    assert hash(r) == hash(c) == hash(s)
    assert r != other and s != other and other != r
    assert c.recv_only() == r and c.send_only() == s
    assert len({c, r, s}) == 1
    assert {c: "x"}[r] == "x"


def test_views_share_the_channel_state() -> None:
    def main() -> None:
        c: Chan[int] = Chan(2)
        s, r = c.send_only(), c.recv_only()
        s.send(1)
        assert len(r) == 1 and r.cap == 2 and len(s) == 1 and s.cap == 2
        assert r.recv() == 1
        s.send(2)
        assert r.recv_ok() == (2, True)
        s.close()
        assert r.recv_ok() == (None, False)

    goroutines.run(main)


def test_views_work_in_select_as_their_channel() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        idx, v = select(send(c.send_only(), 4))
        assert (idx, v) == (0, None)
        idx, v = select(recv(c.recv_only()))
        assert (idx, v) == (0, 4)
        go(c.send, 5)
        assert select(recv_ok(c.recv_only())) == (0, (5, True))
        # A select over a channel and its view sees one channel.
        c.send(6)
        idx, v = select(recv(c), recv(c.recv_only()))
        assert v == 6 and idx in (0, 1)
        assert select(recv(c), recv(c.recv_only()), default=True) == (-1, None)

    goroutines.run(main)


def test_chan_satisfies_the_directional_protocols() -> None:
    c: Chan[int] = Chan()
    assert isinstance(c, RecvChan) and isinstance(c, SendChan)
    assert isinstance(c.recv_only(), RecvChan) and not isinstance(c.recv_only(), SendChan)
    assert isinstance(c.send_only(), SendChan) and not isinstance(c.send_only(), RecvChan)


def test_chan_is_generic_at_runtime() -> None:
    c = Chan[int](3)
    assert c.cap == 3 and isinstance(c, Chan)


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_capacity_raises_value_error(bad: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        Chan(bad)


@pytest.mark.parametrize("bad", [1.5, "3", None, True, [1]])
def test_non_int_capacity_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="capacity"):
        Chan(bad)  # type: ignore[arg-type]


class _BigInt(int):
    pass


@pytest.mark.parametrize(
    "bad",
    [2**100, sys.maxsize + 1, 10**30, _BigInt(2**64)],
    ids=["2**100", "maxsize+1", "10**30", "int-subclass"],
)
def test_capacity_beyond_sys_maxsize_is_out_of_range(bad: int) -> None:
    # Go: make(chan T, n) with a buffer larger than memory panics
    # "makechan: size out of range"; no buffer here can hold more than
    # sys.maxsize values (len() could not count them). The same error on both
    # paths (the accelerator's Chan.__init__ hands the case to its twin), by
    # position and by keyword.
    expected = (
        f"Chan capacity must be <= sys.maxsize ({sys.maxsize}), got {int(bad)} "
        "(makechan: size out of range)"
    )
    for make in (lambda: Chan(bad), lambda: Chan[int](capacity=bad)):
        with pytest.raises(ValueError) as e:
            make()
        assert str(e.value) == expected


def test_capacity_up_to_sys_maxsize_is_accepted_and_negative_ones_are_out_of_range() -> None:
    def main() -> None:
        huge: Chan[int] = Chan(sys.maxsize)  # as good as unbounded
        for i in range(100):
            huge.send(i)
        assert len(huge) == 100 and huge.cap == sys.maxsize and huge.recv() == 0
        for bad in (-1, -(2**100)):
            with pytest.raises(ValueError) as e:
                Chan(bad)
            assert str(e.value) == (
                f"Chan capacity must be >= 0, got {bad} (makechan: size out of range)"
            )

    goroutines.run(main)


def test_select_rejects_an_argument_that_is_not_a_case() -> None:
    def main() -> None:
        c: Chan[int] = Chan(1)
        for bad in (c, 3, None, (c, 1)):
            with pytest.raises(TypeError, match="recv\\(ch\\)"):
                select(recv(c), bad)  # type: ignore[arg-type]

    goroutines.run(main)


def test_recv_case_on_a_send_only_view_raises_type_error() -> None:
    c: Chan[int] = Chan()
    with pytest.raises(TypeError, match="send-only"):
        recv(c.send_only())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="send-only"):
        recv_ok(c.send_only())  # type: ignore[arg-type]


def test_send_case_on_a_recv_only_view_raises_type_error() -> None:
    c: Chan[int] = Chan()
    with pytest.raises(TypeError, match="receive-only"):
        send(c.recv_only(), 1)  # type: ignore[arg-type]


def test_case_on_something_that_is_not_a_channel_raises_type_error() -> None:
    with pytest.raises(TypeError, match="channel"):
        recv([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="channel"):
        send("chan", 1)  # type: ignore[arg-type]


def test_len_and_cap_of_unbuffered_channel_are_zero_even_with_waiters() -> None:
    def main() -> None:
        c: Chan[int] = Chan()
        g = go(c.send, 1)
        wait_parked(g, "chan send")
        assert len(c) == 0 and c.cap == 0
        assert c.recv() == 1

    goroutines.run(main)


def test_channel_connects_a_goroutine_and_a_plain_thread(short: bool) -> None:
    n = 200 if short else 2000

    def main() -> None:
        to_thread: Chan[int] = Chan()
        from_thread: Chan[int] = Chan(3)

        def echo() -> None:
            for v in to_thread:
                from_thread.send(v * 2)
            from_thread.close()

        t = start_thread(echo)

        def feeder() -> None:
            for i in range(n):
                to_thread.send(i)
            to_thread.close()

        go(feeder)
        got = list(from_thread)
        t.join()
        assert got == [2 * i for i in range(n)], f"first mismatch in {got[:10]}..."

    goroutines.run(main)


def test_plain_threads_send_in_fifo_order_per_sender(racy: None, short: bool) -> None:
    n = 300 if short else 2000

    def main() -> None:
        c: Chan[tuple[int, int]] = Chan(4)
        threads = [start_thread(lambda k=k: [c.send((k, i)) for i in range(n)]) for k in range(3)]
        last = [-1, -1, -1]
        for _ in range(3 * n):
            v = c.recv()
            assert v is not None
            k, i = v
            assert i == last[k] + 1, f"sender {k}: got {i} after {last[k]}"
            last[k] = i
        for t in threads:
            t.join()

    goroutines.run(main)


def test_a_sent_none_is_received_as_none_with_ok_true() -> None:
    def main() -> None:
        c: Chan[None] = Chan(1)
        c.send(None)
        assert c.recv_ok() == (None, True)
        go(c.send, None)
        assert select(recv_ok(c)) == (0, (None, True))

    goroutines.run(main)


def test_repr_mentions_capacity_and_closed_state() -> None:
    c: Chan[int] = Chan(2)
    c.close()
    text = repr(c)
    assert "cap=2" in text and "closed" in text, text

"""Property tests (hypothesis): channels lose, duplicate and reorder nothing.

Each example runs inside goroutines.run(), so every one starts clean.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import goroutines
from goroutines import Chan, ChannelClosedError, go, gosched, recv, recv_ok, select, send

SETTINGS = settings(
    max_examples=60,
    deadline=None,  # a loaded machine must not fail an example on time alone
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(
    capacity=st.integers(0, 8),
    counts=st.lists(st.integers(0, 40), min_size=1, max_size=5),
    consumers=st.integers(1, 5),
    yield_every=st.integers(0, 4),
    use_select=st.booleans(),
)
def test_producers_and_consumers_lose_and_reorder_nothing(
    capacity: int, counts: list[int], consumers: int, yield_every: int, use_select: bool
) -> None:
    """The multiset received equals the multiset sent, and every consumer sees
    each producer's values in the order they were sent."""

    def main() -> tuple[list[list[tuple[int, int]]], list[str]]:
        ch: Chan[tuple[int, int]] = Chan(capacity)
        never: Chan[tuple[int, int]] = Chan()
        producers_done: Chan[None] = Chan()
        results: Chan[list[tuple[int, int]]] = Chan()
        problems: list[str] = []

        def producer(pid: int, n: int) -> None:
            for seq in range(n):
                if use_select and seq % 2:
                    select(send(ch, (pid, seq)), send(None, (pid, seq)))
                else:
                    ch.send((pid, seq))
                if len(ch) > capacity:
                    problems.append(f"len {len(ch)} > cap {capacity}")
                if yield_every and seq % yield_every == 0:
                    gosched()
            producers_done.send(None)

        def consumer(k: int) -> None:
            got: list[tuple[int, int]] = []
            while True:
                if use_select and len(got) % 2:
                    _, (v, ok) = select(recv(never), recv_ok(ch))
                else:
                    v, ok = ch.recv_ok()
                if not ok:
                    break
                assert v is not None
                got.append(v)
                if yield_every and len(got) % (yield_every + 1) == 0:
                    gosched()
            results.send(got)

        for k in range(consumers):
            go(consumer, k)
        for pid, n in enumerate(counts):
            go(producer, pid, n)
        for _ in counts:
            producers_done.recv()
        ch.close()
        received = [results.recv() or [] for _ in range(consumers)]
        return received, problems

    received, problems = goroutines.run(main)
    assert not problems, problems[:3]
    sent = Counter((pid, seq) for pid, n in enumerate(counts) for seq in range(n))
    got = Counter(v for per_consumer in received for v in per_consumer)
    assert got == sent, f"lost {sent - got}, extra {got - sent}"
    for k, per_consumer in enumerate(received):
        last: dict[int, int] = {}
        for pid, seq in per_consumer:
            assert seq > last.get(pid, -1), (
                f"consumer {k} got producer {pid}'s {seq} after {last[pid]}"
            )
            last[pid] = seq


# A model of a channel under non-blocking operations: a bounded FIFO that
# can be closed. Operations: ("send", v), ("recv",), ("close",).
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, 99)),
        st.tuples(st.just("recv")),
        st.tuples(st.just("close")),
    ),
    max_size=40,
)


@SETTINGS
@given(capacity=st.integers(0, 5), ops=ops_strategy)
def test_non_blocking_operations_match_a_bounded_queue_model(
    capacity: int, ops: list[tuple[Any, ...]]
) -> None:
    def main() -> list[object]:
        ch: Chan[int] = Chan(capacity)
        outcomes: list[object] = []
        for op in ops:
            try:
                if op[0] == "send":
                    outcomes.append(("send", select(send(ch, op[1]), default=True)[0] == 0))
                elif op[0] == "recv":
                    idx, v = select(recv_ok(ch), default=True)
                    outcomes.append(("recv", v if idx == 0 else "would block"))
                else:
                    ch.close()
                    outcomes.append(("close", "ok"))
            except ChannelClosedError as e:
                outcomes.append((op[0], str(e)))
            outcomes.append(("len", len(ch)))
        return outcomes

    model: list[int] = []
    closed = False
    expected: list[object] = []
    for op in ops:
        if op[0] == "send":
            if closed:
                expected.append(("send", "send on closed channel"))
            elif len(model) < capacity:
                model.append(op[1])
                expected.append(("send", True))
            else:
                expected.append(("send", False))
        elif op[0] == "recv":
            if model:
                expected.append(("recv", (model.pop(0), True)))
            elif closed:
                expected.append(("recv", (None, False)))
            else:
                expected.append(("recv", "would block"))
        elif closed:
            expected.append(("close", "close of closed channel"))
        else:
            closed = True
            expected.append(("close", "ok"))
        expected.append(("len", len(model)))

    assert goroutines.run(main) == expected


@SETTINGS
@given(
    values=st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=30),
    capacity=st.integers(0, 4),
)
def test_range_over_a_channel_yields_exactly_what_was_sent(
    values: list[object], capacity: int
) -> None:
    """``for v in ch`` ends on close, not on a sent None, and keeps the order."""

    def main() -> list[object]:
        ch: Chan[object] = Chan(capacity)

        def producer() -> None:
            for v in values:
                ch.send(v)
            ch.close()

        go(producer)
        return list(ch)

    assert goroutines.run(main) == values

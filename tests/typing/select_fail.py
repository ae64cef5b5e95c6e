"""Typed select: each line with a comment "E" must fail ``mypy --strict``
with exactly the error codes it lists, and no other line may fail. Type-checked by
tests/test_typing.py, never run.
"""

from __future__ import annotations

from goroutines import Chan, RecvChan, SendChan, recv, select, send

ints: Chan[int] = Chan()
strs: Chan[str] = Chan()
maybe_ints: Chan[int] | None = None
recv_side: RecvChan[int] = ints
send_side: SendChan[int] = ints

send(ints, "x")  # E: misc
send(maybe_ints, "x")  # E: misc arg-type
send(recv_side, 1)  # E: call-overload
recv(send_side)  # E: call-overload
recv(ints.send_only())  # E: call-overload
send(ints.recv_only(), 1)  # E: call-overload

match select(recv(ints), recv(strs)):
    case (0, n):
        n.upper()  # E: union-attr
    case (1, s):
        s + 1  # E: operator

i, v = select(recv(ints), recv(strs))
w: int = v  # E: assignment
k, u = select(recv(ints), default=True)
x: int | None = u
j: int = k

"""Typed select: every line here must type-check under ``mypy --strict``.

A comment "T" after a ``reveal_type`` call gives the type mypy must infer.
Type-checked by tests/test_typing.py, never run.
"""

from __future__ import annotations

from typing import Any, reveal_type

from goroutines import Chan, RecvChan, SendChan, recv, recv_ok, select, send
from goroutines._select import Case

ints: Chan[int] = Chan()
strs: Chan[str] = Chan(1)
maybe_ints: Chan[int] | None = None
maybe_recv: RecvChan[int] | None = None
maybe_send: SendChan[int] | None = None

# Each case keeps its result type.
reveal_type(recv(ints))  # T: tuple[goroutines._chan.Chan[Any] | None, goroutines._select._Kind[int | None], Any]
reveal_type(select(recv(ints)))  # T: tuple[Literal[0], int | None]
reveal_type(select(recv(ints), recv_ok(strs), send(ints, 1)))  # T: tuple[Literal[0], int | None] | tuple[Literal[1], tuple[str | None, bool]] | tuple[Literal[2], None]
reveal_type(select(recv(ints), recv(strs), default=True))  # T: tuple[Literal[0], int | None] | tuple[Literal[1], str | None] | tuple[Literal[-1], None]
reveal_type(select(default=True))  # T: tuple[Literal[-1], None]

# A match on the index narrows the value.
match select(recv(ints), recv_ok(strs)):
    case (0, n):
        reveal_type(n)  # T: int | None
    case (1, (s, ok)):
        reveal_type(s)  # T: str | None
        reveal_type(ok)  # T: bool

# So does a test of the index, on the result kept whole.
result = select(recv(ints), send(strs, "x"), default=True)
if result[0] == 0:
    reveal_type(result[1])  # T: int | None
elif result[0] == -1:
    reveal_type(result[1])  # T: None

# Unpacked at once, the value is the union of the cases' results.
i, v = select(recv(ints), recv(strs))
reveal_type(v)  # T: int | None | str

# Optional channels (Go's nil channel) infer T.
reveal_type(recv(maybe_ints))  # T: tuple[goroutines._chan.Chan[Any] | None, goroutines._select._Kind[int | None], Any]
reveal_type(recv_ok(maybe_recv))  # T: tuple[goroutines._chan.Chan[Any] | None, goroutines._select._Kind[tuple[int | None, bool]], Any]
send(maybe_ints, 1)
send(maybe_send, 2)
send(None, "anything")
reveal_type(select(recv(maybe_ints), send(maybe_ints, 3)))  # T: tuple[Literal[0], int | None] | tuple[Literal[1], None]

# Views and protocols.
reveal_type(select(recv(ints.recv_only()), send(ints.send_only(), 4)))  # T: tuple[Literal[0], int | None] | tuple[Literal[1], None]

# Many cases, or cases in a list: the join of their results.
cases: list[Case[int | None]] = [recv(ints), recv(ints)]
reveal_type(select(*cases))  # T: tuple[int, int | None]
untyped: list[Case[Any]] = [recv(ints), recv(strs)]
reveal_type(select(*untyped))  # T: tuple[int, Any]
loose: Case[Any] = recv(strs)
reveal_type(select(loose))  # T: tuple[Literal[0], Any]


def never_returns() -> int:
    select()  # select {}: no return needed after it


async def in_asyncio() -> None:
    from goroutines import select_async

    reveal_type(await select_async(recv(ints), recv(strs)))  # T: tuple[Literal[0], int | None] | tuple[Literal[1], str | None]
    reveal_type(await select_async(recv(ints), default=True))  # T: tuple[Literal[0], int | None] | tuple[Literal[-1], None]

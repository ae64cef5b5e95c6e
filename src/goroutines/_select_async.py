"""select_async: select from asyncio code, through the asyncio bridge (_aio).

Its own module so that _select.py holds select and its cases only; it calls
``_select.select`` (the C port when the accelerator runs it).
"""

from __future__ import annotations

from typing import Any, Literal, NoReturn, overload

from . import _aio, _select
from ._select import R0, R1, R2, R3, R4, R5, R6, R7, Case, check_default


# select's overloads (_select.py), for the same typed results.
@overload
async def select_async(*, default: Literal[False] = False) -> NoReturn: ...
@overload
async def select_async(*, default: bool) -> tuple[Literal[-1], None]: ...
@overload
async def select_async(
    c0: Case[R0], /, *, default: Literal[False] = False
) -> tuple[Literal[0], R0]: ...
@overload
async def select_async(
    c0: Case[R0], /, *, default: bool
) -> tuple[Literal[0], R0] | tuple[Literal[-1], None]: ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], /, *, default: Literal[False] = False
) -> tuple[Literal[0], R0] | tuple[Literal[1], R1]: ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], /, *, default: bool
) -> tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[-1], None]: ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], /, *, default: Literal[False] = False
) -> tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[2], R2]: ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], /, *, default: bool
) -> (
    tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[2], R2] | tuple[Literal[-1], None]
): ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], c3: Case[R3], /, *, default: Literal[False] = False
) -> (
    tuple[Literal[0], R0] | tuple[Literal[1], R1] | tuple[Literal[2], R2] | tuple[Literal[3], R3]
): ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], c3: Case[R3], /, *, default: bool
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[-1], None]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
): ...
@overload
async def select_async(
    c0: Case[R0], c1: Case[R1], c2: Case[R2], c3: Case[R3], c4: Case[R4], /, *, default: bool
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[-1], None]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    /,
    *,
    default: bool,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[-1], None]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    /,
    *,
    default: bool,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
    | tuple[Literal[-1], None]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    c7: Case[R7],
    /,
    *,
    default: Literal[False] = False,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
    | tuple[Literal[7], R7]
): ...
@overload
async def select_async(
    c0: Case[R0],
    c1: Case[R1],
    c2: Case[R2],
    c3: Case[R3],
    c4: Case[R4],
    c5: Case[R5],
    c6: Case[R6],
    c7: Case[R7],
    /,
    *,
    default: bool,
) -> (
    tuple[Literal[0], R0]
    | tuple[Literal[1], R1]
    | tuple[Literal[2], R2]
    | tuple[Literal[3], R3]
    | tuple[Literal[4], R4]
    | tuple[Literal[5], R5]
    | tuple[Literal[6], R6]
    | tuple[Literal[7], R7]
    | tuple[Literal[-1], None]
): ...
@overload
async def select_async(*cases: Case[R0], default: bool = False) -> tuple[int, R0]: ...
async def select_async(*cases: Case[Any], default: bool = False) -> tuple[int, Any]:
    """select from asyncio code: ``await select_async(recv(a), send(b, v))``.

    The same semantics as select (exactly one case completes; among ready
    cases one is chosen uniformly at random; a None channel is never ready;
    with ``default=True`` and nothing ready it returns ``(-1, None)``), but it
    suspends the task instead of blocking the thread. Cancelling the task
    withdraws every case; if a case had already completed, its result is
    returned and the cancellation is re-delivered at the task's next await
    (a task that finishes first ends with the result). Go: ``select { ... }``.
    """
    check_default(default)
    _aio.note_thread()
    if default or _select._traced is None:  # (a channel trace records one select)
        result = _select.select(*cases, default=True)
        if result[0] >= 0 or default:
            return result
    return await _aio.call(_select.select, *cases)

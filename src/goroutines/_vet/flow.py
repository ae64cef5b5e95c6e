"""vet: the control-flow questions of two checks, asked of one function.

GO105 (``_LockFlow``): does a path from ``mu.lock()`` leave the function,
or the loop body, with the lock held? Normal control flow only (returns,
raises, break, continue, the end): every call may raise, and counting that
would flag every lock/unlock pair, which Go code writes on purpose.
GO108 (``_default_path_calls``): on the path where a ``select(...,
default=True)`` found nothing ready, does the loop body call anything?
GO109's helpers sit here too.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from .names import Func, _method_call, _own_nodes


def _empty_message(ref: str) -> str:
    return (
        f"empty critical section: {ref} is locked and unlocked with nothing in between, "
        f"which protects nothing. Put the shared-state access inside; if it only waits "
        f"for the current holder on purpose, say so with # noqa: GO109"
    )


def _is_empty(body: list[ast.stmt]) -> bool:
    for s in body:
        if isinstance(s, ast.Pass):
            continue
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
            continue  # ... or a docstring-like string
        return False
    return True


def _test_matches_default(test: ast.expr, index: set[str]) -> bool | None:
    """For ``if <test>`` on a select's index (an expression in index): True
    when the body is the default path (``i == -1``, ``i < 0``), False when
    the else is (``i == 0``, ``i >= 0``, ``i != -1``), None when it cannot
    be told."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and ast.unparse(test.left) in index:
        op, right = test.ops[0], test.comparators[0]
        value: object = None
        if isinstance(right, ast.Constant):
            value = right.value
        elif isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub) and \
                isinstance(right.operand, ast.Constant) and isinstance(right.operand.value, int):
            value = -right.operand.value
        if not isinstance(value, int):
            return None
        if isinstance(op, ast.Eq | ast.Is):
            return value < 0
        if isinstance(op, ast.NotEq | ast.IsNot):
            return not value < 0
        if isinstance(op, ast.Lt) and value <= 0:
            return True
        if isinstance(op, ast.GtE) and value >= 0:
            return False
    return None


def _default_path_calls(
    body: Sequence[ast.stmt], allowed: set[int], index: set[str], result: set[str]
) -> bool:
    """Whether the statements, on the path where no case was ready, make a
    call (anything but the select itself and its cases): a call may park.
    index: the expressions that are the select's index; result: its pair."""
    for s in body:
        if isinstance(s, ast.If):
            if _has_call(s.test, allowed):
                return True
            side = _test_matches_default(s.test, index)
            if side is None:
                if _default_path_calls(s.body, allowed, index, result) or \
                        _default_path_calls(s.orelse, allowed, index, result):
                    return True
            elif _default_path_calls(s.body if side else s.orelse, allowed, index, result):
                return True
        elif isinstance(s, ast.Match):
            if _has_call(s.subject, allowed):
                return True
            subject = ast.unparse(s.subject)
            on_index = subject in index
            on_result = subject in result
            for case in s.cases:
                p = case.pattern
                if on_result and isinstance(p, ast.MatchSequence) and p.patterns:
                    p = p.patterns[0]
                elif not on_index:
                    p = ast.MatchAs()  # not a case on the select: may run
                if isinstance(p, ast.MatchValue) and not _matches_minus_one(p):
                    continue
                if _default_path_calls(case.body, allowed, index, result):
                    return True
        elif _has_call(s, allowed):
            return True
    return False


def _matches_minus_one(p: ast.MatchValue) -> bool:
    v = p.value
    return isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub)


def _has_call(node: ast.AST, allowed: set[int]) -> bool:
    return any(isinstance(n, ast.Call | ast.Await | ast.Yield | ast.YieldFrom) and
               id(n) not in allowed for n in [node, *_own_nodes(node)])


class _LockFlow:
    """Whether a path from ``<recv>.lock()`` leaves the function (or the
    loop iteration) with the lock held. Normal control flow only: returns,
    raises, break, continue and the end of the function."""

    def __init__(self, recv: str, unlock: str, lock_stmt: ast.stmt) -> None:
        self.recv = recv
        self.unlock = unlock
        self.lock_stmt = lock_stmt
        self.leaked: ast.AST | None = None
        # For each loop the walk is in: whether the lock is taken inside it.
        self.loops: list[bool] = []

    def leak(self, fn: Func) -> ast.AST | None:
        end = self.block(fn.body, frozenset({False}), covered=False)
        if self.leaked is None and True in end:
            self.leaked = fn  # falls off the end locked
        return self.leaked

    def _is_unlock(self, s: ast.stmt) -> bool:
        if not isinstance(s, ast.Expr):
            return False
        m = _method_call(s.value, (self.unlock,))
        return m is not None and m[0] == self.recv

    def _unlocks_in(self, body: list[ast.stmt]) -> bool:
        return any(self._is_unlock(s) for s in body)

    def block(self, body: list[ast.stmt], states: frozenset[bool], covered: bool) -> frozenset[bool]:
        """The possible 'locked' states after body (empty: it never falls through)."""
        for s in body:
            if not states or self.leaked is not None:
                return states
            states = self.stmt(s, states, covered)
        return states

    def stmt(self, s: ast.stmt, states: frozenset[bool], covered: bool) -> frozenset[bool]:
        if s is self.lock_stmt:
            return frozenset({True})
        if self._is_unlock(s):
            return frozenset({False})
        if isinstance(s, ast.Return | ast.Raise | ast.Break | ast.Continue):
            if True in states and not covered and self.leaked is None:
                if not isinstance(s, ast.Break | ast.Continue) or self._inside_loop_lock(s):
                    self.leaked = s
            return frozenset()
        if isinstance(s, ast.If):
            return self.block(s.body, states, covered) | self.block(s.orelse, states, covered)
        if isinstance(s, ast.For | ast.AsyncFor | ast.While):
            self.loops.append(any(n is self.lock_stmt for n in ast.walk(s)))
            body = self.block(s.body, states, covered)
            self.loops.pop()
            return states | body | self.block(s.orelse, states | body, covered)
        if isinstance(s, ast.With | ast.AsyncWith):
            return self.block(s.body, states, covered)
        if isinstance(s, ast.Try | ast.TryStar):
            fin_unlocks = self._unlocks_in(s.finalbody)
            inner = covered or fin_unlocks
            body = self.block(s.body, states, inner)
            out = self.block(s.orelse, body, inner) if s.orelse else body
            for h in s.handlers:
                out |= self.block(h.body, states | body, inner)
            if s.finalbody and out:
                out = self.block(s.finalbody, out, covered)
            return out
        if isinstance(s, ast.Match):
            cases: frozenset[bool] = frozenset()
            for case in s.cases:
                cases |= self.block(case.body, states, covered)
            return cases | states
        return states

    def _inside_loop_lock(self, s: ast.stmt) -> bool:
        """break/continue leak only when the lock was taken inside that loop
        (a lock held across the whole loop is released after it)."""
        return bool(self.loops) and self.loops[-1]

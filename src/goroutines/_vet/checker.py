"""vet: the checker, one visit of a file's AST running every check.

Each check is a method named after what it finds (``check_...``), called
where the visit meets what it looks at: a call that starts a goroutine, a
function, a loop, a ``with``, a statement list.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from .flow import _default_path_calls, _empty_message, _is_empty, _LockFlow
from .names import (
    _CANCEL_MAKERS,
    _CASE_RECV,
    _CHAN_NEUTRAL_ATTRS,
    _CHAN_RECV_METHODS,
    _MUTEX_TYPES,
    _SOCKET_MAKERS,
    _SOCKET_METHODS,
    _STARTER_METHODS,
    _STARTERS,
    _SUBPROCESS_BLOCKING,
    Func,
    _body_nodes,
    _free_loads,
    _Imports,
    _method_call,
    _own_nodes,
    _ref,
)


@dataclass(frozen=True, order=True)
class Finding:
    """One mistake found: where, its code, and what to do."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col + 1}: {self.code} {self.message}"


@dataclass
class _Scope:
    """A function (or the module) being checked, with its defs by name."""

    node: ast.AST
    defs: dict[str, Func] = field(default_factory=dict)


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module, package: str = "") -> None:
        self.path = path
        self.tree = tree
        self.imports = _Imports(tree, package)
        self.findings: list[Finding] = []
        self.scopes: list[_Scope] = []
        self.loops: list[ast.For | ast.AsyncFor | ast.While] = []
        self.types = self._known_types(tree)

    # -- helpers

    def report(self, node: ast.AST, code: str, message: str) -> None:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        self.findings.append(Finding(self.path, line, col, code, message))

    def _type_of_annotation(self, ann: ast.expr | None) -> str | None:
        if ann is None:
            return None
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(ann, ast.Subscript):
            ann = ann.value
        return self.imports.lib(ann)

    def _known_types(self, tree: ast.Module) -> dict[int, dict[str, str]]:
        """Per scope (the id of a function node, or of the module), receiver
        text ('mu', 'self._mu') -> library type name, from constructor
        calls and annotations. Attributes ('self._mu') are filed under the
        module: an object's fields outlive the function that sets them."""
        types: dict[int, dict[str, str]] = {}
        scopes: list[ast.AST] = [tree]
        scopes.extend(n for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))
        module = types.setdefault(id(tree), {})
        for scope in scopes:
            own = types.setdefault(id(scope), {})
            nodes = list(_own_nodes(scope)) if scope is tree else list(_body_nodes(scope))  # type: ignore[arg-type]
            if not isinstance(scope, ast.Module):
                a = scope.args  # type: ignore[attr-defined]
                nodes.extend(a.posonlyargs + a.args + a.kwonlyargs)
            for n in nodes:
                found: list[tuple[str, str]] = []
                if isinstance(n, ast.Assign | ast.AnnAssign):
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    t: str | None = None
                    if isinstance(n.value, ast.Call):
                        t = self.imports.lib(n.value.func)
                    if t is None and isinstance(n, ast.AnnAssign):
                        t = self._type_of_annotation(n.annotation)
                    # Any other assignment makes the name unknown here ('').
                    found.extend((ref, t or "") for target in targets
                                 if (ref := _ref(target)) is not None)
                elif isinstance(n, ast.arg):
                    found.append((n.arg, self._type_of_annotation(n.annotation) or ""))
                for ref, t in found:
                    table = module if "." in ref else own
                    if t or ref not in table:
                        table[ref] = t
        return types

    def _is(self, ref: str, *names: str, inner: ast.AST | None = None) -> bool:
        """Whether ref is known as one of the library's types names, seen
        from the scope being visited (or from inner, a function in it)."""
        chain = [s.node for s in self.scopes] + ([inner] if inner is not None else [])
        if "." in ref:
            chain = [self.tree]
        for scope in reversed(chain):
            t = self.types.get(id(scope), {}).get(ref)
            if t is not None:
                return t in names
        return False

    def _find_def(self, name: str) -> Func | None:
        for scope in reversed(self.scopes):
            if name in scope.defs:
                return scope.defs[name]
        return None

    def _goroutine_target(self, call: ast.Call) -> ast.expr | None:
        """The function argument when call starts a goroutine, else None."""
        lib = self.imports.lib(call.func)
        index: int | None = None
        if lib is not None:
            index = _STARTERS.get(lib.rpartition(".")[2])
        elif isinstance(call.func, ast.Attribute) and self.imports.qual(call.func) is None:
            index = _STARTER_METHODS.get(call.func.attr)
        if index is None or len(call.args) <= index:
            return None
        arg = call.args[index]
        return None if isinstance(arg, ast.Starred) else arg

    def _resolve(self, target: ast.expr) -> Func | ast.Lambda | None:
        if isinstance(target, ast.Lambda):
            return target
        if isinstance(target, ast.Name):
            return self._find_def(target.id)
        return None

    # -- traversal

    def run(self) -> list[Finding]:
        self.scopes.append(_Scope(self.tree, self._defs_of(self.tree.body)))
        self.generic_visit(self.tree)
        self.scopes.pop()
        return self.findings

    @staticmethod
    def _defs_of(body: Sequence[ast.stmt]) -> dict[str, Func]:
        defs: dict[str, Func] = {}
        for stmt in body:
            for n in [stmt, *_own_nodes(stmt)]:
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef):
                    defs.setdefault(n.name, n)
        return defs

    def _visit_function(self, node: Func) -> None:
        self.scopes.append(_Scope(node, self._defs_of(node.body)))
        loops, self.loops = self.loops, []
        self.check_lost_cancel(node)
        self.check_lock_paths(node)
        self.check_recv_without_sender(node)
        self.generic_visit(node)
        self.loops = loops
        self.scopes.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Lambda(self, node: ast.Lambda) -> None:
        loops, self.loops = self.loops, []
        self.generic_visit(node)
        self.loops = loops

    def _visit_loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        if isinstance(node, ast.While):
            self.check_busy_select(node)
        self.loops.append(node)
        self.generic_visit(node)
        self.loops.pop()

    visit_For = _visit_loop
    visit_AsyncFor = _visit_loop
    visit_While = _visit_loop

    def visit_With(self, node: ast.With) -> None:
        self.check_empty_with(node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        target = self._goroutine_target(node)
        if target is not None:
            self.check_called_not_passed(node, target)
            fn = self._resolve(target)
            if fn is not None:
                self.check_loop_capture(node, target, fn)
                self.check_add_inside(node, fn)
                self.check_blocking_calls(fn)
        self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        for _name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self.check_adjacent_lock_unlock(value)
        super().generic_visit(node)

    # -- GO101

    def _def_returns_no_function(self, fn: Func) -> bool:
        """fn (of this file) is async, a generator, or returns no value."""
        if isinstance(fn, ast.AsyncFunctionDef):
            return True
        for n in _own_nodes(fn):
            if isinstance(n, ast.Yield | ast.YieldFrom):
                return True
        for n in _own_nodes(fn):
            if isinstance(n, ast.Return) and n.value is not None:
                if not (isinstance(n.value, ast.Constant) and n.value.value is None):
                    return False
        return True

    def check_called_not_passed(self, call: ast.Call, target: ast.expr) -> None:
        if not isinstance(target, ast.Call) or not isinstance(target.func, ast.Name):
            return
        name = target.func.id
        fn = self._find_def(name)
        if fn is None or not self._def_returns_no_function(fn):
            return
        starter = ast.unparse(call.func)
        self.report(
            target, "GO101",
            f"{starter}() is given the result of {name}(...), not a function: {name} runs "
            f"here, in this goroutine. Pass the function and its arguments: "
            f"{starter}({name}, ...)",
        )

    # -- GO102

    def check_loop_capture(self, call: ast.Call, target: ast.expr, fn: Func | ast.Lambda) -> None:
        if not self.loops:
            return
        free = _free_loads(fn)
        for loop in reversed(self.loops):
            if not isinstance(loop, ast.For | ast.AsyncFor):
                continue
            if not isinstance(fn, ast.Lambda) and not self._defined_inside(fn, loop):
                continue  # made once, outside this loop: not this check's
            loop_vars = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
            for var in sorted(loop_vars & set(free)):
                starter = ast.unparse(call.func)
                self.report(
                    free[var], "GO102",
                    f"loop variable {var!r} is captured by the closure given to {starter}(): "
                    f"it reads {var} when it runs, by then a later iteration's (Python "
                    f"closures bind late). Pass it as an argument, {starter}(f, {var}), "
                    f"or bind it now: lambda {var}={var}: ...",
                )
                return

    @staticmethod
    def _defined_inside(fn: Func, loop: ast.AST) -> bool:
        return any(n is fn for n in ast.walk(loop))

    # -- GO103

    def check_add_inside(self, call: ast.Call, fn: Func | ast.Lambda) -> None:
        nodes = list(_body_nodes(fn))
        done = {r for n in nodes if (m := _method_call(n, ("done",))) for r in [m[0]]}
        for n in nodes:
            m = _method_call(n, ("add",))
            if m is None:
                continue
            wg, add = m
            if wg in done and self._is(wg, "WaitGroup", inner=fn):
                self.report(
                    add, "GO103",
                    f"{wg}.add() runs inside the goroutine it counts: {wg}.wait() may "
                    f"return before it runs. Call {wg}.add(1) before starting the "
                    f"goroutine, or use {wg}.go(f)",
                )

    # -- GO104

    def check_lost_cancel(self, fn: Func) -> None:
        own = list(_own_nodes(fn))
        for n in own:
            if not (isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)):
                continue
            lib = self.imports.lib(n.value.func)
            if lib is None or lib.rpartition(".")[2] not in _CANCEL_MAKERS:
                continue
            maker = lib.rpartition(".")[2]
            for target in n.targets:
                if not (isinstance(target, ast.Tuple) and len(target.elts) == 2):
                    continue
                cancel = target.elts[1]
                if not isinstance(cancel, ast.Name):
                    continue
                if cancel.id == "_" or not self._used_after(fn, cancel):
                    self.report(
                        cancel, "GO104",
                        f"the cancel function {maker}() returns is never called: the "
                        f"context (and its timer) lives until its parent is done. Call it "
                        f"when the work is done: try: ... finally: {cancel.id if cancel.id != '_' else 'cancel'}()",
                    )

    @staticmethod
    def _used_after(fn: Func, name: ast.Name) -> bool:
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and n.id == name.id and n is not name:
                if isinstance(n.ctx, ast.Load):
                    return True
        return False

    # -- GO105

    def check_lock_paths(self, fn: Func) -> None:
        own = list(_own_nodes(fn))
        unlocks: dict[str, list[int]] = {}
        for n in own:
            m = _method_call(n, ("unlock", "runlock"))
            if m is not None:
                unlocks.setdefault(f"{m[0]}.{m[1].func.attr}", []).append(m[1].lineno)  # type: ignore[attr-defined]
        for n in own:
            if not (isinstance(n, ast.Expr)):
                continue
            m = _method_call(n.value, ("lock", "rlock"))
            if m is None:
                continue
            recv, call = m
            op = call.func.attr  # type: ignore[attr-defined]
            unlock = "runlock" if op == "rlock" else "unlock"
            key = f"{recv}.{unlock}"
            if not any(line > n.lineno for line in unlocks.get(key, [])):
                continue  # unlocked elsewhere (a wrapper, Cond.wait): not this check's
            leak = _LockFlow(recv, unlock, n).leak(fn)
            if leak is not None:
                what = {ast.Return: "the return", ast.Raise: "the raise",
                        ast.Break: "the break", ast.Continue: "the continue"}.get(
                            type(leak), "the end of the function")
                self.report(
                    call, "GO105",
                    f"{recv}.{op}() is not followed by {recv}.{unlock}() on every path: "
                    f"{what} at line {getattr(leak, 'lineno', '?')} leaves it locked. "
                    f"Use `with {recv}:`" + ("" if op == "lock" else " on rlocker()"),
                )

    # -- GO106

    def check_blocking_calls(self, fn: Func | ast.Lambda) -> None:
        sockets = {
            ref for n in _body_nodes(fn)
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            and self.imports.qual(n.value.func) in _SOCKET_MAKERS
            for t in n.targets if (ref := _ref(t)) is not None
        }
        for n in _body_nodes(fn):
            if not isinstance(n, ast.Call):
                continue
            qual = self.imports.qual(n.func)
            what: str | None = None
            fix = ""
            if qual == "time.sleep":
                what, fix = "time.sleep()", "use goroutines.sleep()"
            elif qual is not None and qual.startswith("requests."):
                what = f"{qual}()"
                fix = f"run it with goroutines.blocking({qual}, ...)"
            elif qual is not None and qual.startswith("subprocess.") and \
                    qual.rpartition(".")[2] in _SUBPROCESS_BLOCKING:
                what, fix = f"{qual}()", f"run it with goroutines.blocking({qual}, ...)"
            elif isinstance(n.func, ast.Name) and n.func.id == "input" and \
                    "input" not in self.imports.names and self._find_def("input") is None:
                what, fix = "input()", "run it with goroutines.blocking(input, ...)"
            elif (m := _method_call(n, _SOCKET_METHODS)) is not None and m[0] in sockets:
                what = f"{m[0]}.{n.func.attr}()"  # type: ignore[attr-defined]
                fix = "use goroutines.net, or goroutines.blocking() for the call"
            if what is not None:
                self.report(
                    n, "GO106",
                    f"{what} inside a goroutine blocks its thread, and every goroutine "
                    f"on that thread with it: {fix}",
                )

    # -- GO107

    def check_recv_without_sender(self, fn: Func) -> None:
        chans: dict[str, ast.Name] = {}
        for n in _own_nodes(fn):
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and \
                    isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Call) and \
                    self.imports.lib(n.value.func) == "Chan":
                chans.setdefault(n.targets[0].id, n.targets[0])
        if not chans:
            return
        # Every use of each channel, in fn and in the functions nested in it.
        recvs: dict[str, list[ast.AST]] = {c: [] for c in chans}
        other: set[str] = set()
        parents: dict[int, ast.AST] = {}
        for parent in ast.walk(fn):
            for child in ast.iter_child_nodes(parent):
                parents[id(child)] = parent
        for n in ast.walk(fn):
            if not (isinstance(n, ast.Name) and n.id in chans):
                continue
            if n is chans[n.id] or isinstance(n.ctx, ast.Store | ast.Del):
                if n is not chans[n.id]:
                    other.add(n.id)  # rebound: not one channel any more
                continue
            up = parents.get(id(n))
            grand = parents.get(id(up)) if up is not None else None
            if isinstance(up, ast.Attribute) and up.attr in _CHAN_RECV_METHODS and \
                    isinstance(grand, ast.Call) and grand.func is up:
                recvs[n.id].append(grand)
            elif isinstance(up, ast.For | ast.AsyncFor) and up.iter is n:
                recvs[n.id].append(up)
            elif isinstance(up, ast.Call) and up.args and up.args[0] is n and \
                    (self.imports.lib(up.func) or "") in _CASE_RECV:
                # A case blocks forever only when it is the select's only one.
                if isinstance(grand, ast.Call) and self.imports.lib(grand.func) == "select" \
                        and grand.args == [up] and not grand.keywords:
                    recvs[n.id].append(up)
            elif isinstance(up, ast.Attribute) and up.attr in _CHAN_NEUTRAL_ATTRS:
                pass
            elif isinstance(up, ast.Call) and isinstance(up.func, ast.Name) and \
                    up.func.id == "len" and up.args == [n]:
                pass
            else:
                other.add(n.id)
        for name, uses in recvs.items():
            if name in other or not uses:
                continue
            first = min(uses, key=lambda u: (getattr(u, "lineno", 0), getattr(u, "col_offset", 0)))
            self.report(
                first, "GO107",
                f"receive from {name}, which nothing can send on: no send, close or "
                f"hand-off of {name} exists in this function, so the receive blocks "
                f"forever. Send on it, close it, or pass it to the goroutine that will",
            )

    # -- GO108

    def _is_default_select(self, n: ast.AST) -> bool:
        if not (isinstance(n, ast.Call) and self.imports.lib(n.func) == "select"):
            return False
        return any(k.arg == "default" and isinstance(k.value, ast.Constant) and
                   k.value.value is True for k in n.keywords)

    def check_busy_select(self, loop: ast.While) -> None:
        selects = [n for s in loop.body for n in [s, *_own_nodes(s)] if self._is_default_select(n)]
        if not selects:
            return
        allowed = {id(n) for s in selects for n in ast.walk(s)}
        index = {f"{ast.unparse(c)}[0]" for c in selects}
        result = {ast.unparse(c) for c in selects}
        for s in loop.body:
            if isinstance(s, ast.Assign) and any(s.value is c for c in selects):
                for t in s.targets:
                    if isinstance(t, ast.Tuple) and t.elts and isinstance(t.elts[0], ast.Name):
                        index.add(t.elts[0].id)
                    elif isinstance(t, ast.Name):
                        index.add(f"{t.id}[0]")
                        result.add(t.id)
        if _default_path_calls(loop.body, allowed, index, result):
            return
        self.report(
            selects[0], "GO108",
            "select(..., default=True) in a loop that does nothing when no case is "
            "ready: it spins, holding the thread, and the goroutines that would make a "
            "case ready may never run. Drop default=True to block until a case is ready",
        )

    # -- GO109

    def check_empty_with(self, node: ast.With) -> None:
        if len(node.items) != 1 or not _is_empty(node.body):
            return
        expr = node.items[0].context_expr
        ref = _ref(expr)
        if ref is not None and self._is(ref, *_MUTEX_TYPES):
            self.report(node, "GO109", _empty_message(ref))

    def check_adjacent_lock_unlock(self, body: list[ast.stmt]) -> None:
        for a, b in itertools.pairwise(body):
            if not (isinstance(a, ast.Expr) and isinstance(b, ast.Expr)):
                continue
            m = _method_call(a.value, ("lock", "rlock"))
            u = _method_call(b.value, ("unlock", "runlock"))
            if m is None or u is None or m[0] != u[0]:
                continue
            if (m[1].func.attr == "rlock") != (u[1].func.attr == "runlock"):  # type: ignore[attr-defined]
                continue
            self.report(a, "GO109", _empty_message(m[0]))

"""``python -m goroutines vet PATH...``: static checks for the classic mistakes.

Go's ``go vet`` reads the program, not a run of it. This does the same on the
AST of each file, one check per mistake, each with a stable code:

    GO101  go(f(x)): the function is called, its result is started
    GO102  a loop variable captured late by a closure given to go()
    GO103  wg.add() inside the goroutine it counts
    GO104  a context's cancel function never called (Go's lostcancel)
    GO105  mu.lock() without mu.unlock() on every path
    GO106  a call that blocks the thread inside a goroutine
    GO107  recv() on a channel nothing can send on
    GO108  select(..., default=True) spinning in a loop
    GO109  an empty critical section

Output: ``path:line:col: CODE message``, the message saying what to do;
``# noqa`` or ``# noqa: CODE[,CODE]`` on the line silences it.

Precision before recall: a check speaks only when what it sees is the
mistake, never on a guess. Names are resolved through the file's imports
(``requests.get`` is the requests package only when ``requests`` was
imported); the function a goroutine runs is followed only when it is a
lambda or a def of the same file; types are known only from a constructor
call (``mu = Mutex()``) or an annotation (``mu: Mutex``). Rejected: a
type-inferring whole-program analysis (slow, and wrong often enough to be
ignored), and exception paths in GO105 (every call may raise: that check
would then flag every lock/unlock pair, where Go code writes them).
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

__all__ = ["CHECKS", "Finding", "main", "vet_paths", "vet_source"]

# code -> one-line summary (the guide's table; the messages say more).
CHECKS: dict[str, str] = {
    "GO101": "go(f(x)): the function is called instead of passed",
    "GO102": "a loop variable captured late by a closure given to go()",
    "GO103": "wg.add() inside the goroutine it counts",
    "GO104": "a context's cancel function is never called",
    "GO105": "mu.lock() without mu.unlock() on every path",
    "GO106": "a call that blocks the thread inside a goroutine",
    "GO107": "recv() on a channel nothing can send on",
    "GO108": "select(..., default=True) spinning in a loop",
    "GO109": "an empty critical section",
}

USAGE = """\
usage: python -m goroutines vet PATH...

Checks Python files (directories are searched for *.py) for the classic
mistakes of concurrent code; prints path:line:col: CODE message for each and
exits 1 when it finds any, 0 when none, 2 on a usage error or a file it
cannot parse. `# noqa: CODE` on a line silences CODE there.

checks:
""" + "".join(f"  {code}  {text}\n" for code, text in CHECKS.items())


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


# --- what the library's names are -------------------------------------------------

# The library's callables that start a goroutine, with the index of the
# function argument (after_func: (d, fn) and context.after_func: (ctx, fn)).
_STARTERS = {"go": 0, "after_func": 1}
# Methods that start a goroutine whatever their receiver: WaitGroup.go,
# errgroup.Group.go / try_go.
_STARTER_METHODS = {"go": 0, "try_go": 0}
_CANCEL_MAKERS = frozenset({
    "with_cancel", "with_cancel_cause", "with_timeout", "with_deadline",
    "with_timeout_cause", "with_deadline_cause",
})
_MUTEX_TYPES = frozenset({"Mutex", "RWMutex"})
# The receives that block (try_recv does not: a use that proves nothing).
_CHAN_RECV_METHODS = frozenset({"recv", "recv_ok", "recv_async", "recv_ok_async"})
_CHAN_NEUTRAL_ATTRS = frozenset({"cap", "closed", "try_recv"})
_CASE_RECV = frozenset({"recv", "recv_ok"})
# The calls of the subprocess module that wait for the child.
_SUBPROCESS_BLOCKING = frozenset({"run", "call", "check_call", "check_output"})
_SOCKET_METHODS = frozenset({
    "accept", "connect", "recv", "recv_into", "recvfrom", "recvfrom_into", "send",
    "sendall", "sendto", "makefile",
})
_SOCKET_MAKERS = frozenset({"socket.socket", "socket.create_connection", "socket.create_server"})

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


def _library_name(qual: str | None) -> str | None:
    """'go' for goroutines.go / goroutines._go.go, 'context.with_cancel' for
    goroutines.context.with_cancel; None for anything not of the library."""
    if qual is None or not (qual == "goroutines" or qual.startswith("goroutines.")):
        return None
    parts = qual.split(".")
    last = parts[-1]
    if "context" in parts[1:-1]:
        return "context." + last
    return last


class _Imports:
    """Local name -> qualified name, from the module's imports (anywhere)."""

    def __init__(self, tree: ast.Module, package: str = "") -> None:
        self.names: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.names[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.names[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    # from ._go import go: relative to the file's package.
                    parts = package.split(".") if package else []
                    if node.level - 1 > len(parts) or not parts:
                        continue  # not inside a package we know: leave it unknown
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                for a in node.names:
                    if a.name != "*":
                        self.names[a.asname or a.name] = f"{base}.{a.name}" if base else a.name

    def qual(self, node: ast.expr) -> str | None:
        """The qualified name an expression stands for (Name or dotted
        Attribute rooted at an import), or None."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value)
            return f"{base}.{node.attr}" if base is not None else None
        if isinstance(node, ast.Subscript):  # Chan[int]()
            return self.qual(node.value)
        return None

    def lib(self, node: ast.expr) -> str | None:
        return _library_name(self.qual(node))


def _ref(node: ast.expr) -> str | None:
    """A stable text for a receiver: 'mu', 'self._mu', 'a.b.c'; None otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ref(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _method_call(node: ast.AST, names: Iterable[str]) -> tuple[str, ast.Call] | None:
    """(receiver, call) when node is ``<receiver>.<name>(...)`` for a name in names."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in names:
            recv = _ref(node.func.value)
            if recv is not None:
                return recv, node
    return None


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not descending into nested functions,
    lambdas or classes."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(n))


def _body_nodes(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Iterator[ast.AST]:
    if isinstance(fn, ast.Lambda):
        yield fn.body
        yield from _own_nodes(fn.body)
    else:
        for stmt in fn.body:
            yield stmt
            yield from _own_nodes(stmt)


Func = ast.FunctionDef | ast.AsyncFunctionDef


def _params(fn: Func | ast.Lambda) -> set[str]:
    a = fn.args
    names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    if a.vararg:
        names.add(a.vararg.arg)
    if a.kwarg:
        names.add(a.kwarg.arg)
    return names


def _assigned_names(fn: Func | ast.Lambda) -> set[str]:
    """Names local to fn (assigned in its own body, or its parameters)."""
    names = _params(fn)
    for n in _body_nodes(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(n.name)
    for n in _body_nodes(fn):
        if isinstance(n, ast.Global | ast.Nonlocal):
            names.difference_update(n.names)
    return names


def _free_loads(fn: Func | ast.Lambda) -> dict[str, ast.Name]:
    """Names fn reads that are not its own (first use of each), nested
    functions included (they close over the same cells)."""
    local = _assigned_names(fn)
    out: dict[str, ast.Name] = {}
    # The body only: defaults are evaluated when the closure is made.
    body: list[ast.AST] = [fn.body] if isinstance(fn, ast.Lambda) else list(fn.body)
    for n in (m for b in body for m in ast.walk(b)):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in local:
            out.setdefault(n.id, n)
    return out


# --- the checker ------------------------------------------------------------------


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


# --- driving ----------------------------------------------------------------------


def _suppressed(lines: list[str], f: Finding) -> bool:
    if not 1 <= f.line <= len(lines):
        return False
    m = _NOQA.search(lines[f.line - 1])
    if m is None:
        return False
    codes = m.group("codes")
    if codes is None:
        return True
    return f.code in {c.upper() for c in re.split(r"[\s,]+", codes.strip())}


def _package_of(path: str) -> str:
    """The dotted package a file belongs to, from the __init__.py files of
    its directories ('' when it is in none): relative imports resolve
    against it."""
    parts: list[str] = []
    d = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(d, "__init__.py")):
        parts.append(os.path.basename(d))
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return ".".join(reversed(parts))


def vet_source(source: str, path: str = "<string>", package: str | None = None) -> list[Finding]:
    """The findings in one file's source, sorted, ``# noqa`` applied.
    ``package``: the file's package, for its relative imports (default:
    found from the __init__.py files beside path). Raises SyntaxError for
    source that does not parse."""
    tree = ast.parse(source, filename=path)
    if package is None:
        package = _package_of(path) if os.path.exists(path) else ""
    found = _Checker(path, tree, package).run()
    lines = source.splitlines()
    return sorted({f for f in found if not _suppressed(lines, f)})


_SKIP_DIRS = frozenset({"__pycache__", "build", "dist", "node_modules"})


def _files(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(".py"):
                        yield os.path.join(root, name)
        else:
            yield path


def vet_paths(paths: Iterable[str]) -> tuple[list[Finding], list[str]]:
    """(findings, errors) for the files and directories given."""
    findings: list[Finding] = []
    errors: list[str] = []
    for path in _files(paths):
        try:
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except OSError as e:
            errors.append(f"{path}: {e.strerror or e}")
            continue
        try:
            findings.extend(vet_source(source, path))
        except SyntaxError as e:
            errors.append(f"{path}:{e.lineno or 0}:{(e.offset or 1)}: syntax error: {e.msg}")
        except ValueError as e:  # null bytes
            errors.append(f"{path}: {e}")
    return findings, errors


def main(argv: list[str]) -> int:
    """``vet PATH...``: 0 when nothing is found, 1 when something is, 2 on a
    usage error or a file that cannot be read or parsed."""
    if not argv:
        sys.stderr.write(f"goroutines vet: no path given\n\n{USAGE}")
        return 2
    if argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    for arg in argv:
        if arg.startswith("-") and arg != "-":
            sys.stderr.write(f"goroutines vet: unknown option {arg!r}\n\n{USAGE}")
            return 2
        if not os.path.exists(arg):
            sys.stderr.write(f"goroutines vet: {arg}: no such file or directory\n")
            return 2
    findings, errors = vet_paths(argv)
    for f in findings:
        sys.stdout.write(f"{f}\n")
    for e in errors:
        sys.stderr.write(f"goroutines vet: {e}\n")
    sys.stdout.flush()
    if errors:
        return 2
    return 1 if findings else 0

"""vet: what the library's names are, and the AST helpers the checks share.

Names are resolved through a file's imports only (``_Imports``): a name is
the library's when it was imported from ``goroutines`` (or, inside the
package itself, by a relative import). Nothing here guesses a type.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

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

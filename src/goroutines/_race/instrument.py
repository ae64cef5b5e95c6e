"""The race detector's instrumentation: an AST rewrite and the import hook.

Rewrites, in the program's own modules only (see ``Finder``):

* ``o.a`` -> ``__race__.ga(o, "a")``; ``o.a = v`` / ``o.a += v`` / ``del o.a``
  -> ``__race__.wa(o, "a").a = v`` (the write is recorded, then done);
* ``o[k]`` -> ``__race__.gi(o, k)``; ``o[k] = v`` / ``o[k] += v`` / ``del o[k]``
  -> ``__race__.wi(o)[k] = v``; a slice read -> ``__race__.rc(o)[a:b]``;
* ``o.append(x)`` (and the other methods of ``rt.MUTATORS`` and
  ``rt.READERS``) -> ``__race__.mc(o, "append")(x)``;
* ``for x in o``, ``x in o``, ``len(o)`` and the like -> ``__race__.rc(o)``;
* a global that some function rebinds (``global x``) or that the module body
  rebinds: reads -> ``__race__.rv(__race_m__, "x", x)``, each store is
  followed by ``__race__.wv(__race_m__, "x")``;
* a closure cell (a variable of a function that a nested function uses: a
  loop variable captured late, a ``nonlocal``): the defining function makes
  a token ``__race_sN__ = __race__.scope("f")`` on entry, reads and stores
  are recorded against it as for globals.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import sysconfig
from collections.abc import Sequence
from types import CodeType, ModuleType
from typing import Any

from . import rt as _rt

RT = "__race__"
MOD = "__race_m__"
_READ_BUILTINS = frozenset(
    {"len", "sorted", "list", "tuple", "sum", "min", "max", "any", "all", "enumerate",
     "reversed", "zip", "iter", "set", "frozenset", "dict", "map", "filter"}
)  # fmt: skip
_METHODS = _rt.MUTATORS | _rt.READERS

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _Scope:
    def __init__(self, node: ast.AST | None, kind: str, parent: _Scope | None, n: int) -> None:
        self.node = node
        self.kind = kind  # "module", "function", "lambda", "comp", "class"
        self.parent = parent
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.cells: set[str] = set()
        self.token = f"__race_s{n}__"
        self.name = getattr(node, "name", "<lambda>") if node is not None else "<module>"


def _targets(t: ast.AST, out: set[str]) -> None:
    if isinstance(t, ast.Name):
        out.add(t.id)
    elif isinstance(t, (ast.Tuple, ast.List)):
        for e in t.elts:
            _targets(e, out)
    elif isinstance(t, ast.Starred):
        _targets(t.value, out)


class _Collect(ast.NodeVisitor):
    """Pass 1: every scope's locals and declarations; the module's rebound globals."""

    def __init__(self) -> None:
        self.scopes: dict[ast.AST, _Scope] = {}
        self.module = _Scope(None, "module", None, 0)
        self.cur = self.module
        self.n = 0
        self.declared_global: set[str] = set()
        self.module_stores: dict[str, int] = {}

    def _push(self, node: ast.AST, kind: str) -> _Scope:
        self.n += 1
        s = _Scope(node, kind, self.cur, self.n)
        self.scopes[node] = s
        return s

    def _store(self, name: str, weight: int = 1) -> None:
        self.cur.locals.add(name)
        if self.cur is self.module:
            self.module_stores[name] = self.module_stores.get(name, 0) + weight

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for d in getattr(node, "decorator_list", []):
            self.visit(d)
        for d in node.args.defaults + [k for k in node.args.kw_defaults if k is not None]:
            self.visit(d)
        if not isinstance(node, ast.Lambda):
            self._store(node.name)
        s = self._push(node, "lambda" if isinstance(node, ast.Lambda) else "function")
        a = node.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs:
            s.locals.add(arg.arg)
        for va in (a.vararg, a.kwarg):
            if va is not None:
                s.locals.add(va.arg)
        saved, self.cur = self.cur, s
        if isinstance(node, ast.Lambda):
            self.visit(node.body)
        else:
            for st in node.body:
                self.visit(st)
        self.cur = saved

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for d in node.decorator_list + node.bases:
            self.visit(d)
        self._store(node.name)
        s = self._push(node, "class")
        saved, self.cur = self.cur, s
        for st in node.body:
            self.visit(st)
        self.cur = saved

    def _comp(self, node: ast.AST) -> None:
        s = self._push(node, "comp")
        saved, self.cur = self.cur, s
        for g in node.generators:  # type: ignore[attr-defined]
            _targets(g.target, s.locals)
        self.generic_visit(node)
        self.cur = saved

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comp

    def visit_Global(self, node: ast.Global) -> None:
        self.cur.globals.update(node.names)
        self.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.cur.nonlocals.update(node.names)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._store(node.id)

    def visit_For(self, node: ast.For) -> None:
        names: set[str] = set()
        _targets(node.target, names)
        for n in names:
            self._store(n, 2)  # rebound on every iteration
        self.generic_visit(node)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self._store(node.target.id, 2)
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        for a in node.names:
            self._store((a.asname or a.name).split(".")[0])

    visit_Import = visit_ImportFrom = _import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._store(node.name)
        self.generic_visit(node)


def _resolve(s: _Scope, name: str, mutable: set[str]) -> tuple[str, _Scope | None]:
    """("local" | "cell" | "free" | "global" | "", defining scope)."""
    if s.kind == "module":
        return ("global", None) if name in mutable else ("", None)
    if name in s.globals:
        return ("global", None) if name in mutable else ("", None)
    if name in s.locals and name not in s.nonlocals:
        if s.kind == "class":
            return "", None
        return ("cell" if name in s.cells else "local"), s
    p = s.parent
    while p is not None and p.kind != "module":
        if (
            p.kind != "class"
            and name in p.locals
            and name not in p.nonlocals
            and name not in p.globals
        ):
            return "free", p
        p = p.parent
    return ("global", None) if name in mutable else ("", None)


def _is_doc(st: ast.stmt) -> bool:
    return (
        isinstance(st, ast.Expr)
        and isinstance(st.value, ast.Constant)
        and isinstance(st.value.value, str)
    )


def _call(fn: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(
        func=ast.Attribute(value=ast.Name(id=RT, ctx=ast.Load()), attr=fn, ctx=ast.Load()),
        args=args,
        keywords=[],
    )
    return ast.copy_location(node, like)


def _const(v: str, like: ast.AST) -> ast.Constant:
    return ast.copy_location(ast.Constant(value=v), like)


class _Mark(ast.NodeVisitor):
    """Pass 2: which function variables are closure cells (used by a nested
    function and instrumentable: the definer is a def, not a lambda)."""

    def __init__(self, c: _Collect, mutable: set[str]) -> None:
        self.c = c
        self.mutable = mutable
        self.cur = c.module

    def generic_visit(self, node: ast.AST) -> None:
        s = self.c.scopes.get(node)
        if s is not None:
            saved, self.cur = self.cur, s
            super().generic_visit(node)
            self.cur = saved
        else:
            super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        s = self.cur
        if node.id in s.nonlocals or (node.id not in s.locals and s.kind != "module"):
            kind, owner = _resolve(s, node.id, self.mutable)
            if kind == "free" and owner is not None and owner.kind == "function":
                owner.cells.add(node.id)


class _Rewrite(ast.NodeTransformer):
    """Pass 3: the rewrite."""

    def __init__(self, c: _Collect, mutable: set[str]) -> None:
        self.c = c
        self.mutable = mutable
        self.cur = c.module

    # -- scopes --------------------------------------------------------------

    def _in(self, node: ast.AST) -> Any:
        s = self.c.scopes[node]
        saved, self.cur = self.cur, s
        try:
            return self.generic_visit(node)
        finally:
            self.cur = saved

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Any:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [
            None if d is None else self.visit(d) for d in node.args.kw_defaults
        ]
        s = self.c.scopes[node]
        saved, self.cur = self.cur, s
        try:
            body: list[ast.stmt] = []
            for st in node.body:
                r = self.visit(st)
                body.extend(r if isinstance(r, list) else [r])
            if s.cells:
                make = ast.Assign(
                    targets=[ast.Name(id=s.token, ctx=ast.Store())],
                    value=_call("scope", [ast.Constant(value=s.name)], node),
                )
                at = 1 if body and _is_doc(body[0]) else 0
                body.insert(at, ast.copy_location(make, node.body[0]))
            node.body = body
        finally:
            self.cur = saved
        return self._after_store(node, {node.name})

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [
            None if d is None else self.visit(d) for d in node.args.kw_defaults
        ]
        s = self.c.scopes[node]
        saved, self.cur = self.cur, s
        try:
            node.body = self.visit(node.body)
        finally:
            self.cur = saved
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        return self._after_store(self._in(node), {node.name})

    def _comp(self, node: ast.AST) -> Any:
        return self._in(node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comp

    # -- names ---------------------------------------------------------------

    def _token(self, name: str) -> ast.expr | None:
        kind, owner = _resolve(self.cur, name, self.mutable)
        if kind == "global":
            return ast.Name(id=MOD, ctx=ast.Load())
        if kind in ("cell", "free") and owner is not None and name in owner.cells:
            return ast.Name(id=owner.token, ctx=ast.Load())
        return None

    def visit_Name(self, node: ast.Name) -> Any:
        if isinstance(node.ctx, ast.Load) and not node.id.startswith("__race"):
            tok = self._token(node.id)
            if tok is not None:
                return _call("rv", [tok, _const(node.id, node), node], node)
        return node

    def _records(self, names: set[str], like: ast.AST) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for name in sorted(names):
            tok = self._token(name)
            if tok is not None:
                out.append(
                    ast.copy_location(
                        ast.Expr(value=_call("wv", [tok, _const(name, like)], like)), like
                    )
                )
        return out

    def _after_store(self, node: ast.stmt, names: set[str]) -> Any:
        recs = self._records(names, node)
        return [node, *recs] if recs else node

    def _stored(self, targets: Sequence[ast.AST]) -> set[str]:
        names: set[str] = set()
        for t in targets:
            _targets(t, names)
        return names

    def visit_Assign(self, node: ast.Assign) -> Any:
        names = self._stored(node.targets)
        return self._after_store(self.generic_visit(node), names)  # type: ignore[arg-type]

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        names = self._stored([node.target])
        return self._after_store(self.generic_visit(node), names)  # type: ignore[arg-type]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        names = self._stored([node.target]) if node.value is not None else set()
        node.annotation = node.annotation  # annotations are not accesses
        if node.value is not None:
            node.value = self.visit(node.value)
        node.target = self.visit(node.target)
        return self._after_store(node, names)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> Any:
        names = self._stored([node.target])
        node.iter = _call("rc", [self.visit(node.iter)], node.iter)
        node.target = self.visit(node.target)
        body: list[ast.stmt] = []
        for st in node.body:
            r = self.visit(st)
            body.extend(r if isinstance(r, list) else [r])
        node.body = self._records(names, node) + body
        orelse: list[ast.stmt] = []
        for st in node.orelse:
            r = self.visit(st)
            orelse.extend(r if isinstance(r, list) else [r])
        node.orelse = orelse
        return node

    visit_AsyncFor = visit_For

    # -- attributes, subscripts, calls ----------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        node.value = self.visit(node.value)
        if isinstance(node.value, ast.Name) and node.value.id.startswith("__race"):
            return node
        if isinstance(node.ctx, ast.Load):
            return _call("ga", [node.value, _const(node.attr, node)], node)
        node.value = _call("wa", [node.value, _const(node.attr, node)], node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        value = self.visit(node.value)
        sl = self.visit(node.slice)
        if isinstance(node.ctx, ast.Load):
            if isinstance(sl, ast.Slice):
                node.value = _call("rc", [value], node)
                node.slice = sl
                return node
            return _call("gi", [value, sl], node)
        node.value = _call("wi", [value], node)
        node.slice = sl
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in _METHODS and isinstance(f.ctx, ast.Load):
            obj = self.visit(f.value)
            node.func = _call("mc", [obj, _const(f.attr, f)], f)
        else:
            node.func = self.visit(f)
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        if (
            isinstance(f, ast.Name)
            and f.id in _READ_BUILTINS
            and node.args
            and not isinstance(node.args[0], ast.Starred)
        ):
            node.args[0] = _call("rc", [node.args[0]], node.args[0])
        return node

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        node.comparators = [
            _call("rc", [c], c) if isinstance(op, (ast.In, ast.NotIn)) else c
            for op, c in zip(node.ops, node.comparators, strict=True)
        ]
        return node


def rewrite(tree: ast.Module) -> ast.Module:
    """The instrumented module."""
    c = _Collect()
    c.visit(tree)
    mutable = set(c.declared_global) | {n for n, k in c.module_stores.items() if k > 1}
    _Mark(c, mutable).visit(tree)
    tree = _Rewrite(c, mutable).visit(tree)
    head: list[ast.stmt] = []
    body = list(tree.body)
    while body and (
        (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and not head)
        or (isinstance(body[0], ast.ImportFrom) and body[0].module == "__future__")
    ):
        head.append(body.pop(0))
    prelude = ast.parse(
        f"import goroutines._race.rt as {RT}\n{MOD} = {RT}.module(globals())\n"
    ).body
    tree.body = head + prelude + body
    ast.fix_missing_locations(tree)
    return tree


def compile_source(source: str | bytes, path: str) -> CodeType:
    tree = ast.parse(source, filename=path)
    return compile(rewrite(tree), path, "exec", dont_inherit=True)


# -- which modules ------------------------------------------------------------------


def _excluded_dirs() -> list[str]:
    out = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            out.append(os.path.abspath(p) + os.sep)
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out.append(pkg + os.sep)
    return out


class _Loader(importlib.machinery.SourceFileLoader):
    """Compiles the instrumented module; writes no bytecode cache (a plain
    run must never load instrumented code)."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        return compile_source(self.get_data(path), path)


class Finder(importlib.abc.MetaPathFinder):
    """Instruments the modules under ``root`` (the script's directory) and
    the packages in ``include``, never those in ``exclude``, the standard
    library, site-packages or goroutines itself."""

    def __init__(self, root: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.root = os.path.abspath(root) + os.sep
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.skip = _excluded_dirs()

    @staticmethod
    def _in(name: str, pkgs: Sequence[str]) -> bool:
        return any(name == p or name.startswith(p + ".") for p in pkgs)

    def wants(self, name: str, origin: str) -> bool:
        if self._in(name, self.exclude) or name.split(".")[0] == "goroutines":
            return False
        if self._in(name, self.include):
            return True
        path = os.path.abspath(origin)
        if any(path.startswith(s) for s in self.skip):
            return False
        return path.startswith(self.root)

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None) -> Any:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            origin = spec.origin
            if (
                isinstance(spec.loader, importlib.machinery.SourceFileLoader)
                and origin
                and origin.endswith(".py")
                and self.wants(fullname, origin)
            ):
                spec.loader = _Loader(fullname, origin)
            return spec
        return None


def install(root: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Finder:
    f = Finder(root, include, exclude)
    sys.meta_path.insert(0, f)
    return f

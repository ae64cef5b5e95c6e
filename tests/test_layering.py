"""The package's layering, read from the source (AST), imports in functions included.

* The runtime core (``goroutines._runtime``) is a leaf: it imports nothing
  above it, not even for type checking.
* Inside the core, a module imports only modules before it in the import
  order that sched.py's docstring gives (type-checking imports aside); the
  one late import it names (getp attaching a thread through proc) is the
  only exception.
* No cycle between the top-level modules (``_chan``, ``_aio``, ``_select``,
  ``_sync``, ``context``...; the core counts as one): imports under
  ``if TYPE_CHECKING:`` are left out there, as they never run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import goroutines

PKG = "goroutines"
CORE = "goroutines._runtime"
SRC = Path(goroutines.__file__).parent

# (importer, imported): the late import sched.py's docstring names.
ALLOWED_LATE = {("goroutines._runtime.sched", "goroutines._runtime.proc")}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PKG, *parts])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(root: Path, path: Path) -> list[tuple[str, bool, int]]:
    """(imported module, under TYPE_CHECKING, line) for every import in the
    file, at any depth. ``from . import x`` names the module ``pkg.x`` when
    that is a module, else the package."""
    name = module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, bool, int]] = []

    def is_module(dotted: str) -> bool:
        rel = Path(*dotted.split(".")[1:])
        return (root / rel).with_suffix(".py").exists() or (root / rel / "__init__.py").exists()

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PKG or alias.name.startswith(PKG + "."):
                    found.append((alias.name, typing_only, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == PKG or target.startswith(PKG + "."):
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.append((sub if is_module(sub) else target, typing_only, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


def graph(root: Path) -> dict[str, list[tuple[str, bool, int]]]:
    return {module_name(root, p): imports_of(root, p) for p in sorted(root.rglob("*.py"))}


def core_order(root: Path) -> list[str]:
    """The core's import order, as sched.py's docstring states it."""
    doc = ast.get_docstring(ast.parse((root / "_runtime" / "sched.py").read_text())) or ""
    m = re.search(r"Import order \(.*?\):\s*(.*?)\.\s", doc, re.S)
    assert m is not None, "sched.py's docstring states no import order"
    return [f"{CORE}.{w.strip()}" for w in m.group(1).split(",")]


def upward_imports(root: Path) -> list[str]:
    bad = []
    for mod, imps in graph(root).items():
        if mod == CORE or mod.startswith(CORE + "."):
            for target, _, line in imps:
                if not (target == CORE or target.startswith(CORE + ".")):
                    bad.append(f"{mod}:{line} imports {target}")
    return bad


def core_order_violations(root: Path) -> list[str]:
    order = core_order(root)
    rank = {m: i for i, m in enumerate(order)}
    bad = []
    for mod, imps in graph(root).items():
        if not mod.startswith(CORE + "."):
            continue
        if mod not in rank:
            bad.append(f"{mod} is missing from sched.py's import order")
            continue
        for target, typing_only, line in imps:
            if typing_only or (mod, target) in ALLOWED_LATE:
                continue
            if target in rank and rank[target] >= rank[mod]:
                bad.append(f"{mod}:{line} imports {target}, which comes after it")
    return bad


def top_level(mod: str) -> str | None:
    parts = mod.split(".")
    if len(parts) < 2 or parts[1] in ("__init__", "__main__"):
        return None
    return ".".join(parts[:2])


def top_level_cycles(root: Path) -> list[list[str]]:
    edges: dict[str, set[str]] = {}
    for mod, imps in graph(root).items():
        src = top_level(mod)
        if src is None:
            continue
        for target, typing_only, _ in imps:
            dst = top_level(target)
            if dst is not None and dst != src and not typing_only:
                edges.setdefault(src, set()).add(dst)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                cycles.append([*stack[stack.index(m) :], m])
            elif m not in state:
                dfs(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            dfs(n)
    return cycles


def test_the_walk_sees_imports_in_functions_and_type_checking_blocks() -> None:
    imps = graph(SRC)
    assert ("goroutines._runtime.proc", False) in {
        (t, tc) for t, tc, _ in imps["goroutines._runtime.sched"]
    }  # getp's late import
    assert ("goroutines._runtime.sched", True) in {
        (t, tc) for t, tc, _ in imps["goroutines._runtime.g"]
    }


def test_the_core_imports_nothing_above_it() -> None:
    assert upward_imports(SRC) == []


def test_the_core_modules_import_in_the_stated_order() -> None:
    assert core_order_violations(SRC) == []


def test_no_cycle_between_top_level_modules() -> None:
    assert top_level_cycles(SRC) == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("from ..errors import throw\n", "upward"),
        ("def f():\n    from .. import _chan\n", "upward"),
        ("from . import proc\n", "order"),
    ],
)
def test_a_bad_import_is_caught(tmp_path: Path, source: str, problem: str) -> None:
    # A copy of the package with one bad import added to the core's timers.py.
    root = tmp_path / PKG
    for path in SRC.rglob("*.py"):
        dst = root / path.relative_to(SRC)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(path.read_text())
    timers = root / "_runtime" / "timers.py"
    timers.write_text(timers.read_text() + "\n" + source)
    if problem == "upward":
        assert any("timers" in b for b in upward_imports(root))
    else:
        assert any("timers" in b for b in core_order_violations(root))


def test_a_cycle_through_a_function_level_import_is_caught(tmp_path: Path) -> None:
    root = tmp_path / PKG
    for path in SRC.rglob("*.py"):
        dst = root / path.relative_to(SRC)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(path.read_text())
    aio = root / "_aio.py"
    aio.write_text(aio.read_text() + "\ndef f():\n    from ._chan import Chan\n")
    assert any("goroutines._aio" in c and "goroutines._chan" in c for c in top_level_cycles(root))


def test_goroutines_errors_are_the_cores_classes() -> None:
    from goroutines import errors
    from goroutines._runtime import errors as core_errors

    for name in errors.__all__:
        assert getattr(errors, name) is getattr(core_errors, name), name
        assert getattr(errors, name).__module__ == "goroutines.errors"
    assert errors.throw is core_errors.throw


def test_the_net_layers_errors_are_defined_in_the_core() -> None:
    from goroutines._runtime.errors import DeadlineExceeded, NetClosedError

    assert issubclass(DeadlineExceeded, TimeoutError)
    assert "i/o timeout" in str(DeadlineExceeded())
    assert issubclass(NetClosedError, OSError)
    assert str(NetClosedError()) == "use of closed network connection"


def test_attention_is_mirrored_into_the_modules_that_read_it_as_a_global() -> None:
    # proc and netpoll read attention as a global of their own (one load per
    # schedule); every store through _set_attention reaches them.
    from goroutines._runtime import netpoll, proc, sched

    assert sched.attention is False
    try:
        sched._set_attention(True)
        assert sched.attention is proc.attention is netpoll.attention is True
    finally:
        sched._set_attention(False)
    assert sched.attention is proc.attention is netpoll.attention is False

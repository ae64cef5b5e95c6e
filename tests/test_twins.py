"""The accelerator's registry of ports (accel.PORTS) against the code.

Each C port mirrors a Python twin line by line. Nothing but this file notices
when a twin changes and its port does not: each twin's code is pinned in the
registry by a hash of its syntax tree (positions and docstrings left out, so
moving or re-documenting a function changes nothing). A twin that changed
fails here, naming the C functions to read again; once the port agrees (or
was changed to), paste the new hash into accel.py.

The rest checks that the registry names real things: every slot on its
class, in the order the C offset tables list them; every function on the
extension; every C function in the sources; every twin in its module.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from goroutines._runtime import accel
from goroutines._runtime.accel import PORTS

C_SOURCES = Path(accel.__file__).parent / "_speedups"

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _twin_node(qualified: str) -> ast.AST:
    """The definition named ``"module:Qual.name"`` in its module's source
    (the Python twin itself, even where the port has replaced it)."""
    mod_name, _, qual = qualified.partition(":")
    spec = importlib.util.find_spec(mod_name)
    assert spec is not None and spec.origin is not None, f"{qualified}: no module {mod_name}"
    node: Any = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for part in qual.split("."):
        found = [n for n in node.body if isinstance(n, _DEFS) and n.name == part]
        assert found, f"{qualified}: {mod_name} defines no {part!r} (accel.PORTS names it)"
        node = found[-1]  # the definition that stands, as at run time
    return node


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (*_DEFS, ast.Module))
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _dump(x: Any) -> str:
    """ast.dump without positions, and without the fields left None or empty,
    which ast.dump prints or omits depending on the Python version (3.12's
    type_params, 3.13's omitted defaults): the same text on 3.11-3.13."""
    if isinstance(x, ast.AST):
        fields = [f"{k}={_dump(v)}" for k, v in ast.iter_fields(x) if v is not None and v != []]
        return f"{type(x).__name__}({', '.join(fields)})"
    if isinstance(x, list):
        return f"[{', '.join(map(_dump, x))}]"
    return repr(x)


def twin_hash(qualified: str) -> str:
    """The pinned hash of a twin: its syntax tree without positions or
    docstrings (_dump), sha256, 16 hex digits."""
    return hashlib.sha256(_dump(_strip_docstrings(_twin_node(qualified))).encode()).hexdigest()[:16]


TWINS = [(port, twin) for port in PORTS.values() for twin in port.twins]


@pytest.mark.parametrize(("port", "twin"), TWINS, ids=[f"{p.name}:{t.python}" for p, t in TWINS])
def test_twin_unchanged_since_its_port_was_read(port: accel.Port, twin: accel.Twin) -> None:
    new = twin_hash(twin.python)
    assert new == twin.hash, (
        f"the Python twin {twin.python} changed since its C port was last checked "
        f"against it. Read the C function(s) {', '.join(twin.c)} "
        f"(port {port.name!r}, src/goroutines/_runtime/_speedups/) against the new "
        f"twin and bring them in line (or confirm they are); then paste the new "
        f"hash into accel.PORTS[{port.name!r}]: Twin({twin.python!r}, ..., {new!r})"
    )


def test_hash_ignores_positions_and_docstrings() -> None:
    a = ast.parse('def f(x):\n    """Doc."""\n    return x + 1\n')
    b = ast.parse("\n\n\ndef f(x):\n    return x + 1  # moved, undocumented\n")
    c = ast.parse("def f(x):\n    return x + 2\n")

    def h(t: ast.AST) -> str:
        return _dump(_strip_docstrings(t))

    assert h(a) == h(b) != h(c)


def test_every_twin_exists_in_its_module() -> None:
    for _, twin in TWINS:
        mod_name, _, qual = twin.python.partition(":")
        obj: Any = importlib.import_module(mod_name)
        for part in qual.split("."):
            assert hasattr(obj, part), f"{twin.python}: no {part!r} at run time"
            obj = getattr(obj, part)


@pytest.mark.parametrize("name", list(PORTS))
def test_every_slot_is_a_slot_of_its_class(name: str) -> None:
    for cls_name, slots in PORTS[name].slots:
        cls = accel.resolve(cls_name)
        assert isinstance(cls, type), cls_name
        for slot in slots:
            assert any(slot in getattr(b, "__slots__", ()) for b in cls.__mro__), (
                f"accel.PORTS[{name!r}]: {cls_name} has no slot {slot!r}"
            )
    descriptors = accel.slot_descriptors(name)
    assert all(type(d).__name__ == "member_descriptor" for d in descriptors)
    assert len(descriptors) == sum(len(s) for _, s in PORTS[name].slots)


def _c_sources() -> str:
    files = sorted(C_SOURCES.glob("*.[ch]"))
    if not files:
        pytest.skip("the C sources are not here (an installed wheel)")
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


@pytest.mark.parametrize("name", list(PORTS))
def test_slot_order_matches_the_c_offset_table(name: str) -> None:
    src = _c_sources()
    table = re.search(rf"static const SlotTarget {name}_slots\[\] = \{{(.*?)\n\}};", src, re.DOTALL)
    expected = [
        (cls_name.rpartition(":")[2], slot)
        for cls_name, slots in PORTS[name].slots
        for slot in slots
    ]
    if table is None:
        assert not expected, f"{name}: slots listed, but no {name}_slots table in the C sources"
        return
    listed = re.findall(r"/\* (\w+)\.(\w+) \*/", table.group(1))
    assert listed == expected, (
        f"the offset table {name}_slots in the C sources and accel.PORTS[{name!r}].slots "
        f"list the slots in different orders"
    )


def test_no_slot_name_strings_in_c() -> None:
    src = _c_sources()
    strings = set(re.findall(r'"([A-Za-z_][A-Za-z_0-9]*)"', src))
    slot_names = {s for p in PORTS.values() for _, slots in p.slots for s in slots}
    slot_names -= set(PORTS)  # "chan" names a port (in setup errors) as well as Waiter.chan
    assert not strings & slot_names, (
        f"slot names as C string literals: {sorted(strings & slot_names)}; the setup "
        f"functions receive the slot descriptors from accel.PORTS instead"
    )


def test_every_c_function_named_is_in_the_sources() -> None:
    src = _c_sources()
    for port in PORTS.values():
        for twin in port.twins:
            for fn in twin.c:
                assert re.search(rf"^{fn}\(", src, re.M), (
                    f"accel.PORTS[{port.name!r}]: no C function {fn} (twin {twin.python})"
                )


def test_every_c_port_names_its_twin() -> None:
    # Each C function that ports a twin opens with a comment naming it.
    src = _c_sources()
    for port in PORTS.values():
        for twin in port.twins:
            short = twin.python.rpartition(":")[2].rpartition(".")
            name = short[2] if short[0] == "" else f"{short[0]}.{short[2]}"
            assert re.search(rf"Twin:[^*]*\b{re.escape(name)}\b", src), (
                f"no C comment says 'Twin: ... {name}' (port {port.name!r})"
            )


@pytest.mark.skipif(accel.speedups is None, reason="the C accelerator is not active")
def test_every_function_named_is_on_the_extension() -> None:
    for port in PORTS.values():
        for fn in port.functions:
            assert hasattr(accel.speedups, fn), f"the extension has no {fn} (port {port.name!r})"


def test_needs_name_ports() -> None:
    for port in PORTS.values():
        assert set(port.needs) <= set(PORTS) - {port.name}, port.name

"""The public API's static types, checked by ``mypy --strict`` on the files in
tests/typing: ``reveal_type(x)  # T: <type>`` must reveal exactly that type,
a line marked ``# E: <codes>`` must fail with exactly those error codes, and
no other line may fail.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"
FILES = sorted(TYPING.glob("*.py"))

_MARK = re.compile(r"#\s*([TE]):\s*(.+?)\s*$")
_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>error|note): (?P<msg>.*)$")
_CODE = re.compile(r"\s+\[(?P<code>[a-z-]+)\]$")
_REVEALED = re.compile(r'^Revealed type is "(?P<type>.*)"$')


@pytest.fixture(scope="module")
def mypy_output() -> str:
    # Imported here, not at collection: only this test needs mypy loaded.
    api = pytest.importorskip("mypy.api")
    stdout, stderr, _status = api.run(
        [
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            "--show-absolute-path",
            *map(str, FILES),
        ]
    )
    assert not stderr, stderr
    return stdout


def _expected(path: Path) -> tuple[dict[int, str], dict[int, set[str]]]:
    reveals: dict[int, str] = {}
    errors: dict[int, set[str]] = {}
    for n, text in enumerate(path.read_text().splitlines(), 1):
        m = _MARK.search(text)
        if m is None:
            continue
        if m[1] == "T":
            reveals[n] = m[2]
        else:
            errors[n] = set(m[2].split())
    return reveals, errors


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_types(path: Path, mypy_output: str) -> None:
    want_reveals, want_errors = _expected(path)
    assert want_reveals or want_errors, f"{path.name} checks nothing"
    reveals: dict[int, str] = {}
    errors: dict[int, set[str]] = defaultdict(set)
    for text in mypy_output.splitlines():
        m = _LINE.match(text)
        assert m is not None or not text.strip(), f"unexpected mypy output: {text}"
        if m is None or Path(m["file"]).resolve() != path:
            continue
        line = int(m["line"])
        if m["kind"] == "error":
            code = _CODE.search(m["msg"])
            errors[line].add(code["code"] if code else m["msg"])
        elif (r := _REVEALED.match(m["msg"])) is not None:
            reveals[line] = r["type"]
    assert reveals == want_reveals
    assert dict(errors) == want_errors

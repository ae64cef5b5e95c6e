"""The docs cover the whole public API, and their runnable code runs.

Conventions for docs/*.md and README.md (stated in docs/README.md):
  * a ```python block is a complete program: this file runs each one in a
    fresh interpreter, with a timeout, and it must exit with status 0;
  * a ```output block right after a ```python block is that program's
    exact standard output;
  * a ```py block is a fragment (for reading, not run).
Every public name of ``goroutines``, ``goroutines.context``,
``goroutines.errgroup`` and the modules in MODULES (their ``__all__``) must appear in code (an inline
`code` span or a code block) in docs/guide.md or docs/go-to-python.md, and
every one of those and of ``goroutines.errors`` in docs/api.md.
Relative links between the docs, README.md and examples/ must resolve.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The files this convention governs (docs/benchmarks.md has its own author).
DOC_FILES = ["README.md", "docs/README.md", "docs/guide.md", "docs/go-to-python.md",
             "docs/differences.md", "docs/api.md", "docs/HACKING.md"]
NAME_DOCS = ["docs/guide.md", "docs/go-to-python.md"]
MODULES = ["goroutines", "goroutines.context", "goroutines.errgroup", "goroutines.net",
           "goroutines.synctest", "goroutines.testing", "goroutines.trace"]
# The API reference names every public name of these (their __all__).
API_DOC = "docs/api.md"
API_MODULES = [*MODULES, "goroutines.errors"]
TIMEOUT = 30.0

FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass
class Block:
    doc: str
    line: int
    code: str
    output: str | None

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def read(doc: str) -> str:
    return (ROOT / doc).read_text()


def runnable_blocks() -> list[Block]:
    blocks = []
    for doc in DOC_FILES:
        if not (ROOT / doc).exists():
            continue
        text = read(doc)
        fences = list(FENCE.finditer(text))
        for i, m in enumerate(fences):
            if m.group(1) != "python":
                continue
            output = None
            if i + 1 < len(fences):
                nxt = fences[i + 1]
                between = text[m.end() : nxt.start()]
                if nxt.group(1) == "output" and between.strip() == "":
                    output = nxt.group(2)
            blocks.append(Block(doc, text.count("\n", 0, m.start()) + 1, m.group(2), output))
    return blocks


BLOCKS = runnable_blocks()


def test_docs_exist() -> None:
    for doc in DOC_FILES:
        assert (ROOT / doc).is_file(), f"{doc} is missing"
    assert len(BLOCKS) >= 10, "the guide should carry runnable examples"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_runnable_block(block: Block) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1")
    env.pop("GOROUTINES_DEADLOCK", None)
    proc = subprocess.run([sys.executable, "-c", block.code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)
    context = (f"\n{block.id}: exit {proc.returncode}\n--- code ---\n{block.code}"
               f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}")
    assert proc.returncode == 0, context
    if block.output is not None:
        assert proc.stdout == block.output, context


def code_text(doc: str) -> str:
    """Everything in doc that is code: fenced blocks and `inline spans`."""
    text = read(doc)
    fenced = [m.group(2) for m in FENCE.finditer(text)]
    prose = FENCE.sub("", text)
    inline = re.findall(r"`([^`\n]+)`", prose)
    return "\n".join(fenced + inline)


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_is_documented(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(getattr(mod, "__all__", []))
    assert names, f"{module} has no __all__"
    code = "\n".join(code_text(doc) for doc in NAME_DOCS)
    missing = [n for n in names if not re.search(rf"(?<![\w.]){re.escape(n)}\b", code)
               and not re.search(rf"\.{re.escape(n)}\b", code)]
    assert missing == [], f"{module}: not in the guide or the mapping table: {missing}"


@pytest.mark.parametrize("module", API_MODULES)
def test_api_reference_names_every_public_name(module: str) -> None:
    mod = importlib.import_module(module)
    code = code_text(API_DOC)
    missing = [n for n in mod.__all__ if not re.search(rf"(?<!\w){re.escape(n)}\b", code)]
    assert missing == [], f"{module}: not in {API_DOC}: {missing}"


# Where the code cites the API reference: docs/api.md#<heading slug>.
CITATION = re.compile(r"docs/api\.md#([\w-]+)")
OUTSIDE = "API" + ".md"  # the contract kept outside the repository


def test_code_cites_the_api_reference_in_the_repository() -> None:
    anchors_ = anchors(ROOT / API_DOC)
    sources = [*ROOT.glob("src/goroutines/**/*.py"), *ROOT.glob("src/goroutines/**/*.c"),
               *ROOT.glob("tests/**/*.py")]
    for path in sources:
        text = path.read_text()
        rel = path.relative_to(ROOT)
        assert OUTSIDE not in text, f"{rel} cites {OUTSIDE}, which is not in the repository"
        for anchor in CITATION.findall(text):
            assert anchor in anchors_, f"{rel}: no heading for #{anchor} in {API_DOC}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {slug(h) for h in re.findall(r"^#+\s+(.*)$", text, re.M)}


# Produced by `make bench` (bench/), not by these docs: a link to it is
# checked once it exists.
GENERATED = {ROOT / "docs" / "benchmarks.md"}


@pytest.mark.parametrize("doc", DOC_FILES)
def test_links_resolve(doc: str) -> None:
    path = ROOT / doc
    text = re.sub(r"`[^`\n]+`", "", FENCE.sub("", path.read_text()))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # an external URL
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if dest in GENERATED and not dest.exists():
            continue
        assert dest.exists(), f"{doc}: broken link {target}"
        if anchor and dest.suffix == ".md":
            assert anchor in anchors(dest), f"{doc}: no heading for #{anchor} in {dest.name}"

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

Layout: this module drives (files, ``# noqa``, the command line);
``checker.py`` holds the checks; ``flow.py`` the control-flow questions of
GO105 and GO108; ``names.py`` the library's names, import resolution and
the AST helpers. Nothing here imports the runtime.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterable, Iterator

from .checker import Finding, _Checker

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

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


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

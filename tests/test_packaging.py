"""pyproject.toml: the build requirements match the metadata they must build."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_setuptools_requirement_supports_the_license_expression() -> None:
    # ``license = "MIT"`` (an SPDX expression, PEP 639) is understood from
    # setuptools 77 on; an older one rejects the string form, so a build
    # environment holding the oldest allowed setuptools would fail.
    data = tomllib.loads(PYPROJECT.read_text())
    assert isinstance(data["project"]["license"], str)
    reqs = [Requirement(r) for r in data["build-system"]["requires"]]
    (setuptools,) = [r for r in reqs if r.name == "setuptools"]
    assert Version("77.0.0") in setuptools.specifier
    for too_old in ("68.0.0", "76.1.0"):
        assert Version(too_old) not in setuptools.specifier, (
            f"setuptools {too_old} is allowed by {setuptools} but cannot build license = "
            f"{data['project']['license']!r}"
        )

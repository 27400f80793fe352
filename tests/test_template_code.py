"""The template repository's own code meets the bar it sets for generated projects."""

from __future__ import annotations

import pytest

from tests.matrix import ROOT
from tests.render import run_tool

pytestmark = pytest.mark.xdist_group("template-code")


def test_ruff_clean() -> None:
    run_tool(ROOT, "ruff", "check", "--no-cache", ".")
    run_tool(ROOT, "ruff", "format", "--check", "--no-cache", ".")


def test_mypy_strict_clean() -> None:
    run_tool(ROOT, "mypy")

"""The template repository's own code meets the bar it sets for generated projects."""

from __future__ import annotations

import pytest

from tests.render import run_template_tool

pytestmark = pytest.mark.xdist_group("template-code")


def test_ruff_clean() -> None:
    run_template_tool("ruff", "check", "--no-cache", ".")
    run_template_tool("ruff", "format", "--check", "--no-cache", ".")


def test_mypy_strict_clean() -> None:
    run_template_tool("mypy")

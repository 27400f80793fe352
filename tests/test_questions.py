"""The questions: derived defaults, and bad answers refused with the question's name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.answers import BAD_ANSWERS, BadAnswer
from tests.render import render, run_tool

pytestmark = pytest.mark.xdist_group("questions")


@pytest.mark.parametrize("bad", [pytest.param(bad, id=bad.id) for bad in BAD_ANSWERS])
def test_bad_answers_are_refused_naming_the_question(tmp_path: Path, bad: BadAnswer) -> None:
    with pytest.raises(ValueError, match=f"'{bad.question}'") as refused:
        render(tmp_path / "project", {bad.question: bad.answer})

    assert bad.message in str(refused.value)
    assert not (tmp_path / "project" / "pyproject.toml").exists()


def test_names_are_derived_from_the_project_name(tmp_path: Path) -> None:
    project = render(tmp_path / "project", {"project_name": "Billing API v2"})

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == "billing-api-v2"
    assert answers["package_name"] == "billing_api_v2"
    assert (project / "src" / "billing_api_v2" / "app.py").exists()
    assert 'name = "billing-api-v2"' in (project / "pyproject.toml").read_text()


def test_derived_values_are_not_stored_as_answers(tmp_path: Path) -> None:
    project = render(tmp_path / "project", {})

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert "default_database_url" not in answers
    assert answers["_src_path"]


def test_a_long_package_name_still_lints_clean(tmp_path: Path) -> None:
    """Import lines grow with the package name; formatting must hold for long names too."""
    project = render(tmp_path / "project", {"project_name": "Inventory Reconciliation Service"})

    run_tool(project, "ruff", "check", "--no-cache", ".")
    run_tool(project, "ruff", "format", "--check", "--no-cache", ".")

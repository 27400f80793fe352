"""Bad answers and misuse end in a clear message and leave nothing half done."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.answers import BAD_ANSWERS
from tests.git_support import commit_all, is_clean, tree_files
from tests.matrix import axes
from tests.update_support import (
    CURRENT,
    build_template,
    cookiecutter_cli,
    copier_cli,
    generate,
    run_framework_guard_after_update,
)

BAD = [pytest.param(bad.question, bad.answer, bad.message, id=bad.id) for bad in BAD_ANSWERS]
CHOICES = axes()


@pytest.fixture(scope="session")
def misuse_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("template"))


@pytest.mark.parametrize(("question", "answer", "message"), BAD)
def test_copier_refuses_a_bad_answer_by_name(
    misuse_template: Path, tmp_path: Path, question: str, answer: str, message: str
) -> None:
    result = copier_cli(
        tmp_path, "copy", "--defaults", "--trust", "--data", f"{question}={answer}",
        str(misuse_template), "project",
    )  # fmt: skip

    assert result.returncode != 0
    assert message in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "project").exists()


@pytest.mark.parametrize(("question", "answer", "message"), BAD)
def test_cookiecutter_shows_copiers_refusal(
    misuse_template: Path, tmp_path: Path, question: str, answer: str, message: str
) -> None:
    result = cookiecutter_cli(tmp_path, "--no-input", str(misuse_template), f"{question}={answer}")

    assert result.returncode != 0
    if question in CHOICES:
        # Cookiecutter checks its own choice lists before any hook runs: its last line.
        assert (
            result.stderr.strip()
            .splitlines()[-1]
            .endswith(
                f"{answer} provided for choice variable {question}, but the choices are"
                f" {CHOICES[question]}."
            )
        )
    else:
        assert message in result.stderr.splitlines()[0]
        assert f"cookiecutter --no-input {misuse_template} " in result.stdout
    assert {path.name for path in tmp_path.iterdir() if path.is_dir()} <= {"replay", "cache"}


def test_update_refuses_a_dirty_tree(misuse_template: Path, tmp_path: Path) -> None:
    project = generate(misuse_template, tmp_path / "project", CURRENT)
    with (project / "README.md").open("a") as readme:
        readme.write("\nUncommitted note.\n")
    before = tree_files(project)

    result = copier_cli(project, "update", "--defaults", "--trust")

    assert result.returncode != 0
    assert "Destination repository is dirty" in result.stderr
    assert tree_files(project) == before


def test_update_from_a_template_that_moved_fails_and_changes_nothing(tmp_path: Path) -> None:
    template = build_template(tmp_path / "template")
    project = generate(template, tmp_path / "project", CURRENT)
    shutil.move(template, tmp_path / "moved")
    before = tree_files(project)

    result = copier_cli(project, "update", "--defaults", "--trust")

    assert result.returncode != 0
    # Copier's own words; the README says to fix `_src_path` when the template moved.
    assert "only supported in git-tracked templates" in result.stderr
    assert tree_files(project) == before
    assert is_clean(project)
    # The README's fix: point `_src_path` at the new place, commit, update.
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace(str(template), str(tmp_path / "moved")))
    commit_all(project, "The template moved")
    fixed = copier_cli(project, "update", "--defaults", "--trust")
    assert fixed.returncode == 0, fixed.stderr
    assert "Update done: no conflicts." in fixed.stderr
    assert sorted(tree_files(project)) == sorted(before)


def test_framework_answered_anew_at_the_prompt_is_undone(tmp_path: Path) -> None:
    """The after-update guard: a framework change that slipped past `--data` is rolled back."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".copier-answers.yml").write_text("_commit: 1.0.0\nframework: fastapi\n")
    (project / "app.py").write_text("user code\n")
    commit_all(project, "A FastAPI project")
    before = tree_files(project)
    (project / ".copier-answers.yml").write_text("_commit: 1.1.0\nframework: flask\n")
    (project / "app.py").unlink()
    (project / "gunicorn.conf.py").write_text("new stack\n")

    result = run_framework_guard_after_update(project)

    assert result.returncode == 1
    assert "cannot change framework from 'fastapi' to 'flask'" in result.stderr
    assert tree_files(project) == before
    assert is_clean(project)

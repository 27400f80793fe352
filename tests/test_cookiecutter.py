"""The cookiecutter entry point makes the project `copier copy` makes, and it updates.

cookiecutter.json only mirrors copier.yml's questions and defaults; the hook hands the
answers to Copier, which asks nothing more and validates everything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.git_support import commit_all, git, tree_files
from tests.matrix import ROOT, questions
from tests.update_support import (
    ANSWERS,
    CURRENT,
    EARLIER,
    assert_same_project,
    build_template,
    cookiecutter_cli,
    generate,
    update,
)


@pytest.fixture(scope="session")
def cookiecutter_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("template"))


def asked_questions() -> dict[str, dict[str, object]]:
    return {name: q for name, q in questions().items() if q.get("when", True) is not False}


def without_source(files: dict[str, bytes]) -> dict[str, bytes]:
    """The answers file may record the template's path differently; nothing else may differ."""
    answers = re.sub(r"(?m)^_src_path: .*\n", "", files[ANSWERS].decode())
    return {**files, ANSWERS: answers.encode()}


def cookiecut(template: Path, workdir: Path, *args: str) -> Path:
    workdir.mkdir()
    result = cookiecutter_cli(workdir, "--no-input", str(template), *args)
    assert result.returncode == 0, result.stderr[-4000:]
    (project,) = [path for path in workdir.iterdir() if (path / ANSWERS).is_file()]
    # The same closing words as `copier copy`, with the folder as the user sees it.
    assert f"is ready in {project.name}.\n\n  cd {project.name}\n  make run" in result.stderr
    return project


def test_cookiecutter_json_mirrors_copier_questions() -> None:
    """Same questions and defaults; choices as cookiecutter lists (default first), with
    Copier's labels and help, so the prompt offers exactly what Copier offers."""
    mirrored = json.loads((ROOT / "cookiecutter.json").read_text())
    prompts = mirrored.pop("__prompts__")
    asked = asked_questions()

    assert list(mirrored) == list(asked)
    for name, question in asked.items():
        default = str(question.get("default", ""))
        choices = question.get("choices")
        if isinstance(choices, dict):
            assert mirrored[name][0] == default, name
            assert sorted(mirrored[name]) == sorted(choices.values()), name
            assert prompts[name] == {"__prompt__": question["help"]} | {
                value: label for label, value in choices.items()
            }
        else:
            assert prompts[name] == question["help"]
            if "{{" not in default:
                assert mirrored[name] == default, name


def test_cookiecutter_over_an_existing_project_refuses(
    cookiecutter_template: Path, tmp_path: Path
) -> None:
    """`cookiecutter -f` would overwrite the project: it stops, pointing to `copier update`."""
    project = cookiecut(cookiecutter_template, tmp_path / "work")
    commit_all(project, "Generated with cookiecutter")
    (project / "src" / "my_service" / "reports.py").write_text('"""Uncommitted work."""\n')
    before, history = tree_files(project), git(project, "log", "--oneline")

    result = cookiecutter_cli(tmp_path / "work", "--no-input", "-f", str(cookiecutter_template))

    assert result.returncode != 0
    assert "already has files: cookiecutter would overwrite them" in result.stderr
    assert "copier update --trust" in result.stderr
    assert tree_files(project) == before
    assert git(project, "log", "--oneline") == history


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="defaults"),
        pytest.param(
            {"project_name": "Acme  Jobs.v2_beta", "database": "postgresql", "ci": "gitlab"},
            id="overrides",
        ),
        pytest.param({"framework": "flask", "author_name": "Ana Ruiz"}, id="flask"),
    ],
)
def test_cookiecutter_makes_the_copier_project(
    cookiecutter_template: Path, tmp_path: Path, overrides: dict[str, str]
) -> None:
    if overrides.get("framework", "fastapi") not in str(asked_questions()["framework"]):
        pytest.skip(f"no {overrides['framework']} stack in copier.yml yet")
    arguments = [f"{key}={value}" for key, value in overrides.items()]

    project = cookiecut(cookiecutter_template, tmp_path / "cookiecutter", *arguments)
    copied = generate(cookiecutter_template, tmp_path / "copier" / project.name, CURRENT, overrides)

    assert project.name == copied.name
    assert without_source(tree_files(project)) == without_source(tree_files(copied))


def test_cookiecutter_project_updates_with_copier(
    cookiecutter_template: Path, tmp_path: Path
) -> None:
    project = cookiecut(cookiecutter_template, tmp_path / "cookiecutter", "--checkout", EARLIER)
    assert f"_commit: {EARLIER}" in (project / ANSWERS).read_text()
    commit_all(project, "Generated with cookiecutter")
    fresh = generate(cookiecutter_template, tmp_path / "fresh" / project.name, CURRENT)

    update(project)

    assert_same_project(project, fresh)

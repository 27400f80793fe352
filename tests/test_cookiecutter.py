"""The cookiecutter entry point makes the project `copier copy` makes, and it updates.

cookiecutter.json only mirrors copier.yml's questions and defaults; the hook hands the
answers to Copier, which asks nothing more and validates everything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.git_support import commit_all, tree_files
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
    return project


def test_cookiecutter_json_mirrors_copier_questions() -> None:
    mirrored = json.loads((ROOT / "cookiecutter.json").read_text())
    asked = asked_questions()

    assert list(mirrored) == list(asked)
    for name, question in asked.items():
        default = str(question.get("default", ""))
        if "{{" not in default:
            assert mirrored[name] == default, name


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

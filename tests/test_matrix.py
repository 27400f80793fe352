"""Every combination of answers, rendered once and put through its own checks.

Each check is a separate test so that a failure names both the cell and the check; all
checks of a cell run on one xdist worker (loadgroup), which renders the cell once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import Renders
from tests.databases import provisioned, require_server
from tests.matrix import ROOT, Cell, cells
from tests.render import run_tool

CELLS = [pytest.param(cell, id=cell.id, marks=pytest.mark.xdist_group(cell.id)) for cell in cells()]
JINJA_LEFTOVER = re.compile(r"\{\{-? *[\w_.(]|\{%|%\}|\{#|#\}")
TEMPLATE_INTERNALS = ["copier.yml", "includes", "hooks", "template-fastapi", "template-flask"]


def db_name(cell: Cell, purpose: str) -> str:
    return f"ts_{cell['framework']}_{cell['ci']}_{purpose}"


def project_files(project: Path) -> list[Path]:
    return [
        p for p in project.rglob("*") if p.is_file() and ".git" not in p.relative_to(project).parts
    ]


@pytest.mark.parametrize("cell", CELLS)
def test_renders_clean(renders: Renders, cell: Cell) -> None:
    """No Jinja left in names or contents; nothing of the template repository copied."""
    project = renders.get(cell)

    for path in project_files(project):
        relative = path.relative_to(project).as_posix()
        assert not JINJA_LEFTOVER.search(relative), relative
        if path.suffix == ".mako":
            continue
        text = path.read_text()
        assert not JINJA_LEFTOVER.search(text), f"unrendered Jinja in {relative}"
        assert "\n\n\n\n" not in text, f"blank-line debris in {relative}"
        assert text.endswith("\n"), f"no final newline in {relative}"
        assert not text.endswith("\n\n"), f"trailing blank lines in {relative}"
    for internal in TEMPLATE_INTERNALS:
        assert not (project / internal).exists(), internal
    assert not list(project.rglob("*.jinja"))


@pytest.mark.parametrize("cell", CELLS)
def test_no_template_history_is_copied(renders: Renders, cell: Cell) -> None:
    """A project's .git, if the copy task made one, is new and empty: nothing came along."""
    project = renders.get(cell)
    git = project / ".git"

    if git.exists():
        assert not (git / "refs" / "heads" / "main").exists()
        assert not list((git / "objects" / "pack").glob("*.pack"))


@pytest.mark.parametrize("cell", CELLS)
def test_only_the_chosen_ci_is_generated(renders: Renders, cell: Cell) -> None:
    project = renders.get(cell)
    github = project / ".github" / "workflows" / "ci.yml"
    gitlab = project / ".gitlab-ci.yml"

    assert github.exists() == (cell["ci"] == "github")
    assert gitlab.exists() == (cell["ci"] == "gitlab")
    for workflow in (github, gitlab):
        if workflow.exists():
            document = yaml.safe_load(workflow.read_text())
            text = workflow.read_text()
            assert document, workflow
            assert "make test" in text
            assert "alembic check" in text
            if cell["database"] != "sqlite":
                assert "TEST_DATABASE_URL" in text


@pytest.mark.parametrize("cell", CELLS)
def test_docker_files_are_consistent(renders: Renders, cell: Cell) -> None:
    """What can be checked without a Docker engine: compose structure and COPY sources."""
    project = renders.get(cell)
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    dockerfile = (project / "Dockerfile").read_text()
    ignored = (project / ".dockerignore").read_text().split()

    services = compose["services"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert ("db" in services) == (cell["database"] != "sqlite")
    for name in ("api", "migrate"):
        assert services[name]["environment"]["DATABASE_URL"].split(":")[0] == cell["database"]
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE):
        for item in source.split():
            assert (project / item).exists(), f"Dockerfile copies missing {item}"
            assert item not in ignored, f"Dockerfile copies {item}, which .dockerignore drops"
    assert re.search(r"^USER app$", dockerfile, flags=re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert dockerfile.count("FROM ") == 2


@pytest.mark.parametrize("cell", CELLS)
def test_ruff_clean(renders: Renders, cell: Cell) -> None:
    project = renders.get(cell)

    run_tool(project, "ruff", "check", "--no-cache", ".")
    run_tool(project, "ruff", "format", "--check", "--no-cache", ".")


@pytest.mark.parametrize("cell", CELLS)
def test_mypy_strict_clean(renders: Renders, cell: Cell) -> None:
    project = renders.get(cell)

    result = run_tool(project, "mypy", "--strict", "--cache-dir", str(project.parent / ".mypy"))

    assert "Success" in result.stdout


@pytest.mark.parametrize("cell", CELLS)
def test_project_tests_pass_on_its_database(renders: Renders, cell: Cell) -> None:
    require_server(cell["database"])
    project = renders.get(cell)

    with provisioned(cell["database"], db_name(cell, "pytest")) as url:
        env = {"TEST_DATABASE_URL": url} if url else {}
        result = run_tool(project, "pytest", "-q", "-p", "no:cacheprovider", env=env)

    assert re.search(r"\d+ passed", result.stdout)
    assert "skipped" not in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("cell", CELLS)
def test_migrations_round_trip_and_match_models(renders: Renders, cell: Cell) -> None:
    require_server(cell["database"])
    project = renders.get(cell)

    with provisioned(cell["database"], db_name(cell, "alembic")) as url:
        env = {"DATABASE_URL": url or f"sqlite:///{project.parent / 'alembic.db'}"}
        for step in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"], ["check"]):
            run_tool(project, "alembic", *step, env=env)


def test_matrix_covers_every_choice() -> None:
    """The matrix is the full product of copier.yml's choices (guards the derivation)."""
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    expected = 1
    for question in config.values():
        if isinstance(question, dict) and "choices" in question:
            expected *= len(question["choices"])

    assert len(cells()) == expected
    assert len({cell.id for cell in cells()}) == expected

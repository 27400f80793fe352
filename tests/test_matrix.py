"""Every combination of answers, rendered once and put through its own checks.

Each check is a separate test so that a failure names both the cell and the check. A
project is checked as its user runs it: installed from its own uv.lock into its own .venv
(`make install`), then `make lint`, `make test` and `make migrate`. Cells that differ only
in their CI files (a test proves it) form a group: the group is installed and checked once,
and each of its cells reports the outcome. All cells of a group run on one xdist worker.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.databases import provisioned, require_server
from tests.matrix import ROOT, Cell, cells, group_id, group_of
from tests.render import Renders, install, make, rendered_files, run

CELLS = [
    pytest.param(cell, id=cell.id, marks=pytest.mark.xdist_group(group_id(cell)))
    for cell in cells()
]
JINJA_LEFTOVER = re.compile(r"\{\{-? *[\w_.(]|\{%|%\}|\{#|#\}")
TEMPLATE_INTERNALS = ["copier.yml", "includes", "hooks", "template-fastapi", "template-flask"]


def db_name(cell: Cell, purpose: str) -> str:
    """Unique per run (pid): two runs on one machine never share a database."""
    return f"ts_{cell['framework']}_{purpose}_{os.getpid()}"


def is_ci_file(name: str) -> bool:
    return name.startswith(".github/") or name == ".gitlab-ci.yml"


def tree(project: Path) -> dict[str, bytes]:
    """The files a project was rendered with (not what its tools wrote since)."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes() for path in rendered_files(project)
    }


class GroupChecks:
    """Runs each expensive check once per group and hands every cell of it the outcome."""

    def __init__(self, renders: Renders) -> None:
        self.renders = renders
        self._outcomes: dict[tuple[str, str], subprocess.CompletedProcess[str] | Exception] = {}

    def outcome(
        self,
        cell: Cell,
        check: str,
        action: Callable[[Path], subprocess.CompletedProcess[str]],
    ) -> subprocess.CompletedProcess[str]:
        key = (group_id(cell), check)
        if key not in self._outcomes:
            try:
                self._outcomes[key] = action(self.renders.get(group_of(cell)[0]))
            except Exception as error:  # every cell of the group reports the same failure
                self._outcomes[key] = error
        outcome = self._outcomes[key]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture(scope="session")
def group_checks(renders: Renders) -> GroupChecks:
    return GroupChecks(renders)


@pytest.mark.parametrize("cell", CELLS)
def test_renders_clean(renders: Renders, cell: Cell) -> None:
    """No Jinja left in names or contents; nothing of the template repository copied."""
    project = renders.get(cell)

    for path in rendered_files(project):
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
def test_lock_matches_pyproject(renders: Renders, cell: Cell) -> None:
    """The shipped uv.lock is the one uv would write for this pyproject.toml."""
    project = renders.get(cell)

    run(project, ["uv", "lock", "--check"])


@pytest.mark.parametrize("cell", CELLS)
def test_cells_of_a_group_differ_only_in_ci_files(renders: Renders, cell: Cell) -> None:
    """What lets a group's cells share one install and one run of its checks."""
    project, shared = renders.get(cell), renders.get(group_of(cell)[0])

    ours, theirs = tree(project), tree(shared)

    assert {name for name in ours.keys() ^ theirs.keys() if not is_ci_file(name)} == set()
    assert [name for name in ours.keys() & theirs.keys() if ours[name] != theirs[name]] == [
        ".copier-answers.yml"
    ] * (cell != group_of(cell)[0])


@pytest.mark.parametrize("cell", CELLS)
def test_make_install_compiles_what_it_installs(renders: Renders, cell: Cell) -> None:
    """Every installed module has its bytecode, those no run has imported included: a start
    reads it rather than compiling each module, even where PYTHONDONTWRITEBYTECODE is set."""
    project = install(renders.get(group_of(cell)[0])).parents[2]
    # SQLAlchemy's SQL Server dialect: in the lock, and never imported by the service.
    dialects = list(project.glob(".venv/lib/python*/site-packages/sqlalchemy/dialects/mssql"))

    assert len(dialects) == 1
    assert list(dialects[0].glob("__pycache__/base.*.pyc"))


@pytest.mark.parametrize("cell", CELLS)
def test_make_lint(group_checks: GroupChecks, cell: Cell) -> None:
    """`make lint`: ruff check, ruff format --check and mypy --strict, from its own .venv."""
    result = group_checks.outcome(cell, "lint", lambda project: make(project, "lint"))

    assert "Success" in result.stdout


@pytest.mark.parametrize("cell", CELLS)
def test_make_test_on_its_database(group_checks: GroupChecks, cell: Cell) -> None:
    require_server(cell["database"])

    def make_test(project: Path) -> subprocess.CompletedProcess[str]:
        with provisioned(cell["database"], db_name(cell, "pytest")) as url:
            return make(project, "test", env={"TEST_DATABASE_URL": url} if url else {})

    result = group_checks.outcome(cell, "test", make_test)

    assert re.search(r"\d+ passed", result.stdout)
    summary = [line for line in result.stdout.splitlines() if " passed" in line][-1]
    assert "skipped" not in summary


@pytest.mark.parametrize("cell", CELLS)
def test_migrations_round_trip_and_match_models(group_checks: GroupChecks, cell: Cell) -> None:
    """`make migrate`, back to base, `make migrate` again, then `alembic check` finds no drift."""
    require_server(cell["database"])

    def round_trip(project: Path) -> subprocess.CompletedProcess[str]:
        with provisioned(cell["database"], db_name(cell, "alembic")) as url:
            env = {"DATABASE_URL": url or f"sqlite:///{project.parent / 'alembic.db'}"}
            make(project, "migrate", env=env)
            run(project, ["uv", "run", "alembic", "downgrade", "base"], env=env)
            make(project, "migrate", env=env)
            return run(project, ["uv", "run", "alembic", "check"], env=env)

    result = group_checks.outcome(cell, "migrations", round_trip)

    assert "No new upgrade operations detected" in result.stdout + result.stderr


def test_matrix_covers_every_choice() -> None:
    """The matrix is the full product of copier.yml's choices (guards the derivation)."""
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    expected = 1
    for question in config.values():
        if isinstance(question, dict) and "choices" in question:
            expected *= len(question["choices"])

    assert len(cells()) == expected
    assert len({cell.id for cell in cells()}) == expected

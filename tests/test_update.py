"""`copier update` from a previous template version: clean, with user edits, with a
migration, with changed answers, and twice in a row.

The tests share a throwaway template repository (tags EARLIER and CURRENT, see
tests/update_support.py), built once per xdist worker: cheaper than serializing them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.databases import provisioned
from tests.git_support import commit_all, git, is_clean, tree_files
from tests.matrix import ROOT
from tests.render import run_tool
from tests.update_support import (
    ANSWERS,
    CURRENT,
    EARLIER,
    GET_TASK_NOW,
    NEW_NAME,
    OLD_NAME,
    README_RUN_BEFORE,
    README_RUN_NOW,
    RENAMED_FILE_OLD_LINE,
    ROUTES,
    assert_same_project,
    build_template,
    copier_cli,
    generate,
    replace_once,
    update,
    uv,
)

CONFLICT_MARKERS = ("<<<<<<< before updating", "=======", ">>>>>>> after updating")


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("template"))


def assert_project_tests_pass(project: Path, database_url: str | None = None) -> str:
    env = {"TEST_DATABASE_URL": database_url} if database_url else {}
    result = run_tool(project, "pytest", "-q", "-p", "no:cacheprovider", env=env)
    assert re.search(r"\d+ passed", result.stdout)
    return result.stdout


def conflicted(project: Path) -> list[str]:
    """Files Copier recorded as unmerged in the index, as `git status` shows them."""
    return sorted(set(git(project, "diff", "--name-only", "--diff-filter=U").split()))


def files_with_markers(project: Path) -> list[str]:
    return [
        name
        for name, content in tree_files(project).items()
        if any(marker.encode() in content for marker in CONFLICT_MARKERS[::2])
    ]


def test_clean_update_equals_a_fresh_copy_and_is_idempotent(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = generate(template, tmp_path / "project", EARLIER)
    fresh = generate(template, tmp_path / "fresh", CURRENT)

    update(project)

    assert_same_project(project, fresh)
    assert not (project / OLD_NAME).exists()
    assert conflicted(project) == []
    assert "Update done: no conflicts." in capfd.readouterr().err
    commit_all(project, f"Update to template {CURRENT}")
    update(project)
    assert is_clean(project), git(project, "status", "--porcelain")
    assert_project_tests_pass(project)


def make_user_edits(project: Path) -> None:
    """An edited route, a new module, an edited README line, a new dependency, a deleted
    example file, and one README line that the template changed too."""
    replace_once(
        project / ROUTES,
        '    response.headers["Location"] = f"/tasks/{task.id}"\n',
        '    response.headers["Location"] = f"/tasks/{task.id}"\n'
        '    response.headers["X-Queued-By"] = "user-edit"\n',
    )
    (project / "src" / "my_service" / "reports.py").write_text(
        '"""Reports: a module the user added."""\n\nREPORT_NAMES = ("daily",)\n'
    )
    replace_once(
        project / "README.md",
        "Settings come from environment variables",
        "Settings (user edit: ask ops for the vault path) come from environment variables",
    )
    replace_once(
        project / "pyproject.toml",
        '    "alembic>=1.14",\n',
        '    "alembic>=1.14",\n    "tenacity>=9",\n',
    )
    uv(project, "lock")  # as `uv add` would
    (project / "tests" / "test_docs.py").unlink()
    replace_once(project / "README.md", README_RUN_BEFORE, "make run            # user: run it")
    commit_all(project, "User edits")


def test_user_edits_survive_and_overlaps_are_reported(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = generate(template, tmp_path / "project", EARLIER)
    make_user_edits(project)

    update(project)
    told = capfd.readouterr().err

    routes, readme = (project / ROUTES).read_text(), (project / "README.md").read_text()
    assert 'response.headers["X-Queued-By"] = "user-edit"' in routes
    assert GET_TASK_NOW in routes  # the template's change to the same file merged too
    assert (project / "src" / "my_service" / "reports.py").read_text().startswith('"""Reports')
    assert "Settings (user edit: ask ops for the vault path)" in readme
    assert '"tenacity>=9",' in (project / "pyproject.toml").read_text()
    assert not (project / "tests" / "test_docs.py").exists()
    assert (project / ".pre-commit-config.yaml").exists()  # new in the template
    # Both sides changed the same README line: Copier marks it, and keeps both.
    assert conflicted(project) == ["README.md"]
    assert files_with_markers(project) == ["README.md"]
    conflict = readme[readme.index(CONFLICT_MARKERS[0]) : readme.index(CONFLICT_MARKERS[2])]
    assert "make run            # user: run it" in conflict
    assert README_RUN_NOW in conflict
    assert "Update done: 1 file(s) with conflicts, unmerged in git:\n  README.md\n" in told
    assert "then `git add` it" in told
    assert_project_tests_pass(project)


def test_migration_follows_a_renamed_file_with_the_user_edits(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "project", EARLIER)
    assert (project / OLD_NAME).read_text().startswith(RENAMED_FILE_OLD_LINE)
    user_test = "\n\ndef test_user_added_check() -> None:\n    assert 1 + 1 == 2\n"
    with (project / OLD_NAME).open("a") as old_file:
        old_file.write(user_test)
    commit_all(project, "User adds a health test")
    fresh = generate(template, tmp_path / "fresh", CURRENT)

    update(project)

    assert not (project / OLD_NAME).exists()
    # The template's change (a dropped first line) and the user's addition, both merged.
    assert (project / NEW_NAME).read_text() == (fresh / NEW_NAME).read_text() + user_test
    assert files_with_markers(project) == []
    merged = (project / NEW_NAME).read_text()
    # Again, with the Python that runs Copier (the project's own has no Copier).
    hook = [sys.executable, str(ROOT / "hooks" / "rename_file.py"), ANSWERS, OLD_NAME, NEW_NAME]
    subprocess.run(hook, cwd=project, check=True)
    assert (project / NEW_NAME).read_text() == merged  # the migration is idempotent
    selected = run_tool(
        project, "pytest", "-q", "-p", "no:cacheprovider", f"{NEW_NAME}::test_user_added_check"
    )
    assert "1 passed" in selected.stdout
    assert_project_tests_pass(project)


@pytest.mark.parametrize("database", ["postgresql", "mysql"])
def test_changing_the_database_on_update_equals_a_fresh_copy(
    template: Path, tmp_path: Path, database: str
) -> None:
    project = generate(template, tmp_path / "project", CURRENT)
    fresh = generate(template, tmp_path / "fresh", CURRENT, {"database": database})

    update(project, {"database": database})

    assert_same_project(project, fresh)
    uv(project, "lock")  # what the update's report asks for
    with provisioned(database, f"ts_update_{database}") as url:
        assert_project_tests_pass(project, url)


def test_a_user_dependency_and_a_database_change_merge_cleanly(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """`uv add` appends to the dependencies; the driver line, which a database change
    rewrites, must be far enough from the end that both changes merge."""
    project = generate(template, tmp_path / "project", CURRENT)
    uv(project, "add", "--no-sync", "tenacity>=9")
    commit_all(project, "uv add tenacity")
    capfd.readouterr()

    update(project, {"database": "postgresql"})

    told = capfd.readouterr().err
    pyproject = (project / "pyproject.toml").read_text()
    assert '"tenacity>=9"' in pyproject
    assert '"asyncpg>=' in pyproject
    assert conflicted(project) == []
    assert files_with_markers(project) == []
    assert "Update done: no conflicts." in told
    assert "pyproject.toml changed: run `uv lock`" in told


def test_switching_framework_is_refused_and_changes_nothing(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "project", EARLIER)
    before = tree_files(project)

    result = copier_cli(
        project, "update", "--defaults", "--trust", "--data", "framework=flask", "-r", CURRENT
    )

    assert result.returncode != 0
    assert "cannot change framework from 'fastapi' to 'flask'" in result.stderr
    assert "copier copy --data framework=flask" in result.stderr
    assert tree_files(project) == before
    assert is_clean(project)

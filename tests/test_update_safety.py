"""`copier update` and `recopy` in every layout never lose work, and always say what happened.

Layouts: a project that is its own repository, and one in `services/` of a larger
repository with uncommitted work beside it. Each test checks that nothing was lost
(every user line and file still there, no unexpected deletion) and what the user is told.
Commands run through the CLI, as a user types them, so the messages are the real ones.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.git_support import commit_all, git, is_clean, tree_files
from tests.update_support import (
    ANSWERS,
    CURRENT,
    EARLIER,
    NEW_NAME,
    OLD_NAME,
    RENAMED_FILE_OLD_LINE,
    add_work_beside,
    assert_nothing_lost,
    build_template,
    copier_cli,
    generate,
    generate_in_monorepo,
    replace_once,
    run_framework_guard_after_update,
)

USER_TEST = "def test_user_added_check() -> None:\n    assert 1 + 1 == 2\n"
USER_MODULE = "src/my_service/reports.py"
NO_CONFLICTS = "Update done: no conflicts."


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("template"))


def cli_update(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return copier_cli(project, "update", "--defaults", "--trust", "-r", CURRENT, *args)


def conflicted(project: Path) -> list[str]:
    listed = git(project, "diff", "--name-only", "--relative", "--diff-filter=U", "--", ".")
    return sorted(listed.split())


def add_user_work(project: Path) -> dict[str, list[str]]:
    """A test appended to the file the template renames, and a new module; committed."""
    with (project / OLD_NAME).open("a") as renamed:
        renamed.write(f"\n\n{USER_TEST}")
    (project / USER_MODULE).write_text('"""Reports: a module the user added."""\n')
    commit_all(project, "User work")
    return {
        NEW_NAME: USER_TEST.splitlines(),
        USER_MODULE: ['"""Reports: a module the user added."""'],
    }


def test_monorepo_update_keeps_the_project_edits_and_the_work_beside_it(
    template: Path, tmp_path: Path
) -> None:
    repository = tmp_path / "monorepo"
    project = generate_in_monorepo(template, repository, EARLIER)
    user_lines = add_user_work(project)
    beside = add_work_beside(repository)
    before = tree_files(project)

    result = cli_update(project)

    assert result.returncode == 0, result.stderr
    assert_nothing_lost(project, before, user_lines, deleted=frozenset({OLD_NAME}))
    assert {name: tree_files(repository)[name] for name in beside} == beside
    assert conflicted(project) == []
    assert NO_CONFLICTS in result.stderr


def test_monorepo_framework_switch_is_refused_and_nothing_moves(
    template: Path, tmp_path: Path
) -> None:
    repository = tmp_path / "monorepo"
    project = generate_in_monorepo(template, repository, EARLIER)
    add_user_work(project)
    add_work_beside(repository)
    before = tree_files(repository)

    result = cli_update(project, "--data", "framework=flask")

    assert result.returncode != 0
    assert "cannot change framework from 'fastapi' to 'flask'" in result.stderr
    assert tree_files(repository) == before


def test_monorepo_rename_conflict_is_unmerged_and_reported(template: Path, tmp_path: Path) -> None:
    """The user edits the very line the renamed file loses in the template: a conflict."""
    repository = tmp_path / "monorepo"
    project = generate_in_monorepo(template, repository, EARLIER)
    user_line = "# The user's own first line, which the template dropped meanwhile."
    replace_once(project / OLD_NAME, RENAMED_FILE_OLD_LINE, f"{user_line}\n")
    commit_all(project, "User edits the renamed file")
    beside = add_work_beside(repository)
    before = tree_files(project)

    result = cli_update(project)

    assert result.returncode == 0, result.stderr
    assert_nothing_lost(project, before, {NEW_NAME: [user_line]}, deleted=frozenset({OLD_NAME}))
    assert conflicted(project) == [NEW_NAME]
    assert "<<<<<<< before updating" in (project / NEW_NAME).read_text()
    assert f"1 file(s) with conflicts, unmerged in git:\n  {NEW_NAME}\n" in result.stderr
    assert "git diff --name-only --diff-filter=U" in result.stderr
    assert {name: tree_files(repository)[name] for name in beside} == beside


def test_the_after_guard_restores_only_the_project(tmp_path: Path) -> None:
    """A framework answered anew at the prompt is undone in the project's folder alone."""
    repository = tmp_path / "monorepo"
    project = repository / "services" / "svc"
    project.mkdir(parents=True)
    (project / ANSWERS).write_text("_commit: 1.0.0\nframework: fastapi\n")
    (project / "app.py").write_text("user code\n")
    (repository / "other").mkdir()
    (repository / "other" / "notes.txt").write_text("notes\n")
    commit_all(repository, "A monorepo with a FastAPI project")
    before = tree_files(project)
    beside = add_work_beside(repository)
    (project / ANSWERS).write_text("_commit: 1.1.0\nframework: flask\n")
    (project / "app.py").unlink()
    (project / "gunicorn.conf.py").write_text("new stack\n")
    git(project, "add", "gunicorn.conf.py")

    result = run_framework_guard_after_update(project)

    assert result.returncode == 1
    assert "cannot change framework from 'fastapi' to 'flask'" in result.stderr
    assert tree_files(project) == before
    assert {name: tree_files(repository)[name] for name in beside} == beside
    assert git(project, "status", "--porcelain", "--", ".") == ""


def test_hand_edited_framework_in_the_answers_is_refused(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "project", EARLIER)
    add_user_work(project)
    replace_once(project / ANSWERS, "framework: fastapi\n", "framework: flask\n")
    commit_all(project, "Hand-edit the answers")
    before = tree_files(project)

    result = cli_update(project)

    assert result.returncode != 0
    assert "says framework: flask, but this project is built on fastapi" in result.stderr
    assert "Put back `framework: fastapi`" in result.stderr
    assert tree_files(project) == before
    assert is_clean(project)


def test_bad_data_on_update_is_one_line_naming_the_choices(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "project", EARLIER)
    before = tree_files(project)

    result = cli_update(project, "--data", "database=oracle")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "Invalid choice for 'database': 'oracle' is not in" in result.stderr
    assert "['sqlite', 'postgresql', 'mysql']" in result.stderr
    assert tree_files(project) == before


def test_recopy_cannot_switch_framework(template: Path, tmp_path: Path) -> None:
    repository = tmp_path / "monorepo"
    project = generate_in_monorepo(template, repository, CURRENT)
    add_work_beside(repository)
    before = tree_files(repository)

    result = copier_cli(
        project, "recopy", "--defaults", "--trust", "--overwrite", "-r", CURRENT,
        "--data", "framework=flask",
    )  # fmt: skip

    assert result.returncode != 0
    assert "copier recopy cannot change framework from 'fastapi' to 'flask'" in result.stderr
    assert tree_files(repository) == before
    assert git(project, "status", "--porcelain", "--", ".") == ""


def test_recopy_lists_the_files_it_replaced(template: Path, tmp_path: Path) -> None:
    """Recopy renders the template afresh: edits to template files go (git keeps them),
    added files stay, and the user is told which files differ from the last commit."""
    project = generate(template, tmp_path / "project", CURRENT)
    (project / USER_MODULE).write_text('"""Reports."""\n')
    with (project / "README.md").open("a") as readme:
        readme.write("\nA user note.\n")
    commit_all(project, "User work")
    before = tree_files(project)

    result = copier_cli(project, "recopy", "--defaults", "--trust", "--overwrite", "-r", CURRENT)

    assert result.returncode == 0, result.stderr
    assert_nothing_lost(project, before, {USER_MODULE: ['"""Reports."""']})
    assert "Recopy done: these files now differ from your last commit:\n  README.md\n" in (
        result.stderr
    )
    assert "A user note." in git(project, "show", "HEAD:README.md")
    assert "cd ." not in result.stderr

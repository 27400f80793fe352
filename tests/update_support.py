"""Two tagged template versions and projects generated from them, for the update tests.

EARLIER is a synthetic previous release made from the current tree: one test file has
its old name and one more line (the current version carries the migration that renames
it), the
README lacks a later change, a route docstring differs, and .pre-commit-config.yaml
did not exist yet. CURRENT is the working tree as it is.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import copier

from tests.git_support import commit_all, template_repository, tree_files
from tests.matrix import ROOT
from tests.render import project_env, render

EARLIER, CURRENT = "1.0.0", "1.1.0"
ANSWERS = ".copier-answers.yml"
OLD_NAME, NEW_NAME = "tests/test_healthchecks.py", "tests/test_health.py"
RENAMED_FILE_OLD_LINE = "# A line of the old test_healthchecks.py that the rename dropped.\n"
ROUTES = "src/my_service/tasks/routes.py"
README_RUN_NOW = "make run            # migrate the database, then serve on http://127.0.0.1:8000"
README_RUN_BEFORE = "make run            # serve on http://127.0.0.1:8000 (migrates first)"
GET_TASK_NOW = '"""Fetch one task."""'
GET_TASK_BEFORE = '"""Fetch one task by its id."""'
RENAME_MIGRATION = f"""\
  - version: "{CURRENT}"
    command:
      - "{{{{ _copier_python }}}}"
      - "{{{{ _copier_conf.src_path }}}}/hooks/rename_file.py"
      - "{{{{ _copier_conf.answers_file }}}}"
      - "{OLD_NAME}"
      - "{NEW_NAME}"
"""


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace text that must be there exactly once (so a template change fails loudly)."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {path}"
    path.write_text(text.replace(old, new))


def _frameworks(template: Path) -> list[Path]:
    return sorted(template.glob("template-*"))


def make_earlier(template: Path) -> None:
    """Turn a copy of the current tree into the synthetic previous release."""
    for stack in _frameworks(template):
        old, new = stack / f"{OLD_NAME}.jinja", stack / f"{NEW_NAME}.jinja"
        if new.is_symlink() or new.exists():
            new.rename(old)
        (stack / ".pre-commit-config.yaml.jinja").unlink(missing_ok=True)
    renamed = template / "includes" / f"{NEW_NAME}.jinja"
    renamed.write_text(RENAMED_FILE_OLD_LINE + renamed.read_text())
    replace_once(template / "includes" / "README.md.jinja", README_RUN_NOW, README_RUN_BEFORE)
    routes = template / "template-fastapi" / "src" / "{{ package_name }}" / "tasks"
    replace_once(routes / "routes.py.jinja", GET_TASK_NOW, GET_TASK_BEFORE)


def add_rename_migration(template: Path) -> None:
    """The current version declares the rename that make_earlier undid."""
    replace_once(template / "copier.yml", "_migrations:\n", f"_migrations:\n{RENAME_MIGRATION}")


def build_template(destination: Path) -> Path:
    return template_repository(
        destination, [(EARLIER, make_earlier), (CURRENT, add_rename_migration)]
    )


class _Quiet(TypedDict):
    defaults: bool
    unsafe: bool
    quiet: bool


# As a user runs them: every answer given or defaulted, tasks and migrations trusted.
NON_INTERACTIVE = _Quiet(defaults=True, unsafe=True, quiet=True)


def generate(template: Path, project: Path, ref: str, data: Mapping[str, str] = {}) -> Path:
    """`copier copy` of one template version, committed like a user would."""
    render(project, data, template=template, vcs_ref=ref)
    commit_all(project, f"Generated from template {ref}")
    return project


def update(project: Path, data: Mapping[str, Any] = {}, ref: str = CURRENT) -> float:
    """`copier update --defaults --trust` to `ref`; the seconds it took."""
    started = time.monotonic()
    copier.run_update(str(project), data=dict(data), vcs_ref=ref, overwrite=True, **NON_INTERACTIVE)
    return time.monotonic() - started


def run_module(
    cwd: Path, *args: str, env: Mapping[str, str] = {}
) -> subprocess.CompletedProcess[str]:
    """`python -m ARGS...` (copier, cookiecutter) as a user types it, output captured."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def copier_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module(cwd, "copier", *args)


def cookiecutter_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`cookiecutter ARGS...` with its caches and replays kept inside `cwd`."""
    config = cwd / "cookiecutter-config.yaml"
    config.write_text(f"cookiecutters_dir: {cwd / 'cache'}\nreplay_dir: {cwd / 'replay'}\n")
    return run_module(cwd, "cookiecutter", *args, env={"COOKIECUTTER_CONFIG": str(config)})


# copier.yml's `_skip_if_exists`: an update keeps the user's lock, and `uv lock` refreshes it.
USER_OWNED = ("uv.lock",)


def without_commit(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files, with the `_commit` line of the answers file and the lock dropped."""
    answers = files[ANSWERS].decode()
    kept = {name: content for name, content in files.items() if name not in USER_OWNED}
    return {**kept, ANSWERS: re.sub(r"(?m)^_commit: .*\n", "", answers).encode()}


def assert_same_project(updated: Path, fresh: Path) -> None:
    got, expected = without_commit(tree_files(updated)), without_commit(tree_files(fresh))

    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []


def uv(project: Path, *args: str) -> None:
    """Run uv in a project as its user would (`uv add`, `uv lock`), failing with its output."""
    result = subprocess.run(
        ["uv", *args], cwd=project, env=project_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]


def generate_in_monorepo(template: Path, repository: Path, ref: str) -> Path:
    """A project in `services/` of a larger repository that has other work in it."""
    (repository / "other").mkdir(parents=True)
    (repository / "other" / "notes.txt").write_text("Another team's notes.\n")
    commit_all(repository, "A monorepo")
    return generate(template, repository / "services" / "my-service", ref)


def add_work_beside(repository: Path) -> dict[str, bytes]:
    """Uncommitted work outside the project: an edited file and a new one."""
    with (repository / "other" / "notes.txt").open("a") as notes:
        notes.write("An uncommitted line.\n")
    (repository / "other" / "draft.txt").write_text("An untracked draft.\n")
    return {
        name: content
        for name, content in tree_files(repository).items()
        if name.startswith("other/")
    }


def assert_nothing_lost(
    root: Path,
    before: dict[str, bytes],
    user_lines: Mapping[str, Sequence[str]],
    *,
    deleted: frozenset[str] = frozenset(),
) -> None:
    """No file gone but the expected deletions, and every line the user added still there."""
    after = tree_files(root)
    assert sorted(set(before) - set(after)) == sorted(deleted)
    for name, lines in user_lines.items():
        text = after[name].decode()
        assert [line for line in lines if line not in text] == [], f"{name} lost user lines"


def run_framework_guard_after_update(project: Path) -> subprocess.CompletedProcess[str]:
    """The framework guard's after-update stage, as Copier runs it in `project`."""
    return subprocess.run(
        [sys.executable, ROOT / "hooks" / "check_update.py", ANSWERS, "after"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

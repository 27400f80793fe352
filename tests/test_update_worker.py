"""`copier update` brings the worker's migration (0002) into a project that has tasks.

A project is generated from the template as it was before the worker (the commit before
the one that added 0002), migrated, and given tasks; it is updated to the working tree,
locked and installed again as its README says, and `make migrate` must bring 0002 with
every task kept: queued in the same order (priority rank from the priority, due since it
was created), and `alembic check` finds no drift. SQLite is enough: the migration itself
runs on each database in the generated projects' own migration test.
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.git_support import commit_all, copy_working_tree, git, template_repository
from tests.matrix import ROOT
from tests.render import install, make, run_tool
from tests.update_support import generate, update

pytestmark = pytest.mark.slow

WORKER_MIGRATION = "includes/migrations/versions/0002_worker.py.jinja"
BEFORE, AFTER = "1.0.0", "1.1.0"
TASKS = [  # command, priority, status
    ("backup --full", "low", "queued"),
    ("digest", "high", "queued"),
    ("report", "normal", "running"),
    ("cleanup", "normal", "done"),
    ("export", "high", "failed"),
]


def before_the_worker(clone: Path) -> str:
    """The template's commit just before the one that added the worker's migration."""
    added = git(ROOT, "log", "--diff-filter=A", "--format=%H", "--", WORKER_MIGRATION).split()
    assert added, f"{WORKER_MIGRATION} is not committed"
    return git(ROOT, "rev-parse", f"{added[-1]}^").strip()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("worker-update")
    clone = root / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    git(clone, "checkout", "--quiet", before_the_worker(clone))
    # The release before the worker, then the working tree as it is.
    return template_repository(
        root / "template",
        [(BEFORE, lambda destination: copy_working_tree(destination, source=clone)), (AFTER, None)],
    )


def add_tasks(database: Path) -> list[str]:
    """Rows as the old schema holds them (SQLAlchemy's UUID hex and timestamp text)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    with sqlite3.connect(database) as connection:
        for n, (command, priority, status) in enumerate(TASKS):
            task_id = uuid.uuid4().hex
            stamp = (start + timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute(
                "INSERT INTO tasks (id, command, priority, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (task_id, command, priority, status, stamp, stamp),
            )
            ids.append(task_id)
    return ids


def test_update_brings_the_worker_migration_and_keeps_the_tasks(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "project", BEFORE)
    database = tmp_path / "tasks.db"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    install(project)
    make(project, "migrate", env=env)
    ids = add_tasks(database)
    assert not (project / "migrations" / "versions" / "0002_worker.py").exists()

    update(project, ref=AFTER)
    commit_all(project, f"Update to template {AFTER}")
    # As the update report and the README say: pyproject.toml changed (new floors), so the
    # user locks again (copier update never touches uv.lock), then installs from that lock.
    make(project, "lock", env=env)
    make(project, "install", env=env)
    make(project, "migrate", env=env)

    with sqlite3.connect(database) as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        rows = connection.execute(
            "SELECT id, command, priority, status, priority_rank, attempts, run_after = created_at,"
            " lease_expires_at, result, error, idempotency_key FROM tasks ORDER BY created_at"
        ).fetchall()
    assert version == [("0002",)]
    ranks = {"high": 0, "normal": 1, "low": 2}
    assert rows == [
        (task_id, command, priority, status, ranks[priority], 0, 1, None, None, None, None)
        for task_id, (command, priority, status) in zip(ids, TASKS, strict=True)
    ]
    run_tool(project, "alembic", "check", env=env)  # the models and the schema agree

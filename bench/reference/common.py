"""What both reference apps share: the SQL and the input model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from sqlalchemy import DateTime, Row, TextClause, Uuid, bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeEngine

Command = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# What the service reads and returns of a task in a page (its worker fields included), and
# of one task: that and its payload and result.
_SUMMARY_COLUMNS = (
    "id, command, priority, status, created_at, updated_at, attempts, run_after,"
    " lease_expires_at, error"
)
_COLUMNS = f"{_SUMMARY_COLUMNS}, payload, result"
# Typed parameters and results: the same SQL runs on SQLite, PostgreSQL and MySQL, where a
# UUID is native, or 32 hex characters.
_TYPES: dict[str, TypeEngine[Any]] = {
    "id": Uuid(),
    "created_at": DateTime(),
    "updated_at": DateTime(),
    "run_after": DateTime(),
    "lease_expires_at": DateTime(),
}
SELECT_PAGE = text(
    f"SELECT {_SUMMARY_COLUMNS} FROM tasks ORDER BY created_at, id LIMIT :l OFFSET :o"
).columns(**_TYPES)
SELECT_ONE = (
    text(f"SELECT {_COLUMNS} FROM tasks WHERE id = :id")
    .bindparams(bindparam("id", type_=Uuid()))
    .columns(**_TYPES)
)
COUNT = text("SELECT count(*) FROM tasks")
# The row the service writes: the claim order's rank, no attempts yet, due at once.
INSERT: TextClause = text(
    "INSERT INTO tasks (id, command, priority, priority_rank, status, attempts, run_after,"
    " created_at, updated_at, idempotency_key) VALUES (:id, :command, :priority, :rank,"
    " 'queued', 0, :now, :now, :now, :key)"
).bindparams(bindparam("id", type_=Uuid()), bindparam("now", type_=DateTime()))
# The task an Idempotency-Key made, for a retried create.
SELECT_BY_KEY = text(f"SELECT {_COLUMNS} FROM tasks WHERE idempotency_key = :key").columns(**_TYPES)
# As the service takes an Idempotency-Key header: visible ASCII, at most the column's length.
IDEMPOTENCY_KEY = Annotated[str, StringConstraints(pattern=r"^[!-~]+$", max_length=255)]
# The drivers the generated stacks use, by the plain scheme of DATABASE_URL.
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
                 "mysql": "mysql+aiomysql"}  # fmt: skip
SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg",
                "mysql": "mysql+pymysql"}  # fmt: skip


def engine_url(url: str, drivers: dict[str, str]) -> str:
    """DATABASE_URL with the driver the matching generated stack uses."""
    parsed = make_url(url)
    return parsed.set(drivername=drivers[parsed.get_backend_name()]).render_as_string(
        hide_password=False
    )


PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}


class TaskIn(BaseModel):
    command: Command
    priority: str = "normal"


def as_dict(row: Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)


def new_task(task: TaskIn, key: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The INSERT's parameters for a new task (naive UTC), and the task as the service returns
    it: the same fields, so that the reference writes the same response."""
    now = datetime.now(UTC).replace(tzinfo=None)
    task_id = uuid.uuid4()
    parameters = {
        "id": task_id,
        "command": task.command,
        "priority": task.priority,
        "rank": PRIORITY_RANK.get(task.priority, 1),
        "now": now,
        "key": key,
    }
    created = {
        "id": task_id,
        "command": task.command,
        "priority": task.priority,
        "status": "queued",
        "created_at": now,
        "updated_at": now,
        "attempts": 0,
        "run_after": now,
        "lease_expires_at": None,
        "error": None,
        "payload": None,
        "result": None,
    }
    return parameters, created


def replayed(row: Row[Any] | None, task: TaskIn) -> dict[str, Any] | None:
    """The task a retried create returns (its key's first task, made from the same input),
    or None: the key was used for another task (409)."""
    if row is None or (row.command, row.priority) != (task.command, task.priority):
        return None
    return as_dict(row)

"""What both reference apps share: the SQL and the input model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from sqlalchemy import Row, TextClause, text

Command = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
_COLUMNS = "id, command, priority, status, created_at, updated_at"
SELECT_PAGE = text(f"SELECT {_COLUMNS} FROM tasks ORDER BY created_at, id LIMIT :l OFFSET :o")
SELECT_ONE = text(f"SELECT {_COLUMNS} FROM tasks WHERE id = :id")
COUNT = text("SELECT count(*) FROM tasks")
INSERT: TextClause = text(
    "INSERT INTO tasks (id, command, priority, status, created_at, updated_at)"
    " VALUES (:id, :command, :priority, 'queued', :now, :now)"
)


class TaskIn(BaseModel):
    command: Command
    priority: str = "normal"


def as_dict(row: Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)


def new_task(task: TaskIn) -> dict[str, Any]:
    """The values of a new task row (naive UTC, as the service stores it in SQLite)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return {"id": uuid.uuid4().hex, "command": task.command, "priority": task.priority, "now": now}

"""The reference FastAPI app: the same routes and database work, none of the template's layers.

Served by `uvicorn bench.reference.fastapi_app:create_app --factory`, with DATABASE_URL set to
the SQLite file that the generated project's migrations created.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, StringConstraints
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

Command = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
COLUMNS = "id, command, priority, status, created_at, updated_at"


class TaskIn(BaseModel):
    command: Command
    priority: str = "normal"


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ["DATABASE_URL"].replace("sqlite:", "sqlite+aiosqlite:"))
    app = FastAPI()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tasks")
    async def list_tasks(limit: int = 50, offset: int = 0) -> dict[str, Any]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(f"SELECT {COLUMNS} FROM tasks ORDER BY created_at, id LIMIT :l OFFSET :o"),
                {"l": limit, "o": offset},
            )
            total = await connection.scalar(text("SELECT count(*) FROM tasks"))
        return {"items": [_row(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    @app.get("/tasks/{task_id}")
    async def get_task(task_id: uuid.UUID) -> dict[str, Any]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(f"SELECT {COLUMNS} FROM tasks WHERE id = :id"), {"id": task_id.hex}
            )
            row = rows.first()
        if row is None:
            raise HTTPException(404, "Not Found")
        return _row(row)

    @app.post("/tasks", status_code=201)
    async def create_task(task: TaskIn, response: Response) -> dict[str, Any]:
        now = datetime.now(UTC).replace(tzinfo=None)
        values = {"id": uuid.uuid4().hex, "command": task.command, "priority": task.priority}
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO tasks (id, command, priority, status, created_at, updated_at)"
                    " VALUES (:id, :command, :priority, 'queued', :now, :now)"
                ),
                {**values, "now": now},
            )
        response.headers["Location"] = f"/tasks/{values['id']}"
        return {**values, "status": "queued", "created_at": now, "updated_at": now}

    return app

"""The reference Flask app: the same routes and database work, none of the template's layers.

Served by `gunicorn 'bench.reference.flask_app:create_app()'`, with DATABASE_URL set to the
SQLite file that the generated project's migrations created.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from flask import Flask, abort, request
from pydantic import BaseModel, StringConstraints, ValidationError
from sqlalchemy import create_engine, text

Command = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
COLUMNS = "id, command, priority, status, created_at, updated_at"


class TaskIn(BaseModel):
    command: Command
    priority: str = "normal"


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def create_app() -> Flask:
    engine = create_engine(os.environ["DATABASE_URL"])
    app = Flask(__name__)

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tasks")
    def list_tasks() -> dict[str, Any]:
        limit = request.args.get("limit", 50, type=int)
        offset = request.args.get("offset", 0, type=int)
        with engine.connect() as connection:
            rows = connection.execute(
                text(f"SELECT {COLUMNS} FROM tasks ORDER BY created_at, id LIMIT :l OFFSET :o"),
                {"l": limit, "o": offset},
            )
            total = connection.scalar(text("SELECT count(*) FROM tasks"))
            items = [_row(r) for r in rows]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @app.get("/tasks/<uuid:task_id>")
    def get_task(task_id: uuid.UUID) -> dict[str, Any]:
        with engine.connect() as connection:
            row = connection.execute(
                text(f"SELECT {COLUMNS} FROM tasks WHERE id = :id"), {"id": task_id.hex}
            ).first()
        if row is None:
            abort(404)
        return _row(row)

    @app.post("/tasks")
    def create_task() -> tuple[dict[str, Any], int, dict[str, str]]:
        try:
            task = TaskIn.model_validate_json(request.get_data())
        except ValidationError as error:
            return {"detail": error.errors(include_url=False)}, 422, {}
        now = datetime.now(UTC).replace(tzinfo=None)
        values = {"id": uuid.uuid4().hex, "command": task.command, "priority": task.priority}
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tasks (id, command, priority, status, created_at, updated_at)"
                    " VALUES (:id, :command, :priority, 'queued', :now, :now)"
                ),
                {**values, "now": now},
            )
        body = {**values, "status": "queued", "created_at": now, "updated_at": now}
        return body, 201, {"Location": f"/tasks/{values['id']}"}

    return app

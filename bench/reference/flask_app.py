"""The reference Flask app: the same routes and database work, none of the template's layers.

Served by `gunicorn 'bench.reference.flask_app:create_app()'`, with DATABASE_URL set to the
SQLite file that the generated project's migrations created.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from flask import Flask, abort, request
from pydantic import ValidationError
from sqlalchemy import create_engine

from bench.reference.common import (
    COUNT,
    INSERT,
    SELECT_ONE,
    SELECT_PAGE,
    SYNC_DRIVERS,
    TaskIn,
    as_dict,
    engine_url,
    new_task,
)


def create_app() -> Flask:
    engine = create_engine(engine_url(os.environ["DATABASE_URL"], SYNC_DRIVERS))
    app = Flask(__name__)

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tasks")
    def list_tasks() -> dict[str, Any]:
        limit = request.args.get("limit", 50, type=int)
        offset = request.args.get("offset", 0, type=int)
        with engine.connect() as connection:
            items = [
                as_dict(row) for row in connection.execute(SELECT_PAGE, {"l": limit, "o": offset})
            ]
            total = connection.scalar(COUNT)
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @app.get("/tasks/<uuid:task_id>")
    def get_task(task_id: uuid.UUID) -> dict[str, Any]:
        with engine.connect() as connection:
            row = connection.execute(SELECT_ONE, {"id": task_id}).first()
        if row is None:
            abort(404)
        return as_dict(row)

    @app.post("/tasks")
    def create_task() -> tuple[dict[str, Any], int, dict[str, str]]:
        try:
            task = TaskIn.model_validate_json(request.get_data())
        except ValidationError as error:
            return {"detail": error.errors(include_url=False)}, 422, {}
        values, created = new_task(task)
        with engine.begin() as connection:
            connection.execute(INSERT, values)
        return created, 201, {"Location": f"/tasks/{values['id']}"}

    return app

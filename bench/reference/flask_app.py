"""The reference Flask app: the same routes and database work, none of the template's layers.

Served by `gunicorn 'bench.reference.flask_app:create_app()'`, with DATABASE_URL set to the
SQLite file that the generated project's migrations created.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from flask import Flask, abort, request
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

from bench.reference.common import (
    COUNT,
    IDEMPOTENCY_KEY,
    INSERT,
    SELECT_BY_KEY,
    SELECT_ONE,
    SELECT_PAGE,
    SYNC_DRIVERS,
    TaskIn,
    as_dict,
    engine_url,
    new_task,
    replayed,
)

_IDEMPOTENCY_KEY: TypeAdapter[str] = TypeAdapter(IDEMPOTENCY_KEY)


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
        key = request.headers.get("Idempotency-Key")
        try:
            task = TaskIn.model_validate_json(request.get_data())
            if key is not None:
                key = _IDEMPOTENCY_KEY.validate_python(key)
        except ValidationError as error:
            return {"detail": error.errors(include_url=False)}, 422, {}
        values, created = new_task(task, key)
        try:
            with engine.begin() as connection:
                connection.execute(INSERT, values)
        except IntegrityError:
            if key is None:
                raise
            with engine.connect() as connection:
                first = replayed(connection.execute(SELECT_BY_KEY, {"key": key}).first(), task)
            if first is None:
                abort(409)
            created = first
        return created, 201, {"Location": f"/tasks/{created['id']}"}

    return app

"""The reference FastAPI app: the same routes and database work, none of the template's layers.

Served by `uvicorn bench.reference.fastapi_app:create_app --factory`, with DATABASE_URL set to
the SQLite file that the generated project's migrations created.
"""

from __future__ import annotations

import os
import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bench.reference.common import (
    ASYNC_DRIVERS,
    COUNT,
    IDEMPOTENCY_KEY,
    INSERT,
    SELECT_BY_KEY,
    SELECT_ONE,
    SELECT_PAGE,
    TaskIn,
    as_dict,
    engine_url,
    new_task,
    replayed,
)


def create_app() -> FastAPI:
    engine = create_async_engine(engine_url(os.environ["DATABASE_URL"], ASYNC_DRIVERS))
    app = FastAPI()

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/tasks")
    async def list_tasks(limit: int = 50, offset: int = 0) -> dict[str, Any]:
        async with engine.connect() as connection:
            rows = await connection.execute(SELECT_PAGE, {"l": limit, "o": offset})
            total = await connection.scalar(COUNT)
        items = [as_dict(row) for row in rows]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @app.get("/tasks/{task_id}")
    async def get_task(task_id: uuid.UUID) -> dict[str, Any]:
        async with engine.connect() as connection:
            row = (await connection.execute(SELECT_ONE, {"id": task_id})).first()
        if row is None:
            raise HTTPException(404, "Not Found")
        return as_dict(row)

    @app.post("/tasks", status_code=201)
    async def create_task(
        task: TaskIn,
        response: Response,
        key: Annotated[IDEMPOTENCY_KEY | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, Any]:
        values, created = new_task(task, key)
        try:
            async with engine.begin() as connection:
                await connection.execute(INSERT, values)
        except IntegrityError:
            if key is None:
                raise
            async with engine.connect() as connection:
                row = (await connection.execute(SELECT_BY_KEY, {"key": key})).first()
            first = replayed(row, task)
            if first is None:
                raise HTTPException(409, "Conflict") from None
            created = first
        response.headers["Location"] = f"/tasks/{created['id']}"
        return created

    return app

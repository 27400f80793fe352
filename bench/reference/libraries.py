"""Each bare reference app, importing first the libraries its service is built on.

Only its start-up is measured (the report's "bare app importing its service's libraries"):
a service's master imports them before its workers fork, and the bare app needs none of
them, so that much of a service's start-up beyond its reference is theirs; what a service
takes beyond this figure is its own code. Each is a dependency the generated project
declares (its pyproject.toml).

Served like the reference it wraps: `gunicorn 'bench.reference.libraries:flask_app()'`,
`uvicorn bench.reference.libraries:fastapi_app --factory`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from flask import Flask

SERVICE_LIBRARIES = {
    # Settings from the environment and `.env`; typed ORM models (the reference's async
    # engine imports the ORM already).
    "fastapi": ("pydantic_settings", "sqlalchemy.orm"),
    # The same, and validation and OpenAPI for Flask.
    "flask": ("pydantic_settings", "sqlalchemy.orm", "flask_openapi3"),
}


def _import_libraries(framework: str) -> None:
    for name in SERVICE_LIBRARIES[framework]:
        importlib.import_module(name)


def fastapi_app() -> FastAPI:
    _import_libraries("fastapi")
    from bench.reference.fastapi_app import create_app

    return create_app()


def flask_app() -> Flask:
    _import_libraries("flask")
    from bench.reference.flask_app import create_app

    return create_app()

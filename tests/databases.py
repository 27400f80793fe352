"""The real database servers the matrix runs on: found, provisioned, and cleaned up.

A cell needing a server that is not reachable is skipped with the reason, except in CI
(CI=true), where a missing server fails the run.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pymysql
import pytest

HOST = "127.0.0.1"
PORTS = {"postgresql": 5432, "mysql": 3306}
_SAFE_NAME = re.compile(r"^[a-z0-9_]{1,63}$")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_server(database: str) -> None:
    """Skip (or in CI, fail) unless the server for `database` answers."""
    if database == "sqlite":
        return
    if _reachable(HOST, PORTS[database]):
        return
    reason = f"no {database} server on {HOST}:{PORTS[database]}"
    if in_ci():
        pytest.fail(f"{reason}, and CI=true requires every database server")
    pytest.skip(reason)


def execute(database: str, statement: str) -> None:
    port = PORTS[database]
    if database == "postgresql":
        with psycopg.connect(
            host=HOST, port=port, user="postgres", dbname="postgres", autocommit=True
        ) as pg:
            pg.execute(statement.encode())
    else:
        maria = pymysql.connect(host=HOST, port=port, user="root", password="", autocommit=True)
        try:
            with maria.cursor() as cursor:
                cursor.execute(statement)
        finally:
            maria.close()


@contextmanager
def provisioned(database: str, name: str) -> Iterator[str | None]:
    """A fresh, empty database for one use, dropped afterwards; its URL (None for SQLite)."""
    if database == "sqlite":
        yield None
        return
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    require_server(database)
    execute(database, f"DROP DATABASE IF EXISTS {name}")
    execute(database, f"CREATE DATABASE {name}")
    try:
        if database == "postgresql":
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        else:
            yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        execute(database, f"DROP DATABASE IF EXISTS {name}")


@contextmanager
def provisioned_with_login(database: str, name: str) -> Iterator[str]:
    """A fresh database owned by a new user of the same name with a real password; its URL.

    A service started with ENVIRONMENT=production refuses an empty or default password, so
    it cannot use the servers' password-less administrator.
    """
    if not _SAFE_NAME.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    password = secrets.token_hex(16)
    if database == "postgresql":
        create = f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"
        drop = f"DROP ROLE IF EXISTS {name}"
        grant = f"ALTER DATABASE {name} OWNER TO {name}"
    else:
        create = f"CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"
        drop = f"DROP USER IF EXISTS '{name}'@'%'"
        grant = f"GRANT ALL PRIVILEGES ON {name}.* TO '{name}'@'%'"
    require_server(database)
    # The database goes first (provisioned drops it), then the user that owned it.
    execute(database, drop)
    execute(database, create)
    try:
        with provisioned(database, name):
            execute(database, grant)
            yield f"{database}://{name}:{password}@{HOST}:{PORTS[database]}/{name}"
    finally:
        execute(database, drop)

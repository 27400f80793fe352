"""Floors tier: a project at the lowest versions its pyproject.toml allows still works.

A declared floor (`fastapi>=...`) is a promise to whoever installs the project beside
other packages: the resolver may pick exactly that version. So each framework and
database is locked with `--resolution lowest-direct`, installed through its own
Makefile, and must pass its own tests and serve requests under its production server.
The versions it ran on are printed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.databases import provisioned, require_server
from tests.matrix import Cell, cells, group_id
from tests.render import make, render, run
from tests.served import serving

LOWEST = {"UV_RESOLUTION": "lowest-direct"}
# One cell per framework and database: the ci answer changes no dependency.
GROUPS = list({group_id(cell): cell for cell in cells() if cell["ci"] == "none"}.values())

pytestmark = pytest.mark.slow


def direct_versions(project: Path) -> dict[str, str]:
    """Name -> locked version of each direct dependency, from the project's uv.lock."""
    lock = tomllib.loads((project / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    own = next(package for package in lock["package"] if package["source"].get("editable"))
    names = {dependency["name"] for dependency in own.get("dependencies", [])}
    for group in own.get("dev-dependencies", {}).values():
        names |= {dependency["name"] for dependency in group}
    return {name: packages[name]["version"] for name in sorted(names)}


@pytest.mark.parametrize("cell", [pytest.param(cell, id=group_id(cell)) for cell in GROUPS])
def test_lowest_direct_versions_pass_tests_and_serve(tmp_path: Path, cell: Cell) -> None:
    require_server(cell["database"])
    project = render(tmp_path / "project", cell.data)
    run(project, ["uv", "lock", "--quiet"], env=LOWEST)
    make(project, "install", env=LOWEST)
    python = project / ".venv" / "bin" / "python"
    print(f"\nfloors of {group_id(cell)}: {direct_versions(project)}")

    name = f"ts_floors_{cell['framework']}_{os.getpid()}"
    with provisioned(cell["database"], f"{name}_test") as url:
        test_env = {"TEST_DATABASE_URL": url} if url else {}
        tested = make(project, "test", env={**LOWEST, **test_env})
    with provisioned(cell["database"], f"{name}_serve") as url:
        env = {"DATABASE_URL": url or f"sqlite:///{tmp_path / 'served.db'}", "WEB_CONCURRENCY": "1"}
        make(project, "migrate", env={**LOWEST, **env})
        with serving(python, project, env, tmp_path / "server.log") as server:
            created = server.request("POST", "/tasks", {"command": "echo floors"})
            listed = server.request("GET", "/tasks")
            docs = server.request("GET", "/docs")

    assert " passed" in tested.stdout
    assert created.status == 201
    assert listed.json()["total"] == 1
    assert docs.status == 200

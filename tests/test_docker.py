"""Docker tier: images built, migrated, served on real databases, health-checked, stopped.

A project's lock holds only its own database driver, so an image is per framework and
database. Three builds cover both stacks and every database:

- fastapi + postgresql and flask + mysql: `docker build`, `alembic upgrade head` in the
  image, the API against the machine's real server, Docker's health check, a non-root
  user, and `docker stop` under load;
- the default project (fastapi + sqlite): its compose.yaml run with the compose tool, as
  its README tells a user: the migrate service first, then the API healthy, on a SQLite
  volume that outlives the API's container.

Figures (build time, image size, stop drain) go to the terminal summary.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from tests.databases import in_ci, provisioned_with_login, require_server
from tests.docker_base import base_image, default_base_image
from tests.docker_support import (
    Engine,
    build,
    container,
    image_size,
    require_engine,
    wait_healthy,
)
from tests.drain import drain_under_load
from tests.matrix import ROOT, default_cell
from tests.render import render
from tests.served import free_port

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker")]

ENGINE_CELLS = [("fastapi", "postgresql"), ("flask", "mysql")]
MB = 1_000_000
RecordProperty = Callable[[str, object], None]


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    found = require_engine()
    yield found
    # On vfs every cached build step is a full copy of its file system: the build cache
    # of one run took 21 GB of disk while Docker counted 1.4 GB. An engine on vfs is a CI
    # or test engine (no desktop uses it), so its build cache goes; any other keeps its own.
    if found.run("info", "--format", "{{.Driver}}").stdout.strip() == "vfs":
        found.run("builder", "prune", "--all", "--force", timeout=600)


@pytest.fixture(scope="session")
def base(engine: Engine) -> tuple[str, float]:
    """The base image every build of the session uses, and the seconds it took to get."""
    return base_image(engine, default_base_image(ROOT / "includes" / "Dockerfile.jinja"))


def get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, response.read()


def wait_done(port: int, location: str, timeout: float = 120) -> dict[str, Any]:
    """The task at `location` once a worker has finished it (or as it is at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = json.loads(get(port, location)[1])
        if task["status"] in ("done", "failed") or time.monotonic() > deadline:
            return task
        time.sleep(0.5)


def instant(docker_time: str) -> datetime:
    """A time as `docker inspect` prints it (RFC 3339, nanoseconds, Z)."""
    whole, _, fraction = docker_time.strip().rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{fraction[:6]:0<6}+00:00")


def count_tasks(url: str) -> int:
    """Rows in the tasks table, read with the suite's own drivers."""
    if url.startswith("postgresql://"):
        with psycopg.connect(url) as postgresql:
            row = postgresql.execute("SELECT count(*) FROM tasks").fetchone()
    else:
        parts = urllib.parse.urlsplit(url)
        mariadb = pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username or "",
            password=parts.password or "",
            database=parts.path.lstrip("/"),
        )
        try:
            with mariadb.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM tasks")
                row = cursor.fetchone()
        finally:
            mariadb.close()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(("framework", "database"), ENGINE_CELLS, ids=lambda value: str(value))
def test_image_migrates_serves_and_drains(
    engine: Engine,
    base: tuple[str, float],
    tmp_path: Path,
    record_property: RecordProperty,
    framework: str,
    database: str,
) -> None:
    require_server(database)
    project = render(
        tmp_path / "project", {"framework": framework, "database": database, "ci": "none"}
    )
    tag = f"twinstack-test/{framework}-{database}:{uuid.uuid4().hex[:8]}"
    build_seconds = build(engine, project, tag, base[0])
    try:
        size = image_size(engine, tag)
        with provisioned_with_login(database, f"ts_docker_{framework}") as url:
            engine.run(
                "run", "--rm", "--network=host", f"--env=DATABASE_URL={url}", tag,
                "alembic", "upgrade", "head",
            )  # fmt: skip
            port = free_port()
            env = {"DATABASE_URL": url, "HOST": "127.0.0.1", "PORT": str(port)}
            with container(engine, tag, f"ts-docker-{framework}-{port}", env) as name:
                healthy_after = wait_healthy(engine, name)
                user = engine.run("exec", name, "id", "-u").stdout.strip()
                dev_tools = engine.run("exec", name, "python", "-c", "import pytest", check=False)
                ready = get(port, "/health/ready")
                report = drain_under_load(
                    "127.0.0.1", port, lambda: engine.run("stop", "--time=40", name, timeout=60)
                )
                exit_code = engine.run("inspect", "--format", "{{.State.ExitCode}}", name).stdout
                output = engine.run("logs", "--tail=30", name)
                logs = output.stdout + output.stderr
            stored = count_tasks(url)
    finally:
        engine.run("rmi", "--force", tag, check=False)

    record_property("figure", f"base {base[0]}, ready in {base[1]:.0f} s")
    record_property(
        "figure",
        f"build {build_seconds:.0f} s, image {size / MB:.0f} MB, healthy {healthy_after:.0f} s",
    )
    record_property("figure", report.summary())
    assert user.isdigit(), user
    assert int(user) != 0, "the container runs as root"
    assert dev_tools.returncode != 0, "the image holds the dev group (pytest)"
    assert ready[0] == 200
    assert b'"database":"ok"' in ready[1].replace(b" ", b""), ready[1]
    assert report.in_flight == ["201"] * len(report.in_flight), report.summary()
    assert report.flood["truncated"] == 0, report.summary()
    assert report.flood["201"] > 0, "no load was served before the stop"
    assert exit_code.strip() == "0", f"exit {exit_code.strip()} after docker stop:\n{logs}"
    # Every acknowledged write is stored; beyond those, only requests whose answer was cut
    # off by the close may have been written.
    assert report.acknowledged <= stored <= report.acknowledged + report.flood["reset"]


def compose_command(engine: Engine) -> list[str]:
    """Debian's docker-compose (1.x), or else the `docker compose` plugin."""
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    if subprocess.run([engine.cli, "compose", "version"], capture_output=True).returncode == 0:
        return [engine.cli, "compose"]
    if in_ci():
        pytest.fail("no compose tool, and CI=true requires the compose check")
    pytest.skip("no compose tool (docker-compose or the docker compose plugin)")


# The test engine runs with --bridge=none, so a build can only reach PyPI on the host's
# network, and no public registry is reachable, so the base image is the one the session
# found or made. Running needs no change: the project's own network is a user-defined
# bridge, which the engine still creates, and the published port works through it.
OVERRIDE = """\
x-build: &build
  context: {context}
  network: host
  args:
    PYTHON_IMAGE: {base}
services:
  migrate:
    build: *build
  api:
    build: *build
  worker:
    build: *build
"""


def test_compose_migrates_then_serves_on_a_sqlite_volume(
    engine: Engine, base: tuple[str, float], tmp_path: Path, record_property: RecordProperty
) -> None:
    tool = compose_command(engine)
    project = render(tmp_path / "project", default_cell().data)
    override = tmp_path / "compose.test.yaml"
    override.write_text(OVERRIDE.format(context=project, base=base[0]))
    port = free_port()
    compose = [*tool, "--project-name", f"tsdocker{port}", "--file", str(project / "compose.yaml")]
    compose += ["--file", str(override)]
    env = engine.env({"API_PORT": str(port)})

    def run(*args: str) -> str:
        result = subprocess.run(
            [*compose, *args], cwd=project, env=env, capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, f"compose {args} failed:\n{result.stdout}{result.stderr}"
        return result.stdout.strip()

    started = time.monotonic()
    try:
        run("up", "--detach")
        up_seconds = time.monotonic() - started
        api, migrate = run("ps", "--quiet", "api"), run("ps", "--all", "--quiet", "migrate")
        healthy_after = wait_healthy(engine, api)
        migrated = engine.run(
            "inspect", "--format", "{{.State.ExitCode}} {{.State.FinishedAt}}", migrate
        ).stdout.split()
        api_started = engine.run("inspect", "--format", "{{.State.StartedAt}}", api).stdout
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/tasks",
            data=b'{"command": "digest", "payload": {"text": "survive a new container"}}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            location = response.headers["Location"]
        # The compose worker (same image, same volume) claims and runs it.
        worked = wait_done(port, location)
        # A new API container on the same volume still has the task.
        run("rm", "--stop", "--force", "api")
        run("up", "--detach", "api")
        wait_healthy(engine, run("ps", "--quiet", "api"))
        status, _ = get(port, location)
    finally:
        subprocess.run([*compose, "down", "--volumes", "--rmi", "local"], env=env, check=False)

    record_property(
        "figure", f"compose up (build included) {up_seconds:.0f} s, healthy {healthy_after:.0f} s"
    )
    assert migrated[0] == "0", "the migrate service failed"
    assert instant(migrated[1]) <= instant(api_started), "the API started before the migration"
    assert status == 200, "the task did not outlive the API container"
    assert worked["status"] == "done", f"the compose worker did not run the task: {worked}"
    assert len(worked["result"]["digest"]) == 64, worked

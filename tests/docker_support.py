"""A Docker engine for the Docker tier, found or skipped with the reason; images, containers.

The engine is whatever `docker info` reaches (in CI, the `dockerd` that .ci/run starts).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import in_ci
from tests.render import checked

# Proxy settings are predefined build arguments of Docker: passed on only when set here.
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy")


@dataclass(frozen=True)
class Engine:
    """A Docker CLI talking to a running engine, and whether it builds with BuildKit."""

    cli: str
    buildkit: bool

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        # The legacy builder commits a full copy of the file system per instruction on the
        # vfs storage driver (about 8 s each); BuildKit does not, a build takes 20 s, not 150.
        env["DOCKER_BUILDKIT"] = "1" if self.buildkit else "0"
        # docker-compose 1.x builds through this CLI (and so with BuildKit) when asked to.
        env["COMPOSE_DOCKER_CLI_BUILD"] = "1"
        env["PATH"] = f"{Path(self.cli).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra or {})
        return env

    def run(
        self, *args: str, timeout: float = 300, check: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`docker ARGS`; with check, an AssertionError carrying its output on failure."""
        return checked([self.cli, *args], cwd=cwd, env=self.env(), timeout=timeout, check=check)

    def build_args(self) -> list[str]:
        return [f"--build-arg={name}" for name in _PROXY_VARIABLES if name in os.environ]


def _clis() -> list[str]:
    """Every distinct `docker` executable on PATH, in PATH order."""
    found: dict[str, str] = {}
    for directory in os.get_exec_path():
        candidate = Path(directory) / "docker"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.setdefault(str(candidate.resolve()), str(candidate))
    return list(found.values())


def _has_buildkit(cli: str) -> bool:
    """Docker CLIs before 23 carry BuildKit; later ones need the buildx plugin for it."""
    plugin = subprocess.run([cli, "buildx", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return True
    version = subprocess.run(
        [cli, "version", "--format", "{{.Client.Version}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    major = version.split(".")[0]
    return major.isdigit() and int(major) < 23


def find_engine() -> Engine | str:
    """A usable engine, or why there is none."""
    clis = _clis()
    if not clis:
        return "no docker CLI on PATH"
    try:
        info = subprocess.run(
            [clis[0], "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0:
        said = info.stderr.strip().splitlines() or [f"exit {info.returncode}"]
        return f"no Docker engine answers: {said[-1]}"
    for cli in clis:
        if _has_buildkit(cli):
            return Engine(cli, buildkit=True)
    return Engine(clis[0], buildkit=False)


def require_engine() -> Engine:
    """The engine; skip without one, except in CI (CI=true), where that is a failure."""
    found = find_engine()
    if isinstance(found, Engine):
        return found
    if in_ci():
        pytest.fail(f"{found}, and CI=true requires the Docker tier")
    pytest.skip(found)


def image_size(engine: Engine, image: str) -> int:
    """Bytes, as `docker images` reports them (all layers, the base included)."""
    return int(engine.run("image", "inspect", "--format", "{{.Size}}", image).stdout)


def build(engine: Engine, project: Path, tag: str, base: str) -> float:
    """`docker build` of a project on the given base image; seconds it took."""
    started = time.monotonic()
    engine.run(
        "build",
        "--network=host",  # the engine runs with --bridge=none: no other way out to PyPI
        f"--build-arg=PYTHON_IMAGE={base}",
        *engine.build_args(),
        f"--tag={tag}",
        str(project),
        timeout=1200,
    )
    return time.monotonic() - started


@contextmanager
def container(
    engine: Engine, image: str, name: str, env: Mapping[str, str], *args: str
) -> Iterator[str]:
    """A detached container on the host network (the engine has no bridge); removed after."""
    settings = [f"--env={key}={value}" for key, value in env.items()]
    engine.run("run", "--detach", "--network=host", f"--name={name}", *settings, image, *args)
    try:
        yield name
    finally:
        engine.run("rm", "--force", "--volumes", name, check=False)


def wait_healthy(engine: Engine, name: str, timeout: float = 120) -> float:
    """Seconds until Docker's own health check reports the container healthy."""
    started = time.monotonic()
    state = ""
    while time.monotonic() - started < timeout:
        state = engine.run(
            "inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", name
        ).stdout.strip()
        if state == "running healthy":
            return time.monotonic() - started
        if not state.startswith("running"):
            break
        time.sleep(0.5)
    logs = engine.run("logs", "--tail=40", name, check=False)
    raise AssertionError(f"{name} is {state!r}, not healthy:\n{logs.stdout}{logs.stderr}")

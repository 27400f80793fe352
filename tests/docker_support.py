"""A Docker engine for the Docker tier: found, or skipped with the reason; base images.

The engine is whatever `docker info` reaches (in CI, the `dockerd` that .ci/run starts).
No public registry may be reachable, so when the official base image cannot be pulled a
local stand-in is made from Debian's packages with debootstrap, once, and kept by tag.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.databases import in_ci

# Debian 12's python3 is 3.11, the generated projects' floor: the stand-in proves that too.
STANDIN_SUITE = "bookworm"
STANDIN_PACKAGES = "python3,python3-venv,ca-certificates"
# Package caches and documentation: a smaller base is quicker to copy on vfs.
_STANDIN_TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
)
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
        result = subprocess.run(
            [self.cli, *args],
            env=self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"`docker {' '.join(args)}` failed (exit {result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

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


def default_base_image(dockerfile: Path) -> str:
    """The default of the Dockerfile's PYTHON_IMAGE build argument."""
    for line in dockerfile.read_text().splitlines():
        if line.startswith("ARG PYTHON_IMAGE="):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"{dockerfile} declares no ARG PYTHON_IMAGE=<default>")


def base_image(engine: Engine, official: str) -> tuple[str, float]:
    """The official image if present or pullable, else the local stand-in; seconds spent."""
    started = time.monotonic()
    if engine.run("image", "inspect", official, check=False).returncode == 0:
        return official, 0.0
    if engine.run("pull", official, timeout=180, check=False).returncode == 0:
        return official, time.monotonic() - started
    return standin_image(engine), time.monotonic() - started


def _ca_bundle() -> Path:
    """The CA bundle this machine trusts, which PyPI's certificate chains up to."""
    configured = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
    for candidate in (configured, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise AssertionError("no CA bundle found for the stand-in base image")


@contextmanager
def _machine_lock(name: str) -> Iterator[None]:
    """One holder at a time on this machine: parallel sessions must not build twice."""
    with (Path(tempfile.gettempdir()) / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def standin_image(engine: Engine) -> str:
    """A Debian root file system with python3 and venv, imported as an image, cached by tag.

    The host's CA bundle goes in, and pip and uv are pointed at it, so that a build inside
    it reaches PyPI through whatever TLS inspection this machine's network does. The tag
    carries a digest of the recipe and the bundle: a change to either makes a new image.
    """
    bundle = _ca_bundle()
    recipe = f"{STANDIN_SUITE} {STANDIN_PACKAGES} {_STANDIN_TRIM}".encode()
    digest = hashlib.sha256(recipe + bundle.read_bytes()).hexdigest()[:12]
    tag = f"twinstack-standin/python:{STANDIN_SUITE}-{digest}"
    with _machine_lock("twinstack-standin"):
        if engine.run("image", "inspect", tag, check=False).returncode == 0:
            return tag
        debootstrap = shutil.which("debootstrap")
        if debootstrap is None or os.geteuid() != 0:
            reason = "no official base image, and debootstrap (as root) cannot make a stand-in"
            if in_ci():
                pytest.fail(reason)
            pytest.skip(reason)
        with tempfile.TemporaryDirectory(prefix="twinstack-standin-") as scratch:
            root = Path(scratch) / "rootfs"
            subprocess.run(
                [
                    *(debootstrap, "--variant=minbase", f"--include={STANDIN_PACKAGES}"),
                    *(STANDIN_SUITE, str(root), "http://deb.debian.org/debian"),
                ],
                capture_output=True,
                check=True,
                timeout=900,
            )
            for bulky in _STANDIN_TRIM:
                shutil.rmtree(root / bulky)
            shutil.copyfile(bundle, root / "etc/ssl/certs/ca-certificates.crt")
            _import(engine, root, tag)
    return tag


def _import(engine: Engine, root: Path, tag: str) -> None:
    certificates = "/etc/ssl/certs/ca-certificates.crt"
    changes = [
        "ENV LANG=C.UTF-8",
        f"ENV SSL_CERT_FILE={certificates}",  # uv, and Python's ssl module
        f"ENV PIP_CERT={certificates}",  # pip carries its own bundle otherwise
        'CMD ["python3"]',
    ]
    with subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE
    ) as tar:
        imported = subprocess.run(
            [engine.cli, "import", *(f"--change={change}" for change in changes), "-", tag],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    if imported.returncode != 0 or tar.returncode != 0:
        raise AssertionError(f"docker import of the stand-in failed: {imported.stderr}")


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

"""The base image of the Docker tier: the official one, or a stand-in made from Debian.

No public registry may be reachable, so when the official base image cannot be pulled a
local stand-in is made from Debian's packages with debootstrap, once per machine, and
kept by tag.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.databases import in_ci
from tests.docker_support import Engine

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

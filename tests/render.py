"""Render the template into a folder, and run tools inside a rendered project."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import copier

from tests.matrix import ROOT

# Variables of this machine that would change what a generated project sees.
_LEAKY_ENV = ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT", "VIRTUAL_ENV", "PYTHONPATH")


def render(
    destination: Path, data: Mapping[str, str], *, template: Path = ROOT, vcs_ref: str = "HEAD"
) -> Path:
    """`copier copy --defaults --trust` of a template version (HEAD: with uncommitted changes)."""
    with warnings.catch_warnings():
        # A dirty working tree is the normal state while developing the template.
        warnings.simplefilter("ignore", copier.errors.DirtyLocalWarning)
        copier.run_copy(
            str(template),
            str(destination),
            data=dict(data),
            defaults=True,
            unsafe=True,
            vcs_ref=vcs_ref,
            quiet=True,
        )
    return destination


def project_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment for running a generated project's tools."""
    env = {key: value for key, value in os.environ.items() if key not in _LEAKY_ENV}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def run_tool(
    project: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m <tool> ...` of this environment inside a project; fail with its output."""
    command: Sequence[str] = [sys.executable, "-m", *args]
    result = subprocess.run(
        command,
        cwd=project,
        env=project_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(args)}` failed in {project} (exit {result.returncode}):\n"
            f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        )
    return result

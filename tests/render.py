"""Render the template into a folder, and run a rendered project's tools as its user would.

A rendered project is installed from its own uv.lock into its own `.venv` (`make install`)
and its tools run from there or through its own Makefile: nothing of the template's
environment (its virtual environment, its PATH entry, its variables) reaches it. uv's
shared cache keeps the many installs of a run cheap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path

import copier

from tests.matrix import ROOT, Cell

# Variables of this machine that would change what a generated project sees.
_LEAKY_ENV = ("DATABASE_URL", "TEST_DATABASE_URL", "ENVIRONMENT", "VIRTUAL_ENV", "PYTHONPATH")
# The template's own virtual environment, which must never be on a project's PATH.
_TEMPLATE_BIN = Path(sys.executable).parent
_installed: set[Path] = set()
# What a project's tools write into it once it is installed and checked: not rendered files.
TOOL_OUTPUTS = frozenset(
    {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".coverage"}
)
_install_lock = threading.Lock()


_render_lock = threading.Lock()


def render(
    destination: Path, data: Mapping[str, str], *, template: Path = ROOT, vcs_ref: str = "HEAD"
) -> Path:
    """`copier copy --defaults --trust` of a template version (HEAD: with uncommitted changes).

    One at a time in a process: Copier changes the process's working directory while it
    works (plumbum's `local.cwd`), so two renders in threads left it in a deleted folder,
    and every later test of that process failed in os.getcwd().
    """
    with _render_lock, warnings.catch_warnings():
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


def rendered_files(project: Path) -> list[Path]:
    """The files Copier wrote into `project`, without what git and the tools added since."""
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and not TOOL_OUTPUTS & set(path.relative_to(project).parts)
    )


def project_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a user's shell gives a project: without the template's venv or uv pins.

    uv's cache is shared; every other UV_* setting of this process is dropped.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _LEAKY_ENV and (not key.startswith("UV_") or key == "UV_CACHE_DIR")
    }
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry]
    path = [entry for entry in path if Path(entry) != _TEMPLATE_BIN]
    env["PATH"] = os.pathsep.join(path)
    # No interpreter downloads: a project runs on the Python the machine has.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra or {})
    return env


def checked(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; with check, fail with that output."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        where = f" in {cwd}" if cwd else ""
        raise AssertionError(
            f"`{' '.join(command)}` failed{where} (exit {result.returncode}):\n"
            f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
        )
    return result


def run(
    project: Path,
    command: list[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command in a project, with the user's environment; fail with its output."""
    return checked(command, cwd=project, env=project_env(env), timeout=timeout, check=check)


def make(
    project: Path, *targets: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`make TARGET...` in a project, as its README tells a user.

    With a temporary folder of its own: the project's pytest and this suite's both keep
    /tmp/pytest-of-<user>, and one's cleanup of old runs could remove the other's.
    """
    scratch = project.parent / f"{project.name}-tmp"
    scratch.mkdir(exist_ok=True)
    env = {"TMPDIR": str(scratch), **(env or {})}
    return run(project, ["make", *targets], env=env, check=check)


def install(project: Path) -> Path:
    """`make install` once per project (uv sync --locked into its .venv); its Python."""
    with _install_lock:
        if project not in _installed:
            if not shutil.which("uv", path=project_env()["PATH"]):
                raise AssertionError("uv must be on PATH (outside this virtual environment)")
            make(project, "install")
            _installed.add(project)
    return project / ".venv" / "bin" / "python"


def run_tool(
    project: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """`python -m <tool> ...` from the project's own environment (installed first if needed)."""
    python = install(project)
    return run(project, [str(python), "-m", *args], env=env, timeout=timeout)


def run_template_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m <tool> ...` of the template's own environment, in the template repository."""
    return checked([sys.executable, "-m", *args], cwd=ROOT)


class Renders:
    """Renders cells on demand into one folder and remembers them for the run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, Path] = {}

    def get(self, cell: Cell) -> Path:
        if cell.id not in self._done:
            self._done[cell.id] = render(self.root / cell.id / "project", cell.data)
        return self._done[cell.id]

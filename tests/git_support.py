"""Throwaway git repositories: tagged versions of the template, and generated projects.

A template repository is built from the working tree of this one (uncommitted work
included, symlinks kept), so the tests always exercise what is on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.matrix import ROOT

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Twinstack Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Twinstack Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}
for _name, _value in GIT_ENV.items():  # Copier commits in its own temporary copies too
    os.environ.setdefault(_name, _value)


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in `repo` and return its output."""
    result = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {repo}:\n{result.stderr}")
    return result.stdout


def commit_all(repo: Path, message: str, *, tag: str | None = None) -> None:
    """Stage everything (deletions too) and commit; optionally tag the commit."""
    if not (repo / ".git").exists():
        git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message)
    if tag:
        git(repo, "tag", tag)


def working_tree_files(source: Path = ROOT) -> list[str]:
    """Tracked and untracked-but-not-ignored files of the template, as they are on disk."""
    listed = git(source, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    names = sorted({name for name in listed.split("\0") if name})
    return [name for name in names if os.path.lexists(source / name)]


def copy_working_tree(destination: Path, source: Path = ROOT) -> None:
    """Replace everything but `.git` in `destination` with the template's working tree."""
    destination.mkdir(parents=True, exist_ok=True)
    for child in destination.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for name in working_tree_files(source):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target, follow_symlinks=False)


def template_repository(
    destination: Path, versions: list[tuple[str, Callable[[Path], None] | None]]
) -> Path:
    """A git repository of the template with one tagged commit per (version, change)."""
    for version, change in versions:
        copy_working_tree(destination)
        if change is not None:
            change(destination)
        commit_all(destination, f"Template {version}", tag=version)
    return destination


def is_clean(repo: Path) -> bool:
    return git(repo, "status", "--porcelain") == ""


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` but `.git`, by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }

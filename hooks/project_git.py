"""Helpers shared by the hooks: git, scoped to the project's own folder.

The project may be a whole repository or one folder of a larger one (a monorepo), with
other people's uncommitted work beside it. So every path given to git here is relative
to the project (`HEAD:./path`, pathspec `.`), never to the repository root, and nothing
outside the project's folder is read, reset or cleaned.

`copier update` refuses to start when the project's folder is dirty, so HEAD holds
exactly what the project looked like before the update: the user's files and the
previous answers.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

# A dependency of the generated pyproject.toml that only one stack has.
STACK_DEPENDENCIES = {"fastapi": "fastapi", "flask": "flask", "flask-openapi3": "flask"}


def git(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run git in the project's folder, output captured, never raising."""
    return subprocess.run(
        ["git", *args], cwd=project, input=stdin, capture_output=True, text=True, check=False
    )


def committed(path: str, project: Path) -> str | None:
    """The text of `path` (relative to the project) at HEAD, or None if HEAD has no such file."""
    # "./" makes git resolve the path from the project's folder, not the repository root.
    result = git(project, "show", f"HEAD:./{path}")
    return result.stdout if result.returncode == 0 else None


def restore_head(project: Path) -> None:
    """Put the project's folder, and only it, back to HEAD: index, files, and new files."""
    for command in (
        ["restore", "--quiet", "--source=HEAD", "--staged", "--worktree", "--", "."],
        ["clean", "--quiet", "-fd", "--", "."],
    ):
        result = git(project, *command)
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(command)} failed: {result.stderr}")


def unmerged(project: Path) -> list[str]:
    """Files of the project recorded as conflicted in the index, relative to the project."""
    listed = git(project, "diff", "--name-only", "--relative", "--diff-filter=U", "-z", "--", ".")
    return sorted({name for name in listed.stdout.split("\0") if name})


def changed_since_head(project: Path, path: str) -> bool:
    """Whether `path` (relative to the project) differs from HEAD in the working tree."""
    return git(project, "diff", "--quiet", "HEAD", "--", path).returncode != 0


def mark_unmerged(project: Path, path: str, stages: dict[int, str]) -> None:
    """Record `path` as a conflict in the index, as a merge does: stage -> file text.

    Stage 1 is the common base, 2 ours, 3 theirs; `git status` then lists the file as
    unmerged, and `git add` after editing resolves it, like any merge conflict.
    """
    prefix = git(project, "rev-parse", "--show-prefix").stdout.strip()
    lines = [f"0 {'0' * 40}\t{prefix}{path}"]
    for stage, text in sorted(stages.items()):
        blob = git(project, "hash-object", "-w", "--stdin", stdin=text).stdout.strip()
        lines.append(f"100644 {blob} {stage}\t{prefix}{path}")
    result = git(project, "update-index", "--index-info", stdin="\n".join(lines) + "\n")
    if result.returncode != 0:
        raise RuntimeError(f"git update-index failed: {result.stderr}")


def scalar_answers(answers_text: str) -> dict[str, str]:
    """The top-level `key: value` scalars of an answers file (enough for _commit and choices)."""
    answers: dict[str, str] = {}
    for line in answers_text.splitlines():
        key, separator, value = line.partition(":")
        if separator and key and not key.startswith((" ", "#")):
            answers[key] = value.strip().strip("'\"")
    return answers


def committed_stack(project: Path) -> str | None:
    """The web stack the committed project is built on, read from its dependencies.

    None when pyproject.toml is missing, unreadable, or names both stacks or neither:
    then there is nothing to cross-check the answers against.
    """
    text = committed("pyproject.toml", project)
    try:
        dependencies = tomllib.loads(text or "").get("project", {}).get("dependencies", [])
    except tomllib.TOMLDecodeError:
        return None
    stacks = set()
    for dependency in dependencies:
        name = re.match(r"\s*([A-Za-z0-9._-]*)", str(dependency))
        if name and (stack := STACK_DEPENDENCIES.get(name[1].lower())) is not None:
            stacks.add(stack)
    return stacks.pop() if len(stacks) == 1 else None
